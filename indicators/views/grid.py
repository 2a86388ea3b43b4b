"""My department's results grid: one table per measurement frequency, each cell with what
may be done to it (enter, submit, approve, return), and the page that shows it."""

from __future__ import annotations

from dataclasses import dataclass, replace

from django.db.models import Count
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _

from perfplan.scoping import department_ids, restrict

from ..formats import fmt_value
from ..models import Evidence, Frequency, ResultStatus
from ..tracking.rows import is_sample_row
from .access import EntryWindow, ReviewScope, enterable_ids, may_enter
from .screen import as_int, build_screen, page_context, row_summary

FREQUENCY_ORDER = (
    Frequency.MONTHLY,
    Frequency.QUARTERLY,
    Frequency.HALF_YEARLY,
    Frequency.YEARLY,
)


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
    reopen_button: bool = False  # a plan admin's 다시 열기 (with a reason) on an approved cell


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
    current_period: str = ""  # the key of the period today falls in (the page opens there)


# A grid page of a user who sees every department (no department of their own) holds whole
# departments up to this many indicator rows (a larger department is split): a monthly row
# with a reviewer's buttons is up to ~12 KB of HTML (its ids repeated in every cell), so a
# page stays under ~300 KB at national size (indicators/tests/test_grid_paging.py).
GRID_PAGE_ROWS = 20
PLAN_DEPARTMENT = "policy_goal__strategic_goal__plan_department"


@dataclass
class GridPage:
    """One page of the all-department grid: parts of departments (plan department id,
    name, offset, count), in the plan's order."""

    number: int
    parts: list

    @property
    def rows(self):
        return sum(part[3] for part in self.parts)

    @property
    def label(self):
        first, last = self.parts[0], self.parts[-1]
        if first[0] != last[0]:
            return f"{first[1]} – {last[1]}"
        if first[2] or first[3] == GRID_PAGE_ROWS:  # a part of a department larger than a page
            return _("%(department)s, indicators %(first)s–%(last)s") % {
                "department": first[1],
                "first": first[2] + 1,
                "last": first[2] + first[3],
            }
        return first[1]


@dataclass
class GridPaging:
    pages: list
    current: GridPage
    total_rows: int

    @property
    def total_text(self):
        return f"{self.total_rows:,}"  # 10,000 (the page is rendered with localize off)

    @property
    def previous(self):
        return self.current.number - 1 if self.current.number > 1 else None

    @property
    def next(self):
        return self.current.number + 1 if self.current.number < len(self.pages) else None


def department_counts(plan, indicators, whole_plan_of=None):
    """[(plan department id, name, indicators)] of these indicators, in the plan's order.
    `whole_plan_of` (a user): they are every indicator of `plan` this user sees, counted
    from their standings (filed under their department: one table read by the plan's
    index, a fifth of the time of joining a national plan's indicators up to their
    departments)."""
    from ..models import IndicatorStanding

    if whole_plan_of is not None:
        rows = restrict(IndicatorStanding.objects.filter(plan=plan), whole_plan_of).values_list(
            "plan_department_id"
        )
    else:
        rows = indicators.values_list(PLAN_DEPARTMENT)
    counts = dict(rows.order_by().annotate(n=Count("pk")))
    departments = plan.departments.order_by("position", "pk").values_list("pk", "name")
    return [(pk, name, counts[pk]) for pk, name in departments if counts.get(pk)]


def department_pages(counts, rows_per_page=None):
    """The departments (department_counts) cut into pages of whole departments."""
    rows_per_page = rows_per_page or GRID_PAGE_ROWS
    pages, parts, size = [], [], 0
    for plan_department, name, n in counts:
        if parts and size + n > rows_per_page:
            pages.append(parts)
            parts, size = [], 0
        if n > rows_per_page:  # a department larger than a page: pages of its own
            pages += [
                [(plan_department, name, offset, min(rows_per_page, n - offset))]
                for offset in range(0, n, rows_per_page)
            ]
            continue
        parts.append((plan_department, name, 0, n))
        size += n
    if parts:
        pages.append(parts)
    return [GridPage(number, parts) for number, parts in enumerate(pages, start=1)]


def page_indicators(indicators, page):
    """The indicators of one grid page (their ids in one query, a split department's slice)."""
    if len(page.parts) == 1:
        plan_department, _name, offset, n = page.parts[0]
        ids = indicators.filter(**{PLAN_DEPARTMENT: plan_department}).values_list("pk", flat=True)[
            offset : offset + n
        ]
    else:
        departments = [part[0] for part in page.parts]
        ids = indicators.filter(**{f"{PLAN_DEPARTMENT}__in": departments}).values_list(
            "pk", flat=True
        )
    return indicators.filter(pk__in=list(ids))


def _of_status(screen, indicators):
    """With a status filter over several pages, the indicators whose stored standing has
    that status (made current first, as the overview counts them): the pages hold only rows
    that match (the rows' computed status still decides what is shown)."""
    from .. import standing
    from ..models import IndicatorStanding

    status = screen.filterset.status_value
    standings = IndicatorStanding.objects.filter(plan=screen.plan, indicator__in=indicators)
    standing.ensure(screen.plan, standings, screen.today)
    return indicators.filter(pk__in=standings.filter(status=status).values("pk"))


def paged_screen(request, screen):
    """The screen with its rows; for a user who sees every department (none of their own),
    only one page of departments is built (the exports still write everything)."""
    from ..tracking.rows import tracking_rows

    if screen.plan is None:
        return screen, None
    indicators, paging = screen.indicators, None
    if not department_ids(request.user):
        whole_plan_of = None if screen.filterset.narrows_indicators() else request.user
        pages = department_pages(department_counts(screen.plan, indicators, whole_plan_of))
        if len(pages) > 1 and screen.filterset.status_value:
            indicators = _of_status(screen, indicators)
            pages = department_pages(department_counts(screen.plan, indicators))
        if pages:
            wanted = as_int(request.GET.get("page")) or 1
            page = pages[min(max(wanted, 1), len(pages)) - 1]
            indicators = page_indicators(indicators, page)
            paging = GridPaging(pages, page, sum(p.rows for p in pages))
    rows = screen.filterset.filter_rows(
        tracking_rows(indicators, screen.plan, screen.today, people=False)
    )
    return replace(screen, indicators=indicators, rows=rows), paging


def _evidence_counts(user, indicators):
    counts = (
        restrict(Evidence.objects.filter(result__indicator__in=indicators), user)
        .values_list("result_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    return dict(counts)


def _submittable(result):
    return (
        result is not None
        and result.status in ResultStatus.SUBMITTABLE
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


def _current_period(cells, today):
    for cell in cells:
        period = cell.period
        if period.start and period.end and period.start <= today <= period.end:
            return period.key
    return ""


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
                frequency,
                Frequency(frequency).label,
                [c.period for c in cells],
                [],
                current_period=_current_period(cells, screen.today),
            )
        department = row.department
        submits = row.indicator.pk in enterable and scope.submits(department.department_id)
        reviews = scope.reviews(department.department_id)
        reopens = scope.reopens(department.department_id)
        grid_cells = []
        for cell in cells:
            result = cell.result
            state = result.status if result else ""
            editable, reason = True, ""
            is_open = window.is_open(department.department_id, cell.period.key)
            if row.indicator.pk not in enterable:
                editable, reason = False, readonly_reason
            elif state in ResultStatus.LOCKED:
                editable = False
                reason = locked_reason % {"state": state_labels.get(state, state)}
            elif not is_open:
                editable, reason = False, window.closed_reason(department.name, cell.period.key)
            submit_button = ""
            if submits and is_open and state not in ResultStatus.LOCKED:
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
                    reopen_button=reopens and state in ResultStatus.REOPENABLE,
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
    screen, paging = paged_screen(request, build_screen(request, mine=True, with_rows=False))
    groups = grid_groups(screen, request.user)
    context = page_context(
        request,
        _("My department"),
        screen=screen,
        groups=groups,
        tab="my",
        row_count=sum(len(g.rows) for g in groups),
        paging=paging,
        page_query=_page_query(request),
        can_enter=may_enter(request.user),
        has_sample=any(r.is_sample for g in groups for r in g.rows),
        export_query=screen.query_string(),
        review_scope=ReviewScope(request.user),
    )
    return TemplateResponse(request, "indicators/my_department.html", context)


def _page_query(request):
    """The page's filters as a query without its page number (the page links add theirs)."""
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()
