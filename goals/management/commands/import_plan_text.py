from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from goals.importer import describe, import_plan
from goals.plan_text import PlanTextError, parse_plan_text
from goals.tables import TableReadError, check_size
from perfplan.commands import report_done, report_lines


class Command(BaseCommand):
    help = "Import a plan from the text of its published PDF (tables 가 and 나)."

    def add_arguments(self, parser):
        parser.add_argument("file", help="the text (UTF-8 or CP949, any line ending)")
        parser.add_argument("--year", type=int, required=True, help="fiscal year of the plan")
        parser.add_argument(
            "--dry-run", action="store_true", help="show the changes, write nothing"
        )
        parser.add_argument("--reason", default="", help="reason for an amendment")

    def handle(self, *args, file, year, dry_run, reason, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(_("%(file)s: no such file") % {"file": file})
        content = path.read_bytes()
        try:
            check_size(path.name, content)
            parsed = parse_plan_text(content, path.name)
        except TableReadError as exc:
            raise CommandError(str(exc.errors[0])) from None
        except PlanTextError as exc:
            raise CommandError(f"{path.name}: {exc}") from None
        result = import_plan(
            year,
            parsed.plan,
            dry_run=dry_run,
            source="text",
            files=[(path.name, content)],
            conflicts=parsed.conflicts,
            reason=reason,
        )
        report_lines(self, describe(result), len(result.errors))
        report_done(self, dry_run, _("Imported the %(year)s plan.") % {"year": year})
