"""The plan overview's figures, counted from the indicators' stored standings.

One query reads every shown indicator with its standing (indicators.standing computes the
outdated ones first); the counts are services.Tally's, the same as summarize()'s; the lines
follow the plan's order. Nothing is computed per period or per result here, so a whole plan
of 10,000 indicators costs one pass over 10,000 short rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from goals.models import PlanDepartment, StrategicGoal

from . import standing
from .models import Indicator
from .periods import FREQUENCY_OF_KEY, get_period
from .services import Tally

DEPT = "policy_goal__strategic_goal__plan_department"
FIELDS = (
    f"{DEPT}_id",
    "policy_goal__strategic_goal_id",
    "name",
    "is_sample",
    "standing__status",
    "standing__rate",
    "standing__bucket",
    "standing__due_count",
    "standing__entered_due_count",
    "standing__at_risk",
    "standing__forecast_rate",
    "standing__forecast_method",
    "standing__last_due_missing",
    "standing__has_sample",
)


@dataclass
class GroupKey:
    """A department (PlanDepartment) or a strategic goal line of the overview."""

    pk: int
    name: str
    department_id: int | None = None  # goals.Department, of a department line
    department_name: str = ""  # of a strategic goal line


@dataclass
class MissingEntry:
    """An indicator whose last ended period has no value yet."""

    indicator_id: int
    name: str
    period: object  # indicators.periods.Period


@dataclass
class Line:
    key: GroupKey | None = None
    tally: Tally = field(default_factory=Tally)
    missing_last: list = field(default_factory=list)


@dataclass
class Overview:
    total: Tally
    departments: list  # [Line], in the plan's order
    goals: list  # [Line], in the plan's order
    at_risk: list  # indicator ids projected to miss their target, worst first
    methods: set  # the forecast methods of those
    has_sample: bool


def plan_overview(plan, indicators, today, status=None):
    """The Overview of `indicators` (a scoped, filtered queryset of `plan`'s); only the
    indicators whose status is `status`, when given."""
    total = Tally()
    departments, goals = {}, {}
    risky, methods = [], set()
    has_sample = False
    year = plan.fiscal_year
    ordered = indicators.order_by(*Indicator._meta.ordering)
    for position, row in enumerate(standing.current_values(plan, ordered, FIELDS, today)):
        (pk, department_id, goal_id, name, is_sample, row_status, rate, bucket, due, entered,
         at_risk, forecast_rate, method, missing_key, sample_values) = row  # fmt: skip
        if status and row_status != status:
            continue
        counts = (row_status, rate, bucket, due, entered, at_risk)
        total.add(*counts)
        department = departments.get(department_id)
        if department is None:
            department = departments[department_id] = Line()
        department.tally.add(*counts)
        goal = goals.get(goal_id)
        if goal is None:
            goal = goals[goal_id] = Line()
        goal.tally.add(*counts)
        if missing_key:
            period = get_period(FREQUENCY_OF_KEY[missing_key], year, missing_key)
            department.missing_last.append(MissingEntry(pk, name, period))
        if at_risk:
            # at_risk_rows()' order: the lowest projected rate first, then the plan's order
            risky.append((forecast_rate is None, forecast_rate or 0, position, pk))
            methods.add(method)
        has_sample = has_sample or is_sample or sample_values
    return Overview(
        total=total,
        departments=_department_lines(departments),
        goals=_goal_lines(goals),
        at_risk=[pk for *_order, pk in sorted(risky)],
        methods=methods,
        has_sample=has_sample,
    )


def _department_lines(lines):
    keyed = PlanDepartment.objects.filter(pk__in=lines).order_by("position", "id")
    result = []
    for pk, department_id, name in keyed.values_list("pk", "department_id", "name"):
        line = lines[pk]
        line.key = GroupKey(pk, name, department_id=department_id)
        result.append(line)
    return result


def _goal_lines(lines):
    keyed = StrategicGoal.objects.filter(pk__in=lines).order_by(
        "plan_department__position", "plan_department_id", "position", "id"
    )
    result = []
    for pk, name, department_name in keyed.values_list("pk", "name", "plan_department__name"):
        line = lines[pk]
        line.key = GroupKey(pk, name, department_name=department_name)
        result.append(line)
    return result
