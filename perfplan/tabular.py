"""Tables as files, whatever they hold: xlsx/csv read into rows, and rows written out.

The plan tables (perfplan.planfiles) and the results sheets (indicators) read and write
through here: decoding Korean CSV, the upload and zip-bomb limits, finding header rows,
errors that name the file, sheet, row and column, and a streamed xlsx writer.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _

from perfplan.files import FileTooLarge, check_upload_size, check_xlsx_unpacked
from perfplan.formats import escape_formula
from perfplan.numbers import format_amount, format_share


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
    """UTF-8 with or without BOM, else CP949 (a superset of EUC-KR) as Korean Excel saves."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp949")


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
    except UnicodeDecodeError:
        raise TableReadError.of_file(
            name,
            _("the file is neither UTF-8 nor CP949/EUC-KR text; save it as CSV (UTF-8) or xlsx"),
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


def _read_xlsx(name, data):
    # openpyxl parses with defusedxml when it is installed; we also refuse zip bombs.
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise TableReadError.of_file(name, _("the file is not a valid xlsx workbook")) from None
    try:
        check_xlsx_unpacked(name, len(data), unpacked)
    except FileTooLarge as exc:
        raise _refused_file(exc) from None
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for broken files
        raise TableReadError.of_file(
            name, _("the xlsx workbook cannot be read: %(error)s") % {"error": exc}
        ) from None
    sheets = []
    try:
        for sheet in workbook.worksheets:
            rows = [(i, list(r)) for i, r in enumerate(sheet.iter_rows(values_only=True), start=1)]
            sheets.append((sheet.title, rows))
    finally:
        workbook.close()
    return sheets


def read_sheets(name, data):
    """An xlsx or csv file as [(sheet name, [(row number, cells)])], within the size limits.

    Shared by every table reader (plan tables, results); raises TableReadError.
    """
    check_size(name, data)
    lower = name.lower()
    if data[:2] == b"PK" or lower.endswith((".xlsx", ".xlsm")):
        return _read_xlsx(name, data)
    if lower.endswith((".csv", ".tsv", ".txt")) or not lower:
        return _read_csv(name, data)
    raise TableReadError.of_file(name, _("unsupported file type; use xlsx or csv"))


def match_headers(cells, columns, normalized=None):
    """{column key: (index, printed header)} of the cells of a row that name a column."""
    if normalized is None:
        normalized = [normalize_header(c) for c in cells]
    headers = {}
    for index, norm in enumerate(normalized):
        if not norm:
            continue
        for column in columns:
            if column.key not in headers and column.accepts(norm):
                headers[column.key] = (index, str(cells[index]).strip())
                break
    return headers


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

CSV_ENCODINGS = {"utf-8": "utf-8-sig", "cp949": "cp949"}


class Table:
    """Rows to write: `columns` give each cell's header and kind (its number format)."""

    def __init__(self, key, columns, rows, sheet_name=""):
        self.key = key
        self.columns = columns
        self.rows = rows
        self.sheet_name = sheet_name or key

    @property
    def headers(self):
        return [c.header for c in self.columns]


_NUMBER_FORMATS = {"amount": "#,##0.###", "share": "0.00", "count": "0", "number": "General"}


def write_xlsx(tables):
    """The tables as one workbook, a sheet each: a bold header row, then the rows; Decimals
    as numbers with the column's number format, text with formula prefixes escaped."""
    tables = list(tables)
    if all(isinstance(t.rows, (list, tuple)) for t in tables):
        try:
            return _write_xlsx_fast(tables)
        except _NotPlain:
            pass
    return _write_xlsx_openpyxl(tables)


def _sheet_with_header(workbook, table):
    """A write-only sheet for `table`, its bold header row written."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    sheet = workbook.create_sheet(title=table.sheet_name)
    bold = Font(bold=True)
    header = []
    for text in table.headers:
        cell = WriteOnlyCell(sheet, value=text)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    return sheet


def _write_xlsx_openpyxl(tables):
    """Every cell through openpyxl: the reference, and the path for values the fast writer
    leaves to it."""
    import openpyxl
    from openpyxl.cell import WriteOnlyCell

    workbook = openpyxl.Workbook(write_only=True)
    for table in tables:
        sheet = _sheet_with_header(workbook, table)
        formats = [_NUMBER_FORMATS.get(c.kind) for c in table.columns]
        for row in table.rows:
            out = []
            for value, number_format in zip(row, formats, strict=True):
                if isinstance(value, Decimal):
                    value = int(value) if value == value.to_integral_value() else float(value)
                    if number_format and number_format != "General":
                        cell = WriteOnlyCell(sheet, value=value)
                        cell.number_format = number_format
                        out.append(cell)
                        continue
                out.append(escape_formula(value) if value != "" else None)
            sheet.append(out)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


class _NotPlain(Exception):
    """A value the fast sheet writer leaves to openpyxl (formulas, dates, illegal characters…)."""


def _xml_text(text):
    # What ElementTree escapes in text (its _escape_cdata): &, < and >.
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    return text


def _first_styled(table, formats):
    """(row, column) of the first Decimal in each column that gets a number format, in the
    order a row-by-row write meets them (openpyxl numbers the styles in that order)."""
    wanted = {i for i, f in enumerate(formats) if f and f != "General"}
    found = []
    if not wanted:
        return found
    for r, row in enumerate(table.rows):
        for i in sorted(wanted):
            if i < len(row) and isinstance(row[i], Decimal):
                found.append((r, i))
                wanted.discard(i)
        if not wanted:
            break
    return found


def _sheet_rows(table, styles):
    """The data rows' XML (from row 2), as openpyxl would write them, in chunks."""
    from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
    from openpyxl.compat import safe_string
    from openpyxl.utils import get_column_letter

    ncols = len(styles)  # one per column
    letters = [get_column_letter(i) for i in range(1, ncols + 1)]
    errors = frozenset(ERROR_CODES)
    illegal = ILLEGAL_CHARACTERS_RE.search
    parts = []
    for row_idx, row in enumerate(table.rows, start=2):
        if len(row) != ncols:
            raise _NotPlain  # openpyxl's path raises zip()'s error
        r = str(row_idx)
        parts.append(f'<row r="{r}">')
        for col, value in enumerate(row):
            if value is None:
                continue
            style = ""
            if isinstance(value, Decimal):
                if not value.is_finite():
                    raise _NotPlain
                value = int(value) if value == value.to_integral_value() else float(value)
                if styles[col] is not None:
                    style = f' s="{styles[col]}"'
            elif isinstance(value, str):
                if value == "":
                    continue
                text = str(escape_formula(value))[:32767]
                if illegal(text) or (len(text) > 1 and text.startswith("=")):
                    raise _NotPlain
                if text in errors:
                    parts.append(f'<c r="{letters[col]}{r}" t="e"><v>{_xml_text(text)}</v></c>')
                    continue
                stripped = text.strip()
                space = ' xml:space="preserve"' if stripped and stripped != text else ""
                parts.append(
                    f'<c r="{letters[col]}{r}" t="inlineStr"><is><t{space}>{_xml_text(text)}'
                    "</t></is></c>"
                )
                continue
            if isinstance(value, bool):
                parts.append(f'<c r="{letters[col]}{r}" t="b"><v>{safe_string(value)}</v></c>')
            elif isinstance(value, (int, float)):
                number = safe_string(value)
                v = f"<v>{number}</v>" if number else "<v />"
                parts.append(f'<c r="{letters[col]}{r}"{style} t="n">{v}</c>')
            else:
                raise _NotPlain
        parts.append("</row>")
        if len(parts) > 20000:
            yield "".join(parts)
            parts = []
    yield "".join(parts)


def _write_xlsx_fast(tables):
    """openpyxl writes the workbook with the header rows; the data rows' XML is written here,
    cell for cell as openpyxl's write-only mode would, several times faster."""
    import openpyxl
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.utils import get_column_letter

    workbook = openpyxl.Workbook(write_only=True)
    sheets = {}
    for table in tables:
        sheet = _sheet_with_header(workbook, table)
        formats = [_NUMBER_FORMATS.get(c.kind) for c in table.columns]
        styles = [None] * len(formats)
        for _row, col in _first_styled(table, formats):
            cell = WriteOnlyCell(sheet)
            cell.number_format = formats[col]
            styles[col] = cell.style_id
        # openpyxl names the parts in the order the sheets were created.
        sheets[f"xl/worksheets/sheet{len(sheets) + 1}.xml"] = (table, styles, len(table.headers))
    skeleton = io.BytesIO()
    workbook.save(skeleton)
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(skeleton) as source,
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as target,
    ):
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename not in sheets:
                target.writestr(info, content)
                continue
            table, styles, width = sheets[info.filename]
            xml = content.decode("utf-8")
            head, end, tail = xml.partition("</sheetData>")
            if not end:
                raise _NotPlain
            last = get_column_letter(max(width, len(styles), 1))
            dimension = f'<dimension ref="A1:{last}{len(table.rows) + 1}" />'
            head = head.replace("<sheetViews>", dimension + "<sheetViews>", 1)
            out = zipfile.ZipInfo(info.filename, date_time=info.date_time)
            out.compress_type = zipfile.ZIP_DEFLATED
            with target.open(out, "w") as stream:
                stream.write(head.encode("utf-8"))
                for chunk in _sheet_rows(table, styles):
                    stream.write(chunk.encode("utf-8"))
                stream.write((end + tail).encode("utf-8"))
    return buffer.getvalue()


def _csv_cell(value, kind):
    if value is None:
        return ""
    if isinstance(value, Decimal) or isinstance(value, int):
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
    for row in table.rows:
        writer.writerow([_csv_cell(v, k) for v, k in zip(row, kinds, strict=True)])
    return buffer.getvalue().encode(CSV_ENCODINGS.get(encoding, encoding), errors="strict")
