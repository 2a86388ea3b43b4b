"""Large exports outside the request, with a progress bar and a download link (issue 13, item 8).

An export is registered by its app (the layers above: plan tables, results report, tracking,
change log) as an `Export`: its kind, who may have it, its size and the function that makes
the file, named by dotted path so that the worker can import it (as the imports name their
ImportScreen, perfplan.tasks). The page's view calls `respond`: an export of at most
PERFPLAN_EXPORT_INLINE_ROWS rows (or indicators) is made in the request and downloaded at
once, as before; a larger one becomes an ExportJob made by a task of django-tasks' database
backend in the worker (`manage.py db_worker`, README "Running in production") and the user
is sent to its page, which polls `progress` (JSON) and then offers the download. Either way
the same `make(user, params, progress)` makes the file, with the asking user's scope.

Only the user who asked (and superusers) find a job; at download the export's `allowed` is
asked again for the user who asked (their scope may have changed). The same request while
one is queued or being made returns that job. The worker deletes jobs older than
PERFPLAN_EXPORT_KEEP_HOURS (a day) whenever it begins one (no command to schedule).

The file is kept in the database (a BinaryField, like ImportFile and ReportPdf), not in
MEDIA_ROOT: the worker and every app server share the database, not a disk, and the files
live a day.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import quote

from django.conf import settings
from django.contrib import admin
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db import transaction
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    JsonResponse,
    QueryDict,
)
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone, translation
from django.utils.formats import number_format
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_tasks import task

from .models import ExportJob
from .xlsx import write_xlsx

INLINE_ROWS_DEFAULT = 2000  # the results report: ~3 s at 2,000 indicators; plan tables ~0.3 s
KEEP_HOURS_DEFAULT = 24
STALE_AFTER = timedelta(hours=2)  # queued or running this long: its worker died
REPORT_EVERY = 0.5  # seconds between two progress writes
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
RECENT = 10  # the user's exports listed on the page

STATE = ExportJob.State
LABELS = {
    STATE.QUEUED: gettext_lazy("Waiting for the export worker"),
    "collecting": gettext_lazy("Collecting the data"),
    STATE.RUNNING: gettext_lazy("Writing the file"),
    STATE.DONE: gettext_lazy("Done"),
    STATE.FAILED: gettext_lazy("Stopped"),
}
STOPPED = gettext_lazy(
    "The export stopped unexpectedly. Ask for it again; if it stops again, tell the administrator."
)
NOT_ALLOWED = gettext_lazy("You may no longer export this.")
GONE = gettext_lazy("What was asked for no longer exists.")


def inline_rows():
    return getattr(settings, "PERFPLAN_EXPORT_INLINE_ROWS", INLINE_ROWS_DEFAULT)


def keep_for():
    return timedelta(hours=getattr(settings, "PERFPLAN_EXPORT_KEEP_HOURS", KEEP_HOURS_DEFAULT))


@dataclass(frozen=True)
class Made:
    """An export's file: its bytes, or a binary file holding them (rewound)."""

    file_name: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class Export:
    """A kind of export, made the same way in the request and in the worker.

    allowed(user, params) -> bool: whether `user` may have it (asked when it is requested,
        made and downloaded).
    size(user, params) -> int: its rows (or indicators): above inline_rows() it is queued.
        May stop counting past inline_rows().
    make(user, params, progress) -> Made: the file, with `user`'s scope; progress(done,
        total) may be called as rows are written (xlsx_file does).
    path: this object's dotted path (the worker imports it).
    """

    kind: str
    label: object
    allowed: object
    size: object
    make: object
    path: str


_KINDS: dict[str, Export] = {}


def register(export):
    """Register `export` by its kind; a kind is registered once (a second module reusing
    the name is a mistake)."""
    known = _KINDS.get(export.kind)
    if known is not None and known.path != export.path:
        raise ValueError(f"export kind {export.kind!r} is registered by {known.path}")
    _KINDS[export.kind] = export
    return export


def _export(path):
    export = import_string(path)
    if not isinstance(export, Export):
        raise TypeError(f"{path} is no Export")
    return export


def _quiet(done, total):
    pass


# ---------------------------------------------------------------- making the file


class _Told:
    """The rows written, told to `progress`: a table given as a list after the writer has
    written it (the writer measures a list's columns first, so it is passed on as it is),
    a table given as an iterator row by row."""

    def __init__(self, progress, total):
        self.progress, self.total, self.done = progress, total, 0

    def tables(self, tables):
        for table in tables:
            if isinstance(table.rows, list | tuple):
                yield table  # the writer asks for the next table once this one is written
                self.done += len(table.rows)
                self.tell()
            else:
                table.rows = self.rows(table.rows)
                yield table

    def rows(self, rows):
        for row in rows:
            yield row
            self.done += 1
            self.tell()

    def tell(self):
        self.progress(self.done, max(self.total, self.done))


def xlsx_file(tables, file_name, progress=_quiet, total=None, target=None):
    """`tables` (perfplan.xlsx.Table) written as one workbook (perfplan.xlsx.write_xlsx),
    telling `progress` the rows written of `total` (by default the rows of the tables
    given as lists). With `target` (a binary file, e.g. a temporary file) the workbook is
    written there and the Made holds it, rewound (served streamed)."""
    if total is None:
        total = sum(len(t.rows) for t in tables if isinstance(t.rows, list | tuple))
    told = _Told(progress, total)
    progress(0, total)
    data = write_xlsx(told.tables(tables), target=target)
    told.tell()
    if target is not None:
        target.seek(0)
    return Made(file_name, XLSX_TYPE, data)


def query_of(request, drop=()):
    """The request's query as parameters (JSON, in a fixed order): what a screen's export
    was filtered by."""
    return sorted(
        [key, value] for key, values in request.GET.lists() if key not in drop for value in values
    )


def request_as(user, query):
    """A GET request of `user` with `query` (query_of's pairs): a screen's filters (django-
    filter, the admin's change list) read the same query in the worker as in the request."""
    request = HttpRequest()
    request.method = "GET"
    request.path = request.path_info = "/"
    request.META = {"REQUEST_METHOD": "GET", "SERVER_NAME": "localhost", "SERVER_PORT": "80"}
    request.GET = QueryDict(mutable=True)
    for key, value in query:
        request.GET.appendlist(key, value)
    request.GET._mutable = False
    request.user = user
    request.LANGUAGE_CODE = translation.get_language()
    return request


def _bytes(made):
    if isinstance(made.data, bytes | bytearray | memoryview):
        return bytes(made.data)
    with made.data:
        return made.data.read()


def download(made):
    """The file as an attachment: bytes at once, a file (Made.data) streamed from it."""
    if isinstance(made.data, bytes | bytearray | memoryview):
        response = HttpResponse(made.data, content_type=made.content_type)
        response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(made.file_name)}"
    else:
        response = FileResponse(
            made.data, as_attachment=True, filename=made.file_name, content_type=made.content_type
        )
    response["X-Content-Type-Options"] = "nosniff"
    return response


# ---------------------------------------------------------------- in the request or queued


def respond(request, export, params):
    """What the page's export view answers: the file at once when it is small, else the
    page of a job made by the worker (the same one while an identical request runs)."""
    user = request.user
    if not export.allowed(user, params):
        raise PermissionDenied
    if export.size(user, params) <= inline_rows():
        return download(export.make(user, params, _quiet))
    job = queue(export, user, params)
    return redirect(job_url(job))


def _key(export, params, language):
    text = json.dumps([export.kind, params, language], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def is_running(job):
    return job.state in (STATE.QUEUED, STATE.RUNNING) and (
        timezone.now() - job.requested_at < STALE_AFTER
    )


def queue(export, user, params):
    """The user's job for `export` with `params`: the one queued or being made, or a new one
    given to the worker."""
    language = translation.get_language() or settings.LANGUAGE_CODE
    key = _key(export, params, language)
    with transaction.atomic():
        running = (
            ExportJob.objects.defer("content")
            .filter(
                requested_by=user,
                key=key,
                state__in=[STATE.QUEUED, STATE.RUNNING],
                requested_at__gte=timezone.now() - STALE_AFTER,
            )
            .first()
        )
        if running is not None:
            return running
        job = ExportJob.objects.create(
            requested_by=user,
            kind=export.kind,
            maker=export.path,
            params=params,
            key=key,
            language=language,
        )
    make_export.enqueue(str(job.pk))
    return ExportJob.objects.defer("content").get(pk=job.pk)


# ---------------------------------------------------------------- the task


def _update(job_id, **fields):
    ExportJob.objects.filter(pk=job_id).update(**fields)


class _Progress:
    """The rows written, stored at most every REPORT_EVERY seconds (the end is stored as
    the job is done)."""

    def __init__(self, job_id):
        self.job_id = job_id
        self.last = 0.0

    def __call__(self, done, total):
        now = time.monotonic()
        if done and now - self.last < REPORT_EVERY:
            return
        self.last = now
        _update(self.job_id, state=STATE.RUNNING, progress_done=done, progress_total=total)


def prune():
    """Delete the jobs older than keep_for() (their files too)."""
    ExportJob.objects.filter(requested_at__lt=timezone.now() - keep_for()).delete()


@task()
def make_export(job_id):
    """The worker's making of a queued export, as `respond` would make it in the request:
    in the language and with the scope of the user who asked."""
    prune()
    job = ExportJob.objects.defer("content").filter(pk=job_id).first()
    if job is None:  # pruned before the worker came to it
        return {"state": "gone"}
    _update(job_id, state=STATE.RUNNING, progress_done=0, progress_total=0)
    with translation.override(job.language):
        try:
            export = _export(job.maker)
            if not export.allowed(job.requested_by, job.params):
                raise PermissionDenied
            made = export.make(job.requested_by, job.params, _Progress(job_id))
        except (PermissionDenied, ObjectDoesNotExist, Http404) as exc:
            error = NOT_ALLOWED if isinstance(exc, PermissionDenied) else GONE
            _update(job_id, state=STATE.FAILED, error=str(error), made_at=timezone.now())
            return {"state": STATE.FAILED}
        except Exception:
            _update(job_id, state=STATE.FAILED, error=str(STOPPED), made_at=timezone.now())
            raise  # the worker keeps the traceback as the task's
    data = _bytes(made)
    job.refresh_from_db(fields=["progress_total"])
    _update(
        job_id,
        state=STATE.DONE,
        content=data,
        file_name=made.file_name,
        content_type=made.content_type,
        size=len(data),
        progress_done=job.progress_total,
        made_at=timezone.now(),
        error="",
    )
    return {"state": STATE.DONE, "bytes": len(data)}


# ---------------------------------------------------------------- the pages


def job_url(job):
    return reverse("exports:job", args=[job.pk])


def own_job(user, job_id, *, with_content=False):
    """The job `job_id` of `user` (any job for a superuser), or 404."""
    if getattr(user, "pk", None) is None:
        raise Http404
    jobs = ExportJob.objects.all() if with_content else ExportJob.objects.defer("content")
    if not user.is_superuser:
        jobs = jobs.filter(requested_by=user)
    job = jobs.filter(pk=job_id).first()
    if job is None:
        raise Http404
    return job


def _label(job):
    export = _KINDS.get(job.kind)
    if export is None:
        try:
            export = _export(job.maker)
        except (ImportError, TypeError):
            return job.kind
    return str(export.label)


def _number(value):
    return number_format(value, force_grouping=True)


def progress_of(job):
    """What the progress bar shows of `job`, in the active language (JSON-ready); the
    keys perfplan/progress.js reads (percent, label, text, stage, finished) and more."""
    state, done, total = job.state, job.progress_done, job.progress_total
    stage = state
    if state == STATE.RUNNING and not total:
        stage = "collecting"
    percent = min(done, total) * 100 // total if state == STATE.RUNNING and total else 0
    text = ""
    if state == STATE.RUNNING and total:
        text = _("%(done)s / %(total)s rows written") % {
            "done": _number(done),
            "total": _number(total),
        }
    finished = state in (STATE.DONE, STATE.FAILED) or not is_running(job)
    if finished:
        percent = 100
    if finished and state not in (STATE.DONE, STATE.FAILED):  # its worker died
        stage, state = STATE.FAILED, STATE.FAILED
    return {
        "state": state,
        "stage": stage,
        "label": str(LABELS.get(stage, "")),
        "text": text,
        "percent": percent,
        "done": done,
        "total": total,
        "finished": finished,
        "file_name": job.file_name,
        "download_url": reverse("exports:download", args=[job.pk])
        if job.state == STATE.DONE
        else "",
        "error": job.error if state == STATE.FAILED and job.error else "",
    }


def _row(job):
    progress = progress_of(job)
    if progress["state"] == STATE.FAILED and not progress["error"]:
        progress["error"] = str(STOPPED)
    return {"job": job, "label": _label(job), "progress": progress, "url": job_url(job)}


def _recent(user):
    return [
        _row(job) for job in ExportJob.objects.defer("content").filter(requested_by=user)[:RECENT]
    ]


def job_view(request, job_id=None):
    """A job's page (progress bar, then its download link or its error) and the user's
    recent exports; without a job, the list alone."""
    current = _row(own_job(request.user, job_id)) if job_id is not None else None
    context = {
        **admin.site.each_context(request),
        "title": current["label"] if current else _("My exports"),
        "current": current,
        "progress_url": reverse("exports:progress", args=[job_id]) if current else "",
        "recent": _recent(request.user),
        "keep_hours": int(keep_for().total_seconds() // 3600),
    }
    return TemplateResponse(request, "perfplan/export_job.html", context)


def progress_view(request, job_id):
    return JsonResponse(progress_of(own_job(request.user, job_id)))


def download_view(request, job_id):
    """The made file, if the user who asked may still have it."""
    job = own_job(request.user, job_id, with_content=True)
    if job.state != STATE.DONE:
        return redirect(job_url(job))
    if not _export(job.maker).allowed(job.requested_by, job.params):
        raise PermissionDenied
    return download(Made(job.file_name, job.content_type, bytes(job.content)))


def _staff(view):
    return admin.site.admin_view(view)


# Mounted by perfplan.urls at admin/exports/ (namespace "exports").
urlpatterns = [
    path("", _staff(job_view), name="list"),
    path("<uuid:job_id>/", _staff(job_view), name="job"),
    path("<uuid:job_id>/progress/", _staff(progress_view), name="progress"),
    path("<uuid:job_id>/download/", _staff(download_view), name="download"),
]
