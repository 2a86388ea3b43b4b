"""Staff views inside the admin shell: my department's results grid, an indicator's page, the
plan overview, their exports, evidence (증빙자료), and the review steps taken in the grid
(submit, approve, return, a department's whole period).

Every queryset goes through perfplan.scoping.restrict (or get_or_deny): an id changed in a
URL never shows another department's data, it is a 404. Results are written only through
indicators.workflow.save_result, which enforces scoping, entry deadlines, review states and
optimistic locking; its refusals are shown where the value was typed. Review steps go
through indicators.workflow (submit, approve, return_results, bulk_approve), which decides and
refuses in Korean; the grid only shows the buttons a user's role, department and the loaded
results allow.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from urllib.parse import quote

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Q
from django.http import Http404, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from budgets.services import budget_shares
from goals.models import PlanDepartment, StrategicGoal
from perfplan.models import Plan
from perfplan.numbers import format_amount, format_share
from perfplan.scoping import department_ids, get_or_deny, restrict, sees_all

from . import charts
from . import evidence as evidence_rules
from .filters import TrackingFilter
from .forms import CellForm, EvidenceUploadForm, ExportForm
from .models import (
    Aggregation,
    Direction,
    EntryException,
    Evidence,
    Frequency,
    Indicator,
    IndicatorStanding,
    Result,
    ResultStatus,
)
from .services import is_sample_row

DEPT = "policy_goal__strategic_goal__plan_department"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_CELLS_PER_SAVE = 500
FREQUENCY_ORDER = (
    Frequency.MONTHLY,
    Frequency.QUARTERLY,
    Frequency.HALF_YEARLY,
    Frequency.YEARLY,
)
# What the grid shows locked or submittable; indicators.workflow decides on every write.
LOCKED_STATES = ResultStatus.LOCKED
SUBMITTABLE_STATES = ResultStatus.SUBMITTABLE
MAX_LISTED_REFUSALS = 10


# ---------------------------------------------------------------- formatting


def fmt_value(value):
    """An indicator value as Korean documents print it: 1,234 or 12.5; blank when missing."""
    if value is None:
        return ""
    return format_amount(Decimal(value).normalize())


def fmt_rate(rate):
    return "" if rate is None else f"{format_share(rate)}%"


def fmt_time(moment):
    if moment is None:
        return ""
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def fmt_target(row):
    if row.indicator.direction == Direction.RANGE and (
        row.ytd_target_min is not None or row.ytd_target_max is not None
    ):
        return f"{fmt_value(row.ytd_target_min)}–{fmt_value(row.ytd_target_max)}"
    return fmt_value(row.ytd_target)


def annual_target_text(indicator):
    if indicator.direction == Direction.RANGE and (
        indicator.target_min is not None or indicator.target_max is not None
    ):
        return f"{fmt_value(indicator.target_min)}–{fmt_value(indicator.target_max)}"
    return fmt_value(indicator.annual_target)


def is_cumulative(indicator):
    return indicator.aggregation == Aggregation.SUM


def chart_data(row):
    """The chart of a row: running totals for a summed indicator, otherwise per period."""
    indicator = row.indicator
    labels = [str(cell.period.label) for cell in row.cells]
    values = [cell.value for cell in row.cells]
    if is_cumulative(indicator):
        return charts.ChartData(
            labels=labels,
            targets=[cell.target for cell in row.cells],
            actuals=charts.cumulative_sums(values),
            cumulative=True,
            unit=indicator.unit,
        )
    band = None
    if indicator.direction == Direction.RANGE:
        band = (indicator.target_min, indicator.target_max)
    return charts.ChartData(
        labels=labels,
        targets=[cell.period_target for cell in row.cells],
        actuals=values,
        cumulative=False,
        unit=indicator.unit,
        band=band,
    )


def row_summary(row):
    """A row's computed figures as the grid shows them (also sent back after a save)."""
    return {
        "id": row.indicator.pk,
        "annual_target": annual_target_text(row.indicator),
        "ytd_actual": fmt_value(row.ytd_actual),
        "ytd_target": fmt_target(row),
        "rate": fmt_rate(row.rate),
        "status": row.status,
        "status_label": str(row.status_label),
        "last_update": fmt_time(row.last_update),
        "sparkline": str(charts.sparkline_svg(chart_data(row))),
    }


def _download(data, filename, content_type):
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _wants_json(request):
    return (
        request.headers.get("X-Requested-With") == "fetch"
        or "application/json" in request.headers.get("Accept", "")
        or request.content_type == "application/json"
    )


def _safe_next(request, fallback):
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


# ---------------------------------------------------------------- who may do what


def require_view(user):
    if not user.has_perm("indicators.view_indicator"):
        raise PermissionDenied


def may_enter(user):
    return user.has_perm("indicators.add_result") and user.has_perm("indicators.change_result")


def enterable_ids(user, indicators):
    """Ids of `indicators` whose results the user may enter (their departments, or all)."""
    if not may_enter(user):
        return set()
    # "enter" is not a model permission: restrict() narrows to the user's departments
    # unless they may change every department's data.
    return set(restrict(indicators, user, "enter").values_list("pk", flat=True))


@dataclass
class EntryWindow:
    """Which periods of a plan are open for entry today, with one query (see indicators.locks)."""

    plan: Plan
    today: date
    exceptions: set = field(default_factory=set)

    @classmethod
    def load(cls, plan, user, today):
        exceptions = set(
            restrict(
                EntryException.objects.filter(plan=plan, open_until__gte=today), user, "enter"
            ).values_list("department_id", "period")
        )
        return cls(plan, today, exceptions)

    def is_open(self, department_id, period_key):
        from .locks import entry_deadline

        if self.today <= entry_deadline(self.plan, period_key):
            return True
        return (department_id, period_key) in self.exceptions

    def closed_reason(self, department_name, period_key):
        from .locks import closed_message

        return closed_message(self.plan, department_name, period_key)


# ---------------------------------------------------------------- what is on screen


@dataclass
class Screen:
    """The plan, the filters and the tracking rows a view shows (and its export writes)."""

    plan: Plan | None
    plans: list
    filterset: TrackingFilter | None
    indicators: object  # the filtered, scoped Indicator queryset
    rows: list
    today: date

    @property
    def period_key(self):
        return self.filterset.period_value if self.filterset else None

    def query_string(self):
        """The filters as a URL query (for the export links: they export what is shown)."""
        return self.filterset.data.urlencode() if self.filterset else ""


def _pick_plan(request, plans, today):
    wanted = (request.GET.get("year") or "").strip()
    if wanted:
        for plan in plans:
            if str(plan.fiscal_year) == wanted:
                return plan
    for plan in plans:
        if plan.fiscal_year == today.year:
            return plan
    return plans[0] if plans else None


def build_screen(request, *, mine=False, with_rows=True):
    """The rows of what the user asked for: scoped, filtered, with status computed.

    Without rows (the overview counts standings instead) only the filtered indicators.
    """
    from .services import tracking_rows

    user = request.user
    require_view(user)
    today = timezone.localdate()
    plans = list(restrict(Plan.objects.all(), user).order_by("-fiscal_year"))
    plan = _pick_plan(request, plans, today)
    if plan is None:
        return Screen(None, plans, None, Indicator.objects.none(), [], today)
    base = restrict(Indicator.objects.all(), user).filter(**{f"{DEPT}__plan": plan})
    data = request.GET.copy()
    if not data.get("year"):
        data["year"] = str(plan.fiscal_year)
    if mine and not data.get("department") and department_ids(user):
        base = base.filter(**{f"{DEPT}__department_id__in": department_ids(user)})
    filterset = TrackingFilter(data, base, request=request, plan=plan, plans=plans)
    indicators = filterset.qs if filterset.is_valid() else base.none()
    rows = None
    if with_rows:
        rows = filterset.filter_rows(tracking_rows(indicators, plan, today, people=False))
    return Screen(plan, plans, filterset, indicators, rows, today)


def _context(request, title, **extra):
    return {
        **admin.site.each_context(request),
        "title": title,
        **extra,
    }


# ---------------------------------------------------------------- my department: the grid


@dataclass
class GridCell:
    cell: object
    input_value: str
    editable: bool
    lock_reason: str
    state: str
    state_label: str
    evidence_count: int
    is_sample: bool
    version: int
    return_reason: str = ""
    # the cell's 제출 button: "" none, "shown", or "hidden" (grid.js shows it once a value
    # is saved); the reviewer's 승인 / 반려 buttons
    submit_button: str = ""
    review_buttons: bool = False


@dataclass
class PeriodReview:
    """A department's review buttons for one period column (제출, 기간 일괄 승인)."""

    period: object
    submit: bool = False  # the user may submit here (the button is hidden when nothing is)
    submittable: int = 0
    approve: bool = False
    submitted: int = 0


@dataclass
class GridRow:
    row: object
    cells: list
    summary: dict
    is_sample: bool
    new_department: bool = False
    review: list | None = None  # [PeriodReview] on a department's first row, for reviewers


@dataclass
class GridGroup:
    frequency: str
    label: str
    periods: list
    rows: list


def _evidence_counts(user, indicators):
    counts = (
        restrict(Evidence.objects.filter(result__indicator__in=indicators), user)
        .values_list("result_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    return dict(counts)


class ReviewScope:
    """Which departments' results a user may submit, and approve or return, as
    indicators.workflow decides it (restrict's rule for results), from the user's
    permissions and assignments only: no query per row. The workflow checks again."""

    def __init__(self, user):
        from .workflow import may_review, may_submit

        active = bool(user.is_authenticated and user.is_active)
        self.may_submit = active and may_submit(user) and user.has_perm("indicators.change_result")
        self.may_review = active and may_review(user) and user.has_perm("indicators.view_result")
        self.all_change = sees_all(user, "change")
        self.all_view = sees_all(user, "view")
        self.departments = department_ids(user) if (self.may_submit or self.may_review) else ()

    @property
    def any(self):
        return self.may_submit or self.may_review

    def submits(self, department_id):
        return self.may_submit and (self.all_change or department_id in self.departments)

    def reviews(self, department_id):
        return self.may_review and (self.all_view or department_id in self.departments)


def _submittable(result):
    return (
        result is not None
        and result.status in SUBMITTABLE_STATES
        and result.value is not None
        and not result.is_sample
    )


def _period_reviews(group, scope, window):
    """Each department's PeriodReview per period column, put on its first row."""
    by_department = {}
    for line in group.rows:
        department = line.row.department
        reviews = by_department.get(department.pk)
        if reviews is None:
            reviews = by_department[department.pk] = [PeriodReview(p) for p in group.periods]
            for review in reviews:
                review.submit = scope.submits(department.department_id) and window.is_open(
                    department.department_id, review.period.key
                )
                review.approve = scope.reviews(department.department_id)
        for review, grid_cell in zip(reviews, line.cells, strict=False):
            if grid_cell.submit_button and _submittable(grid_cell.cell.result):
                review.submittable += 1
            if grid_cell.state == ResultStatus.SUBMITTED:
                review.submitted += 1
    for line in group.rows:
        if line.new_department:
            reviews = by_department[line.row.department.pk]
            if any(r.submit or (r.approve and r.submitted) for r in reviews):
                line.review = reviews


def grid_groups(screen, user):
    """The grid: one table per measurement frequency, each cell with what may be done to it."""
    if screen.plan is None:
        return []
    enterable = enterable_ids(user, screen.indicators)
    window = EntryWindow.load(screen.plan, user, screen.today)
    counts = _evidence_counts(user, screen.indicators)
    scope = ReviewScope(user)
    period_key = screen.period_key
    readonly_reason = _("You may view these results but not enter them.")
    # Result.get_status_display() per cell hashes every lazy label: translated once here.
    state_labels = {value: str(label) for value, label in ResultStatus.choices}
    locked_reason = _("%(state)s: it cannot be edited now.")
    groups = {}
    for row in screen.rows:
        cells = [c for c in row.cells if period_key is None or c.period.key == period_key]
        if not cells:
            continue
        frequency = cells[0].period.frequency
        group = groups.get(frequency)
        if group is None:
            group = groups[frequency] = GridGroup(
                frequency, Frequency(frequency).label, [c.period for c in cells], []
            )
        department = row.department
        submits = row.indicator.pk in enterable and scope.submits(department.department_id)
        reviews = scope.reviews(department.department_id)
        grid_cells = []
        for cell in cells:
            result = cell.result
            state = result.status if result else ""
            editable, reason = True, ""
            is_open = window.is_open(department.department_id, cell.period.key)
            if row.indicator.pk not in enterable:
                editable, reason = False, readonly_reason
            elif state in LOCKED_STATES:
                editable = False
                reason = locked_reason % {"state": state_labels.get(state, state)}
            elif not is_open:
                editable, reason = False, window.closed_reason(department.name, cell.period.key)
            submit_button = ""
            if submits and is_open and state not in LOCKED_STATES:
                if _submittable(result):
                    submit_button = "shown"
                elif editable and not (result and result.is_sample):
                    submit_button = "hidden"
            grid_cells.append(
                GridCell(
                    cell=cell,
                    input_value=fmt_value(cell.value),
                    editable=editable,
                    lock_reason=reason,
                    state=state,
                    state_label=state_labels.get(state, state) if result else "",
                    evidence_count=counts.get(result.pk, 0) if result else 0,
                    is_sample=bool(result and result.is_sample),
                    version=result.version if result else 0,
                    return_reason=(
                        result.return_reason if result and state == ResultStatus.RETURNED else ""
                    ),
                    submit_button=submit_button,
                    review_buttons=reviews and state == ResultStatus.SUBMITTED,
                )
            )
        previous = group.rows[-1].row.department if group.rows else None
        group.rows.append(
            GridRow(
                row=row,
                cells=grid_cells,
                summary=row_summary(row),
                is_sample=is_sample_row(row),
                new_department=previous is None or previous.pk != department.pk,
            )
        )
    if scope.any:
        for group in groups.values():
            _period_reviews(group, scope, window)
    return [groups[f] for f in FREQUENCY_ORDER if f in groups]


def my_department_view(request):
    screen = build_screen(request, mine=True)
    groups = grid_groups(screen, request.user)
    context = _context(
        request,
        _("My department"),
        screen=screen,
        groups=groups,
        tab="my",
        row_count=sum(len(g.rows) for g in groups),
        can_enter=may_enter(request.user),
        has_sample=any(r.is_sample for g in groups for r in g.rows),
        export_query=screen.query_string(),
        review_scope=ReviewScope(request.user),
    )
    return TemplateResponse(request, "indicators/my_department.html", context)


# ---------------------------------------------------------------- saving cells


def _cells_from_request(request):
    """[{indicator, period, value, note?, version}] from a JSON body or a form POST."""
    if request.content_type == "application/json":
        try:
            payload = json.loads(request.body or b"{}")
        except ValueError:
            return None
        cells = payload.get("cells") if isinstance(payload, dict) else None
        if not isinstance(cells, list) or not all(isinstance(c, dict) for c in cells):
            return None
        return cells
    form = CellForm(request.POST)
    if not form.is_valid():
        return None
    cell = dict(form.cleaned_data)
    if "note" not in request.POST:
        cell.pop("note", None)
    return [cell]


def _period_key(cell):
    return str(cell.get("period") or "").strip().upper()


def _as_int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def save_cells(user, cells):
    """Save the cells through workflow.save_results, which decides: all of them, or none.

    Returns one outcome per cell ({indicator, period, ok, value, version, …}, or {…, error,
    and for a stale copy the newer value and version}; when any cell is refused, the others
    say they were not saved either) and the indicators the user may see.
    """
    from .workflow import CellsRefused, CellWrite, save_results

    ids = {_as_int(c.get("indicator")) for c in cells} - {None}
    indicators = {
        i.pk: i
        for i in restrict(Indicator.objects.filter(pk__in=ids), user).select_related(
            f"{DEPT}__plan", f"{DEPT}__department"
        )
    }
    outcomes = [
        {"indicator": _as_int(c.get("indicator")), "period": _period_key(c), "ok": False}
        for c in cells
    ]
    writes, written = [], []
    for cell, out in zip(cells, outcomes, strict=True):
        indicator = indicators.get(out["indicator"])
        if indicator is None:
            out["error"] = _("This indicator does not exist or is not one you may see.")
            continue
        value = cell.get("value")
        value = value.strip() if isinstance(value, str) else value
        version = cell.get("version")
        writes.append(
            CellWrite(
                indicator,
                out["period"],
                None if value == "" else value,
                # The grid edits values only: a result's note is kept unless the note is sent.
                note=(cell.get("note") or "") if "note" in cell else None,
                expected_version=_as_int(version) if version not in (None, "") else None,
            )
        )
        written.append(out)
    if any(o.get("error") for o in outcomes):
        return _none_saved(outcomes), indicators
    try:
        results = save_results(user, writes)
    except CellsRefused as exc:
        for out, refused in zip(written, exc.outcomes, strict=True):
            if refused.error:
                out["error"] = refused.error
            if refused.conflict is not None:
                newer = refused.conflict.current
                out.update(
                    current=fmt_value(getattr(newer, "value", None)),
                    version=getattr(newer, "version", None),
                )
        return _none_saved(outcomes), indicators
    for out, saved in zip(written, results, strict=True):
        result = saved.result
        out.update(
            ok=True,
            value=fmt_value(result.value),
            version=result.version,
            state=result.status,
            state_label=str(result.get_status_display()),
            note=result.note,
            is_sample=result.is_sample,
        )
    return outcomes, indicators


def _none_saved(outcomes):
    """A save is all or nothing: the cells not refused themselves say why they were not saved."""
    refused = sum(1 for o in outcomes if o.get("error"))
    for out in outcomes:
        if not out.get("error"):
            out["error"] = ngettext(
                "Not saved: %(count)s other cell of this save was refused, and a save is "
                "all or nothing.",
                "Not saved: %(count)s other cells of this save were refused, and a save is "
                "all or nothing.",
                refused,
            ) % {"count": refused}
            out["held_back"] = True
    return outcomes


def _rows_for(user, indicator_ids):
    from .services import tracking_rows

    if not indicator_ids:
        return []
    queryset = restrict(Indicator.objects.filter(pk__in=indicator_ids), user)
    plans = {}
    for indicator in queryset.select_related(f"{DEPT}__plan"):
        p = indicator.policy_goal.strategic_goal.plan_department.plan
        plans[p.pk] = p
    rows = []
    for p in plans.values():
        rows += tracking_rows(queryset, p, timezone.localdate())
    return rows


IDEMPOTENCY_HEADER = "X-Idempotency-Key"


def save_view(request):
    """POST cells (JSON from the grid, or one cell from a form): all saved, or none.

    The page sends an idempotency key with each save (header X-Idempotency-Key, or the field
    idempotency_key) and the same key when it retries: the outcome is stored with the save,
    and a retry gets it back (workflow.answered_once) instead of being refused as stale.
    """
    from .workflow import answered_once, is_idempotency_key

    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    require_view(request.user)
    cells = _cells_from_request(request)
    key = request.headers.get(IDEMPOTENCY_HEADER) or request.POST.get("idempotency_key") or ""
    if cells is None or len(cells) > MAX_CELLS_PER_SAVE or (key and not is_idempotency_key(key)):
        message = _("The request could not be read; reload the page and try again.")
        if _wants_json(request):
            return JsonResponse({"ok": False, "error": message}, status=400)
        messages.error(request, message)
        return redirect(_safe_next(request, reverse("tracking:my_department")))

    def run():
        outcomes, _indicators = save_cells(request.user, cells)
        return {"ok": all(o["ok"] for o in outcomes), "cells": outcomes}

    if key:
        answer, replayed = answered_once(request.user, key, run)
    else:
        answer, replayed = run(), False
    outcomes, ok = answer["cells"], answer["ok"]
    touched = {o["indicator"] for o in outcomes if o["indicator"] is not None}
    rows = {row.indicator.pk: row_summary(row) for row in _rows_for(request.user, touched)}
    if _wants_json(request):
        body = {"ok": ok, "cells": outcomes, "rows": rows, "replayed": replayed}
        if len(outcomes) == 1:
            body["row"] = rows.get(outcomes[0]["indicator"])
            if ok:
                body["message"] = _("Saved.")
            else:
                body["error"] = outcomes[0].get("error")
        elif not ok:
            body["error"] = _("Nothing was saved: a save is all or nothing, see the cells marked.")
        return JsonResponse(body)
    for outcome in outcomes:
        if outcome["ok"]:
            messages.success(request, _("Saved."))
        else:
            messages.error(request, outcome.get("error") or _("Not saved."))
    return redirect(_safe_next(request, reverse("tracking:my_department")))


# ---------------------------------------------------------------- review steps in the grid


def _grid_url(request):
    return _safe_next(request, reverse("tracking:my_department"))


def _refused(request, messages_list):
    for message in messages_list[:MAX_LISTED_REFUSALS]:
        messages.error(request, message)
    if len(messages_list) > MAX_LISTED_REFUSALS:
        messages.error(
            request,
            _("…and %(count)s more refusals.")
            % {"count": len(messages_list) - MAX_LISTED_REFUSALS},
        )


def _done(request, step, count):
    from .workflow import APPROVE, RETURN, SUBMIT

    texts = {
        SUBMIT: ngettext("%(count)s result submitted.", "%(count)s results submitted.", count),
        APPROVE: ngettext("%(count)s result approved.", "%(count)s results approved.", count),
        RETURN: ngettext("%(count)s result returned.", "%(count)s results returned.", count),
    }
    messages.success(request, texts[step] % {"count": count})


def _cell_keys(values):
    """[(indicator id, period key)] from "indicator:period" values; None if one is unreadable."""
    keys = []
    for value in values:
        indicator, _sep, period = str(value).partition(":")
        indicator, period = _as_int(indicator), period.strip().upper()
        if indicator is None or not period:
            return None
        keys.append((indicator, period))
    return list(dict.fromkeys(keys))


def review_cells_view(request):
    """POST step (submit, approve, return) and cells ("indicator:period"), a reason to return.

    The results are looked up within what the user may see: a cell of another department is
    "not found", never touched. The workflow decides the step for all of them in one
    transaction (one refusal: nothing changes) and its refusals are shown as messages.
    """
    from .workflow import APPROVE, RETURN, SUBMIT, WorkflowError, approve, return_results, submit

    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    user = request.user
    require_view(user)
    step = request.POST.get("step")
    keys = _cell_keys(request.POST.getlist("cell"))
    if step not in (SUBMIT, APPROVE, RETURN) or not keys or len(keys) > MAX_CELLS_PER_SAVE:
        messages.error(request, _("The request could not be read; reload the page and try again."))
        return redirect(_grid_url(request))
    wanted = Q(pk__in=[])
    for indicator_id, period in keys:
        wanted |= Q(indicator_id=indicator_id, period=period)
    results = list(restrict(Result.objects.filter(wanted), user).order_by("pk"))
    if len(results) != len(keys):
        messages.error(
            request,
            _("A result to review does not exist or is not one you may see; nothing was changed."),
        )
        return redirect(_grid_url(request))
    try:
        with transaction.atomic():
            if step == SUBMIT:
                done = submit(user, results)
            elif step == APPROVE:
                done = approve(user, results)
            else:
                done = return_results(user, results, request.POST.get("reason", ""))
    except WorkflowError as exc:
        _refused(request, exc.messages)
    else:
        _done(request, step, len(done))
    return redirect(_grid_url(request))


def review_period_view(request):
    """POST step (submit or approve), plan, and target ("department:period"): the whole
    period of a department — its draft and returned results that have values are submitted
    (sample data is not), or every submitted one is approved (workflow.bulk_approve)."""
    from .locks import is_period_key, period_label
    from .workflow import APPROVE, SUBMIT, WorkflowError, bulk_approve, may_submit, submit

    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    user = request.user
    require_view(user)
    step = request.POST.get("step")
    department_id, _sep, period = (request.POST.get("target") or "").partition(":")
    department_id, period = _as_int(department_id), period.strip().upper()
    plan_id = _as_int(request.POST.get("plan"))
    if (
        step not in (SUBMIT, APPROVE)
        or None in (department_id, plan_id)
        or not is_period_key(period)
    ):
        messages.error(request, _("The request could not be read; reload the page and try again."))
        return redirect(_grid_url(request))
    plan_department = (
        restrict(PlanDepartment.objects.filter(plan_id=plan_id, department_id=department_id), user)
        .select_related("plan", "department")
        .first()
    )
    if plan_department is None:
        messages.error(
            request, _("This department is not one whose results you may review or submit.")
        )
        return redirect(_grid_url(request))
    params = {"department": plan_department.name, "period": period_label(period)}
    try:
        with transaction.atomic():
            if step == APPROVE:
                count = bulk_approve(user, plan_department.plan, plan_department.department, period)
                if not count:
                    messages.info(
                        request,
                        _("No result of %(department)s for %(period)s waits for approval.")
                        % params,
                    )
                    return redirect(_grid_url(request))
            else:
                if not may_submit(user):
                    raise WorkflowError(_("You may not submit results of %(department)s.") % params)
                ids = list(
                    restrict(
                        Result.objects.filter(
                            **{
                                f"indicator__{DEPT}": plan_department,
                                "period": period,
                                "status__in": SUBMITTABLE_STATES,
                                "value__isnull": False,
                                "is_sample": False,
                            }
                        ),
                        user,
                        "change",
                    ).values_list("pk", flat=True)
                )
                if not ids:
                    messages.info(
                        request,
                        _(
                            "%(department)s has no draft or returned result with a value for "
                            "%(period)s to submit."
                        )
                        % params,
                    )
                    return redirect(_grid_url(request))
                count = len(submit(user, ids))
    except WorkflowError as exc:
        _refused(request, exc.messages)
    else:
        _done(request, step, count)
    return redirect(_grid_url(request))


# ---------------------------------------------------------------- one cell: note and evidence


def _indicator_or_404(user, pk):
    return get_or_deny(
        Indicator.objects.select_related(f"{DEPT}__plan", f"{DEPT}__department"),
        user,
        "view",
        pk=pk,
    )


def _plan_of(indicator):
    return indicator.policy_goal.strategic_goal.plan_department.plan


def _period_or_404(indicator, key):
    from .periods import get_period

    try:
        return get_period(indicator.frequency, _plan_of(indicator).fiscal_year, key)
    except ValueError:
        raise Http404 from None


def _cell_permissions(user, indicator, period, result, today):
    """(may edit the value and note, may attach evidence, may delete evidence, reason)."""
    department = indicator.policy_goal.strategic_goal.plan_department
    if indicator.pk not in enterable_ids(user, Indicator.objects.filter(pk=indicator.pk)):
        return False, False, False, _("You may view these results but not enter them.")
    window = EntryWindow.load(_plan_of(indicator), user, today)
    if result is not None and result.status in LOCKED_STATES:
        reason = _("%(state)s: it cannot be edited now.") % {"state": result.get_status_display()}
        return False, False, False, reason
    if not window.is_open(department.department_id, period.key):
        return False, False, False, window.closed_reason(department.name, period.key)
    has_result = result is not None
    return (
        True,
        has_result and user.has_perm("indicators.add_evidence"),
        has_result and user.has_perm("indicators.delete_evidence"),
        "",
    )


def cell_context(request, indicator, period):
    from .services import tracking_rows

    user = request.user
    plan = _plan_of(indicator)
    today = timezone.localdate()
    result = (
        restrict(Result.objects.filter(indicator=indicator, period=period.key), user)
        .select_related("entered_by", "reviewed_by")
        .first()
    )
    files = []
    if result is not None:
        files = list(
            restrict(Evidence.objects.filter(result=result), user)
            .defer("content")
            .select_related("uploaded_by")
        )
    rows = tracking_rows(restrict(Indicator.objects.filter(pk=indicator.pk), user), plan, today)
    cell = next((c for c in rows[0].cells if c.period.key == period.key), None) if rows else None
    can_edit, can_attach, can_delete, reason = _cell_permissions(
        user, indicator, period, result, today
    )
    return {
        "indicator": indicator,
        "period": period,
        "plan": plan,
        "result": result,
        "cell": cell,
        "files": files,
        "can_edit": can_edit,
        "can_attach": can_attach,
        "can_delete": can_delete,
        "lock_reason": reason,
        "upload_form": EvidenceUploadForm(
            initial={"indicator": indicator.pk, "period": period.key}
        ),
        "accept": evidence_rules.ACCEPT_ATTRIBUTE,
        "max_size": evidence_rules.format_size(evidence_rules.max_evidence_bytes()),
        "kinds": evidence_rules.allowed_kinds_text(),
        "value_text": fmt_value(result.value if result else None),
        "target_text": fmt_value(cell.period_target if cell else None),
        "version": result.version if result else 0,
        # The form's save, answered once however often it is sent (workflow.answered_once).
        "save_key": uuid.uuid4().hex,
        "cell_url": reverse("tracking:cell", args=[indicator.pk, period.key]),
    }


def cell_view(request, indicator_id, period):
    require_view(request.user)
    indicator = _indicator_or_404(request.user, indicator_id)
    period = _period_or_404(indicator, period)
    context = cell_context(request, indicator, period)
    if request.GET.get("partial"):
        return TemplateResponse(request, "indicators/_cell_detail.html", context)
    context.update(
        _context(
            request,
            _("%(indicator)s · %(period)s") % {"indicator": indicator, "period": period.label},
            tab="my",
        )
    )
    return TemplateResponse(request, "indicators/cell.html", context)


def _evidence_answer(request, ok, message, indicator, period_key, fallback):
    if _wants_json(request):
        body = {"ok": ok, ("message" if ok else "error"): message}
        if ok:
            result = (
                restrict(
                    Result.objects.filter(indicator=indicator, period=period_key), request.user
                )
                .annotate(n=Count("evidence"))
                .first()
            )
            body["evidence_count"] = result.n if result else 0
        return JsonResponse(body, status=200 if ok else 400)
    (messages.success if ok else messages.error)(request, message)
    return redirect(_safe_next(request, fallback))


def evidence_upload_view(request):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    user = request.user
    require_view(user)
    indicator = _indicator_or_404(user, _as_int(request.POST.get("indicator")))
    period = _period_or_404(indicator, request.POST.get("period"))
    fallback = reverse("tracking:cell", args=[indicator.pk, period.key])
    result = restrict(Result.objects.filter(indicator=indicator, period=period.key), user).first()
    _edit, can_attach, _delete, reason = _cell_permissions(
        user, indicator, period, result, timezone.localdate()
    )
    if not can_attach:
        if result is None and not reason:
            reason = _("Enter the result first, then attach its evidence.")
        elif not reason:
            reason = _("You may not attach evidence to this result.")
        return _evidence_answer(request, False, reason, indicator, period.key, fallback)
    form = EvidenceUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        errors = "; ".join(str(e) for errs in form.errors.values() for e in errs)
        return _evidence_answer(request, False, errors, indicator, period.key, fallback)
    upload = form.cleaned_data["file"]
    evidence_rules.store(result, upload.name, form.content, form.kind, user)
    message = _("%(name)s is attached.") % {"name": evidence_rules.clean_name(upload.name)}
    return _evidence_answer(request, True, message, indicator, period.key, fallback)


def evidence_download_view(request, pk):
    require_view(request.user)
    item = get_or_deny(Evidence.objects.all(), request.user, "view", pk=pk)
    response = _download(bytes(item.content), item.name, item.content_type)
    response["Content-Security-Policy"] = "sandbox"
    return response


def evidence_delete_view(request, pk):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    user = request.user
    require_view(user)
    item = get_or_deny(
        Evidence.objects.defer("content").select_related("result__indicator"), user, "view", pk=pk
    )
    result = item.result
    indicator = _indicator_or_404(user, result.indicator_id)
    period = _period_or_404(indicator, result.period)
    fallback = reverse("tracking:cell", args=[indicator.pk, period.key])
    _edit, _attach, can_delete, reason = _cell_permissions(
        user, indicator, period, result, timezone.localdate()
    )
    deletable = restrict(Evidence.objects.filter(pk=item.pk), user, "delete").exists()
    if not (can_delete and deletable):
        message = reason or _("You may not remove this evidence.")
        return _evidence_answer(request, False, message, indicator, period.key, fallback)
    name = item.name
    item.delete()
    message = _("%(name)s is removed.") % {"name": name}
    return _evidence_answer(request, True, message, indicator, period.key, fallback)


# ---------------------------------------------------------------- an indicator's page


def indicator_view(request, pk):
    from goals.amendments import targets_side_by_side

    from .services import tracking_rows

    user = request.user
    require_view(user)
    indicator = _indicator_or_404(user, pk)
    plan = _plan_of(indicator)
    today = timezone.localdate()
    rows = tracking_rows(restrict(Indicator.objects.filter(pk=indicator.pk), user), plan, today)
    if not rows:
        raise Http404
    row = rows[0]
    files = {}
    for item in (
        restrict(Evidence.objects.filter(result__indicator=indicator), user)
        .defer("content")
        .order_by("result_id", "id")
    ):
        files.setdefault(item.result_id, []).append(item)
    original, revised = targets_side_by_side(indicator)
    entries = []
    for cell in row.cells:
        result = cell.result
        entries.append(
            {
                "cell": cell,
                "result": result,
                "value": fmt_value(cell.value),
                "target": fmt_value(cell.period_target),
                "cumulative_target": fmt_value(cell.target),
                "files": files.get(result.pk, []) if result else [],
                "cell_url": reverse("tracking:cell", args=[indicator.pk, cell.period.key]),
            }
        )
    context = _context(
        request,
        indicator.name,
        indicator=indicator,
        row=row,
        plan=plan,
        summary=row_summary(row),
        chart=charts.chart_svg(chart_data(row), css_id="indicator-chart"),
        cumulative=is_cumulative(indicator),
        entries=entries,
        original_target_text=fmt_value(original),
        revised_target_text=fmt_value(revised),
        baseline=fmt_value(indicator.baseline),
        weight=fmt_value(indicator.weight),
        amended=original != revised,
        annual_target=annual_target_text(indicator),
        is_sample=is_sample_row(row),
        forecast=row.forecast,
        forecast_projected=fmt_value(row.forecast.projected) if row.forecast else "",
        forecast_rate=fmt_rate(row.forecast.rate) if row.forecast else "",
        tab="my",
    )
    return TemplateResponse(request, "indicators/indicator.html", context)


# ---------------------------------------------------------------- the plan overview


def _bucket_bars(summary):
    total = sum(b["count"] for b in summary["buckets"]) or 1
    return [
        {**b, "width": round(b["count"] * 100 / total, 1), "index": i}
        for i, b in enumerate(summary["buckets"])
    ]


def plan_shares(plan, goal_ids):
    """Budget shares (비중 %) of strategic goals and departments, over the whole plan.

    A share is the plan's own figure (as on the plan page): the denominator is the sum of
    every strategic goal's budget; goal figures are returned for `goal_ids` only (the goals
    shown, already scoped).
    """
    goals = list(
        StrategicGoal.objects.filter(plan_department__plan=plan).values_list(
            "pk", "plan_department_id", "budget"
        )
    )
    goal_shares = budget_shares({pk: budget for pk, _d, budget in goals})
    by_department = {}
    for _pk, department_id, budget in goals:
        if budget is not None:
            by_department[department_id] = by_department.get(department_id, Decimal(0)) + budget
    shown = set(goal_ids)
    return (
        {pk: s for pk, s in goal_shares.items() if pk in shown},
        {pk: budget for pk, _d, budget in goals if pk in shown},
        budget_shares(by_department),
        by_department,
    )


# At-risk indicators listed on the overview page (a whole plan can have thousands).
AT_RISK_SHOWN = 100


@dataclass
class AtRiskIndicator:
    """What the at-risk list shows of an indicator."""

    pk: int
    name: str
    direction: str
    annual_target: Decimal | None
    target_min: Decimal | None
    target_max: Decimal | None


def at_risk_items(indicator_ids):
    """The at-risk list's lines for these indicators (worst first, as given)."""
    from .services import FORECAST_METHOD_TEXT

    fields = ("name", "direction", "annual_target", "target_min", "target_max")
    figures = ("projected", "forecast_rate", "forecast_method", "has_sample")
    found = {
        row[0]: row
        for row in Indicator.objects.filter(pk__in=indicator_ids)
        .order_by()
        .values_list("pk", *fields, f"{DEPT}__name", *(f"standing__{f}" for f in figures))
    }
    items = []
    for pk in indicator_ids:
        (_pk, name, direction, target, low, high, department, projected, rate, method,
         sample) = found[pk]  # fmt: skip
        indicator = AtRiskIndicator(pk, name, direction, target, low, high)
        items.append(
            {
                "indicator": indicator,
                "department_name": department,
                "is_sample": sample,
                "projected_value": projected,
                "rate_value": rate,
                "projected": fmt_value(projected),
                "rate": fmt_rate(rate),
                "target": annual_target_text(indicator),
                "method": FORECAST_METHOD_TEXT.get(method, ""),
            }
        )
    return items


def overview_data(screen, user, *, all_at_risk=False):
    """The overview's figures, counted from the indicators' standings (indicators.overview):
    a fixed number of queries and nothing computed per result, whatever the plan's size.

    The page lists the 100 worst at risk and, up to LONG_LIST, the strategic goals; the
    exports (all_at_risk) list everything."""
    from .overview import LONG_LIST, plan_overview
    from .services import FORECAST_METHOD_TEXT

    if screen.plan is None:
        return None
    standings = IndicatorStanding.objects.filter(plan=screen.plan)
    if screen.filterset.narrows_indicators() or not sees_all(user):
        # the shown indicators: restricted to the user's departments and filtered
        standings = standings.filter(indicator__in=screen.indicators)
    overview = plan_overview(
        screen.plan,
        standings,
        screen.today,
        status=screen.filterset.status_value,
        at_risk_limit=None if all_at_risk else AT_RISK_SHOWN,
        goal_limit=None if all_at_risk else LONG_LIST,
    )
    goals = overview.goals or []
    goal_shares, goal_budgets, dept_shares, dept_budgets = plan_shares(
        screen.plan, [line.key.pk for line in goals]
    )
    for lines, shares, budgets in (
        (overview.departments, dept_shares, dept_budgets),
        (goals, goal_shares, goal_budgets),
    ):
        for line in lines:
            line.share, line.budget = shares.get(line.key.pk), budgets.get(line.key.pk)
    summary = overview.total.summary()
    methods = overview.methods or list(FORECAST_METHOD_TEXT)
    return {
        # The worst first, as many as a page can hold; the exports list them all.
        "at_risk_shown": AT_RISK_SHOWN,
        "at_risk_more": summary["at_risk"] - len(overview.at_risk),
        "summary": summary,
        "buckets": _bucket_bars(summary),
        "completeness_text": fmt_rate(summary["completeness"]["percent"]),
        "departments": overview.departments,
        "goals": overview.goals,
        "goal_count": overview.goal_count,
        "long_list": LONG_LIST,
        "at_risk": at_risk_items(overview.at_risk),
        "method_texts": [FORECAST_METHOD_TEXT[m] for m in methods],
        "has_sample": overview.has_sample,
    }


def overview_view(request):
    screen = build_screen(request, with_rows=False)
    data = overview_data(screen, request.user)
    context = _context(
        request,
        _("Plan overview"),
        screen=screen,
        data=data,
        tab="overview",
        export_query=screen.query_string(),
        has_sample=bool(data and data["has_sample"]),
    )
    return TemplateResponse(request, "indicators/overview.html", context)


# ---------------------------------------------------------------- exports


@dataclass
class Column:
    header: str
    kind: str = "text"


@dataclass
class SheetTable:
    """What goals.exports.write_xlsx / write_csv need of a table."""

    key: str
    sheet_name: str
    columns: list
    rows: list

    @property
    def headers(self):
        return [c.header for c in self.columns]


def _period_columns(rows, period_key):
    seen = {}
    for row in rows:
        for cell in row.cells:
            if period_key is None or cell.period.key == period_key:
                seen.setdefault(cell.period.key, cell.period)
    from .periods import ALL_PERIOD_KEYS

    return [seen[k] for k in ALL_PERIOD_KEYS if k in seen]


def grid_table(screen):
    """The grid as on screen: one line per indicator, a column per period shown."""
    periods = _period_columns(screen.rows, screen.period_key)
    columns = [
        Column(_("department")),
        Column(_("strategic goal")),
        Column(_("policy program goal")),
        Column(_("code")),
        Column(_("performance indicator")),
        Column(_("unit")),
        Column(_("direction")),
        Column(_("measurement frequency")),
        Column(_("annual target")),
        *[Column(f"{p.label} ({p.key})", "number") for p in periods],
        Column(_("year-to-date actual"), "number"),
        Column(_("year-to-date target"), "number"),
        Column(_("achievement rate (%)"), "number"),
        Column(_("status")),
        Column(_("last update")),
        Column(_("Sample data")),
    ]
    lines = []
    for row in screen.rows:
        indicator = row.indicator
        values = {c.period.key: c.value for c in row.cells}
        target = (
            annual_target_text(indicator)
            if indicator.direction == Direction.RANGE
            else indicator.annual_target
        )
        ytd_target = fmt_target(row) if indicator.direction == Direction.RANGE else row.ytd_target
        lines.append(
            [
                row.department.name,
                row.strategic_goal.name,
                row.policy_goal.name,
                indicator.code,
                indicator.name,
                indicator.unit,
                indicator.get_direction_display() if indicator.direction else "",
                indicator.get_frequency_display() if indicator.frequency else "",
                _normal(target),
                *[_normal(values.get(p.key)) for p in periods],
                _normal(row.ytd_actual),
                _normal(ytd_target),
                _normal(row.rate),
                str(row.status_label),
                fmt_time(row.last_update),
                _("Sample data") if is_sample_row(row) else "",
            ]
        )
    return SheetTable("grid", _("My department"), columns, lines)


def _normal(value):
    if isinstance(value, Decimal):
        return value.normalize() if value == value.to_integral_value() else value
    return value


def overview_tables(screen, data):
    from .services import STATUS_LABELS, STATUSES

    status_columns = [Column(str(STATUS_LABELS[s]), "count") for s in STATUSES]
    bucket_columns = [Column(b["label"], "count") for b in data["buckets"]] if data else []

    def group_cells(line):
        tally = line.tally
        return [
            tally.total,
            *[tally.by_status[s] for s in STATUSES],
            *tally.buckets.values(),
            line.mean_rate,
            line.budget,
            line.share,
            line.completeness,
            ", ".join(f"{m.name} ({m.period.label})" for m in line.missing_last),
            line.at_risk,
        ]

    tail = [
        Column(_("average achievement rate (%)"), "number"),
        Column(_("budget (million won)"), "amount"),
        Column(_("budget share (%)"), "share"),
        Column(_("completeness (%)"), "number"),
        Column(_("last due period not entered")),
        Column(_("at risk"), "count"),
    ]
    departments = SheetTable(
        "departments",
        _("By department"),
        [
            Column(_("department")),
            Column(_("indicators"), "count"),
            *status_columns,
            *bucket_columns,
            *tail,
        ],
        [[line.key.name, *group_cells(line)] for line in (data["departments"] if data else [])],
    )
    goals = SheetTable(
        "goals",
        _("By strategic goal"),
        [
            Column(_("department")),
            Column(_("strategic goal")),
            Column(_("indicators"), "count"),
            *status_columns,
            *bucket_columns,
            *tail,
        ],
        [
            [line.key.department_name, line.key.name, *group_cells(line)]
            for line in (data["goals"] if data else [])
        ],
    )
    risky = SheetTable(
        "at_risk",
        _("At risk"),
        [
            Column(_("department")),
            Column(_("performance indicator")),
            Column(_("annual target")),
            Column(_("projected year-end value"), "number"),
            Column(_("projected achievement rate (%)"), "number"),
            Column(_("how the projection is made")),
        ],
        [
            [
                item["department_name"],
                item["indicator"].name,
                item["target"],
                _normal(item["projected_value"]),
                _normal(item["rate_value"]),
                str(item["method"]),
            ]
            for item in (data["at_risk"] if data else [])
        ],
    )
    return [departments, goals, risky]


def _export(request, tables, stem, fallback):
    from goals.exports import write_csv, write_xlsx

    form = ExportForm(request.GET or {"format": "xlsx"})
    if not form.is_valid():
        raise Http404
    fmt = form.cleaned_data["format"]
    if fmt == "xlsx":
        return _download(write_xlsx(tables), f"{stem}.xlsx", XLSX_TYPE)
    key = form.cleaned_data.get("table") or tables[0].key
    table = next((t for t in tables if t.key == key), tables[0])
    encoding = form.cleaned_data.get("encoding") or "utf-8"
    try:
        data = write_csv(table, encoding)
    except UnicodeEncodeError as exc:
        messages.error(
            request,
            _("A character cannot be written in %(encoding)s (%(error)s); export as UTF-8.")
            % {"encoding": encoding, "error": exc},
        )
        return redirect(fallback)
    suffix = f"_{table.sheet_name}" if len(tables) > 1 else ""
    return _download(data, f"{stem}{suffix}.csv", f"text/csv; charset={encoding}")


def my_department_export_view(request):
    screen = build_screen(request, mine=True)
    year = screen.plan.fiscal_year if screen.plan else ""
    stem = f"{_('My department')}_{year}"
    fallback = reverse("tracking:my_department") + "?" + screen.query_string()
    return _export(request, [grid_table(screen)], stem, fallback)


def overview_export_view(request):
    screen = build_screen(request, with_rows=False)
    data = overview_data(screen, request.user, all_at_risk=True)
    year = screen.plan.fiscal_year if screen.plan else ""
    stem = f"{_('Plan overview')}_{year}"
    fallback = reverse("tracking:overview") + "?" + screen.query_string()
    return _export(request, overview_tables(screen, data), stem, fallback)


def home_view(request):
    require_view(request.user)
    return redirect("tracking:my_department")
