"""What the public may see of a plan, read once as plain data (cached by public.cache).

Only published plans (Plan.published_at set) and, of results and report texts, only the
approved ones: every query here filters on that, and nothing reads the change log. Table 가
is the plan's figures as declared (published); table 나 its strategic goals with their
budgets and shares (perfplan.money, as the plan page computes them). Achievement is the
tracking rules' (indicators.tracking) over approved results alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Prefetch
from django.utils import timezone
from django.utils.safestring import mark_safe

from goals.models import PlanDepartment, PolicyGoal, StrategicGoal
from indicators.formats import annual_target_text, fmt_figure, fmt_rate
from indicators.models import Indicator, ResultStatus
from indicators.tracking.rows import is_sample_row, tracking_rows
from indicators.tracking.rules import (
    ACHIEVED,
    BEHIND,
    CAUTION,
    NO_DATA,
    STATUS_LABELS,
    status_for,
)
from indicators.tracking.summaries import group_by
from perfplan.models import Plan
from perfplan.money import budget_shares

PUBLIC_RESULT_STATUSES = (ResultStatus.APPROVED,)
TOTAL_NAME = "계"


def published_plans():
    return Plan.objects.filter(published_at__isnull=False).order_by("-fiscal_year")


def published_plan(year):
    """The published plan of `year`, or None (an unpublished plan is not found)."""
    return published_plans().filter(fiscal_year=year).first()


def final_report(plan):
    """The plan's results report when it is final (None otherwise, or without the app)."""
    try:
        from reports.models import ResultsReport
    except ImportError:  # the reports app not installed: no report to show
        return None
    return ResultsReport.objects.filter(plan=plan, is_final=True).first()


@dataclass
class PlanData:
    plan: Plan
    table_ga: list  # dicts, the departments' declared figures, then the 계 row
    goals: list  # StrategicGoal with .share, .policy_goals_list (PolicyGoal with .indicators_list)
    rows: list  # tracking rows over approved results, the plan's order
    report: object = None
    has_sample: bool = False
    departments: list = field(default_factory=list)


def _table_ga(plan, departments):
    rows = [{"name": d.name, "department": d, **d.declared()} for d in departments]
    rows.append({"name": TOTAL_NAME, "department": None, "is_total": True, **plan.declared()})
    return rows


def _goals(plan):
    goals = StrategicGoal.objects.filter(plan_department__plan=plan)
    shares = budget_shares(dict(goals.order_by().values_list("pk", "budget")))
    goals = list(
        goals.select_related("plan_department")
        .prefetch_related(
            Prefetch(
                "policy_goals",
                queryset=PolicyGoal.objects.order_by("position", "id").prefetch_related(
                    Prefetch("indicators", queryset=Indicator.objects.order_by("position", "id"))
                ),
                to_attr="policy_goals_list",
            )
        )
        .order_by("plan_department__position", "plan_department_id", "position", "id")
    )
    for goal in goals:
        goal.share = goal.declared_share if goal.declared_share is not None else shares[goal.pk]
    return goals


def public_rows(plan, indicators, today=None):
    """Tracking rows of `indicators` (the plan's) over approved results, the plan's order."""
    today = today or timezone.localdate()
    rows = tracking_rows(
        indicators.order_by(*Indicator._meta.ordering),
        plan,
        today,
        people=False,
        statuses=PUBLIC_RESULT_STATUSES,
    )
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
    for row in rows:
        # A period without an approved value is, to the public, no data: its status is the
        # rate's so far (미입력 is the office's to-do, not the public's).
        row.status = status_for(
            row.rate, achieved=plan.threshold_achieved, caution=plan.threshold_caution
        )
    return rows


def plan_data(plan, today=None, *, department=None):
    """Everything the public pages and files show of `plan`, in a fixed number of queries;
    with `department` (a PlanDepartment of the plan) only its indicators' rows (its page)."""
    departments = list(
        PlanDepartment.objects.filter(plan=plan)
        .select_related("department")
        .order_by("position", "id")
    )
    indicators = Indicator.objects.in_plan(plan)
    if department is not None:
        indicators = indicators.filter(policy_goal__strategic_goal__plan_department=department)
    rows = public_rows(plan, indicators, today)
    report = final_report(plan)
    data = PlanData(
        plan=plan,
        table_ga=_table_ga(plan, departments),
        goals=_goals(plan) if department is None else [],
        rows=rows,
        report=report,
        departments=departments,
    )
    data.has_sample = any(is_sample_row(r) for r in rows) or bool(report and report.is_sample)
    return data


def approved_texts(plan, indicator_ids=None):
    """The approved report texts (미달성 사유, 개선방안) of a final report, by indicator id."""
    try:
        from reports.models import ResultText
    except ImportError:
        return {}
    texts = ResultText.objects.filter(
        indicator__in=Indicator.objects.in_plan(plan), status=ResultStatus.APPROVED
    )
    if indicator_ids is not None:
        texts = texts.filter(indicator_id__in=indicator_ids)
    return {t.indicator_id: t for t in texts.order_by()}


def status_label(status):
    return str(STATUS_LABELS.get(status, ""))


# The statuses the public sees (미입력 never: a period not approved is no data).
PUBLIC_STATUSES = (ACHIEVED, CAUTION, BEHIND, NO_DATA)
STATUS_COLOURS = {ACHIEVED: "#166534", CAUTION: "#b45309", BEHIND: "#b91c1c", NO_DATA: "#9ca3af"}


def status_bar(counts, width=160, height=14):
    """The counts by status as one stacked bar (decoration: the table beside it has the
    numbers, so it is hidden from screen readers)."""
    total = sum(counts.values())
    parts, x = [], 0.0
    for status in PUBLIC_STATUSES:
        if not total or not counts.get(status):
            continue
        w = width * counts[status] / total
        parts.append(
            f'<rect x="{x:.1f}" y="0" width="{w:.1f}" height="{height}" '
            f'fill="{STATUS_COLOURS[status]}"/>'
        )
        x += w
    return mark_safe(
        f'<svg class="status-bar" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" aria-hidden="true" focusable="false">'
        f'<rect width="{width}" height="{height}" fill="#f3f4f6"/>{"".join(parts)}</svg>'
    )


def summaries(rows, key):
    """Achievement per department, strategic goal or policy goal: counts by status (the
    public's), the mean rate of the approved figures and a bar of the counts."""
    out = []
    for group in group_by(rows, key):
        rates = [r.rate for r in group.rows if r.rate is not None]
        mean = sum(rates) / len(rates) if rates else None
        counts = group.summary["by_status"]
        out.append(
            {
                "key": group.key,
                "total": group.summary["total"],
                "statuses": [
                    {"key": s, "label": status_label(s), "count": counts.get(s, 0)}
                    for s in PUBLIC_STATUSES
                ],
                "bar": status_bar(counts),
                "mean_rate": fmt_rate(round(mean, 2) if mean is not None else None),
                "sample": any(is_sample_row(r) for r in group.rows),
            }
        )
    return out


def status_headers():
    return [{"key": s, "label": status_label(s)} for s in PUBLIC_STATUSES]


def indicator_figures(row):
    """What a public page and file show of one indicator's achievement."""
    indicator = row.indicator
    return {
        "target": annual_target_text(indicator),
        "baseline": fmt_figure(indicator, indicator.baseline),
        "actual": fmt_figure(indicator, row.ytd_actual),
        "ytd_target": fmt_figure(indicator, row.ytd_target),
        "rate": fmt_rate(row.rate),
        "status": row.status,
        "status_label": status_label(row.status),
        "upto": str(row.upto.label) if row.upto is not None else "",
        "sample": is_sample_row(row),
    }
