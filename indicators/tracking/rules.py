"""The tracking rules, pure: achievement, year to date, status, forecast and buckets.

Every rule is a plain function of values and an indicator's definition, with no query
(unit-tested in indicators/tests/test_tracking.py); indicators.tracking.rows applies them to
an indicator's results, indicators.tracking.summaries counts the rows.

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
(≥ plan.threshold_caution) or 미흡 behind; 자료 없음 no data when there is no rate yet (nothing
due and nothing entered, or no target to compare with).

Forecast (`forecast`): the projected year-end value from the values entered so far; see
FORECAST_METHOD_TEXT. Values of periods that have not begun yet are not measurements and
are ignored. An indicator is at risk when its projection scores below the achieved
threshold (100 % by default) against the annual target, direction-aware.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils.translation import gettext_lazy as _

from ..models import Aggregation, Direction, LowerIsBetterMethod
from ..periods import PERIOD_KEYS, normalize_frequency, periods_for

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


def rounded(value, places=RATE_PLACES):
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
    return rounded(rate)


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
        return rounded(sum(numbers, ZERO) / len(numbers), VALUE_PLACES)
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
        return rounded(sum(given, ZERO) + annual * missing / upto.count, VALUE_PLACES)
    if aggregation == Aggregation.AVERAGE:
        targets = [period_targets.get(k, annual) for k in keys]
        if any(t is None for t in targets):
            return None
        if not period_targets:
            return annual
        return rounded(sum(targets, ZERO) / len(targets), VALUE_PLACES)
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
        return rounded(annual / period.count, VALUE_PLACES)
    return annual


def ytd_range(indicator, upto):
    """A range indicator's bounds up to `upto`: pro rata for a running total."""
    low, high = _dec(indicator.target_min), _dec(indicator.target_max)
    if upto is None or aggregation_of(indicator) != Aggregation.SUM:
        return low, high

    def share(bound):
        return None if bound is None else rounded(bound * upto.index / upto.count, VALUE_PLACES)

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
    projected = rounded(projected)
    rate = indicator_rate(
        indicator,
        indicator.annual_target,
        projected,
        target_min=indicator.target_min,
        target_max=indicator.target_max,
    )
    at_risk = rate is not None and rate < _dec(threshold)
    return Forecast(projected, at_risk, aggregation, rate, len(entered))


# ---------------------------------------------------------------- achievement buckets


def bucket_of(rate):
    """The BUCKETS key of an achievement rate (None for no rate)."""
    if rate is None:
        return None
    for key, _label, low, below in BUCKETS:
        if (low is None or rate >= low) and (below is None or rate < below):
            return key
    return None  # pragma: no cover - the buckets cover every number
