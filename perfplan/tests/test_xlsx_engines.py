"""The two libraries that write workbooks (perfplan.xlsx.xlsx_engine) give the same workbook.

libxlsxwriter (C, through perfplan.libxlsxwriter) is used where installed, XlsxWriter
otherwise: the same tables written by each must hold the same cells, formats, widths,
heights and print setup, read back with openpyxl. Skipped without libxlsxwriter, failed in
CI (PERFPLAN_REQUIRE_LIBXLSXWRITER=1).
"""

from __future__ import annotations

import datetime
import io
import os
from decimal import Decimal

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from perfplan import libxlsxwriter
from perfplan.tests.test_xlsx_writer import LONG_NAME, Col
from perfplan.xlsx import Number, Table, write_xlsx, xlsx_engine


@pytest.fixture
def library():
    found = libxlsxwriter.load()
    if found is None:
        reason = "libxlsxwriter is not installed (Debian: libxlsxwriter4)"
        if os.environ.get("PERFPLAN_REQUIRE_LIBXLSXWRITER") == "1":
            pytest.fail(f"{reason} (PERFPLAN_REQUIRE_LIBXLSXWRITER=1: it must be)")
        pytest.skip(reason)
    return found


def tables():
    """Tables with every kind of cell the exports write."""
    moment = datetime.datetime(2026, 3, 1, 9, 30, 15, 500000)
    plan = Table(
        "hierarchy",
        [
            Col("실국명", "name"),
            Col("전략목표명", "name"),
            Col("예산액(백만원)", "amount"),
            Col("비중", "share"),
            Col("성과지표명", "name"),
            Col("목표치", "number"),
            Col("건수", "count"),
            Col("단위"),
            Col("비고", "text"),
        ],
        [
            [
                "기획예산실",
                LONG_NAME,
                Decimal("357767"),
                Decimal("0.28"),
                "지표 가",
                Decimal("95.5"),
                3,
                "%",
                "=SUM(A1)",
            ],
            [
                "기획예산실",
                LONG_NAME,
                Decimal("357767"),
                Decimal("0.28"),
                "지표 나",
                Decimal("1.125"),
                0,
                "건",
                "+82 이어짐",
            ],
            [
                "보건소 & 복지",
                "둘째 목표\n두 줄",
                Decimal("-12.5"),
                Decimal("73.49"),
                "지표 다",
                Number(Decimal("7"), 2),
                None,
                "",
                "@멘션",
            ],
            [
                "보건소 & 복지",
                "셋째",
                Decimal("0"),
                Decimal("0"),
                "제어\x01문자\t탭",
                12345678.125,
                7,
                "명",
                "긴 " * 20000,
            ],
            [
                "행정\x00지원과",
                "넷째",
                Decimal("1E+3"),
                Decimal("100"),
                "참 거짓",
                True,
                False,
                '<xml> & "따옴표"',
                "_x0041_ 그대로",
            ],
        ],
        "나. 성과지표: [목록]*?",
        title="나. 전략목표·정책사업목표·성과지표 & 예산",
        unit="(단위: 백만원)",
        subtitle="2026년도 성과계획서",
        groups=[(0,), (1, 2, 3)],
    )

    def log_rows():
        yield [1, moment, "예산액: 100 → 200\n비중: 0.1 → 0.2"]
        yield [2, datetime.date(2026, 3, 2), "-음수처럼"]
        yield [3, None, ""]

    log = Table(
        "log",
        [Col("순번"), Col("시각", width=16), Col("변경 내용", width=30)],
        log_rows(),
        "변경이력",
        title="변경 이력",
    )
    empty = Table("empty", [Col("없음")], [], "빈 표")
    return [plan, log, empty]


def _cell(cell):
    font, alignment, border, fill = cell.font, cell.alignment, cell.border, cell.fill
    return (
        cell.coordinate,
        cell.value,
        cell.data_type,
        cell.number_format,
        bool(font.b),
        font.sz,
        alignment.horizontal,
        alignment.vertical,
        bool(alignment.wrap_text),
        border.left.style,
        border.top.style,
        fill.fgColor.rgb if fill.fill_type else None,
    )


def _widths(sheet):
    """Each column's width (XlsxWriter writes neighbours of one width as one range)."""
    widths = {}
    for dimension in sheet.column_dimensions.values():
        if dimension.width:
            for index in range(dimension.min, dimension.max + 1):
                widths[index] = round(dimension.width, 2)
    return widths


def _heights(sheet):
    """Each row's height to the pixel (XlsxWriter rounds 29 points to 39 pixels, 29.25)."""
    return {k: round(v.height * 4 / 3) for k, v in sheet.row_dimensions.items() if v.height}


def _sheet(sheet):
    setup, options, margins = sheet.page_setup, sheet.print_options, sheet.page_margins
    return {
        "cells": [[_cell(c) for c in row] for row in sheet.iter_rows()],
        "widths": _widths(sheet),
        "heights": _heights(sheet),
        "freeze": sheet.freeze_panes,
        "titles": sheet.print_title_rows,
        "area": sheet.print_area,
        "setup": (setup.orientation, str(setup.paperSize), setup.fitToWidth, setup.fitToHeight),
        "fit": sheet.sheet_properties.pageSetUpPr.fitToPage,
        "options": (bool(options.gridLines), bool(options.horizontalCentered)),
        "margins": (
            margins.left,
            margins.right,
            margins.top,
            margins.bottom,
            margins.header,
            margins.footer,
        ),
        "header": [
            (p.text, p.size, p.font)
            for p in (sheet.oddHeader.left, sheet.oddHeader.center, sheet.oddHeader.right)
        ],
        "footer": sheet.oddFooter.center.text,
    }


def written_by(engine, settings):
    settings.PERFPLAN_XLSX_ENGINE = engine
    assert xlsx_engine() == engine
    book = openpyxl.load_workbook(io.BytesIO(write_xlsx(tables())))
    return book.sheetnames, {name: _sheet(book[name]) for name in book.sheetnames}


def test_both_libraries_write_the_same_workbook(library, settings):
    names, sheets = written_by("libxlsxwriter", settings)
    expected_names, expected = written_by("xlsxwriter", settings)
    assert names == expected_names == ["나. 성과지표 목록", "변경이력", "빈 표"]
    for name in names:
        for key in expected[name]:
            assert sheets[name][key] == expected[name][key], (name, key)


def test_what_libxlsxwriter_writes(library, settings):
    """The facts checked on their own, so that the comparison cannot pass by both being wrong."""
    settings.PERFPLAN_XLSX_ENGINE = "libxlsxwriter"
    content = write_xlsx(tables())
    book = openpyxl.load_workbook(io.BytesIO(content))
    sheet = book["나. 성과지표 목록"]
    # the values as Excel shows them (openpyxl leaves the format's escapes as they are)
    rows = CalamineWorkbook.from_filelike(io.BytesIO(content)).get_sheet_by_index(0).to_python()
    assert rows[1][:5] == ["기획예산실", LONG_NAME, 357767, 0.28, "지표 가"]
    assert rows[2][:4] == ["", "", "", ""]  # the group's cells on its first row only
    assert rows[1][8] == "'=SUM(A1)" and rows[3][8] == "'@멘션"  # never a formula
    assert rows[4][4] == "제어\x01문자\t탭" and rows[4][8] == ("긴 " * 20000)[:32767]
    assert rows[5][5] is True and rows[5][6] is False
    assert rows[5][7] == '<xml> & "따옴표"'
    # text that looks like the format's own escape is kept as text (Excel would show "A")
    assert (
        CalamineWorkbook.from_filelike(io.BytesIO(content)).get_sheet_by_index(0).to_python()[5][8]
        == "_x0041_ 그대로"
    )
    assert sheet["C2"].number_format == "#,##0" and sheet["D2"].number_format == "#,##0.00"
    assert sheet["F3"].number_format == "#,##0.000" and sheet["F4"].number_format == "#,##0.00"
    assert sheet["A1"].font.b and sheet["A1"].fill.fgColor.rgb.endswith("F2F2F2")
    assert sheet.row_dimensions[2].height > 15  # the long name wraps
    assert sheet.print_title_rows == "$1:$1" and sheet.freeze_panes == "A2"
    assert sheet.page_setup.orientation == "landscape" and sheet.page_setup.paperSize == 9
    assert sheet.oddHeader.center.text == "나. 전략목표·정책사업목표·성과지표 && 예산"
    log = book["변경이력"]
    assert log["B2"].value == datetime.datetime(2026, 3, 1, 9, 30, 15, 500000)
    assert log["B2"].number_format == "yyyy-mm-dd hh:mm"
    assert log["B3"].value == datetime.datetime(2026, 3, 2) and log["C3"].value == "'-음수처럼"
    assert book["빈 표"]["A1"].value == "없음" and book["빈 표"].max_row == 1


def test_a_library_named_but_missing_is_an_error_and_auto_falls_back(settings, monkeypatch):
    monkeypatch.setattr(libxlsxwriter, "load", lambda path="": None)
    settings.PERFPLAN_XLSX_ENGINE = "auto"
    assert xlsx_engine() == "xlsxwriter"
    settings.PERFPLAN_XLSX_ENGINE = "libxlsxwriter"
    with pytest.raises(RuntimeError, match="not installed"):
        xlsx_engine()
    settings.PERFPLAN_XLSX_ENGINE = "calc"
    with pytest.raises(ValueError, match="unknown engine"):
        xlsx_engine()


def test_a_wrong_library_path_is_not_loaded(tmp_path):
    fake = tmp_path / "libxlsxwriter.so"
    fake.write_bytes(b"not a library")
    assert libxlsxwriter.load(str(fake)) is None


def test_a_format_property_it_does_not_know_is_refused(library, tmp_path):
    book = libxlsxwriter.Workbook(library, tmp_path / "x.xlsx")
    try:
        with pytest.raises(ValueError, match="italic"):
            book.add_format({"italic": True})
    finally:
        book.close()
    assert (tmp_path / "x.xlsx").stat().st_size > 0


def test_a_library_error_is_raised_not_ignored(library, tmp_path):
    book = libxlsxwriter.Workbook(library, tmp_path / "missing" / "x.xlsx")
    book.add_worksheet("a")
    with pytest.raises(libxlsxwriter.LibraryError, match="libxlsxwriter: close"):
        book.close()


def test_the_deployment_check_names_a_missing_library(settings, monkeypatch):
    from perfplan.checks import workbook_library

    monkeypatch.setattr(libxlsxwriter, "load", lambda path="": None)
    settings.PERFPLAN_XLSX_ENGINE = "auto"
    assert [m.id for m in workbook_library(None)] == ["perfplan.W002"]
    settings.PERFPLAN_XLSX_ENGINE = "libxlsxwriter"
    assert [m.id for m in workbook_library(None)] == ["perfplan.E001"]
    settings.PERFPLAN_XLSX_ENGINE = "xlsxwriter"  # chosen: nothing to say
    assert workbook_library(None) == []


def test_the_deployment_check_is_quiet_with_the_library(library, settings):
    from perfplan.checks import workbook_library

    settings.PERFPLAN_XLSX_ENGINE = "auto"
    assert workbook_library(None) == []
