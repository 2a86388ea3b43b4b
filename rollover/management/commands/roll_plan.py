from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from perfplan.commands import report_done, report_lines
from rollover.services import RollError, describe, parse_target_rule, roll_plan


class Command(BaseCommand):
    help = (
        "Next year's plan from this one: departments, goals, indicators (definitions, codes, "
        "baselines from this year's year-end values) and unit programs. Without --confirm "
        "only the preview is shown."
    )

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="from_year", type=int, required=True)
        parser.add_argument("--to", dest="to_year", type=int, required=True)
        parser.add_argument(
            "--targets",
            default="empty",
            help="same | empty | baseline+N%% (the baseline improved by N %% in the "
            "indicator's direction); default empty",
        )
        parser.add_argument("--confirm", action="store_true", help="write the new plan")

    def handle(self, *args, from_year, to_year, targets, confirm, **options):
        try:
            rule = parse_target_rule(targets)
        except RollError as exc:
            raise CommandError(str(exc)) from exc
        result = roll_plan(from_year, to_year, rule, None, dry_run=not confirm)
        report_lines(self, describe(result), len(result.errors))
        report_done(
            self,
            not confirm,
            _("The %(to)s plan was made from the %(from)s plan.")
            % {"from": from_year, "to": to_year},
        )
