"""The change log: who changed what, when, from where and why — append-only, hash-chained.

A NetBox-style log of our own rather than django-simple-history, django-auditlog or
django-reversion: those hook model signals and record nothing for bulk writes, while our
imports write with bulk_create/bulk_update. Here single saves are caught by signals
(perfplan.signals), and bulk writers (the importer) record their diffs with record_many().

Sequence, then seal (as transparency logs do): writers append entries without any chain
lock, numbered by a database sequence, their hashes empty; `seal()` then chains the
committed entries in short transactions, giving each its chain position, the previous
entry's hash and its own. A writer never waits on the log; the sealer runs after each commit
that wrote entries (skipped when another sealer is at work), every minute from cron
(`manage.py seal_change_log`), so an entry is sealed within about a minute.
`verify_chain()` recomputes the chain in one snapshot; signed anchors kept outside the
database (`manage.py change_log_anchor`) catch a log rewritten and rehashed by its owner.

Lock order: a writer takes no log lock; a sealer takes the sealers' advisory lock (try, never
wait), then the head row, then updates only committed entries nobody else writes, so it can
neither wait on nor deadlock with a writer.
"""

from __future__ import annotations

import contextvars
import hashlib
import hmac
import ipaddress
import json
import logging
import os
import re
import sys
import uuid
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

import orjson
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.db.models import Count, Min
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import ChangeLogEntry, ChangeLogHead
from .scoping import scope_of, scoped_models

logger = logging.getLogger(__name__)
# Sent after the commit of every write to the log, with `fiscal_years` (a frozenset; None
# for entries of no year): what changed, for caches of what others see (public pages).
entries_committed = Signal()
GENESIS = "0" * 64
# Fields never worth a log line.
UNLOGGED_FIELDS = {
    "version",
    "updated_at",
    "created_at",
    "uploaded_at",
    "content",
    "password",
    "last_login",
}


def tracked_models():
    """The models whose single saves and deletes the log records: the plan's data, as their
    scope declares it (perfplan.scoping), filed under its department and plan year."""
    return [model for model in scoped_models() if model.scope.logged]


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


# A proxy's request id is kept only when it is a plain token: anything else (spaces, markup,
# control characters, overlong text) would be stored in the log verbatim.
REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def request_id_from(header):
    """The proxy's X-Request-ID when it is a plain token, else a new random id."""
    if header and REQUEST_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex


class ChangeContextMiddleware:
    """Every request gets an id (or keeps the proxy's plain-token X-Request-ID), user and IP."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = request_id_from(request.headers.get("X-Request-ID"))
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
    scope = scope_of(type(obj))
    return EntryDraft(
        action=action,
        content_type=ContentType.objects.get_for_model(type(obj)),
        object_id=str(obj.pk) if obj.pk is not None else "",
        object_repr=str(obj)[:300],
        department_id=scope.department_id(obj) if scope else None,
        fiscal_year=scope.fiscal_year(obj) if scope else None,
        changes={k: [plain(old), plain(new)] for k, (old, new) in (changes or {}).items()},
        reason=reason,
    )


# The columns an entry's hash covers, in the order of its hashed text (hash itself excluded).
HASHED_COLUMNS = (
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
)
_COLUMNS = (*HASHED_COLUMNS, "hash")
_TIMESTAMP, _CHANGES, _BATCH = 1, 12, 14
# What a writer sends: every column but the chain's (position, prev_hash, hash: the sealer's)
# and, on PostgreSQL, the sequence (the column's default takes it from the database sequence).
_WRITTEN = HASHED_COLUMNS[:-1]
_COPIED = _WRITTEN[1:]
# The columns' types for a binary COPY (PostgreSQL); changes as the text of its JSON.
_BINARY_TYPES = (
    "timestamptz", "int4", "text", "text", "inet", "text", "int4", "text", "text",
    "int8", "int2", "text", "text", "uuid",
)  # fmt: skip
_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def canonical_json(value):
    """The JSON text an entry is hashed and stored with: sorted keys, no spaces, UTF-8.

    orjson writes it about ten times faster than the json module, with the same text for
    everything the log holds (str keys; str, int, bool, None, lists); the json module takes
    what orjson refuses (integers beyond 64 bits, non-str keys)."""
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    except TypeError:
        return _ENCODER.encode(value)


def entry_payload(values):
    """The hashed text of an entry — the one definition, used by the sealer and the verifier.

    `values` are the entry's columns in HASHED_COLUMNS order as read from the database (changes
    decoded, the timestamp a datetime, the batch a UUID): one JSON array with sorted keys."""
    items = list(values)
    items[_TIMESTAMP] = items[_TIMESTAMP].isoformat()
    items[_BATCH] = str(items[_BATCH]) if items[_BATCH] else None
    return canonical_json(items)


def values_hash(values):
    """The hash of an entry given its column values in HASHED_COLUMNS order."""
    return hashlib.sha256(entry_payload(values).encode("utf-8")).hexdigest()


def entry_hash(entry):
    return values_hash([getattr(entry, column) for column in HASHED_COLUMNS])


class ChainWriter:
    """Appends entries to the log, streaming them to the database; the sealer chains them.

        with ChainWriter(batch=batch) as chain:
            chain.append("create", content_type_id, object_id, object_repr, department_id,
                         fiscal_year, changes)

    Built for bulk writers: a national-scale import logs tens of thousands of entries. Each
    has its changes encoded to JSON once and is sent at once (one binary COPY on PostgreSQL,
    so the server stores entries while the next are made; executemany in chunks on SQLite).
    No lock is taken: the entries' numbers come from a database sequence (PostgreSQL) and
    their hashes from the sealer, after commit. The connection is busy with that stream: a
    query inside the block is refused with an error (PostgreSQL would otherwise wait
    forever), so run whatever the entries need before entering it.
    """

    SQLITE_CHUNK = 5000

    def __init__(self, *, batch=None, reason=None):
        context = current_context()
        self.context = context
        self.batch = batch or context.batch
        self.default_reason = reason if reason is not None else context.reason
        self.count = 0
        self.years = set()
        self.pending = []
        self._writing = False

    def __enter__(self):
        self._transaction = transaction.atomic()
        self._transaction.__enter__()
        self._stream = ExitStack()
        try:
            self.now = timezone.now()
            self._prepare()
            self.cursor = self._stream.enter_context(connection.cursor())
            if self.postgresql:
                # Binary: the server then parses no text (timestamps, ids) for each entry.
                sql = f"COPY {self.table} ({', '.join(_COPIED)}) FROM STDIN (FORMAT BINARY)"
                self.copy = self._stream.enter_context(self.cursor.cursor.copy(sql))
                self.copy.set_types(_BINARY_TYPES)
            else:
                # SQLite writes one transaction at a time: the next numbers are free.
                self.cursor.execute(f"SELECT COALESCE(MAX(sequence), 0) FROM {self.table}")
                self.sequence = self.cursor.fetchone()[0]
            self._stream.enter_context(connection.execute_wrapper(self._refuse_other_queries))
        except BaseException:
            self._stream.__exit__(*sys.exc_info())
            self._transaction.__exit__(*sys.exc_info())
            raise
        return self

    def _prepare(self):
        context = self.context
        self.user_id = getattr(context.user, "pk", None)
        self.username = getattr(context.user, "username", "") or ""
        batch_id = getattr(self.batch, "pk", self.batch)
        batch_text = str(batch_id) if batch_id else None
        self.table = ChangeLogEntry._meta.db_table
        self.postgresql = connection.vendor == "postgresql"
        if self.postgresql:
            now = self.now
            batch_value = uuid.UUID(batch_text) if batch_text else None
            ip = ipaddress.ip_address(context.ip_address) if context.ip_address else None
        else:
            placeholders = ", ".join(["%s"] * len(_WRITTEN))
            self.insert_sql = (
                f"INSERT INTO {self.table} ({', '.join(_WRITTEN)}) VALUES ({placeholders})"
            )
            batch_value = uuid.UUID(batch_text).hex if batch_text else None
            ip = context.ip_address
            now = connection.ops.adapt_datetimefield_value(self.now)
        self.shared = (now, self.user_id, self.username, context.request_id, ip)
        self.batch_value = batch_value

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
        shared, batch_value, default_reason = self.shared, self.batch_value, self.default_reason
        postgresql = self.postgresql
        write = self.copy.write_row if postgresql else self._queue
        encode = canonical_json
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
            if type(object_id) is not str:
                object_id = "" if object_id is None else str(object_id)
            row = (
                *shared,
                action,
                type_id,
                object_id,
                object_repr,
                department_id,
                year,
                encode(changes or {}),
                reason or default_reason,
                batch_value,
            )
            write(row)
            self.years.add(year)
            self.count += 1

    def _queue(self, row):
        self.sequence += 1
        self.pending.append((self.sequence, *row))
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
                written = self.count

                years = frozenset(self.years)

                def seal_written():
                    seal_after_commit(written)
                    for receiver, error in entries_committed.send_robust(
                        sender=ChainWriter, fiscal_years=years
                    ):
                        if isinstance(error, Exception):
                            logger.error("perfplan: %s failed after a commit: %r", receiver, error)

                transaction.on_commit(seal_written)
        except BaseException:
            exc_info = sys.exc_info()
            self._stream.__exit__(*exc_info)  # a no-op once it has run
            self._transaction.__exit__(*exc_info)
            raise
        return self._transaction.__exit__(*exc_info)


def record_many(drafts, *, batch=None, reason=None):
    """Append entries for `drafts` (EntryDraft) in one step; returns how many."""
    drafts = list(drafts)
    if not drafts:
        return 0
    with ChainWriter(batch=batch, reason=reason) as chain:
        chain.extend(
            (
                draft.action,
                draft.content_type.pk if draft.content_type else None,
                draft.object_id,
                draft.object_repr,
                draft.department_id,
                draft.fiscal_year,
                draft.changes,
                draft.reason,
            )
            for draft in drafts
        )
    return chain.count


def record(obj, action, changes=None, reason=""):
    return record_many([draft_for(obj, action, changes, reason)])


# ---------------------------------------------------------------- sealing

SEAL_BATCH = 5000  # entries chained per (short) transaction
# After a commit, the committer seals its own entries and at most this many older ones: an
# officer's save never pays for sealing a whole import.
SEAL_AFTER_COMMIT_EXTRA = 500
# The cron job runs every minute; an entry left unsealed longer than this is worth a warning.
SEAL_DELAY_BOUND = 300  # seconds

# The sealers' PostgreSQL advisory lock (any constant bigint no other code uses): taken with
# pg_try_advisory_xact_lock, so a second sealer returns at once instead of waiting, even when
# the head row does not exist yet.
SEALER_LOCK = 0x7065_7266_6C6F_67  # "perflog"


@dataclass
class SealReport:
    sealed: int = 0
    # Another sealer held the head: this one returned at once (it will seal these entries).
    busy: bool = False
    position: int = 0
    hash: str = GENESIS


def seal(*, limit=None, batch_size=SEAL_BATCH):
    """Chain the committed, unsealed entries in sequence order, `batch_size` per transaction.

    Returns at once (report.busy) when another sealer is at work; stops after `limit`
    entries when given. Entries of transactions still open (or rolled back) are not seen:
    they are sealed, in a later position, once committed."""
    report = SealReport()
    while limit is None or report.sealed < limit:
        size = batch_size if limit is None else min(batch_size, limit - report.sealed)
        try:
            sealed = _seal_batch(size, report)
        except _SealerBusy:
            report.busy = True
            break
        report.sealed += sealed
        if sealed < size:
            break
    return report


def seal_after_commit(written):
    """Seal what a commit wrote. Its entries are committed whatever happens here: a failure
    is logged (with its traceback) and the next sealer, or cron's, chains them."""
    try:
        seal(limit=written + SEAL_AFTER_COMMIT_EXTRA)
    except Exception:
        logger.exception("perfplan: sealing the change log after a commit failed")


class _SealerBusy(Exception):
    pass


def _locked_head():
    """The head, for this sealer alone until its transaction ends; _SealerBusy when another
    sealer is at work (SQLite: writes are one at a time anyway)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [SEALER_LOCK])
            if not cursor.fetchone()[0]:
                raise _SealerBusy
    head, _created = ChangeLogHead.objects.get_or_create(pk=1)
    return head


def _seal_batch(size, report):
    with transaction.atomic():
        head = _locked_head()
        report.position, report.hash = head.position, head.hash
        rows = list(
            ChangeLogEntry.objects.filter(position__isnull=True)
            .order_by("sequence")
            .values_list(*_WRITTEN)[:size]
        )
        if not rows:
            return 0
        position, prev_hash = head.position, head.hash
        seals = []
        for row in rows:
            position += 1
            entry_hash = values_hash((*row, prev_hash))
            seals.append((row[0], position, prev_hash, entry_hash))
            prev_hash = entry_hash
        _write_seals(seals)
        head.position, head.hash = position, prev_hash
        head.save(update_fields=["position", "hash"])
        report.position, report.hash = position, prev_hash
        return len(rows)


def _write_seals(seals):
    table = ChangeLogEntry._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            sequences, positions, prev_hashes, hashes = zip(*seals, strict=True)
            cursor.execute(
                f"UPDATE {table} AS entry SET position = seal.position, "
                "prev_hash = seal.prev_hash, hash = seal.hash "
                "FROM unnest(%s::bigint[], %s::bigint[], %s::text[], %s::text[]) "
                "AS seal(sequence, position, prev_hash, hash) "
                "WHERE entry.sequence = seal.sequence",
                [list(sequences), list(positions), list(prev_hashes), list(hashes)],
            )
        else:
            cursor.executemany(
                f"UPDATE {table} SET position = %s, prev_hash = %s, hash = %s WHERE sequence = %s",
                [(position, prev, digest, sequence) for sequence, position, prev, digest in seals],
            )


# ---------------------------------------------------------------- verifying


@dataclass
class ChainReport:
    checked: int
    broken_at: int | None = None  # the chain position of the first broken link
    problem: str = ""
    unsealed: int = 0
    oldest_unsealed: datetime | None = None
    anchors_checked: int = 0
    anchor_problems: list = field(default_factory=list)

    @property
    def ok(self):
        return self.broken_at is None and not self.anchor_problems

    def unsealed_age(self, now=None):
        if self.oldest_unsealed is None:
            return None
        return ((now or timezone.now()) - self.oldest_unsealed).total_seconds()


@contextmanager
def _one_snapshot():
    """Everything read inside sees the log at one moment (a sealer commits entries and head
    together, so they agree). Inside a caller's transaction, that transaction is used."""
    if connection.in_atomic_block:
        yield
        return
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


def verify_chain(chunk_size=5000, anchors=()):
    """Recompute every sealed entry's hash in chain order, in one snapshot; report the first
    broken link, the entries not sealed yet and every anchor (Anchor) the log no longer
    contains."""
    with _one_snapshot():
        report, hashes = _walk_chain(chunk_size, {anchor.position for anchor in anchors})
        waiting = ChangeLogEntry.objects.filter(position__isnull=True).aggregate(
            count=Count("sequence"), oldest=Min("timestamp")
        )
    report.unsealed, report.oldest_unsealed = waiting["count"], waiting["oldest"]
    for anchor in anchors:
        report.anchors_checked += 1
        problem = anchor.problem_in(hashes, report)
        if problem:
            report.anchor_problems.append(problem)
    return report


def _walk_chain(chunk_size, wanted_positions):
    hashes = {0: GENESIS} if 0 in wanted_positions else {}
    prev_hash, expected, checked = GENESIS, 1, 0
    rows = (
        ChangeLogEntry.objects.filter(position__isnull=False)
        .order_by("position")
        .values_list("position", *_COLUMNS)
        .iterator(chunk_size=chunk_size)
    )
    for position, *values in rows:
        stored_hash, hashed = values[-1], values[:-1]
        sequence = hashed[0]
        where = {"position": position, "sequence": sequence}
        if position != expected:
            problem = _("the entry at chain position #%(position)s is missing") % {
                "position": expected
            }
            return ChainReport(checked, expected, problem), hashes
        if hashed[-1] != prev_hash:
            problem = (
                _(
                    "the entry at chain position #%(position)s (entry #%(sequence)s) does "
                    "not point to the previous entry's hash"
                )
                % where
            )
            return ChainReport(checked, position, problem), hashes
        if values_hash(hashed) != stored_hash:
            problem = (
                _(
                    "the entry at chain position #%(position)s (entry #%(sequence)s) was "
                    "altered: its content does not match its hash"
                )
                % where
            )
            return ChainReport(checked, position, problem), hashes
        if position in wanted_positions:
            hashes[position] = stored_hash
        prev_hash = stored_hash
        expected += 1
        checked += 1
    head = ChangeLogHead.objects.filter(pk=1).first()
    head_position, head_hash = (head.position, head.hash) if head else (0, GENESIS)
    if head_position != checked or head_hash != prev_hash:
        problem = _(
            "the chain ends at position #%(checked)s but its head records #%(head)s: "
            "sealed entries were removed or the head was altered"
        ) % {"checked": checked, "head": head_position}
        return ChainReport(checked, checked + 1, problem), hashes
    return ChainReport(checked), hashes


# ---------------------------------------------------------------- anchors

ANCHOR_KEY_VARIABLE = "PERFPLAN_ANCHOR_KEY"


class AnchorKeyMissing(Exception):
    def __init__(self):
        super().__init__(
            _(
                "The environment variable %(name)s (the key that signs change-log anchors) "
                "is not set. Set it to a long random secret kept outside the database, e.g. "
                "in /etc/perfplan.env, and run the command again."
            )
            % {"name": ANCHOR_KEY_VARIABLE}
        )


def anchor_key():
    """The anchors' signing key, from the environment only: never stored in the database."""
    key = os.environ.get(ANCHOR_KEY_VARIABLE, "")
    if not key.strip():
        raise AnchorKeyMissing()
    return key.encode("utf-8")


def _signature(key, position, entry_hash, time):
    signed = canonical_json({"hash": entry_hash, "position": position, "time": time})
    return hmac.new(key, signed.encode("utf-8"), hashlib.sha256).hexdigest()


@dataclass
class Anchor:
    """A signed checkpoint: the chain held `hash` at `position` at `time`."""

    position: int
    hash: str
    time: str
    line: int = 0

    def to_line(self, key):
        mac = _signature(key, self.position, self.hash, self.time)
        return canonical_json(
            {"hash": self.hash, "hmac": mac, "position": self.position, "time": self.time}
        )

    def problem_in(self, hashes, report):
        """Why the log, as walked (`hashes` at the anchored positions), lacks this checkpoint."""
        where = {"line": self.line, "position": self.position, "time": self.time}
        found = hashes.get(self.position)
        if found == self.hash:
            return ""
        if found is not None:
            return (
                _(
                    "anchor line %(line)s (position #%(position)s, %(time)s): the hash at that "
                    "position is not the anchored one: the log was rewritten"
                )
                % where
            )
        if report.broken_at is not None and self.position >= report.broken_at:
            return (
                _(
                    "anchor line %(line)s (position #%(position)s, %(time)s): not checked, "
                    "the chain is broken before it"
                )
                % where
            )
        return _(
            "anchor line %(line)s (position #%(position)s, %(time)s): the log ends at "
            "#%(end)s: anchored entries were removed"
        ) % {**where, "end": report.checked}


def make_anchor(key):
    """Seal what is committed, then sign the head: position, hash and time."""
    seal()
    head = ChangeLogHead.objects.filter(pk=1).first()
    position, head_hash = (head.position, head.hash) if head else (0, GENESIS)
    time = timezone.now().isoformat(timespec="seconds")
    return Anchor(position, head_hash, time).to_line(key)


def read_anchors(lines, key):
    """Parse and check the signature of every anchor line; returns (anchors, problems)."""
    anchors, problems = [], []
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if not text:
            continue
        try:
            data = json.loads(text)
            anchor = Anchor(int(data["position"]), str(data["hash"]), str(data["time"]), number)
            mac = str(data["hmac"])
        except (ValueError, TypeError, KeyError):
            problems.append(
                _(
                    "anchor line %(line)s is not a change-log checkpoint (JSON with position, hash, time and hmac)"
                )
                % {"line": number}
            )
            continue
        expected = _signature(key, anchor.position, anchor.hash, anchor.time)
        if not hmac.compare_digest(expected, mac):
            problems.append(
                _(
                    "anchor line %(line)s (position #%(position)s, %(time)s): its signature "
                    "does not match: signed with another key, or the line was edited"
                )
                % {"line": number, "position": anchor.position, "time": anchor.time}
            )
            continue
        anchors.append(anchor)
    return anchors, problems
