"""Where each indicator stands, kept (IndicatorStanding) so the plan overview counts rows.

The rules stay in indicators.tracking: a standing is what its rows compute for one
indicator's row (status, rate, achievement bucket, completeness, the last due period
without a value, the forecast), stored. It is current when

* it was computed for the same month (`as_of`, see `standing_month`): periods begin and end
  on month boundaries, so nothing a row depends on changes within a month;
* with the plan's thresholds of now;
* from the inputs of now: every write of a result's value, a period target or an indicator
  appends a StandingInputChange for the indicator (signals for single saves, `touch` for
  bulk writers, in the writer's transaction); a computation reads the changes there are
  before it reads the data, and deletes exactly those with the figures it stores. A change
  committed while a standing is being computed is left behind, so the standing is computed
  again: never stale.

After an import (plan tables, plan text, results) the standings it outdated are computed
by the task worker: `after_import` (on perfplan.imports' import_applied) queues
indicators.tasks.compute_standings once the import committed, so the import's request or
command does not wait for them; a background import, already in the worker, computes them
at once. The first overview after an import computes nothing once the task has run.

Every indicator has a standing row from its creation on, filed under its plan, department
and goals (`link`; signals and the plan import keep it so when the hierarchy changes), so a
whole plan is counted from this one table. `ensure` computes the outdated figures before a
view counts them (all of a plan's on the first visit of a month; `manage.py
refresh_standings` does it ahead, e.g. from cron on the 1st).

What the overview counts from a plan's standings is kept in the cache (`kept_rows`) and
used while the standings are at the same revision (`revision`): every writer of standings
(a computation's batch, a filing that creates or moves rows) appends a StandingRevision for
the plan in its own transaction; the revision is their number, the last one and the number
of standings (a standing deleted with its indicator), or None while an input change waits
to be computed. One query checks it; a national plan's grouped counts are read again only
after a write.

Locks (the one order of the application, README "Concurrency"): a writer takes the plan row
(a plan import), then results in id order, then standings in indicator id order, and nothing
on the change log (its entries are appended, then sealed apart). Here that means:

* writers of figures never lock a standing: `touch` only appends, so an officer's save never
  waits on an import, and no write can deadlock on standings;
* `link` (a move in the hierarchy, a new indicator) updates only the rows that moved, locked
  in indicator id order; a plan import calls it after its other writes;
* a computation locks the rows it computes in indicator id order with SKIP LOCKED: it never
  waits; a row someone else holds stays outdated and is computed the next time;
* StandingRevision rows are only appended: no writer waits on another there.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime

from django.core.exceptions import EmptyResultSet
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from perfplan.imports import import_applied

from .models import IndicatorStanding, StandingInputChange, StandingRevision

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
    # `indicator_id NOT IN (the changes)`: PostgreSQL reads the (small) change table once
    # into a hash; a correlated NOT EXISTS ran once per standing inside the overview's
    # counts (FILTER), half of that query's time on a national plan.
    changed = StandingInputChange.objects.order_by().values("indicator_id")
    return Q(
        Q(
            as_of=standing_month(plan, today),
            threshold_achieved=plan.threshold_achieved,
            threshold_caution=plan.threshold_caution,
        ),
        ~Q(indicator_id__in=changed),
    )


def outdated(plan, today):
    """The condition of a standing that is not current `today` (the negation of current():
    a standing never computed has no month, no thresholds)."""
    return Q(as_of__isnull=True) | ~current(plan, today)


def outdated_ids(plan, standings, today=None):
    """The indicator ids of `standings` (a queryset of the plan's) that are not current."""
    today = today or timezone.localdate()
    return list(standings.filter(outdated(plan, today)).order_by().values_list("pk", flat=True))


def ensure(plan, standings=None, today=None):
    """Compute the standings among `standings` (default: all of `plan`'s) that are not
    current; how many were computed. One query when all are current."""
    today = today or timezone.localdate()
    if standings is None:
        standings = IndicatorStanding.objects.filter(plan=plan)
    return compute(plan, outdated_ids(plan, standings, today), today)


def refresh(plan, today=None):
    """Make every standing of `plan` current (refresh_standings, the benchmark): filed
    where each indicator is, then computed where outdated."""
    link_plan(plan)
    return ensure(plan, today=today)


def compute(plan, indicator_ids, today):
    """Compute and store the standings of these indicators, in batches; how many.

    Each batch is one transaction: lock the rows (indicator id order, SKIP LOCKED: never
    wait; what another computation or a plan import holds stays outdated), read their input
    changes, then their data, store the figures and delete the changes read. Indicators
    without any result (a new plan's) are computed once per kind (_store_empty): a new
    national plan's 50,000 standings in a few UPDATEs instead of 50,000 rows.
    """
    from goals.models import PolicyGoal

    as_of = standing_month(plan, today)
    ids = sorted(indicator_ids)
    computed = 0
    goals = set(PolicyGoal.objects.in_plan(plan).values_list("pk", flat=True)) if ids else ()
    for start in range(0, len(ids), COMPUTE_CHUNK):
        with transaction.atomic():
            locked = list(
                IndicatorStanding.objects.filter(pk__in=ids[start : start + COMPUTE_CHUNK])
                .order_by("pk")
                .select_for_update(skip_locked=True)
                .values_list("pk", flat=True)
            )
            if not locked:
                continue
            read = list(
                StandingInputChange.objects.filter(indicator_id__in=locked).values_list(
                    "pk", flat=True
                )
            )
            empty = _without_results(goals, locked)
            computed += _store_empty(plan, empty, today, as_of)
            entered = [pk for pk in locked if pk not in empty]
            computed += _store_rows(plan, entered, today, as_of) if entered else 0
            revised([plan.pk])
            for first in range(0, len(read), COMPUTE_CHUNK):
                StandingInputChange.objects.filter(
                    pk__in=read[first : first + COMPUTE_CHUNK]
                ).delete()
    if computed >= ANALYZE_FROM:
        _analyze()
    return computed


def _store_rows(plan, indicator_ids, today, as_of):
    """The standings of these indicators from their tracking rows, stored in one upsert."""
    from .models import Indicator
    from .tracking.rows import standing_values, tracking_rows

    rows = tracking_rows(Indicator.objects.filter(pk__in=indicator_ids), plan, today, people=False)
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
            as_of=as_of,
            threshold_achieved=plan.threshold_achieved,
            threshold_caution=plan.threshold_caution,
            **standing_values(row),
        )
        for row in rows
    ]
    standings.sort(key=lambda s: s.indicator_id)
    # An upsert of rows this transaction holds: one statement per batch.
    IndicatorStanding.objects.bulk_create(
        standings,
        update_conflicts=True,
        unique_fields=["indicator"],
        update_fields=COMPUTED_FIELDS,
    )
    return len(standings)


def _without_results(plan_goals, indicator_ids):
    """{indicator id: the key of its figures} of those of these indicators of the plan
    (under one of `plan_goals`, its policy goals' ids) that have no result at all (a new plan: all of them). Without a value there is no rate
    and no forecast, so every figure of such an indicator follows from its frequency, its
    aggregation (the forecast's method) and its sample mark alone, with the plan and the
    day: one indicator per key computes them for all (_store_empty)."""
    from types import SimpleNamespace

    from .models import Indicator, Result
    from .tracking.rules import aggregation_of, frequency_of

    found = (
        Indicator.objects.filter(pk__in=indicator_ids)
        .filter(~Exists(Result.objects.filter(indicator_id=OuterRef("pk"))))
        .order_by()
        .values_list("pk", "policy_goal_id", "frequency", "aggregation", "is_sample")
    )
    # The plan is checked against its goals in Python: joining up to the plan makes
    # SQLite scan (40 times slower than the query alone).
    return {
        pk: (
            frequency_of(SimpleNamespace(frequency=frequency)),
            aggregation_of(SimpleNamespace(aggregation=aggregation)),
            is_sample,
        )
        for pk, goal, frequency, aggregation, is_sample in found
        if goal in plan_goals
    }


def _store_empty(plan, keys, today, as_of):
    """Store the standings of indicators without results ({id: key}, _without_results):
    the figures of each key computed once, from one of its indicators' tracking row, and
    written to all of them by one UPDATE; filed where each indicator is (link)."""
    if not keys:
        return 0
    from .models import Indicator
    from .tracking.rows import standing_values, tracking_rows

    by_key = {}
    for pk, key in keys.items():
        by_key.setdefault(key, []).append(pk)
    examples = {ids[0]: key for key, ids in by_key.items()}
    rows = tracking_rows(Indicator.objects.filter(pk__in=examples), plan, today, people=False)
    figures = {
        "as_of": as_of,
        "threshold_achieved": plan.threshold_achieved,
        "threshold_caution": plan.threshold_caution,
    }
    for row in rows:
        ids = by_key[examples[row.indicator.pk]]
        IndicatorStanding.objects.filter(pk__in=ids).update(**figures, **standing_values(row))
    link(keys)  # the placement an upsert of the rows would write; rows filed right stay
    return len(keys)


def _analyze():
    # A table filled at once has no statistics until autovacuum comes by; without them
    # PostgreSQL's planner may join it badly.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {_name(IndicatorStanding._meta.db_table)}")


# ---------------------------------------------------------------- writers


def _name(name):
    return connection.ops.quote_name(name)


def _placement_sql(where):
    """SELECT each indicator's id and placement (the columns of PLACEMENT_FIELDS, named as
    the standing's), for the indicators `where` selects."""
    from goals.models import PlanDepartment, PolicyGoal, StrategicGoal

    from .models import Indicator

    values = ("pd.plan_id", "pd.id", "sg.id", "pg.id")
    values += ("pd.position", "sg.position", "pg.position", "i.position")
    columns = [IndicatorStanding._meta.get_field(f).column for f in PLACEMENT_FIELDS]
    named = ", ".join(f"{v} AS {_name(c)}" for v, c in zip(values, columns, strict=True))
    return (
        f"SELECT i.id AS {_name('indicator_id')}, {named} "
        f"FROM {_name(Indicator._meta.db_table)} i "
        f"JOIN {_name(PolicyGoal._meta.db_table)} pg ON pg.id = i.policy_goal_id "
        f"JOIN {_name(StrategicGoal._meta.db_table)} sg ON sg.id = pg.strategic_goal_id "
        f"JOIN {_name(PlanDepartment._meta.db_table)} pd ON pd.id = sg.plan_department_id "
        f"WHERE {where}"
    )


def _link(where, params):
    """File the standings of the indicators `where` selects: create the missing rows, then
    update the rows that moved, locked first in indicator id order. A row filed right is
    neither written nor locked."""
    table = _name(IndicatorStanding._meta.db_table)
    columns = [_name(IndicatorStanding._meta.get_field(f).column) for f in PLACEMENT_FIELDS]
    placement = _placement_sql(where)
    moved = " OR ".join(f"s.{c} <> src.{c}" for c in columns)
    lock = " FOR UPDATE OF s" if connection.features.has_select_for_update_of else ""
    plan = _name(IndicatorStanding._meta.get_field("plan").column)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (indicator_id, {', '.join(columns)}) {placement} "
            f"ON CONFLICT (indicator_id) DO NOTHING",
            params,
        )
        plans = set()
        if cursor.rowcount:  # new rows, in the plans of these indicators
            cursor.execute(f"SELECT DISTINCT src.{plan} FROM ({placement}) src", params)
            plans.update(row[0] for row in cursor.fetchall())
        cursor.execute(
            f"SELECT s.indicator_id, s.{plan}, src.{plan} FROM {table} s JOIN ({placement}) src "
            f"ON src.indicator_id = s.indicator_id WHERE {moved} ORDER BY s.indicator_id{lock}",
            params,
        )
        ids = []
        for indicator_id, old_plan, new_plan in cursor.fetchall():
            ids.append(indicator_id)
            plans.update((old_plan, new_plan))
        revised(plans)
        assign = ", ".join(f"{c} = src.{c}" for c in columns)
        for start in range(0, len(ids), LINK_CHUNK):
            chunk = ids[start : start + LINK_CHUNK]
            marks = ", ".join(["%s"] * len(chunk))
            cursor.execute(
                f"UPDATE {table} SET {assign} FROM ({_placement_sql(f'i.id IN ({marks})')}) src "
                f"WHERE {table}.indicator_id = src.indicator_id",
                chunk,
            )


def revised(plan_ids):
    """Record a write to these plans' standings (StandingRevision), in the writer's
    transaction: what was kept from them (kept_rows) is not used again."""
    StandingRevision.objects.bulk_create(
        [StandingRevision(plan_id=pk) for pk in sorted(set(plan_ids) - {None})]
    )


def revision(plan):
    """The revision of `plan`'s stored standings, or None while a write is waiting to be
    computed into them (a StandingInputChange of one of its indicators). One query.

    It changes with every committed write to them: each writer appends a StandingRevision
    (in whatever order writers commit, their number grows), and a standing deleted with its
    indicator changes the number of standings."""
    revisions = _name(StandingRevision._meta.db_table)
    standings = _name(IndicatorStanding._meta.db_table)
    changes = _name(StandingInputChange._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT COUNT(*) FROM {revisions} WHERE plan_id = %s), "
            f"(SELECT MAX(id) FROM {revisions} WHERE plan_id = %s), "
            f"(SELECT written_at FROM {revisions} WHERE plan_id = %s ORDER BY id DESC LIMIT 1), "
            f"(SELECT COUNT(*) FROM {standings} WHERE plan_id = %s), "
            f"EXISTS (SELECT 1 FROM {changes} c JOIN {standings} s "
            f"ON s.indicator_id = c.indicator_id WHERE s.plan_id = %s)",
            [plan.pk] * 5,
        )
        written, last, moment, count, waiting = cursor.fetchone()
    return None if waiting else (plan.pk, written, last, str(moment), count)


KEPT_SECONDS = 24 * 60 * 60


def kept_rows(now, rows):
    """list(rows), a values_list query over a plan's standings (the overview's counts), as
    read before while the plan's standings are at the same revision `now` (`revision`,
    read before the rows: a write committed in between makes what is kept stale at once,
    never used), from the cache; else read now and kept. A national plan's grouped counts
    take tens of milliseconds to read, the revision one query."""
    from django.core.cache import cache

    if now is None:  # a write waits to be computed: the figures are about to change
        return list(rows)
    try:
        sql, params = rows.query.get_compiler(using=rows.db).as_sql()
    except EmptyResultSet:  # nothing can match (an empty choice): no query to keep
        return list(rows)
    digest = hashlib.sha256(repr((rows.db, sql, params)).encode()).hexdigest()
    key = f"indicators.standing.rows:{digest}"
    kept = cache.get(key)
    if kept is not None and kept[0] == now:
        return kept[1]
    found = list(rows)
    cache.set(key, (now, found), KEPT_SECONDS)
    return found


def touch(indicator_ids):
    """Outdate the standings of these indicators: one StandingInputChange each, in the
    writer's transaction. Bulk writers call this, signals for single saves. Takes no lock
    that any other writer waits on."""
    ids = sorted({int(pk) for pk in indicator_ids})
    StandingInputChange.objects.bulk_create(
        [StandingInputChange(indicator_id=pk) for pk in ids], batch_size=LINK_CHUNK
    )


def link(indicator_ids):
    """File these indicators' standings where the indicators are now (creating the rows
    of new indicators), without outdating their figures: a move in the hierarchy changes
    no figure."""
    ids = sorted({int(pk) for pk in indicator_ids})
    for start in range(0, len(ids), LINK_CHUNK):
        chunk = ids[start : start + LINK_CHUNK]
        _link(f"i.id IN ({', '.join(['%s'] * len(chunk))})", chunk)


def link_plan(plan):
    """link() every indicator of a plan (a plan import; refresh_standings)."""
    _link("pd.plan_id = %s", [plan.pk])


def after_import(sender, year, background=False, **kwargs):
    """Have what an import outdated computed once it committed (see the module docstring):
    the standings of the plan of the import's year that are not current (a plan import
    has filed its indicators' rows, link_plan, in its transaction). In the task worker
    (`background`) at once; else by the task `compute_standings`, queued on commit, so
    the import's request or command does not wait for them."""
    from perfplan.models import Plan

    plan = Plan.objects.filter(fiscal_year=year).first()
    if plan is None:
        return
    if background:
        ensure(plan)
        return
    from .tasks import compute_standings

    plan_id = plan.pk
    # robust: a queue that fails leaves the standings to the first page (ensure), the
    # import stands.
    transaction.on_commit(lambda: compute_standings.enqueue(plan_id), robust=True)


import_applied.connect(after_import, dispatch_uid="indicators.standing.after_import")
