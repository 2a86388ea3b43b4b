"""Indicator figures as Korean documents print them: values, rates, times and targets."""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone

from perfplan.numbers import format_amount, format_share

from .models import Direction


def fmt_value(value):
    """An indicator value as Korean documents print it: 1,234 or 12.5; blank when missing."""
    if value is None:
        return ""
    return format_amount(Decimal(value).normalize())


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
        return f"{fmt_value(row.ytd_target_min)}–{fmt_value(row.ytd_target_max)}"
    return fmt_value(row.ytd_target)


def annual_target_text(indicator):
    if indicator.direction == Direction.RANGE and (
        indicator.target_min is not None or indicator.target_max is not None
    ):
        return f"{fmt_value(indicator.target_min)}–{fmt_value(indicator.target_max)}"
    return fmt_value(indicator.annual_target)
