"""The change log: who changed what, when, from where and why — append-only, hash-chained.

A NetBox-style log of our own rather than django-simple-history, django-auditlog or
django-reversion: those hook model signals and record nothing for bulk writes, while our
imports write with bulk_create/bulk_update. Here single saves are caught by signals
(perfplan.signals), and bulk writers (the importer) record their diffs with record_many().

Each entry's hash covers its content and the previous entry's hash; the chain head is one
locked row, so concurrent writers append one after another. `verify_chain()` recomputes it.
"""

from __future__ import annotations

import contextvars
import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone

from .models import ChangeLogEntry, ChangeLogHead

GENESIS = "0" * 64
_context = contextvars.ContextVar("perfplan_change_context", default=None)


@dataclass
class ChangeContext:
    user: object = None
    ip_address: str | None = None
    request_id: str = ""
    reason: str = ""
    batch: object = None
    # A workflow step saves a result under its own name (submit, approve, …), not "update".
    action: str = ""
    # Bulk writers log their own diffs; single-save signals stay quiet meanwhile.
    quiet: bool = False


def current_context():
    return _context.get() or ChangeContext()


class change_context:
    """Set who/where/why for the changes made inside the block (requests, commands)."""

    def __init__(self, **values):
        self.values = values
        self.token = None

    def __enter__(self):
        base = current_context()
        merged = ChangeContext(**{**base.__dict__, **self.values})
        self.token = _context.set(merged)
        return merged

    def __exit__(self, *exc):
        _context.reset(self.token)


class ChangeContextMiddleware:
    """Every request gets an id (or keeps the proxy's X-Request-ID) and its user and IP."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = (request.headers.get("X-Request-ID") or uuid.uuid4().hex)[:64]
        ip = request.META.get("REMOTE_ADDR") or None
        user = getattr(request, "user", None)
        with change_context(
            user=user if user is not None and user.is_authenticated else None,
            ip_address=ip,
            request_id=request_id,
        ):
            response = self.get_response(request)
        response.headers.setdefault("X-Request-ID", request_id)
        return response


def plain(value):
    """Values as they go into the JSON of an entry (and its hash)."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value else str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (list, tuple, set, frozenset)):
        return [plain(v) for v in value]
    if hasattr(value, "pk"):
        return value.pk
    return str(value)


@dataclass
class EntryDraft:
    """An entry before it is chained."""

    action: str
    content_type: ContentType | None = None
    object_id: str = ""
    object_repr: str = ""
    department_id: int | None = None
    fiscal_year: int | None = None
    changes: dict = field(default_factory=dict)
    reason: str = ""


def draft_for(obj, action, changes=None, reason=""):
    from .tracking import department_and_year

    department_id, fiscal_year = department_and_year(obj)
    return EntryDraft(
        action=action,
        content_type=ContentType.objects.get_for_model(type(obj)),
        object_id=str(obj.pk) if obj.pk is not None else "",
        object_repr=str(obj)[:300],
        department_id=department_id,
        fiscal_year=fiscal_year,
        changes={k: [plain(old), plain(new)] for k, (old, new) in (changes or {}).items()},
        reason=reason,
    )


def _payload(entry):
    return json.dumps(
        [
            entry.sequence,
            entry.timestamp.isoformat(),
            entry.user_id,
            entry.username,
            entry.request_id,
            entry.ip_address,
            entry.action,
            entry.content_type_id,
            entry.object_id,
            entry.object_repr,
            entry.department_id,
            entry.fiscal_year,
            entry.changes,
            entry.reason,
            str(entry.batch_id) if entry.batch_id else None,
            entry.prev_hash,
        ],
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    )


def entry_hash(entry):
    return hashlib.sha256(_payload(entry).encode("utf-8")).hexdigest()


def record_many(drafts, *, batch=None, reason=None):
    """Append entries for `drafts` in one locked step; returns the saved entries."""
    drafts = list(drafts)
    if not drafts:
        return []
    context = current_context()
    user = context.user
    batch = batch or context.batch
    with transaction.atomic():
        head, _created = ChangeLogHead.objects.select_for_update().get_or_create(pk=1)
        now = timezone.now()  # after the lock: time order is sequence order
        sequence, prev_hash = head.sequence, head.hash
        entries = []
        for draft in drafts:
            sequence += 1
            entry = ChangeLogEntry(
                sequence=sequence,
                timestamp=now,
                user_id=getattr(user, "pk", None),
                username=getattr(user, "username", "") or "",
                request_id=context.request_id,
                ip_address=context.ip_address,
                action=draft.action,
                content_type_id=draft.content_type.pk if draft.content_type else None,
                object_id=draft.object_id,
                object_repr=draft.object_repr,
                department_id=draft.department_id,
                fiscal_year=draft.fiscal_year,
                changes=draft.changes,
                reason=draft.reason or (reason if reason is not None else context.reason),
                batch_id=getattr(batch, "pk", batch),
                prev_hash=prev_hash,
            )
            entry.hash = entry_hash(entry)
            prev_hash = entry.hash
            entries.append(entry)
        _insert(entries)
        head.sequence, head.hash = sequence, prev_hash
        head.save(update_fields=["sequence", "hash"])
    return entries


_COPY_COLUMNS = (
    "sequence",
    "timestamp",
    "user_id",
    "username",
    "request_id",
    "ip_address",
    "action",
    "content_type_id",
    "object_id",
    "object_repr",
    "department_id",
    "fiscal_year",
    "changes",
    "reason",
    "batch_id",
    "prev_hash",
    "hash",
)
COPY_THRESHOLD = 500


def _insert(entries):
    """Bulk insert; on PostgreSQL large batches use COPY (about 3× faster than INSERT)."""
    from django.db import connection

    if connection.vendor != "postgresql" or len(entries) < COPY_THRESHOLD:
        ChangeLogEntry.objects.bulk_create(entries, batch_size=2000)
        return
    table = ChangeLogEntry._meta.db_table
    sql = f"COPY {table} ({', '.join(_COPY_COLUMNS)}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for entry in entries:
            copy.write_row(
                [
                    entry.sequence,
                    entry.timestamp,
                    entry.user_id,
                    entry.username,
                    entry.request_id,
                    entry.ip_address,
                    entry.action,
                    entry.content_type_id,
                    entry.object_id,
                    entry.object_repr,
                    entry.department_id,
                    entry.fiscal_year,
                    json.dumps(entry.changes, ensure_ascii=False),
                    entry.reason,
                    str(entry.batch_id) if entry.batch_id else None,
                    entry.prev_hash,
                    entry.hash,
                ]
            )


def record(obj, action, changes=None, reason=""):
    return record_many([draft_for(obj, action, changes, reason)])[0]


@dataclass
class ChainReport:
    checked: int
    broken_at: int | None = None
    problem: str = ""

    @property
    def ok(self):
        return self.broken_at is None


def verify_chain(chunk_size=5000):
    """Recompute every hash in sequence order; report the first broken link."""
    from django.utils.translation import gettext as _

    prev_hash, expected_sequence, checked = GENESIS, 1, 0
    entries = ChangeLogEntry.objects.order_by("sequence").iterator(chunk_size=chunk_size)
    for entry in entries:
        if entry.sequence != expected_sequence:
            return ChainReport(
                checked,
                expected_sequence,
                _("entry #%(sequence)s is missing") % {"sequence": expected_sequence},
            )
        if entry.prev_hash != prev_hash:
            return ChainReport(
                checked,
                entry.sequence,
                _("entry #%(sequence)s does not point to the previous entry's hash")
                % {"sequence": entry.sequence},
            )
        if entry_hash(entry) != entry.hash:
            return ChainReport(
                checked,
                entry.sequence,
                _("entry #%(sequence)s was altered: its content does not match its hash")
                % {"sequence": entry.sequence},
            )
        prev_hash = entry.hash
        expected_sequence += 1
        checked += 1
    head = ChangeLogHead.objects.filter(pk=1).first()
    if head is not None and (head.sequence != checked or head.hash != prev_hash):
        return ChainReport(
            checked,
            checked + 1,
            _("the chain ends at #%(checked)s but its head records #%(head)s: entries were removed")
            % {"checked": checked, "head": head.sequence},
        )
    return ChainReport(checked)
