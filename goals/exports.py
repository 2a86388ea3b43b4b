"""Plan tables out: the same columns the importer reads, as xlsx, csv or data rows.

Rows are built from a fixed number of queries; xlsx is streamed with openpyxl's
write-only mode so a national-scale plan stays within memory.
"""

from __future__ import annotations

import csv
import io
import zipfile
from decimal import Decimal

from budgets.models import UnitProgram
from indicators.models import Indicator
from perfplan.formats import escape_formula
from perfplan.numbers import format_amount, format_share

from .models import PlanDepartment, PolicyGoal, StrategicGoal
from .plan_data import Figures
from .tables import (
    HIERARCHY_COLUMNS,
    INDICATOR_DEFINITION_COLUMNS,
    SHEET_NAMES,
    SUMMARY_COLUMNS,
    TABLES_BY_KEY,
    UNIT_PROGRAM_COLUMNS,
    choice_to_text,
)

TOTAL_NAME = "계"
CSV_ENCODINGS = {"utf-8": "utf-8-sig", "cp949": "cp949"}


class Table:
    def __init__(self, key, columns, rows):
        self.key = key
        self.columns = columns
        self.rows = rows

    @property
    def headers(self):
        return [c.header for c in self.columns]

    @property
    def sheet_name(self):
        return SHEET_NAMES[self.key]


def _definition_values(fields):
    """The definition cells from an indicator's fields in INDICATOR_DEFINITION_COLUMNS order."""
    values = []
    for column, value in zip(INDICATOR_DEFINITION_COLUMNS, fields, strict=True):
        if column.kind == "choice":
            value = choice_to_text(column.choices, value)
        values.append(value)
    return values


def hierarchy_table(plan):
    """Table 나, one row per indicator; a goal without indicators still gets its row."""
    departments = list(
        PlanDepartment.objects.filter(plan=plan)
        .select_related("department")
        .order_by("position", "id")
    )
    goals = list(
        StrategicGoal.objects.filter(plan_department__plan=plan).order_by("position", "id")
    )
    pgs = list(
        PolicyGoal.objects.filter(strategic_goal__plan_department__plan=plan).order_by(
            "position", "id"
        )
    )
    # Values, not model instances: a national plan's indicators are read several times faster.
    indicators = (
        Indicator.objects.filter(policy_goal__strategic_goal__plan_department__plan=plan)
        .order_by("position", "id")
        .values_list(
            "policy_goal_id", "code", "name", *(c.key for c in INDICATOR_DEFINITION_COLUMNS)
        )
    )
    goals_by_dept, pgs_by_goal, inds_by_pg = {}, {}, {}
    for goal in goals:
        goals_by_dept.setdefault(goal.plan_department_id, []).append(goal)
    for pg in pgs:
        pgs_by_goal.setdefault(pg.strategic_goal_id, []).append(pg)
    for ind in indicators.iterator(chunk_size=5000):
        inds_by_pg.setdefault(ind[0], []).append(ind)
    blank_definition = [None] * len(INDICATOR_DEFINITION_COLUMNS)
    rows = []
    for dept in departments:
        code = dept.department.code or ""
        for goal in goals_by_dept.get(dept.pk, []):
            head = [dept.name, code, goal.name, goal.budget, goal.declared_share]
            goal_pgs = pgs_by_goal.get(goal.pk, [])
            if not goal_pgs:
                rows.append(head + [None, None, None] + blank_definition)
            for pg in goal_pgs:
                pg_inds = inds_by_pg.get(pg.pk, [])
                if not pg_inds:
                    rows.append(head + [pg.name, None, None] + blank_definition)
                for _pg, ind_code, ind_name, *fields in pg_inds:
                    rows.append(head + [pg.name, ind_code, ind_name] + _definition_values(fields))
    return Table("hierarchy", HIERARCHY_COLUMNS, rows)


def _figure_cells(figures):
    return [getattr(figures, name) for name in Figures.FIELDS]


def summary_table(plan):
    """Table 가 as declared, the 계 row first as the source prints it."""
    rows = [[TOTAL_NAME, ""] + _figure_cells(Figures(**plan.declared()))]
    for dept in (
        PlanDepartment.objects.filter(plan=plan)
        .select_related("department")
        .order_by("position", "id")
    ):
        rows.append(
            [dept.name, dept.department.code or ""] + _figure_cells(Figures(**dept.declared()))
        )
    return Table("summary", SUMMARY_COLUMNS, rows)


def unit_program_table(plan):
    programs = (
        UnitProgram.objects.filter(policy_goal__strategic_goal__plan_department__plan=plan)
        .select_related("policy_goal__strategic_goal__plan_department")
        .order_by(
            "policy_goal__strategic_goal__plan_department__position",
            "policy_goal__strategic_goal__position",
            "policy_goal__position",
            "position",
            "id",
        )
    )
    rows = []
    for up in programs:
        pg = up.policy_goal
        sg = pg.strategic_goal
        rows.append(
            [
                sg.plan_department.name,
                sg.name,
                pg.name,
                up.code,
                up.name,
                up.budget,
                up.prior_budget,
            ]
        )
    return Table("unit_programs", UNIT_PROGRAM_COLUMNS, rows)


def plan_tables(plan, keys=("summary", "hierarchy", "unit_programs")):
    builders = {
        "summary": summary_table,
        "hierarchy": hierarchy_table,
        "unit_programs": unit_program_table,
    }
    tables = [builders[key](plan) for key in keys]
    # Unit programs only when the plan names them.
    return [t for t in tables if t.key != "unit_programs" or t.rows]


def template_tables():
    """A blank plan with two example rows per table, for the import page's template."""
    example_definition = [
        "%",
        "상향",
        "결과",
        "참석인원 ÷ 대상인원 × 100",
        "교육 결과 보고",
        Decimal("85"),
        Decimal("90"),
        None,
        None,
        "최근 3년 평균 이상",
        Decimal("1"),
        "반기",
        "최신값",
        None,
    ]
    hierarchy = [
        [
            "○○국",
            "",
            "주민이 행복한 ○○ 구현",
            Decimal("1234"),
            Decimal("0.36"),
            "주민 참여 확대",
            "",
            "주민교육 참석율",
        ]
        + example_definition,
        [
            "○○국",
            "",
            "주민이 행복한 ○○ 구현",
            Decimal("1234"),
            Decimal("0.36"),
            "주민 참여 확대",
            "",
            "민원처리 기간 단축도",
        ]
        + [
            "일",
            "하향",
            "산출",
            "",
            "",
            Decimal("7"),
            Decimal("5"),
            None,
            None,
            "",
            Decimal("1"),
            "분기",
            "평균",
            "목표/실적",
        ],
    ]
    summary = [
        [TOTAL_NAME, "", 1, 1, 2, 3, Decimal("1314"), Decimal("1214"), Decimal("100")],
        ["○○국", "", 1, 1, 2, 3, Decimal("1314"), Decimal("1214"), Decimal("100")],
    ]
    return [
        Table("summary", SUMMARY_COLUMNS, summary),
        Table("hierarchy", HIERARCHY_COLUMNS, hierarchy),
    ]


# ---------------------------------------------------------------- writers

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


def table_by_key(tables, key):
    for table in tables:
        if table.key == key:
            return table
    return Table(key, TABLES_BY_KEY[key].columns, [])
