"""The results report (성과보고서) of a plan year, whole plan or one department.

Every figure of an indicator is its tracking row's (indicators.tracking.rows.tracking_rows:
the one place status, rate and year-to-date values are computed): target, year-end actual,
achievement rate, status and the values of each period (its trend). After the plan's year
the year-to-date value is the year-end value, following the indicator's aggregation (누계:
the sum of the periods, 최신값: the last value, 평균: their mean); during the year the report
shows the figures so far and says so.

Goals: for each strategic goal and policy goal the counts by status and the mean rate
(indicators.tracking.summaries.Tally), with its budget and share: a strategic goal's as on
the plan page (its budget over the sum of the plan's strategic-goal budgets, as the tracking
overview shows it); a policy goal's budget is the sum of its unit programs (budgets app), its
share over the sum of every unit program of the plan.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy, override
from django.utils.translation import gettext as _

from budgets.models import UnitProgram
from goals.models import PlanDepartment, PolicyGoal, StrategicGoal
from indicators import standing
from indicators.formats import annual_target_text, fmt_rate, fmt_value
from indicators.models import Aggregation, Indicator, IndicatorStanding, ResultStatus
from indicators.tracking.rows import tracking_rows
from indicators.tracking.rules import (
    DEFAULT_AGGREGATION,
    STATUS_LABELS,
    STATUSES,
    aggregation_of,
    bucket_of,
)
from indicators.tracking.summaries import Tally
from indicators.views.overview import plan_shares
from perfplan.money import budget_shares
from perfplan.scoping import restrict

from .models import ResultsReport, ResultText
from .texts import MissingReason, missing_reasons, requires_reason

# How a year-end value is formed, by the indicator's aggregation (the report says so).
AGGREGATION_NOTES = {
    Aggregation.SUM: gettext_lazy("running total: the sum of the periods"),
    Aggregation.LATEST: gettext_lazy("latest value: the last period's value"),
    Aggregation.AVERAGE: gettext_lazy("average: the mean of the periods"),
}
ROW_CHUNK = 2000  # indicators read per batch: bounded memory for a national plan
# The page shows a plan this large a page of departments at a time (the whole plan for
# print, PDF and xlsx): the summaries of every department from the stored standings
# (indicators.standing: the tracking rows' status and rate, kept), the rows of the page's.
PAGE_INDICATORS = 1000


def year_closed(plan, today):
    return today > date(plan.fiscal_year, 12, 31)


def plan_rows(plan, indicators, today=None, ids=None):
    """The tracking rows of `indicators` (a queryset of the plan's, already scoped; or their
    `ids`), in the plan's order, read in batches."""
    today = today or timezone.localdate()
    if ids is None:
        ids = list(indicators.in_plan(plan).order_by().values_list("pk", flat=True))
    rows = []
    for start in range(0, len(ids), ROW_CHUNK):
        batch = Indicator.objects.filter(pk__in=ids[start : start + ROW_CHUNK])
        rows.extend(tracking_rows(batch, plan, today, people=False))
    rows.sort(
        key=lambda r: (
            r.department.position,
            r.department.pk,
            r.strategic_goal.position,
            r.strategic_goal.pk,
            r.policy_goal.position,
            r.policy_goal.pk,
            r.indicator.position,
            r.indicator.pk,
        )
    )
    return rows


class ShownText:
    """What the report shows of a ResultText, without a model instance (a national plan
    has 10,000 texts; instances with their change-log bookkeeping took seconds)."""

    FIELDS = (
        "id",
        "indicator_id",
        "shortfall_reason",
        "improvement_plan",
        "status",
        "is_sample",
        "version",
    )
    __slots__ = ("pk", *FIELDS[1:])

    def __init__(self, *values):
        for name, value in zip(self.__slots__, values, strict=True):
            setattr(self, name, value)

    def get_status_display(self):
        return ResultStatus(self.status).label


def texts_by_indicator(texts):
    return {t.indicator_id: t for t in texts}


@dataclass
class IndicatorLine:
    """One indicator in the report: its tracking row's figures and its texts."""

    row: object  # indicators.tracking.rows.TrackingRow
    text: ShownText | None

    @property
    def indicator(self):
        return self.row.indicator

    @property
    def required(self):
        return requires_reason(self.row.status)

    @property
    def aggregation(self):
        return aggregation_of(self.row.indicator)

    @property
    def aggregation_note(self):
        return AGGREGATION_NOTES.get(self.aggregation, "")

    @property
    def target_text(self):
        return annual_target_text(self.row.indicator)

    @property
    def actual_text(self):
        return fmt_value(self.row.ytd_actual)

    @property
    def rate_text(self):
        return fmt_rate(self.row.rate)

    @property
    def status(self):
        return self.row.status

    @property
    def status_label(self):
        return STATUS_LABELS[self.row.status]

    @property
    def trend(self):
        """Each period's value as printed: [(label, value or "—")]."""
        return [(str(c.period.label), fmt_value(c.value) or "—") for c in self.row.cells]

    @property
    def trend_text(self):
        return " · ".join(f"{label} {value}" for label, value in self.trend)

    @property
    def is_sample(self):
        return bool(
            self.row.has_sample
            or self.row.indicator.is_sample
            or (self.text and self.text.is_sample)
        )


@functools.cache
def _status_words(language):
    """The status labels in `language` (read for 3,000 goal summaries of a national plan)."""
    with override(language):
        return {s: str(STATUS_LABELS[s]) for s in STATUSES}


class Summary:
    """A goal's (or department's) achievement summary: counts by status, the mean rate."""

    def __init__(self):
        self.tally = Tally()

    def count(self, row):
        self.tally.count(row.status, row.rate, bucket_of(row.rate), 0, 0, False)

    @property
    def total(self):
        return self.tally.total

    @property
    def counts(self):
        return [
            {"key": s, "label": STATUS_LABELS[s], "count": self.tally.by_status[s]}
            for s in STATUSES
        ]

    @property
    def mean_rate(self):
        return self.tally.mean_rate

    @property
    def mean_rate_text(self):
        return fmt_rate(self.tally.mean_rate)

    @property
    def text(self):
        """The statuses that occur with their counts: 달성 3 · 주의 1 · …"""
        words = _status_words(get_language())
        counts = self.tally.by_status
        return " · ".join(f"{words[s]} {counts[s]}" for s in STATUSES if counts[s])


class _Budgeted:
    """A goal's section with its budget and its share of the plan's, as the report prints them."""

    @property
    def budget_text(self):
        return fmt_value(self.budget)

    @property
    def share_text(self):
        return fmt_rate(self.share)


@dataclass
class PolicySection(_Budgeted):
    goal: PolicyGoal
    budget: Decimal | None = None
    share: Decimal | None = None
    lines: list = field(default_factory=list)
    summary: Summary = field(default_factory=Summary)


@dataclass
class StrategicSection(_Budgeted):
    goal: StrategicGoal
    budget: Decimal | None = None
    share: Decimal | None = None
    policy_goals: list = field(default_factory=list)
    summary: Summary = field(default_factory=Summary)


@dataclass
class DepartmentSection:
    department: PlanDepartment
    strategic_goals: list = field(default_factory=list)
    summary: Summary = field(default_factory=Summary)
    budget: Decimal | None = None
    share: Decimal | None = None

    @property
    def lines(self):
        return [line for sg in self.strategic_goals for pg in sg.policy_goals for line in pg.lines]

    @property
    def anchor(self):
        return f"dept-{self.department.pk}"

    @property
    def share_text(self):
        return fmt_rate(self.share)


@dataclass
class Report:
    plan: object
    state: ResultsReport | None
    departments: list
    summary: Summary
    missing: list  # texts.MissingReason, the required shortfall reasons not approved
    today: date
    department: PlanDepartment | None = None  # the one department shown, or None (all)
    # A page of a large plan: its sections (the others have summaries, no lines), which page
    # of how many, and what the whole plan's lines would say (sample data, aggregations).
    shown: list | None = None
    page: int = 1
    pages: list = field(default_factory=list)  # each page's plan department ids
    whole_sample: bool | None = None
    whole_aggregations: set | None = None

    @property
    def closed(self):
        return year_closed(self.plan, self.today)

    @property
    def is_final(self):
        return bool(self.state and self.state.is_final)

    @property
    def lines(self):
        return [line for d in self.departments for line in d.lines]

    @property
    def page_of(self):
        """Each department's page (plan department id -> page number)."""
        return {pk: n for n, ids in enumerate(self.pages, start=1) for pk in ids}

    @property
    def has_sample(self):
        if self.whole_sample is not None:
            return bool(self.state and self.state.is_sample) or self.whole_sample
        return bool(self.state and self.state.is_sample) or any(
            line.is_sample for line in self.lines
        )

    @property
    def aggregations(self):
        """The aggregations the report's indicators use, with how each year-end is formed."""
        used = self.whole_aggregations
        if used is None:
            used = {line.aggregation for line in self.lines}
        return [(Aggregation(a).label, AGGREGATION_NOTES[a]) for a in Aggregation if a in used]


def _policy_budgets(plan):
    """Each policy goal's budget (the sum of its unit programs) and its share of them all."""
    budgets = dict(
        UnitProgram.objects.in_plan(plan)
        .filter(budget__isnull=False)
        .order_by()
        .values_list("policy_goal_id")
        .annotate(total=Sum("budget"))
    )
    return budgets, budget_shares(budgets)


def _hierarchy(plan, user, department):
    departments = restrict(PlanDepartment.objects.filter(plan=plan), user).order_by(
        "position", "pk"
    )
    if department is not None:
        departments = departments.filter(pk=department.pk)
    departments = list(departments)
    strategic = list(
        StrategicGoal.objects.filter(plan_department__in=departments).order_by("position", "pk")
    )
    policy = list(
        PolicyGoal.objects.filter(strategic_goal__in=strategic).order_by("position", "pk")
    )
    return departments, strategic, policy


class _Standing:
    """A stored standing as Summary.count reads a row (status and rate)."""

    __slots__ = ("status", "rate", "department", "strategic", "policy", "indicator", "sample")

    def __init__(self, status, rate, department, strategic, policy, indicator, sample):
        self.status, self.rate, self.sample = status, rate, sample
        self.department, self.strategic, self.policy = department, strategic, policy
        self.indicator = indicator


def _standings(plan, user, today):
    """The plan's standings `user` may see, current `today`, in the plan's order."""
    standings = restrict(IndicatorStanding.objects.filter(plan=plan), user)
    standing.ensure(plan, standings, today)
    fields = ("status", "rate", "plan_department_id", "strategic_goal_id", "policy_goal_id")
    order = (
        "department_position",
        "plan_department_id",
        "strategic_goal_position",
        "strategic_goal_id",
        "policy_goal_position",
        "policy_goal_id",
        "position",
        "indicator_id",
    )
    rows = standings.order_by(*order).values_list(*fields, "indicator_id", "has_sample")
    return [_Standing(*row) for row in rows]


def _pages(departments, standings, size):
    """Consecutive departments of about `size` indicators a page: their ids, page by page."""
    counts = {}
    for s in standings:
        counts[s.department] = counts.get(s.department, 0) + 1
    pages, page, count = [], [], 0
    for d in departments:
        if page and count + counts.get(d.pk, 0) > size:
            pages.append(page)
            page, count = [], 0
        page.append(d.pk)
        count += counts.get(d.pk, 0)
    if page:
        pages.append(page)
    return pages


def build_report(plan, user, *, department=None, today=None, page=None):
    """The report of `plan` as `user` may see it (their departments' indicators, or all),
    for every department or the one given (a PlanDepartment). With `page` (a number) a plan
    of more than PAGE_INDICATORS indicators is read a page of departments at a time."""
    today = today or timezone.localdate()
    departments, strategic, policy = _hierarchy(plan, user, department)
    indicators = restrict(Indicator.objects.in_plan(plan), user)
    if department is not None:
        indicators = indicators.filter(**{Indicator.scope.to(PlanDepartment): department})
    standings, pages, ids = None, [], None
    if page is not None and department is None:
        ids = list(indicators.order_by().values_list("pk", flat=True))
        if len(ids) > PAGE_INDICATORS:
            standings = _standings(plan, user, today)
            pages = _pages(departments, standings, PAGE_INDICATORS)
    if len(pages) > 1:
        page = min(max(page, 1), len(pages))
        path = Indicator.scope.to(PlanDepartment)
        indicators = indicators.filter(**{f"{path}__in": pages[page - 1]})
        ids = None
    else:
        standings, pages = None, []
    rows = plan_rows(plan, indicators, today, ids)
    texts = restrict(ResultText.objects.in_plan(plan), user)
    if department is not None:
        texts = texts.filter(indicator__in=indicators)
    texts = texts_by_indicator(ShownText(*v) for v in texts.values_list(*ShownText.FIELDS))
    goal_shares, goal_budgets, dept_shares, dept_budgets = plan_shares(
        plan, [g.pk for g in strategic]
    )
    policy_budgets, policy_shares = _policy_budgets(plan)

    sections = {d.pk: DepartmentSection(d, budget=dept_budgets.get(d.pk)) for d in departments}
    for d in departments:
        sections[d.pk].share = dept_shares.get(d.pk)
    strategic_sections = {}
    for goal in strategic:
        section = StrategicSection(goal, goal_budgets.get(goal.pk), goal_shares.get(goal.pk))
        strategic_sections[goal.pk] = section
        sections[goal.plan_department_id].strategic_goals.append(section)
    policy_sections = {}
    for goal in policy:
        section = PolicySection(goal, policy_budgets.get(goal.pk), policy_shares.get(goal.pk))
        policy_sections[goal.pk] = section
        strategic_sections[goal.strategic_goal_id].policy_goals.append(section)

    total = Summary()
    for row in rows:
        line = IndicatorLine(row, texts.get(row.indicator.pk))
        pg = policy_sections[row.policy_goal.pk]
        pg.lines.append(line)
        if standings is None:
            for summary in (
                pg.summary,
                strategic_sections[row.strategic_goal.pk].summary,
                sections[row.department.pk].summary,
                total,
            ):
                summary.count(row)
    report = Report(
        plan=plan,
        state=ResultsReport.objects.filter(plan=plan).first(),
        departments=[sections[d.pk] for d in departments],
        summary=total,
        missing=[],
        today=today,
        department=department,
    )
    if standings is None:
        report.missing = missing_reasons(rows, texts)
        return report
    for s in standings:
        for summary in (
            policy_sections[s.policy].summary,
            strategic_sections[s.strategic].summary,
            sections[s.department].summary,
            total,
        ):
            summary.count(s)
    report.missing = _missing(standings, texts, sections)
    report.shown = [sections[pk] for pk in pages[page - 1]]
    report.page, report.pages = page, pages
    report.whole_sample = any(s.sample for s in standings) or any(
        t.is_sample for t in texts.values()
    )
    report.whole_aggregations = {
        a or DEFAULT_AGGREGATION
        for a in restrict(Indicator.objects.in_plan(plan), user)
        .order_by()
        .values_list("aggregation", flat=True)
        .distinct()
    }
    return report


def _missing(standings, texts, sections):
    """texts.missing_reasons, from the stored standings (the whole plan, in its order)."""
    wanted = []
    for s in standings:
        if not requires_reason(s.status):
            continue
        text = texts.get(s.indicator)
        if text is None or not text.shortfall_reason or text.status != ResultStatus.APPROVED:
            wanted.append((s, text))
    names = Indicator.objects.filter(pk__in=[s.indicator for s, _t in wanted]).only("name")
    by_id = {i.pk: i for i in names}
    return [
        MissingReason(by_id[s.indicator], sections[s.department].department, s.status, text)
        for s, text in wanted
    ]


def report_title(plan):
    return _("%(year)s results report") % {"year": plan.fiscal_year}
