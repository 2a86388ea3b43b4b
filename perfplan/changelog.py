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


_COLUMNS = (
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
_TIMESTAMP, _CHANGES, _BATCH = 1, 12, 14


def _payload(values):
    """The hashed text of an entry: its columns but the hash, in a fixed JSON form."""
    items = list(values)
    items[_TIMESTAMP] = items[_TIMESTAMP].isoformat()
    items[_BATCH] = str(items[_BATCH]) if items[_BATCH] else None
    return json.dumps(items, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _hash(values):
    return hashlib.sha256(_payload(values).encode("utf-8")).hexdigest()


def entry_hash(entry):
    return _hash([getattr(entry, column) for column in _COLUMNS[:-1]])


def record_many(drafts, *, batch=None, reason=None):
    """Append entries for `drafts` in one locked step; returns how many were written.

    Rows are built as plain tuples and written with COPY (PostgreSQL) or executemany
    (SQLite): a national-scale import logs tens of thousands of entries at once.
    """
    drafts = list(drafts)
    if not drafts:
        return 0
    context = current_context()
    user_id = getattr(context.user, "pk", None)
    username = getattr(context.user, "username", "") or ""
    batch_id = getattr(batch or context.batch, "pk", batch or context.batch)
    default_reason = reason if reason is not None else context.reason
    with transaction.atomic():
        head, _created = ChangeLogHead.objects.select_for_update().get_or_create(pk=1)
        now = timezone.now()  # after the lock: time order is sequence order
        sequence, prev_hash = head.sequence, head.hash
        rows = []
        for draft in drafts:
            sequence += 1
            values = (
                sequence,
                now,
                user_id,
                username,
                context.request_id,
                context.ip_address,
                draft.action,
                draft.content_type.pk if draft.content_type else None,
                draft.object_id,
                draft.object_repr,
                draft.department_id,
                draft.fiscal_year,
                draft.changes,
                draft.reason or default_reason,
                batch_id,
                prev_hash,
            )
            prev_hash = _hash(values)
            rows.append((*values, prev_hash))
        _insert(rows)
        head.sequence, head.hash = sequence, prev_hash
        head.save(update_fields=["sequence", "hash"])
    return len(rows)


def _insert(rows):
    from django.db import connection

    table = ChangeLogEntry._meta.db_table
    columns = ", ".join(_COLUMNS)
    if connection.vendor == "postgresql":
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
        ):
            for row in rows:
                row = list(row)
                row[_CHANGES] = json.dumps(row[_CHANGES], ensure_ascii=False)
                row[_BATCH] = str(row[_BATCH]) if row[_BATCH] else None
                copy.write_row(row)
        return
    ops = connection.ops
    prepared = []
    for row in rows:
        row = list(row)
        row[_TIMESTAMP] = ops.adapt_datetimefield_value(row[_TIMESTAMP])
        row[_CHANGES] = json.dumps(row[_CHANGES], ensure_ascii=False)
        row[_BATCH] = row[_BATCH].hex if hasattr(row[_BATCH], "hex") else row[_BATCH]
        prepared.append(row)
    placeholders = ", ".join(["%s"] * len(_COLUMNS))
    with connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({placeholders})", prepared)


def record(obj, action, changes=None, reason=""):
    return record_many([draft_for(obj, action, changes, reason)])


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
