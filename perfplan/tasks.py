"""Long imports outside the request, with a progress bar (issue 13, item 8).

An upload of more than PERFPLAN_IMPORT_INLINE_ROWS rows is not read in the request: the import runner
holds it (perfplan.imports.hold: stored, not confirmable) and a task of django-tasks'
database backend previews it (imports.preview_held) in the worker (`manage.py db_worker`,
README "Running in production"). Its confirmation runs there too. Smaller uploads run in the
request through the same runner, as before. Either way the runner's guarantees hold: the
preview stores the files with the fingerprint, the confirmation re-reads and compares.

While a task runs, its progress (step, stage, rows read of how many) is kept in the batch's
summary ("progress"), where the runner keeps the rest of the batch's state; the import page
polls `progress` (JSON, the user's own batches only) and, when the task is done, shows the
preview the worker rendered (summary "preview_html"), the errors ("refused", Korean, with
file, sheet, row and column), or the confirmation's message and page ("confirmed").

How a kind's page shows a finished task is its ImportScreen, named by dotted path in the
task's arguments (the pages live in the layers above; the worker imports the path, which
also registers the kinds).
"""

from __future__ import annotations

import io
import time
import zipfile
from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.http import Http404
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.formats import number_format
from django.utils.module_loading import import_string
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_tasks import task

from . import imports
from .models import ImportBatch

# A new plan of this many rows: preview about 0.5 s, import with its standings about 3 s
# (SQLite); the text of a published plan has some 6 lines per indicator (the seed: 1,096).
INLINE_ROWS_DEFAULT = 2000
REPORT_EVERY = 0.5  # seconds between two progress writes within a stage
PREVIEW, CONFIRM = "preview", "confirm"
QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
RENDERING = "rendering"

STAGE_LABELS = {
    QUEUED: gettext_lazy("Waiting for the import worker"),
    imports.READING: gettext_lazy("Reading the files"),
    imports.COMPARING: gettext_lazy("Comparing with what is stored"),
    imports.WRITING: gettext_lazy("Checking and writing"),
    imports.SETTLING: gettext_lazy("Computing the indicators' standings"),
    RENDERING: gettext_lazy("Preparing the preview"),
    DONE: gettext_lazy("Done"),
    FAILED: gettext_lazy("Stopped"),
}
# Where on the bar (percent) each stage begins and ends.
STAGE_SPANS = {
    QUEUED: (0, 0),
    imports.READING: (0, 60),
    imports.COMPARING: (60, 95),
    RENDERING: (95, 99),
    imports.WRITING: (60, 90),
    imports.SETTLING: (90, 99),
}
STOPPED = gettext_lazy(
    "The import stopped unexpectedly; nothing was written. Upload the files again."
)


@dataclass(frozen=True)
class ImportScreen:
    """How a kind's import page shows a finished background task.

    render_preview(batch, result) -> {"head": html, "body": html}: the preview as the page
        shows it, above and below the confirm form (which the page adds with its CSRF
        token); preview_parts() renders them from the page's template.
    confirmed(batch, result) -> (message, url): what to say after the import, and where.
    """

    render_preview: object
    confirmed: object


PREVIEW_PARTS = {
    "head": "admin/perfplan/import_preview_head.html",
    "body": "admin/perfplan/import_preview_body.html",
}


def preview_parts(template_name, context):
    """The preview blocks of an import page's template (admin/perfplan/import_page.html),
    rendered without a request: what the worker stores for the page to show."""
    return {
        part: render_to_string(template_name, {**context, "import_base": base})
        for part, base in PREVIEW_PARTS.items()
    }


def inline_rows():
    return getattr(settings, "PERFPLAN_IMPORT_INLINE_ROWS", INLINE_ROWS_DEFAULT)


def estimated_rows(files):
    """The rows of an upload, counted without reading it: the row elements of an xlsx or
    ods workbook's sheets, the lines of a text file. A workbook that unpacks beyond the
    readers' limit counts none: the request's reader refuses it at once, unopened."""
    rows = 0
    for _name, content in files:
        rows += _workbook_rows(content) if content[:2] == b"PK" else content.count(b"\n") + 1
    return rows


def _workbook_rows(content):
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        members = archive.infolist()
    except zipfile.BadZipFile:
        return 0
    if sum(m.file_size for m in members) > settings.PERFPLAN_MAX_XLSX_UNPACKED_BYTES:
        return 0
    rows = 0
    for member in members:
        name = member.filename
        if name == "content.xml" or (name.startswith("xl/worksheets/") and name.endswith(".xml")):
            rows += _count_in(archive, member, (b"<row ", b"<row>", b"<table:table-row"))
    return rows


def _count_in(archive, member, markers):
    count, tail = 0, b""
    with archive.open(member) as stream:
        while chunk := stream.read(1 << 20):
            window = tail + chunk
            # the tail's markers were counted with the chunk before
            count += sum(window.count(m) for m in markers) - sum(tail.count(m) for m in markers)
            tail = window[-16:]
    return count


def runs_inline(rows):
    return rows <= inline_rows()


def _screen(path):
    screen = import_string(path)
    if not isinstance(screen, ImportScreen):
        raise TypeError(f"{path} is no ImportScreen")
    return screen


# ---------------------------------------------------------------- progress


def _write_progress(batch_id, progress, drop=(), **summary_extra):
    summary = ImportBatch.objects.filter(pk=batch_id).values_list("summary", flat=True).first()
    if summary is None:
        return
    kept = {key: value for key, value in summary.items() if key not in drop}
    ImportBatch.objects.filter(pk=batch_id).update(
        summary={**kept, **summary_extra, "progress": progress}
    )


class _Watcher:
    """The reporter of one task's run: each stage at once, rows at most every REPORT_EVERY."""

    def __init__(self, batch_id, step):
        self.batch_id, self.step = batch_id, step
        self.progress = {"step": step, "state": RUNNING, "stage": QUEUED}
        self.last_write = 0.0

    def __call__(self, stage, done, total, where):
        now = time.monotonic()
        within = stage == self.progress["stage"] and (done is None or done != total)
        if within and now - self.last_write < REPORT_EVERY:
            return
        self.progress = {"step": self.step, "state": RUNNING, "stage": stage}
        if done is not None:
            self.progress.update(done=done, total=total, **where)
        self.last_write = now
        _write_progress(self.batch_id, self.progress)

    def finish(self, ok, **summary_extra):
        state = DONE if ok else FAILED
        self.progress = {"step": self.step, "state": state, "stage": state}
        # A confirmed or refused preview is not shown again: its rendering goes.
        drop = ("preview_html",) if self.step == CONFIRM else ()
        _write_progress(self.batch_id, self.progress, drop=drop, **summary_extra)


def _queue(batch_id, step):
    _write_progress(batch_id, {"step": step, "state": QUEUED, "stage": QUEUED})


def progress_of(batch):
    """What the progress bar shows of `batch`, in the active language (JSON-ready)."""
    progress = (batch.summary or {}).get("progress") or {}
    state, stage = progress.get("state", DONE), progress.get("stage", DONE)
    start, end = STAGE_SPANS.get(stage, (100, 100))
    done, total = progress.get("done"), progress.get("total")
    percent = start
    text = ""
    if stage == imports.READING and done is not None:
        if total:
            percent = start + (end - start) * min(done, total) // total
        where = " · ".join(p for p in (progress.get("file"), progress.get("sheet")) if p)
        rows = (
            _("%(done)s / %(total)s rows read") % {"done": _number(done), "total": _number(total)}
            if total
            else _("%(done)s rows read") % {"done": _number(done)}
        )
        text = f"{where}: {rows}" if where else rows
    if state in (DONE, FAILED):
        percent = 100
    return {
        "step": progress.get("step", ""),
        "state": state,
        "stage": stage,
        "label": str(STAGE_LABELS.get(stage, "")),
        "text": text,
        "percent": percent,
        "finished": state in (DONE, FAILED),
    }


def _number(value):
    return number_format(value, force_grouping=True)


def is_running(batch):
    progress = (batch.summary or {}).get("progress") or {}
    return progress.get("state") in (QUEUED, RUNNING)


def own_batch(user, batch_id, kinds):
    """The user's own batch of one of `kinds`, whatever its status, or 404: another user's
    import, its progress and its preview are not found."""
    if getattr(user, "pk", None) is None:
        raise Http404
    batch = (
        ImportBatch.objects.filter(
            pk=batch_id, created_by=user, summary__kind__in=[kind.name for kind in kinds]
        ).first()
        if _is_uuid(batch_id)
        else None
    )
    if batch is None:
        raise Http404
    return batch


def _is_uuid(value):
    import uuid

    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def held_page(request, batch, page_url):
    """What an import page shows of the user's own `batch` (`page_url`?batch=…): a redirect
    (a confirmed import: its message and page), or the page's context: the progress bar
    while its task is queued or running, then the stored preview, or the errors."""
    summary = batch.summary or {}
    year = {"year": batch.fiscal_year}
    if batch.status == ImportBatch.Status.APPLIED:
        confirmed = summary.get("confirmed")
        if not confirmed:
            return redirect(page_url)
        messages.success(request, confirmed["message"])
        return redirect(confirmed["url"])
    if is_running(batch):
        return {
            **year,
            "import_progress": progress_of(batch),
            "progress_url": f"{page_url}?progress={batch.pk}",
            "done_url": f"{page_url}?batch={batch.pk}",
        }
    parts = summary.get("preview_html")
    if batch.status == ImportBatch.Status.PREVIEWED:
        if not parts:  # previewed in a request: nothing kept to show again
            return redirect(page_url)
        # Rendered (escaped) by the worker from our own templates.
        preview = {part: mark_safe(html) for part, html in parts.items()}  # noqa: S308
        return {**year, "batch": batch, "preview_html": preview}
    return {**year, "errors": summary.get("refused") or [str(STOPPED)]}


# ---------------------------------------------------------------- starting


def start_preview(kind, year, files, *, user, screen, reason="", source="admin", **options):
    """Preview an upload: in the request when it is small (imports.preview: the result),
    else held and queued for the worker (the held batch). Returns (result, held)."""
    rows = {"rows": estimated_rows(files)}  # kept: the confirmation runs where this did
    if runs_inline(rows["rows"]):
        result = imports.preview(
            kind, year, files, user=user, reason=reason, source=source, summary=rows, **options
        )
        return result, None
    batch = imports.hold(
        kind, year, files, user=user, reason=reason, source=source, summary=rows, **options
    )
    _queue(batch.pk, PREVIEW)
    preview_import.enqueue(str(batch.pk), user.pk, translation.get_language(), screen)
    return None, ImportBatch.objects.get(pk=batch.pk)


def start_confirm(batch, *, user, screen):
    """Confirm a stored preview: in the request when its files are small (the result of
    imports.confirm), else queued for the worker (None; the page follows its progress). A
    second click while it is queued or running queues nothing more."""
    rows = (batch.summary or {}).get("rows")
    if rows is None:  # previewed before rows were counted
        rows = estimated_rows([(f.name, bytes(f.content)) for f in batch.files.all()])
    if runs_inline(rows):
        return imports.confirm(batch, user=user)
    batch.refresh_from_db()
    progress = (batch.summary or {}).get("progress") or {}
    if not (progress.get("step") == CONFIRM and is_running(batch)):
        _queue(batch.pk, CONFIRM)
        confirm_import.enqueue(str(batch.pk), user.pk, translation.get_language(), screen)
    return None


# ---------------------------------------------------------------- the tasks


def _user(user_id):
    return get_user_model().objects.get(pk=user_id)


@task()
def preview_import(batch_id, user_id, language, screen_path):
    """The worker's preview of a held upload (imports.preview_held), rendered for its page."""
    screen = _screen(screen_path)  # first: importing it registers the import kinds
    batch = ImportBatch.objects.get(pk=batch_id)
    watcher = _Watcher(batch.pk, PREVIEW)
    with translation.override(language), imports.progress_to(watcher):
        try:
            result = imports.preview_held(batch, user=_user(user_id))
            html = {}
            if result.ok:
                watcher(RENDERING, None, None, {})
                html = screen.render_preview(result.batch, result)
        except Exception:
            # The page must stop waiting; the worker keeps the traceback as the task's.
            watcher.finish(False, refused=[str(STOPPED)])
            raise
        watcher.finish(result.ok, preview_html=html)
    return {"ok": result.ok, "errors": len(result.errors)}


@task()
def confirm_import(batch_id, user_id, language, screen_path):
    """The worker's confirmation of a stored preview (imports.confirm), as the page's
    confirm request would do it; then the standings (the runner's import_applied)."""
    screen = _screen(screen_path)
    batch = ImportBatch.objects.get(pk=batch_id)
    watcher = _Watcher(batch.pk, CONFIRM)
    with translation.override(language), imports.progress_to(watcher):
        try:
            result = imports.confirm(batch, user=_user(user_id))
            extra = {}
            if result.ok:
                message, url = screen.confirmed(batch, result)
                extra["confirmed"] = {"message": str(message), "url": str(url)}
        except Exception:
            watcher.finish(False, refused=[str(STOPPED)])
            raise
        watcher.finish(result.ok, **extra)
    return {"ok": result.ok, "errors": len(result.errors)}
