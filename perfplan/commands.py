"""What the import commands (import_plan, import_plan_text, import_results) print alike."""

from django.core.management.base import CommandError
from django.utils.translation import gettext as _


def report_lines(command, lines, error_count):
    """Print the import's lines; fail the command when it had errors (nothing was written)."""
    for line in lines:
        command.stdout.write(line)
    if error_count:
        raise CommandError(_("Nothing was imported: %(count)s error(s).") % {"count": error_count})


def report_done(command, dry_run, message):
    """The last line: a dry run wrote nothing; otherwise `message`, in success style."""
    if dry_run:
        command.stdout.write(_("Dry run: nothing was written."))
    else:
        command.stdout.write(command.style.SUCCESS(message))
