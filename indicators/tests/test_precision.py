"""Numbers at the indicator's precision (issue 13, item 5): its targets' decimals, at least
its unit's, on the grid, the indicator page, the overview and the exports — one function
(indicators.formats.indicator_decimals) decides."""

from __future__ import annotations

import io
from decimal import Decimal
from types import SimpleNamespace

import openpyxl
import pytest
from django.urls import reverse

from indicators.formats import at_precision, fmt_entered, fmt_figure, indicator_decimals
from indicators.models import Indicator
from perfplan import roles

from .support import enter, indicators_of, korean, make_user

pytestmark = pytest.mark.django_db


def thing(**fields):
    base = {"annual_target": None, "target_min": None, "target_max": None, "baseline": None}
    return SimpleNamespace(**{**base, "unit": "", **fields})


@pytest.mark.parametrize(
    ("fields", "decimals"),
    [
        ({"annual_target": Decimal("2218.0000"), "unit": "건"}, 0),
        ({"annual_target": Decimal("85.5000"), "unit": "명"}, 1),
        ({"annual_target": Decimal("90"), "unit": "%"}, 1),
        ({"annual_target": Decimal("90"), "baseline": Decimal("88.25"), "unit": "%"}, 2),
        ({"target_min": Decimal("1.5"), "target_max": Decimal("3.125")}, 3),
        ({"unit": "회"}, 0),
    ],
)
def test_the_decimals_come_from_the_targets_and_the_unit(fields, decimals):
    assert indicator_decimals(thing(**fields)) == decimals


def test_figures_are_rounded_half_up_with_thousands_separators():
    whole = thing(annual_target=Decimal("2218"), unit="건")
    assert fmt_figure(whole, Decimal("1109.1667")) == "1,109"
    assert fmt_figure(whole, Decimal("184.5000")) == "185"
    assert fmt_figure(whole, Decimal("221.0000")) == "221"
    assert fmt_figure(whole, Decimal("-0.4")) == "0"
    assert fmt_figure(whole, None) == ""
    rate = thing(annual_target=Decimal("85.5"), unit="%")
    assert fmt_figure(rate, Decimal("90")) == "90.0"
    assert at_precision(Decimal("1109.1667"), 0) == Decimal("1109")
    # What was typed is never hidden: an actual keeps its own decimals, at least the indicator's.
    assert fmt_entered(whole, Decimal("221.0000")) == "221"
    assert fmt_entered(whole, Decimal("87.5000")) == "87.5"
    assert fmt_entered(rate, Decimal("90")) == "90.0"


@pytest.fixture
def odd_targets(plan, depts):
    """Quarterly running totals of 건 with an annual target of 4,437: the pro rata year-to-date
    target (1,109.25) and every actual print as whole numbers."""
    first, second = indicators_of(plan, depts[0])
    Indicator.objects.filter(pk__in=[first.pk, second.pk]).update(
        annual_target=Decimal("4437"), unit="건"
    )
    first.refresh_from_db()
    return first


def test_pages_and_exports_show_the_indicators_precision(
    client, odd_targets, depts, django_user_model
):
    officer = make_user(django_user_model, "officer", roles.OFFICER, [depts[0]])
    enter(officer, odd_targets, "Q1", value=Decimal("221.0000"))
    client.force_login(officer)
    page = client.get(reverse("tracking:indicator", args=[odd_targets.pk])).content.decode()
    assert "1,109" in page  # the cumulative target of Q1
    assert "1,109.25" not in page and "221.0000" not in page and "4,437.0000" not in page
    grid = client.get(reverse("tracking:my_department")).content.decode()
    assert "1,109.25" not in grid and "4,437" in grid
    export = client.get(reverse("tracking:my_department_export") + "?format=xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(export.content)).active
    header = [cell.value for cell in sheet[1]]
    line = next(
        row for row in sheet.iter_rows(min_row=2, values_only=True) if odd_targets.name in row
    )
    figures = dict(zip(header, line, strict=True))
    assert figures[korean("year-to-date target")] == 1109
    assert figures[korean("annual target")] == 4437
    assert figures[korean("year-to-date actual")] == 221
