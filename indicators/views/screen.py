"""What a tracking page shows: the plan, the filters and the rows (build_screen), the rows'
figures and chart, and the helpers every view uses (page context, downloads, next URLs)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from urllib.parse import quote

from django.contrib import admin
from django.http import HttpResponse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from perfplan.models import Plan
from perfplan.scoping import department_ids, restrict

from .. import charts
from ..filters import TrackingFilter
from ..formats import (
    annual_target_text,
    fmt_figure,
    fmt_rate,
    fmt_target,
    fmt_time,
    indicator_decimals,
)
from ..models import Aggregation, Direction, Indicator
from .access import require_view

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass
class Screen:
    """The plan, the filters and the tracking rows a view shows (and its export writes)."""

    plan: Plan | None
    plans: list
    filterset: TrackingFilter | None
    indicators: object  # the filtered, scoped Indicator queryset
    rows: list
    today: date

    @property
    def period_key(self):
        return self.filterset.period_value if self.filterset else None

    def query_string(self):
        """The filters as a URL query (for the export links: they export what is shown)."""
        return self.filterset.data.urlencode() if self.filterset else ""


def _pick_plan(request, plans, today):
    wanted = (request.GET.get("year") or "").strip()
    if wanted:
        for plan in plans:
            if str(plan.fiscal_year) == wanted:
                return plan
    for plan in plans:
        if plan.fiscal_year == today.year:
            return plan
    return plans[0] if plans else None


def build_screen(request, *, mine=False, with_rows=True):
    """The rows of what the user asked for: scoped, filtered, with status computed.

    Without rows (the overview counts standings instead) only the filtered indicators.
    """
    from ..tracking.rows import tracking_rows

    user = request.user
    require_view(user)
    today = timezone.localdate()
    plans = list(restrict(Plan.objects.all(), user).order_by("-fiscal_year"))
    plan = _pick_plan(request, plans, today)
    if plan is None:
        return Screen(None, plans, None, Indicator.objects.none(), [], today)
    base = restrict(Indicator.objects.in_plan(plan), user)
    data = request.GET.copy()
    if not data.get("year"):
        data["year"] = str(plan.fiscal_year)
    if mine and not data.get("department") and department_ids(user):
        base = base.of_departments(department_ids(user))
    filterset = TrackingFilter(data, base, request=request, plan=plan, plans=plans)
    indicators = filterset.qs if filterset.is_valid() else base.none()
    rows = None
    if with_rows:
        rows = filterset.filter_rows(tracking_rows(indicators, plan, today, people=False))
    return Screen(plan, plans, filterset, indicators, rows, today)


def page_context(request, title, **extra):
    return {
        **admin.site.each_context(request),
        "title": title,
        **extra,
    }


def is_cumulative(indicator):
    return indicator.aggregation == Aggregation.SUM


def chart_data(row):
    """The chart of a row: running totals for a summed indicator, otherwise per period."""
    indicator = row.indicator
    labels = [str(cell.period.label) for cell in row.cells]
    values = [cell.value for cell in row.cells]
    if is_cumulative(indicator):
        return charts.ChartData(
            labels=labels,
            targets=[cell.target for cell in row.cells],
            actuals=charts.cumulative_sums(values),
            cumulative=True,
            unit=indicator.unit,
            decimals=indicator_decimals(indicator),
        )
    band = None
    if indicator.direction == Direction.RANGE:
        band = (indicator.target_min, indicator.target_max)
    return charts.ChartData(
        labels=labels,
        targets=[cell.period_target for cell in row.cells],
        actuals=values,
        cumulative=False,
        unit=indicator.unit,
        decimals=indicator_decimals(indicator),
        band=band,
    )


def row_summary(row):
    """A row's computed figures as the grid shows them (also sent back after a save)."""
    return {
        "id": row.indicator.pk,
        "annual_target": annual_target_text(row.indicator),
        "ytd_actual": fmt_figure(row.indicator, row.ytd_actual),
        "ytd_target": fmt_target(row),
        "rate": fmt_rate(row.rate),
        "status": row.status,
        "status_label": str(row.status_label),
        "last_update": fmt_time(row.last_update),
        "sparkline": str(charts.sparkline_svg(chart_data(row))),
    }


def download(data, filename, content_type):
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def safe_next(request, fallback):
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def as_int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
