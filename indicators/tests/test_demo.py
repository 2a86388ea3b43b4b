"""The demo's sample data: flagged, deterministic, every status, logged, idempotent."""

from datetime import date

import pytest

from goals.tests.factories import load_seed
from indicators.demo import SAMPLE_REASON, add_sample_data
from indicators.models import Direction, Indicator, Result
from indicators.tracking.rows import tracking_rows
from indicators.tracking.rules import ACHIEVED, BEHIND, CAUTION, MISSING, NO_DATA
from perfplan.changelog import verify_chain
from perfplan.models import ChangeLogEntry

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 27)


def _snapshot():
    return (
        list(
            Indicator.objects.order_by("pk").values_list(
                "name", "unit", "direction", "frequency", "aggregation", "annual_target"
            )
        ),
        list(Result.objects.order_by("indicator__name", "period").values_list("period", "value")),
    )


def test_sample_data_for_the_seed_plan():
    plan = load_seed(2026)
    summary = add_sample_data(plan, today=TODAY)
    assert summary.indicators == 168 and summary.results > 300
    assert not Indicator.objects.filter(is_sample=False).exists()
    assert not Result.objects.filter(is_sample=False).exists()
    lower = Indicator.objects.get(name__contains="(하양지표)")
    assert lower.direction == Direction.LOWER
    rows = tracking_rows(Indicator.objects.all(), plan, TODAY)
    statuses = {row.status for row in rows}
    assert {ACHIEVED, CAUTION, BEHIND, MISSING, NO_DATA} <= statuses
    assert all(row.has_sample for row in rows if row.cells and any(c.result for c in row.cells))
    percent = (
        Result.objects.filter(indicator__unit="%")
        .exclude(indicator__direction=Direction.RANGE)  # a reserve may be 100–110 % of the legal
        .values_list("value", flat=True)
    )
    assert max(percent) <= 100
    # logged in bulk: one entry per written record, and the chain holds
    logged = ChangeLogEntry.objects.filter(content_type__model="result", action="create")
    assert logged.count() == summary.results
    assert (
        ChangeLogEntry.objects.filter(
            content_type__model="indicator", action="update", reason=SAMPLE_REASON
        ).count()
        == 168
    )
    assert verify_chain().ok
    # a second run writes nothing more
    again = add_sample_data(plan, today=TODAY)
    assert (again.indicators, again.results) == (0, 0)


def test_sample_data_is_deterministic_and_keeps_real_data():
    plan = load_seed(2026)
    real = Indicator.objects.get(name="공약사업 추진율")
    real.annual_target = 77
    real.save()
    add_sample_data(plan, today=TODAY)
    first = _snapshot()
    real.refresh_from_db()
    assert real.annual_target == 77 and not real.is_sample and not real.results.exists()
    Result.objects.all().delete()
    Indicator.objects.exclude(pk=real.pk).update(
        is_sample=False, annual_target=None, frequency="", aggregation="", unit=""
    )
    add_sample_data(plan, today=TODAY)
    assert _snapshot() == first


def test_nothing_due_nothing_entered():
    plan = load_seed(2026)
    summary = add_sample_data(plan, today=date(2026, 1, 1))
    assert summary.indicators == 168 and summary.results == 0
