"""The plan overview's figures, counted by the database from the indicators' standings.

indicators.standing keeps each indicator's figures, filed under its plan and goals; the
overview makes the outdated ones current, then counts them grouped by strategic goal (the
department lines are the sums of their goals' lines), lists the indicators whose last due
period is missing and the worst at risk. A fixed handful of queries on one table, whatever
the plan's size; services.Tally holds the counts, as summarize() does for rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, Q, Sum

from goals.models import PlanDepartment, StrategicGoal

from . import standing
from .models import Indicator
from .periods import FREQUENCY_OF_KEY, get_period
from .services import BUCKETS, FORECAST_METHOD_TEXT, STATUSES, Tally

# Lines beyond this many are not listed on the page until a filter narrows them (the
# exports list them all): a national plan has 750 strategic goals, 2,500 policy goals.
LONG_LIST = 300

# The plan's order (as Indicator's), from the standing's own columns.
PLAN_ORDER = (
    "department_position",
    "plan_department_id",
    "strategic_goal_position",
    "strategic_goal_id",
    "policy_goal_position",
    "policy_goal_id",
    "position",
    "indicator_id",
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
    """A department or strategic goal line: its counts, and (set by the view) the budget
    and its share of the plan's."""

    key: GroupKey | None = None
    tally: Tally = field(default_factory=Tally)
    missing_last: list = field(default_factory=list)
    share: object = None  # Decimal %, or None
    budget: object = None  # Decimal 백만원, or None

    @property
    def summary(self):
        return self.tally.summary()

    @property
    def mean_rate(self):
        return self.tally.mean_rate

    @property
    def completeness(self):
        return self.tally.completeness

    @property
    def at_risk(self):
        return self.tally.at_risk


@dataclass
class Overview:
    total: Tally
    departments: list  # [Line], in the plan's order
    goals: list | None  # [Line], in the plan's order; None: more than the goal limit
    goal_count: int
    at_risk: list  # ids of indicators projected to miss their target, worst first
    methods: list  # the forecast methods of those (FORECAST_METHOD_TEXT keys)
    has_sample: bool


# The counts of one strategic goal's standings, in this order (see plan_overview).
COUNTS = (
    ("total", Count("pk")),
    *((f"status_{s}", Count("pk", filter=Q(status=s))) for s in STATUSES),
    *((f"bucket_{b[0]}", Count("pk", filter=Q(bucket=b[0]))) for b in BUCKETS),
    ("due", Sum("due_count")),
    ("entered", Sum("entered_due_count")),
    ("risky", Count("pk", filter=Q(at_risk=True))),  # not "at_risk": the field's name
    ("rate_sum", Sum("rate")),
    ("rated", Count("rate")),
    ("sample", Count("pk", filter=Q(has_sample=True))),
    *(
        (f"method_{m}", Count("pk", filter=Q(at_risk=True, forecast_method=m)))
        for m in FORECAST_METHOD_TEXT
    ),
)
_STATUSES = slice(3, 3 + len(STATUSES))  # after the two ids and the total
_BUCKETS = slice(_STATUSES.stop, _STATUSES.stop + len(BUCKETS))
_METHODS = tuple(FORECAST_METHOD_TEXT)


def _grouped(standings, plan, today):
    counts = {**dict(COUNTS), "stale": Count("pk", filter=standing.outdated(plan, today))}
    return list(
        standings.order_by()
        .values("strategic_goal_id", "plan_department_id")
        .annotate(**counts)
        .values_list("strategic_goal_id", "plan_department_id", *counts)
    )


def plan_overview(plan, standings, today, *, status=None, at_risk_limit=None, goal_limit=None):
    """The Overview of `standings` (a queryset of `plan`'s IndicatorStanding, narrowed as
    the indicators shown are); only the indicators whose status is `status`, when given;
    at most `at_risk_limit` at-risk ids; no goal lines when there are more than
    `goal_limit` (their counts are in the departments' lines all the same)."""
    if status:
        standing.ensure(plan, standings, today)  # before a stored status selects any
        standings = standings.filter(status=status)
    rows = _grouped(standings, plan, today)
    if not status and any(row[-1] for row in rows):  # outdated: compute, count again
        standing.ensure(plan, standings, today)
        rows = _grouped(standings, plan, today)
    tail = _BUCKETS.stop
    total = Tally()
    goals, departments = {}, {}
    methods, sample = set(), 0
    for row in rows:
        goal = goals[row[0]] = Line()
        goal.tally.merge(
            row[2], row[_STATUSES], row[_BUCKETS], *(v or 0 for v in row[tail : tail + 5])
        )
        departments.setdefault(row[1], Line()).tally.add(goal.tally)
        sample += row[tail + 5]
        methods.update(m for m, n in zip(_METHODS, row[tail + 6 : -1], strict=True) if n)
    for line in departments.values():
        total.add(line.tally)
    year = plan.fiscal_year
    missing = list(
        standings.exclude(last_due_missing="")
        .order_by(*PLAN_ORDER)
        .values_list("plan_department_id", "indicator_id", "last_due_missing")
    )
    # The names apart: joined in, PostgreSQL reads every plan's indicators to find them.
    names = dict(
        Indicator.objects.filter(pk__in=[pk for _d, pk, _k in missing])
        .order_by()
        .values_list("pk", "name")
    )
    for department_id, pk, key in missing:
        period = get_period(FREQUENCY_OF_KEY[key], year, key)
        departments[department_id].missing_last.append(MissingEntry(pk, names[pk], period))
    risky = standings.filter(at_risk=True).order_by("forecast_rate", *PLAN_ORDER)
    if at_risk_limit is not None:
        risky = risky[:at_risk_limit]
    department_lines = _department_lines(departments)
    shown = goal_limit is None or len(goals) <= goal_limit
    return Overview(
        total=total,
        departments=department_lines,
        goals=_goal_lines(goals, department_lines) if shown else None,
        goal_count=len(goals),
        at_risk=list(risky.values_list("indicator_id", flat=True)),
        methods=sorted(methods),
        has_sample=bool(sample),
    )


def _department_lines(lines):
    keyed = PlanDepartment.objects.filter(pk__in=lines).order_by("position", "id")
    result = []
    for pk, department_id, name in keyed.values_list("pk", "department_id", "name"):
        line = lines[pk]
        line.key = GroupKey(pk, name, department_id=department_id)
        result.append(line)
    return result


def _goal_lines(lines, department_lines):
    order = {line.key.pk: index for index, line in enumerate(department_lines)}
    names = {line.key.pk: line.key.name for line in department_lines}
    keyed = StrategicGoal.objects.filter(pk__in=lines).values_list(
        "pk", "name", "plan_department_id", "position"
    )
    result = []
    for pk, name, department_id, _position in sorted(
        keyed, key=lambda goal: (order[goal[2]], goal[3], goal[0])
    ):
        line = lines[pk]
        line.key = GroupKey(pk, name, department_name=names[department_id])
        result.append(line)
    return result
