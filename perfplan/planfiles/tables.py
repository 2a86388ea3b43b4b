"""Plan tables as files: their columns, and reading xlsx/csv into a PlanData.

Three tables make a plan: the hierarchy (table 나, one row per indicator), the department
summary (table 가, one row per department and the 계 row) and, where a plan names them, the
unit programs. Headers are Korean as the source prints them; English headers are accepted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from goals.models import StrategicGoal
from indicators.models import (
    Aggregation,
    Direction,
    Frequency,
    Indicator,
    IndicatorType,
    LowerIsBetterMethod,
)
from perfplan.formats import unescape_formula
from perfplan.models import AMOUNT_PLACES
from perfplan.numbers import NumberFormatError, parse_count, parse_number
from perfplan.tabular import (
    Column,
    RowError,
    TableReadError,
    check_size,  # noqa: F401  (indicators.results_import, until it imports perfplan.tabular)
    clean_name,
    close_header_hints,
    header_problems,
    hidden_warnings,
    match_headers,
    missing_columns_error,
    name_key,
    normalize_header,
    read_workbook,
    whole_number,
)

from .plan_data import (
    DepartmentData,
    Figures,
    IndicatorData,
    PlanData,
    PolicyGoalData,
    SourceRef,
    StrategicGoalData,
    UnitProgramData,
)

TOTAL_ROW_NAMES = ("계", "합계", "총계", "total")
DASHES = ("-", "−", "–", "—")  # a zero in table 가's counts and amounts
NAME_MAX_LENGTH = 500


# Choice columns are written in Korean and read in Korean or English (label or code).
CHOICE_WORDS = {
    Direction: {Direction.HIGHER: "상향", Direction.LOWER: "하향", Direction.RANGE: "범위"},
    IndicatorType: {
        IndicatorType.INPUT: "투입",
        IndicatorType.PROCESS: "과정",
        IndicatorType.OUTPUT: "산출",
        IndicatorType.OUTCOME: "결과",
    },
    Frequency: {
        Frequency.MONTHLY: "월",
        Frequency.QUARTERLY: "분기",
        Frequency.HALF_YEARLY: "반기",
        Frequency.YEARLY: "연",
    },
    Aggregation: {
        Aggregation.SUM: "누계",
        Aggregation.LATEST: "최신값",
        Aggregation.AVERAGE: "평균",
    },
    LowerIsBetterMethod: {
        LowerIsBetterMethod.RATIO: "목표/실적",
        LowerIsBetterMethod.COMPLEMENT: "2-실적/목표",
    },
}
CHOICE_SYNONYMS = {
    Direction: {
        "상향지표": "higher",
        "하향지표": "lower",
        "하양지표": "lower",
        "범위지표": "range",
    },
    Frequency: {
        "매월": "monthly",
        "월별": "monthly",
        "분기별": "quarterly",
        "반기별": "half_yearly",
        "연간": "yearly",
        "년": "yearly",
        "연1회": "yearly",
    },
    Aggregation: {"합계": "sum", "누적": "sum", "최근값": "latest", "최종값": "latest"},
}


def choice_to_text(choices, value):
    return CHOICE_WORDS[choices].get(value, "") if value else ""


_CHOICE_LOOKUPS = {}


def _choice_lookup(choices):
    """Normalized word or code -> value; the first entry wins, as a scan in order would."""
    lookup = _CHOICE_LOOKUPS.get(choices)
    if lookup is None:
        lookup = {}
        for value, word in CHOICE_WORDS[choices].items():
            lookup.setdefault(normalize_header(word), value)
            lookup.setdefault(normalize_header(value), value)
        _CHOICE_LOOKUPS[choices] = lookup
    return lookup


def choice_from_text(choices, text):
    norm = normalize_header(text)
    value = _choice_lookup(choices).get(norm)
    if value is not None:
        return value
    synonym = CHOICE_SYNONYMS.get(choices, {}).get(norm)
    if synonym:
        return synonym
    raise ValueError(
        _("not one of: %(choices)s") % {"choices": ", ".join(CHOICE_WORDS[choices].values())}
    )


INDICATOR_DEFINITION_COLUMNS = (
    Column("unit", "단위", "unit"),
    Column("direction", "지표방향", "direction", "choice", ("방향", "상하향"), Direction),
    Column(
        "indicator_type", "지표유형", "type", "choice", ("유형", "indicator_type"), IndicatorType
    ),
    Column("formula", "측정산식", "formula"),
    Column("data_source", "자료출처", "data source", aliases=("자료수집방법", "출처")),
    Column("baseline", "전년도실적", "baseline", "number", ("기준치",)),
    Column("annual_target", "목표치", "target", "number", ("연간목표", "annual target")),
    Column("target_min", "목표범위하한", "target from", "number", ("target_min",)),
    Column("target_max", "목표범위상한", "target to", "number", ("target_max",)),
    Column("target_rationale", "목표치설정근거", "target rationale", aliases=("설정근거",)),
    Column("weight", "가중치", "weight", "number"),
    Column("frequency", "측정주기", "frequency", "choice", ("주기",), Frequency),
    Column("aggregation", "집계방식", "aggregation", "choice", (), Aggregation),
    Column(
        "lower_is_better_method",
        "하향지표산식",
        "lower-is-better method",
        "choice",
        ("lower_is_better_method",),
        LowerIsBetterMethod,
    ),
)

HIERARCHY_COLUMNS = (
    Column("department", "실국명", "department", "name", ("실국",), required=True),
    Column("department_code", "실국코드", "department code"),
    Column("strategic_goal", "전략목표명", "strategic goal", "name", ("전략목표",), required=True),
    Column("budget", "예산액(백만원)", "budget", "amount", ("예산액", "budget(millionwon)")),
    Column("share", "비중(%)", "share", "share", ("비중", "재원비중", "share_pct", "share(%)")),
    Column("policy_goal", "정책사업목표명", "policy goal", "name", ("정책사업목표", "정책사업명")),
    Column("indicator_code", "지표코드", "indicator code"),
    Column("indicator", "성과지표명", "indicator", "name", ("성과지표", "지표명")),
    *INDICATOR_DEFINITION_COLUMNS,
)

SUMMARY_COLUMNS = (
    Column("department", "실국명", "department", "name", ("실국",), required=True),
    Column("department_code", "실국코드", "department code"),
    Column("strategic_goals", "전략목표수", "strategic goals", "count"),
    Column("policy_goals", "정책사업목표 개수", "policy goals", "count", ("정책사업목표수",)),
    Column("indicators", "지표수", "indicators", "count", ("성과지표수",)),
    Column("unit_programs", "단위사업수", "unit programs", "count"),
    Column("budget", "예산액", "budget", "amount", ("예산액(백만원)",)),
    Column("prior_budget", "전년도예산액", "prior-year budget", "amount", ("prior budget",)),
    Column("change", "비교증감", "change", "amount", ("증감",)),
)

UNIT_PROGRAM_COLUMNS = (
    Column("department", "실국명", "department", "name", ("실국",), required=True),
    Column("strategic_goal", "전략목표명", "strategic goal", "name", required=True),
    Column("policy_goal", "정책사업목표명", "policy goal", "name", required=True),
    Column("unit_program_code", "단위사업코드", "unit program code"),
    Column("unit_program", "단위사업명", "unit program", "name", required=True),
    Column("budget", "예산액", "budget", "amount", ("예산액(백만원)",)),
    Column("prior_budget", "전년도예산액", "prior-year budget", "amount"),
)


@dataclass(frozen=True)
class TableKind:
    key: str
    title: object  # lazy Korean title, also the xlsx sheet name
    columns: tuple
    signature: tuple  # headers that identify the table


TABLES = (
    TableKind(
        "hierarchy",
        gettext_lazy("Plan and budget share"),
        HIERARCHY_COLUMNS,
        ("policy_goal", "indicator"),
    ),
    TableKind(
        "summary",
        gettext_lazy("Summary by department"),
        SUMMARY_COLUMNS,
        ("strategic_goals", "indicators"),
    ),
    TableKind(
        "unit_programs", gettext_lazy("Unit programs"), UNIT_PROGRAM_COLUMNS, ("unit_program",)
    ),
)
TABLES_BY_KEY = {t.key: t for t in TABLES}
# Sheet names as exported; stable Korean strings, not translated, so files round-trip.
SHEET_NAMES = {"summary": "총괄", "hierarchy": "성과계획 및 재원비중", "unit_programs": "단위사업"}


@dataclass
class RawTable:
    kind: TableKind
    file: str
    sheet: str
    headers: dict  # column key -> (index, printed header)
    rows: list = field(default_factory=list)  # (row number, [cells])
    warnings: list = field(default_factory=list)  # Korean lines for the preview


# ---------------------------------------------------------------- finding the tables


def _signature_headers(kind):
    return ", ".join(c.header for c in kind.columns if c.key in kind.signature)


# A header row further down than this is taken for data: titles and notes above a table
# rarely run longer (the printed plan has a title, a unit line and a blank row).
MAX_HEADER_ROWS = 30
ALL_PLAN_COLUMNS = tuple({c.key: c for t in TABLES for c in t.columns}.values())


def _matched_kind(cells, sheet):
    """(table kind, {column key: (index, printed header)}) of a header row, or (None, None)."""
    normalized = [normalize_header(c) for c in cells]
    for kind in TABLES:
        headers = match_headers(cells, kind.columns, normalized, sheet.hidden_columns)
        if all(key in headers for key in kind.signature):
            return kind, headers
    return None, None


def _missing_columns(kind, headers):
    return [c.header for c in kind.columns if c.required and c.key not in headers]


def two_row_header(upper, lower, columns):
    """One header row of a header printed on two, as the source prints table 가: a title over
    a group of columns (성과계획 over the counts, 예산액 over the money) and a cell merged
    down (실국명). A column is named by its lower cell, or by its upper one where the lower
    is empty (merged down); an upper and lower cell that together name a column (예산액 over
    (백만원)) are read together."""
    cells = []
    for index in range(max(len(upper), len(lower))):
        top = upper[index] if index < len(upper) else None
        bottom = lower[index] if index < len(lower) else None
        top_text, bottom_text = str(top or "").strip(), str(bottom or "").strip()
        joined = top_text + bottom_text
        if not bottom_text:
            cells.append(top)
        elif top_text and any(c.accepts(normalize_header(joined)) for c in columns):
            cells.append(joined)
        else:
            cells.append(bottom)
    return cells


def _find_table(name, sheet):
    """The table a sheet holds: its header row is one of the first MAX_HEADER_ROWS rows (with
    the row above it, where the header is printed on two rows)."""
    above = None
    for number, cells in sheet.rows[:MAX_HEADER_ROWS]:
        kind, headers = _matched_kind(cells, sheet)
        if kind is not None and above is not None and _missing_columns(kind, headers):
            joined = two_row_header(above, cells, kind.columns)
            joined_kind, joined_headers = _matched_kind(joined, sheet)
            if joined_kind is kind and not _missing_columns(kind, joined_headers):
                cells, headers = joined, joined_headers
        if kind is not None:
            return _raw_table(name, sheet, number, cells, kind, headers)
        above = cells
    return None


def _raw_table(name, sheet, number, cells, kind, headers):
    """The RawTable below the header row `number`, or TableReadError for a bad header."""
    missing = _missing_columns(kind, headers)
    if missing:
        raise missing_columns_error(name, sheet.title, number, missing)
    errors, warnings = header_problems(name, sheet, number, cells, kind.columns, headers)
    if errors:
        raise TableReadError(errors)
    warnings += hidden_warnings(name, sheet, number)
    for hint in close_header_hints(cells, kind.columns):
        warnings.append(
            _("%(file)s, sheet %(sheet)s: the column %(hint)s? is not read")
            % {"file": name, "sheet": sheet.title, "hint": hint}
        )
    body = [(n, c) for n, c in sheet.rows if n > number]
    return RawTable(kind, name, sheet.title, headers, body, warnings)


def _has_data(sheet):
    return any(any(c not in (None, "") for c in cells) for _n, cells in sheet.rows)


def _no_table_error(name, sheet):
    """A sheet with data but no header row found: what was expected, and the near misses."""
    expected = " / ".join(_signature_headers(k) for k in TABLES)
    message = _(
        "no plan table found: one of the first %(rows)s rows must hold the column headers "
        "(%(expected)s)"
    ) % {"rows": MAX_HEADER_ROWS, "expected": expected}
    hints = []
    for _number, cells in sheet.rows[:MAX_HEADER_ROWS]:
        hints += [h for h in close_header_hints(cells, ALL_PLAN_COLUMNS) if h not in hints]
    if hints:
        message += " " + _("did you mean: %(hints)s?") % {"hints": ", ".join(hints[:5])}
    return TableReadError.of_file(name, message, sheet.title)


def read_tables(files):
    """Read [(file name, bytes)] into RawTables; raises TableReadError listing every problem.

    Every sheet with data must hold a plan table: a sheet skipped in silence would import a
    plan without the table the user meant to give."""
    tables, errors = [], []
    for name, data in files:
        try:
            sheets = read_workbook(name, data)
            if not any(_has_data(sheet) for sheet in sheets):
                raise TableReadError.of_file(name, _("no plan table found in the file"))
            for sheet in sheets:
                if not _has_data(sheet):
                    continue
                try:
                    table = _find_table(name, sheet)
                except TableReadError as exc:
                    errors.extend(exc.errors)
                    continue
                if table is None:
                    errors.extend(_no_table_error(name, sheet).errors)
                    continue
                tables.append(table)
        except TableReadError as exc:
            errors.extend(exc.errors)
    if errors:
        raise TableReadError(errors)
    seen = {}
    for table in tables:
        if table.kind.key in seen:
            errors.append(
                RowError(
                    table.file,
                    None,
                    "",
                    None,
                    _("the %(table)s table is also in %(other)s; give each table once")
                    % {"table": table.kind.title, "other": seen[table.kind.key]},
                    table.sheet,
                )
            )
        seen[table.kind.key] = table.file
    if errors:
        raise TableReadError(errors)
    return tables


# ---------------------------------------------------------------- rows into a PlanData


def stored_places(column):
    """The decimal places a number column is stored with (None: not a number column)."""
    if column.kind == "amount":
        return AMOUNT_PLACES
    if column.kind == "share":
        return StrategicGoal._meta.get_field("declared_share").decimal_places
    if column.kind == "number":
        return Indicator._meta.get_field(column.key).decimal_places
    return None


class _RowReader:
    def __init__(self, table, errors):
        self.table, self.errors = table, errors
        self.columns = {c.key: c for c in table.kind.columns}
        # A number is read at the precision it is stored with, so that the same file
        # imported twice compares equal (a share formula holding 0.27867… is 0.28).
        self.places = {
            key: Decimal(1).scaleb(-places)
            for key, c in self.columns.items()
            if (places := stored_places(c)) is not None
        }
        # column -> {cell -> Decimal}: repeated figures parsed once, held once (per column:
        # each keeps its own decimals)
        self.numbers = {key: {} for key in self.columns}
        self.indexes = {key: index for key, (index, _printed) in table.headers.items()}
        self.cleaned = {}  # a text cell -> the name it reads as (names repeat on every row)
        # Table 가 prints a zero count or amount as `-`, as Korean tables do.
        self.dash_is_zero = table.kind.key == "summary"
        self._definition_keys = None
        self.choices = {}  # (choices, text) -> value: 상향, 결과, 연… on every row

    def has(self, key):
        return key in self.indexes

    def raw(self, cells, key):
        index = self.indexes.get(key)
        if index is None or index >= len(cells):
            return None
        value = cells[index]
        if type(value) is str:
            return unescape_formula(value) if value[:1] == "'" else value
        return whole_number(value)

    def error(self, number, key, value, message):
        header = self.table.headers[key][1] if key in self.table.headers else ""
        self.errors.append(
            RowError(self.table.file, number, header, value, message, self.table.sheet)
        )

    def text(self, cells, key):
        return self.cleaned_text(self.raw(cells, key))

    def cleaned_text(self, value):
        if type(value) is str:
            text = self.cleaned.get(value)
            if text is None:
                text = self.cleaned[value] = clean_name(value)
            return text
        if value is None:
            return ""
        return clean_name(whole_number(value))

    def name(self, number, cells, key):
        text = self.text(cells, key)
        if len(text) > NAME_MAX_LENGTH:
            self.error(
                number,
                key,
                text[:40] + "…",
                _("longer than %(max)s characters") % {"max": NAME_MAX_LENGTH},
            )
        return text

    def value(self, number, cells, key):
        column = self.columns[key]
        raw = self.raw(cells, key)
        if column.kind == "text":
            return self.cleaned_text(raw)
        if self.dash_is_zero and type(raw) is str and raw.strip() in DASHES:
            return 0 if column.kind == "count" else Decimal(0)
        try:
            if column.kind in ("amount", "share", "number"):
                if type(raw) not in (str, int, float, Decimal):  # None, a bool, a date…
                    return self.stored(key, parse_number(raw))
                # Repeated figures (every row of a goal repeats its budget) parsed once;
                # a workbook's float is its whole number where it is one (1000.0 → 1000).
                numbers = self.numbers[key]
                parsed = numbers.get(raw)
                if parsed is None:
                    parsed = parse_number(whole_number(raw))  # an error is never kept
                    parsed = numbers[raw] = self.stored(key, parsed)
                return parsed
            if column.kind == "count":
                return parse_count(raw)
            if column.kind == "choice":
                text = self.cleaned_text(raw)
                if not text:
                    return ""
                word = (column.choices, text)
                if word not in self.choices:  # an error is raised each time, never kept
                    self.choices[word] = choice_from_text(column.choices, text)
                return self.choices[word]
        except (NumberFormatError, ValueError) as exc:
            self.error(number, key, raw, str(exc))
            return None
        return self.cleaned_text(raw)

    def definition_keys(self):
        """The indicator definition columns the table has, worked out once."""
        if self._definition_keys is None:
            self._definition_keys = [
                c.key for c in INDICATOR_DEFINITION_COLUMNS if c.key in self.indexes
            ]
        return self._definition_keys

    def stored(self, key, value):
        return _stored(value, self.places.get(key))


def _stored(value, step):
    if value is None or step is None or value.as_tuple().exponent >= step.as_tuple().exponent:
        return value
    return value.quantize(step, rounding=ROUND_HALF_UP)


def _blank(cells):
    return all(c is None or str(c).strip() == "" for c in cells)


def _read_summary(table, plan, errors):
    reader = _RowReader(table, errors)
    index = _Index()
    seen = {}
    for number, cells in table.rows:
        if _blank(cells):
            continue
        name = reader.name(number, cells, "department")
        if not name:
            reader.error(number, "department", None, _("the department name is empty"))
            continue
        figures = Figures(
            **{key: reader.value(number, cells, key) for key in Figures.FIELDS if reader.has(key)}
        )
        if normalize_header(name) in TOTAL_ROW_NAMES:
            if plan.total is not None:
                reader.error(number, "department", name, _("a second total row"))
            plan.total = figures
            continue
        key = name_key(name)
        if key in seen:
            reader.error(
                number,
                "department",
                name,
                _("the department is listed twice (also row %(row)s)") % {"row": seen[key]},
            )
            continue
        seen[key] = number
        dept = _department(plan, name, index)
        dept.code = reader.text(cells, "department_code") or dept.code
        dept.declared = figures
        dept.source = SourceRef(table.file, number)
    plan.has_summary = True


class _Index:
    """Finds an entry of a list by its name_key as a scan would (the first match), indexing
    each list once: a national plan's rows must not rescan every department for each row.
    Only for lists that grow through it while it is in use."""

    def __init__(self):
        self._maps = {}  # id(list) -> (list, {name_key: entry})

    def get(self, items, key):
        held = self._maps.get(id(items))
        if held is None:
            found = {}
            for item in items:
                found.setdefault(name_key(item.name), item)
            held = self._maps[id(items)] = (items, found)
        return held[1].get(key)

    def add(self, items, key, item):
        items.append(item)
        self._maps[id(items)][1].setdefault(key, item)


def _department(plan, name, index):
    key = name_key(name)
    dept = index.get(plan.departments, key)
    if dept is not None:
        return dept
    dept = DepartmentData(name=name)
    index.add(plan.departments, key, dept)
    return dept


def _child(items, name, factory, index):
    key = name_key(name)
    item = index.get(items, key)
    if item is not None:
        return item, False
    item = factory(name)
    index.add(items, key, item)
    return item, True


def _hierarchy_names(reader, number, cells, previous):
    """The row's (department, strategic goal, policy goal, indicator) names, or None after
    reporting a missing one. Blank cells repeat the row above, as merged cells do in a
    printed table; `previous` is the row above's names and is updated."""
    dept_name = reader.name(number, cells, "department") or previous["department"]
    sg_name = reader.name(number, cells, "strategic_goal")
    pg_name = reader.name(number, cells, "policy_goal")
    ind_name = reader.name(number, cells, "indicator")
    same_dept = name_key(dept_name) == name_key(previous["department"])
    if not sg_name and same_dept:
        sg_name = previous["strategic_goal"]
    same_sg = same_dept and name_key(sg_name) == name_key(previous["strategic_goal"])
    if not pg_name and same_sg and ind_name:
        pg_name = previous["policy_goal"]
    if not dept_name:
        reader.error(number, "department", None, _("the department name is empty"))
        return None
    if not sg_name:
        reader.error(number, "strategic_goal", None, _("the strategic goal name is empty"))
        return None
    if ind_name and not pg_name:
        reader.error(number, "policy_goal", None, _("the indicator has no policy program goal"))
        return None
    previous.update(department=dept_name, strategic_goal=sg_name, policy_goal=pg_name)
    return dept_name, sg_name, pg_name, ind_name


def _take_goal_figures(reader, number, cells, sg, sg_key, first_row):
    """The strategic goal's budget and share: repeated on each of its rows, they must agree
    with the first row that gives them (`first_row`: (goal, column) -> row number)."""
    for key in ("budget", "share"):
        if not reader.has(key):
            continue
        value = reader.value(number, cells, key)
        if value is None:
            continue
        current = getattr(sg, key)
        if current is None:
            setattr(sg, key, value)
            first_row[(sg_key, key)] = number
        elif current != value:
            reader.error(
                number,
                key,
                reader.raw(cells, key),
                _(
                    "differs from the value given for the same strategic goal in row %(row)s "
                    "(%(value)s)"
                )
                % {"row": first_row[(sg_key, key)], "value": current},
            )


def _add_indicator(reader, number, cells, pg, name, key, seen_indicators):
    """The row's indicator under `pg`, unless the same one (`key`) was already read."""
    if key in seen_indicators:
        reader.error(
            number,
            "indicator",
            name,
            _("the same indicator is already in row %(row)s") % {"row": seen_indicators[key]},
        )
        return
    seen_indicators[key] = number
    attributes = {key: reader.value(number, cells, key) for key in reader.definition_keys()}
    pg.indicators.append(
        IndicatorData(
            name=name,
            code=reader.text(cells, "indicator_code"),
            attributes=attributes,
            source=SourceRef(reader.table.file, number),
        )
    )


def _read_hierarchy(table, plan, errors):
    reader = _RowReader(table, errors)
    index = _Index()
    previous = {"department": "", "strategic_goal": "", "policy_goal": ""}
    first_row = {}  # (strategic goal, column) -> row number where its figure was first given
    seen_indicators = {}
    totals = []  # the 계 rows: (row number, cells), checked once every goal is read
    for number, cells in table.rows:
        if _blank(cells):
            continue
        if _is_total_row(reader, cells):
            totals.append((number, cells))
            continue
        names = _hierarchy_names(reader, number, cells, previous)
        if names is None:
            continue
        dept_name, sg_name, pg_name, ind_name = names
        dept = _department(plan, dept_name, index)
        code = reader.text(cells, "department_code")
        if code:
            dept.code = code
        if dept.source.file == "":
            dept.source = SourceRef(table.file, number)
        here = SourceRef(table.file, number)
        sg, _created = _child(
            dept.strategic_goals,
            sg_name,
            lambda n, at=here: StrategicGoalData(name=n, source=at),
            index,
        )
        sg_key = (name_key(dept_name), name_key(sg_name))
        _take_goal_figures(reader, number, cells, sg, sg_key, first_row)
        if not pg_name:
            continue
        pg, _created = _child(
            sg.policy_goals, pg_name, lambda n, at=here: PolicyGoalData(name=n, source=at), index
        )
        if ind_name:
            ind_key = sg_key + (name_key(pg_name), name_key(ind_name))
            _add_indicator(reader, number, cells, pg, ind_name, ind_key, seen_indicators)
    for number, cells in totals:
        _check_hierarchy_total(reader, number, cells, plan)
    plan.has_hierarchy = True


def _is_total_row(reader, cells):
    """Table 나's 계 row: 계 (or 합계…) as its department or strategic goal, no goal below."""
    if reader.text(cells, "policy_goal") or reader.text(cells, "indicator"):
        return False
    return any(
        normalize_header(reader.text(cells, key)) in TOTAL_ROW_NAMES
        for key in ("department", "strategic_goal")
    )


def _check_hierarchy_total(reader, number, cells, plan):
    """A 계 row's budget is the sum of the strategic goals' budgets above it, and its share
    (비중) the sum of their shares, give or take the rounding each share carries."""
    goals = [sg for d in plan.departments for sg in d.strategic_goals]
    for key, message in (
        (
            "budget",
            _(
                "the total row's budget differs from the sum of the strategic goals' budgets "
                "(%(sum)s)"
            ),
        ),
        (
            "share",
            _(
                "the total row's share differs from the sum of the strategic goals' shares "
                "(%(sum)s)"
            ),
        ),
    ):
        declared = reader.value(number, cells, key) if reader.has(key) else None
        figures = [getattr(sg, key) for sg in goals if getattr(sg, key) is not None]
        if declared is None or (key == "share" and not figures):
            continue
        computed = sum(figures, Decimal(0))
        # Each share is rounded (to 2 decimals: ±0.005), and so is the total's.
        slack = Decimal("0.005") * (len(figures) + 1) if key == "share" else 0
        if abs(declared - computed) > slack:
            reader.error(number, key, reader.raw(cells, key), message % {"sum": computed})


def _read_unit_programs(table, plan, errors):
    reader = _RowReader(table, errors)
    index = _Index()
    seen = {}
    for number, cells in table.rows:
        if _blank(cells):
            continue
        names = [
            reader.name(number, cells, key)
            for key in ("department", "strategic_goal", "policy_goal", "unit_program")
        ]
        missing = [
            key
            for key, name in zip(
                ("department", "strategic_goal", "policy_goal", "unit_program"), names, strict=True
            )
            if not name
        ]
        if missing:
            for key in missing:
                reader.error(number, key, None, _("this cell must not be empty"))
            continue
        key = tuple(name_key(n) for n in names)
        if key in seen:
            reader.error(
                number,
                "unit_program",
                names[3],
                _("the same unit program is already in row %(row)s") % {"row": seen[key]},
            )
            continue
        seen[key] = number
        here = SourceRef(table.file, number)
        dept = _department(plan, names[0], index)
        sg, _c = _child(
            dept.strategic_goals,
            names[1],
            lambda n, at=here: StrategicGoalData(name=n, source=at),
            index,
        )
        pg, _c = _child(
            sg.policy_goals, names[2], lambda n, at=here: PolicyGoalData(name=n, source=at), index
        )
        pg.unit_programs.append(
            UnitProgramData(
                name=names[3],
                code=reader.text(cells, "unit_program_code"),
                budget=reader.value(number, cells, "budget") if reader.has("budget") else None,
                prior_budget=(
                    reader.value(number, cells, "prior_budget")
                    if reader.has("prior_budget")
                    else None
                ),
                source=SourceRef(table.file, number),
            )
        )
    plan.has_unit_programs = True


READERS = {
    "summary": _read_summary,
    "hierarchy": _read_hierarchy,
    "unit_programs": _read_unit_programs,
}


def read_plan_files(files):
    """Read [(file name, bytes)] into one PlanData; raises TableReadError with every problem."""
    tables = read_tables(files)
    plan, errors = PlanData(), []
    # The summary first: it fixes the departments' order as table 가 prints it.
    for key in ("summary", "hierarchy", "unit_programs"):
        for table in tables:
            if table.kind.key == key:
                READERS[key](table, plan, errors)
                plan.warnings.extend(table.warnings)
    if errors:
        raise TableReadError(errors)
    return plan


def read_plan_paths(paths):
    files = []
    for path in paths:
        with open(path, "rb") as handle:
            files.append((str(path).rsplit("/", 1)[-1], handle.read()))
    return read_plan_files(files)
