"""Numbers as Korean public documents print them."""

import re
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

_NEGATIVE_MARKS = ("△", "▲", "-", "−", "–")
_NUMBER = re.compile(r"^\d{1,3}(,\d{3})+(\.\d+)?$|^\d+(\.\d+)?$|^\.\d+$")


class NumberFormatError(ValueError):
    pass


def parse_number(value, *, allow_percent=True):
    """Read `1,234`, `-2,228`, `△2,228`, `▲2,228`, `(2,228)`, ` 0.28 `, `76.97%` exactly.

    Returns a Decimal, or None for an empty cell. Anything else raises NumberFormatError
    with a Korean message; nothing is ever read as 0 by accident.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise NumberFormatError(_("not a number"))
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        # xlsx stores numbers as binary floats; their shortest repr is what the user typed.
        return Decimal(repr(value)).normalize() if value == value else None
    if isinstance(value, Decimal):
        return value
    text = str(value).replace("\u00a0", " ").strip()
    if not text:
        return None
    negative = False
    if text.startswith("(") and text.endswith(")"):
        negative, text = True, text[1:-1].strip()
    elif text[0] in _NEGATIVE_MARKS:
        negative, text = True, text[1:].strip()
    elif text[0] == "+":
        text = text[1:].strip()
    if allow_percent and text.endswith("%"):
        text = text[:-1].strip()
    if not _NUMBER.match(text):
        raise NumberFormatError(
            _("not a number as Korean documents write them (e.g. 1,234 or △1,234 or 76.97%)")
        )
    try:
        number = Decimal(text.replace(",", ""))
    except InvalidOperation as exc:  # pragma: no cover - the pattern already guards this
        raise NumberFormatError(_("not a number")) from exc
    return -number if negative else number


def parse_count(value):
    """A whole, non-negative count (table 가's 전략목표수, 지표수, …)."""
    number = parse_number(value, allow_percent=False)
    if number is None:
        return None
    if number != number.to_integral_value() or number < 0:
        raise NumberFormatError(_("a count must be a whole number of 0 or more"))
    return int(number)


def format_amount(value):
    """백만원 with thousands separators, negatives with a minus sign: 1,234 / -2,228 / 0.5."""
    if value is None:
        return ""
    value = Decimal(value)
    if value == value.to_integral_value():
        return f"{int(value):,}"
    text = f"{value.normalize():,f}"
    return text


def format_share(value):
    if value is None:
        return ""
    return f"{Decimal(value):.2f}"


def json_number(value):
    """A Decimal as a JSON number: integral values as int, others as float."""
    if value is None:
        return None
    value = Decimal(value)
    if value == value.to_integral_value():
        return int(value)
    return float(value)
