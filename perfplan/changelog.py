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
import ipaddress
import json
import sys
import uuid
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

import orjson
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
        return decimal_text(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (list, tuple, set, frozenset)):
        return [plain(v) for v in value]
    if hasattr(value, "pk"):
        return value.pk
    return str(value)


def decimal_text(value):
    """A Decimal as plain() writes it: normalised, fixed-point ("2.50" → "2.5")."""
    text = str(value)
    # str() is already that text unless it has an exponent or trailing zeros (cheaper: an
    # import logs hundreds of thousands of amounts).
    if "E" in text or ("." in text and text[-1] == "0"):
        return format(value.normalize(), "f")
    return text


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
_TIMESTAMP, _BATCH = 1, 14
# The columns' types for a binary COPY (PostgreSQL); changes as the text of its JSON.
_BINARY_TYPES = (
    "int8", "timestamptz", "int4", "text", "text", "inet", "text", "int4", "text", "text",
    "int8", "int2", "text", "text", "uuid", "text", "text",
)  # fmt: skip
_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))
_encode_text = json.encoder.encode_basestring  # a str as its JSON text (ensure_ascii off)


def canonical_json(value):
    """The JSON text an entry is hashed and stored with: sorted keys, no spaces, UTF-8.

    orjson writes it about ten times faster than the json module, with the same text for
    everything the log holds (str keys; str, int, bool, None, lists); the json module takes
    what orjson refuses (integers beyond 64 bits, non-str keys)."""
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    except TypeError:
        return _ENCODER.encode(value)


def _json_scalar(value):
    if value is None:
        return "null"
    if type(value) is int:
        return str(value)
    return canonical_json(value)


def _payload(values):
    """The hashed text of an entry: its columns but the hash, as one JSON array with sorted
    keys (ChainWriter builds the same text piece by piece)."""
    items = list(values)
    items[_TIMESTAMP] = items[_TIMESTAMP].isoformat()
    items[_BATCH] = str(items[_BATCH]) if items[_BATCH] else None
    return canonical_json(items)


def values_hash(values):
    """The hash of an entry given its column values in _COLUMNS order, hash excluded."""
    return hashlib.sha256(_payload(values).encode("utf-8")).hexdigest()


def entry_hash(entry):
    return values_hash([getattr(entry, column) for column in _COLUMNS[:-1]])


class ChainWriter:
    """Appends entries to the chain in one locked step, streaming them to the database.

        with ChainWriter(batch=batch) as chain:
            chain.append("create", content_type_id, object_id, object_repr, department_id,
                         fiscal_year, changes)

    Built for bulk writers: a national-scale import logs tens of thousands of entries. Each
    is hashed as it comes, its changes encoded to JSON once for the hash and the row alike,
    and sent at once (one COPY on PostgreSQL, so the server stores entries while the next
    are made; executemany in chunks on SQLite). The connection is busy with that stream:
    a query inside the block is refused with an error (PostgreSQL would otherwise wait
    forever), so run whatever the entries need before entering it.
    """

    SQLITE_CHUNK = 5000

    def __init__(self, *, batch=None, reason=None):
        context = current_context()
        self.context = context
        self.batch = batch or context.batch
        self.default_reason = reason if reason is not None else context.reason
        self.count = 0
        self.pending = []
        self._writing = False

    def __enter__(self):
        from django.db import connection

        self._transaction = transaction.atomic()
        self._transaction.__enter__()
        self._stream = ExitStack()
        try:
            self.head, _created = ChangeLogHead.objects.select_for_update().get_or_create(pk=1)
            self.now = timezone.now()  # after the lock: time order is sequence order
            self.sequence, self.prev_hash = self.head.sequence, self.head.hash
            self._prepare(connection)
            self.cursor = self._stream.enter_context(connection.cursor())
            if self.postgresql:
                # Binary: the server then parses no text (timestamps, ids) for each entry.
                sql = f"COPY {self.table} ({', '.join(_COLUMNS)}) FROM STDIN (FORMAT BINARY)"
                self.copy = self._stream.enter_context(self.cursor.cursor.copy(sql))
                self.copy.set_types(_BINARY_TYPES)
            self._stream.enter_context(connection.execute_wrapper(self._refuse_other_queries))
        except BaseException:
            self._stream.__exit__(*sys.exc_info())
            self._transaction.__exit__(*sys.exc_info())
            raise
        return self

    def _prepare(self, connection):
        context = self.context
        self.user_id = getattr(context.user, "pk", None)
        self.username = getattr(context.user, "username", "") or ""
        self.batch_id = getattr(self.batch, "pk", self.batch)
        batch_text = str(self.batch_id) if self.batch_id else None
        # The columns that are the same for every entry of this step, as JSON once.
        self.shared_json = ",".join(
            _json_scalar(value)
            for value in (
                self.now.isoformat(),
                self.user_id,
                self.username,
                context.request_id,
                context.ip_address,
            )
        )
        self.batch_json = _json_scalar(batch_text)
        self.table = ChangeLogEntry._meta.db_table
        self.postgresql = connection.vendor == "postgresql"
        if self.postgresql:
            self.now_value = self.now
            self.batch_value = uuid.UUID(batch_text) if batch_text else None
            self.ip_value = ipaddress.ip_address(context.ip_address) if context.ip_address else None
        else:
            placeholders = ", ".join(["%s"] * len(_COLUMNS))
            self.insert_sql = (
                f"INSERT INTO {self.table} ({', '.join(_COLUMNS)}) VALUES ({placeholders})"
            )
            self.batch_value = getattr(self.batch_id, "hex", self.batch_id)
            self.ip_value = context.ip_address
            self.now_value = connection.ops.adapt_datetimefield_value(self.now)

    def _refuse_other_queries(self, execute, sql, params, many, context):
        if not self._writing:
            raise RuntimeError(
                "ChainWriter: no query may run while entries stream to the change log; "
                f"run it before the block: {sql[:200]}"
            )
        return execute(sql, params, many, context)

    def append(
        self,
        action,
        content_type_id=None,
        object_id="",
        object_repr="",
        department_id=None,
        fiscal_year=None,
        changes=None,
        reason="",
    ):
        self.extend(
            [
                (
                    action,
                    content_type_id,
                    object_id,
                    object_repr,
                    department_id,
                    fiscal_year,
                    changes,
                    reason,
                )
            ]
        )

    def extend(self, entries):
        """Append entries given as tuples (action, content_type_id, object_id, object_repr,
        department_id, fiscal_year, changes, reason): one tight loop for a bulk writer."""
        sequence, prev_hash = self.sequence, self.prev_hash
        shared_json, batch_json = self.shared_json, self.batch_json
        shared = (
            self.now_value,
            self.user_id,
            self.username,
            self.context.request_id,
            self.ip_value,
        )
        batch_value, default_reason = self.batch_value, self.default_reason
        write = self.copy.write_row if self.postgresql else self._queue
        sha256, text, scalar = hashlib.sha256, _encode_text, _json_scalar
        try:
            for (
                action,
                type_id,
                object_id,
                object_repr,
                department_id,
                year,
                changes,
                reason,
            ) in entries:
                sequence += 1
                reason = reason or default_reason
                if type(object_id) is not str:
                    object_id = "" if object_id is None else str(object_id)
                changes_text = canonical_json(changes or {})
                entry_hash = sha256(
                    (
                        f"[{sequence},{shared_json},{text(action)},{scalar(type_id)},"
                        f"{text(object_id)},{text(object_repr)},{scalar(department_id)},"
                        f"{scalar(year)},{changes_text},{text(reason)},{batch_json},"
                        f'"{prev_hash}"]'
                    ).encode()
                ).hexdigest()
                write(
                    (
                        sequence,
                        *shared,
                        action,
                        type_id,
                        object_id,
                        object_repr,
                        department_id,
                        year,
                        changes_text,
                        reason,
                        batch_value,
                        prev_hash,
                        entry_hash,
                    )
                )
                prev_hash = entry_hash
                self.count += 1
        finally:
            self.sequence, self.prev_hash = sequence, prev_hash

    def _queue(self, row):
        self.pending.append(row)
        if len(self.pending) >= self.SQLITE_CHUNK:
            self._flush()

    def _flush(self):
        if self.pending:
            self._writing = True
            try:
                self.cursor.executemany(self.insert_sql, self.pending)
            finally:
                self._writing = False
            self.pending = []

    def __exit__(self, *exc_info):
        try:
            if exc_info[0] is None:
                self._flush()
            self._stream.__exit__(*exc_info)  # ends the COPY, or abandons it on an error
            if exc_info[0] is None and self.count:
                self.head.sequence, self.head.hash = self.sequence, self.prev_hash
                self.head.save(update_fields=["sequence", "hash"])
        except BaseException:
            exc_info = sys.exc_info()
            self._stream.__exit__(*exc_info)  # a no-op once it has run
            self._transaction.__exit__(*exc_info)
            raise
        return self._transaction.__exit__(*exc_info)


def record_many(drafts, *, batch=None, reason=None):
    """Append entries for `drafts` (EntryDraft) in one locked step; returns how many."""
    drafts = list(drafts)
    if not drafts:
        return 0
    with ChainWriter(batch=batch, reason=reason) as chain:
        for draft in drafts:
            chain.append(
                draft.action,
                draft.content_type.pk if draft.content_type else None,
                draft.object_id,
                draft.object_repr,
                draft.department_id,
                draft.fiscal_year,
                draft.changes,
                draft.reason,
            )
    return chain.count


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
