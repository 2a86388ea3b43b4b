"""Sample indicator definitions and results for the demo, flagged as samples everywhere.

The seed plan prints only the names of its indicators: no unit, direction, target or
result. `add_sample_data(plan)` gives each indicator a plausible definition read from its
name (rates in %, satisfaction scores in 점, counts as running totals, the "(하양지표)"
indicator lower-is-better) with `Indicator.is_sample=True`, and results for the periods due
by `today` with `Result.is_sample=True`, arranged so that every status shows: achieved,
caution, behind and missing (yearly indicators stay "no data" until the year ends).

Deterministic (random.Random(seed)); never overwrites a real definition (an indicator with
an annual target that is not a sample) or an existing result. Written in bulk inside
change_context(quiet=True), with one change-log entry per written record.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.utils import timezone

from perfplan.changelog import change_context, draft_for, record_many

from . import standing
from .models import (
    Aggregation,
    Direction,
    Frequency,
    Indicator,
    IndicatorType,
    LowerIsBetterMethod,
    Result,
    ResultStatus,
)
from .periods import due_periods, periods_for

DEFAULT_SEED = 2026
SAMPLE_REASON = "예시 자료(데모)"  # stored in the change log as written
LOWER_MARKERS = ("하양지표", "하향지표")
# The order in which indicators with due periods are given their scenario: every status
# appears as soon as four indicators have something due.
SCENARIOS = (
    "achieved",
    "caution",
    "behind",
    "missing",
    "achieved",
    "caution",
    "achieved",
    "behind",
)
FACTORS = {  # achievement the scenario aims at (the bands of the default thresholds)
    "achieved": (Decimal("1.05"), Decimal("1.12")),
    "missing": (Decimal("1.05"), Decimal("1.12")),
    "caution": (Decimal("0.93"), Decimal("0.97")),
    "behind": (Decimal("0.62"), Decimal("0.82")),
}
DEFINITION_FIELDS = (
    "unit",
    "direction",
    "lower_is_better_method",
    "indicator_type",
    "frequency",
    "aggregation",
    "baseline",
    "annual_target",
    "target_min",
    "target_max",
    "is_sample",
)


@dataclass
class SampleSummary:
    indicators: int = 0
    results: int = 0


def _q(value, places="1"):
    return Decimal(value).quantize(Decimal(places), rounding=ROUND_HALF_UP)


def _uniform(rng, low, high):
    return low + (high - low) * Decimal(str(round(rng.random(), 4)))


def sample_definition(indicator, rng, number):
    """A plausible definition from the indicator's name."""
    name = indicator.name
    definition = {
        "direction": Direction.HIGHER,
        "lower_is_better_method": LowerIsBetterMethod.RATIO,
        "target_min": None,
        "target_max": None,
        "is_sample": True,
    }
    if any(marker in name for marker in LOWER_MARKERS):
        baseline = _q(_uniform(rng, Decimal(11), Decimal(14)), "0.1")
        definition.update(
            unit="kg",
            direction=Direction.LOWER,
            indicator_type=IndicatorType.OUTCOME,
            frequency=Frequency.QUARTERLY,
            aggregation=Aggregation.AVERAGE,
            baseline=baseline,
            annual_target=_q(baseline * Decimal("0.94"), "0.1"),
        )
    elif "법정적립액" in name:
        definition.update(
            unit="%",
            direction=Direction.RANGE,
            indicator_type=IndicatorType.INPUT,
            frequency=Frequency.QUARTERLY,
            aggregation=Aggregation.LATEST,
            baseline=Decimal(100),
            annual_target=None,
            target_min=Decimal(100),
            target_max=Decimal(110),
        )
    elif "만족도" in name or name.endswith("(점)"):
        baseline = _q(_uniform(rng, Decimal(78), Decimal(88)), "0.1")
        definition.update(
            unit="점",
            indicator_type=IndicatorType.OUTCOME,
            frequency=Frequency.HALF_YEARLY,
            aggregation=Aggregation.LATEST,
            baseline=baseline,
            annual_target=_q(baseline + 2, "0.1"),
        )
    elif name.endswith(("율", "률", "도", "지수")) or "(%)" in name or "율(" in name:
        baseline = _q(_uniform(rng, Decimal(80), Decimal(92)), "0.1")
        frequency = Frequency.YEARLY if number % 9 == 8 else Frequency.QUARTERLY
        definition.update(
            unit="%",
            indicator_type=IndicatorType.OUTCOME,
            frequency=frequency,
            aggregation=Aggregation.LATEST,
            baseline=baseline,
            annual_target=_q(
                min(baseline + _uniform(rng, Decimal(2), Decimal(6)), Decimal(99)), "0.1"
            ),
        )
    else:  # counts of events: a running total
        unit = "명" if name.endswith(("자 수", "이용자 수", "참여자 수")) else "건"
        if "면적" in name:
            unit = "ha"
        elif "수익" in name or "모금" in name:
            unit = "백만원"
        annual = Decimal(rng.randrange(60, 400) * 10)
        frequency = (Frequency.MONTHLY, Frequency.QUARTERLY)[number % 2]
        if number % 9 == 8:
            frequency = Frequency.YEARLY
        definition.update(
            unit=unit,
            indicator_type=IndicatorType.OUTPUT,
            frequency=frequency,
            aggregation=Aggregation.SUM,
            baseline=_q(annual * _uniform(rng, Decimal("0.85"), Decimal("0.98"))),
            annual_target=annual,
        )
    return definition


def _values(definition, periods, due, scenario, rng):
    """The values of the due periods that give `scenario`; None where left missing."""
    low, high = FACTORS[scenario]
    factor = _uniform(rng, low, high)
    direction = definition["direction"]
    aggregation = definition["aggregation"]
    count = len(periods)
    values = []
    for k, _period in enumerate(due, start=1):
        noise = Decimal(1) + _uniform(rng, Decimal("-0.01"), Decimal("0.01"))
        if direction == Direction.RANGE:
            low_bound, high_bound = definition["target_min"], definition["target_max"]
            middle = (low_bound + high_bound) / 2
            value = middle if scenario in ("achieved", "missing") else low_bound * factor
            values.append(_q(value * noise if scenario == "achieved" else value, "0.1"))
        elif aggregation == Aggregation.SUM:
            share = definition["annual_target"] / count
            values.append(_q(share * factor * noise))
        elif aggregation == Aggregation.AVERAGE:
            target = definition["annual_target"]
            level = target / factor if direction == Direction.LOWER else target * factor
            values.append(_q(level * noise, "0.1"))
        else:  # latest: a trend from the baseline to where the scenario ends
            end = definition["annual_target"] * factor
            start = definition["baseline"] if definition["baseline"] is not None else end
            value = start + (end - start) * k / len(due)
            if definition["unit"] == "%":
                value = min(value, Decimal(100))  # a share cannot pass 100 %
            values.append(_q(value, "0.1"))
    if scenario == "missing" and values:
        values[-1] = None
    return values


def has_targets(indicator):
    """An annual target, or a target range."""
    return indicator.annual_target is not None or (
        indicator.direction == Direction.RANGE
        and (indicator.target_min is not None or indicator.target_max is not None)
    )


def add_sample_data(plan, today=None, *, seed=DEFAULT_SEED, keep_definitions=False):
    """Sample definitions and results for `plan`'s indicators (see the module docstring).

    keep_definitions: an indicator that has targets already (a plan made from a sample year
    by rollover.services) keeps its definition, and its sample results follow it."""
    today = today or timezone.localdate()
    rng = random.Random(seed)
    now = timezone.now()
    indicators = list(
        Indicator.objects.in_plan(plan)
        .select_related(Indicator.scope.plan, Indicator.scope.department)
        .order_by(*Indicator._meta.ordering)
    )
    existing = set(
        Result.objects.filter(indicator__in=[i.pk for i in indicators]).values_list(
            "indicator_id", "period"
        )
    )
    summary = SampleSummary()
    updated, created, drafts = [], [], []
    scenario_index = 0
    for number, indicator in enumerate(indicators):
        if indicator.annual_target is not None and not indicator.is_sample:
            continue  # a real definition: left alone, and no sample results for it
        if keep_definitions and has_targets(indicator):
            definition = {key: getattr(indicator, key) for key in DEFINITION_FIELDS}
        else:
            definition = sample_definition(indicator, rng, number)
        changes = {}
        for key in DEFINITION_FIELDS:
            old, new = getattr(indicator, key), definition.get(key)
            if new is None and key in ("unit", "indicator_type", "frequency", "aggregation"):
                new = ""
            if old != new:
                changes[key] = (old, new)
                setattr(indicator, key, new)
        if changes:
            indicator.version += 1
            updated.append(indicator)
            drafts.append(draft_for(indicator, "update", changes))
        periods = periods_for(indicator.frequency, plan.fiscal_year)
        due = due_periods(indicator.frequency, plan.fiscal_year, today)
        if not due:
            continue
        scenario = SCENARIOS[scenario_index % len(SCENARIOS)]
        scenario_index += 1
        values = _values(definition, periods, due, scenario, rng)
        for position, (period, value) in enumerate(zip(due, values, strict=True), start=1):
            if value is None or (indicator.pk, period.key) in existing:
                continue
            last = position == len(due)
            status = (
                ResultStatus.APPROVED
                if not last
                else (ResultStatus.SUBMITTED if number % 2 == 0 else ResultStatus.DRAFT)
            )
            created.append(
                Result(
                    indicator=indicator,
                    period=period.key,
                    value=value,
                    status=status,
                    is_sample=True,
                    note="",
                    submitted_at=now if status != ResultStatus.DRAFT else None,
                    reviewed_at=now if status == ResultStatus.APPROVED else None,
                )
            )
    with transaction.atomic(), change_context(quiet=True):
        if updated:
            Indicator.objects.bulk_update(updated, [*DEFINITION_FIELDS, "version"], batch_size=2000)
        # Written without signals: the standings of these indicators are outdated now.
        standing.touch([i.pk for i in updated] + [r.indicator_id for r in created])
        if created:
            Result.objects.bulk_create(created, batch_size=2000)
            for result in created:
                changes = {
                    "period": (None, result.period),
                    "value": (None, result.value),
                    "status": (None, result.status),
                    "is_sample": (None, True),
                }
                drafts.append(draft_for(result, "create", changes))
        record_many(drafts, reason=SAMPLE_REASON)
    # Computed now, as an import does: the demo's first overview computes nothing.
    standing.ensure(plan, today=today)
    summary.indicators = len(updated)
    summary.results = len(created)
    return summary
