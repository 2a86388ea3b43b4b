"""Indicator tracking through the year: achievement, year to date, status and forecast.

Every rule lives here as a plain function (unit-tested in indicators/tests/test_services.py);
the grid, the indicator page and their exports build their rows with `tracking_rows()`;
the plan overview counts what `standing_values()` stores of each row (indicators.standing).

Achievement rate (달성률, `achievement_rate`), in % with 2 decimals, never a division by zero:

* higher is better (상향): actual ÷ target × 100. Written as 100 + (actual − target) ÷ |target|
  × 100 it also holds for a negative target (e.g. a change rate of −3 % "at most a 3 % fall"):
  the rate grows as the actual grows, and is 100 at the target.
* lower is better (하향), method "ratio" (default): target ÷ actual × 100; method "complement":
  (2 − actual ÷ target) × 100, i.e. 100 − (actual − target) ÷ |target| × 100.
  - An actual of 0 or below (nothing happened, the best possible) scores the cap,
    `LOWER_IS_BETTER_CAP` = 200 %: the value the complement method gives for a perfect 0, so
    both methods agree there; the ratio method is capped at 200 % everywhere (target ÷ actual
    grows without bound as the actual nears 0).
  - A negative target: target ÷ actual has no meaning when both are negative (a larger fall
    would score lower), so the complement formula is used whatever the method.
* range (범위, target_min..target_max): 100 inside the range (bounds included). Outside, the
  score falls linearly with the distance to the nearest bound, relative to that bound's size:
  below the range actual ÷ min × 100 (as higher-is-better against the lower bound), above it
  (2 − actual ÷ max) × 100 (as lower-is-better, complement, against the upper bound). A bound
  of 0 uses the width of the range as the scale instead, and a range of zero width at 0 gives 0
  outside it. One bound only is a one-sided range; neither bound falls back to the annual
  target as a one-point range; bounds given the wrong way round are swapped.
* A target of 0: higher is better → 100 when the actual is 0 or more (the target is met; an
  over-achievement cannot be measured against 0), 0 when it is below; lower is better → 100
  when the actual is 0 or less, 0 above it (no partial credit against a zero target).
* No rate is ever below 0: a result that is worse than "nothing" scores 0.
* A missing actual or target is "no data": None, never 0.

Year to date (`ytd_target`, `aggregate`): a running total ("sum") adds the periods; the
latest value ("latest") is the last period entered; an average ("average") is their mean. The
year-to-date target is the per-period targets (PeriodTarget) where given, otherwise pro rata:
sum → annual × periods elapsed ÷ periods in the year; latest and average → the annual target.
The year-to-date comparison runs up to the last started period that has a value.

Status (`status_for`) against the plan's thresholds: 미입력 missing when a period that has
ended has no value, otherwise 달성 achieved (≥ plan.threshold_achieved), 주의 caution
(≥ plan.threshold_caution) or 부진 behind; 자료없음 no data when there is no rate yet (nothing
due and nothing entered, or no target to compare with).

Forecast (`forecast`): the projected year-end value from the values entered so far; see
FORECAST_METHOD_TEXT. Values of periods that have not begun yet are not measurements and
are ignored. An indicator is at risk when its projection scores below the achieved
threshold (100 % by default) against the annual target, direction-aware.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import Aggregation, Direction, LowerIsBetterMethod, PeriodTarget, Result
from .periods import PERIOD_KEYS, Period, normalize_frequency, periods_for

ZERO = Decimal(0)
HUNDRED = Decimal(100)
RATE_PLACES = Decimal("0.01")
VALUE_PLACES = Decimal("0.0001")  # the precision of the value and target fields
LOWER_IS_BETTER_CAP = Decimal(200)
DEFAULT_AGGREGATION = Aggregation.LATEST  # a blank aggregation never inflates a value

ACHIEVED = "achieved"
CAUTION = "caution"
BEHIND = "behind"
MISSING = "missing"
NO_DATA = "no_data"
STATUSES = (ACHIEVED, CAUTION, BEHIND, MISSING, NO_DATA)
STATUS_LABELS = {
    ACHIEVED: _("achieved"),
    CAUTION: _("caution"),
    BEHIND: _("behind"),
    MISSING: _("missing"),
    NO_DATA: _("no data"),
}

FORECAST_METHOD_TEXT = {
    Aggregation.SUM: _(
        "Running total: the average of the periods entered so far, times the number of "
        "periods in the year (run rate)."
    ),
    Aggregation.LATEST: _(
        "Latest value: the straight-line trend (least squares) of the values entered so far, "
        "carried to the last period of the year; with a single value, that value; once the "
        "last period is entered, its value."
    ),
    Aggregation.AVERAGE: _("Average: the mean of the values entered so far."),
}

# Achievement distribution: (key, label, from, below); `from` included, `below` excluded.
BUCKETS = (
    ("lt50", "< 50%", None, Decimal(50)),
    ("50_70", "50–70%", Decimal(50), Decimal(70)),
    ("70_90", "70–90%", Decimal(70), Decimal(90)),
    ("90_100", "90–100%", Decimal(90), Decimal(100)),
    ("ge100", "≥ 100%", Decimal(100), None),
)


# ---------------------------------------------------------------- numbers


def _dec(value):
    """A Decimal, or None; floats through their shortest repr, never a binary expansion."""
    if value is None or value == "":
        return None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, bool):
        raise TypeError("a boolean is not a number")
    if isinstance(value, float):
        value = repr(value)
    try:
        number = Decimal(str(value))
    except InvalidOperation as exc:
        raise TypeError(f"not a number: {value!r}") from exc
    return number if number.is_finite() else None


def _round(value, places=RATE_PLACES):
    return None if value is None else value.quantize(places, rounding=ROUND_HALF_UP)


def aggregation_of(indicator):
    return getattr(indicator, "aggregation", "") or DEFAULT_AGGREGATION


def frequency_of(indicator):
    return normalize_frequency(getattr(indicator, "frequency", ""))


# ---------------------------------------------------------------- achievement


def achievement_rate(
    direction, target, actual, *, method=LowerIsBetterMethod.RATIO, target_min=None, target_max=None
):
    """The achievement rate in % (2 decimals), or None when it cannot be known.

    See the module docstring for every rule, including zero and negative values.
    """
    actual = _dec(actual)
    if actual is None:
        return None
    target = _dec(target)
    if direction == Direction.RANGE:
        rate = _range_rate(actual, _dec(target_min), _dec(target_max), target)
    elif direction == Direction.LOWER:
        rate = _lower_rate(target, actual, method)
    else:  # higher, or not defined yet
        rate = _higher_rate(target, actual)
    return _round(rate)


def _higher_rate(target, actual):
    if target is None:
        return None
    if target == 0:
        return HUNDRED if actual >= 0 else ZERO
    return max(HUNDRED + (actual - target) / abs(target) * HUNDRED, ZERO)


def _lower_rate(target, actual, method):
    if target is None:
        return None
    if target == 0:
        return HUNDRED if actual <= 0 else ZERO
    if method == LowerIsBetterMethod.COMPLEMENT or target < 0:
        rate = HUNDRED - (actual - target) / abs(target) * HUNDRED
    elif actual <= 0:
        rate = LOWER_IS_BETTER_CAP
    else:
        rate = target / actual * HUNDRED
    return min(max(rate, ZERO), LOWER_IS_BETTER_CAP)


def _range_rate(actual, low, high, target):
    if low is None and high is None:
        if target is None:
            return None
        low = high = target
    if low is not None and high is not None and low > high:
        low, high = high, low
    if low is not None and actual < low:
        scale = _range_scale(low, low, high)
        return max(HUNDRED - (low - actual) / scale * HUNDRED, ZERO) if scale else ZERO
    if high is not None and actual > high:
        scale = _range_scale(high, low, high)
        return max(HUNDRED - (actual - high) / scale * HUNDRED, ZERO) if scale else ZERO
    return HUNDRED


def _range_scale(bound, low, high):
    if bound != 0:
        return abs(bound)
    if low is not None and high is not None and high > low:
        return high - low
    return None


def indicator_rate(indicator, target, actual, *, target_min=None, target_max=None):
    """achievement_rate() with the indicator's direction and lower-is-better method."""
    return achievement_rate(
        indicator.direction,
        target,
        actual,
        method=indicator.lower_is_better_method or LowerIsBetterMethod.RATIO,
        target_min=target_min,
        target_max=target_max,
    )


# ---------------------------------------------------------------- year to date


def aggregate(values, aggregation):
    """The year-to-date value of `values` (in period order); None values are no data.

    sum → their total; latest → the last one given; average → their mean (4 decimals).
    None when no value is given; a blank aggregation is "latest".
    """
    numbers = [_dec(v) for v in values if v is not None]
    numbers = [n for n in numbers if n is not None]
    if not numbers:
        return None
    aggregation = aggregation or DEFAULT_AGGREGATION
    if aggregation == Aggregation.SUM:
        return sum(numbers, ZERO)
    if aggregation == Aggregation.AVERAGE:
        return _round(sum(numbers, ZERO) / len(numbers), VALUE_PLACES)
    return numbers[-1]


def _keys_upto(upto):
    return PERIOD_KEYS[upto.frequency][: upto.index]


def ytd_target(indicator, period_targets, upto):
    """The target for the periods up to and including `upto` (a Period of the indicator).

    `period_targets` maps period keys to targets (PeriodTarget); a period without one takes
    its pro rata share of the annual target. None when a needed target is unknown.
    """
    if upto is None:
        return None
    period_targets = {k: _dec(v) for k, v in (period_targets or {}).items() if v is not None}
    annual = _dec(indicator.annual_target)
    aggregation = aggregation_of(indicator)
    keys = _keys_upto(upto)
    if aggregation == Aggregation.SUM:
        given = [period_targets[k] for k in keys if k in period_targets]
        missing = len(keys) - len(given)
        if not missing:
            return sum(given, ZERO)
        if annual is None:
            return None
        return _round(sum(given, ZERO) + annual * missing / upto.count, VALUE_PLACES)
    if aggregation == Aggregation.AVERAGE:
        targets = [period_targets.get(k, annual) for k in keys]
        if any(t is None for t in targets):
            return None
        if not period_targets:
            return annual
        return _round(sum(targets, ZERO) / len(targets), VALUE_PLACES)
    return period_targets.get(upto.key, annual)


def period_target(indicator, period_targets, period):
    """The target of one period alone: its PeriodTarget, else its pro rata share."""
    given = (period_targets or {}).get(period.key)
    if given is not None:
        return _dec(given)
    annual = _dec(indicator.annual_target)
    if annual is None:
        return None
    if aggregation_of(indicator) == Aggregation.SUM:
        return _round(annual / period.count, VALUE_PLACES)
    return annual


def ytd_range(indicator, upto):
    """A range indicator's bounds up to `upto`: pro rata for a running total."""
    low, high = _dec(indicator.target_min), _dec(indicator.target_max)
    if upto is None or aggregation_of(indicator) != Aggregation.SUM:
        return low, high

    def share(bound):
        return None if bound is None else _round(bound * upto.index / upto.count, VALUE_PLACES)

    return share(low), share(high)


# ---------------------------------------------------------------- status


def status_for(rate, *, achieved=HUNDRED, caution=Decimal(90), missing_due=False):
    """One of STATUSES: missing wins (someone has to act), then the rate against thresholds."""
    if missing_due:
        return MISSING
    if rate is None:
        return NO_DATA
    rate = _dec(rate)
    if rate >= _dec(achieved):
        return ACHIEVED
    if rate >= _dec(caution):
        return CAUTION
    return BEHIND


# ---------------------------------------------------------------- forecast


@dataclass(frozen=True)
class Forecast:
    projected: Decimal | None  # the projected year-end value, 2 decimals
    at_risk: bool  # projected to miss the annual target
    method: str  # the aggregation: a key of FORECAST_METHOD_TEXT
    rate: Decimal | None = None  # the projected achievement against the annual target
    periods_used: int = 0

    @property
    def method_text(self):
        return FORECAST_METHOD_TEXT.get(self.method, "")


def _trend(points, at):
    """Least-squares straight line through (x, y) points, evaluated at x = `at`."""
    n = Decimal(len(points))
    mean_x = sum((Decimal(x) for x, _y in points), ZERO) / n
    mean_y = sum((y for _x, y in points), ZERO) / n
    spread = sum(((Decimal(x) - mean_x) ** 2 for x, _y in points), ZERO)
    if spread == 0:
        return mean_y
    slope = sum(((Decimal(x) - mean_x) * (y - mean_y) for x, y in points), ZERO) / spread
    return mean_y + slope * (Decimal(at) - mean_x)


def forecast(indicator, values_by_period, year, today, *, threshold=HUNDRED):
    """The projected year-end value from the values so far, and whether it misses the target.

    Values of periods that have not begun by `today` are ignored. At risk: the projection's
    achievement rate against the annual target (or range) is below `threshold`.
    """
    aggregation = aggregation_of(indicator)
    periods = periods_for(indicator.frequency, year)
    entered = []
    for period in periods:
        value = _dec((values_by_period or {}).get(period.key))
        if value is not None and period.start <= today:
            entered.append((period, value))
    if not entered:
        return Forecast(None, False, aggregation)
    values = [v for _p, v in entered]
    count = len(periods)
    if aggregation == Aggregation.SUM:
        projected = sum(values, ZERO) * count / len(values)
    elif aggregation == Aggregation.AVERAGE:
        projected = sum(values, ZERO) / len(values)
    elif entered[-1][0].index == count or len(entered) == 1:
        projected = values[-1]
    else:
        projected = _trend([(p.index, v) for p, v in entered], count)
    projected = _round(projected)
    rate = indicator_rate(
        indicator,
        indicator.annual_target,
        projected,
        target_min=indicator.target_min,
        target_max=indicator.target_max,
    )
    at_risk = rate is not None and rate < _dec(threshold)
    return Forecast(projected, at_risk, aggregation, rate, len(entered))


# ---------------------------------------------------------------- tracking rows


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


_RELATED = "policy_goal__strategic_goal__plan_department"


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


def tracking_rows(indicators, plan, today=None, *, people=True):
    """One TrackingRow per indicator of `plan` in `indicators` (a queryset, already scoped).

    A fixed number of queries whatever the number of indicators: the indicators with their
    goals and department, their results and their period targets. With `people` the
    results are Result instances with who entered them (the indicator page); without,
    ResultFigures (the grid, the standings).
    """
    today = today or timezone.localdate()
    if isinstance(today, datetime):
        today = today.date()
    if not indicators.query.is_sliced:
        indicators = indicators.filter(**{f"{_RELATED}__plan": plan})
    queryset = indicators.select_related(f"{_RELATED}__plan", f"{_RELATED}__department")
    # Ordered by period alone: the models' ordering (by indicator, i.e. through the whole
    # plan hierarchy) joins every indicator of every plan to sort a few rows.
    if people:
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
        for values in (
            Result.objects.filter(indicator_id__in=ids)
            .order_by("period")
            .values_list(*ResultFigures.FIELDS)
        ):
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


# ---------------------------------------------------------------- summaries


def _percent(part, whole):
    if not whole:
        return None
    return _round(Decimal(part) * HUNDRED / Decimal(whole))


def bucket_of(rate):
    """The BUCKETS key of an achievement rate (None for no rate)."""
    if rate is None:
        return None
    for key, _label, low, below in BUCKETS:
        if (low is None or rate >= low) and (below is None or rate < below):
            return key
    return None  # pragma: no cover - the buckets cover every number


class Tally:
    """summarize()'s counts, added one indicator at a time (rows, or stored standings)."""

    __slots__ = (
        "total",
        "by_status",
        "buckets",
        "due",
        "entered",
        "at_risk",
        "rate_sum",
        "rated",
        "sample",
    )

    def __init__(self):
        self.total = self.due = self.entered = self.at_risk = self.rated = self.sample = 0
        self.by_status = dict.fromkeys(STATUSES, 0)
        self.buckets = {key: 0 for key, *_rest in BUCKETS}
        self.rate_sum = ZERO

    def count(self, status, rate, bucket, due, entered, at_risk):
        """Count one indicator."""
        self.total += 1
        self.by_status[status] += 1
        if bucket:
            self.buckets[bucket] += 1
        if rate is not None:
            self.rate_sum += rate
            self.rated += 1
        self.due += due
        self.entered += entered
        self.at_risk += at_risk

    def merge(self, total, by_status, buckets, due, entered, at_risk, rate_sum, rated, sample=0):
        """Add counts made elsewhere (the database's, from stored standings): by_status and
        buckets as counts in the order of STATUSES and BUCKETS; `sample`: how many show
        sample data."""
        self.total += total
        counts = self.by_status
        for status, count in zip(STATUSES, by_status, strict=True):
            counts[status] += count
        counts = self.buckets
        for (bucket, *_rest), count in zip(BUCKETS, buckets, strict=True):
            counts[bucket] += count
        self.due += due
        self.entered += entered
        self.at_risk += at_risk
        self.rate_sum += rate_sum
        self.rated += rated
        self.sample += sample

    def add(self, other):
        """Add another Tally's counts (a department's, from its goals')."""
        self.merge(
            other.total,
            other.by_status.values(),
            other.buckets.values(),
            other.due,
            other.entered,
            other.at_risk,
            other.rate_sum,
            other.rated,
            other.sample,
        )

    @property
    def mean_rate(self):
        """The mean achievement rate of the indicators that have one (2 decimals)."""
        return _round(self.rate_sum / self.rated) if self.rated else None

    @property
    def completeness(self):
        """Of the periods that have ended, the % with a value (None when none has ended)."""
        return _percent(self.entered, self.due)

    def summary(self):
        by_status, buckets = self.by_status, self.buckets
        return {
            "total": self.total,
            "by_status": dict(by_status),
            "statuses": [
                {"key": s, "label": STATUS_LABELS[s], "count": by_status[s]} for s in STATUSES
            ],
            "buckets": [
                {"key": key, "label": label, "from": low, "below": below, "count": buckets[key]}
                for key, label, low, below in BUCKETS
            ],
            "rated": sum(buckets.values()),
            "completeness": {
                "due": self.due,
                "entered": self.entered,
                "percent": self.completeness,
            },
            "at_risk": self.at_risk,
        }


def summarize(rows):
    """Counts for a set of rows: by status, by achievement bucket, completeness, at risk.

    completeness (as DHIS2's reporting rate): of the periods that have ended, how many have
    a value — `due`, `entered` and `percent` (None when nothing is due yet).
    """
    tally = Tally()
    for row in rows:
        tally.count(
            row.status,
            row.rate,
            bucket_of(row.rate),
            row.due_count,
            row.entered_due_count,
            bool(row.forecast and row.forecast.at_risk),
        )
    return tally.summary()


def at_risk_rows(rows):
    """The early warning: rows projected to miss their annual target, worst first.

    The overview lists them from stored standings in SQL (indicators.overview), in this
    order; its tests compare the two."""
    risky = [r for r in rows if r.forecast and r.forecast.at_risk]
    return sorted(risky, key=lambda r: (r.forecast.rate is None, r.forecast.rate or ZERO))


@dataclass
class Group:
    key: object  # the PlanDepartment, StrategicGoal or PolicyGoal (or what a callable gave)
    rows: list
    summary: dict


GROUP_KEYS = {
    "department": lambda row: row.department,
    "strategic_goal": lambda row: row.strategic_goal,
    "policy_goal": lambda row: row.policy_goal,
}


def group_by(rows, key):
    """Rows grouped by "department", "strategic_goal", "policy_goal" or a callable(row).

    Groups keep the order in which they first appear (the plan's order); each carries
    its summarize() figures. The overview counts its lines from stored standings
    (indicators.overview); its tests compare them with these groups.
    """
    get = GROUP_KEYS[key] if isinstance(key, str) else key
    groups = defaultdict(list)
    order = []
    for row in rows:
        group_key = get(row)
        ident = (type(group_key), getattr(group_key, "pk", group_key))
        if ident not in groups:
            order.append((ident, group_key))
        groups[ident].append(row)
    return [Group(obj, groups[ident], summarize(groups[ident])) for ident, obj in order]
