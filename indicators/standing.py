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

`ensure` computes the standings a view is about to count that are not current (all of a
plan's on the first visit of a month; `manage.py refresh_standings` does it ahead, e.g. from
cron on the 1st).
"""

from __future__ import annotations

from datetime import date, datetime

from django.db import connection, transaction
from django.utils import timezone

from .models import Indicator, IndicatorStanding

COMPUTE_CHUNK = 1000  # indicators computed per batch: bounded memory, a few queries each
TOUCH_CHUNK = 5000
PLAN_PATH = "policy_goal__strategic_goal__plan_department__plan"
COMPUTED_FIELDS = (
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


# What tells whether a standing is current, read with the indicator (see stale_versions).
_FRESHNESS = (
    "pk",
    "standing__as_of",
    "standing__threshold_achieved",
    "standing__threshold_caution",
    "standing__computed_version",
    "standing__inputs_version",
)
ANALYZE_FROM = 1000  # PostgreSQL: after computing this many, refresh the table's statistics


def _stale(plan, as_of, rows):
    """{indicator id: inputs_version read} of the rows (_FRESHNESS first) not current."""
    wanted = (as_of, plan.threshold_achieved, plan.threshold_caution)
    return {
        row[0]: row[5] or 0
        for row in rows
        if (row[1], row[2], row[3]) != wanted or row[4] != row[5]
    }


def stale_versions(plan, indicators, today=None):
    """{indicator id: inputs_version} of `indicators` whose standings are not current."""
    as_of = standing_month(plan, today or timezone.localdate())
    return _stale(plan, as_of, indicators.order_by().values_list(*_FRESHNESS))


def ensure(plan, indicators, today=None):
    """Compute the standings of `indicators` (a queryset of `plan`'s) that are not current.

    Returns how many were computed. One query when all are current.
    """
    today = today or timezone.localdate()
    stale = stale_versions(plan, indicators, today)
    compute(plan, stale, today)
    return len(stale)


def current_values(plan, indicators, fields, today=None):
    """(pk, *fields) of each of `indicators` (fields may reach the standing:
    "standing__rate"), every standing current: one query when they are, otherwise the
    outdated ones are computed and the rows read again."""
    today = today or timezone.localdate()
    as_of = standing_month(plan, today)
    columns = (*_FRESHNESS, *fields)
    rows = list(indicators.values_list(*columns))
    stale = _stale(plan, as_of, rows)
    if stale:
        compute(plan, stale, today)
        rows = list(indicators.values_list(*columns))
    skip = len(_FRESHNESS)
    return [(row[0], *row[skip:]) for row in rows]


def refresh(plan, today=None):
    """Make every standing of `plan` current (the management command, the demo)."""
    return ensure(plan, Indicator.objects.filter(**{PLAN_PATH: plan}), today)


def compute(plan, versions, today):
    """Compute and store the standings of the indicators in `versions` ({id: the
    inputs_version read before their data}), in batches."""
    as_of = standing_month(plan, today)
    ids = list(versions)
    for start in range(0, len(ids), COMPUTE_CHUNK):
        chunk = ids[start : start + COMPUTE_CHUNK]
        _compute(plan, {pk: versions[pk] for pk in chunk}, today, as_of)
    if len(ids) >= ANALYZE_FROM and connection.vendor == "postgresql":
        # A table filled at once has no statistics until autovacuum comes by; without them
        # the planner may join it badly.
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(IndicatorStanding._meta.db_table)}")


def _compute(plan, versions, today, as_of):
    from .services import standing_values, tracking_rows

    rows = tracking_rows(Indicator.objects.filter(pk__in=versions), plan, today, people=False)
    standings = [
        IndicatorStanding(
            indicator_id=row.indicator.pk,
            computed_version=versions[row.indicator.pk] or 0,
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


def touch(indicator_ids):
    """Mark the standings of these indicators as outdated (bulk writers call this).

    Inserts the row where there is none yet, so that a computation running meanwhile
    cannot store what it read before this write as current.
    """
    ids = sorted({int(pk) for pk in indicator_ids})  # one lock order: no deadlock
    if not ids:
        return
    table = connection.ops.quote_name(IndicatorStanding._meta.db_table)
    with transaction.atomic(), connection.cursor() as cursor:
        for start in range(0, len(ids), TOUCH_CHUNK):
            chunk = ids[start : start + TOUCH_CHUNK]
            marks = ", ".join(["(%s, 1)"] * len(chunk))
            cursor.execute(
                f"INSERT INTO {table} (indicator_id, inputs_version) VALUES {marks} "
                f"ON CONFLICT (indicator_id) DO UPDATE "
                f"SET inputs_version = {table}.inputs_version + 1",
                chunk,
            )


def touch_plan(plan):
    """touch() every indicator of a plan (a plan import, the demo)."""
    touch(Indicator.objects.filter(**{PLAN_PATH: plan}).values_list("pk", flat=True))
