"""Reading results files: every row of the results tables of xlsx or csv files, as written.

A row's cells are checked on their own here (a number, a period key, a name given); the
rows are matched against the plan by the diff (indicators.results_import.diff).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext as _

from indicators.models import Result
from indicators.periods import parse_period_key
from perfplan.formats import unescape_formula
from perfplan.numbers import NumberFormatError, parse_number
from perfplan.tabular import (
    Column,
    RowError,
    TableReadError,
    clean_name,
    close_header_hints,
    header_problems,
    hidden_warnings,
    match_headers,
    missing_columns_error,
    read_workbook,
    whole_number,
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

MAX_HEADER_SEARCH = 30
# An actual is read at the precision it is stored with: the same file twice is unchanged.
VALUE_STEP = Decimal(1).scaleb(-Result._meta.get_field("value").decimal_places)


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


def _find_header(name, sheet, rows, warnings):
    """(header row number, {key: (index, printed header)}) or None when not a results table.

    `sheet` is a perfplan.tabular.Sheet; a column given twice is refused, hidden rows and
    columns are added to `warnings`."""
    for number, cells in rows[:MAX_HEADER_SEARCH]:
        headers = match_headers(cells, RESULT_COLUMNS, hidden=sheet.hidden_columns)
        if "period" in headers and "value" in headers:
            missing = [c.header for c in RESULT_COLUMNS if c.required and c.key not in headers]
            if "indicator" not in headers and "indicator_code" not in headers:
                missing.append(
                    f"{COLUMNS_BY_KEY['indicator'].header}/{COLUMNS_BY_KEY['indicator_code'].header}"
                )
            if missing:
                raise missing_columns_error(name, sheet.title, number, missing)
            errors, found = header_problems(name, sheet, number, cells, RESULT_COLUMNS, headers)
            if errors:
                raise TableReadError(errors)
            warnings.extend(found + hidden_warnings(name, sheet, number))
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


class ReadRows(list):
    """The rows read, with the reader's warnings (hidden rows and columns) for the preview."""

    def __init__(self, rows=(), warnings=()):
        super().__init__(rows)
        self.warnings = list(warnings)


def read_results_files(files, *, year=None, warnings=None):
    """[(file name, bytes)] → (rows, errors): every readable row, and every cell problem.

    A problem with a whole file (not a spreadsheet, no header row, a formula never
    calculated, a column given twice) raises TableReadError listing the problems of every
    file; a bad cell only marks its row invalid. Hidden rows and columns are added to
    `warnings` (Korean lines for the preview) when a list is given.
    """
    rows, errors, file_errors = [], [], []
    warnings = [] if warnings is None else warnings
    for name, data in files:
        try:
            sheets = read_workbook(name, data)
            found = False
            hints = []
            for sheet in sheets:
                sheet_rows = sheet.rows
                if not any(not _blank(cells) for _n, cells in sheet_rows):
                    continue
                header = _find_header(name, sheet, sheet_rows, warnings)
                if header is None:
                    for _n, cells in sheet_rows[:MAX_HEADER_SEARCH]:
                        hints += close_header_hints(cells, RESULT_COLUMNS)
                    continue
                found = True
                number, headers = header
                reader = _SheetReader(name, sheet.title, headers, year, errors)
                for row_number, cells in sheet_rows:
                    if row_number <= number or _blank(cells):
                        continue
                    rows.append(reader.read(row_number, cells))
            if not found:
                expected = ", ".join(
                    c.header for c in RESULT_COLUMNS if c.required or c.key == "indicator"
                )
                message = _(
                    "no results table found: one of the first rows must hold the "
                    "column headers (%(expected)s)"
                ) % {"expected": expected}
                if hints:
                    message += " " + _("did you mean: %(hints)s?") % {
                        "hints": ", ".join(dict.fromkeys(hints))
                    }
                raise TableReadError.of_file(name, message)
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
        row.period_raw = whole_number(self.raw(cells, "period"))
        row.value_raw = whole_number(self.raw(cells, "value"))

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
            if (
                row.value is not None
                and row.value.as_tuple().exponent < VALUE_STEP.as_tuple().exponent
            ):
                row.value = row.value.quantize(VALUE_STEP, rounding=ROUND_HALF_UP)
        except NumberFormatError as exc:
            fail("value", row.value_raw, str(exc))
        if row.value is None and row.valid:
            fail("value", None, _("the actual is empty; leave the row out until there is a result"))
        try:
            row.period_key = self.period_key(row.period_raw)
        except ValueError as exc:
            fail("period", row.period_raw, str(exc))
        return row
