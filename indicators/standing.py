"""Where each indicator stands, kept (IndicatorStanding) so the plan overview counts rows.

The rules stay in indicators.services: a standing is what services computes for one
indicator's row (status, rate, achievement bucket, completeness, the last due period
without a value, the forecast), stored. It is current when

* it was computed for the same month (`as_of`, see `standing_month`): periods begin and end
  on month boundaries, so nothing a row depends on changes within a month;
* with the plan's thresholds of now;
* from the inputs of now: every write of a result's value, a period target or an indicator
  raises the standing's `inputs_version` (signals for single saves, `touch` for bulk
  writers, in the writer's transaction), and a computation stores the version it read
  before reading the data as `computed_version`. A result saved while a standing is being
  computed leaves the two different, so the standing is computed again: never stale.

Every indicator has a standing row from its creation on, filed under its plan, department
and goals (`link`; signals and the plan import keep it so when the hierarchy changes), so a
whole plan is counted from this one table. `ensure` computes the outdated figures before a
view counts them (all of a plan's on the first visit of a month; `manage.py
refresh_standings` does it ahead, e.g. from cron on the 1st).
"""

from __future__ import annotations

from datetime import date, datetime

from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from .models import IndicatorStanding

COMPUTE_CHUNK = 1000  # indicators computed per batch: bounded memory, a few queries each
LINK_CHUNK = 2000
ANALYZE_FROM = 1000  # PostgreSQL: after computing this many, refresh the table's statistics
PLACEMENT_FIELDS = (
    "plan",
    "plan_department",
    "strategic_goal",
    "policy_goal",
    "department_position",
    "strategic_goal_position",
    "policy_goal_position",
    "position",
)
COMPUTED_FIELDS = (
    *PLACEMENT_FIELDS,
    "computed_version",
    "as_of",
    "threshold_achieved",
    "threshold_caution",
    "status",
    "rate",
    "bucket",
    "due_count",
    "entered_due_count",
    "last_due_missing",
    "projected",
    "forecast_rate",
    "forecast_method",
    "at_risk",
    "has_sample",
)


def standing_month(plan, today):
    """The month a standing computed `today` holds for: today's month, kept within the
    plan's year (before it starts nothing is due or begun; after it ends everything is)."""
    if isinstance(today, datetime):
        today = today.date()
    month = date(today.year, today.month, 1)
    year = plan.fiscal_year
    return min(max(month, date(year - 1, 12, 1)), date(year + 1, 1, 1))


def current(plan, today):
    """The condition (on IndicatorStanding) of a standing that is current `today`."""
    return Q(
        as_of=standing_month(plan, today),
        threshold_achieved=plan.threshold_achieved,
        threshold_caution=plan.threshold_caution,
        computed_version=F("inputs_version"),
    )


def outdated(plan, today):
    """The condition of a standing that is not current `today` (the negation of current():
    a standing never computed has no month, no thresholds)."""
    return Q(as_of__isnull=True) | ~current(plan, today)


def stale_versions(plan, standings, today=None):
    """{indicator id: inputs_version} of `standings` (a queryset of the plan's) that are not
    current."""
    today = today or timezone.localdate()
    return dict(
        standings.filter(outdated(plan, today))
        .order_by()
        .values_list("indicator_id", "inputs_version")
    )


def ensure(plan, standings=None, today=None):
    """Compute the standings among `standings` (default: all of `plan`'s) that are not
    current; how many. One query when all are current."""
    today = today or timezone.localdate()
    if standings is None:
        standings = IndicatorStanding.objects.filter(plan=plan)
    stale = stale_versions(plan, standings, today)
    compute(plan, stale, today)
    return len(stale)


def refresh(plan, today=None):
    """Make every standing of `plan` current (refresh_standings, the benchmark): filed
    where each indicator is, then computed where outdated."""
    link_plan(plan)
    return ensure(plan, today=today)


def compute(plan, versions, today):
    """Compute and store the standings of the indicators in `versions` ({id: the
    inputs_version read before their data}), in batches."""
    from .models import Indicator
    from .services import standing_values, tracking_rows

    as_of = standing_month(plan, today)
    ids = list(versions)
    for start in range(0, len(ids), COMPUTE_CHUNK):
        chunk = ids[start : start + COMPUTE_CHUNK]
        rows = tracking_rows(Indicator.objects.filter(pk__in=chunk), plan, today, people=False)
        standings = [
            IndicatorStanding(
                indicator_id=row.indicator.pk,
                plan_id=plan.pk,
                plan_department_id=row.department.pk,
                strategic_goal_id=row.strategic_goal.pk,
                policy_goal_id=row.policy_goal.pk,
                department_position=row.department.position,
                strategic_goal_position=row.strategic_goal.position,
                policy_goal_position=row.policy_goal.position,
                position=row.indicator.position,
                computed_version=versions[row.indicator.pk],
                as_of=as_of,
                threshold_achieved=plan.threshold_achieved,
                threshold_caution=plan.threshold_caution,
                **standing_values(row),
            )
            for row in rows
        ]
        # An upsert: a writer may have created the row (raising its inputs_version) meanwhile.
        IndicatorStanding.objects.bulk_create(
            standings,
            update_conflicts=True,
            unique_fields=["indicator"],
            update_fields=COMPUTED_FIELDS,
        )
    if len(ids) >= ANALYZE_FROM:
        _analyze()


def _analyze():
    # A table filled at once has no statistics until autovacuum comes by; without them
    # PostgreSQL's planner may join it badly.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {_name(IndicatorStanding._meta.db_table)}")


# ---------------------------------------------------------------- writers


def _name(name):
    return connection.ops.quote_name(name)


def _upsert_sql(where, bump):
    """INSERT … SELECT … ON CONFLICT: each indicator's row, filed where the indicator is.

    `bump` 1 also raises inputs_version (its figures are outdated); 0 only files the row
    (a new row is outdated anyway), and leaves a row that is filed right untouched.
    """
    from goals.models import PlanDepartment, PolicyGoal, StrategicGoal

    from .models import Indicator

    table = _name(IndicatorStanding._meta.db_table)
    columns = {f: _name(IndicatorStanding._meta.get_field(f).column) for f in PLACEMENT_FIELDS}
    placement = ", ".join(f"{c} = excluded.{c}" for c in columns.values())
    sql = (
        f"INSERT INTO {table} (indicator_id, inputs_version, {', '.join(columns.values())}) "
        f"SELECT i.id, {bump}, pd.plan_id, pd.id, sg.id, pg.id, "
        f"pd.position, sg.position, pg.position, i.position "
        f"FROM {_name(Indicator._meta.db_table)} i "
        f"JOIN {_name(PolicyGoal._meta.db_table)} pg ON pg.id = i.policy_goal_id "
        f"JOIN {_name(StrategicGoal._meta.db_table)} sg ON sg.id = pg.strategic_goal_id "
        f"JOIN {_name(PlanDepartment._meta.db_table)} pd ON pd.id = sg.plan_department_id "
        f"WHERE {where} "
        f"ON CONFLICT (indicator_id) DO UPDATE SET {placement}"
    )
    if bump:
        return f"{sql}, inputs_version = {table}.inputs_version + 1"
    moved = " OR ".join(f"{table}.{c} <> excluded.{c}" for c in columns.values())
    return f"{sql} WHERE {moved}"


def _upsert(indicator_ids, bump):
    ids = sorted({int(pk) for pk in indicator_ids})  # one lock order: no deadlock
    if not ids:
        return
    with transaction.atomic(), connection.cursor() as cursor:
        for start in range(0, len(ids), LINK_CHUNK):
            chunk = ids[start : start + LINK_CHUNK]
            marks = ", ".join(["%s"] * len(chunk))
            cursor.execute(_upsert_sql(f"i.id IN ({marks})", bump), chunk)


def touch(indicator_ids):
    """Mark the standings of these indicators as outdated (and file them where the
    indicators are now); bulk writers call this, signals for single saves.

    Inserts the row where there is none yet, so that a computation running meanwhile
    cannot store what it read before this write as current.
    """
    _upsert(indicator_ids, 1)


def link(indicator_ids):
    """File these indicators' standings where the indicators are now (creating the rows
    of new indicators), without outdating their figures: a move in the hierarchy changes
    no figure."""
    _upsert(indicator_ids, 0)


def link_plan(plan):
    """link() every indicator of a plan (a plan import; refresh_standings)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_upsert_sql("pd.plan_id = %s", 0), [plan.pk])
