"""Every way in obeys the same rules: one table of expected outcomes (status × role × action,
with the deadline, an entry exception, a missing or stale version, and separation of duties),
run through the service, the grid's JSON save, a paste, the admin form and actions, and the
results import and the API (api/: a token of the same user) — and each gives the same answer. Then: a paste is all or nothing (a failure
at its 31st cell, and on PostgreSQL a connection killed mid-paste, leave none of it), and a
save retried with its idempotency key gets its first outcome back."""

from __future__ import annotations

import threading
import uuid
from datetime import date
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection, connections
from django.db.models import F
from django.test import Client
from django.urls import reverse
from django.utils import translation

from indicators import results_import, workflow
from indicators.models import EntryException, Result, ResultStatus, SaveReceipt
from perfplan import imports, roles
from perfplan.locking import LOADED_VERSION_FIELD
from perfplan.models import ChangeLogEntry, DepartmentAssignment

from .support import (
    YEAR,
    departments_of,
    freeze_today,
    indicators_of,
    korean,
    make_user,
    save_json,
    tracking_plan,
)

pytestmark = pytest.mark.django_db

OPEN = date(YEAR, 4, 5)  # Q1 ended on 31 March; entry closes after 10 April
CLOSED = date(YEAR, 4, 20)
EXCEPTION_UNTIL = date(YEAR, 4, 30)
NEW_VALUE = Decimal("55")
DRAFT, SUBMITTED, APPROVED, RETURNED = (
    ResultStatus.DRAFT,
    ResultStatus.SUBMITTED,
    ResultStatus.APPROVED,
    ResultStatus.RETURNED,
)
NONE = "no result"
ALLOWED, REFUSED = "allowed", "refused"


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


# ---------------------------------------------------------------- the table

# (status before, who, action, condition, expected). Conditions: open (before the deadline),
# closed (after it), exception (after it, with an entry exception open), no version, stale,
# self-review on (the plan's allow_self_review).
WRITE_RULES = [
    (NONE, "officer", "edit", "open", ALLOWED),
    (DRAFT, "officer", "edit", "open", ALLOWED),
    (RETURNED, "officer", "edit", "open", ALLOWED),
    (SUBMITTED, "officer", "edit", "open", REFUSED),
    (APPROVED, "officer", "edit", "open", REFUSED),
    (DRAFT, "plan_admin", "edit", "open", ALLOWED),
    (SUBMITTED, "plan_admin", "edit", "open", REFUSED),
    (DRAFT, "reviewer", "edit", "open", REFUSED),
    (DRAFT, "auditor", "edit", "open", REFUSED),
    (DRAFT, "other_officer", "edit", "open", REFUSED),
    (NONE, "other_officer", "edit", "open", REFUSED),
    (DRAFT, "officer", "edit", "closed", REFUSED),
    (NONE, "officer", "edit", "closed", REFUSED),
    (DRAFT, "officer", "edit", "exception", ALLOWED),
    (DRAFT, "officer", "edit", "no version", REFUSED),
    (NONE, "officer", "edit", "no version", REFUSED),
    (DRAFT, "officer", "edit", "stale", REFUSED),
]
STEP_RULES = [
    (DRAFT, "officer", "submit", "open", ALLOWED),
    (RETURNED, "officer", "submit", "open", ALLOWED),
    (SUBMITTED, "officer", "submit", "open", REFUSED),
    (DRAFT, "officer", "submit", "closed", REFUSED),
    (DRAFT, "officer", "submit", "exception", ALLOWED),
    (DRAFT, "reviewer", "submit", "open", REFUSED),
    (SUBMITTED, "reviewer", "approve", "open", ALLOWED),
    (SUBMITTED, "reviewer", "approve", "closed", ALLOWED),  # review is not entry
    (SUBMITTED, "reviewer", "return", "open", ALLOWED),
    (DRAFT, "reviewer", "approve", "open", REFUSED),
    (SUBMITTED, "officer", "approve", "open", REFUSED),
    (SUBMITTED, "other_reviewer", "approve", "open", REFUSED),
    (SUBMITTED, "auditor", "approve", "open", REFUSED),
    (SUBMITTED, "both", "approve", "open", REFUSED),  # entered and submitted it themselves
    (SUBMITTED, "both", "return", "open", REFUSED),
    (SUBMITTED, "both", "approve", "self-review on", ALLOWED),
    (SUBMITTED, "both", "return", "self-review on", ALLOWED),
    (SUBMITTED, "plan_admin", "approve", "open", ALLOWED),
    (APPROVED, "plan_admin", "reopen", "open", ALLOWED),
    (APPROVED, "reviewer", "reopen", "open", REFUSED),
    (DRAFT, "plan_admin", "reopen", "open", REFUSED),
]
WRITE_WAYS = ("service", "grid", "paste", "admin form", "import", "api")
STEP_WAYS = ("service", "grid", "admin action", "api")
GRID_STEPS = (workflow.SUBMIT, workflow.APPROVE, workflow.RETURN)


class World:
    """A plan of two departments with quarterly indicators, and one user of each role; the
    result under test is the first indicator's Q1 of department A."""

    def __init__(self, monkeypatch, django_user_model):
        self.monkeypatch = monkeypatch
        freeze_today(monkeypatch, OPEN)
        self.plan = tracking_plan()
        a, b = departments_of(self.plan)
        self.dept_a = a
        self.mine, self.theirs = indicators_of(self.plan, a), indicators_of(self.plan, b)
        self.indicator, self.neighbour = self.mine[0], self.mine[1]
        u = django_user_model
        self.users = {
            "officer": make_user(u, "officer", roles.OFFICER, [a]),
            "other_officer": make_user(u, "officer_b", roles.OFFICER, [b]),
            "reviewer": make_user(u, "reviewer", roles.REVIEWER, [a]),
            "other_reviewer": make_user(u, "reviewer_b", roles.REVIEWER, [b]),
            "plan_admin": make_user(u, "planadmin", roles.PLAN_ADMIN),
            "auditor": make_user(u, "auditor", roles.AUDITOR),
            "both": make_user(u, "both", roles.OFFICER, [a]),
        }
        self.users["both"].groups.add(*self.users["reviewer"].groups.all())

    def prepare(self, status, who, condition):
        """The result in `status` (reached through the workflow), and today per condition."""
        officer = self.users["both" if who == "both" else "officer"]
        reviewer = self.users["reviewer"]
        result = None
        if status != NONE:
            result = workflow.save_result(
                officer, self.indicator, "Q1", value="10", expected_version=0, today=OPEN
            )
            if status in (SUBMITTED, APPROVED, RETURNED):
                workflow.submit(officer, [result], today=OPEN)
            if status == APPROVED:
                workflow.approve(reviewer, [result], today=OPEN)
            if status == RETURNED:
                workflow.return_result(reviewer, result, "보완하세요", today=OPEN)
            result = Result.objects.get(pk=result.pk)
        if condition == "self-review on":
            self.plan.allow_self_review = True
            self.plan.save()
        if condition == "exception":
            EntryException.objects.create(
                plan=self.plan,
                department=self.dept_a,
                period="Q1",
                open_until=EXCEPTION_UNTIL,
                reason="자료 지연",
            )
        if condition in ("closed", "exception"):
            freeze_today(self.monkeypatch, CLOSED)
        return result

    def client(self, who):
        client = Client(raise_request_exception=True)
        client.force_login(self.users[who])
        return client

    def stored(self):
        return Result.objects.filter(indicator=self.indicator, period="Q1").first()

    def api_client(self, who):
        """A client of the API with a token of `who` (api.tokens, as a plan admin makes it)."""
        from api.tokens import create_token

        _api_token, text = create_token(None, self.users[who], "rules table")
        return Client(raise_request_exception=True, headers={"Authorization": f"Token {text}"})


@pytest.fixture
def world(monkeypatch, django_user_model):
    return World(monkeypatch, django_user_model)


def _version(result, condition):
    if condition == "no version":
        return None
    current = result.version if result is not None else 0
    if condition == "stale" and result is not None:
        # Someone saved after this copy was loaded.
        Result.objects.filter(pk=result.pk).update(version=F("version") + 1)
    return current


# ---------------------------------------------------------------- writes, every way in


def _write(world, way, who, result, condition):
    user = world.users[who]
    version = _version(result, condition)
    if way == "service":
        try:
            workflow.save_result(
                user, world.indicator, "Q1", value=str(NEW_VALUE), expected_version=version
            )
        except (workflow.WorkflowError, workflow.ConcurrentEditError):
            pass
        return
    if way in ("grid", "paste"):
        cell = {"indicator": world.indicator.pk, "period": "Q1", "value": str(NEW_VALUE)}
        if version is not None:
            cell["version"] = version
        cells = [cell]
        if way == "paste":  # with a cell that on its own would be saved
            cells.append(
                {"indicator": world.neighbour.pk, "period": "Q1", "value": "7", "version": 0}
            )
        response = save_json(world.client(who), cells)
        assert response.status_code in (200, 403)
        return
    if way == "admin form":
        client = world.client(who)
        if result is None:
            url = reverse("admin:indicators_result_add")
            data = {"indicator": world.indicator.pk, "period": "Q1"}
        else:
            url = reverse("admin:indicators_result_change", args=[result.pk])
            data = {}
        data.update(value=str(NEW_VALUE), note="")
        if version is not None:
            data[LOADED_VERSION_FIELD] = version
        client.post(url, data)
        return
    if way == "import":
        csv = f"실국명,성과지표명,기간,실적\n{world.dept_a.name},{world.indicator.name},Q1,{NEW_VALUE}\n"
        files = [("실적.csv", csv.encode("utf-8"))]
        preview = imports.preview(results_import.RESULTS, YEAR, files, user=user)
        if preview.batch is None:
            return  # refused at the preview
        if condition == "stale" and result is not None:
            # Saved by someone between the preview and the confirmation.
            Result.objects.filter(pk=result.pk).update(version=F("version") + 1)
        imports.confirm(preview.batch, user=user)
        return
    if way == "api":
        cell = {"indicator": world.indicator.pk, "period": "Q1", "value": str(NEW_VALUE)}
        if version is not None:
            cell["version"] = version
        response = world.api_client(who).post(
            "/api/results/save/", {"cells": [cell]}, content_type="application/json"
        )
        assert response.status_code in (200, 400, 404, 409), response.content
        return
    raise AssertionError(way)


def _write_cases():
    for rule in WRITE_RULES:
        for way in WRITE_WAYS:
            if way == "import" and rule[3] == "no version":
                continue  # an import writes what its preview read (its fingerprint)
            if way == "admin form" and rule[0] == NONE and rule[3] == "no version":
                continue  # the admin's add form is, by what it is, based on "no result" (0)
            yield pytest.param(way, *rule, id=f"{way}-{'-'.join(rule[:4])}")


@pytest.mark.parametrize("way,status,who,action,condition,expected", list(_write_cases()))
def test_writes_obey_the_table_every_way_in(world, way, status, who, action, condition, expected):
    result = world.prepare(status, who, condition)
    _write(world, way, who, result, condition)
    stored = world.stored()
    written = stored is not None and stored.value == NEW_VALUE
    assert (ALLOWED if written else REFUSED) == expected
    if way == "paste":  # all or nothing
        neighbour = Result.objects.filter(indicator=world.neighbour, period="Q1").exists()
        assert neighbour == written


# ---------------------------------------------------------------- steps, every way in


def _step(world, way, who, result, action):
    user = world.users[who]
    reason = "근거를 보완하세요" if action in (workflow.RETURN, workflow.REOPEN) else ""
    if way == "service":
        calls = {
            workflow.SUBMIT: lambda: workflow.submit(user, [result]),
            workflow.APPROVE: lambda: workflow.approve(user, [result]),
            workflow.RETURN: lambda: workflow.return_result(user, result, reason),
            workflow.REOPEN: lambda: workflow.reopen(user, result, reason),
        }
        try:
            calls[action]()
        except workflow.WorkflowError:
            pass
        return
    if way == "grid":
        world.client(who).post(
            reverse("tracking:review_cells"),
            {"step": action, "cell": f"{world.indicator.pk}:Q1", "reason": reason},
        )
        return
    if way == "admin action":
        data = {"action": f"{action}_selected", "_selected_action": [result.pk], "index": 0}
        if reason:
            data.update(confirm_reason="yes", reason=reason)
        world.client(who).post(reverse("admin:indicators_result_changelist"), data)
        return
    if way == "api":
        response = world.api_client(who).post(
            f"/api/results/{result.pk}/{action}/",
            {"reason": reason},
            content_type="application/json",
        )
        assert response.status_code in (200, 400, 404), response.content
        return
    raise AssertionError(way)


STEP_TARGET = {
    workflow.SUBMIT: SUBMITTED,
    workflow.APPROVE: APPROVED,
    workflow.RETURN: RETURNED,
    workflow.REOPEN: DRAFT,
}


def _step_cases():
    for rule in STEP_RULES:
        for way in STEP_WAYS:
            if way == "grid" and rule[2] not in GRID_STEPS:
                continue  # reopening is the plan admin's, in the admin
            yield pytest.param(way, *rule, id=f"{way}-{'-'.join(rule[:4])}")


@pytest.mark.parametrize("way,status,who,action,condition,expected", list(_step_cases()))
def test_steps_obey_the_table_every_way_in(world, way, status, who, action, condition, expected):
    result = world.prepare(status, who, condition)
    _step(world, way, who, result, action)
    stored = world.stored()
    taken = stored.status == STEP_TARGET[action] and stored.version > result.version
    assert (ALLOWED if taken else REFUSED) == expected
    if taken and condition == "self-review on":
        [entry] = ChangeLogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(Result),
            object_id=str(result.pk),
            action=action,
        )
        assert "allow_self_review" in entry.reason


# ---------------------------------------------------------------- the rules' answers


def test_a_submitter_is_recorded_and_may_not_approve_their_own_result(world):
    both = world.users["both"]
    result = world.prepare(SUBMITTED, "both", "open")
    assert result.submitted_by == both
    with pytest.raises(workflow.WorkflowError, match="separation of duties"):
        workflow.approve(both, [result])
    assert workflow.APPROVE not in workflow.allowed_actions(both, result)
    assert workflow.APPROVE in workflow.allowed_actions(world.users["reviewer"], result)


def test_a_save_without_its_version_is_refused_with_what_to_do(world):
    with pytest.raises(workflow.WorkflowError, match="which version"):
        workflow.save_result(world.users["officer"], world.indicator, "Q1", value="1")
    assert world.stored() is None


def test_the_import_preview_refuses_a_submitted_value_at_its_row_and_column(world):
    world.prepare(SUBMITTED, "officer", "open")
    csv = f"실국명,성과지표명,기간,실적\n{world.dept_a.name},{world.indicator.name},Q1,55\n"
    preview = results_import.import_results_files(
        YEAR, [("실적.csv", csv.encode())], user=world.users["officer"], dry_run=True
    )
    [error] = preview.errors
    assert error.row == 2 and error.column == "실적" and "submitted" in error.message
    assert world.stored().value == Decimal("10") and world.stored().status == SUBMITTED


def test_an_import_over_a_reopened_result_marks_it_edited_after_approval(world):
    result = world.prepare(APPROVED, "officer", "open")
    workflow.reopen(world.users["plan_admin"], result, "수치 정정")
    csv = f"실국명,성과지표명,기간,실적\n{world.dept_a.name},{world.indicator.name},Q1,12\n"
    done = results_import.import_results_files(
        YEAR, [("실적.csv", csv.encode())], user=world.users["officer"]
    )
    assert done.ok, done.errors
    stored = world.stored()
    assert stored.value == Decimal("12") and stored.edited_after_approval
    entry = ChangeLogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Result), object_id=str(stored.pk)
    ).latest("sequence")
    assert entry.changes["edited_after_approval"] == [False, True]


def test_a_paste_with_one_refused_cell_saves_none_and_says_which(world):
    officer = world.users["officer"]
    submitted = world.prepare(SUBMITTED, "officer", "open")
    cells = [
        {"indicator": world.neighbour.pk, "period": "Q1", "value": "7", "version": 0},
        {"indicator": world.indicator.pk, "period": "Q1", "value": "8", "version": 2},
    ]
    body = save_json(world.client("officer"), cells).json()
    assert body["ok"] is False
    first, second = body["cells"]
    assert not first["ok"] and first.get("held_back") and first["error"]
    refusal = korean(
        "%(result)s is submitted and waits for review: it cannot be edited "
        "unless the reviewer returns it."
    ) % {"result": f"{world.indicator} {korean('Quarter %(n)s') % {'n': 1}}"}  # 1분기
    assert not second["ok"] and second["error"] == refusal and not second.get("held_back")
    assert not Result.objects.filter(indicator=world.neighbour).exists()
    assert Result.objects.get(pk=submitted.pk).value == Decimal("10")
    assert officer.pk  # the officer's own save, refused as a whole


# ---------------------------------------------------------------- a paste is one transaction


def _sixty_cells(world):
    """60 new cells (15 indicators × 4 quarters) of a plan whose periods are all open."""
    plan = tracking_plan(YEAR + 1, departments=1, indicators=15)
    [department] = departments_of(plan)
    DepartmentAssignment.objects.get_or_create(user=world.users["officer"], department=department)
    indicators = indicators_of(plan, department)
    assert len(indicators) == 15
    return [
        {"indicator": i.pk, "period": q, "value": str(n), "version": 0}
        for n, (i, q) in enumerate((i, q) for i in indicators for q in ("Q1", "Q2", "Q3", "Q4"))
    ]


def _failing_at(monkeypatch, cell_number, on_reach=None):
    """Make the paste's `cell_number`th write fail (or call `on_reach` there first)."""
    original = workflow._write_cell
    calls = []

    def write(*args, **kwargs):
        calls.append(1)
        if len(calls) == cell_number:
            if on_reach is None:
                raise ConnectionError("the connection died half-way through the paste")
            on_reach()
        return original(*args, **kwargs)

    monkeypatch.setattr(workflow, "_write_cell", write)
    return calls


def test_a_paste_failing_at_its_31st_cell_leaves_none_of_it(world, monkeypatch):
    cells = _sixty_cells(world)
    before = Result.objects.count()
    calls = _failing_at(monkeypatch, 31)
    client = Client(raise_request_exception=False)
    client.force_login(world.users["officer"])
    response = save_json(client, cells)
    assert response.status_code == 500 and len(calls) == 31
    assert Result.objects.count() == before
    monkeypatch.undo()  # the retry, with the connection back
    freeze_today(monkeypatch, OPEN)
    body = save_json(client, cells).json()
    assert body["ok"] and Result.objects.count() == before + 60


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_connection_killed_mid_paste_leaves_none_of_it(world, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("pg_terminate_backend is PostgreSQL's")
    cells = _sixty_cells(world)
    officer = world.users["officer"]
    writes = [
        workflow.CellWrite(
            workflow.Indicator.objects.select_related(workflow.Indicator.scope.plan).get(
                pk=c["indicator"]
            ),
            c["period"],
            c["value"],
            expected_version=0,
        )
        for c in cells
    ]
    reached, killed, outcome = threading.Event(), threading.Event(), {}

    def at_31st():
        reached.set()
        assert killed.wait(10)

    _failing_at(monkeypatch, 31, at_31st)

    def paste():
        try:
            outcome["pid"] = connection.connection.info.backend_pid
        except AttributeError:
            pass
        try:
            workflow.save_results(officer, writes)
        except Exception as exc:  # noqa: BLE001 - the killed connection's error is the point
            outcome["error"] = exc
        finally:
            connection.close()

    worker = threading.Thread(target=paste)
    worker.start()
    assert reached.wait(30)
    with connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND state LIKE 'idle in transaction%%'"
        )
        assert any(row[0] for row in cursor.fetchall())
    killed.set()
    worker.join(30)
    assert "error" in outcome
    indicator_ids = {c["indicator"] for c in cells}
    assert not Result.objects.filter(indicator_id__in=indicator_ids).exists()


# ---------------------------------------------------------------- saved once per key


def _post_with_key(client, cells, key):
    return client.post(
        reverse("tracking:save"),
        {"cells": cells},
        content_type="application/json",
        headers={"X-Idempotency-Key": key},
    )


def test_a_retried_save_gets_its_first_outcome_not_stale(world):
    client = world.client("officer")
    key = uuid.uuid4().hex
    cells = [{"indicator": world.indicator.pk, "period": "Q1", "value": "21", "version": 0}]
    first = _post_with_key(client, cells, key).json()
    assert first["ok"] and first["replayed"] is False
    # The answer was lost; the page sends the same request again with the same key.
    again = _post_with_key(client, cells, key).json()
    assert again["ok"] and again["replayed"] is True
    assert again["cells"] == first["cells"]
    stored = world.stored()
    assert stored.value == Decimal("21") and stored.version == 1
    # Without the key the same copy is stale now: the receipt is what saves the retry.
    fresh = _post_with_key(client, cells, uuid.uuid4().hex).json()
    assert not fresh["ok"] and fresh["cells"][0]["version"] == 1


def test_a_key_is_the_users_own_and_expires(world):
    key = uuid.uuid4().hex
    cells = [{"indicator": world.indicator.pk, "period": "Q1", "value": "21", "version": 0}]
    assert _post_with_key(world.client("officer"), cells, key).json()["ok"]
    other = _post_with_key(world.client("plan_admin"), cells, key).json()
    assert other["replayed"] is False and not other["ok"]  # stale for them: no replay
    SaveReceipt.objects.update(created_at=F("created_at") - workflow.RECEIPT_LIFETIME * 2)
    _post_with_key(world.client("officer"), cells, uuid.uuid4().hex)
    assert not SaveReceipt.objects.filter(key=key, user=world.users["officer"]).exists()


def test_a_refused_save_is_answered_once_too_and_writes_nothing(world):
    world.prepare(SUBMITTED, "officer", "open")
    key = uuid.uuid4().hex
    cells = [{"indicator": world.indicator.pk, "period": "Q1", "value": "30", "version": 2}]
    client = world.client("officer")
    first = _post_with_key(client, cells, key).json()
    again = _post_with_key(client, cells, key).json()
    assert not first["ok"] and again["cells"] == first["cells"] and again["replayed"]
    assert world.stored().value == Decimal("10")


def test_an_unreadable_key_is_refused(world):
    cells = [{"indicator": world.indicator.pk, "period": "Q1", "value": "1", "version": 0}]
    response = _post_with_key(world.client("officer"), cells, "not a key; DROP")
    assert response.status_code == 400 and world.stored() is None
