"""The writes of an import: what the diff decided, and nothing else, in bulk (perfplan.bulk).

Written without signals: the indicators' standings are marked outdated here, and the
change-log entries are written by indicators.results_import.log.
"""

from __future__ import annotations

from django.utils import timezone

from goals.models import PlanDepartment
from indicators import standing
from indicators.models import Result
from perfplan import bulk

from .changes import entered_by_id

WRITTEN = ["value", "note"]


def apply(result, user, department_pks):
    """Insert the new results and update the changed ones of `result`; a new result's id is
    set on its change (result_id) for the change log."""
    now = timezone.now()
    entered_by = entered_by_id(user)
    created = [c for c in result.changes if c.action == "new"]
    if created:
        bulk.insert(
            Result,
            ["indicator_id", "period", *WRITTEN],
            [(c.indicator.pk, c.period.key, c.new_value, c.new_note) for c in created],
            defaults={"updated_at": now, "entered_by_id": entered_by},
        )
        # The new ids, by natural key: one query (executemany cannot return them everywhere).
        ids = {
            (indicator_id, period): pk
            for pk, indicator_id, period in Result.objects.under(
                PlanDepartment, department_pks
            ).values_list("pk", "indicator_id", "period")
        }
        for change in created:
            change.result_id = ids[(change.indicator.pk, change.period.key)]
    # The new version makes any open edit form of these results stale; a value over sample
    # data makes the result real (as workflow.save_results does).
    constants = {"entered_by_id": entered_by, "updated_at": now, "is_sample": False}
    for marked in (False, True):
        rows = [
            (c.pk, c.new_value, c.new_note)
            for c in result.changes
            if c.action == "changed" and c.marks_edited_after_approval is marked
        ]
        if rows:
            extra = {"edited_after_approval": True} if marked else {}
            bulk.update(
                Result, WRITTEN, rows, constants={**constants, **extra}, increment=("version",)
            )
    standing.touch(c.indicator.pk for c in result.changes if c.action in ("new", "changed"))
