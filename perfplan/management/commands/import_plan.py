from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from perfplan import imports
from perfplan.commands import report_done, report_lines
from perfplan.planfiles.importer import PLAN_TABLES, describe


class Command(BaseCommand):
    help = "Import plan tables (xlsx, ods or csv: hierarchy, department summary, unit programs)."

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", help="xlsx, ods or csv files of the plan tables")
        parser.add_argument("--year", type=int, required=True, help="fiscal year of the plan")
        parser.add_argument(
            "--dry-run", action="store_true", help="show the changes, write nothing"
        )
        parser.add_argument(
            "--note", default="", help="a note on the plan's year, shown on its page"
        )
        parser.add_argument(
            "--reason",
            default="",
            help="why a published plan's targets or budgets change (required for such changes)",
        )

    def handle(self, *args, files, year, dry_run, note, reason, **options):
        contents = []
        for name in files:
            path = Path(name)
            if not path.is_file():
                raise CommandError(_("%(file)s: no such file") % {"file": name})
            contents.append((path.name, path.read_bytes()))
        # The import runner: the files are stored with the batch; diff and writes are one
        # transaction, so what is written is what was previewed.
        result = imports.run(
            PLAN_TABLES,
            year,
            files=contents,
            dry_run=dry_run,
            reason=reason,
            source="command",
        )
        report_lines(self, describe(result), len(result.errors))
        if note and result.plan:
            result.plan.year_note = note
            result.plan.save(update_fields=["year_note"])
        report_done(self, dry_run, _("Imported the %(year)s plan.") % {"year": year})
