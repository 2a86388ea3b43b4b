"""The API's role × endpoint × department matrix (issue 15): every read endpoint (list and
object, own and other department), the results' writes, the schema and the reference page,
for each role of perfplan/tests/test_scope_matrix.py, on its data (departments A and B).

Expectations come from the role spec (perfplan.roles.ROLE_PERMISSIONS) and the table of whose
departments each role reaches, never from perfplan.scoping. A token answers exactly what its
user's session answers."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.test import Client

from api.tokens import create_token
from indicators.models import Result
from perfplan.tests.test_scope_matrix import ROLES, build_world, may_view, reaches_a, sees_all

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """The scope matrix's two departments and roles, built once, rolled back at the end."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield build_world()
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


# endpoint -> the model label of its rows (as in the matrix's role spec)
ENDPOINTS = {
    "plans": "perfplan.plan",
    "departments": "perfplan.department",
    "plan-departments": "goals.plandepartment",
    "strategic-goals": "goals.strategicgoal",
    "policy-goals": "goals.policygoal",
    "indicators": "indicators.indicator",
    "period-targets": "indicators.periodtarget",
    "results": "indicators.result",
    "change-log": "perfplan.changelogentry",
}
KEY = {"change-log": "sequence"}


def token_client(world, role):
    if role == "anonymous":
        return Client()
    _api_token, text = create_token(None, world.users[role], "matrix")
    return Client(headers={"Authorization": f"Token {text}"})


def session_client(world, role):
    client = Client()
    if role != "anonymous":
        client.force_login(world.users[role])
    return client


def list_url(endpoint, world):
    if endpoint == "change-log":  # every entry (a role assignment has no year)
        return f"/api/{endpoint}/?page_size=500"
    return f"/api/{endpoint}/?page_size=500&year={world.plan.fiscal_year}"


def _object(world, label, which):
    if label == "perfplan.plan":
        return world.plan
    return world.objects[(label, which)]


def _keys(body, endpoint):
    return {row[KEY.get(endpoint, "id")] for row in body["results"]}


def _pages(client, url):
    """Every row of a list, following the cursor's next links."""
    rows = []
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        rows += body["results"]
        url = body["next"]
    return rows


def _department_of_row(endpoint, row, world):
    """Which department (A, B or None: shared) a row of the change log belongs to."""
    ids = {world.departments["own"].pk: "A", world.departments["other"].pk: "B"}
    return ids.get(row.get("department"))


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_list(world, role, endpoint):
    label = ENDPOINTS[endpoint]
    client = token_client(world, role)
    response = client.get(list_url(endpoint, world))
    if role == "anonymous":
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Token"
        return
    if not may_view(role, label):
        assert response.status_code == 403, response.content
        return
    assert response.status_code == 200, response.content
    body = response.json()
    assert "count" not in body  # cursor pages: no COUNT
    keys = _keys(body, endpoint)
    own, other = _object(world, label, "own"), _object(world, label, "other")
    shared = label == "perfplan.plan"
    assert (own.pk in keys) == (shared or reaches_a(role))
    assert (other.pk in keys) == (shared or sees_all(role))
    if endpoint == "change-log":
        reached = {
            _department_of_row(endpoint, row, world)
            for row in _pages(client, list_url(endpoint, world))
        }
        assert ("B" in reached) == sees_all(role)
    # A token answers exactly what its user's own session answers.
    assert session_client(world, role).get(list_url(endpoint, world)).json() == body


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("which", ["own", "other"])
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_object(world, role, which, endpoint):
    label = ENDPOINTS[endpoint]
    obj = _object(world, label, which)
    response = token_client(world, role).get(f"/api/{endpoint}/{obj.pk}/")
    if role == "anonymous":
        assert response.status_code == 401
        return
    if not may_view(role, label):
        assert response.status_code == 403
        return
    reached = label == "perfplan.plan" or (sees_all(role) if which == "other" else reaches_a(role))
    if reached:
        assert response.status_code == 200
        assert response.json()[KEY.get(endpoint, "id")] == obj.pk
    else:  # the same answer as an id that does not exist
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
        missing = token_client(world, role).get(f"/api/{endpoint}/987654321/")
        assert missing.status_code == 404 and missing.json() == response.json()


@pytest.mark.parametrize("role", ROLES)
def test_nobody_writes_into_a_department_they_do_not_change(world, role):
    """A save and a step on department B's result: refused for every role (a stale copy for
    those who reach B, unseen for the others), and nothing is written."""
    result = world.objects[("indicators.result", "other")]
    before = Result.objects.get(pk=result.pk)
    client = token_client(world, role)
    cell = {"indicator": result.indicator_id, "period": "Q1", "value": "99", "version": 0}
    save = client.post("/api/results/save/", {"cells": [cell]}, content_type="application/json")
    step = client.post(f"/api/results/{result.pk}/approve/", {}, content_type="application/json")
    if role == "anonymous":
        assert save.status_code == step.status_code == 401
    elif sees_all(role):
        assert save.status_code == 409 and not save.json()["ok"]
        assert step.status_code == 400  # a draft is not approved, whoever asks
    else:
        assert save.status_code == 400 and not save.json()["ok"]
        assert "error" in save.json()["cells"][0]
        assert step.status_code == 404
    after = Result.objects.get(pk=result.pk)
    assert (after.value, after.status, after.version) == (
        before.value,
        before.status,
        before.version,
    )


@pytest.mark.parametrize("role", ROLES)
def test_schema_and_reference_page(world, role):
    schema = token_client(world, role).get("/api/schema/?format=json")
    page = session_client(world, role).get("/api/")
    if role == "anonymous":
        assert schema.status_code == 401
        assert page.status_code == 302 and "/admin/login/" in page["Location"]
        return
    assert schema.status_code == 200 and "/api/results/save/" in schema.json()["paths"]
    assert page.status_code == 200
    text = page.content.decode()
    for endpoint in ENDPOINTS:
        assert f"/api/{endpoint}/" in text


STEPS = ("submit", "approve", "return", "reopen")


# A plan admin may submit any department's draft: that step is the rules table's case.
STEP_CASES = [(r, s) for r in ROLES for s in STEPS if (r, s) != ("plan_admin", "submit")]


@pytest.mark.parametrize("role, step", STEP_CASES)
def test_every_step_on_another_departments_result_is_refused(world, role, step):
    """Department B's draft result: unseen (404) for a role that does not reach B; for one
    that does, a step the draft does not allow is refused by the workflow (400)."""
    result = world.objects[("indicators.result", "other")]
    before = Result.objects.get(pk=result.pk)
    response = token_client(world, role).post(
        f"/api/results/{result.pk}/{step}/", {"reason": "사유"}, content_type="application/json"
    )
    if role == "anonymous":
        assert response.status_code == 401
    elif sees_all(role):
        assert response.status_code == 400 and response.json()["code"] == "refused"
    else:
        assert response.status_code == 404
    after = Result.objects.get(pk=result.pk)
    assert (after.status, after.version) == (before.status, before.version)
