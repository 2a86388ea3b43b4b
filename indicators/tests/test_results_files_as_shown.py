"""Results files made by hand: a percent-formatted actual is the percentage it shows, a
formula never calculated or a column given twice is refused, hidden rows are listed."""

import io
from decimal import Decimal

import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone

from goals.tests.factories import make_plan
from indicators.results_import import read_results_files
from perfplan.tabular import TableReadError

pytestmark = pytest.mark.django_db

HEADER = ["실국명", "성과지표명", "기간", "실적", "비고"]


def xlsx(rows, header=HEADER, edit=None):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "실적"
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    if edit:
        edit(sheet)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_an_actual_typed_as_a_percentage_is_the_percentage_it_shows():
    def percent(sheet):
        sheet["D2"].number_format = "0%"
        sheet["D3"].number_format = "0.0%"

    data = xlsx(
        [["부서000", "지표 a", "Q1", 0.85, ""], ["부서000", "지표 b", "Q1", 0.123, ""]],
        edit=percent,
    )
    rows, errors = read_results_files([("results.xlsx", data)])
    assert not errors
    assert [r.value for r in rows] == [Decimal("85"), Decimal("12.3")]


def test_an_actual_is_read_at_the_precision_it_is_stored_with():
    data = xlsx([["부서000", "지표 a", "Q1", 1.234567, ""]])
    rows, _errors = read_results_files([("results.xlsx", data)])
    assert rows[0].value == Decimal("1.2346")


def test_a_formula_without_a_stored_result_is_refused():
    data = xlsx([["부서000", "지표 a", "Q1", "=1+1", ""]])
    with pytest.raises(TableReadError) as caught:
        read_results_files([("results.xlsx", data)])
    [error] = caught.value.errors
    assert (error.file, error.sheet, error.value) == ("results.xlsx", "실적", "D2")


def test_a_column_given_twice_is_refused_and_hidden_rows_are_listed():
    with pytest.raises(TableReadError) as caught:
        read_results_files([("results.xlsx", xlsx([], HEADER + ["실적치"]))])
    assert [(e.row, e.column) for e in caught.value.errors] == [(1, "실적치")]

    def hide(sheet):
        sheet.row_dimensions[3].hidden = True

    warnings = []
    data = xlsx([["부서000", "지표 a", "Q1", 1, ""], ["부서000", "지표 b", "Q1", 2, ""]], edit=hide)
    rows, _errors = read_results_files([("results.xlsx", data)], warnings=warnings)
    assert len(rows) == 2
    assert len(warnings) == 1 and "3" in warnings[0]


def test_the_preview_lists_hidden_rows_and_columns(admin_client):
    plan = make_plan(timezone.localdate().year, departments=1, goals=1, policy_goals=1)

    def hide(sheet):
        sheet.row_dimensions[3].hidden = True
        sheet.column_dimensions["E"].hidden = True

    rows = [["부서000", "지표 0-0-0-0", "연간", 1, ""], ["부서000", "지표 0-0-0-1", "연간", 2, ""]]
    upload = io.BytesIO(xlsx(rows, edit=hide))
    upload.name = "results.xlsx"
    response = admin_client.post(
        reverse("results:import"), {"fiscal_year": plan.fiscal_year, "file": upload}
    )
    assert response.status_code == 200
    warnings = response.context["read_warnings"]
    assert any("3" in w for w in warnings) and any("E" in w for w in warnings), warnings
    page = response.content.decode()
    assert 'id="import-warnings"' in page and 'id="confirm-import"' in page


def test_results_saved_as_utf16_text_read_like_csv():
    # Excel's "유니코드 텍스트": UTF-16 with its BOM, tab-separated, numbers as shown.
    lines = [
        "\t".join(HEADER),
        "부서000\t지표 a\t1분기\t85%\t",
        "부서000\t지표 b\t1분기\t1,234\t메모",
    ]
    data = "\r\n".join(lines).encode("utf-16")
    rows, errors = read_results_files([("실적.txt", data)])
    assert not errors
    assert [(r.indicator, r.period_key, r.value, r.note) for r in rows] == [
        ("지표 a", "Q1", Decimal("85"), ""),
        ("지표 b", "Q1", Decimal("1234"), "메모"),
    ]
