"""One runner for every import: plan tables, the text of a published plan, results.

Every way in (the admin pages, the commands, goals.importer.import_plan) goes through here,
so every import has the same safeguards:

* the upload is stored with the preview (ImportBatch + ImportFile, in the database, so the
  confirmation may land on any app server); its summary keeps the kind, the fingerprint of
  what the preview showed, the digest of the files and the reason given;
* the confirmation re-reads the stored files as the same user and diffs again; if the files
  or the database changed so that the import would write something else than the preview
  showed, nothing is written and the batch is rejected (upload again for a new preview);
* the reason given at the preview (an amendment of a published plan needs one) is carried
  to the confirmation and lands on every change-log entry of the batch;
* the diff, the writes, the change-log entries and the batch's status are one transaction;
* one change-log entry for the import itself, under its batch, written here only;
* after the commit, `import_applied` is sent (indicators.standing has the standings the
  import outdated computed by the task worker, or at once in a background import, so no
  user's request after an import computes them);
* a long import runs outside the request (perfplan.tasks): its upload is held first
  (`hold`, a batch that cannot be confirmed yet), previewed by `preview_held`, and each stage
  is told to `progress_to`'s reporter (`report_progress`), the rows read included.

perfplan is the bottom layer: the kinds (goals.importer, indicators.results_import) bring
their reader, differ, applier and fingerprint as an ImportKind and register it.
"""

from __future__ import annotations

import contextvars
import hashlib
import logging
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.contrib.contenttypes.models import ContentType
from django.db import DatabaseError, IntegrityError, transaction
from django.dispatch import Signal
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .changelog import ChainWriter, change_context
from .models import ImportBatch, ImportFile
from .runtime import collector_paused

logger = logging.getLogger(__name__)

# Sent after an import's transaction committed: sender the ImportKind, with batch, year,
# result and background (True in the task worker). The apps above have what the import
# outdated computed (indicators.standing).
import_applied = Signal()

# Stages of an import, as a progress bar tells them (perfplan.tasks names them).
READING, COMPARING, WRITING, SETTLING = "reading", "comparing", "writing", "settling"

_reporter = contextvars.ContextVar("perfplan_import_progress", default=None)


@contextmanager
def progress_to(reporter):
    """Within the block, report_progress() calls reporter(stage, done, total, where)."""
    token = _reporter.set(reporter)
    try:
        yield
    finally:
        _reporter.reset(token)


def report_progress(stage, done=None, total=None, **where):
    """Tell a watching progress bar (a background import's) how far the import is: the
    stage, and within it `done` of `total` (rows read…) and where (file, sheet). Free when
    nothing watches; the readers call it every few hundred rows."""
    reporter = _reporter.get()
    if reporter is not None:
        reporter(stage, done, total, where)


@dataclass(frozen=True)
class ImportKind:
    """What one kind of import brings to the runner.

    read(files, year) -> (parsed or None, [errors]): the stored or uploaded files, read;
        no database writes. Errors with parsed data are listed beside the diff's own.
    new_result(year, dry_run) -> the kind's result: .errors, .ok, .totals(), .applied,
        .batch, .dry_run.
    diff(result, parsed, job) -> pending: inside the import's transaction, locking what it
        reads; fills result.changes / result.errors; writes nothing.
    apply(result, pending, job): writes and logs each written record (inside the change
        context the runner sets: user, reason, batch).
    fingerprint(result) -> str: what the import would write; the confirmation must write
        exactly what the preview showed.
    summary(result, job) -> dict: what the applied batch's summary keeps besides the
        runner's (kind, reason, fingerprint, files' digest).
    """

    name: str
    read: Callable
    new_result: Callable
    diff: Callable
    apply: Callable
    fingerprint: Callable
    summary: Callable = lambda result, job: {"counts": result.totals()}


@dataclass
class ImportJob:
    """One run of a kind: who, for which year, why, and the kind's own options."""

    year: int
    user: object = None
    reason: str = ""
    options: dict = field(default_factory=dict)


class NamedChange:
    """A change of a kind whose records sit on a `path` of names at a `level` (the plan
    tables and the roll-forward): its labels as the preview shows them. The subclass names
    its LEVEL_LABELS and ACTION_LABELS (class attributes)."""

    LEVEL_LABELS: dict = {}
    ACTION_LABELS: dict = {}

    @property
    def level_label(self):
        return self.LEVEL_LABELS[self.level]

    @property
    def action_label(self):
        return self.ACTION_LABELS[self.action]

    @property
    def name(self):
        return self.path[-1] if self.path else ""

    @property
    def parents(self):
        return " › ".join(self.path[:-1])


class CountedChanges:
    """A kind's result whose `changes` each carry a `level` and an `action` (the plan tables
    and the roll-forward): its counts per level, totals per action, and whether it writes.
    The subclass names its LEVELS and ACTIONS (class attributes, not dataclass fields)."""

    LEVELS: tuple = ()
    ACTIONS: tuple = ()
    UNCHANGED = "unchanged"

    @property
    def ok(self):
        return not self.errors

    def counts(self):
        counts = {level: dict.fromkeys(self.ACTIONS, 0) for level in self.LEVELS}
        for change in self.changes:
            counts[change.level][change.action] += 1
        return counts

    def totals(self):
        totals = dict.fromkeys(self.ACTIONS, 0)
        for change in self.changes:
            totals[change.action] += 1
        return totals

    @property
    def has_writes(self):
        return any(c.action != self.UNCHANGED for c in self.changes)


@dataclass
class ImportProblem:
    """A refusal of the runner itself (not of a row): printed as its message."""

    message: str
    file: str = ""
    sheet: str = ""
    row: int | None = None

    def __str__(self):
        return self.message


_KINDS: dict[str, ImportKind] = {}


def register(kind):
    """Make `kind` known by its name (a stored batch's summary names its kind)."""
    _KINDS[kind.name] = kind
    return kind


def kind_named(name):
    try:
        return _KINDS[name]
    except KeyError:
        raise LookupError(f"no import kind {name!r} is registered") from None


def files_digest(files):
    """The SHA-256 of the files as uploaded: names and contents, in order."""
    digest = hashlib.sha256()
    for name, content in files:
        for part in (name.encode(), bytes(content)):
            digest.update(len(part).to_bytes(8, "big"))
            digest.update(part)
    return digest.hexdigest()


def _user_or_none(user):
    return user if user is not None and getattr(user, "pk", None) else None


def _store(kind, year, files, *, user, source, summary, status=ImportBatch.Status.PREVIEWED):
    batch = ImportBatch.objects.create(
        fiscal_year=year,
        source=source,
        created_by=_user_or_none(user),
        summary=summary,
        status=status,
    )
    ImportFile.objects.bulk_create(
        ImportFile(batch=batch, name=name, content=content, size=len(content))
        for name, content in files
    )
    return batch


CHANGED_SINCE_PREVIEW = gettext_lazy(
    "the files or the data changed since the preview; nothing was written. "
    "Upload the files again to see the new preview."
)
ALREADY_CONFIRMED = gettext_lazy("this preview was already confirmed or refused")
REFUSED_KEPT = 1000  # the errors a refused batch keeps (a background import's page lists them)


def _changed_since_preview():
    return ImportProblem(str(CHANGED_SINCE_PREVIEW))


def _run(kind, job, parsed, read_errors, *, dry_run, batch=None, expected=None, on_write=None):
    """Diff `parsed` and, unless a dry run, write it: one transaction, all or nothing.

    batch: the stored preview being confirmed (locked, must still be a preview), or None
    (a batch is made from `on_write`'s files). expected: the preview's fingerprint.
    """
    result = kind.new_result(job.year, dry_run)
    result.errors.extend(read_errors)
    if parsed is None:
        return result
    # Inside the transaction nothing a watcher could read is written: compare and write
    # are one stage for it.
    report_progress(COMPARING if dry_run else WRITING)
    try:
        with collector_paused(), transaction.atomic():
            if batch is not None:
                # Two confirmations of one preview: the second waits here, then finds it done.
                batch = (
                    ImportBatch.objects.select_for_update()
                    .filter(pk=batch.pk, status=ImportBatch.Status.PREVIEWED)
                    .first()
                )
                if batch is None:
                    result.errors.append(ImportProblem(str(ALREADY_CONFIRMED)))
                    return result
            pending = kind.diff(result, parsed, job)
            if result.errors or dry_run:
                return result
            if expected is not None and kind.fingerprint(result) != expected:
                result.errors.append(_changed_since_preview())
                return result
            if batch is None:
                batch = on_write()
            context = {"batch": batch, "quiet": True, "reason": job.reason}
            if _user_or_none(job.user) is not None:
                context["user"] = job.user
            with change_context(**context):
                kind.apply(result, pending, job)
                batch.status = ImportBatch.Status.APPLIED
                batch.applied_at = timezone.now()
                batch.summary = {
                    **(batch.summary or {}),
                    **kind.summary(result, job),
                    "kind": kind.name,
                    "reason": job.reason,
                }
                batch.save(update_fields=["status", "applied_at", "summary"])
                log_import(batch, job.year, result.totals())
            result.applied = True
            result.batch = batch
    except IntegrityError as exc:
        result.applied = False
        result.batch = None
        result.errors.append(
            ImportProblem(_("the database refused the change: %(error)s") % {"error": exc})
        )
    if result.applied:
        _settle(kind, result, job)
    return result


def _settle(kind, result, job):
    """After the commit: what the import outdated is computed by the task worker (queued
    by the receivers), or right here when the import runs in the worker (a progress bar
    watches it: perfplan.tasks), never by the first request that reads it."""
    report_progress(SETTLING)
    background = _reporter.get() is not None
    try:
        import_applied.send(
            kind, batch=result.batch, year=job.year, result=result, background=background
        )
    except DatabaseError:
        # The import stands; what was not computed now is computed when first read.
        logger.exception("computing after the import of batch %s failed", result.batch.pk)


def log_import(batch, year, totals):
    """The change-log entry of the import itself, after those of its records."""
    batch_type = ContentType.objects.get_for_model(ImportBatch).pk
    with ChainWriter(batch=batch) as chain:
        chain.append(
            "import",
            batch_type,
            str(batch.pk),
            str(batch)[:300],
            None,
            year,
            {key: [None, value] for key, value in totals.items()},
        )


def run(
    kind,
    year,
    *,
    files=(),
    parsed=None,
    read_errors=(),
    user=None,
    reason="",
    dry_run=False,
    source="command",
    batch=None,
    summary=None,
    **options,
):
    """Preview (dry_run) or import in one step: the diff and the writes in one transaction,
    so what is written is what was diffed. `files` are read unless `parsed` is given; they
    are stored in the batch made for the import (or `batch`, an existing one)."""
    job = ImportJob(year, user, (reason or "").strip(), options)
    if parsed is None and files:
        parsed, errors = _read(kind, files, year)
        read_errors = [*read_errors, *errors]
    if batch is not None and batch.status != ImportBatch.Status.PREVIEWED:
        batch = None

    def new_batch():
        return _store(
            kind,
            year,
            files,
            user=user,
            source=source,
            summary={"kind": kind.name, "files_sha256": files_digest(files), **(summary or {})},
        )

    return _run(
        kind, job, parsed, list(read_errors), dry_run=dry_run, batch=batch, on_write=new_batch
    )


def _read(kind, files, year):
    report_progress(READING)
    return kind.read(files, year)


def _preview_summary(kind, result, files, reason, options, summary):
    return {
        **(summary or {}),
        "kind": kind.name,
        "fingerprint": kind.fingerprint(result),
        "files_sha256": files_digest(files),
        "reason": reason,
        "options": _plain(options),
        "counts": result.totals(),
    }


def _plain(options):
    return {k: v for k, v in options.items() if _is_plain(v)}


def preview(
    kind, year, files, *, user=None, reason="", source="admin", store=True, summary=None, **options
):
    """Read and diff the upload, write nothing; a clean preview is stored (unless not
    `store`) for its confirmation (result.batch), with its fingerprint and the reason."""
    reason = (reason or "").strip()
    job = ImportJob(year, user, reason, options)
    parsed, read_errors = _read(kind, files, year)
    result = _run(kind, job, parsed, read_errors, dry_run=True)
    result.batch = None
    if result.ok and store:
        result.batch = _store(
            kind,
            year,
            files,
            user=user,
            source=source,
            summary=_preview_summary(kind, result, files, reason, options, summary),
        )
    return result


def hold(kind, year, files, *, user, reason="", source="admin", summary=None, **options):
    """Keep an upload for a preview that runs later (perfplan.tasks): stored as a queued
    batch, which nothing can confirm before `preview_held` has compared it."""
    return ImportBatch.objects.get(
        pk=_store(
            kind,
            year,
            files,
            user=user,
            source=source,
            status=ImportBatch.Status.QUEUED,
            summary={
                **(summary or {}),
                "kind": kind.name,
                "files_sha256": files_digest(files),
                "reason": (reason or "").strip(),
                "options": _plain(options),
                "held": True,
            },
        ).pk
    )


def held_files(batch):
    return [(f.name, bytes(f.content)) for f in batch.files.order_by("pk")]


def preview_held(batch, *, user):
    """`preview` of an upload kept by `hold`: a clean preview makes the batch a stored
    preview (the same summary as `preview` stores); a refused one keeps the errors (as a
    refused confirmation does) and drops the files."""
    summary = {k: v for k, v in (batch.summary or {}).items() if k != "held"}
    kind = kind_named(summary.get("kind", ""))
    options = dict(summary.get("options") or {})
    job = ImportJob(batch.fiscal_year, user, summary.get("reason", ""), options)
    files = held_files(batch)
    if files_digest(files) != summary.get("files_sha256"):
        result = kind.new_result(batch.fiscal_year, True)
        result.errors.append(_changed_since_preview())
    else:
        parsed, read_errors = _read(kind, files, batch.fiscal_year)
        result = _run(kind, job, parsed, read_errors, dry_run=True)
    result.batch = None
    if result.ok:
        summary = _preview_summary(kind, result, files, job.reason, options, summary)
        ImportBatch.objects.filter(pk=batch.pk).update(
            status=ImportBatch.Status.PREVIEWED, summary=summary
        )
        result.batch = ImportBatch.objects.get(pk=batch.pk)
    else:
        with transaction.atomic():
            ImportFile.objects.filter(batch=batch).delete()
            ImportBatch.objects.filter(pk=batch.pk).update(
                status=ImportBatch.Status.REJECTED,
                summary={**summary, "refused": [str(e) for e in result.errors[:REFUSED_KEPT]]},
            )
    return result


def _is_plain(value):
    return value is None or isinstance(value, (str, int, float, bool))


def confirm(batch, *, user=None):
    """Import a stored preview: re-read its files, diff again, write only what the preview
    showed, with the reason given then. A refusal rejects the batch (preview anew)."""
    summary = batch.summary or {}
    kind = kind_named(summary.get("kind", ""))
    reason = summary.get("reason", "")
    job = ImportJob(batch.fiscal_year, user, reason, dict(summary.get("options") or {}))
    files = held_files(batch)
    if not summary.get("fingerprint"):
        # A held upload not previewed (yet): there is nothing it could be checked against.
        result = kind.new_result(batch.fiscal_year, False)
        result.errors.append(ImportProblem(str(ALREADY_CONFIRMED)))
        return result
    if files_digest(files) != summary.get("files_sha256"):
        result = kind.new_result(batch.fiscal_year, False)
        result.errors.append(_changed_since_preview())
    else:
        parsed, read_errors = _read(kind, files, batch.fiscal_year)
        result = _run(
            kind,
            job,
            parsed,
            read_errors,
            dry_run=False,
            batch=batch,
            expected=summary.get("fingerprint"),
        )
    if not result.ok:
        # Nothing was written; this preview cannot be confirmed again.
        ImportBatch.objects.filter(pk=batch.pk, status=ImportBatch.Status.PREVIEWED).update(
            status=ImportBatch.Status.REJECTED,
            summary={**summary, "refused": [str(e) for e in result.errors[:REFUSED_KEPT]]},
        )
    return result


def previewed_batch(user, batch_id, kinds):
    """The user's own stored preview of one of `kinds`, or 404: another user's preview id,
    an applied or refused one, is not found, whatever the method of the request."""
    if _user_or_none(user) is None:
        raise Http404
    return get_object_or_404(
        ImportBatch,
        pk=batch_id,
        status=ImportBatch.Status.PREVIEWED,
        created_by=user,
        summary__kind__in=[kind.name for kind in kinds],
    )
