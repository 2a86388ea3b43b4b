"""An indicator through the years: the same indicator in every plan it existed in.

Years are followed through the predecessor links (Indicator.predecessor, set when next
year's plan is made from this one: rollover.services) back and forward; a year the links do
not reach is found by the indicator's code. Each year shows its target and its year-end
actual by the indicator's aggregation (indicators.tracking.rules.aggregate, the tracking
services' rule), so a closed year reads as its results report does.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from perfplan.scoping import restrict

from .models import Indicator, Result
from .periods import periods_for
from .tracking.rules import aggregate, aggregation_of, frequency_of, indicator_rate

MAX_YEARS = 30  # a chain longer than this is cut (a plan a year: decades)


@dataclass
class IndicatorYear:
    indicator: Indicator
    year: int
    target: Decimal | None
    target_min: Decimal | None
    target_max: Decimal | None
    baseline: Decimal | None
    actual: Decimal | None
    rate: Decimal | None
    complete: bool  # every period of the year has a value
    is_current: bool  # the page's own indicator
    linked: bool  # reached through the predecessor links (else by the code)


def _chain(indicator):
    """The ids linked to `indicator` by predecessor links, both ways (a query per year)."""
    ids = {indicator.pk}
    back = indicator.predecessor_id
    for _step in range(MAX_YEARS):
        if back is None or back in ids:
            break
        ids.add(back)
        back = Indicator.objects.filter(pk=back).values_list("predecessor_id", flat=True).first()
    forward = [indicator.pk]
    for _step in range(MAX_YEARS):
        forward = [
            pk
            for pk in Indicator.objects.filter(predecessor_id__in=forward).values_list(
                "pk", flat=True
            )
            if pk not in ids
        ]
        if not forward:
            break
        ids.update(forward)
    return ids


def indicator_years(indicator, user):
    """One IndicatorYear per plan year the indicator existed in, oldest first; the rows the
    user may not see (perfplan.scoping) are left out."""
    linked = _chain(indicator)
    rows = Indicator.objects.filter(pk__in=linked)
    if indicator.code:
        rows = rows | Indicator.objects.filter(code=indicator.code)
    scope = Indicator.scope
    found = list(restrict(rows, user).select_related(scope.plan).order_by(scope.year, "pk"))
    by_year = {}
    for item in found:
        year = item.policy_goal.strategic_goal.plan_department.plan.fiscal_year
        # The link wins over a code shared by another indicator of the same year.
        if year not in by_year or (item.pk in linked and by_year[year].pk not in linked):
            by_year[year] = item
    values = {}
    for indicator_id, period, value in (
        restrict(Result.objects.filter(indicator__in=[i.pk for i in by_year.values()]), user)
        .exclude(value=None)
        .order_by()
        .values_list("indicator_id", "period", "value")
    ):
        values.setdefault(indicator_id, {})[period] = value
    return [
        _year(item, year, values.get(item.pk, {}), item.pk == indicator.pk, item.pk in linked)
        for year, item in sorted(by_year.items())
    ]


def _year(item, year, values, is_current, linked):
    keys = [p.key for p in periods_for(frequency_of(item), year)]
    actual = aggregate([values.get(k) for k in keys], aggregation_of(item))
    return IndicatorYear(
        indicator=item,
        year=year,
        target=item.annual_target,
        target_min=item.target_min,
        target_max=item.target_max,
        baseline=item.baseline,
        actual=actual,
        rate=indicator_rate(
            item, item.annual_target, actual, target_min=item.target_min, target_max=item.target_max
        ),
        complete=all(k in values for k in keys),
        is_current=is_current,
        linked=linked,
    )
