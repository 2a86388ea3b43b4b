"""The periods of a plan year: what an indicator's measurement frequency divides the year into.

Keys are stable strings stored on results and period targets: "M01".."M12" (monthly),
"Q1".."Q4" (quarterly), "H1", "H2" (half-yearly) and "Y" (yearly). A blank frequency is read
as yearly. A `Period` stands for its key: ``str(period)`` is the key and a period compares
equal to it, so it may be passed wherever a key is expected (a queryset filter, a dict key).
"""

from __future__ import annotations

import calendar
import functools
import re
from dataclasses import dataclass, field
from datetime import date

from django.utils.dates import MONTHS
from django.utils.functional import lazy
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from .models import Frequency

PERIOD_KEYS = {
    Frequency.MONTHLY: tuple(f"M{m:02d}" for m in range(1, 13)),
    Frequency.QUARTERLY: ("Q1", "Q2", "Q3", "Q4"),
    Frequency.HALF_YEARLY: ("H1", "H2"),
    Frequency.YEARLY: ("Y",),
}
ALL_PERIOD_KEYS = tuple(key for keys in PERIOD_KEYS.values() for key in keys)
FREQUENCY_OF_KEY = {key: frequency for frequency, keys in PERIOD_KEYS.items() for key in keys}
DEFAULT_FREQUENCY = Frequency.YEARLY

_HALF_LABELS = {1: _("First half"), 2: _("Second half")}


def _label_text(frequency, index):
    # Evaluated when rendered, so that one Period shows in the language of each request;
    # a grid shows hundreds of labels: each translated once per language.
    return _label_in(get_language(), frequency, index)


@functools.lru_cache(maxsize=128)
def _label_in(language, frequency, index):
    if frequency == Frequency.MONTHLY:
        return str(MONTHS[index])  # Django's own catalogue: "March" / "3월"
    if frequency == Frequency.QUARTERLY:
        return gettext("Quarter %(n)s") % {"n": index}
    if frequency == Frequency.HALF_YEARLY:
        return str(_HALF_LABELS[index])
    return gettext("Full year")


_lazy_label = lazy(_label_text, str)


@dataclass(frozen=True, eq=False)
class Period:
    key: str
    index: int  # 1-based position within the year
    count: int  # how many periods the frequency makes
    label: str = field(repr=False)  # lazy: "1분기" / "Quarter 1"
    start: date = None
    end: date = None

    @property
    def frequency(self):
        return FREQUENCY_OF_KEY[self.key]

    @property
    def is_last(self):
        return self.index == self.count

    def __str__(self):
        return self.key

    def __eq__(self, other):
        if isinstance(other, Period):
            return (self.key, self.start) == (other.key, other.start)
        if isinstance(other, str):
            return self.key == other
        return NotImplemented

    def __hash__(self):
        return hash(self.key)


def normalize_frequency(frequency):
    """The frequency as one of Frequency's values; blank (not yet defined) is yearly."""
    if not frequency:
        return DEFAULT_FREQUENCY
    if frequency not in PERIOD_KEYS:
        raise ValueError(
            gettext("unknown measurement frequency %(frequency)s") % {"frequency": frequency}
        )
    return Frequency(frequency)


def _bounds(frequency, year, index):
    months = 12 // len(PERIOD_KEYS[frequency])
    first_month = (index - 1) * months + 1
    last_month = first_month + months - 1
    return date(year, first_month, 1), date(
        year, last_month, calendar.monthrange(year, last_month)[1]
    )


def periods_for(frequency, year):
    """Every period of `year` for `frequency`, in order (a new list; the periods are shared)."""
    return list(_periods(normalize_frequency(frequency), year))


@functools.lru_cache(maxsize=256)
def _periods(frequency, year):
    keys = PERIOD_KEYS[frequency]
    periods = []
    for index, key in enumerate(keys, start=1):
        start, end = _bounds(frequency, year, index)
        periods.append(Period(key, index, len(keys), _lazy_label(frequency, index), start, end))
    return tuple(periods)


def get_period(frequency, year, key):
    """The period `key` of `year` for `frequency`; ValueError (Korean message) if it has none."""
    frequency = normalize_frequency(frequency)
    key = str(key or "").strip().upper()
    for period in _periods(frequency, year):
        if period.key == key:
            return period
    raise ValueError(
        gettext("%(key)s is not a period of a %(frequency)s indicator; its periods are %(keys)s")
        % {
            "key": key or '""',
            "frequency": Frequency(frequency).label,
            "keys": ", ".join(PERIOD_KEYS[frequency]),
        }
    )


def period_of_key(year, key):
    """The period a key names whatever the frequency (keys are unique across frequencies)."""
    key = str(key or "").strip().upper()
    check_period_key(key)
    return get_period(FREQUENCY_OF_KEY[key], year, key)


# ---------------------------------------------------------------- a key as stored


def is_period_key(key):
    """Whether `key` is a period key exactly as stored on a result ("Q1", not "q1")."""
    return key in FREQUENCY_OF_KEY


def check_period_key(key):
    """Refuse what is not a stored period key (ValueError, Korean message)."""
    if not is_period_key(key):
        raise ValueError(
            gettext("“%(key)s” is not a period: use M01–M12, Q1–Q4, H1, H2 or Y.")
            % {"key": key or ""}
        )


def keys_for(frequency):
    """The period keys of a measurement frequency (blank: yearly); None — not known yet, as
    on an empty form — gives every key."""
    if frequency is None:
        return ALL_PERIOD_KEYS
    return PERIOD_KEYS[normalize_frequency(frequency)]


def period_label(key):
    """How a person reads a stored key, in the current language: 3월, 2분기, 상반기, 연간;
    what is not a key is shown as it is."""
    if not is_period_key(key):
        return key
    frequency = FREQUENCY_OF_KEY[key]
    return _label_text(frequency, PERIOD_KEYS[frequency].index(key) + 1)


def period_choices(frequency=None):
    """Form choices for the periods of `frequency`: ("Q2", "2분기"); people read the label,
    the key stays in the form's value."""
    return [(key, period_label(key)) for key in keys_for(frequency)]


def period_end(year, key) -> date:
    """The last day of period `key` in fiscal year `year` (M03 → 31 March)."""
    check_period_key(key)
    return get_period(FREQUENCY_OF_KEY[key], year, key).end


def due_periods(frequency, year, today):
    """The periods that have ended before `today`: their results are due."""
    return [p for p in periods_for(frequency, year) if p.end < today]


# ---------------------------------------------------------------- reading a period written by hand

_KOREAN_HALVES = {"상반기": "H1", "전반기": "H1", "하반기": "H2", "후반기": "H2"}
_YEAR_WORDS = {"Y", "연", "연간", "년", "년간", "연도", "YEAR", "ANNUAL", "FULLYEAR", "FY"}
_PATTERNS = (
    (re.compile(r"^M(\d{1,2})$"), "M"),
    (re.compile(r"^(\d{1,2})월$"), "M"),
    (re.compile(r"^\d{4}[-./](\d{1,2})$"), "M"),
    (re.compile(r"^Q(\d)$"), "Q"),
    (re.compile(r"^(\d)분기$"), "Q"),
    (re.compile(r"^(\d)/4분기$"), "Q"),
    (re.compile(r"^(\d)Q$"), "Q"),
    (re.compile(r"^H(\d)$"), "H"),
    (re.compile(r"^(\d)반기$"), "H"),
    (re.compile(r"^(\d)H$"), "H"),
)
_LIMITS = {"M": 12, "Q": 4, "H": 2}


def parse_period_key(text):
    """A period key from what people write: Q1, 1분기, 1/4분기, M03, 3월, 상반기, H2, 연간, Y…

    Returns the key, or raises ValueError with a Korean message.
    """
    raw = str(text if text is not None else "").strip()
    norm = re.sub(r"\s", "", raw).upper()
    if norm in _KOREAN_HALVES:
        return _KOREAN_HALVES[norm]
    if norm in _YEAR_WORDS:
        return "Y"
    for pattern, prefix in _PATTERNS:
        match = pattern.match(norm)
        if match:
            number = int(match.group(1))
            if 1 <= number <= _LIMITS[prefix]:
                return f"M{number:02d}" if prefix == "M" else f"{prefix}{number}"
            break
    raise ValueError(
        gettext(
            "not a period: write Q1–Q4 (1분기–4분기), M01–M12 (1월–12월), H1/H2 (상반기/하반기) "
            "or Y (연간)"
        )
    )
