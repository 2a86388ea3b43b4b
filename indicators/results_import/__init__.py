"""Results (실적) in bulk from a spreadsheet: one row per indicator and period.

For offices that collect results in spreadsheets. The same rules as the plan import:

* a preview first (new, changed with old → new, unchanged), nothing written before the
  confirmation; the whole file is one transaction; any bad row and nothing is written, with
  every error listed at once (file, sheet, row, column, the value, what is wrong);
* matching by natural keys only: the plan's fiscal year, the department name (or 실국코드),
  the indicator's name (or 지표코드; 정책사업목표명 tells apart two indicators of one name)
  and the period key;
* department scoping through perfplan.scoping: the importing user reaches only the
  departments and indicators restrict() gives them; a row for any other department is an
  error naming the row (the admin import of django-import-export ignores
  ModelAdmin.get_queryset; this one cannot write outside the user's departments);
* every row is decided by indicators.workflow, as a save in the grid is (write_refusals: the
  user's departments, a submitted or approved result is never overwritten, a period whose
  entry deadline has passed is refused unless an exception keeps it open); a period not yet
  begun is refused too; a changed value of a result approved once (reopened since) is
  marked "edited after approval", as the grid marks it; the bulk writes (perfplan.bulk) write
  only what the workflow allowed, and the fingerprint of the preview covers the versions
  the rows were read at;
* the change log gets one entry per created or changed result, old → new, and one for
  the import, all under the import's ImportBatch (source "results").

Columns (Korean headers as exported, English accepted): 실국명, 실국코드 (optional),
정책사업목표명 (optional), 지표코드 and/or 성과지표명, 기간 (Q1 / 1분기 / M03 / 3월 / 상반기 /
연간 …), 실적, 비고. A row whose 실적 and 비고 are both blank is skipped (an import never
clears a value); a blank 비고 leaves the note as it is.

The import in stages, one module each, run by perfplan.imports (the RESULTS kind below):
read (rows from files), diff (rows against the database, each decided by indicators.workflow),
apply (the writes, in bulk) and log (the change-log entries); changes holds what an import
would do, templates the sheets to download. This module is the package's interface.
"""

from __future__ import annotations

from django.utils import timezone

from perfplan import imports
from perfplan.changelog import current_context
from perfplan.tabular import TableReadError

from . import apply, diff, log
from .changes import (
    ACTION_LABELS,
    ACTIONS,
    CURRENT_FIELDS,
    Current,
    ResultChange,
    ResultsImportResult,
    describe,
)
from .read import COLUMNS_BY_KEY, RESULT_COLUMNS, ReadRows, ResultRow, read_results_files
from .templates import (
    FILE_STEM,
    SHEET_NAME,
    TEMPLATE_COLUMNS,
    ResultsTable,
    filled_table,
    template_table,
)

__all__ = [
    "ACTIONS",
    "ACTION_LABELS",
    "COLUMNS_BY_KEY",
    "CURRENT_FIELDS",
    "FILE_STEM",
    "RESULTS",
    "RESULT_COLUMNS",
    "ReadRows",
    "SHEET_NAME",
    "SOURCE",
    "TEMPLATE_COLUMNS",
    "Current",
    "ResultChange",
    "ResultRow",
    "ResultsImportResult",
    "ResultsTable",
    "describe",
    "filled_table",
    "import_results",
    "import_results_files",
    "read_results_files",
    "template_table",
]

SOURCE = "results"


def import_results_files(year, files, *, user, dry_run=False, batch=None, today=None, **kwargs):
    """Read `files` and import them in one step (see import_results)."""
    return imports.run(
        RESULTS,
        year,
        files=files,
        user=user,
        dry_run=dry_run,
        batch=batch,
        source=SOURCE,
        today=today,
        **kwargs,
    )


def import_results(
    year,
    rows,
    *,
    user,
    dry_run=False,
    batch=None,
    today=None,
    read_errors=(),
    files=(),
    via="admin",
):
    """Preview (dry_run) or apply result rows for the plan of `year`, as `user`, in one
    step through the import runner (perfplan.imports.run). Atomic: all or nothing."""
    return imports.run(
        RESULTS,
        year,
        parsed=rows,
        read_errors=read_errors,
        files=files,
        user=user,
        dry_run=dry_run,
        batch=batch,
        source=SOURCE,
        today=today,
        via=via,
    )


def _read_step(files, year):
    warnings = []
    try:
        rows, errors = read_results_files(files, year=year, warnings=warnings)
    except TableReadError as exc:
        return None, list(exc.errors)
    return ReadRows(rows, warnings), errors


def _diff_step(result, rows, job):
    # What the reader saw but the changes do not show (hidden rows and columns).
    result.warnings = list(getattr(rows, "warnings", ()))
    today = job.options.get("today") or timezone.localdate()
    diff.diff(result, job.year, rows, job.user, today)
    result.errors.sort(key=lambda e: (e.file, e.sheet, e.row or 0))


def _apply_step(result, _pending, job):
    apply.apply(result, job.user, result.department_pks)
    log.log_changes(result, current_context().batch, job.user)


RESULTS = imports.register(
    imports.ImportKind(
        name="results",
        read=_read_step,
        new_result=lambda year, dry_run: ResultsImportResult(year=year, dry_run=dry_run),
        diff=_diff_step,
        apply=_apply_step,
        fingerprint=lambda result: result.fingerprint(),
        summary=lambda result, job: {
            "counts": result.totals(),
            "via": job.options.get("via") or "admin",
        },
    )
)
