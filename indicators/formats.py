"""Indicator figures as Korean documents print them: values, rates, times and targets."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone

from perfplan.numbers import format_amount, format_share

from .models import Direction

# Units whose figures carry decimals even when the targets are whole (a rate of 87.5 %).
UNIT_DECIMALS = {"%": 1, "％": 1, "퍼센트": 1, "점": 1}
MAX_DECIMALS = 4  # what the database keeps (decimal_places=4)


def _decimals_of(value):
    if value is None:
        return 0
    exponent = Decimal(value).normalize().as_tuple().exponent
    return min(MAX_DECIMALS, max(0, -exponent)) if isinstance(exponent, int) else 0


def indicator_decimals(indicator):
    """How many decimals an indicator's figures are shown with, everywhere (grid, indicator
    page, overview, exports): as many as its annual target, target range and baseline are
    written with, and at least its unit's (UNIT_DECIMALS; other units count whole things)."""
    figures = [
        getattr(indicator, name, None)
        for name in ("annual_target", "target_min", "target_max", "baseline")
    ]
    unit = (getattr(indicator, "unit", "") or "").strip()
    return max([UNIT_DECIMALS.get(unit, 0), *(_decimals_of(v) for v in figures)])


def at_precision(value, decimals):
    """`value` rounded half up to `decimals` (a Decimal for exports; None stays None)."""
    if value is None:
        return None
    rounded = Decimal(value).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    return rounded + 0  # -0 reads as 0


def fmt_value(value, decimals=None):
    """An indicator value as Korean documents print it: 1,234 or 12.5; blank when missing.
    With `decimals` (indicator_decimals) it is rounded to them and shows them all (87.0)."""
    if value is None:
        return ""
    if decimals is None:
        return format_amount(Decimal(value).normalize())
    return f"{at_precision(value, decimals):,.{decimals}f}"


def fmt_figure(indicator, value):
    """An indicator's figure (target, cumulative target, projection) at its precision."""
    return fmt_value(value, indicator_decimals(indicator))


def entered_decimals(indicator, value):
    """An entered actual keeps its own decimals (nothing typed is hidden), and shows at least
    the indicator's: 221.0000 → 221, 87.5 → 87.5, 90 at one decimal → 90.0."""
    return max(indicator_decimals(indicator), _decimals_of(value))


def fmt_entered(indicator, value):
    """An entered actual as shown outside its input (see entered_decimals)."""
    return fmt_value(value, entered_decimals(indicator, value))


def fmt_rate(rate):
    return "" if rate is None else f"{format_share(rate)}%"


def fmt_time(moment):
    if moment is None:
        return ""
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def fmt_target(row):
    if row.indicator.direction == Direction.RANGE and (
        row.ytd_target_min is not None or row.ytd_target_max is not None
    ):
        low, high = row.ytd_target_min, row.ytd_target_max
        return f"{fmt_figure(row.indicator, low)}–{fmt_figure(row.indicator, high)}"
    return fmt_figure(row.indicator, row.ytd_target)


def annual_target_text(indicator):
    if indicator.direction == Direction.RANGE and (
        indicator.target_min is not None or indicator.target_max is not None
    ):
        low, high = indicator.target_min, indicator.target_max
        return f"{fmt_figure(indicator, low)}–{fmt_figure(indicator, high)}"
    return fmt_figure(indicator, indicator.annual_target)
