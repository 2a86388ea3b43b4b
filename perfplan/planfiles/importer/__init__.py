"""Write a PlanData into the database: diff first, then one transaction.

Matching is by natural keys only (plan year, department, names, or codes where given),
so re-importing an exported file changes nothing and an edited file updates in place.
A table the source carries is complete: entries of that table missing from the source
are deleted (and listed as such in the preview); tables the source does not carry are
left alone.

The import in stages, one module each, run by perfplan.imports (the PLAN_TABLES and
PLAN_TEXT kinds below): read (the files), diff (the file's plan against the database),
apply (the writes, in bulk through perfplan.bulk) and log (the change-log entries);
changes holds what an import would do. This module is the package's interface.
"""

from __future__ import annotations

from perfplan import imports
from perfplan.changelog import current_context
from perfplan.models import Plan

from ..plan_data import PlanData
from ..sources import ReadSources
from . import apply, diff, log
from .changes import (
    ACTION_LABELS,
    ACTIONS,
    LEVEL_LABELS,
    LEVEL_MODELS,
    LEVELS,
    Change,
    FieldChange,
    ImportResult,
    describe,
    fingerprint,
)
from .read import read_tables, read_text

__all__ = [
    "ACTIONS",
    "ACTION_LABELS",
    "LEVELS",
    "LEVEL_LABELS",
    "LEVEL_MODELS",
    "PLAN_TABLES",
    "PLAN_TEXT",
    "Change",
    "FieldChange",
    "ImportResult",
    "describe",
    "fingerprint",
    "import_plan",
]


def import_plan(
    year,
    data: PlanData,
    *,
    dry_run=False,
    user=None,
    source="admin",
    batch=None,
    files=(),
    conflicts=(),
    reason="",
):
    """Preview (dry_run) or apply `data` as the plan of `year`, in one step, through the
    import runner (perfplan.imports.run). Atomic: all or nothing."""
    return imports.run(
        PLAN_TABLES,
        year,
        parsed=ReadSources(data, list(conflicts)),
        files=files,
        user=user,
        reason=reason,
        dry_run=dry_run,
        source=source,
        batch=batch,
    )


def _new_result(year, dry_run):
    return ImportResult(year=year, dry_run=dry_run)


def _diff_step(result, sources, job):
    """The runner's diff: lock the plan, compare, check amendments; nothing written."""
    result.conflicts = list(sources.conflicts)
    result.source_kind = sources.kind
    result.data = sources.data
    plan = Plan.objects.select_for_update().filter(fiscal_year=job.year).first()
    work = diff.diff(result, plan, job.year, sources.data)
    diff.amendments(result, work, plan, job.reason)
    work.existing_plan = plan
    work.data = sources.data
    return work


def _apply_step(result, work, job):
    """The runner's apply: write, then one change-log entry per written record."""
    batch = current_context().batch
    plan = apply.apply(work)
    result.plan = plan
    log.log_changes(result, plan, batch)


def _summary(result, job):
    return {"counts": result.counts(), "conflicts": result.conflicts}


def _plan_kind(name, read):
    """Plan tables and plan text differ only in how their files are read."""
    return imports.register(
        imports.ImportKind(
            name=name,
            read=read,
            new_result=_new_result,
            diff=_diff_step,
            apply=_apply_step,
            fingerprint=fingerprint,
            summary=_summary,
        )
    )


PLAN_TABLES = _plan_kind("plan", read_tables)
PLAN_TEXT = _plan_kind("plan_text", read_text)
