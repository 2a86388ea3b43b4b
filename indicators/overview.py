"""The plan overview's figures, counted by the database from the indicators' standings.

indicators.standing keeps each indicator's figures, filed under its plan and goals; the
overview makes the outdated ones current, then counts them grouped by strategic goal (the
department lines are the sums of their goals' lines), lists the indicators whose last due
period is missing and the worst at risk. A fixed handful of queries on one table, whatever
the plan's size; tracking.summaries.Tally holds the counts, as summarize() does for rows.
What those queries read is kept while the plan's standings are unchanged
(standing.kept_rows: one query checks their revision).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, Q, Sum

from goals.models import PlanDepartment, StrategicGoal

from . import standing
from .models import Indicator
from .periods import FREQUENCY_OF_KEY, get_period
from .tracking.rules import BUCKETS, FORECAST_METHOD_TEXT, STATUSES
from .tracking.summaries import Tally

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
    department_id: int | None = None  # perfplan.Department, of a department line
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
    missing_last: list = field(default_factory=list)  # [MissingEntry], when listed
    missing_count: int = 0  # indicators whose last ended period has no value
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


# The counts of a line's standings, in this order (see _count_lines).
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
_STATUSES = slice(2, 2 + len(STATUSES))  # after the line's id and the total
_BUCKETS = slice(_STATUSES.stop, _STATUSES.stop + len(BUCKETS))
_SUMS = slice(_BUCKETS.stop, _BUCKETS.stop + 5)  # due, entered, risky, rate_sum, rated
_SAMPLE = _SUMS.stop
_METHODS = tuple(FORECAST_METHOD_TEXT)
_METHOD_COUNTS = slice(_SAMPLE + 1, _SAMPLE + 1 + len(_METHODS))


def _count_lines(now, standings, key, **extra):
    """{line id: Line} of the standings grouped by `key` (a field, or a tuple of fields: the
    line id is then the tuple of their values), each with its Tally, and the rows' `extra`
    aggregates ({name: [value per line]}) and their forecast methods."""
    counts = {**dict(COUNTS), **extra}
    keys = key if isinstance(key, tuple) else (key,)
    rows = standing.kept_rows(
        now, standings.order_by().values(*keys).annotate(**counts).values_list(*keys, *counts)
    )
    if len(keys) > 1:  # the tuple of the keys in the place of the one key
        rows = ((row[: len(keys)], *row[len(keys) :]) for row in rows)
    lines, extras, methods = {}, {name: [] for name in extra}, set()
    for row in rows:
        line = lines[row[0]] = Line()
        line.tally.merge(
            row[1], row[_STATUSES], row[_BUCKETS], *(v or 0 for v in row[_SUMS]), row[_SAMPLE]
        )
        methods.update(m for m, n in zip(_METHODS, row[_METHOD_COUNTS], strict=True) if n)
        for name, value in zip(extra, row[len(COUNTS) + 1 :], strict=True):
            extras[name].append(value)
    return lines, extras, methods


# One aggregate for both kinds of line: grouped by department and strategic goal, the
# departments' counts are the sums of their goals' (two aggregates over a national plan's
# 10,000 standings took twice the time).
GOAL_KEYS = ("plan_department_id", "strategic_goal_id")


def _departments_and_goals(by_goal):
    """{department id: Line}, {strategic goal id: Line} of the lines keyed by both."""
    departments, goals = {}, {}
    for (department_id, goal_id), line in by_goal.items():
        goals[goal_id] = line
        department = departments.get(department_id)
        if department is None:
            department = departments[department_id] = Line()
        department.tally.add(line.tally)
        department.missing_count += line.missing_count
    return departments, goals


def plan_overview(
    plan,
    standings,
    today,
    *,
    status=None,
    at_risk_limit=None,
    goal_limit=None,
    missing_limit=None,
    keep=True,
):
    """The Overview of `standings` (a queryset of `plan`'s IndicatorStanding, narrowed as
    the indicators shown are); only the indicators whose status is `status`, when given;
    at most `at_risk_limit` at-risk ids; no goal lines when there are more than
    `goal_limit` (their counts are in the departments' lines all the same); the indicators
    whose last ended period has no value named in their department's line unless there are
    more than `missing_limit` (then their number only).

    `keep`: what is read may be kept while the plan's standings are unchanged
    (standing.kept_rows) — not when `standings` are narrowed by what a standing's revision
    does not follow (a search in the goals' names)."""
    if status:
        standing.ensure(plan, standings, today)  # before a stored status selects any
        standings = standings.filter(status=status)
    extra = {
        "stale": Count("pk", filter=standing.outdated(plan, today)),
        "missing": Count("pk", filter=~Q(last_due_missing="")),
    }
    # what was kept of the same revision is used (kept_rows); None: read, and keep nothing
    now = standing.revision(plan) if keep else None
    by_goal, counted, methods = _count_lines(now, standings, GOAL_KEYS, **extra)
    if not status and any(counted["stale"]):  # outdated: compute, count again
        standing.ensure(plan, standings, today)
        now = standing.revision(plan) if keep else None
        by_goal, counted, methods = _count_lines(now, standings, GOAL_KEYS, **extra)
    for line, missing in zip(by_goal.values(), counted["missing"], strict=True):
        line.missing_count = missing
    departments, goals = _departments_and_goals(by_goal)
    total = Tally()
    for line in departments.values():
        total.add(line.tally)
    goal_count = sum(1 for goal_id in goals if goal_id is not None)
    if goal_limit is not None and goal_count > goal_limit:
        goals = None
    year = plan.fiscal_year
    if missing_limit is not None and sum(counted["missing"]) > missing_limit:
        return _overview(
            now, total, departments, goals, goal_count, standings, at_risk_limit, methods
        )
    missing_standings = standings.exclude(last_due_missing="")
    missing = standing.kept_rows(
        now,
        missing_standings.order_by(*PLAN_ORDER).values_list(
            "plan_department_id", "indicator_id", "last_due_missing"
        ),
    )
    # The names apart (joined in, PostgreSQL reads every plan's indicators to find them), by a
    # subquery: a national plan's 800 ids as parameters cost more to send than to look up.
    names = (
        dict(
            Indicator.objects.filter(pk__in=missing_standings.values("indicator_id"))
            .order_by()
            .values_list("pk", "name")
        )
        if missing
        else {}
    )
    for department_id, pk, key in missing:
        period = get_period(FREQUENCY_OF_KEY[key], year, key)
        departments[department_id].missing_last.append(MissingEntry(pk, names[pk], period))
    return _overview(now, total, departments, goals, goal_count, standings, at_risk_limit, methods)


def _overview(now, total, departments, goals, goal_count, standings, at_risk_limit, methods):
    risky = standings.filter(at_risk=True).order_by("forecast_rate", *PLAN_ORDER)
    if at_risk_limit is not None:
        risky = risky[:at_risk_limit]
    department_lines = _department_lines(departments)
    return Overview(
        total=total,
        departments=department_lines,
        goals=None if goals is None else _goal_lines(goals, department_lines),
        goal_count=goal_count,
        at_risk=standing.kept_rows(now, risky.values_list("indicator_id", flat=True)),
        methods=sorted(methods),
        has_sample=total.sample > 0,
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
