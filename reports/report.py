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
from indicators.formats import annual_target_text, fmt_rate, fmt_value
from indicators.models import Aggregation, Indicator, ResultStatus
from indicators.tracking.rows import tracking_rows
from indicators.tracking.rules import STATUS_LABELS, STATUSES, aggregation_of, bucket_of
from indicators.tracking.summaries import Tally
from indicators.views.overview import plan_shares
from perfplan.money import budget_shares
from perfplan.scoping import restrict

from .models import ResultsReport, ResultText
from .texts import missing_reasons, requires_reason

# How a year-end value is formed, by the indicator's aggregation (the report says so).
AGGREGATION_NOTES = {
    Aggregation.SUM: gettext_lazy("running total: the sum of the periods"),
    Aggregation.LATEST: gettext_lazy("latest value: the last period's value"),
    Aggregation.AVERAGE: gettext_lazy("average: the mean of the periods"),
}
ROW_CHUNK = 2000  # indicators read per batch: bounded memory for a national plan


def year_closed(plan, today):
    return today > date(plan.fiscal_year, 12, 31)


def plan_rows(plan, indicators, today=None):
    """The tracking rows of `indicators` (a queryset of the plan's, already scoped), in the
    plan's order, read in batches."""
    today = today or timezone.localdate()
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


@dataclass
class PolicySection:
    goal: PolicyGoal
    budget: Decimal | None = None
    share: Decimal | None = None
    lines: list = field(default_factory=list)
    summary: Summary = field(default_factory=Summary)

    @property
    def budget_text(self):
        return fmt_value(self.budget)

    @property
    def share_text(self):
        return fmt_rate(self.share)


@dataclass
class StrategicSection:
    goal: StrategicGoal
    budget: Decimal | None = None
    share: Decimal | None = None
    policy_goals: list = field(default_factory=list)
    summary: Summary = field(default_factory=Summary)

    @property
    def budget_text(self):
        return fmt_value(self.budget)

    @property
    def share_text(self):
        return fmt_rate(self.share)


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
    def has_sample(self):
        return bool(self.state and self.state.is_sample) or any(
            line.is_sample for line in self.lines
        )

    @property
    def aggregations(self):
        """The aggregations the report's indicators use, with how each year-end is formed."""
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


def build_report(plan, user, *, department=None, today=None):
    """The report of `plan` as `user` may see it (their departments' indicators, or all),
    for every department or the one given (a PlanDepartment)."""
    today = today or timezone.localdate()
    departments, strategic, policy = _hierarchy(plan, user, department)
    indicators = restrict(Indicator.objects.in_plan(plan), user)
    if department is not None:
        indicators = indicators.filter(**{Indicator.scope.to(PlanDepartment): department})
    rows = plan_rows(plan, indicators, today)
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
        for summary in (
            pg.summary,
            strategic_sections[row.strategic_goal.pk].summary,
            sections[row.department.pk].summary,
            total,
        ):
            summary.count(row)
    state = ResultsReport.objects.filter(plan=plan).first()
    return Report(
        plan=plan,
        state=state,
        departments=[sections[d.pk] for d in departments],
        summary=total,
        missing=missing_reasons(rows, texts),
        today=today,
        department=department,
    )


def report_title(plan):
    return _("%(year)s results report") % {"year": plan.fiscal_year}
