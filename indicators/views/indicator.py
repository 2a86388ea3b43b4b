"""An indicator's page: its periods, targets and results, chart, forecast and evidence."""

from __future__ import annotations

from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from perfplan.scoping import restrict

from .. import charts
from ..formats import annual_target_text, fmt_entered, fmt_figure, fmt_rate, fmt_value
from ..models import Evidence, Indicator
from ..tracking.rows import is_sample_row
from .access import indicator_or_404, plan_of, require_view
from .screen import chart_data, is_cumulative, page_context, row_summary


def indicator_view(request, pk):
    from goals.amendments import targets_side_by_side

    from ..tracking.rows import tracking_rows

    user = request.user
    require_view(user)
    indicator = indicator_or_404(user, pk)
    plan = plan_of(indicator)
    today = timezone.localdate()
    rows = tracking_rows(restrict(Indicator.objects.filter(pk=indicator.pk), user), plan, today)
    if not rows:
        raise Http404
    row = rows[0]
    files = {}
    for item in (
        restrict(Evidence.objects.filter(result__indicator=indicator), user)
        .defer("content")
        .order_by("result_id", "id")
    ):
        files.setdefault(item.result_id, []).append(item)
    original, revised = targets_side_by_side(indicator)
    entries = []
    for cell in row.cells:
        result = cell.result
        entries.append(
            {
                "cell": cell,
                "result": result,
                "value": fmt_entered(indicator, cell.value),
                "target": fmt_figure(indicator, cell.period_target),
                "cumulative_target": fmt_figure(indicator, cell.target),
                "files": files.get(result.pk, []) if result else [],
                "cell_url": reverse("tracking:cell", args=[indicator.pk, cell.period.key]),
            }
        )
    context = page_context(
        request,
        indicator.name,
        indicator=indicator,
        row=row,
        plan=plan,
        summary=row_summary(row),
        chart=charts.chart_svg(chart_data(row), css_id="indicator-chart"),
        cumulative=is_cumulative(indicator),
        entries=entries,
        original_target_text=fmt_figure(indicator, original),
        revised_target_text=fmt_figure(indicator, revised),
        baseline=fmt_figure(indicator, indicator.baseline),
        weight=fmt_value(indicator.weight),
        amended=original != revised,
        annual_target=annual_target_text(indicator),
        is_sample=is_sample_row(row),
        forecast=row.forecast,
        forecast_projected=fmt_figure(indicator, row.forecast.projected) if row.forecast else "",
        forecast_rate=fmt_rate(row.forecast.rate) if row.forecast else "",
        years=_years(indicator, user),
        tab="my",
    )
    return TemplateResponse(request, "indicators/indicator.html", context)


def _years(indicator, user):
    """The indicator in every plan year it existed (indicators.years), as the page shows it."""
    from ..years import indicator_years

    return [
        {
            "year": item.year,
            "name": item.indicator.name,
            "url": reverse("tracking:indicator", args=[item.indicator.pk]),
            "is_current": item.is_current,
            "baseline": fmt_figure(item.indicator, item.baseline),
            "target": annual_target_text(item.indicator),
            "actual": fmt_entered(item.indicator, item.actual),
            "rate": fmt_rate(item.rate),
            "complete": item.complete,
        }
        for item in indicator_years(indicator, user)
    ]
