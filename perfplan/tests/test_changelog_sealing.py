"""The change log's sealer, anchors and request ids: writers append without a chain lock, the
sealer chains committed entries, verify reads one snapshot, anchors outside the database catch
a log rewritten and rehashed by its owner. PostgreSQL-only tests (triggers, concurrent
connections) are skipped on SQLite with the reason."""

from __future__ import annotations

import datetime
import importlib
import io
import threading
import time
import uuid

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.test import Client, RequestFactory

from perfplan.changelog import (
    GENESIS,
    HASHED_COLUMNS,
    ChainWriter,
    ChangeContextMiddleware,
    EntryDraft,
    entry_payload,
    record,
    record_many,
    request_id_from,
    seal,
    values_hash,
    verify_chain,
)
from perfplan.models import ChangeLogEntry, ChangeLogHead, Department

TABLE = ChangeLogEntry._meta.db_table
HEAD_TABLE = ChangeLogHead._meta.db_table
on_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL: its triggers (migration 0009) and concurrent connections; SQLite "
    "writes one transaction at a time",
)
KEY = "anchor-key-for-tests-0123456789abcdef"


def draft(number, **values):
    return EntryDraft(
        action="create", object_id=str(number), object_repr=f"항목 {number}", **values
    )


def write(count=3, start=0):
    return record_many(draft(number) for number in range(start, start + count))


def chain():
    return list(ChangeLogEntry.objects.filter(position__isnull=False).order_by("position"))


def as_owner(*statements):
    """Run SQL as the database owner would, the append-only triggers switched off (inside the
    test's transaction on PostgreSQL, so rolled back afterwards)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER USER")
            cursor.execute(f"ALTER TABLE {HEAD_TABLE} DISABLE TRIGGER USER")
        for sql, params in statements:
            cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute(f"ALTER TABLE {TABLE} ENABLE TRIGGER USER")
            cursor.execute(f"ALTER TABLE {HEAD_TABLE} ENABLE TRIGGER USER")


def anchor_file(tmp_path, *lines):
    path = tmp_path / "perfplan.anchors"
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return str(path)


def anchor(monkeypatch):
    monkeypatch.setenv("PERFPLAN_ANCHOR_KEY", KEY)
    out = io.StringIO()
    call_command("change_log_anchor", stdout=out)
    return out.getvalue().strip()


# ---------------------------------------------------------------- one hashed text


def test_the_hashed_text_is_todays_definition():
    """Entries sealed before (and by) this version hash the same text: a fixed vector."""
    values = [
        7,
        datetime.datetime(2026, 11, 27, 14, 0, 0, 123456, tzinfo=datetime.UTC),
        3,
        "planadmin",
        "req-1",
        "10.1.2.3",
        "update",
        12,
        "42",
        '따옴표 "와" \\ 탭\t😀',
        5,
        2030,
        {"값": ["1.5", None], "수": [1, 2**70]},
        "사유",
        uuid.UUID("1a8b18bb-838a-407d-b3a4-121f7268c851"),
        GENESIS,
    ]
    assert entry_payload(values) == (
        '[7,"2026-11-27T14:00:00.123456+00:00",3,"planadmin","req-1","10.1.2.3","update",12,'
        '"42","따옴표 \\"와\\" \\\\ 탭\\t😀",5,2030,{"값":["1.5",null],"수":[1,'
        '1180591620717411303424]},"사유","1a8b18bb-838a-407d-b3a4-121f7268c851",'
        f'"{GENESIS}"]'
    )
    assert values_hash(values) == "acd5aeaf9d83fd0cf248e6c9714c11154a7889abf4c9b23634a62d07aac48913"


@pytest.mark.django_db
def test_single_and_bulk_entries_are_hashed_by_the_one_function(django_user_model):
    """record() (one entry) and ChainWriter.extend (a bulk writer) store the same kind of row;
    the sealer hashes both with entry_payload, and verify recomputes the same hashes."""
    department = Department.objects.create(name="기획예산실")
    department_type = ContentType.objects.get_for_model(Department).pk
    record(department, "update", {"name": ["예산실", "기획예산실"]}, reason="개편")
    with ChainWriter(reason="일괄") as bulk:
        bulk.extend(
            [
                ("update", department_type, department.pk, str(department), department.pk,
                 None, {"name": ["예산실", "기획예산실"]}, "개편"),
                ("import", None, None, "", None, 2030, None, ""),
            ]
        )  # fmt: skip
    seal()
    single, bulk_update, bulk_import = chain()[-3:]
    fields = ("action", "content_type_id", "object_id", "object_repr", "department_id")
    assert [getattr(single, f) for f in fields] == [getattr(bulk_update, f) for f in fields]
    assert single.changes == bulk_update.changes and single.reason == bulk_update.reason
    assert bulk_import.reason == "일괄" and bulk_import.object_id == ""
    for entry in (single, bulk_update, bulk_import):
        values = [getattr(entry, column) for column in HASHED_COLUMNS]
        assert entry.hash == values_hash(values)
        assert entry_payload(values).startswith(f"[{entry.sequence},")
    assert bulk_update.prev_hash == single.hash and bulk_import.prev_hash == bulk_update.hash
    assert verify_chain().ok


# ---------------------------------------------------------------- sealing


@pytest.mark.django_db
def test_entries_wait_unsealed_until_the_sealer_chains_them():
    seal()
    before = ChangeLogHead.objects.get(pk=1).position
    write(4)
    waiting = ChangeLogEntry.objects.filter(position__isnull=True)
    assert waiting.count() == 4 and set(waiting.values_list("hash", "prev_hash")) == {("", "")}
    report = verify_chain()
    assert report.ok and report.unsealed == 4 and report.oldest_unsealed is not None
    out = io.StringIO()
    call_command("verify_change_log", stdout=out)
    assert "4" in out.getvalue()

    out = io.StringIO()
    call_command("seal_change_log", "--batch-size", "3", stdout=out)  # two transactions
    assert f"#{before + 4}" in out.getvalue()
    assert not ChangeLogEntry.objects.filter(position__isnull=True).exists()
    sealed = chain()
    assert [entry.position for entry in sealed] == list(range(1, before + 5))
    assert ChangeLogHead.objects.get(pk=1).hash == sealed[-1].hash
    report = verify_chain()
    assert report.ok and report.unsealed == 0 and report.checked == before + 4


@pytest.mark.django_db
def test_a_commit_seals_what_it_wrote(django_capture_on_commit_callbacks):
    seal()
    with django_capture_on_commit_callbacks(execute=True):
        write(3)
    assert not ChangeLogEntry.objects.filter(position__isnull=True).exists()
    assert verify_chain().ok


@pytest.mark.django_db
def test_a_sealer_failing_after_a_commit_is_logged_and_the_write_stands(
    django_capture_on_commit_callbacks, monkeypatch
):
    def broken(**kwargs):
        raise DatabaseError("the sealer's connection was lost")

    logged = []
    monkeypatch.setattr("perfplan.changelog.seal", broken)
    monkeypatch.setattr(
        "perfplan.changelog.logger.exception", lambda message: logged.append(message)
    )
    with django_capture_on_commit_callbacks(execute=True):
        write(2)  # no exception reaches the writer: its entries are committed
    assert ChangeLogEntry.objects.filter(position__isnull=True).count() == 2
    assert logged == ["perfplan: sealing the change log after a commit failed"]


@pytest.mark.django_db
def test_an_old_unsealed_entry_is_a_warning_not_a_break():
    seal()
    write(1)
    err = io.StringIO()
    call_command("verify_change_log", stdout=io.StringIO(), stderr=err)
    assert err.getvalue() == ""  # written just now
    # Left unsealed for ten minutes (the sealer's cron job stopped):
    ten_minutes_ago = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=10)
    as_owner((f"UPDATE {TABLE} SET timestamp = %s WHERE position IS NULL", [ten_minutes_ago]))
    err = io.StringIO()
    call_command("verify_change_log", stdout=io.StringIO(), stderr=err)  # exit status 0
    assert "seal_change_log" in err.getvalue() and "600" in err.getvalue()


@pytest.mark.django_db
def test_sealing_goes_past_the_numbers_of_rolled_back_transactions():
    write(2)
    with pytest.raises(RuntimeError), transaction.atomic():
        write(3, start=10)
        raise RuntimeError("취소")
    write(2, start=20)
    seal()
    sealed = chain()
    assert [entry.object_id for entry in sealed[-4:]] == ["0", "1", "20", "21"]
    assert [entry.position for entry in sealed] == list(range(1, len(sealed) + 1))
    if connection.vendor == "postgresql":  # the sequence does not give numbers back
        assert sealed[-2].sequence - sealed[-3].sequence == 4
    assert verify_chain().ok


# ---------------------------------------------------------------- tampering


@pytest.mark.django_db
def test_a_truncated_log_is_caught_by_its_head():
    write(5)
    seal()
    # The owner switches the triggers off (SQLite has none) and empties the entries.
    as_owner(
        (f"{'TRUNCATE' if connection.vendor == 'postgresql' else 'DELETE FROM'} {TABLE}", None)
    )
    report = verify_chain()
    assert not report.ok and report.checked == 0 and report.broken_at == 1
    with pytest.raises(CommandError) as raised:
        call_command("verify_change_log")
    assert raised.value.returncode == 1


@pytest.mark.django_db
def test_a_rewritten_and_rehashed_log_is_caught_only_through_an_anchor(monkeypatch, tmp_path):
    write(6)
    line = anchor(monkeypatch)  # seals, then signs the head
    sealed = chain()
    assert f'"position":{sealed[-1].position}' in line
    path = anchor_file(tmp_path, line)
    call_command("verify_change_log", "--anchors", path, stdout=io.StringIO())

    # The owner rewrites entry 3 and recomputes every later hash and the head.
    target = sealed[2]
    statements, prev_hash = [], target.prev_hash
    for entry in sealed[2:]:
        if entry.pk == target.pk:
            entry.object_repr = "조작된 기록"
        entry.prev_hash = prev_hash
        entry.hash = values_hash([getattr(entry, column) for column in HASHED_COLUMNS])
        prev_hash = entry.hash
        statements.append(
            (
                f"UPDATE {TABLE} SET object_repr = %s, prev_hash = %s, hash = %s "
                "WHERE sequence = %s",
                [entry.object_repr, entry.prev_hash, entry.hash, entry.pk],
            )
        )
    statements.append((f"UPDATE {HEAD_TABLE} SET hash = %s WHERE id = 1", [prev_hash]))
    as_owner(*statements)

    assert verify_chain().ok  # the chain alone cannot tell
    with pytest.raises(CommandError) as raised:
        call_command("verify_change_log", "--anchors", path, stdout=io.StringIO())
    assert raised.value.returncode == 1
    message = str(raised.value)
    assert "line 1" in message or "1번째 줄" in message or "1행" in message
    assert f"#{sealed[-1].position}" in message


@pytest.mark.django_db
def test_a_log_emptied_with_its_head_is_caught_through_an_anchor(monkeypatch, tmp_path):
    write(3)
    path = anchor_file(tmp_path, anchor(monkeypatch))
    as_owner((f"DELETE FROM {TABLE}", None), (f"DELETE FROM {HEAD_TABLE}", None))
    assert verify_chain().ok  # nothing left to contradict itself
    with pytest.raises(CommandError) as raised:
        call_command("verify_change_log", "--anchors", path, stdout=io.StringIO())
    assert raised.value.returncode == 1


@pytest.mark.django_db
def test_anchor_lines_must_be_signed_with_the_key(monkeypatch, tmp_path):
    write(2)
    line = anchor(monkeypatch)
    edited = line.replace('"position":', '"position":1', 1)  # a later, unsigned position
    path = anchor_file(tmp_path, line, "", "not json", edited)
    with pytest.raises(CommandError) as raised:
        call_command("verify_change_log", "--anchors", path, stdout=io.StringIO())
    message = str(raised.value)
    assert raised.value.returncode == 1
    assert message.count("\n  ") == 2  # line 3 (not an anchor) and line 4 (bad signature)
    monkeypatch.setenv("PERFPLAN_ANCHOR_KEY", "another key")
    with pytest.raises(CommandError):
        call_command("verify_change_log", "--anchors", anchor_file(tmp_path, line))


@pytest.mark.django_db
def test_anchors_refuse_to_work_without_the_key(monkeypatch, tmp_path):
    monkeypatch.delenv("PERFPLAN_ANCHOR_KEY", raising=False)
    with pytest.raises(CommandError, match="PERFPLAN_ANCHOR_KEY") as raised:
        call_command("change_log_anchor")
    assert raised.value.returncode == 2
    with pytest.raises(CommandError, match="PERFPLAN_ANCHOR_KEY"):
        call_command("verify_change_log", "--anchors", anchor_file(tmp_path, "{}"))


@on_postgres
@pytest.mark.django_db
def test_postgres_refuses_truncate_of_the_log_and_its_head():
    write(1)
    for table in (TABLE, HEAD_TABLE):
        with pytest.raises(DatabaseError, match="TRUNCATE refused"):
            with transaction.atomic(), connection.cursor() as cursor:
                # As in production: the test database's allowance (for test flushes) is off.
                cursor.execute("SET LOCAL perfplan.allow_truncate = 'off'")
                cursor.execute(f"TRUNCATE {table}")
    assert ChangeLogEntry.objects.exists()


def test_the_seal_fill_trigger_keeps_every_other_column_as_it_is():
    """The trigger lists the columns the sealer must leave alone: a column added to the log
    and forgotten there could be rewritten while sealing."""
    migration = importlib.import_module("perfplan.migrations.0009_change_log_sealer")
    columns = {field.column for field in ChangeLogEntry._meta.concrete_fields}
    assert set(migration.ENTRY_COLUMNS) == columns - {"position", "prev_hash", "hash"}


@on_postgres
@pytest.mark.django_db
def test_postgres_lets_the_sealer_fill_a_seal_once_and_nothing_else():
    write(2)
    unsealed = ChangeLogEntry.objects.filter(position__isnull=True).order_by("sequence").first()
    refused = [
        # a seal that also changes the content
        (
            f"UPDATE {TABLE} SET position = 999999, prev_hash = %s, hash = %s, reason = '조작' "
            "WHERE sequence = %s",
            [GENESIS, "f" * 64, unsealed.pk],
        ),
        # content alone
        (f"UPDATE {TABLE} SET reason = '조작' WHERE sequence = %s", [unsealed.pk]),
    ]
    seal()
    sealed = ChangeLogEntry.objects.get(pk=unsealed.pk)
    refused += [
        # a second seal
        (f"UPDATE {TABLE} SET hash = %s WHERE sequence = %s", ["e" * 64, sealed.pk]),
        (f"UPDATE {TABLE} SET position = NULL, prev_hash = '', hash = '' WHERE sequence = %s",
         [sealed.pk]),
        (f"DELETE FROM {HEAD_TABLE}", None),
        (f"UPDATE {HEAD_TABLE} SET position = position - 1", None),
    ]  # fmt: skip
    for sql, params in refused:
        with pytest.raises(DatabaseError, match="append-only|only moves forward"):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(sql, params)
    assert verify_chain().ok


# ---------------------------------------------------------------- request ids


@pytest.mark.parametrize(
    "header, kept",
    [
        ("req-test-123", True),
        ("0f1e2d3c.4b5a:69_78", True),
        ("a" * 64, True),
        ("a" * 65, False),
        ("", False),
        ("has space", False),
        ("<script>alert(1)</script>", False),
        ("줄\n바꿈", False),
        ("req;DROP TABLE", False),
        ("x\u200b", False),
    ],
)
def test_the_proxys_request_id_is_kept_only_when_it_is_a_plain_token(header, kept):
    chosen = request_id_from(header)
    if kept:
        assert chosen == header
    else:
        assert chosen != header and len(chosen) == 32 and int(chosen, 16) >= 0


@pytest.mark.django_db
def test_the_middleware_stores_and_answers_the_chosen_request_id():
    seen = {}

    def view(request):
        from django.http import HttpResponse

        from perfplan.changelog import current_context

        seen["id"] = current_context().request_id
        return HttpResponse("ok")

    middleware = ChangeContextMiddleware(view)
    forged = "<img src=x onerror=alert(1)>"
    response = middleware(RequestFactory().get("/", HTTP_X_REQUEST_ID=forged))
    assert seen["id"] != forged and response.headers["X-Request-ID"] == seen["id"]
    response = middleware(RequestFactory().get("/", HTTP_X_REQUEST_ID="proxy-42"))
    assert seen["id"] == "proxy-42" == response.headers["X-Request-ID"]
    assert Client().get("/", HTTP_X_REQUEST_ID="a b").headers["X-Request-ID"] != "a b"


# ---------------------------------------------------------------- concurrent writers


def _in_thread(target, *args):
    """Run target in a thread with its own database connection, closed at the end."""
    errors = []

    def run():
        try:
            target(*args)
        except BaseException as error:  # reported by the test, not lost in the thread
            errors.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, errors


def _hold_open_transaction(wrote, release):
    with transaction.atomic():
        write(1, start=100)
        wrote.set()
        release.wait(20)


@on_postgres
@pytest.mark.django_db(transaction=True)
def test_writers_do_not_wait_for_each_other_and_late_commits_are_sealed_after():
    wrote, release = threading.Event(), threading.Event()
    holder, errors = _in_thread(_hold_open_transaction, wrote, release)
    try:
        assert wrote.wait(10), errors
        started = time.monotonic()
        with transaction.atomic():
            write(2, start=200)
        took = time.monotonic() - started  # committed, and sealed after commit (on_commit)
        assert took < 2, f"a writer waited {took:.1f} s on another's open transaction"
        report = verify_chain()
        assert report.ok and report.unsealed == 0
    finally:
        release.set()
        holder.join(20)
    assert not errors, errors
    seal()
    sealed = chain()
    late, early = sealed[-1], sealed[-3]
    # The open transaction took its number first but committed last: chained after.
    assert late.object_id == "100" and early.object_id == "200" and late.sequence < early.sequence
    assert [entry.position for entry in sealed] == list(range(1, len(sealed) + 1))
    assert verify_chain().ok


def _hold_the_head(locked, release):
    from perfplan.changelog import _locked_head

    with transaction.atomic():
        _locked_head()  # as a sealer in the middle of a batch
        locked.set()
        release.wait(20)


@on_postgres
@pytest.mark.django_db(transaction=True)
def test_a_second_sealer_returns_at_once_and_writers_do_not_wait_for_it():
    locked, release = threading.Event(), threading.Event()
    sealer, errors = _in_thread(_hold_the_head, locked, release)
    try:
        assert locked.wait(10), errors
        started = time.monotonic()
        with transaction.atomic():
            write(2)  # its on_commit sealer finds the head taken and returns
        report = seal()
        assert time.monotonic() - started < 2
        assert report.busy and report.sealed == 0
        assert verify_chain().unsealed == 2
    finally:
        release.set()
        sealer.join(20)
    assert not errors, errors
    assert seal().sealed == 2 and verify_chain().ok


def _keep_writing(stop, count):
    while not stop.is_set() and count[0] < 400:
        with transaction.atomic():
            write(5, start=count[0])
        count[0] += 5


@on_postgres
@pytest.mark.django_db(transaction=True)
def test_verify_during_concurrent_writes_is_clean():
    stop, count = threading.Event(), [0]
    writers = [_in_thread(_keep_writing, stop, count) for _ in range(2)]
    reports = []
    try:
        deadline = time.monotonic() + 20
        while count[0] < 100 and time.monotonic() < deadline:
            reports.append(verify_chain())
            seal()
            reports.append(verify_chain())
    finally:
        stop.set()
        for thread, _errors in writers:
            thread.join(30)
    for _thread, errors in writers:
        assert not errors, errors
    assert reports and all(report.ok for report in reports), [
        report.problem for report in reports if not report.ok
    ]
    seal()
    final = verify_chain()
    assert final.ok and final.unsealed == 0 and final.checked == ChangeLogEntry.objects.count()
