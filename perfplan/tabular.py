"""Tables as files, whatever they hold: xlsx/csv read into rows, and rows written out.

The plan tables (perfplan.planfiles) and the results sheets (indicators) read and write
through here: decoding Korean CSV, the upload and zip-bomb limits, finding header rows,
errors that name the file, sheet, row and column, and a streamed xlsx writer.
"""

from __future__ import annotations

import csv
import difflib
import html
import io
import re
import zipfile
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

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
    layout = _sheet_layouts(archive)
    sheets, errors = [], []
    try:
        for worksheet in workbook.worksheets:
            hidden_rows, hidden_columns, uncalculated = layout.get(worksheet.title, ((), (), ()))
            if uncalculated:
                errors.append(_uncalculated_error(name, worksheet.title, uncalculated))
                continue
            rows = [
                (number, [_shown(cell) for cell in cells])
                for number, cells in enumerate(worksheet.iter_rows(), start=1)
            ]
            sheets.append(Sheet(worksheet.title, rows, hidden_rows, hidden_columns))
    finally:
        workbook.close()
    if errors:
        raise TableReadError(errors)
    return sheets


# ---------------------------------------------------------------- what an xlsx cell shows


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


def _shown(cell):
    """A cell's value as the spreadsheet shows it: a percent-formatted 0.0028 is 0.28 (as
    `0.28%` reads), a number formatted with two decimals is rounded to them."""
    value = cell.value
    if type(value) not in (int, float):
        return value
    number_format = getattr(cell, "number_format", "General")
    if number_format == "General":
        return value
    percent, decimals = _number_format_rule(number_format)
    if not percent and decimals is None:
        return value
    number = Decimal(repr(value))
    if percent:
        number = number.scaleb(2)
    if decimals is not None:
        # Excel rounds half away from zero, as ROUND_HALF_UP does.
        number = number.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    return number


def _cell_column(reference):
    """The 0-based column index of a cell reference such as `AB12`."""
    index = 0
    for char in reference:
        if not char.isalpha():
            break
        index = index * 26 + ord(char.upper()) - 64
    return index - 1


def _sheet_layouts(archive):
    """{sheet name: (hidden row numbers, hidden 0-based column indexes, cells holding a
    formula without a stored result)}, read from the workbook's XML (openpyxl's read-only
    mode keeps neither row nor column properties)."""
    try:
        workbook = archive.read("xl/workbook.xml").decode("utf-8")
        rels = archive.read("xl/_rels/workbook.xml.rels").decode("utf-8")
    except (KeyError, UnicodeDecodeError):
        return {}
    targets = {}
    for tag in re.findall(r"<(?:\w+:)?Relationship\b[^>]*>", rels):
        attrs = dict(re.findall(r'(\w+)="([^"]*)"', tag))
        target = attrs.get("Target", "").lstrip("/")
        targets[attrs.get("Id")] = target if target.startswith("xl/") else f"xl/{target}"
    layouts = {}
    for tag in re.findall(r"<(?:\w+:)?sheet\b[^>]*>", workbook):
        attrs = dict(re.findall(r'([\w:]+)="([^"]*)"', tag))
        rid = next((v for k, v in attrs.items() if k.endswith(":id")), None)
        path = targets.get(rid)
        if not path:
            continue
        try:
            xml = archive.read(path).decode("utf-8")
        except (KeyError, UnicodeDecodeError):
            continue
        layouts[html.unescape(attrs.get("name", ""))] = _sheet_layout(xml)
    return layouts


_HIDDEN = r'\bhidden="(?:1|true)"'


def _sheet_layout(xml):
    hidden_rows = tuple(
        int(number)
        for tag in re.findall(r"<(?:\w+:)?row\b[^>]*>", xml)
        if re.search(_HIDDEN, tag)
        for number in re.findall(r'\br="(\d+)"', tag)
    )
    hidden_columns = []
    for tag in re.findall(r"<(?:\w+:)?col\b[^>]*>", xml):
        if re.search(_HIDDEN, tag):
            low = re.search(r'\bmin="(\d+)"', tag)
            high = re.search(r'\bmax="(\d+)"', tag)
            if low and high:
                # A hidden range can run to the last column (16384): only the first 1000.
                last = min(int(high.group(1)), int(low.group(1)) + 1000)
                hidden_columns.extend(range(int(low.group(1)) - 1, last))
    uncalculated = []
    if "<f" in xml:  # a formula somewhere: which have no stored result <v>?
        for match in re.finditer(r"<(?:\w+:)?c\b([^>]*?)(?:/>|>(.*?)</(?:\w+:)?c>)", xml, re.S):
            body = match.group(2) or ""
            # openpyxl and scripts write `<v />` for a result never calculated; an empty
            # text result is `t="str"` with `<v></v>`.
            empty_text = 't="str"' in match.group(1) and re.search(r"<(?:\w+:)?v></", body)
            has_result = re.search(r"<(?:\w+:)?v>[^<]", body) or empty_text
            if re.search(r"<(?:\w+:)?f\b", body) and not has_result:
                reference = re.search(r'\br="([A-Z]+\d+)"', match.group(1))
                uncalculated.append(reference.group(1) if reference else "?")
    return tuple(hidden_rows), tuple(hidden_columns), tuple(uncalculated)


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


def read_workbook(name, data):
    """An xlsx or csv file as [Sheet], within the size limits; raises TableReadError.

    Shared by every table reader (plan tables, results). An xlsx cell is read as it shows
    (number formats applied); a formula without a stored result refuses the sheet.
    """
    check_size(name, data)
    lower = name.lower()
    if data[:2] == b"PK" or lower.endswith((".xlsx", ".xlsm")):
        return _read_xlsx(name, data)
    if lower.endswith((".csv", ".tsv", ".txt")) or not lower:
        return [Sheet(title, rows) for title, rows in _read_csv(name, data)]
    raise TableReadError.of_file(name, _("unsupported file type; use xlsx or csv"))


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
