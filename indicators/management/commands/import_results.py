from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from indicators.results_import import describe, import_results_files
from perfplan.commands import report_done, report_lines


class Command(BaseCommand):
    help = (
        "Import indicator results (실적) from xlsx or csv: one row per indicator and period. "
        "Preview with --dry-run; the whole file is one transaction."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="xlsx or csv (UTF-8 or CP949) results table")
        parser.add_argument("--year", type=int, required=True, help="fiscal year of the plan")
        parser.add_argument(
            "--user",
            required=True,
            help="the user the results are entered as; only their departments can be written",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="show the changes, write nothing"
        )

    def handle(self, *args, file, year, user, dry_run, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(_("%(file)s: no such file") % {"file": file})
        User = get_user_model()
        try:
            account = User.objects.get(**{User.USERNAME_FIELD: user})
        except User.DoesNotExist:
            raise CommandError(_("no such user: %(user)s") % {"user": user}) from None
        if not account.is_active:
            raise CommandError(_("the user %(user)s is not active") % {"user": user})
        result = import_results_files(
            year,
            [(path.name, path.read_bytes())],
            user=account,
            dry_run=dry_run,
            via="command",
        )
        report_lines(self, describe(result), len(result.errors))
        report_done(self, dry_run, _("Imported the results of %(year)s.") % {"year": year})
