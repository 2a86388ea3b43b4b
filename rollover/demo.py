"""The demo's two years (perfplan's load_demo calls these): a closed sample year with its
full-year results approved (load_demo adds its results report: reports is rollover's
sibling), and the current year made from it by the roll-forward and then updated by
importing the seed tables, as an office's year turns.
Every sample value is marked as such (예시 자료), in the data and on every page.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from indicators import standing
from indicators.demo import SAMPLE_REASON, add_sample_data
from indicators.models import Aggregation, Indicator, Result, ResultStatus
from indicators.periods import periods_for
from perfplan.changelog import change_context, draft_for, record_many

from .services import roll_plan

DEMO_TARGET_RULE = "baseline+5%"


class DemoError(Exception):
    """The demo cannot be built as asked; the message says why (in Korean)."""


def year_after(plan):
    """A day in January after the plan's year: every period of the year has ended."""
    return date(plan.fiscal_year + 1, 1, 20)


def close_sample_year(plan):
    """Sample definitions and results for every period of `plan`'s year, all approved: a
    closed year. Returns (indicators defined, results written)."""
    summary = add_sample_data(plan, today=year_after(plan))
    filled = _fill_gaps(plan)
    _approve_all(plan)
    return summary.indicators, summary.results + filled


def _fill_gaps(plan):
    """A period the sample left without a value gets one (the year is closed in full)."""
    now = timezone.now()
    created = []
    indicators = list(
        Indicator.objects.in_plan(plan)
        .select_related(Indicator.scope.plan)
        .prefetch_related("results")
        .order_by("pk")
    )
    for indicator in indicators:
        results = {r.period: r.value for r in indicator.results.all() if r.value is not None}
        fill = _gap_value(indicator, list(results.values()))
        if fill is None:
            continue
        for period in periods_for(indicator.frequency, plan.fiscal_year):
            if period.key not in results:
                created.append(
                    Result(
                        indicator=indicator,
                        period=period.key,
                        value=fill,
                        status=ResultStatus.APPROVED,
                        is_sample=True,
                        submitted_at=now,
                        reviewed_at=now,
                    )
                )
    with transaction.atomic(), change_context(quiet=True):
        Result.objects.bulk_create(created, batch_size=2000)
        standing.touch(r.indicator_id for r in created)
        record_many(
            [
                draft_for(r, "create", {"period": (None, r.period), "value": (None, r.value)})
                for r in created
            ],
            reason=SAMPLE_REASON,
        )
    return len(created)


def _gap_value(indicator, known):
    """The value of a period the sample left empty: the last one (a running total: their
    mean), or the target when nothing was entered."""
    if known:
        if indicator.aggregation == Aggregation.SUM:
            return (sum(known, Decimal(0)) / len(known)).quantize(Decimal(1))
        return known[-1]
    if indicator.annual_target is not None:
        return indicator.annual_target
    if indicator.target_min is not None and indicator.target_max is not None:
        return (indicator.target_min + indicator.target_max) / 2
    return indicator.baseline


def _approve_all(plan):
    now = timezone.now()
    waiting = list(
        Result.objects.filter(indicator__in=Indicator.objects.in_plan(plan), is_sample=True)
        .exclude(status=ResultStatus.APPROVED)
        .select_related(Result.scope.plan)
    )
    with transaction.atomic(), change_context(quiet=True):
        drafts = []
        for result in waiting:
            drafts.append(
                draft_for(result, "update", {"status": (result.status, ResultStatus.APPROVED)})
            )
            result.status = ResultStatus.APPROVED
            result.submitted_at = result.submitted_at or now
            result.reviewed_at = now
            result.version += 1
        Result.objects.bulk_update(
            waiting, ["status", "submitted_at", "reviewed_at", "version"], batch_size=2000
        )
        standing.touch(r.indicator_id for r in waiting)
        record_many(drafts, reason=SAMPLE_REASON)
    standing.ensure(plan, today=year_after(plan))


def roll_into(plan, year, source):
    """The current year made from the sample year (baselines from its year-end values,
    targets the baseline + 5 %): the RollResult."""
    result = roll_plan(plan, year, DEMO_TARGET_RULE, None, source=source)
    if not result.ok:
        raise DemoError("; ".join(str(e) for e in result.errors))
    return result


def add_current_year_samples(plan, today=None):
    """Sample results for the current year's due periods, following the definitions and
    targets the roll gave (indicators the roll did not reach get a sample definition)."""
    return add_sample_data(plan, today=today, keep_definitions=True)
