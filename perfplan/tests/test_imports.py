"""The import runner (perfplan.imports): the same safeguards for every kind of import.

One table of safeguards — the database changed between preview and confirmation, a stored
file changed, the reason carried to every change-log entry, one transaction, confirmed
once, another user's preview — run against each kind: plan tables, the text of a published
plan, results. Then the admin's amendment of a published plan, end to end.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone, translation

from goals.models import StrategicGoal
from goals.tests.factories import csv_bytes, make_plan, seed_files, seed_rows
from indicators.models import Indicator, Result
from indicators.results_import import RESULTS
from perfplan import imports, roles
from perfplan.models import (
    ChangeLogEntry,
    Department,
    DepartmentAssignment,
    ImportBatch,
    ImportFile,
    Plan,
)
from perfplan.planfiles.importer import PLAN_TABLES, PLAN_TEXT

pytestmark = pytest.mark.django_db

YEAR = 2026
SEED_TEXT = Path(settings.BASE_DIR) / "fixtures" / "source" / "000_b531d227c4430c07.txt"
GOAL = "홍보실"  # its strategic goal's budget is 478 in the seed
RESULT_HEADER = ["실국명", "성과지표명", "기간", "실적", "비고"]


@pytest.fixture(autouse=True)
def korean():
    with translation.override("ko"):
        yield


def make_user(django_user_model, username, role, departments=()):
    user = django_user_model.objects.create_user(username, password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    for name in departments:
        DepartmentAssignment.objects.create(user=user, department=Department.objects.get(name=name))
    return django_user_model.objects.get(pk=user.pk)  # fresh: no cached permissions


def goal_budgets():
    return StrategicGoal.objects.filter(plan_department__name=GOAL).values_list("budget", flat=True)


@dataclass
class Case:
    """One kind of import, set up so that its preview shows one write."""

    kind: imports.ImportKind
    files: list
    user: object
    other_user: object  # same role, not the preview's author
    confirm_url: str
    year: int = YEAR

    def change_database(self):
        """A change after the preview that alters what the import would write."""
        if self.kind is RESULTS:
            indicator = Indicator.objects.in_year(self.year).get(name="지표 0-0-0-0")
            Result.objects.create(indicator=indicator, period="Y", value=1)
        else:
            goal_budgets().update(budget=Decimal(450))

    def state(self):
        """What the import writes, as it is now."""
        if self.kind is RESULTS:
            return sorted(Result.objects.values_list("indicator_id", "period", "value", "note"))
        return sorted(goal_budgets()), Indicator.objects.count()

    def preview(self, **kwargs):
        return imports.preview(self.kind, self.year, self.files, user=self.user, **kwargs)


def plan_case(kind, files, django_user_model):
    user = make_user(django_user_model, "planadmin", roles.PLAN_ADMIN)
    other = make_user(django_user_model, "planadmin2", roles.PLAN_ADMIN)
    assert imports.run(kind, YEAR, files=files, user=user).applied
    goal_budgets().update(budget=Decimal(400))  # the file says 478: the preview restores it
    return Case(kind, files, user, other, "admin:perfplan_plan_import_confirm")


@pytest.fixture(params=["plan", "plan_text", "results"])
def case(request, django_user_model):
    if request.param == "plan":
        return plan_case(PLAN_TABLES, seed_files(), django_user_model)
    if request.param == "plan_text":
        return plan_case(PLAN_TEXT, [(SEED_TEXT.name, SEED_TEXT.read_bytes())], django_user_model)
    year = timezone.localdate().year  # the yearly period is open for entry now
    make_plan(year, departments=2, goals=1, policy_goals=1, indicators=2)
    officer = make_user(django_user_model, "officer", roles.OFFICER, ["부서000"])
    other = make_user(django_user_model, "officer2", roles.OFFICER, ["부서000"])
    rows = [RESULT_HEADER, ["부서000", "지표 0-0-0-0", "연간", "42", "메모"]]
    files = [("실적.csv", csv_bytes(rows))]
    return Case(RESULTS, files, officer, other, "results:confirm", year)


def entries_of(batch):
    return ChangeLogEntry.objects.filter(batch_id=batch.pk)


# ---------------------------------------------------------------- the table of safeguards


def preview_then_confirm_writes_what_was_shown(case):
    before = case.state()
    preview = case.preview()
    assert preview.ok and preview.batch is not None
    assert case.state() == before  # a preview writes nothing
    summary = preview.batch.summary
    assert summary["kind"] == case.kind.name and len(summary["fingerprint"]) == 64
    result = imports.confirm(preview.batch, user=case.user)
    assert result.ok and result.applied, [str(e) for e in result.errors]
    assert case.state() != before
    batch = ImportBatch.objects.get(pk=preview.batch.pk)
    assert batch.status == ImportBatch.Status.APPLIED and batch.applied_at is not None
    # The records' entries, then one for the import itself, all under the batch.
    actions = list(entries_of(batch).order_by("sequence").values_list("action", flat=True))
    assert actions[-1] == "import" and actions.count("import") == 1 and len(actions) > 1


def a_database_change_since_the_preview_is_refused(case):
    preview = case.preview()
    case.change_database()
    changed = case.state()
    result = imports.confirm(preview.batch, user=case.user)
    assert not result.ok and not result.applied
    assert str(result.errors[-1]) == str(imports.CHANGED_SINCE_PREVIEW)
    assert case.state() == changed
    batch = ImportBatch.objects.get(pk=preview.batch.pk)
    assert batch.status == ImportBatch.Status.REJECTED
    assert not entries_of(batch).exists()
    # A new preview sees the change and may be confirmed.
    again = case.preview()
    assert imports.confirm(again.batch, user=case.user).applied


def a_stored_file_changed_since_the_preview_is_refused(case):
    preview = case.preview()
    before = case.state()
    stored = ImportFile.objects.filter(batch=preview.batch).first()
    ImportFile.objects.filter(pk=stored.pk).update(content=bytes(stored.content) + b"\r\n")
    result = imports.confirm(preview.batch, user=case.user)
    assert not result.ok and str(result.errors[0]) == str(imports.CHANGED_SINCE_PREVIEW)
    assert case.state() == before
    assert ImportBatch.objects.get(pk=preview.batch.pk).status == ImportBatch.Status.REJECTED


def the_reason_given_at_the_preview_is_on_every_entry(case):
    preview = case.preview(reason="  추경 반영  ")
    assert preview.batch.summary["reason"] == "추경 반영"
    result = imports.confirm(preview.batch, user=case.user)
    assert result.applied
    reasons = set(entries_of(preview.batch).values_list("reason", flat=True))
    assert reasons == {"추경 반영"}
    batch = ImportBatch.objects.get(pk=preview.batch.pk)
    assert batch.summary["reason"] == "추경 반영"


def a_failure_at_the_end_leaves_nothing(case, monkeypatch):
    preview = case.preview()
    before = case.state()
    log_import = imports.log_import

    def log_then_fail(*args, **kwargs):
        log_import(*args, **kwargs)  # every write and entry is made by now
        raise RuntimeError("disk full")

    monkeypatch.setattr(imports, "log_import", log_then_fail)
    with pytest.raises(RuntimeError, match="disk full"):
        imports.confirm(preview.batch, user=case.user)
    assert case.state() == before
    assert not entries_of(preview.batch).exists()
    assert ImportBatch.objects.get(pk=preview.batch.pk).status == ImportBatch.Status.PREVIEWED
    monkeypatch.setattr(imports, "log_import", log_import)
    assert imports.confirm(preview.batch, user=case.user).applied  # still confirmable


def a_preview_is_confirmed_once(case):
    preview = case.preview()
    assert imports.confirm(preview.batch, user=case.user).applied
    entries = entries_of(preview.batch).count()
    again = imports.confirm(preview.batch, user=case.user)
    assert not again.ok and not again.applied
    assert str(again.errors[0]) == str(imports.ALREADY_CONFIRMED)
    batch = ImportBatch.objects.get(pk=preview.batch.pk)
    assert batch.status == ImportBatch.Status.APPLIED  # not turned into a refusal
    assert entries_of(batch).count() == entries


def another_users_preview_is_not_found(case, client):
    preview = case.preview()
    url = reverse(case.confirm_url, args=[preview.batch.pk])
    client.force_login(case.other_user)
    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404
    assert ImportBatch.objects.get(pk=preview.batch.pk).status == ImportBatch.Status.PREVIEWED
    client.force_login(case.user)
    assert client.get(url).status_code == 302  # the author's GET goes back to the upload
    assert client.post(url).status_code == 302
    assert ImportBatch.objects.get(pk=preview.batch.pk).status == ImportBatch.Status.APPLIED
    assert client.post(url).status_code == 404  # confirmed once


SAFEGUARDS = [
    preview_then_confirm_writes_what_was_shown,
    a_database_change_since_the_preview_is_refused,
    a_stored_file_changed_since_the_preview_is_refused,
    the_reason_given_at_the_preview_is_on_every_entry,
    a_failure_at_the_end_leaves_nothing,
    a_preview_is_confirmed_once,
    another_users_preview_is_not_found,
]


@pytest.mark.parametrize("safeguard", SAFEGUARDS, ids=lambda f: f.__name__)
def test_every_kind_of_import_has_every_safeguard(case, safeguard, request):
    arguments = {"case": case}
    for name in ("monkeypatch", "client"):
        if name in safeguard.__code__.co_varnames[: safeguard.__code__.co_argcount]:
            arguments[name] = request.getfixturevalue(name)
    safeguard(**arguments)


def test_every_kind_is_registered_by_name():
    for kind in (PLAN_TABLES, PLAN_TEXT, RESULTS):
        assert imports.kind_named(kind.name) is kind
    with pytest.raises(LookupError):
        imports.kind_named("nothing")


def test_the_text_kind_refuses_plan_tables(django_user_model):
    result = imports.preview(PLAN_TEXT, YEAR, seed_files()[:1])
    assert not result.ok and result.batch is None
    assert not ImportBatch.objects.exists() and not Plan.objects.exists()


# ---------------------------------------------------------------- amendments in the admin


def _uploads(rows):
    upload = io.BytesIO(csv_bytes(rows))
    upload.name = "hierarchy.csv"
    return [upload]


def test_admin_amends_a_published_plan_with_the_reason_of_its_preview(client, django_user_model):
    plan_admin = make_user(django_user_model, "planadmin", roles.PLAN_ADMIN)
    assert imports.run(PLAN_TABLES, YEAR, files=seed_files()).applied
    Plan.objects.update(published_at=timezone.now())
    rows = seed_rows()
    for row in rows[1:]:
        if row[0] == GOAL:
            row[2] = "500"
    client.force_login(plan_admin)
    url = reverse("admin:perfplan_plan_import")

    # Without a reason the preview asks for one and keeps nothing.
    response = client.post(url, {"fiscal_year": YEAR, "files": _uploads(rows)})
    assert response.status_code == 200 and response.context["batch"] is None
    assert GOAL in str(response.context["errors"][0])
    assert "사유" in str(response.context["errors"][0])
    assert not ImportBatch.objects.filter(status=ImportBatch.Status.PREVIEWED).exists()

    # With it, the preview shows it and stores it; the confirmation applies with it.
    response = client.post(
        url, {"fiscal_year": YEAR, "files": _uploads(rows), "reason": "1회 추경 반영"}
    )
    batch = response.context["batch"]
    assert batch is not None and 'id="import-reason"' in response.content.decode()
    assert "1회 추경 반영" in response.content.decode()
    response = client.post(reverse("admin:perfplan_plan_import_confirm", args=[batch.pk]))
    assert response.status_code == 302
    goal = StrategicGoal.objects.get(plan_department__name=GOAL)
    assert (goal.original_budget, goal.budget) == (Decimal(478), Decimal(500))
    entries = entries_of(batch)
    assert set(entries.values_list("action", flat=True)) == {"update", "import"}
    assert set(entries.values_list("reason", flat=True)) == {"1회 추경 반영"}
    assert ImportBatch.objects.get(pk=batch.pk).status == ImportBatch.Status.APPLIED


def test_admin_confirmation_refused_when_the_plan_changed_since_the_preview(
    client, django_user_model
):
    plan_admin = make_user(django_user_model, "planadmin", roles.PLAN_ADMIN)
    assert imports.run(PLAN_TABLES, YEAR, files=seed_files()).applied
    rows = seed_rows()
    for row in rows[1:]:
        if row[0] == GOAL:
            row[2] = "500"
    client.force_login(plan_admin)
    response = client.post(
        reverse("admin:perfplan_plan_import"), {"fiscal_year": YEAR, "files": _uploads(rows)}
    )
    batch = response.context["batch"]
    goal_budgets().update(budget=Decimal(490))  # someone amended it meanwhile
    response = client.post(reverse("admin:perfplan_plan_import_confirm", args=[batch.pk]))
    assert response.status_code == 200
    assert str(response.context["errors"][0]) == str(imports.CHANGED_SINCE_PREVIEW)
    assert list(goal_budgets()) == [Decimal(490)]
    assert ImportBatch.objects.get(pk=batch.pk).status == ImportBatch.Status.REJECTED
