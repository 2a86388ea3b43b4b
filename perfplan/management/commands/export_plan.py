import json
import sys

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from perfplan.models import Plan
from perfplan.planfiles.exports import plan_tables, table_by_key
from perfplan.planfiles.summary import plan_as_json
from perfplan.xlsx import write_csv, write_xlsx


class Command(BaseCommand):
    help = "Export a plan's tables as xlsx (all tables), csv (one table) or json (both tables)."

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, required=True)
        parser.add_argument("--format", choices=["xlsx", "csv", "json"], default="xlsx")
        parser.add_argument(
            "--table",
            choices=["hierarchy", "summary", "unit_programs"],
            default="hierarchy",
            help="the table to write as csv",
        )
        parser.add_argument(
            "--encoding",
            choices=["utf-8", "cp949"],
            default="utf-8",
            help="csv encoding (utf-8 is written with a BOM for Excel)",
        )
        parser.add_argument("-o", "--output", help="file to write (default: standard output)")

    def handle(self, *args, year, format, table, encoding, output, **options):
        plan = Plan.objects.filter(fiscal_year=year).first()
        if plan is None:
            raise CommandError(_("There is no plan for %(year)s.") % {"year": year})
        if format == "json":
            data = json.dumps(plan_as_json(plan), ensure_ascii=False, indent=1).encode() + b"\n"
        elif format == "xlsx":
            data = write_xlsx(plan_tables(plan))
        else:
            try:
                data = write_csv(table_by_key(plan_tables(plan), table), encoding)
            except UnicodeEncodeError as exc:
                raise CommandError(
                    _("A character cannot be written in %(encoding)s: %(error)s. Use utf-8.")
                    % {"encoding": encoding, "error": exc}
                ) from None
        if output:
            with open(output, "wb") as handle:
                handle.write(data)
        else:
            if format == "xlsx" and sys.stdout.isatty():
                raise CommandError(_("xlsx is binary: give a file with -o."))
            self.stdout.flush()
            sys.stdout.buffer.write(data)
