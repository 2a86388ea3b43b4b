"""Tables as files, whatever they hold: xlsx/csv read into rows.

The plan tables (perfplan.planfiles) and the results sheets (indicators) read through
here: decoding Korean CSV, the upload and zip-bomb limits, finding header rows, errors that
name the file, sheet, row and column. Writing is perfplan.xlsx's (one printable writer).
"""

from __future__ import annotations

import csv
import difflib
import html
import io
import re
import zipfile
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext as _

from perfplan.files import FileTooLarge, check_upload_size, check_xlsx_unpacked


def normalize_header(text):
    # "".join(split()) drops exactly what re's \s matches, several times faster.
    return "".join(str(text or "").split()).lower()


def clean_name(value):
    """A name as printed: line breaks inside a cell become spaces, outer blanks go."""
    if value is None:
        return ""
    text = str(value).replace("\r\n", " ").replace("\n", " ").replace("\r", " ")
    return text.replace("\u00a0", " ").strip()


def name_key(name):
    """Names match whatever the spacing: PDF wrapping loses and adds spaces at random."""
    return "".join((name or "").split())


@dataclass(frozen=True)
class Column:
    key: str
    header: str  # the Korean header, as exported
    english: str  # the English header, accepted on import
    kind: str = "text"  # text, name, amount, share, count, number, choice
    aliases: tuple = ()
    choices: type | None = None
    required: bool = False

    def accepts(self, normalized):
        names = {self.header, self.english, self.key, *self.aliases}
        return normalized in {normalize_header(n) for n in names}


@dataclass
class RowError:
    """One problem in a source: where (file, sheet, row, column), the value and what is wrong."""

    file: str
    row: int | None
    column: str
    value: object
    message: str
    sheet: str = ""

    def location(self):
        parts = [self.file] if self.file else []
        if self.sheet:
            parts.append(_("sheet %(sheet)s") % {"sheet": self.sheet})
        if self.row:
            parts.append(_("row %(row)s") % {"row": self.row})
        if self.column:
            parts.append(_("column %(column)s") % {"column": self.column})
        return ", ".join(parts)

    def __str__(self):
        value = "" if self.value in (None, "") else f" [{self.value}]"
        return f"{self.location()}{value}: {self.message}"


class TableReadError(Exception):
    def __init__(self, errors):
        self.errors = errors
        super().__init__("; ".join(str(e) for e in errors))

    @classmethod
    def of_file(cls, name, message, sheet="", row=None):
        """One problem with a whole file (or sheet, or header row), not with a cell."""
        return cls([RowError(name, row, "", None, message, sheet)])


# ---------------------------------------------------------------- reading files


def decode_text(data: bytes) -> str:
    """UTF-16 by its BOM (Excel's "유니코드 텍스트"), UTF-8 with or without BOM, else CP949
    (a superset of EUC-KR) as Korean Excel saves CSV."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")  # the codec reads the BOM and drops it
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp949")


def is_table_text(data):
    """A .txt that holds a table rather than prose: Excel's "유니코드 텍스트" (UTF-16 with
    its BOM) or tab-separated text (a published plan's text never holds a tab)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    first = data.lstrip(b"\xef\xbb\xbf\r\n ").split(b"\n", 1)[0]
    return b"\t" in first


def _refused_file(exc):
    # The message already names the file: no location before it.
    return TableReadError([RowError("", None, "", None, exc.message)])


def check_size(name, data):
    """perfplan.files' upload limit, refused as a TableReadError."""
    try:
        check_upload_size(name, len(data))
    except FileTooLarge as exc:
        raise _refused_file(exc) from None


def _read_csv(name, data):
    try:
        text = decode_text(data)
    except UnicodeError:
        raise TableReadError.of_file(
            name,
            _(
                "the file is neither UTF-8, UTF-16 nor CP949/EUC-KR text; save it as CSV "
                "(UTF-8) or xlsx"
            ),
        ) from None
    sample = text[:4096]
    delimiter = "\t" if sample.count("\t") > sample.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    del text, sample  # the reader has its own copy
    # A plan's cells repeat (department, goals, units, choices on every row): one string
    # object per distinct value keeps a national-scale table's memory down.
    same = {}.setdefault
    try:
        return [
            ("", [(number, [same(c, c) for c in cells]) for number, cells in enumerate(reader, 1)])
        ]
    except csv.Error as exc:
        raise TableReadError.of_file(
            name, _("the CSV cannot be read: %(error)s") % {"error": exc}
        ) from None


def _open_archive(name, data):
    """The zip of an xlsx or ods workbook, refused when broken or a zip bomb."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise TableReadError.of_file(
            name, _("the file is not a valid xlsx or ods workbook")
        ) from None
    try:
        check_xlsx_unpacked(name, len(data), unpacked)
    except FileTooLarge as exc:
        raise _refused_file(exc) from None
    return archive


def _is_ods(archive):
    try:
        return archive.read("mimetype").startswith(
            b"application/vnd.oasis.opendocument.spreadsheet"
        )
    except KeyError:
        return "content.xml" in archive.namelist() and "xl/workbook.xml" not in archive.namelist()


# ---------------------------------------------------------------- what a cell shows
#
# A workbook is read as it shows: python-calamine (Rust's calamine) reads the values fast,
# but not how they are shown; one streaming pass over the sheets' XML finds what changes
# that (number formats that show a percentage or fewer decimals, error cells), what is
# hidden and the formulas without a stored result.


def _number_format_rule(number_format):
    """(percent, decimals shown or None) of an Excel number format's first section."""
    rule = _FORMAT_RULES.get(number_format)
    if rule is None:
        # Quoted text, escaped characters and [colour]/[condition] parts print no digits.
        section = re.sub(r'"[^"]*"|\\.|\[[^\]]*\]|_.|\*.', "", number_format).split(";")[0]
        percent = "%" in section
        decimals = None
        if re.search(r"[eE][+-]|/|[ymdhs@]", section, re.IGNORECASE) is None and re.search(
            r"[0#?]", section
        ):
            after = section.split(".", 1)[1] if "." in section else ""
            decimals = len(re.match(r"[0#?]*", after).group())
        rule = _FORMAT_RULES[number_format] = (percent, decimals)
    return rule


_FORMAT_RULES = {"General": (False, None), "@": (False, None)}
_PLAIN = (False, None)

# Excel's built-in number formats that change how a number shows (the others are General,
# text, dates and times): ids 5–8 and 41–44 are the Korean currency and accounting formats.
_BUILTIN_FORMATS = {
    1: "0",
    2: "0.00",
    3: "#,##0",
    4: "#,##0.00",
    5: "#,##0",
    6: "#,##0",
    7: "#,##0.00",
    8: "#,##0.00",
    9: "0%",
    10: "0.00%",
    37: "#,##0",
    38: "#,##0",
    39: "#,##0.00",
    40: "#,##0.00",
    41: "#,##0",
    42: "#,##0",
    43: "#,##0.00",
    44: "#,##0.00",
}


def _apply_rule(value, rule):
    """A number as a cell with `rule` shows it: a percent-formatted 0.0028 is 0.28 (as
    `0.28%` reads), a number formatted with two decimals is rounded to them."""
    percent, decimals = rule
    if type(value) not in (int, float) or (not percent and decimals is None):
        return value
    number = Decimal(repr(value))
    if percent:
        number = number.scaleb(2)
    if decimals is not None:
        # Excel rounds half away from zero, as ROUND_HALF_UP does.
        number = number.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    return number


def _shown(cell):
    """An openpyxl cell's value as the spreadsheet shows it."""
    value = cell.value
    if type(value) not in (int, float):
        return value
    number_format = getattr(cell, "number_format", "General")
    if number_format == "General":
        return value
    return _apply_rule(value, _number_format_rule(number_format))


@dataclass
class _Layout:
    """What a sheet's values do not tell: hidden rows and columns, formulas without a stored
    result, and the cells whose shown value differs from the stored one."""

    hidden_rows: list = field(default_factory=list)
    hidden_columns: list = field(default_factory=list)
    uncalculated: list = field(default_factory=list)  # cell references
    stale: bool = False  # every formula's stored result is to be calculated again
    shown: dict = field(default_factory=dict)  # (row, column) -> rule or error text


class _NeedsOpenpyxl(Exception):
    """A workbook the fast reader cannot place every cell of (a cell without its reference,
    a default style that formats numbers): openpyxl reads it instead."""


def _hidden_column_range(low, high):
    # A hidden range can run to the last column (16384): only the first 1000.
    return range(low - 1, min(high, low + 1000))


_NS = rb"(?:\w+:)?"
_CELL = re.compile(rb"<" + _NS + rb"c\b([^>]*?)(?:/>|>(.*?)</" + _NS + rb"c>)", re.S)
_FORMULA = re.compile(rb"<" + _NS + rb"f\b")
_REFERENCE = re.compile(rb'\br="([A-Z]+)(\d+)"')
_ROW_NUMBER = re.compile(rb'\br="(\d+)"')
_HIDDEN = re.compile(rb'\bhidden="(?:1|true)"')
_ROOT = re.compile(rb"<(\w+:)?worksheet\b")


def _attribute(tag, name):
    match = re.search(rb"\b" + name + rb'="([^"]*)"', tag)
    return match.group(1) if match else None


_COLUMN_INDEXES = {}


def _column_index(letters):
    index = _COLUMN_INDEXES.get(letters)
    if index is None:
        index = 0
        for char in letters:
            index = index * 26 + char - 64
        index = _COLUMN_INDEXES[letters] = index - 1
    return index


def _referenced_cell(attributes):
    """(row, column) of a cell tag's attributes; a cell without its reference cannot be
    placed here."""
    match = _REFERENCE.search(attributes)
    if match is None:
        raise _NeedsOpenpyxl
    return int(match.group(2)), _column_index(match.group(1))


class _SheetPatterns:
    """The patterns of a sheet's XML for its namespace prefix (none, or `x:` and the like):
    literal tag starts let the regular expressions skip ahead instead of trying every `<`."""

    _made = {}

    @classmethod
    def of(cls, prefix, style_ids):
        key = (prefix, style_ids)
        if key not in cls._made:
            if len(cls._made) >= 64:  # each workbook has its styles: keep the last few
                cls._made.pop(next(iter(cls._made)))
            cls._made[key] = cls(prefix, style_ids)
        return cls._made[key]

    def __init__(self, prefix, style_ids):
        tag = b"<" + re.escape(prefix)
        self.col = b"<" + prefix + b"col "
        self.formula = b"<" + prefix + b"f"
        self.hidden_row = re.compile(tag + rb'row\b[^>]*?\bhidden="(?:1|true)"[^>]*>')
        self.col_tag = re.compile(tag + rb"col\b[^>]*>")
        self.error_cell = re.compile(
            tag + rb'c\b([^>/]*?\bt="e"[^>/]*)>(.*?)</' + re.escape(prefix) + rb"c>", re.S
        )
        self.value = re.compile(tag + rb"v>([^<]*)<")
        self.styled_fast = self.styled_any = self.style_attribute = None
        if style_ids:
            ids = b"|".join(str(style).encode() for style in style_ids)
            # Excel, LibreOffice, openpyxl and XlsxWriter write `<c r="…" s="…"`; where
            # the style attribute occurs more often than that, the slower pattern is used.
            self.styled_fast = re.compile(tag + rb'c r="([A-Z]+)(\d+)" s="(' + ids + rb')"')
            self.style_attribute = re.compile(rb' s="(?:' + ids + rb')"')
            self.styled_any = re.compile(tag + rb'c\b([^>]*?\bs="(' + ids + rb')"[^>]*)>')


def _xml_pieces(archive, path, size=1 << 20):
    """A part's XML in pieces of about `size` bytes, each ending after a row's end tag, so
    that no cell is cut in two."""
    with archive.open(path) as stream:
        carry = b""
        while block := stream.read(size):
            carry += block
            end = carry.rfind(b"row>")
            while end > 0 and carry[end - 1 : end] not in (b"/", b":"):
                end = carry.rfind(b"row>", 0, end)
            if end > 0:
                yield carry[: end + 4]
                carry = carry[end + 4 :]
        if carry:
            yield carry


def _scan_xlsx_sheet(archive, path, rules, stale=False):
    """A sheet's _Layout, read in one streaming pass over its XML. `rules`: {style id:
    (percent, decimals)} of the styles that change how a number shows; `stale`: the workbook
    says its stored results are to be calculated again (no formula's result is known)."""
    layout = _Layout(stale=stale)
    patterns = None
    for piece in _xml_pieces(archive, path):
        if patterns is None:
            root = _ROOT.search(piece)
            patterns = _SheetPatterns.of(root.group(1) or b"" if root else b"", tuple(rules))
        _scan_piece(piece, patterns, rules, layout)
    return layout


def _scan_piece(piece, patterns, rules, layout):
    if b'hidden="' in piece:
        for match in patterns.hidden_row.finditer(piece):
            number = _ROW_NUMBER.search(match.group())
            if number is None:
                raise _NeedsOpenpyxl
            layout.hidden_rows.append(int(number.group(1)))
        if patterns.col in piece:
            for tag in patterns.col_tag.findall(piece):
                low, high = _attribute(tag, b"min"), _attribute(tag, b"max")
                if _HIDDEN.search(tag) and low and high:
                    layout.hidden_columns.extend(_hidden_column_range(int(low), int(high)))
    if patterns.formula in piece and _FORMULA.search(piece):
        layout.uncalculated += _uncalculated_cells(piece, layout.stale)
    if b't="e"' in piece:
        for attributes, body in patterns.error_cell.findall(piece):
            value = patterns.value.search(body)
            text = value.group(1).decode("utf-8", "replace") if value else "#VALUE!"
            layout.shown[_referenced_cell(attributes)] = html.unescape(text)
    if not rules:
        return
    shown = layout.shown
    cells = patterns.styled_fast.findall(piece)
    if len(cells) == len(patterns.style_attribute.findall(piece)):
        for letters, row, style in cells:
            shown.setdefault((int(row), _column_index(letters)), rules[int(style)])
    else:
        for attributes, style in patterns.styled_any.findall(piece):
            shown.setdefault(_referenced_cell(attributes), rules[int(style)])


def _uncalculated_cells(xml, stale=False):
    """References of the cells of `xml` holding a formula without a stored result (every
    formula's, where the workbook's results are `stale`)."""
    cells = []
    for attributes, body in _CELL.findall(xml):
        if not _FORMULA.search(body):
            continue
        if stale:
            reference = _REFERENCE.search(attributes)
            cells.append(b"".join(reference.groups()).decode() if reference else "?")
            continue
        # openpyxl and scripts write `<v />` for a result never calculated; an empty text
        # result is `t="str"` with `<v></v>`.
        empty_text = b't="str"' in attributes and re.search(b"<" + _NS + b"v></", body)
        if re.search(b"<" + _NS + b"v>[^<]", body) or empty_text:
            continue
        reference = _REFERENCE.search(attributes)
        cells.append(b"".join(reference.groups()).decode() if reference else "?")
    return cells


def _stale(archive):
    """Whether the workbook asks to be calculated when opened (`fullCalcOnLoad`): XlsxWriter
    and openpyxl write formulas with a result of 0 or none and set it, so Excel shows results
    the file does not hold."""
    try:
        workbook = archive.read("xl/workbook.xml")
    except KeyError:
        return False
    return re.search(rb'\bfullCalcOnLoad="(?:1|true)"', workbook) is not None


def _xlsx_parts(archive):
    """{sheet name: the part of the workbook holding it}."""
    try:
        workbook = archive.read("xl/workbook.xml")
        rels = archive.read("xl/_rels/workbook.xml.rels")
    except KeyError:
        raise _NeedsOpenpyxl from None
    targets = {}
    for tag in re.findall(rb"<" + _NS + rb"Relationship\b[^>]*>", rels):
        attrs = dict(re.findall(rb'(\w+)="([^"]*)"', tag))
        target = attrs.get(b"Target", b"").decode().lstrip("/")
        targets[attrs.get(b"Id")] = target if target.startswith("xl/") else f"xl/{target}"
    parts = {}
    for tag in re.findall(rb"<" + _NS + rb"sheet\b[^>]*>", workbook):
        attrs = dict(re.findall(rb'([\w:]+)="([^"]*)"', tag))
        rid = next((v for k, v in attrs.items() if k.endswith(b":id")), None)
        if rid in targets:
            parts[html.unescape(attrs.get(b"name", b"").decode())] = targets[rid]
    return parts


def _styled_cells(archive):
    """{style id: (percent, decimals)} of the cell styles that change how a number shows."""
    try:
        styles = archive.read("xl/styles.xml")
    except KeyError:
        return {}
    custom = {
        int(number_id): html.unescape(code.decode())
        for number_id, code in re.findall(
            rb"<" + _NS + rb'numFmt\b[^>]*?numFmtId="(\d+)"[^>]*?formatCode="([^"]*)"', styles
        )
    }
    section = re.search(rb"<" + _NS + rb"cellXfs\b.*?</" + _NS + rb"cellXfs>", styles, re.S)
    rules = {}
    for style, tag in enumerate(
        re.findall(rb"<" + _NS + rb"xf\b[^>]*>", section.group()) if section else ()
    ):
        number_id = int(_attribute(tag, b"numFmtId") or 0)
        code = custom.get(number_id) or _BUILTIN_FORMATS.get(number_id, "General")
        rule = _number_format_rule(code)
        if rule != _PLAIN:
            rules[style] = rule
    if 0 in rules:
        raise _NeedsOpenpyxl  # cells without a style attribute are formatted too
    return rules


# A sheet is read whole, from A1 to its last cell: a cell typed far below or to the right
# would make millions of empty ones (a national plan is some 50,000 rows by 30 columns).
MAX_SHEET_CELLS = 5_000_000


def _calamine_values(name, data):
    """{sheet name: rows of values} of every worksheet, in the workbook's order."""
    from python_calamine import CalamineError, CalamineWorkbook, SheetTypeEnum

    values = {}
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        names = [s.name for s in workbook.sheets_metadata if s.typ == SheetTypeEnum.WorkSheet]
        for title in names:
            sheet = workbook.get_sheet_by_name(title)
            rows, columns = (sheet.end[0] + 1, sheet.end[1] + 1) if sheet.end else (0, 0)
            if rows * columns > MAX_SHEET_CELLS:  # an empty sheet has no end
                raise _too_many_cells(name, title, rows, columns)
            values[title] = sheet.to_python(skip_empty_area=False)
        workbook.close()
    except CalamineError as exc:
        raise TableReadError.of_file(
            name, _("the workbook cannot be read: %(error)s") % {"error": exc}
        ) from None
    return values


def _too_many_cells(name, title, rows, columns):
    return TableReadError.of_file(
        name,
        _(
            "the sheet runs to row %(rows)s and column %(column)s, more than a plan's tables "
            "hold; delete what is typed below or to the right of the table"
        )
        % {"rows": f"{rows:,}", "column": column_letter(columns - 1)},
        title,
    )


def _shown_rows(values, layout):
    """[(row number, cells)] of calamine's values as the sheet shows them. calamine reads
    every number as a float (1000.0 where openpyxl read 1000): see whole_number()."""
    done = {}  # (value, rule) -> shown: a goal's budget and share repeat on its every row
    for (row, column), shown in layout.shown.items():
        if row <= len(values) and column < len(values[row - 1]):
            cells = values[row - 1]
            if isinstance(shown, str):  # an error cell: its text (#DIV/0!, #N/A…)
                cells[column] = shown
                continue
            key = (type(cells[column]), cells[column], shown)  # True is not 1
            if key not in done:
                done[key] = _apply_rule(cells[column], shown)
            cells[column] = done[key]
    return list(enumerate(values, start=1))


def whole_number(value):
    """A float that holds a whole number as an int (a workbook's 1000.0 was typed 1000)."""
    return int(value) if type(value) is float and value.is_integer() else value


def _read_xlsx(name, data, archive):
    try:
        parts, rules, stale = _xlsx_parts(archive), _styled_cells(archive), _stale(archive)
        layouts = {
            title: _scan_xlsx_sheet(archive, path, rules, stale) for title, path in parts.items()
        }
    except _NeedsOpenpyxl:
        return _read_xlsx_openpyxl(name, data, archive)
    return _sheets(name, _calamine_values(name, data), layouts)


def _sheets(name, values, layouts):
    sheets, errors = [], []
    for title, rows in values.items():
        layout = layouts.get(title) or _Layout()
        if layout.uncalculated:
            errors.append(_uncalculated_error(name, title, layout.uncalculated))
            continue
        sheets.append(
            Sheet(
                title,
                _shown_rows(rows, layout),
                tuple(layout.hidden_rows),
                tuple(layout.hidden_columns),
            )
        )
    if errors:
        raise TableReadError(errors)
    return sheets


def _read_xlsx_openpyxl(name, data, archive):
    """Every cell through openpyxl (slower): for workbooks the fast reader cannot place."""
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for broken files
        raise TableReadError.of_file(
            name, _("the xlsx workbook cannot be read: %(error)s") % {"error": exc}
        ) from None
    try:
        parts = _xlsx_parts(archive)
    except _NeedsOpenpyxl:
        parts = {}
    layouts = {}
    for title, path in parts.items():
        try:
            layouts[title] = _scan_xlsx_sheet(archive, path, {}, _stale(archive))
        except _NeedsOpenpyxl:
            pass  # a row without its number: its hiding is not known
    values = {}
    try:
        for worksheet in workbook.worksheets:
            values[worksheet.title] = [
                [_shown(c) for c in cells] for cells in worksheet.iter_rows()
            ]
    finally:
        workbook.close()
    for layout in layouts.values():
        layout.shown = {}
    return _sheets(name, values, layouts)


# ---------------------------------------------------------------- ods

_TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
_CALCEXT = "{urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0}"
_NUMBER_TYPES = ("float", "percentage", "currency")
_MAX_REPEAT = 1000  # repeated empty rows and columns run to the sheet's end: not listed


_DIGIT = re.compile(r"\d")
_NOT_DECIMAL = re.compile(r"[eE/]")
_DECIMALS = re.compile(r"\.(\d+)\D*$")


def _decimals_in(text):
    """How many decimals a number shown as `text` has (`0.28%` → 2, `1,000` → 0), or None
    when it does not show them as decimals (a fraction, an exponent, `-`)."""
    if not _DIGIT.search(text) or _NOT_DECIMAL.search(text):
        return None
    match = _DECIMALS.search(text.strip())
    return len(match.group(1)) if match else 0


class _OdsScan:
    """The _Layout of each sheet of an ods workbook's content.xml, with the table's cell
    positions counted as LibreOffice writes them (repeated rows and columns, covered cells)."""

    def __init__(self):
        self.layouts, self.layout, self.title = {}, None, ""
        self.row = self.column = self.columns = 0
        self.row_repeat, self.row_hidden, self.row_cells = 1, False, {}

    def start(self, tag, element):
        if tag == "table":
            self.title = element.get(_TABLE + "name", "")
            self.layout = self.layouts[self.title] = _Layout()
            self.row = self.columns = 0
        elif tag == "table-column":
            repeat = int(element.get(_TABLE + "number-columns-repeated", 1))
            if element.get(_TABLE + "visibility", "visible") != "visible":
                self.layout.hidden_columns.extend(
                    _hidden_column_range(self.columns + 1, self.columns + repeat)
                )
            self.columns += repeat
        elif tag == "table-row":
            self.row_repeat = int(element.get(_TABLE + "number-rows-repeated", 1))
            self.row_hidden = element.get(_TABLE + "visibility", "visible") != "visible"
            self.column, self.row_cells = 0, {}

    def end(self, tag, element):
        if tag in ("table-cell", "covered-table-cell"):
            self.cell(element)
            element.clear()
        elif tag == "table-row":
            repeat = min(self.row_repeat, _MAX_REPEAT)
            for number in range(self.row + 1, self.row + 1 + repeat):
                if self.row_hidden:
                    self.layout.hidden_rows.append(number)
                for column, shown in self.row_cells.items():
                    self.layout.shown[(number, column)] = shown
            self.row += self.row_repeat
            element.clear()

    def cell(self, element):
        repeat = int(element.get(_TABLE + "number-columns-repeated", 1))
        value_type = element.get(_OFFICE + "value-type")
        shown = None
        if element.get(_CALCEXT + "value-type") == "error":
            shown = "".join(element.itertext()).strip()
        elif value_type in _NUMBER_TYPES:
            rule = (value_type == "percentage", _decimals_in("".join(element.itertext())))
            shown = rule if rule != _PLAIN else None
        elif value_type is None and element.get(_TABLE + "formula"):
            self.layout.uncalculated.append(f"{column_letter(self.column)}{self.row + 1}")
        if shown is not None:
            for column in range(self.column, self.column + min(repeat, _MAX_REPEAT)):
                self.row_cells[column] = shown
        self.column += repeat


def _scan_ods_elements(archive):
    """_OdsScan over content.xml, element by element (slower): for a file whose namespace
    prefixes are not LibreOffice's own."""
    from defusedxml.ElementTree import iterparse

    scan = _OdsScan()
    with archive.open("content.xml") as stream:
        for event, element in iterparse(stream, events=("start", "end")):
            tag = element.tag
            if not tag.startswith(_TABLE):
                continue
            if event == "start":
                scan.start(tag[len(_TABLE) :], element)
            else:
                scan.end(tag[len(_TABLE) :], element)
    return scan.layouts


_ODS_PREFIXES = (
    b'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"',
    b'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"',
)
_ODS_ROW_END = b"</table:table-row>"
_ODS_ROW_START = re.compile(rb"<table:table-row(?=[\s/>])([^>]*?)(/?)>")
_ODS_SHEET = re.compile(rb"<table:table(?=\s)([^>]*)>|<table:table-column(?=[\s/>])([^>]*)>")
_ODS_SHOWN_CELL = re.compile(
    rb"<table:table-cell(?=\s)([^>]*?(?:value-type=\"(?:float|percentage|currency|error)\""
    rb"|table:formula=)[^>]*?)(/?)>"
)
_ODS_SHOWN = (
    b'value-type="float"',
    b'value-type="percentage"',
    b'value-type="currency"',
    b"table:formula",
)
_ODS_NAME = re.compile(rb'\btable:name="([^"]*)"')
_ODS_ROWS_REPEATED = re.compile(rb'number-rows-repeated="(\d+)"')
_ODS_COLUMNS_REPEATED = re.compile(rb'number-columns-repeated="(\d+)"')
_ODS_VALUE_TYPE = re.compile(rb'office:value-type="(\w+)"')
_ODS_HIDDEN = re.compile(rb'table:visibility="(?:collapse|filter)"')
_TAGS = re.compile(rb"<[^>]+>")


class _OdsPieceScan(_OdsScan):
    """_OdsScan over content.xml's text, a row at a time (LibreOffice writes a 50,000-row
    sheet's content.xml as some 150 MB: element by element took seven seconds)."""

    def __init__(self):
        super().__init__()
        self.rules = {}  # (value type, shown text) -> rule

    def piece(self, xml):
        for chunk in xml.split(_ODS_ROW_END):
            rows = list(_ODS_ROW_START.finditer(chunk))
            before = chunk[: rows[0].start()] if rows else chunk
            if b"<table:table" in before:
                self.sheet_parts(before)
            if self.layout is None:
                continue
            for index, row in enumerate(rows):  # one, or empty rows written <row/> before it
                end = rows[index + 1].start() if index + 1 < len(rows) else len(chunk)
                self.row_of(row.group(1), b"" if row.group(2) else chunk[row.end() : end])

    def sheet_parts(self, xml):
        """A sheet's start and its column definitions (hidden columns)."""
        for table, column in _ODS_SHEET.findall(xml):
            if table:
                name = _ODS_NAME.search(table)
                self.title = html.unescape(name.group(1).decode()) if name else ""
                self.layout = self.layouts[self.title] = _Layout()
                self.row = self.columns = 0
            elif self.layout is not None:
                repeat = _ODS_COLUMNS_REPEATED.search(column)
                repeat = int(repeat.group(1)) if repeat else 1
                if _ODS_HIDDEN.search(column):
                    self.layout.hidden_columns.extend(
                        _hidden_column_range(self.columns + 1, self.columns + repeat)
                    )
                self.columns += repeat

    def row_of(self, attributes, content):
        repeat = _ODS_ROWS_REPEATED.search(attributes)
        self.row_repeat = int(repeat.group(1)) if repeat else 1
        self.row_hidden = _ODS_HIDDEN.search(attributes) is not None
        self.column, self.row_cells = 0, {}
        if any(mark in content for mark in _ODS_SHOWN):
            # Only the cells that matter are looked at; a cell's column is the number of
            # cells before it, and what the repeated ones before it add.
            repeats = [
                (match.start(), int(match.group(1)) - 1)
                for match in _ODS_COLUMNS_REPEATED.finditer(content)
            ]
            for cell in _ODS_SHOWN_CELL.finditer(content):
                start = cell.start()
                self.column = (
                    content.count(b"<table:table-cell", 0, start)
                    + content.count(b"<table:covered-table-cell", 0, start)
                    + sum(extra for at, extra in repeats if at < start)
                )
                body = b""
                if not cell.group(2):
                    body = content[cell.end() : content.find(b"</table:", cell.end())]
                self.cell_of(cell.group(1), body)
        self.end("table-row", _NoElement)

    def cell_of(self, attributes, body):
        repeat = _ODS_COLUMNS_REPEATED.search(attributes)
        repeat = int(repeat.group(1)) if repeat else 1
        value_type = _ODS_VALUE_TYPE.search(attributes)
        value_type = value_type.group(1).decode() if value_type else None
        shown = None
        if b'calcext:value-type="error"' in attributes:
            shown = html.unescape(_TAGS.sub(b"", body or b"").decode()).strip()
        elif value_type in _NUMBER_TYPES:
            rule = self.rules.get((value_type, body))
            if rule is None:  # shown texts repeat (a goal's budget on its every row)
                text = html.unescape(_TAGS.sub(b"", body).decode())
                rule = self.rules[(value_type, body)] = (
                    value_type == "percentage",
                    _decimals_in(text),
                )
            shown = rule if rule != _PLAIN else None
        elif value_type is None and b"table:formula=" in attributes:
            self.layout.uncalculated.append(f"{column_letter(self.column)}{self.row + 1}")
        if shown is not None:
            for column in range(self.column, self.column + min(repeat, _MAX_REPEAT)):
                self.row_cells[column] = shown
        self.column += repeat


class _NoElement:
    @staticmethod
    def clear():
        pass


def _ods_pieces(archive, size=1 << 22):
    """content.xml in pieces ending after a row's end tag, so that no row is cut in two."""
    end_tag = b"</table:table-row>"
    with archive.open("content.xml") as stream:
        carry = b""
        while block := stream.read(size):
            carry += block
            end = carry.rfind(end_tag)
            if end >= 0:
                yield carry[: end + len(end_tag)]
                carry = carry[end + len(end_tag) :]
        if carry:
            yield carry


def _scan_ods(archive):
    """{sheet name: _Layout} of an ods workbook."""
    if "content.xml" not in archive.namelist():
        return {}
    with archive.open("content.xml") as stream:
        head = stream.read(1 << 16)
    if not all(prefix in head for prefix in _ODS_PREFIXES):
        return _scan_ods_elements(archive)
    scan = _OdsPieceScan()
    for piece in _ods_pieces(archive):
        scan.piece(piece)
    return scan.layouts


def _read_ods(name, data, archive):
    from xml.etree.ElementTree import ParseError

    try:
        layouts = _scan_ods(archive)
    except ParseError as exc:
        raise TableReadError.of_file(
            name, _("the workbook cannot be read: %(error)s") % {"error": exc}
        ) from None
    return _sheets(name, _calamine_values(name, data), layouts)


def _uncalculated_error(name, sheet, cells):
    shown = ", ".join(cells[:10]) + (" …" if len(cells) > 10 else "")
    return RowError(
        name,
        None,
        "",
        shown,
        _(
            "%(count)s cell(s) hold a formula without a stored result (the file was not "
            "calculated); open the file in Excel or LibreOffice, save it and upload it again"
        )
        % {"count": len(cells)},
        sheet,
    )


@dataclass
class Sheet:
    """A sheet as read: its rows (row number, cells) and what of it is hidden."""

    title: str
    rows: list
    hidden_rows: tuple = ()  # row numbers
    hidden_columns: tuple = ()  # 0-based column indexes


# An Excel 97–2003 workbook (and a password-protected xlsx) is an OLE compound file.
_OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def read_workbook(name, data):
    """An xlsx, ods or csv/tab-separated text file as [Sheet], within the size limits;
    raises TableReadError. Each sheet read is told to a watching progress bar (a background
    import's: perfplan.imports.report_progress)."""
    from perfplan.imports import READING, report_progress

    sheets = _read_workbook(name, data)
    for sheet in sheets:
        rows = len(sheet.rows)
        report_progress(READING, rows, rows, file=name, sheet=sheet.title)
    return sheets


def _read_workbook(name, data):
    """read_workbook's sheets: an xlsx, ods or csv/tab-separated text file as [Sheet].

    Shared by every table reader (plan tables, results). A cell is read as it shows
    (number formats applied); a formula without a stored result refuses the sheet.
    """
    check_size(name, data)
    lower = name.lower()
    if data.startswith(_OLE_SIGNATURE) or lower.endswith((".xls", ".xlsb")):
        raise TableReadError.of_file(
            name,
            _(
                "an Excel 97–2003 (.xls) or password-protected workbook cannot be read; "
                "save it as an xlsx workbook without a password"
            ),
        )
    if data[:2] == b"PK" or lower.endswith((".xlsx", ".xlsm", ".ods")):
        archive = _open_archive(name, data)
        if _is_ods(archive):
            return _read_ods(name, data, archive)
        return _read_xlsx(name, data, archive)
    if lower.endswith((".csv", ".tsv", ".txt")) or not lower:
        return [Sheet(title, rows) for title, rows in _read_csv(name, data)]
    raise TableReadError.of_file(name, _("unsupported file type; use xlsx, ods or csv"))


def read_sheets(name, data):
    """read_workbook's sheets as [(sheet name, [(row number, cells)])]."""
    return [(sheet.title, sheet.rows) for sheet in read_workbook(name, data)]


def hidden_warnings(name, sheet, header_row=None):
    """Korean warnings listing a sheet's hidden rows (after its header row) and columns."""
    warnings = []
    rows = [n for n in sheet.hidden_rows if header_row is None or n > header_row]
    if rows:
        warnings.append(
            _("%(file)s, sheet %(sheet)s: hidden rows %(rows)s are imported too")
            % {"file": name, "sheet": sheet.title, "rows": _number_list(rows)}
        )
    return warnings


def _number_list(numbers):
    numbers = list(numbers)
    return ", ".join(str(n) for n in numbers[:20]) + (" …" if len(numbers) > 20 else "")


def match_headers(cells, columns, normalized=None, hidden=()):
    """{column key: (index, printed header)} of the cells of a row that name a column; a
    visible column is preferred to a hidden one of the same name."""
    if normalized is None:
        normalized = [normalize_header(c) for c in cells]
    order = range(len(normalized))
    if hidden:
        hidden = set(hidden)
        order = [i for i in order if i not in hidden] + [i for i in order if i in hidden]
    headers = {}
    for index in order:
        norm = normalized[index]
        if not norm:
            continue
        for column in columns:
            if column.key not in headers and column.accepts(norm):
                headers[column.key] = (index, str(cells[index]).strip())
                break
    if hidden:
        headers = dict(sorted(headers.items(), key=lambda item: item[1][0]))
    return headers


def column_letter(index):
    """The spreadsheet letter of a 0-based column index: 0 → A, 27 → AB."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def header_problems(name, sheet, number, cells, columns, headers):
    """(errors, warnings) of a header row matched by match_headers: a column named twice
    where both are visible is an error (which one holds the figures?); a hidden column is
    a warning, whether it is read (no visible one) or left aside for a visible one."""
    errors, warnings = [], []
    hidden = set(sheet.hidden_columns) if isinstance(sheet, Sheet) else set()
    title = sheet.title if isinstance(sheet, Sheet) else sheet
    used = {index for index, _printed in headers.values()}
    for index, cell in enumerate(cells):
        norm = normalize_header(cell)
        if not norm or index in used:
            continue
        key = next((c.key for c in columns if c.accepts(norm)), None)
        if key is None or key not in headers:
            continue
        taken = headers[key][0]
        where = {"column": str(cell).strip(), "letter": column_letter(index)}
        where["other"] = column_letter(taken)
        if index in hidden:
            warnings.append(
                _(
                    "%(file)s, sheet %(sheet)s: the hidden column %(letter)s (%(column)s) is "
                    "not read; the visible column %(other)s is"
                )
                % {"file": name, "sheet": title, **where}
            )
        else:
            errors.append(
                RowError(
                    name,
                    number,
                    where["column"],
                    None,
                    _(
                        "the column is given twice (columns %(other)s and %(letter)s); "
                        "delete one of them"
                    )
                    % where,
                    title,
                )
            )
    for _key, (index, printed) in headers.items():
        if index in hidden:
            warnings.append(
                _("%(file)s, sheet %(sheet)s: the column %(letter)s (%(column)s) is hidden")
                % {"file": name, "sheet": title, "letter": column_letter(index), "column": printed}
            )
    return errors, warnings


def close_header_hints(cells, columns):
    """`written → meant` for header cells that name no column but are close to one
    (`정책목표명 → 정책사업목표명`), the typos that otherwise hide a whole table."""
    known = {}
    for column in columns:
        for text in (column.header, *column.aliases):
            known.setdefault(normalize_header(text), column.header)
    hints = []
    for cell in cells:
        norm = normalize_header(cell)
        if not norm or norm in known or any(c.accepts(norm) for c in columns):
            continue
        close = difflib.get_close_matches(norm, list(known), n=1, cutoff=0.75)
        if close:
            hints.append(f"{str(cell).strip()} → {known[close[0]]}")
    return hints


def missing_columns_error(name, sheet, number, missing):
    """The error of a header row that lacks required columns (file, sheet and row named)."""
    return TableReadError.of_file(
        name,
        _("the header row lacks the required column(s) %(columns)s")
        % {"columns": ", ".join(missing)},
        sheet,
        row=number,
    )


# ---------------------------------------------------------------- writing files

# The writers are perfplan.xlsx's; these names stay for the callers that import them here.
from perfplan.xlsx import CSV_ENCODINGS, Table, write_csv, write_xlsx  # noqa: E402, F401
