"""Tracking rows built from the database: one TrackingRow per indicator, with its periods'
cells, year-to-date figures, status and forecast (the rules of indicators.tracking.rules).

The grid, the indicator page and their exports build their rows with `tracking_rows()`; the
plan overview counts what `standing_values()` stores of each row (indicators.standing).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db.models import Prefetch
from django.utils import timezone

from ..models import Direction, PeriodTarget, Result
from ..periods import Period, periods_for
from .rules import (
    NO_DATA,
    STATUS_LABELS,
    Forecast,
    aggregate,
    aggregation_of,
    bucket_of,
    forecast,
    frequency_of,
    indicator_rate,
    period_target,
    status_for,
    ytd_range,
    ytd_target,
)


@dataclass
class Cell:
    period: Period
    result: Result | None
    target: Decimal | None  # the cumulative (year-to-date) target up to this period
    is_due: bool  # the period has ended
    value: Decimal | None  # this period's actual, None when not entered
    period_target: Decimal | None = None  # this period's own target (or its pro rata share)

    @property
    def is_missing(self):
        return self.is_due and self.value is None


@dataclass
class TrackingRow:
    indicator: object
    department: object  # goals.PlanDepartment
    strategic_goal: object
    policy_goal: object
    cells: list = field(default_factory=list)
    ytd_actual: Decimal | None = None
    ytd_target: Decimal | None = None
    rate: Decimal | None = None
    status: str = NO_DATA
    last_update: datetime | None = None
    forecast: Forecast | None = None
    has_sample: bool = False
    # The last period the year-to-date figures cover (None when nothing is due or entered).
    upto: Period | None = None
    ytd_target_min: Decimal | None = None  # range indicators: the year-to-date bounds
    ytd_target_max: Decimal | None = None
    due_count: int = 0  # periods that have ended
    entered_due_count: int = 0  # of those, with a value

    @property
    def status_label(self):
        return STATUS_LABELS[self.status]

    @property
    def missing_periods(self):
        return [c.period for c in self.cells if c.is_missing]


class ResultFigures:
    """What a row, the grid and a standing read of a result, without a model instance (a
    department's grid has some 500 results; a standings batch, 12,000)."""

    FIELDS = (
        "id",
        "indicator_id",
        "period",
        "value",
        "status",
        "version",
        "is_sample",
        "return_reason",
        "updated_at",
    )
    __slots__ = ("pk", *FIELDS[1:])

    def __init__(self, *values):
        for name, value in zip(self.__slots__, values, strict=True):
            setattr(self, name, value)


def tracking_rows(indicators, plan, today=None, *, people=True, statuses=None):
    """One TrackingRow per indicator of `plan` in `indicators` (a queryset, already scoped).

    A fixed number of queries whatever the number of indicators: the indicators with their
    goals and department, their results and their period targets. With `people` the
    results are Result instances with who entered them (the indicator page); without,
    ResultFigures (the grid, the standings). With `statuses` (ResultStatus values) only
    the results in one of them count (the public pages: approved only).
    """
    today = today or timezone.localdate()
    if isinstance(today, datetime):
        today = today.date()
    if not indicators.query.is_sliced:
        indicators = indicators.in_plan(plan)
    scope = indicators.model.scope
    queryset = indicators.select_related(scope.plan, scope.department)
    # Ordered by period alone: the models' ordering (by indicator, i.e. through the whole
    # plan hierarchy) joins every indicator of every plan to sort a few rows.
    if people:
        if statuses is not None:
            raise ValueError("tracking_rows: `statuses` needs people=False")
        queryset = queryset.prefetch_related(
            Prefetch(
                "results", queryset=Result.objects.select_related("entered_by").order_by("period")
            ),
            Prefetch("period_targets", queryset=PeriodTarget.objects.order_by("period")),
        )
        indicators = list(queryset)
        results = {i.pk: i.results.all() for i in indicators}
        targets = {i.pk: {t.period: t.target for t in i.period_targets.all()} for i in indicators}
    else:
        indicators = list(queryset)
        ids = [i.pk for i in indicators]
        results, targets = defaultdict(list), defaultdict(dict)
        chosen = Result.objects.filter(indicator_id__in=ids)
        if statuses is not None:
            chosen = chosen.filter(status__in=list(statuses))
        for values in chosen.order_by("period").values_list(*ResultFigures.FIELDS):
            results[values[1]].append(ResultFigures(*values))
        for indicator_id, period, target in (
            PeriodTarget.objects.filter(indicator_id__in=ids)
            .order_by()
            .values_list("indicator_id", "period", "target")
        ):
            targets[indicator_id][period] = target
    year = plan.fiscal_year
    periods_cache = {}
    rows = []
    for indicator in indicators:
        frequency = frequency_of(indicator)
        if frequency not in periods_cache:
            periods_cache[frequency] = periods_for(frequency, year)
        rows.append(
            _row(
                indicator,
                plan,
                periods_cache[frequency],
                today,
                results[indicator.pk],
                targets[indicator.pk],
            )
        )
    return rows


def _row(indicator, plan, periods, today, results, targets):
    results = {r.period: r for r in results}
    values = {k: r.value for k, r in results.items() if r.value is not None}
    policy_goal = indicator.policy_goal
    strategic_goal = policy_goal.strategic_goal
    row = TrackingRow(
        indicator=indicator,
        department=strategic_goal.plan_department,
        strategic_goal=strategic_goal,
        policy_goal=policy_goal,
        has_sample=any(r.is_sample for r in results.values()),
        last_update=max((r.updated_at for r in results.values() if r.updated_at), default=None),
    )
    for period in periods:
        result = results.get(period.key)
        is_due = period.end < today
        value = values.get(period.key)
        row.cells.append(
            Cell(
                period=period,
                result=result,
                target=ytd_target(indicator, targets, period),
                is_due=is_due,
                value=value,
                period_target=period_target(indicator, targets, period),
            )
        )
        if is_due:
            row.due_count += 1
            row.entered_due_count += value is not None
    started = [c for c in row.cells if c.period.start <= today]
    entered = [c for c in started if c.value is not None]
    due = [c for c in row.cells if c.is_due]
    upto = entered[-1].period if entered else (due[-1].period if due else None)
    row.upto = upto
    aggregation = aggregation_of(indicator)
    if upto is not None:
        row.ytd_actual = aggregate([c.value for c in row.cells[: upto.index]], aggregation)
        row.ytd_target = ytd_target(indicator, targets, upto)
        if indicator.direction == Direction.RANGE:
            row.ytd_target_min, row.ytd_target_max = ytd_range(indicator, upto)
        row.rate = indicator_rate(
            indicator,
            row.ytd_target,
            row.ytd_actual,
            target_min=row.ytd_target_min,
            target_max=row.ytd_target_max,
        )
    row.status = status_for(
        row.rate,
        achieved=plan.threshold_achieved,
        caution=plan.threshold_caution,
        missing_due=row.entered_due_count < row.due_count,
    )
    row.forecast = forecast(
        indicator, values, plan.fiscal_year, today, threshold=plan.threshold_achieved
    )
    return row


def last_due_missing(row):
    """The last period that has ended, when its value is missing (else None)."""
    due = [c for c in row.cells if c.is_due]
    if due and due[-1].value is None:
        return due[-1].period
    return None


def standing_values(row):
    """What indicators.standing stores of a row (IndicatorStanding's computed fields)."""
    forecast = row.forecast
    missing = last_due_missing(row)
    return {
        "status": row.status,
        "rate": row.rate,
        "bucket": bucket_of(row.rate) or "",
        "due_count": row.due_count,
        "entered_due_count": row.entered_due_count,
        "last_due_missing": missing.key if missing else "",
        "projected": forecast.projected if forecast else None,
        "forecast_rate": forecast.rate if forecast else None,
        "forecast_method": forecast.method if forecast else "",
        "at_risk": bool(forecast and forecast.at_risk),
        "has_sample": is_sample_row(row),
    }


def is_sample_row(row):
    """Sample data shows in the row: sample results, or a sample definition."""
    return bool(row.has_sample or row.indicator.is_sample)
