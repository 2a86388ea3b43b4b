"""perfplan.xlsx: the one writer of every export, read back with openpyxl and our reader."""

from __future__ import annotations

import datetime
import io
import tempfile
from dataclasses import dataclass
from decimal import Decimal

import openpyxl
import pytest

from perfplan.tabular import read_workbook
from perfplan.xlsx import (
    LINE_HEIGHT,
    NAME_WIDTH,
    Number,
    Table,
    display_width,
    text_lines,
    write_csv,
    write_xlsx,
)


@dataclass(frozen=True)
class Col:
    header: str
    kind: str = "text"
    decimals: int | None = None
    width: int | None = None


# Every test here runs with each library that writes workbooks (conftest.xlsx_engine).
pytestmark = pytest.mark.usefixtures("xlsx_engine")

LONG_NAME = "효율적인 의정지원으로 참여와 자치의 선진 의회상 구현 및 주민 신뢰 제고"


def workbook(*tables):
    return openpyxl.load_workbook(io.BytesIO(write_xlsx(tables)))


def test_east_asian_wide_characters_count_two():
    assert display_width("abc") == 3
    assert display_width("성과계획") == 8
    assert display_width("예산액(백만원)") == 14
    assert display_width("ＡＢ") == 4  # full-width Latin
    assert display_width("○ 목표") == 6  # ○ is ambiguous, not wide: 1 + 1 + 4
    assert text_lines("가" * 20, 21) == 2  # 40 cells of text in a 20-cell column
    assert text_lines("짧다\n둘째 줄", 30) == 2


def test_columns_are_fitted_to_korean_text_and_long_names_wrap():
    columns = [Col("실국명", "name"), Col("전략목표명", "name"), Col("코드")]
    rows = [["보건소", LONG_NAME, "A-1"], ["도시재생추진단", "짧은 목표", "B-22"]]
    sheet = workbook(Table("t", columns, rows, "표"))["표"]
    department, goal, code = (sheet.column_dimensions[c].width for c in "ABC")
    assert department == pytest.approx(display_width("도시재생추진단") + 1, abs=1)
    assert goal == pytest.approx(NAME_WIDTH + 1, abs=1)  # capped: the long name wraps
    assert code < department < goal
    long_cell = sheet["B2"]
    assert long_cell.value == LONG_NAME and long_cell.alignment.wrap_text
    lines = text_lines(LONG_NAME, goal)
    assert lines >= 2 and sheet.row_dimensions[2].height == pytest.approx(
        LINE_HEIGHT * lines + 2, abs=1
    )
    assert sheet.row_dimensions[3].height in (None, 15)  # one line: the default height
    assert sheet["A1"].font.b and sheet["A1"].border.bottom.style == "thin"
    assert sheet["A2"].border.left.style == "thin"


def test_numbers_get_thousands_separators_and_their_columns_decimals():
    columns = [
        Col("예산액", "amount"),
        Col("비중(%)", "share"),
        Col("지표수", "count"),
        Col("목표치", "number"),
        Col("달성률", "number", decimals=1),
        Col("실적", "number"),
    ]
    rows = [
        [Decimal("1234567"), Decimal("0.28"), 7, Decimal("85.5000"), Decimal("90"), 3],
        [
            Decimal("12.500"),
            Decimal("5"),
            12000,
            None,
            Decimal("87.25"),
            Number(Decimal("87"), 1),  # an indicator shown at its precision, cell by cell
        ],
    ]
    sheet = workbook(Table("t", columns, rows, "수치"))["수치"]
    formats = [[c.number_format for c in row] for row in sheet.iter_rows(min_row=2)]
    assert formats[0] == ["#,##0", "#,##0.00", "#,##0", "#,##0.0", "#,##0.0", "#,##0"]
    assert formats[1][:3] == ["#,##0.0", "#,##0.00", "#,##0"]
    assert formats[1][4:] == ["#,##0.0", "#,##0.0"]
    values = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    assert values[0] == [1234567, 0.28, 7, 85.5, 90, 3]
    assert values[1] == [12.5, 5, 12000, None, 87.25, 87]


def test_what_is_written_reads_back_as_shown():
    columns = [Col("이름", "name"), Col("예산액", "amount"), Col("비중", "share")]
    columns.append(Col("실적", "number"))
    rows = [
        ['=HYPERLINK("x")', Decimal("1234.567"), Decimal("0.28"), Number(Decimal("7.25"), 2)],
        ["-사업", Decimal("-2228"), Decimal("99.99"), Number(Decimal("0.5"), 1)],
    ]
    sheet = read_workbook("t.xlsx", write_xlsx([Table("t", columns, rows, "시트")]))[0]
    assert sheet.title == "시트"
    cells = [cells for _number, cells in sheet.rows]
    assert cells[0] == ["이름", "예산액", "비중", "실적"]
    assert [str(c) for c in cells[1]] == ['\'=HYPERLINK("x")', "1234.567", "0.28", "7.25"]
    assert [str(c) for c in cells[2]] == ["'-사업", "-2228", "99.99", "0.5"]
    book = workbook(Table("t", columns, rows, "시트"))
    assert all(c.data_type != "f" for row in book.active.iter_rows() for c in row)


def test_the_page_prints_a4_landscape_one_page_wide_with_title_unit_and_header_rows():
    table = Table(
        "t",
        [Col("실국명", "name"), Col("예산액", "amount")],
        [["보건소", Decimal(1)]],
        "총괄",
        title="가. 총괄 & 요약",
        unit="(단위: 백만원)",
        subtitle="2026년도 성과계획서",
    )
    sheet = workbook(table)["총괄"]
    setup = sheet.page_setup
    assert setup.orientation == "landscape" and setup.paperSize == 9
    assert setup.fitToWidth in (None, 1) and setup.fitToHeight == 0
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet.print_title_rows == "$1:$1" and sheet.freeze_panes == "A2"
    assert sheet.print_options.gridLines  # blank cells are lined too
    assert sheet.oddHeader.center.text == "가. 총괄 && 요약"  # & doubled, as Excel keeps it
    assert sheet.oddHeader.center.size == 13
    assert sheet.oddHeader.right.text == "(단위: 백만원)"
    assert sheet.oddHeader.left.text.strip() == "2026년도 성과계획서"
    assert sheet.oddHeader.left.size == 9  # not 92026: the year is kept out of the size
    assert "&P" in sheet.oddFooter.center.text


def test_streamed_rows_dates_and_a_file_target():
    columns = [Col("순번"), Col("시각", width=16), Col("변경 내용", width=30)]
    moment = datetime.datetime(2026, 3, 1, 9, 30)

    def rows():
        yield [1, moment, "예산액: 100 → 200\n비중: 0.1 → 0.2"]
        yield [2, datetime.date(2026, 3, 2), "@수식 아님"]

    with tempfile.TemporaryFile() as handle:
        assert write_xlsx([Table("log", columns, rows(), "변경이력")], target=handle) is handle
        handle.seek(0)
        sheet = openpyxl.load_workbook(handle)["변경이력"]
    values = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    assert values[0][:2] == [1, moment] and values[0][2].count("\n") == 1
    assert values[1][1] == datetime.datetime(2026, 3, 2) and values[1][2] == "'@수식 아님"
    assert sheet["A2"].number_format == "General"  # an id, not an amount: no separator
    assert sheet["B2"].number_format == "yyyy-mm-dd hh:mm"
    assert sheet.row_dimensions[2].height == pytest.approx(LINE_HEIGHT * 2 + 2, abs=1)
    assert sheet.column_dimensions["C"].width == pytest.approx(31, abs=1)


def test_sheet_names_are_made_valid_and_unique_and_bad_rows_refused():
    tables = [
        Table("a", [Col("x")], [["1"]], "가/나: [목록]*?"),
        Table("b", [Col("x")], [["2"]], "가/나: [목록]*?"),
        Table("c", [Col("x")], [], "이름이 아주 긴 시트 " * 4),
    ]
    names = workbook(*tables).sheetnames
    assert names[0] == "가 나 목록" and names[1] == "가 나 목록 (2)"
    assert len(names[2]) <= 31
    with pytest.raises(ValueError, match="row 1 has 1 cells for 2 columns"):
        write_xlsx([Table("x", [Col("a"), Col("b")], [["only one"]])])


def test_csv_shows_the_same_decimals():
    columns = [Col("예산액", "amount"), Col("비중", "share"), Col("실적", "number")]
    columns.append(Col("달성률", "number", decimals=1))
    rows = [
        [Decimal("1234567"), Decimal("0.28"), Number(Decimal("87"), 1), Decimal("90")],
        [Number(Decimal("1234.5"), 2), None, Decimal("85.5000"), Number(None, 2)],
    ]
    text = write_csv(Table("t", columns, rows)).decode("utf-8-sig").splitlines()
    assert text == [
        "예산액,비중,실적,달성률",
        '"1,234,567",0.28,87.0,90.0',
        '"1,234.50",,85.5,',
    ]
    assert write_csv(Table("t", columns[:1], [[Decimal(1)]]), "cp949").decode("cp949")


def test_a_groups_cells_are_written_on_its_first_row_only_as_the_source_prints_them():
    columns = [Col("실국명", "name"), Col("전략목표명", "name"), Col("예산액", "amount")]
    columns += [Col("정책사업목표명", "name"), Col("성과지표명", "name")]
    rows = [
        ["기획실", "목표 1", Decimal("100"), "정책 1", "지표 a"],
        ["기획실", "목표 1", Decimal("100"), "정책 1", "지표 b"],
        ["기획실", "목표 1", Decimal("100"), "정책 2", "지표 c"],
        ["기획실", "목표 2", Decimal("100"), "정책 1", "지표 d"],  # same budget, new goal
        ["복지국", "목표 2", Decimal("100"), "정책 1", "지표 e"],  # same names, new department
    ]
    table = Table("t", columns, rows, "시트", groups=[(0,), (1, 2), (3,)])
    written = [list(r) for r in workbook(table).active.iter_rows(min_row=2, values_only=True)]
    assert written == [
        ["기획실", "목표 1", 100, "정책 1", "지표 a"],
        [None, None, None, None, "지표 b"],
        [None, None, None, "정책 2", "지표 c"],
        [None, "목표 2", 100, "정책 1", "지표 d"],
        ["복지국", "목표 2", 100, "정책 1", "지표 e"],
    ]
    # the data keep every cell: CSV (for data, not print) repeats them
    assert write_csv(table).decode("utf-8-sig").splitlines()[2] == "기획실,목표 1,100,정책 1,지표 b"
