"""Reading results files: every row of the results tables of xlsx or csv files, as written.

A row's cells are checked on their own here (a number, a period key, a name given); the
rows are matched against the plan by the diff (indicators.results_import.diff).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.utils.translation import gettext as _

from indicators.periods import parse_period_key
from perfplan.formats import unescape_formula
from perfplan.numbers import NumberFormatError, parse_number
from perfplan.tabular import (
    Column,
    RowError,
    TableReadError,
    clean_name,
    match_headers,
    missing_columns_error,
    read_sheets,
)

RESULT_COLUMNS = (
    Column("department", "실국명", "department", "name", ("실국", "부서명"), required=True),
    Column("department_code", "실국코드", "department code"),
    Column("policy_goal", "정책사업목표명", "policy goal", "name", ("정책사업목표", "정책사업명")),
    Column("indicator_code", "지표코드", "indicator code", aliases=("code",)),
    Column("indicator", "성과지표명", "indicator", "name", ("성과지표", "지표명")),
    Column("period", "기간", "period", aliases=("측정기간", "실적기간", "기간구분"), required=True),
    Column("value", "실적", "actual", "number", ("실적치", "value", "result"), required=True),
    Column("note", "비고", "note", aliases=("메모", "notes")),
)

COLUMNS_BY_KEY = {c.key: c for c in RESULT_COLUMNS}

MAX_HEADER_SEARCH = 10


@dataclass
class ResultRow:
    """One data row of a results file, as read (not yet matched)."""

    file: str
    sheet: str
    row: int
    headers: dict  # column key -> printed header (for error messages)
    department: str = ""
    department_code: str = ""
    policy_goal: str = ""
    indicator_code: str = ""
    indicator: str = ""
    period_raw: object = None
    period_key: str = ""
    value_raw: object = None
    value: Decimal | None = None
    note: str = ""
    has_note_column: bool = False
    valid: bool = True

    def error(self, key, value, message):
        return RowError(self.file, self.row, self.headers.get(key, ""), value, message, self.sheet)


def _find_header(name, sheet, rows):
    """(header row number, {key: (index, printed header)}) or None when not a results table."""
    for number, cells in rows[:MAX_HEADER_SEARCH]:
        headers = match_headers(cells, RESULT_COLUMNS)
        if "period" in headers and "value" in headers:
            missing = [c.header for c in RESULT_COLUMNS if c.required and c.key not in headers]
            if "indicator" not in headers and "indicator_code" not in headers:
                missing.append(
                    f"{COLUMNS_BY_KEY['indicator'].header}/{COLUMNS_BY_KEY['indicator_code'].header}"
                )
            if missing:
                raise missing_columns_error(name, sheet, number, missing)
            return number, headers
    return None


def _text(value):
    value = unescape_formula(value)
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return clean_name(value)


def _blank(cells):
    return all(c is None or str(c).strip() == "" for c in cells)


def _period_key(raw, year):
    """A period key from a cell; a date (Excel turns "2026-03" into one) is its month."""
    if isinstance(raw, (datetime, date)):
        if year is not None and raw.year != year:
            raise ValueError(
                _("the date is in %(year)s, not in the plan's year %(plan_year)s")
                % {"year": raw.year, "plan_year": year}
            )
        return f"M{raw.month:02d}"
    if isinstance(raw, (int, float, Decimal)) and not isinstance(raw, bool):
        raise ValueError(
            _("a bare number is not a period: write Q1, 1분기, M03, 3월, 상반기 or 연간")
        )
    text = _text(raw)
    match = re.match(r"^(\d{4})[-./]\d{1,2}$", text)
    if match and year is not None and int(match.group(1)) != year:
        raise ValueError(
            _("the date is in %(year)s, not in the plan's year %(plan_year)s")
            % {"year": match.group(1), "plan_year": year}
        )
    return parse_period_key(text)


def read_results_files(files, *, year=None):
    """[(file name, bytes)] → (rows, errors): every readable row, and every cell problem.

    A problem with a whole file (not a spreadsheet, no header row) raises TableReadError
    listing the problems of every file; a bad cell only marks its row invalid.
    """
    rows, errors, file_errors = [], [], []
    for name, data in files:
        try:
            sheets = read_sheets(name, data)
            found = False
            for sheet, sheet_rows in sheets:
                if not any(not _blank(cells) for _n, cells in sheet_rows):
                    continue
                header = _find_header(name, sheet, sheet_rows)
                if header is None:
                    continue
                found = True
                number, headers = header
                reader = _SheetReader(name, sheet, headers, year, errors)
                for row_number, cells in sheet_rows:
                    if row_number <= number or _blank(cells):
                        continue
                    rows.append(reader.read(row_number, cells))
            if not found:
                expected = ", ".join(
                    c.header for c in RESULT_COLUMNS if c.required or c.key == "indicator"
                )
                raise TableReadError.of_file(
                    name,
                    _(
                        "no results table found: one of the first rows must hold the "
                        "column headers (%(expected)s)"
                    )
                    % {"expected": expected},
                )
        except TableReadError as exc:
            file_errors.extend(exc.errors)
    if file_errors:
        raise TableReadError(file_errors)
    return rows, errors


class _SheetReader:
    """Reads the data rows of one sheet (what is the same for every row, worked out once)."""

    TEXT_KEYS = ("department", "department_code", "policy_goal", "indicator_code", "indicator")

    def __init__(self, name, sheet, headers, year, errors):
        self.name, self.sheet, self.year, self.errors = name, sheet, year, errors
        self.indexes = {key: index for key, (index, _header) in headers.items()}
        self.printed = {key: header for key, (_index, header) in headers.items()}
        self.has_note = "note" in headers
        self.periods = {}  # a period cell as written -> (error message, key)

    def raw(self, cells, key):
        index = self.indexes.get(key)
        return cells[index] if index is not None and index < len(cells) else None

    def period_key(self, raw):
        try:
            cached = self.periods.get(raw)
        except TypeError:  # not hashable: never from a spreadsheet, but do not fail on it
            cached = None
        if cached is None:
            try:
                cached = ("", _period_key(raw, self.year))
            except ValueError as exc:
                cached = (str(exc), "")
            if isinstance(raw, (str, int, float)):
                self.periods[raw] = cached
        message, key = cached
        if message:
            raise ValueError(message)
        return key

    def read(self, number, cells):
        row = ResultRow(self.name, self.sheet, number, self.printed, has_note_column=self.has_note)
        for key in self.TEXT_KEYS:
            setattr(row, key, _text(self.raw(cells, key)))
        row.note = _text(self.raw(cells, "note")) if self.has_note else ""
        row.period_raw = self.raw(cells, "period")
        row.value_raw = self.raw(cells, "value")

        def fail(key, value, message):
            self.errors.append(row.error(key, value, message))
            row.valid = False

        if _text(row.value_raw) == "" and not row.note:
            return row  # nothing to import: skipped, whatever else the row says
        if not row.department and not row.department_code:
            fail("department", None, _("the department name is empty"))
        if not row.indicator and not row.indicator_code:
            fail(
                "indicator" if "indicator" in self.indexes else "indicator_code",
                None,
                _("give the indicator's name or its code"),
            )
        try:
            row.value = parse_number(unescape_formula(row.value_raw))
        except NumberFormatError as exc:
            fail("value", row.value_raw, str(exc))
        if row.value is None and row.valid:
            fail("value", None, _("the actual is empty; leave the row out until there is a result"))
        try:
            row.period_key = self.period_key(row.period_raw)
        except ValueError as exc:
            fail("period", row.period_raw, str(exc))
        return row
