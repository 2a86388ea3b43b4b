import time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from indicators import standing
from perfplan.models import Plan


class Command(BaseCommand):
    help = (
        "Compute the indicators' standings (status, achievement, completeness, forecast) "
        "for this month, so that the first overview of the month does not wait for them. "
        "Run it from cron early on the 1st of each month; it only computes what is outdated."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--year",
            type=int,
            action="append",
            help="fiscal year of a plan (repeatable); default: every plan",
        )

    def handle(self, *args, year=None, **options):
        plans = Plan.objects.order_by("fiscal_year")
        if year:
            plans = plans.filter(fiscal_year__in=year)
            missing = sorted(set(year) - set(plans.values_list("fiscal_year", flat=True)))
            if missing:
                raise CommandError(_("There is no plan for %(year)s.") % {"year": missing[0]})
        today = timezone.localdate()
        for plan in plans:
            started = time.perf_counter()
            count = standing.refresh(plan, today)
            self.stdout.write(
                _("%(year)s: %(count)s standings computed (%(seconds).1f s).")
                % {
                    "year": plan.fiscal_year,
                    "count": count,
                    "seconds": time.perf_counter() - started,
                }
            )
        self.stdout.write(self.style.SUCCESS(_("Standings are current.")))
