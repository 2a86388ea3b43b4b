"""Recompute the change log's hash chain and report the first broken link.

Exit status 0 when the chain is whole, 1 when an entry was altered, removed or reordered
(CommandError), so that a scheduler (cron, a systemd timer, CI) can alert on it.
"""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from perfplan.changelog import verify_chain


class Command(BaseCommand):
    help = "Verify the change log's hash chain; exit non-zero at the first broken link."

    def add_arguments(self, parser):
        parser.add_argument(
            "--chunk-size",
            type=int,
            default=5000,
            help="Entries read from the database at a time.",
        )

    def handle(self, *args, chunk_size, **options):
        report = verify_chain(chunk_size=chunk_size)
        if not report.ok:
            raise CommandError(
                _(
                    "The change log is broken at entry #%(sequence)s: %(problem)s "
                    "(%(checked)s entries before it are intact)."
                )
                % {
                    "sequence": report.broken_at,
                    "problem": report.problem,
                    "checked": report.checked,
                },
                returncode=1,
            )
        self.stdout.write(
            self.style.SUCCESS(
                _("The change log is intact: %(checked)s entries verified.")
                % {"checked": report.checked}
            )
        )
