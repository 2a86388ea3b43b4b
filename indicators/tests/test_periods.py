"""The periods of a plan year: keys, dates, labels, due periods and what people write."""

from datetime import date

import pytest
from django.utils import translation

from indicators.periods import (
    ALL_PERIOD_KEYS,
    PERIOD_KEYS,
    Period,
    due_periods,
    get_period,
    is_period_key,
    keys_for,
    parse_period_key,
    period_choices,
    period_end,
    period_label,
    period_of_key,
    periods_for,
)


@pytest.mark.parametrize(
    "frequency, keys",
    [
        ("monthly", [f"M{m:02d}" for m in range(1, 13)]),
        ("quarterly", ["Q1", "Q2", "Q3", "Q4"]),
        ("half_yearly", ["H1", "H2"]),
        ("yearly", ["Y"]),
        ("", ["Y"]),  # not defined yet: yearly
        (None, ["Y"]),
    ],
)
def test_keys_indexes_and_counts(frequency, keys):
    periods = periods_for(frequency, 2026)
    assert [p.key for p in periods] == keys
    assert [p.index for p in periods] == list(range(1, len(keys) + 1))
    assert {p.count for p in periods} == {len(keys)}
    assert periods[-1].is_last and not (len(periods) > 1 and periods[0].is_last)


@pytest.mark.parametrize("frequency", ["monthly", "quarterly", "half_yearly", "yearly"])
def test_periods_tile_the_year_without_gap_or_overlap(frequency):
    periods = periods_for(frequency, 2028)  # a leap year
    assert periods[0].start == date(2028, 1, 1)
    assert periods[-1].end == date(2028, 12, 31)
    for before, after in zip(periods, periods[1:], strict=False):
        assert (after.start - before.end).days == 1
    assert sum((p.end - p.start).days + 1 for p in periods) == 366


def test_dates_of_single_periods():
    assert (get_period("monthly", 2026, "M02").start, get_period("monthly", 2026, "M02").end) == (
        date(2026, 2, 1),
        date(2026, 2, 28),
    )
    assert get_period("monthly", 2028, "M02").end == date(2028, 2, 29)
    q3 = get_period("quarterly", 2026, "q3")  # case and blanks do not matter
    assert (q3.start, q3.end) == (date(2026, 7, 1), date(2026, 9, 30))
    h2 = get_period("half_yearly", 2026, " H2 ")
    assert (h2.start, h2.end) == (date(2026, 7, 1), date(2026, 12, 31))


def test_labels_follow_the_language():
    q1 = get_period("quarterly", 2026, "Q1")
    m3 = get_period("monthly", 2026, "M03")
    h1, h2 = periods_for("half_yearly", 2026)
    year = get_period("", 2026, "Y")
    with translation.override("en"):
        assert [str(q1.label), str(m3.label), str(h1.label), str(h2.label), str(year.label)] == [
            "Quarter 1",
            "March",
            "First half",
            "Second half",
            "Full year",
        ]
    with translation.override("ko"):
        # the same Period renders in the language of the moment (a lazy label)
        assert str(m3.label) == "3월"


def test_invalid_keys_raise_value_error_naming_the_valid_ones():
    with pytest.raises(ValueError) as caught:
        get_period("quarterly", 2026, "M01")
    with translation.override("en"):
        with pytest.raises(ValueError) as caught:
            get_period("quarterly", 2026, "Q5")
        assert "Q1, Q2, Q3, Q4" in str(caught.value)
    for bad in ("", None, "H3", "Y1"):
        with pytest.raises(ValueError):
            get_period("half_yearly", 2026, bad)
    with pytest.raises(ValueError):
        periods_for("weekly", 2026)


def test_due_periods_are_those_ended_before_today():
    assert due_periods("quarterly", 2026, date(2026, 3, 31)) == []  # Q1 ends today: not yet
    assert [p.key for p in due_periods("quarterly", 2026, date(2026, 4, 1))] == ["Q1"]
    assert [p.key for p in due_periods("monthly", 2026, date(2026, 7, 15))] == [
        "M01",
        "M02",
        "M03",
        "M04",
        "M05",
        "M06",
    ]
    assert due_periods("yearly", 2026, date(2026, 12, 31)) == []
    assert [p.key for p in due_periods("", 2026, date(2027, 1, 1))] == ["Y"]
    assert len(due_periods("half_yearly", 2026, date(2030, 1, 1))) == 2
    assert due_periods("monthly", 2026, date(2025, 12, 31)) == []


def test_a_period_stands_for_its_key():
    q2 = get_period("quarterly", 2026, "Q2")
    assert str(q2) == "Q2" and q2 == "Q2" and q2 != "Q3"
    assert {q2: 1}["Q2"] == 1
    assert q2 == get_period("quarterly", 2026, "Q2")
    assert q2 != get_period("quarterly", 2027, "Q2")  # another year's Q2
    assert isinstance(q2, Period)
    with pytest.raises(AttributeError):
        q2.key = "Q3"  # frozen


def test_period_keys_are_unique_across_frequencies():
    assert len(ALL_PERIOD_KEYS) == len(set(ALL_PERIOD_KEYS)) == 19
    assert set(PERIOD_KEYS) == {"monthly", "quarterly", "half_yearly", "yearly"}
    assert period_of_key(2026, "H2").frequency == "half_yearly"
    with pytest.raises(ValueError):
        period_of_key(2026, "X1")


@pytest.mark.parametrize(
    "text, key",
    [
        ("Q1", "Q1"),
        ("q4", "Q4"),
        ("1분기", "Q1"),
        ("2/4분기", "Q2"),
        ("3 분기", "Q3"),
        ("M03", "M03"),
        ("M3", "M03"),
        ("3월", "M03"),
        ("12월", "M12"),
        ("2026-03", "M03"),
        ("상반기", "H1"),
        ("하반기", "H2"),
        ("H2", "H2"),
        ("1반기", "H1"),
        ("연간", "Y"),
        ("Y", "Y"),
        ("연", "Y"),
        ("년", "Y"),
    ],
)
def test_parse_period_key(text, key):
    assert parse_period_key(text) == key


@pytest.mark.parametrize("text", ["", None, "Q5", "0분기", "13월", "M00", "H3", "3", "봄", "Q1Q2"])
def test_parse_period_key_refuses_what_it_cannot_read(text):
    with pytest.raises(ValueError):
        parse_period_key(text)


# ---------------------------------------------------------------- a key as stored (deadlines, forms)


@pytest.mark.parametrize(
    ("year", "key", "end"),
    [
        (2030, "M01", date(2030, 1, 31)),
        (2030, "M02", date(2030, 2, 28)),
        (2028, "M02", date(2028, 2, 29)),  # leap year
        (2030, "M04", date(2030, 4, 30)),
        (2030, "M12", date(2030, 12, 31)),
        (2030, "Q1", date(2030, 3, 31)),
        (2030, "Q2", date(2030, 6, 30)),
        (2030, "Q3", date(2030, 9, 30)),
        (2030, "Q4", date(2030, 12, 31)),
        (2030, "H1", date(2030, 6, 30)),
        (2030, "H2", date(2030, 12, 31)),
        (2030, "Y", date(2030, 12, 31)),
    ],
)
def test_period_end(year, key, end):
    assert period_end(year, key) == end


@pytest.mark.parametrize("key", ["M00", "M13", "Q5", "H3", "y", "", "2030"])
def test_period_end_refuses_what_is_not_a_period(key):
    with pytest.raises(ValueError):
        period_end(2030, key)


def test_a_stored_key_is_exact():
    assert is_period_key("Q1") and is_period_key("M12") and is_period_key("Y")
    for text in ("q1", " Q1", "M1", "Q5", "", None, "1분기"):
        assert not is_period_key(text)


def test_keys_for_a_frequency():
    assert keys_for("half_yearly") == ("H1", "H2")
    assert keys_for("") == ("Y",)  # not defined yet: yearly
    assert keys_for(None) == ALL_PERIOD_KEYS  # not known yet: every key
    with pytest.raises(ValueError):
        keys_for("weekly")


def test_one_wording_for_labels_of_keys_and_periods():
    with translation.override("ko"):
        assert [period_label(k) for k in ("M01", "Q1", "H1", "H2", "Y")] == [
            "1월",
            "1분기",
            "상반기",
            "하반기",
            "연간",
        ]
        assert period_label("Q3") == str(get_period("quarterly", 2026, "Q3").label)
        assert period_label("X9") == "X9"  # not a key: shown as it is
    with translation.override("en"):
        assert period_label("M03") == "March"
        assert period_choices("quarterly")[1] == ("Q2", "Quarter 2")
        assert [key for key, _label in period_choices()] == list(ALL_PERIOD_KEYS)


def test_what_is_not_a_key_is_refused_with_one_message():
    with translation.override("en"):
        for refuse in (lambda: period_end(2030, "Q9"), lambda: period_of_key(2030, "Q9")):
            with pytest.raises(ValueError) as caught:
                refuse()
            assert str(caught.value) == "“Q9” is not a period: use M01–M12, Q1–Q4, H1, H2 or Y."
