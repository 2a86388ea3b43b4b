"""Tables written out: one printable xlsx writer for every export, and CSV beside it.

Every export (the plan tables, the tracking grid and overview, the results template, the
change log) hands its tables here. The workbook is written with XlsxWriter in its
constant-memory mode (a row is written out as soon as the next begins, so a national plan
or a million log entries stay within memory), and prints as the source document does:

- a bold, wrapped header row, frozen, repeated at the top of every printed page;
- borders on every cell of the table, long names wrapped in columns fitted to Korean text
  (an East-Asian wide character counts as two), each row as tall as its longest cell;
- numbers as numbers with thousands separators and their column's decimals;
- a group's cells (a strategic goal's name, budget and share) on its first row only, as the
  source prints them merged (Table.groups);
- the table's title and unit line (`(단위: 백만원)`) in the page header, A4 landscape,
  fitted to one page wide, page numbers in the footer.

The title and unit line are printed in the page header rather than written in cells, so
that the sheet stays a plain table (header in row 1) that re-imports as it is.
"""

from __future__ import annotations

import csv
import io
import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from operator import itemgetter

from perfplan.formats import FORMULA_PREFIXES, escape_formula
from perfplan.numbers import format_amount, format_share

CSV_ENCODINGS = {"utf-8": "utf-8-sig", "cp949": "cp949"}
NUMERIC_KINDS = frozenset({"amount", "share", "count", "number"})


class Table:
    """Rows to write: `columns` give each cell's header and kind (text, name, amount, share,
    count, number, choice); a column may also carry `decimals` (how many its numbers show)
    and `width` (for rows given as an iterator, which cannot be measured beforehand).

    `title` and `unit` are printed at the top of every page (the unit as `(단위: …)` text,
    e.g. gettext("(unit: million won)")); `subtitle` on the left (the plan's year).

    `groups`: the table's levels, outermost first, each a tuple of column indexes (a
    department's name and code, then a strategic goal's name, budget and share, …). The
    workbook writes a level's cells on the first row of each group only, as the source
    prints them in merged cells (the importer reads a blank there as the row above);
    CSV and the rows themselves keep every cell."""

    def __init__(
        self, key, columns, rows, sheet_name="", title="", unit="", subtitle="", groups=()
    ):
        self.key = key
        self.columns = columns
        self.rows = rows
        self.sheet_name = sheet_name or key
        self.title = title
        self.unit = unit
        self.subtitle = subtitle
        self.groups = tuple(tuple(level) for level in groups)

    @property
    def headers(self):
        return [c.header for c in self.columns]


@dataclass(frozen=True, slots=True)
class Number:
    """A number shown with `decimals` places (e.g. at its indicator's precision), in xlsx
    and CSV alike; the cell holds the whole value."""

    value: object
    decimals: int


# ---------------------------------------------------------------- widths


def _wide_pattern():
    """A regex matching East-Asian wide and full-width characters (Unicode's W and F)."""
    ranges, start = [], None
    for code in range(0x1100, 0x10000):
        wide = unicodedata.east_asian_width(chr(code)) in "WF"
        if wide and start is None:
            start = code
        elif not wide and start is not None:
            ranges.append((start, code - 1))
            start = None
    if start is not None:
        ranges.append((start, 0xFFFF))
    # Emoji, and the CJK extension planes.
    ranges += [(0x1F300, 0x1F64F), (0x1F900, 0x1F9FF), (0x20000, 0x3FFFD)]
    return re.compile("[" + "".join(f"{chr(a)}-{chr(b)}" for a, b in ranges) + "]")


_WIDE = _wide_pattern()


def display_width(text):
    """The width of one line of text in character cells: a Hangul syllable or a CJK
    character is two, as a fixed-width terminal and Excel's column width count them."""
    return len(text) + len(_WIDE.findall(text))


def text_lines(text, width):
    """How many lines `text` takes wrapped in a column `width` cells wide."""
    usable = max(width - 1, 1)
    return sum(max(1, math.ceil(display_width(line) / usable)) for line in text.split("\n"))


# Column widths, in Excel's units (about one Latin digit): names wrap at NAME_WIDTH, other
# text at TEXT_WIDTH, a header at HEADER_WIDTH (Korean wraps between any two syllables).
NAME_WIDTH = 24
TEXT_WIDTH = 16
HEADER_WIDTH = 8
MIN_WIDTH = 4
DEFAULT_WIDTHS = {"name": NAME_WIDTH, "text": TEXT_WIDTH, "choice": 8, "amount": 12}
LINE_HEIGHT = 13.5  # points per line of the cells' 10-point text
MAX_ROW_HEIGHT = 409  # Excel's limit


def _cap(column):
    return NAME_WIDTH if column.kind == "name" else TEXT_WIDTH


def _header_width(header):
    return min(HEADER_WIDTH, max((display_width(w) for w in str(header).split()), default=0))


def _number_text_width(value, decimals):
    digits = len(str(int(abs(value))))
    return digits + (digits - 1) // 3 + (decimals + 1 if decimals else 0) + (value < 0)


def _measured_widths(table, columns, decimals_of):
    """(widths, wrapping) of the columns, from the headers and the table's cells (rows given
    as a list): a text column wraps when a cell is wider than its cap or has line breaks."""
    if set(map(len, table.rows)) - {len(columns)}:
        number, row = next((n, r) for n, r in enumerate(table.rows, 1) if len(r) != len(columns))
        raise ValueError(f"row {number} has {len(row)} cells for {len(columns)} columns")
    widths, wrapping = [], []
    for index, column in enumerate(columns):
        width = _header_width(column.header)
        cap = max(_cap(column), width)
        wraps = False
        values = set(map(itemgetter(index), table.rows)) - {None, ""}
        for value in values:
            if wraps and width >= cap:
                break  # as wide as the column may be, and wrapping: nothing more to learn
            decimals = None
            if isinstance(value, Number):
                value, decimals = value.value, value.decimals
            if isinstance(value, str):
                if len(value) * 2 > width or "\n" in value:  # else it cannot be wider
                    widest = max(map(display_width, value.split("\n")))
                    wraps = wraps or widest > cap or "\n" in value
                    width = max(width, min(cap, widest))
            elif isinstance(value, (Decimal, int, float)) and not isinstance(value, bool):
                if isinstance(value, Decimal) and not value.is_finite():
                    continue
                if decimals is None:
                    decimals = decimals_of(index, value)
                width = max(width, _number_text_width(value, decimals))
            elif isinstance(value, (datetime, date)):
                width = max(width, 16)
        widths.append(max(MIN_WIDTH, width) + 1)
        wrapping.append(wraps and column.kind not in NUMERIC_KINDS)
    return widths, wrapping


def _given_widths(columns):
    widths = []
    for column in columns:
        width = getattr(column, "width", None) or DEFAULT_WIDTHS.get(column.kind, 10)
        widths.append(max(MIN_WIDTH, width, _header_width(column.header)) + 1)
    return widths


# ---------------------------------------------------------------- numbers


def _natural_decimals(value, most=4):
    """The decimals a number needs to show exactly (at most `most`): 948 → 0, 0.28 → 2."""
    if isinstance(value, Decimal):
        if not value.is_finite():
            return 0
        exponent = value.normalize().as_tuple().exponent
        return min(most, max(0, -exponent))
    if isinstance(value, float):
        text = repr(value)
        return min(most, len(text.split(".", 1)[1])) if "." in text and "e" not in text else 0
    return 0


def _decimals_rule(columns):
    """decimals_of(column index, value): the column's given decimals, else its kind's (a
    share shows 2, a count none), else as many as the value needs."""
    fixed = []
    for column in columns:
        given = getattr(column, "decimals", None)
        if given is None:
            given = {"share": 2, "count": 0}.get(column.kind)
        fixed.append(given)

    def decimals_of(index, value):
        """(value None: the column's fixed decimals, or None when they depend on values)"""
        given = fixed[index]
        if given is not None or value is None:
            return given
        return _natural_decimals(value)

    return decimals_of


def number_format(decimals, separators=True):
    """An Excel number format: `#,##0` with `decimals` places (`#,##0.00`)."""
    whole = "#,##0" if separators else "0"
    return whole + ("." + "0" * decimals if decimals else "")


def _as_number(value):
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


# ---------------------------------------------------------------- xlsx


class _Styles:
    """The workbook's cell formats, made once each (XlsxWriter numbers them as added)."""

    BASE = {"border": 1, "valign": "top", "font_size": 10}

    def __init__(self, workbook):
        self.workbook = workbook
        self.header = workbook.add_format(
            {
                **self.BASE,
                "bold": True,
                "text_wrap": True,
                "align": "center",
                "valign": "vcenter",
                "bg_color": "#F2F2F2",
            }
        )
        self.text = workbook.add_format({**self.BASE, "text_wrap": True})
        self.moment = workbook.add_format({**self.BASE, "num_format": "yyyy-mm-dd hh:mm"})
        self.day = workbook.add_format({**self.BASE, "num_format": "yyyy-mm-dd"})
        self.general = workbook.add_format(dict(self.BASE))
        self._numbers = {}

    def number(self, decimals, separators=True):
        key = (decimals, separators)
        style = self._numbers.get(key)
        if style is None:
            style = self._numbers[key] = self.workbook.add_format(
                {**self.BASE, "num_format": number_format(decimals, separators)}
            )
        return style


def _sheet_name(name, taken):
    """A valid, unique sheet name: Excel refuses []:*?/\\, more than 31 characters, and a
    name given twice (case aside)."""
    name = " ".join(re.sub(r"[\[\]:*?/\\]", " ", str(name)).split()).strip("'")[:31] or "Sheet"
    candidate, number = name, 1
    while candidate.lower() in taken:
        number += 1
        suffix = f" ({number})"
        candidate = name[: 31 - len(suffix)] + suffix
    taken.add(candidate.lower())
    return candidate


def _header_text(size, text):
    """Text for a page header section in a font `size`: a literal & is written twice (the
    codes start with &), and a space keeps a leading digit out of the size (&9 2026)."""
    text = str(text or "").replace("&", "&&")
    return f"&{size}" + (" " if text[:1].isdigit() else "") + text


def _set_up_page(sheet, table):
    sheet.set_landscape()
    sheet.set_paper(9)  # A4
    sheet.fit_to_pages(1, 0)  # one page wide, as many pages down as it takes
    sheet.repeat_rows(0)  # the header row on every page
    sheet.freeze_panes(1, 0)
    sheet.hide_gridlines(
        0
    )  # printed grid lines: the lines of the blank cells, which are not written
    sheet.set_margins(left=0.4, right=0.4, top=0.75, bottom=0.6)
    sheet.center_horizontally()
    title = getattr(table, "title", "") or table.sheet_name
    parts = []
    subtitle = getattr(table, "subtitle", "")
    if subtitle:
        parts.append(f"&L{_header_text(9, subtitle)}")
    parts.append(f'&C&"-,Bold"{_header_text(13, title)}')
    unit = getattr(table, "unit", "")
    if unit:
        parts.append(f"&R{_header_text(9, unit)}")
    header = "".join(parts)
    if len(header) <= 255:  # Excel's limit for a page header
        sheet.set_header(header, {"margin": 0.3})
    sheet.set_footer("&C&9&P / &N", {"margin": 0.3})


class _SheetWriter:
    """Writes one table's rows to a worksheet, row by row, in constant memory."""

    def __init__(self, sheet, styles, table):
        self.sheet = sheet
        self.styles = styles
        self.columns = list(table.columns)
        self.decimals_of = _decimals_rule(self.columns)
        if isinstance(table.rows, (list, tuple)):
            self.widths, self.wrapping = _measured_widths(table, self.columns, self.decimals_of)
        else:  # rows read once: every text column may wrap
            self.widths = _given_widths(self.columns)
            self.wrapping = [c.kind not in NUMERIC_KINDS for c in self.columns]
        self.lines = {}  # (text, column) → lines, for names repeated on many rows
        # A number's style: fixed per column where its decimals are (a share, a count, given
        # decimals; General in a text column), else found per value (self.number_styles).
        self.fixed_styles = [
            self._fixed_style(index, column) for index, column in enumerate(self.columns)
        ]
        self.number_styles = {}
        groups = getattr(table, "groups", ())
        self.groups = [(itemgetter(*columns), columns) for columns in groups]
        self.group_values = [None] * len(self.groups)  # the last row's cells of each level

    def _blank_repeated(self, row):
        """`row` with the cells that repeat its group's first row left blank."""
        blanked, same, last = None, True, self.group_values
        for level, (cells, columns) in enumerate(self.groups):
            values = cells(row)
            if same and values == last[level]:
                if blanked is None:
                    blanked = list(row)
                for index in columns:
                    blanked[index] = None
            else:
                same = False
                last[level] = values
        return row if blanked is None else blanked

    def _fixed_style(self, index, column):
        if column.kind not in NUMERIC_KINDS:
            return self.styles.general  # an id or a year in a text column: no separators
        decimals = self.decimals_of(index, None)
        return None if decimals is None else self.styles.number(decimals)

    def _number_style(self, index, value):
        style = self.fixed_styles[index]
        if style is None:
            style = self.number_styles.get((index, value))
            if style is None:
                if len(self.number_styles) > 100_000:  # a cache, not the whole sheet
                    self.number_styles.clear()
                style = self.styles.number(_natural_decimals(value))
                self.number_styles[(index, value)] = style
        return style

    def write(self, table):
        sheet = self.sheet
        for index, width in enumerate(self.widths):
            sheet.set_column(index, index, width)
        header_lines = max(
            (text_lines(str(c.header), w) for c, w in zip(self.columns, self.widths, strict=True)),
            default=1,
        )
        for index, column in enumerate(self.columns):
            sheet.write_string(0, index, str(column.header), self.styles.header)
        if header_lines > 1:
            sheet.set_row(0, min(MAX_ROW_HEIGHT, LINE_HEIGHT * header_lines + 2))
        count = 0
        for count, row in enumerate(table.rows, start=1):
            self._write_row(count, row)
        if self.columns:
            sheet.print_area(0, 0, max(count, 1), len(self.columns) - 1)
        return count

    def _write_row(self, number, row):
        if len(row) != len(self.columns):
            raise ValueError(f"row {number} has {len(row)} cells for {len(self.columns)} columns")
        write_string, text_style = self.sheet.write_string, self.styles.text
        write_number = self.sheet.write_number
        fixed_styles, number_styles = self.fixed_styles, self.number_styles
        wrapping, line_counts = self.wrapping, self.lines
        lines = 1
        if self.groups:
            row = self._blank_repeated(row)
        for index, value in enumerate(row):
            # Blank cells are not written: the sheet prints its grid lines (one cell less
            # to write out of five in a plan's table 나).
            if type(value) is str:
                if not value:
                    continue
                if value.startswith(FORMULA_PREFIXES):
                    value = escape_formula(value)
                write_string(number, index, value, text_style)
                if wrapping[index]:
                    needed = line_counts.get((value, index))
                    if needed is None:
                        needed = text_lines(value, self.widths[index])
                        if len(line_counts) > 100_000:  # a cache, not the whole sheet
                            line_counts.clear()
                        line_counts[(value, index)] = needed
                    if needed > lines:
                        lines = needed
            elif type(value) is Decimal and value.is_finite():
                style = (
                    fixed_styles[index]
                    or number_styles.get((index, value))
                    or self._number_style(index, value)
                )
                write_number(number, index, float(value), style)
            elif value is not None:
                self._write_other(number, index, value)
        if lines > 1:
            self.sheet.set_row(number, min(MAX_ROW_HEIGHT, LINE_HEIGHT * lines + 2))

    def _write_other(self, number, index, value):
        sheet, styles = self.sheet, self.styles
        decimals = None
        if isinstance(value, Number):
            value, decimals = value.value, value.decimals
            if value is None:
                return
        if isinstance(value, bool):
            sheet.write_boolean(number, index, value, styles.general)
        elif isinstance(value, (Decimal, int, float)):
            if not math.isfinite(value):
                sheet.write_string(number, index, str(value), styles.text)
                return
            if decimals is None:
                style = self._number_style(index, value)
            else:
                style = styles.number(decimals)
            sheet.write_number(number, index, _as_number(value), style)
        elif isinstance(value, datetime):
            sheet.write_datetime(number, index, value.replace(tzinfo=None), styles.moment)
        elif isinstance(value, date):
            sheet.write_datetime(number, index, value, styles.day)
        else:
            sheet.write_string(number, index, escape_formula(str(value)), styles.text)


XLSXWRITER, LIBXLSXWRITER, AUTO = "xlsxwriter", "libxlsxwriter", "auto"


def xlsx_engine():
    """The library that writes workbooks: libxlsxwriter (XlsxWriter's C edition, ~3× faster
    a cell) where installed, else XlsxWriter; PERFPLAN_XLSX_ENGINE names one ("auto" by
    default; a library named but missing is an error, not a silent other engine)."""
    from django.conf import settings

    from perfplan import libxlsxwriter

    engine = getattr(settings, "PERFPLAN_XLSX_ENGINE", AUTO) or AUTO
    if engine not in (AUTO, XLSXWRITER, LIBXLSXWRITER):
        raise ValueError(f"PERFPLAN_XLSX_ENGINE: unknown engine {engine!r}")
    if engine == XLSXWRITER:
        return XLSXWRITER
    if libxlsxwriter.load(getattr(settings, "PERFPLAN_LIBXLSXWRITER_PATH", "")) is not None:
        return LIBXLSXWRITER
    if engine == LIBXLSXWRITER:
        raise RuntimeError("PERFPLAN_XLSX_ENGINE=libxlsxwriter, but libxlsxwriter is not installed")
    return XLSXWRITER


def _write_sheets(workbook, tables):
    styles = _Styles(workbook)
    taken = set()
    try:
        for table in tables:
            sheet = workbook.add_worksheet(_sheet_name(table.sheet_name, taken))
            writer = _SheetWriter(sheet, styles, table)
            _set_up_page(sheet, table)
            writer.write(table)
    finally:
        workbook.close()


def write_xlsx(tables, target=None):
    """The tables as one printable workbook, a sheet each (see the module's docstring).

    Returns the workbook's bytes; with `target` (a binary file object, e.g. a temporary
    file) it is written there instead and `target` is returned. A table's rows may be a
    list or any iterable (read once, e.g. a queryset's iterator)."""
    output = io.BytesIO() if target is None else target
    if xlsx_engine() == LIBXLSXWRITER:
        _write_with_libxlsxwriter(tables, output)
    else:
        import xlsxwriter

        workbook = xlsxwriter.Workbook(
            output,
            {"constant_memory": True, "strings_to_numbers": False, "strings_to_formulas": False},
        )
        _write_sheets(workbook, tables)
    if target is None:
        return output.getvalue()
    return target


def _write_with_libxlsxwriter(tables, output):
    import os
    import shutil
    import tempfile

    from django.conf import settings

    from perfplan import libxlsxwriter

    library = libxlsxwriter.load(getattr(settings, "PERFPLAN_LIBXLSXWRITER_PATH", ""))
    # The C library writes to a path: a private temporary file, copied into `output`.
    handle, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(handle)
    try:
        _write_sheets(libxlsxwriter.Workbook(library, path), tables)
        with open(path, "rb") as written:
            shutil.copyfileobj(written, output, 1024 * 1024)
    finally:
        os.unlink(path)


# ---------------------------------------------------------------- csv


def _csv_cell(value, kind, decimals=None):
    if value is None:
        return ""
    if isinstance(value, Number):
        value, decimals = value.value, value.decimals
        if value is None:
            return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (Decimal, int, float)):
        if decimals is not None:
            rounded = Decimal(value).quantize(Decimal(1).scaleb(-decimals), ROUND_HALF_UP)
            text = f"{rounded:,.{decimals}f}"
            return text if kind == "amount" else text.replace(",", "")
        if kind == "share":
            return format_share(value)
        if kind == "amount":
            return format_amount(value)
        return format_amount(value).replace(",", "") if kind != "count" else str(value)
    return escape_formula(str(value))


def write_csv(table, encoding="utf-8"):
    """CSV as Korean Excel opens it: UTF-8 with BOM by default, or CP949."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(table.headers)
    kinds = [c.kind for c in table.columns]
    decimals = [getattr(c, "decimals", None) for c in table.columns]
    for row in table.rows:
        writer.writerow([_csv_cell(v, k, d) for v, k, d in zip(row, kinds, decimals, strict=True)])
    return buffer.getvalue().encode(CSV_ENCODINGS.get(encoding, encoding), errors="strict")
