from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from perfplan import imports
from perfplan.commands import report_done, report_lines
from perfplan.planfiles.importer import PLAN_TEXT, describe


class Command(BaseCommand):
    help = "Import a plan from the text of its published PDF (tables 가 and 나)."

    def add_arguments(self, parser):
        parser.add_argument("file", help="the text (.txt, UTF-8 or CP949, any line ending)")
        parser.add_argument("--year", type=int, required=True, help="fiscal year of the plan")
        parser.add_argument(
            "--dry-run", action="store_true", help="show the changes, write nothing"
        )
        parser.add_argument("--reason", default="", help="reason for an amendment")

    def handle(self, *args, file, year, dry_run, reason, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(_("%(file)s: no such file") % {"file": file})
        # The import runner: the file is stored with the batch; diff and writes are one
        # transaction, so what is written is what was previewed.
        result = imports.run(
            PLAN_TEXT,
            year,
            files=[(path.name, path.read_bytes())],
            dry_run=dry_run,
            reason=reason,
            source="text",
        )
        report_lines(self, describe(result), len(result.errors))
        report_done(self, dry_run, _("Imported the %(year)s plan.") % {"year": year})
