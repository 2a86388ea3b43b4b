"""The API's own rules: tokens (hashed at rest, revoked → 401, last use, named in the change
log of every write), idempotent saves, throttling (429), cursor pages without COUNT, a
constant number of queries per list at two scales, JSON errors, the schema, the admin."""

from __future__ import annotations

import hashlib
import uuid
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from api.models import ApiToken
from api.tokens import create_token, revoke_token
from indicators import workflow
from indicators.models import Indicator, Result
from indicators.tests.support import (
    TODAY,
    YEAR,
    departments_of,
    freeze_today,
    indicators_of,
    make_user,
    tracking_plan,
)
from perfplan import roles
from perfplan.models import ChangeLogEntry

pytestmark = pytest.mark.django_db


def korean(text):
    with translation.override("ko"):
        return translation.gettext(text)


@pytest.fixture
def world(monkeypatch, django_user_model):
    freeze_today(monkeypatch, TODAY)
    cache.clear()  # the throttle's counts
    plan = tracking_plan()
    a, b = departments_of(plan)
    u = django_user_model
    return {
        "plan": plan,
        "a": a,
        "b": b,
        "mine": indicators_of(plan, a),
        "officer": make_user(u, "officer", roles.OFFICER, [a]),
        "reviewer": make_user(u, "reviewer", roles.REVIEWER, [a]),
        "plan_admin": make_user(u, "planadmin", roles.PLAN_ADMIN),
        "auditor": make_user(u, "auditor", roles.AUDITOR),
    }


def client_with(text):
    return Client(headers={"Authorization": f"Token {text}"})


def post(client, url, body, **headers):
    return client.post(url, body, content_type="application/json", headers=headers)


# ---------------------------------------------------------------- tokens


def test_a_token_is_stored_hashed_and_answers_as_its_user(world):
    api_token, text = create_token(world["plan_admin"], world["officer"], "예산 시스템")
    row = ApiToken.objects.filter(pk=api_token.pk).values().get()
    assert row["secret_hash"] == hashlib.sha256(text.encode()).hexdigest()
    assert not any(text in str(value) for value in row.values())  # the token itself: nowhere
    assert text.startswith(f"pp_{api_token.prefix}_") and len(text) > 40
    assert row["last_used_at"] is None
    response = client_with(text).get("/api/departments/")
    assert response.status_code == 200
    assert [d["id"] for d in response.json()["results"]] == [world["a"].pk]
    assert ApiToken.objects.get(pk=api_token.pk).last_used_at is not None
    # made by a plan admin, with who and for whom in the change log
    entry = ChangeLogEntry.objects.get(
        content_type=ContentType.objects.get_for_model(ApiToken), object_id=str(api_token.pk)
    )
    assert entry.user == world["plan_admin"] and entry.changes["user"] == [None, "officer"]


def test_a_revoked_or_wrong_token_answers_401(world):
    api_token, text = create_token(None, world["officer"], "old")
    client = client_with(text)
    assert client.get("/api/results/").status_code == 200
    revoke_token(world["plan_admin"], api_token, "유출")
    response = client.get("/api/results/")
    assert response.status_code == 401
    assert response.json() == {
        "error": korean("The API token is invalid or revoked."),
        "code": "authentication_failed",
    }
    wrong = text[:-4] + ("aaaa" if not text.endswith("aaaa") else "bbbb")
    assert client_with(wrong).get("/api/results/").status_code == 401
    assert Client(headers={"Authorization": "Token"}).get("/api/results/").status_code == 401
    # a deactivated user's token stops too
    _other, other_text = create_token(None, world["reviewer"], "x")
    world["reviewer"].is_active = False
    world["reviewer"].save()
    assert client_with(other_text).get("/api/results/").status_code == 401


def test_a_plan_admin_makes_tokens_only_for_the_people_they_manage(world, django_user_model):
    from perfplan.people import PeopleDenied

    root = django_user_model.objects.create_superuser("root", "", "pw-root-123")
    with pytest.raises(PeopleDenied):
        create_token(world["plan_admin"], root, "no")
    with pytest.raises(PeopleDenied):
        create_token(world["officer"], world["reviewer"], "no")
    assert not ApiToken.objects.exists()


def test_anonymous_gets_401_in_json(world):
    response = Client().get("/api/results/")
    assert response.status_code == 401
    assert response.json()["error"] == korean(
        "Sign in, or send an API token (Authorization: Token …)."
    )


# ---------------------------------------------------------------- writes


def test_api_writes_name_the_user_and_the_token_in_the_change_log(world):
    api_token, text = create_token(None, world["officer"], "예산 시스템")
    client = client_with(text)
    indicator = world["mine"][0]
    cell = {"indicator": indicator.pk, "period": "Q1", "value": "12.5", "version": 0}
    response = post(client, "/api/results/save/", {"cells": [cell]})
    assert response.status_code == 200, response.content
    saved = response.json()["cells"][0]["result"]
    assert saved["value"] == "12.5000" and saved["version"] == 1 and saved["status"] == "draft"
    submitted = post(client, f"/api/results/{saved['id']}/submit/", {})
    assert submitted.status_code == 200 and submitted.json()["status"] == "submitted"
    entries = ChangeLogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Result), object_id=str(saved["id"])
    ).order_by("sequence")
    assert [e.action for e in entries] == ["create", "submit"]
    for entry in entries:
        assert entry.user == world["officer"] and entry.username == "officer"
        assert entry.request_id.startswith(f"api-token:{api_token.prefix}:")


def test_a_refusal_is_json_with_the_workflows_message(world):
    _t, text = create_token(None, world["reviewer"], "r")
    indicator = world["mine"][0]
    result = workflow.save_result(
        world["officer"], indicator, "Q1", value="3", expected_version=0, today=TODAY
    )
    response = post(client_with(text), f"/api/results/{result.pk}/approve/", {})
    assert response.status_code == 400
    expected = korean("%(result)s: only a submitted result can be approved (it is %(status)s).")
    with translation.override("ko"):
        expected = expected % {"result": str(result), "status": result.get_status_display()}
    assert response.json()["error"] == expected and response.json()["code"] == "refused"
    # a cell without its version is refused by the serializer, naming the field
    cell = {"indicator": indicator.pk, "period": "Q1", "value": "4"}
    refused = post(client_with(text), "/api/results/save/", {"cells": [cell]})
    assert refused.status_code == 400 and "version" in refused.json()["error"]
    assert Result.objects.get(pk=result.pk).value == Decimal("3")


def test_a_save_retried_with_its_key_gets_its_first_outcome(world):
    _t, text = create_token(None, world["officer"], "k")
    client = client_with(text)
    cell = {"indicator": world["mine"][0].pk, "period": "Q1", "value": "21", "version": 0}
    key = uuid.uuid4().hex
    first = post(client, "/api/results/save/", {"cells": [cell]}, **{"Idempotency-Key": key})
    again = post(client, "/api/results/save/", {"cells": [cell]}, **{"Idempotency-Key": key})
    assert first.status_code == again.status_code == 200
    assert again.json()["replayed"] is True and again.json()["cells"] == first.json()["cells"]
    stale = post(client, "/api/results/save/", {"cells": [cell]})  # no key: a stale copy
    assert stale.status_code == 409 and stale.json()["cells"][0]["current_version"] == 1
    bad = post(client, "/api/results/save/", {"cells": [cell]}, **{"Idempotency-Key": "x y"})
    assert bad.status_code == 400


# ---------------------------------------------------------------- throttling


def test_too_many_requests_answer_429_per_token(world, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api": "3/min"},
    }
    _t, text = create_token(None, world["officer"], "t")
    client = client_with(text)
    answers = [client.get("/api/plans/").status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    response = client.get("/api/plans/")
    assert response.json()["code"] == "throttled" and "Retry-After" in response
    _t2, other = create_token(None, world["officer"], "t2")  # another token counts apart
    assert client_with(other).get("/api/plans/").status_code == 200


# ---------------------------------------------------------------- pages and queries


def _results_for(indicators, periods=("Q1", "Q2", "Q3", "Q4")):
    Result.objects.bulk_create(
        [
            Result(indicator=i, period=p, value=Decimal(n), status="approved")
            for n, (i, p) in enumerate((i, p) for i in indicators for p in periods)
        ]
    )


def test_cursor_pages_walk_every_row_once_without_count(world):
    _results_for(world["mine"])
    _t, text = create_token(None, world["officer"], "c")
    client = client_with(text)
    url, seen = "/api/results/?page_size=3", []
    with CaptureQueriesContext(connection) as queries:
        while url:
            body = client.get(url).json()
            assert "count" not in body and len(body["results"]) <= 3
            seen += [row["id"] for row in body["results"]]
            url = body["next"]
    visible = Result.objects.restrict(world["officer"]).order_by("indicator_id", "period")
    assert seen == list(visible.values_list("id", flat=True)) and len(seen) > 3
    assert not [q for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    log = client_with(create_token(None, world["auditor"], "l")[1])
    page = log.get("/api/change-log/?page_size=2").json()
    sequences = [row["sequence"] for row in page["results"]]
    assert sequences == sorted(sequences, reverse=True)
    after = log.get(page["next"]).json()["results"]
    assert after and after[0]["sequence"] < sequences[-1]


LISTS = [
    ("plan_admin", "/api/plans/"),
    ("plan_admin", "/api/departments/"),
    ("officer", "/api/departments/"),
    ("plan_admin", "/api/plan-departments/?year={year}"),
    ("plan_admin", "/api/strategic-goals/?year={year}"),
    ("plan_admin", "/api/policy-goals/?year={year}"),
    ("plan_admin", "/api/indicators/?year={year}"),
    ("officer", "/api/indicators/?year={year}"),
    ("plan_admin", "/api/indicators/?year={year}&department={department}&q=지표"),
    ("plan_admin", "/api/period-targets/?year={year}"),
    ("plan_admin", "/api/results/?year={year}"),
    ("officer", "/api/results/?year={year}&status=approved"),
    ("auditor", "/api/change-log/"),
    ("auditor", "/api/change-log/?department={department}&action=create"),
]


def _queries(client, url):
    client.get(url)  # warm: the content types' and permissions' caches
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(queries), len(response.json()["results"])


def test_every_list_answers_in_constant_queries_at_two_scales(world):
    from indicators.models import PeriodTarget

    clients = {
        who: client_with(create_token(None, world[who], who)[1])
        for who in ("plan_admin", "officer", "auditor")
    }

    def counts(plan):
        department = departments_of(plan)[0].pk
        return {
            (who, url): _queries(
                clients[who], url.format(year=plan.fiscal_year, department=department)
            )
            for who, url in LISTS
        }

    small_plan = world["plan"]
    _results_for(Indicator.objects.in_plan(small_plan))
    small = counts(small_plan)
    large_plan = tracking_plan(YEAR + 1, departments=6, goals=3, policy_goals=3, indicators=4)
    # (the same departments across years: the officer's A is in both plans)
    large_indicators = list(Indicator.objects.in_plan(large_plan))
    _results_for(large_indicators)
    PeriodTarget.objects.bulk_create(
        [PeriodTarget(indicator=i, period="Q1", target=1) for i in large_indicators]
    )
    large = counts(large_plan)
    for key in small:
        assert small[key][0] == large[key][0], (key, small[key], large[key])
        assert small[key][0] <= 12, (key, small[key])
    # the large plan really is larger where it can be (more rows on the page)
    assert large[("plan_admin", "/api/results/?year={year}")][1] == 100
    assert small[("plan_admin", "/api/results/?year={year}")][1] < 100


def test_the_screens_filters_narrow_and_a_bad_value_is_refused(world):
    _t, text = create_token(None, world["plan_admin"], "f")
    client = client_with(text)
    url = f"/api/indicators/?year={YEAR}&department={world['b'].pk}"
    ids = {row["id"] for row in client.get(url).json()["results"]}
    assert ids == set(
        Indicator.objects.in_plan(world["plan"])
        .of_departments([world["b"]])
        .values_list("id", flat=True)
    )
    bad = client.get("/api/indicators/?department=999999")
    assert bad.status_code == 400 and bad.json()["code"] == "invalid"
    assert client.get("/api/results/?status=nonsense").status_code == 400


# ---------------------------------------------------------------- schema and admin


def test_the_schema_validates(tmp_path):
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    text = target.read_text()
    assert "/api/results/{id}/approve/" in text and "apiToken" in text


def test_the_admin_shows_a_new_token_once(world):
    client = Client()
    client.force_login(world["plan_admin"])
    assert "/admin/api/apitoken/" in client.get("/admin/").content.decode()
    assert client.get("/admin/api/apitoken/add/").status_code == 200
    response = client.post(
        "/admin/api/apitoken/add/",
        {"user": world["officer"].pk, "name": "대시보드", "reason": "시 대시보드 연계"},
    )
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    api_token = ApiToken.objects.get()
    text = response.context["token"]
    assert text in response.content.decode()
    assert api_token.secret_hash == hashlib.sha256(text.encode()).hexdigest()
    listing = client.get("/admin/api/apitoken/").content.decode()
    assert api_token.prefix in listing and text not in listing
    assert client_with(text).get("/api/plans/").status_code == 200
    # revoked from the list's action
    client.post(
        "/admin/api/apitoken/",
        {"action": "revoke_selected", "_selected_action": [api_token.pk], "index": 0},
    )
    assert client_with(text).get("/api/plans/").status_code == 401
    officer = Client()
    officer.force_login(world["officer"])
    assert officer.get("/admin/api/apitoken/add/").status_code == 403


def test_a_year_is_exact_whether_or_not_its_ids_are_contiguous(world):
    """The year filters read a plan's rows by their id range when it is exact; an indicator
    added to last year's plan after this year's (ids no longer contiguous) is still listed,
    and none of the other year's rows is."""
    old_plan = world["plan"]
    new_plan = tracking_plan(YEAR + 1)
    late = Indicator.objects.create(
        policy_goal=Indicator.objects.in_plan(old_plan).first().policy_goal,
        name="늦게 추가한 지표",
        frequency="quarterly",
    )
    _results_for(Indicator.objects.all())
    _t, text = create_token(None, world["plan_admin"], "y")
    client = client_with(text)
    for plan in (old_plan, new_plan):
        for endpoint, model in (("indicators", Indicator), ("results", Result)):
            rows = client.get(f"/api/{endpoint}/?year={plan.fiscal_year}&page_size=500").json()
            ids = {row["id"] for row in rows["results"]}
            assert ids == set(model.objects.in_plan(plan).values_list("id", flat=True))
    indicator_ids = {
        row["id"] for row in client.get(f"/api/indicators/?year={YEAR}").json()["results"]
    }
    assert late.pk in indicator_ids
