"""tracking_rows() runs a fixed number of queries, whatever the number of indicators."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from goals.tests.factories import make_plan
from indicators.models import Indicator, PeriodTarget, Result
from indicators.tracking.rows import tracking_rows
from indicators.tracking.summaries import group_by, summarize

pytestmark = pytest.mark.django_db


def _populate(plan):
    indicators = list(Indicator.objects.in_plan(plan))
    frequencies = ("monthly", "quarterly", "half_yearly", "yearly")
    for number, indicator in enumerate(indicators):
        indicator.frequency = frequencies[number % 4]
        indicator.aggregation = ("sum", "latest", "average")[number % 3]
        indicator.annual_target = Decimal(100)
    Indicator.objects.bulk_update(indicators, ["frequency", "aggregation", "annual_target"])
    keys = {"monthly": "M01", "quarterly": "Q1", "half_yearly": "H1", "yearly": "Y"}
    Result.objects.bulk_create(
        Result(indicator=i, period=keys[i.frequency], value=Decimal(20 + n % 50))
        for n, i in enumerate(indicators)
    )
    PeriodTarget.objects.bulk_create(
        PeriodTarget(indicator=i, period=keys[i.frequency], target=Decimal(30))
        for i in indicators[::2]
    )
    return len(indicators)


def _count(plan):
    queryset = Indicator.objects.in_plan(plan)
    with CaptureQueriesContext(connection) as queries:
        rows = tracking_rows(queryset, plan, date(plan.fiscal_year, 9, 15))
        # what a page does with the rows must not query either
        seen = []
        for row in rows:
            seen += [str(row.department), row.strategic_goal.name, row.policy_goal.name]
            for cell in row.cells:
                if cell.result is not None:
                    seen += [cell.result.entered_by, cell.result.value]
            seen += [row.indicator.results.all()[:1], list(row.indicator.period_targets.all())]
        summarize(rows)
        group_by(rows, "department")
        group_by(rows, "strategic_goal")
    return len(queries), rows


def test_query_count_is_the_same_for_10_and_300_indicators():
    small_plan = make_plan(2026, departments=5, goals=1, policy_goals=1, indicators=2)
    big_plan = make_plan(2027, departments=15, goals=2, policy_goals=2, indicators=5)
    assert _populate(small_plan) == 10
    assert _populate(big_plan) == 300
    small, small_rows = _count(small_plan)
    large, large_rows = _count(big_plan)
    assert len(small_rows) == 10 and len(large_rows) == 300
    assert small == large
    assert small <= 3  # indicators with their goals, results, period targets
    assert any(r.rate is not None for r in large_rows)
