"""The demo's two years: a closed sample year (approved results for every period, its results
report final, marked as sample data) and the current year rolled from it, then updated by
importing the seed tables; load_demo keeps an existing demo and --reset rebuilds it."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from indicators.models import Indicator, Result, ResultStatus
from indicators.periods import periods_for
from perfplan.models import ImportBatch, Plan

pytestmark = pytest.mark.django_db

YEAR = 2033


def load_demo(*args):
    out = io.StringIO()
    call_command("load_demo", "--year", str(YEAR), *args, stdout=out)
    return out.getvalue()


def _state():
    return {
        plan.fiscal_year: (
            Indicator.objects.in_plan(plan).count(),
            Result.objects.filter(indicator__in=Indicator.objects.in_plan(plan)).count(),
            Indicator.objects.in_plan(plan).exclude(predecessor=None).count(),
        )
        for plan in Plan.objects.all()
    }


def test_demo_has_a_closed_sample_year_and_the_current_year_rolled_from_it():
    load_demo()
    sample = Plan.objects.get(fiscal_year=YEAR - 1)
    current = Plan.objects.get(fiscal_year=YEAR)
    # the closed year: a result for every period of every indicator, all approved samples
    for indicator in Indicator.objects.in_plan(sample).prefetch_related("results"):
        results = indicator.results.all()
        periods = periods_for(indicator.frequency, YEAR - 1)
        assert {r.period for r in results} == {p.key for p in periods}, indicator
        assert {(r.status, r.is_sample) for r in results} == {(ResultStatus.APPROVED, True)}
        assert indicator.is_sample
    assert "sample" in sample.year_note.lower() or "예시" in sample.year_note
    from reports.models import ResultsReport

    assert ResultsReport.objects.get(plan=sample).is_final
    # the closed year was published (by the demo's plan admin): the public pages show it
    assert sample.published_at is not None and current.published_at is None
    from public.data import published_plans

    assert [p.fiscal_year for p in published_plans()] == [YEAR - 1]
    # the current year: every indicator linked to last year's, its baseline last year's value
    rolled = Indicator.objects.in_plan(current).select_related("predecessor")
    assert rolled.count() == Indicator.objects.in_plan(sample).count()
    assert all(i.predecessor is not None for i in rolled)
    assert any(i.baseline is not None for i in rolled)
    # both routes met: the roll made the plan, the seed tables' import updated it in place
    kinds = set(
        ImportBatch.objects.filter(fiscal_year=YEAR, status="applied").values_list(
            "summary__kind", flat=True
        )
    )
    assert kinds >= {"rollover", "plan"}
    assert current.departments.exclude(declared_budget=None).exists()


def test_demo_loads_twice_and_resets():
    load_demo()
    before = _state()
    batches = ImportBatch.objects.count()
    out = load_demo()
    assert _state() == before and ImportBatch.objects.count() == batches
    assert "reset" in out  # says how to start again
    load_demo("--reset")
    assert _state() == before  # rebuilt the same


def test_a_real_plan_of_the_year_before_is_left_alone():
    from goals.tests.factories import make_plan

    real = make_plan(YEAR - 1, departments=1, goals=1, policy_goals=1, indicators=1)
    load_demo()
    assert Indicator.objects.in_plan(real).count() == 1
    current = Plan.objects.get(fiscal_year=YEAR)
    assert not Indicator.objects.in_plan(current).exclude(predecessor=None).exists()


def test_a_missing_results_report_is_a_clear_error(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def without_reports(name, *args, **kwargs):
        if name.startswith("reports.samples"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", without_reports)
    with pytest.raises(CommandError, match="reports"):
        load_demo()
    assert not Plan.objects.exists()  # asked before anything was written
