"""Results (실적) in bulk from a spreadsheet: one row per indicator and period.

For offices that collect results in spreadsheets. The same rules as the plan import:

* a preview first (new, changed with old → new, unchanged), nothing written before the
  confirmation; the whole file is one transaction; any bad row and nothing is written, with
  every error listed at once (file, sheet, row, column, the value, what is wrong);
* matching by natural keys only: the plan's fiscal year, the department name (or 실국코드),
  the indicator's name (or 지표코드; 정책사업목표명 tells apart two indicators of one name)
  and the period key;
* department scoping through perfplan.scoping: the importing user reaches only the
  departments and indicators restrict() gives them; a row for any other department is an
  error naming the row (the admin import of django-import-export ignores
  ModelAdmin.get_queryset; this one cannot write outside the user's departments);
* every row is decided by indicators.workflow, as a save in the grid is (write_refusals: the
  user's departments, a submitted or approved result is never overwritten, a period whose
  entry deadline has passed is refused unless an exception keeps it open); a period not yet
  begun is refused too; a changed value of a result approved once (reopened since) is
  marked "edited after approval", as the grid marks it; the fast bulk writers below write
  only what the workflow allowed, and the fingerprint of the preview covers the versions
  the rows were read at;
* the change log gets one entry per created or changed result, old → new, and one for
  the import, all under the import's ImportBatch (source "results").

Columns (Korean headers as exported, English accepted): 실국명, 실국코드 (optional),
정책사업목표명 (optional), 지표코드 and/or 성과지표명, 기간 (Q1 / 1분기 / M03 / 3월 / 상반기 /
연간 …), 실적, 비고. A row whose 실적 and 비고 are both blank is skipped (an import never
clears a value); a blank 비고 leaves the note as it is.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import NamedTuple

from django.contrib.contenttypes.models import ContentType
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from goals.models import PlanDepartment
from goals.tables import (
    Column,
    RowError,
    TableReadError,
    clean_name,
    match_headers,
    missing_columns_error,
    name_key,
    read_sheets,
)
from perfplan import imports
from perfplan.changelog import ChainWriter, current_context, plain
from perfplan.formats import unescape_formula
from perfplan.models import ImportBatch, Plan
from perfplan.numbers import NumberFormatError, format_amount, parse_number
from perfplan.scoping import restrict

from . import standing, workflow
from .models import Frequency, Indicator, Result, ResultStatus
from .periods import PERIOD_KEYS, get_period, parse_period_key
from .tracking.rules import frequency_of

SOURCE = "results"
BULK_BATCH = 2000
COPY_THRESHOLD = 500  # PostgreSQL: from this many new results on, COPY instead of INSERT
SHEET_NAME = "실적"
FILE_STEM = "실적"

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
TEMPLATE_COLUMNS = tuple(c for c in RESULT_COLUMNS if c.key != "department_code")
MAX_HEADER_SEARCH = 10

ACTION_LABELS = {
    "new": gettext_lazy("new"),
    "changed": gettext_lazy("changed"),
    "unchanged": gettext_lazy("unchanged"),
}
ACTIONS = tuple(ACTION_LABELS)
_LOG_ACTIONS = {"new": "create", "changed": "update"}


# ---------------------------------------------------------------- reading files


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


# ---------------------------------------------------------------- the import


class Current(NamedTuple):
    """A result as it is in the database: read as plain values, no model instances."""

    pk: int
    indicator_id: int
    period: str
    value: Decimal | None
    note: str
    status: str
    entered_by_id: int | None
    version: int
    edited_after_approval: bool


CURRENT_FIELDS = Current._fields


@dataclass
class ResultChange:
    action: str  # new, changed, unchanged
    row: ResultRow
    indicator: Indicator
    period: object  # indicators.periods.Period
    old_value: Decimal | None = None
    new_value: Decimal | None = None
    old_note: str = ""
    new_note: str = ""
    current: Current | None = None  # the result as it is (None: a new one)
    result_id: int | None = None  # known for a new result once written
    # A value changed over a result approved once (reopened since): marked as the grid does.
    marks_edited_after_approval: bool = False

    @property
    def pk(self):
        return self.current.pk if self.current is not None else self.result_id

    @property
    def action_label(self):
        return ACTION_LABELS[self.action]

    @property
    def department(self):
        return self.indicator.policy_goal.strategic_goal.plan_department

    @property
    def old_value_text(self):
        return format_amount(self.old_value)

    @property
    def new_value_text(self):
        return format_amount(self.new_value)

    @property
    def value_changed(self):
        return self.action == "changed" and self.old_value != self.new_value

    @property
    def note_changed(self):
        return self.action == "changed" and self.old_note != self.new_note


@dataclass
class ResultsImportResult:
    year: int
    errors: list = field(default_factory=list)
    changes: list = field(default_factory=list)
    skipped: list = field(default_factory=list)  # rows without a value or a note
    applied: bool = False
    dry_run: bool = False
    plan: Plan | None = None
    batch: ImportBatch | None = None
    department_pks: set = field(default_factory=set)  # the departments the rows are of

    @property
    def ok(self):
        return not self.errors

    def totals(self):
        totals = dict.fromkeys(ACTIONS, 0)
        for change in self.changes:
            totals[change.action] += 1
        totals["skipped"] = len(self.skipped)
        return totals

    @property
    def has_writes(self):
        return any(c.action != "unchanged" for c in self.changes)

    def fingerprint(self):
        """What the import would write; the confirmation must write exactly this."""
        items = sorted(
            (
                c.indicator.pk,
                c.period.key,
                c.action,
                plain(c.old_value),
                plain(c.new_value),
                c.old_note,
                c.new_note,
                c.current.version if c.current is not None else 0,  # what the write is based on
            )
            for c in self.changes
            if c.action != "unchanged"
        )
        return hashlib.sha256(json.dumps(items, ensure_ascii=False).encode()).hexdigest()


def import_results_files(year, files, *, user, dry_run=False, batch=None, today=None, **kwargs):
    """Read `files` and import them in one step (see import_results)."""
    return imports.run(
        RESULTS,
        year,
        files=files,
        user=user,
        dry_run=dry_run,
        batch=batch,
        source=SOURCE,
        today=today,
        **kwargs,
    )


def import_results(
    year,
    rows,
    *,
    user,
    dry_run=False,
    batch=None,
    today=None,
    read_errors=(),
    files=(),
    via="admin",
):
    """Preview (dry_run) or apply result rows for the plan of `year`, as `user`, in one
    step through the import runner (perfplan.imports.run). Atomic: all or nothing."""
    return imports.run(
        RESULTS,
        year,
        parsed=rows,
        read_errors=read_errors,
        files=files,
        user=user,
        dry_run=dry_run,
        batch=batch,
        source=SOURCE,
        today=today,
        via=via,
    )


def _read_step(files, year):
    try:
        return read_results_files(files, year=year)
    except TableReadError as exc:
        return None, list(exc.errors)


def _diff_step(result, rows, job):
    today = job.options.get("today") or timezone.localdate()
    _diff(result, job.year, rows, job.user, today)
    result.errors.sort(key=lambda e: (e.file, e.sheet, e.row or 0))


def _apply_step(result, _pending, job):
    _apply(result, job.user, result.department_pks)
    _log(result, current_context().batch, job.user)


RESULTS = imports.register(
    imports.ImportKind(
        name="results",
        read=_read_step,
        new_result=lambda year, dry_run: ResultsImportResult(year=year, dry_run=dry_run),
        diff=_diff_step,
        apply=_apply_step,
        fingerprint=lambda result: result.fingerprint(),
        summary=lambda result, job: {
            "counts": result.totals(),
            "via": job.options.get("via") or "admin",
        },
    )
)


def _user_or_none(user):
    return user if user is not None and getattr(user, "pk", None) else None


_PLAN_PATH = "policy_goal__strategic_goal__plan_department__plan"


def _diff(result, year, rows, user, today):
    errors = result.errors
    plan = restrict(Plan.objects.filter(fiscal_year=year), user, "view").first()
    if plan is None:
        errors.append(
            RowError(
                "", None, "", None, _("there is no %(year)s performance plan") % {"year": year}
            )
        )
        return
    result.plan = plan
    matched = _match_rows(result, plan, rows, user, today)
    if not matched:
        return

    # The results there are now, of the departments the file names (locked until the end).
    department_pks = result.department_pks = {pd.pk for _row, _ind, pd, _period in matched}
    indicator_by_id = {indicator.pk for _row, indicator, _pd, _period in matched}
    plan_results = Result.objects.filter(
        indicator__policy_goal__strategic_goal__plan_department__in=department_pks
    )
    locked = restrict(plan_results, user, "view").select_for_update(of=("self",))
    existing = {}
    for values in locked.values_list(*CURRENT_FIELDS):
        current = Current(*values)
        if current.indicator_id in indicator_by_id:
            existing[(current.indicator_id, current.period)] = current
    candidates = []
    for row, indicator, _pd, period in matched:
        current = existing.get((indicator.pk, period.key))
        new_note = row.note if row.note else (current.note if current else "")
        change = ResultChange(
            "new" if current is None else "changed",
            row,
            indicator,
            period,
            current.value if current else None,
            row.value,
            current.note if current else "",
            new_note,
            current,
        )
        if current is not None and current.value == row.value and current.note == new_note:
            change.action = "unchanged"
            result.changes.append(change)
            continue
        candidates.append(change)

    # The rules are indicators.workflow's, as for every other way in (one decision per row).
    refused = workflow.write_refusals(
        user,
        [(c.indicator, c.period.key, c.current) for c in candidates],
        today=today,
        within=plan_results,
    )
    for index, change in enumerate(candidates):
        message = refused.get(index)
        if message is None:
            result.changes.append(change)
            continue
        row = change.row
        column, value = _REFUSED_COLUMN.get(message.concerns, ("value", row.value_raw))
        if column == "department":
            value = row.department or row.department_code
        elif column == "period":
            value = row.period_raw
        errors.append(row.error(column, value, str(message)))
    approved_once = workflow.ever_approved(
        c.current.pk
        for c in result.changes
        if c.value_changed and not c.current.edited_after_approval
    )
    for change in result.changes:
        if change.value_changed and change.current.pk in approved_once:
            change.marks_edited_after_approval = True


# Which column a refusal of indicators.workflow points at in the file.
_REFUSED_COLUMN = {"scope": ("department", None), "period": ("period", None)}


def _match_rows(result, plan, rows, user, today):
    """[(row, indicator, plan department, period)] for the rows that name what they mean."""
    errors = result.errors
    # What the user may see, through the one scoping choke point.
    departments = list(
        restrict(PlanDepartment.objects.filter(plan=plan), user, "view").select_related(
            "department"
        )
    )
    dept_by_name = {name_key(pd.name): pd for pd in departments}
    dept_by_code = {pd.department.code: pd for pd in departments if pd.department.code}
    indicators = restrict(Indicator.objects.filter(**{_PLAN_PATH: plan}), user, "view")
    by_code = defaultdict(list)
    by_dept_name = defaultdict(list)
    for indicator in indicators.select_related(
        "policy_goal__strategic_goal__plan_department__department",
        "policy_goal__strategic_goal__plan_department__plan",
    ):
        pd = indicator.policy_goal.strategic_goal.plan_department
        if indicator.code:
            by_code[indicator.code].append(indicator)
        by_dept_name[(pd.pk, name_key(indicator.name))].append(indicator)
    matched, seen = [], {}
    for row in rows:
        if row.valid and row.value is None and not row.note:
            result.skipped.append(row)
            continue
        # A row with a bad cell is still matched, so that all its problems are listed at once.
        if not (row.department or row.department_code):
            continue
        pd = _match_department(row, dept_by_name, dept_by_code, errors, plan)
        if pd is None or not (row.indicator or row.indicator_code):
            continue
        indicator = _match_indicator(row, pd, by_code, by_dept_name, errors)
        if indicator is None or not row.valid:
            continue
        frequency = frequency_of(indicator)
        try:
            period = get_period(frequency, plan.fiscal_year, row.period_key)
        except ValueError:
            errors.append(
                row.error(
                    "period",
                    row.period_raw,
                    _("the indicator is measured %(frequency)s: its periods are %(keys)s")
                    % {
                        "frequency": Frequency(frequency).label,
                        "keys": ", ".join(PERIOD_KEYS[frequency]),
                    },
                )
            )
            continue
        key = (indicator.pk, period.key)
        if key in seen:
            errors.append(
                row.error(
                    "period",
                    row.period_raw,
                    _("the same indicator and period are already in row %(row)s")
                    % {"row": seen[key].row},
                )
            )
            continue
        seen[key] = row
        if period.start > today:
            errors.append(
                row.error(
                    "period",
                    row.period_raw,
                    _("%(period)s has not begun yet (it starts on %(start)s)")
                    % {"period": period.label, "start": period.start.isoformat()},
                )
            )
            continue
        matched.append((row, indicator, pd, period))
    return matched


def _match_department(row, by_name, by_code, errors, plan):
    pd = by_code.get(row.department_code) if row.department_code else None
    if row.department_code and pd is None:
        errors.append(
            row.error(
                "department_code",
                row.department_code,
                _("no department with this code in the %(year)s plan among your departments")
                % {"year": plan.fiscal_year},
            )
        )
        return None
    if pd is not None and row.department and name_key(row.department) != name_key(pd.name):
        errors.append(
            row.error(
                "department",
                row.department,
                _("the code %(code)s is the department %(name)s")
                % {"code": row.department_code, "name": pd.name},
            )
        )
        return None
    pd = pd or by_name.get(name_key(row.department))
    if pd is None:
        # The same answer whether the department exists elsewhere or not at all.
        errors.append(
            row.error(
                "department",
                row.department,
                _(
                    "no such department in the %(year)s plan among your departments: you may "
                    "only import results of your own departments"
                )
                % {"year": plan.fiscal_year},
            )
        )
    return pd


def _match_indicator(row, pd, by_code, by_dept_name, errors):
    if row.indicator_code:
        found = [i for i in by_code.get(row.indicator_code, []) if _dept_of(i) == pd]
        if not found:
            errors.append(
                row.error(
                    "indicator_code",
                    row.indicator_code,
                    _("no indicator with this code in %(department)s") % {"department": pd.name},
                )
            )
            return None
        if len(found) > 1:
            found = [i for i in found if name_key(i.name) == name_key(row.indicator)] or found
        indicator = found[0]
        if row.indicator and name_key(indicator.name) != name_key(row.indicator):
            errors.append(
                row.error(
                    "indicator",
                    row.indicator,
                    _("the code %(code)s is the indicator %(name)s")
                    % {"code": row.indicator_code, "name": indicator.name},
                )
            )
            return None
        return indicator
    candidates = by_dept_name.get((pd.pk, name_key(row.indicator)), [])
    if row.policy_goal:
        candidates = [
            i for i in candidates if name_key(i.policy_goal.name) == name_key(row.policy_goal)
        ]
    if not candidates:
        errors.append(
            row.error(
                "indicator",
                row.indicator,
                _("no such indicator in %(department)s") % {"department": pd.name}
                if not row.policy_goal
                else _("no such indicator under this policy program goal of %(department)s")
                % {"department": pd.name},
            )
        )
        return None
    if len(candidates) > 1:
        errors.append(
            row.error(
                "indicator",
                row.indicator,
                _(
                    "%(count)s indicators of %(department)s have this name; add the "
                    "정책사업목표명 or 지표코드 column to tell them apart"
                )
                % {"count": len(candidates), "department": pd.name},
            )
        )
        return None
    return candidates[0]


def _dept_of(indicator):
    return indicator.policy_goal.strategic_goal.plan_department


def _apply(result, user, department_pks):
    now = timezone.now()
    entered_by_id = getattr(_user_or_none(user), "pk", None)
    created = [c for c in result.changes if c.action == "new"]
    updated = [(c.new_value, c.new_note, c.pk) for c in result.changes if c.action == "changed"]
    if created:
        _insert_results(created, entered_by_id, now)
        # The new ids, by natural key: one query (executemany cannot return them everywhere).
        ids = {
            (indicator_id, period): pk
            for pk, indicator_id, period in Result.objects.filter(
                indicator__policy_goal__strategic_goal__plan_department__in=department_pks
            ).values_list("pk", "indicator_id", "period")
        }
        for change in created:
            change.result_id = ids[(change.indicator.pk, change.period.key)]
    if updated:
        _update_results(updated, entered_by_id, now)
        marked = [c.pk for c in result.changes if c.marks_edited_after_approval]
        for start in range(0, len(marked), BULK_BATCH):
            Result.objects.filter(pk__in=marked[start : start + BULK_BATCH]).update(
                edited_after_approval=True
            )
    # Written without signals: the indicators' standings are outdated now.
    standing.touch(c.indicator.pk for c in result.changes if c.action in ("new", "changed"))


def _rows_per_statement(connection, columns):
    limit = connection.features.max_query_params or 65535
    return max(1, min(BULK_BATCH, limit // columns))


def _insert_results(changes, entered_by_id, now):
    """New results written with multi-row INSERT statements (COPY on PostgreSQL).

    What bulk_create would write, without building a model instance per row (their
    __init__ and post_init signal cost more than the insert itself): every column gets its
    default, as a new Result would have, then the row's own values.
    """
    from django.db import connection

    meta = Result._meta
    quote = connection.ops.quote_name
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    template = Result(updated_at=now, entered_by_id=entered_by_id)
    constant = {
        f.attname: f.get_db_prep_save(getattr(template, f.attname), connection) for f in fields
    }
    value_field = meta.get_field("value")
    names = [f.attname for f in fields]
    head = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) VALUES "
    )
    placeholders = f"({', '.join(['%s'] * len(fields))})"
    params = []
    for change in changes:
        row = dict(constant)
        row["indicator_id"] = change.indicator.pk
        row["period"] = change.period.key
        row["value"] = value_field.get_db_prep_save(change.new_value, connection)
        row["note"] = change.new_note
        params.append([row[name] for name in names])
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and len(params) >= COPY_THRESHOLD:
            columns = ", ".join(quote(f.column) for f in fields)
            sql = f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN"
            with cursor.cursor.copy(sql) as copy:  # as the change log does for large batches
                for row in params:
                    copy.write_row(row)
            return
        step = _rows_per_statement(connection, len(fields))
        for start in range(0, len(params), step):
            chunk = params[start : start + step]
            cursor.execute(
                head + ", ".join([placeholders] * len(chunk)),
                [value for row in chunk for value in row],
            )


def _update_results(rows, entered_by_id, now):
    """[(value, note, pk)] written in a few statements, the version raised.

    Not QuerySet.bulk_update: its CASE WHEN per row and field grows with the square of the
    batch. PostgreSQL joins the new values (UPDATE … FROM), COPYed into a temporary table
    for large imports, else a VALUES list; elsewhere one statement is run for every row
    (executemany, a loop in the driver). The new version
    makes any open edit form of these results stale; a value over sample data makes the
    result real (as workflow.save_results does).
    """
    from django.db import connection

    meta = Result._meta
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    column = {
        name: quote(meta.get_field(name).column)
        for name in ("value", "note", "entered_by", "updated_at", "version", "is_sample")
    }
    pk = quote(meta.pk.column)
    value_field = meta.get_field("value")
    updated_at = meta.get_field("updated_at").get_db_prep_save(now, connection)
    prepared = [
        (pk_value, value_field.get_db_prep_save(value, connection), note)
        for value, note, pk_value in rows
    ]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and len(prepared) >= COPY_THRESHOLD:
            temp = quote("indicators_result_import")
            cursor.execute(
                f"CREATE TEMPORARY TABLE {temp} (id bigint, value numeric, note text) "
                "ON COMMIT DROP"
            )
            with cursor.cursor.copy(f"COPY {temp} (id, value, note) FROM STDIN") as copy:
                for row in prepared:
                    copy.write_row(row)
            cursor.execute(
                f"UPDATE {table} SET {column['value']} = v.value, {column['note']} = v.note, "
                f"{column['entered_by']} = %s, {column['updated_at']} = %s, "
                f"{column['is_sample']} = false, "
                f"{column['version']} = {table}.{column['version']} + 1 "
                f"FROM {temp} AS v WHERE {table}.{pk} = v.id",
                [entered_by_id, updated_at],
            )
            cursor.execute(f"DROP TABLE {temp}")
            return
        if connection.vendor == "postgresql":
            step = _rows_per_statement(connection, 3)
            for start in range(0, len(prepared), step):
                chunk = prepared[start : start + step]
                values = ", ".join(["(%s::bigint, %s::numeric, %s::text)"] * len(chunk))
                cursor.execute(
                    f"UPDATE {table} SET {column['value']} = v.value, {column['note']} = v.note, "
                    f"{column['entered_by']} = %s, {column['updated_at']} = %s, "
                    f"{column['is_sample']} = false, "
                    f"{column['version']} = {table}.{column['version']} + 1 "
                    f"FROM (VALUES {values}) AS v(id, value, note) WHERE {table}.{pk} = v.id",
                    [entered_by_id, updated_at, *(v for row in chunk for v in row)],
                )
            return
        sql = (
            f"UPDATE {table} SET {column['value']} = %s, {column['note']} = %s, "
            f"{column['entered_by']} = %s, {column['updated_at']} = %s, "
            f"{column['is_sample']} = 0, "
            f"{column['version']} = {column['version']} + 1 WHERE {pk} = %s"
        )
        params = [
            (value, note, entered_by_id, updated_at, pk_value) for pk_value, value, note in prepared
        ]
        for start in range(0, len(params), BULK_BATCH):
            cursor.executemany(sql, params[start : start + BULK_BATCH])


def _log(result, batch, user):
    """One entry per created or changed result (old → new); the import runner
    (perfplan.imports) adds the import's own.

    Department and year come from what the import matched, not from walking relations; the
    entries stream to the log as they are made (ChainWriter).
    """
    content_type_id = ContentType.objects.get_for_model(Result).pk
    entered_by_id = getattr(_user_or_none(user), "pk", None)
    with ChainWriter(batch=batch) as chain:
        for change in result.changes:
            if change.action == "new":
                values = {
                    "indicator_id": change.indicator.pk,
                    "period": change.period.key,
                    "value": change.new_value,
                    "note": change.new_note,
                    "status": ResultStatus.DRAFT,
                    "entered_by_id": entered_by_id,
                }
                changes = {k: [None, plain(v)] for k, v in values.items() if v not in (None, "")}
            elif change.action == "changed":
                current = change.current
                changes = {}
                if change.old_value != change.new_value:
                    changes["value"] = [plain(change.old_value), plain(change.new_value)]
                if change.old_note != change.new_note:
                    changes["note"] = [change.old_note, change.new_note]
                if current.entered_by_id != entered_by_id:
                    changes["entered_by_id"] = [current.entered_by_id, entered_by_id]
                if change.marks_edited_after_approval:
                    changes["edited_after_approval"] = [False, True]
            else:
                continue
            chain.append(
                _LOG_ACTIONS[change.action],
                content_type_id,
                str(change.pk),
                f"{change.indicator.name} {change.period.key}"[:300],
                change.department.department_id,
                result.year,
                changes,
            )


def describe(result):
    """Lines for the command line: the counts, then every error."""
    totals = result.totals()
    lines = [
        _(
            "results: %(new)s new, %(changed)s changed, %(unchanged)s unchanged, "
            "%(skipped)s skipped (no value)"
        )
        % totals
    ]
    for change in result.changes:
        if change.action == "changed":
            lines.append(
                f"  {change.action_label}: {change.department.name} › {change.indicator.name} "
                f"{change.period.key}: {plain(change.old_value)} → {plain(change.new_value)}"
            )
    for error in result.errors:
        lines.append(_("Error: %(error)s") % {"error": error})
    return lines


# ---------------------------------------------------------------- the template


class ResultsTable:
    """A results sheet for goals.exports' writers (write_xlsx / write_csv)."""

    key = "results"
    sheet_name = SHEET_NAME

    def __init__(self, rows, columns=TEMPLATE_COLUMNS):
        self.columns = columns
        self.rows = rows

    @property
    def headers(self):
        return [c.header for c in self.columns]


def template_table():
    """A blank results sheet with two example rows."""
    rows = [
        ["○○국", "주민 참여 확대", "", "주민교육 참석율", "1분기", Decimal("85.5"), ""],
        ["○○국", "주민 참여 확대", "", "민원처리 기간 단축도", "M03", Decimal("6"), "잠정치"],
    ]
    return ResultsTable(rows)


def filled_table(plan, user, today=None):
    """The user's indicators with one row per period begun so far, values as entered.

    Filled in and uploaded again, it changes only what was edited.
    """
    today = today or timezone.localdate()
    indicators = restrict(Indicator.objects.filter(**{_PLAN_PATH: plan}), user, "view")
    from .tracking.rows import tracking_rows

    rows = []
    for row in tracking_rows(indicators, plan, today):
        for cell in row.cells:
            if cell.period.start > today:
                continue
            rows.append(
                [
                    row.department.name,
                    row.policy_goal.name,
                    row.indicator.code,
                    row.indicator.name,
                    cell.period.key,
                    cell.value,
                    cell.result.note if cell.result else "",
                ]
            )
    return ResultsTable(rows)
