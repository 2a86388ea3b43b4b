from decimal import Decimal

import pytest

from perfplan.numbers import (
    NumberFormatError,
    format_amount,
    json_number,
    parse_count,
    parse_number,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1,234", Decimal("1234")),
        ("-2,228", Decimal("-2228")),
        ("△2,228", Decimal("-2228")),
        ("▲2,228", Decimal("-2228")),
        ("(2,228)", Decimal("-2228")),
        (" 0.28 ", Decimal("0.28")),
        ("76.97%", Decimal("76.97")),
        ("448,151", Decimal("448151")),
        ("0", Decimal("0")),
        ("1234567", Decimal("1234567")),
        ("+12", Decimal("12")),
        (12, Decimal("12")),
        (0.28, Decimal("0.28")),
        (Decimal("5.09"), Decimal("5.09")),
    ],
)
def test_korean_number_formats(text, expected):
    assert parse_number(text) == expected


@pytest.mark.parametrize("text", ["", "   ", None])
def test_empty_is_none_not_zero(text):
    assert parse_number(text) is None


@pytest.mark.parametrize(
    "text", ["12a4", "1,23", "1.2.3", "abc", "--5", "1 234", "백만원", "1,2345", "%", "(12", "△"]
)
def test_anything_else_is_refused(text):
    with pytest.raises(NumberFormatError):
        parse_number(text)


def test_counts_are_whole_and_not_negative():
    assert parse_count("18") == 18
    for bad in ("1.5", "-1", "△3"):
        with pytest.raises(NumberFormatError):
            parse_count(bad)


def test_amount_format_has_thousands_separators():
    assert format_amount(Decimal("448151")) == "448,151"
    assert format_amount(Decimal("-2228.000")) == "-2,228"
    assert format_amount(Decimal("1234.5")) == "1,234.5"
    assert format_amount(None) == ""


def test_json_numbers():
    assert json_number(Decimal("948.000")) == 948
    assert isinstance(json_number(Decimal("948.000")), int)
    assert json_number(Decimal("0.28")) == 0.28
    assert json_number(None) is None
