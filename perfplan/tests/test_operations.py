"""Operations: errors leave a traceback on stderr (the service's journal), JSON endpoints
answer every error as JSON, the error pages are ours, and a dropped database connection
costs no 500 (CONN_HEALTH_CHECKS)."""

from __future__ import annotations

import io
import json
import logging
from contextlib import contextmanager

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection, connections
from django.test import Client, RequestFactory
from django.urls import path, reverse
from django.utils import translation

from indicators.tests.support import departments_of, make_user, tracking_plan
from perfplan import roles
from perfplan.http import _message

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json", "HTTP_X_REQUESTED_WITH": "fetch"}


def _boom(request):
    raise RuntimeError("ops-test: the view failed")


urlpatterns = [path("boom/", _boom)]  # for the page-500 test (pytest.mark.urls)


@contextmanager
def journal(name="django.request"):
    """What the logger `name` writes to stderr (its configured handler), captured."""
    (handler,) = logging.getLogger(name).handlers
    assert isinstance(handler, logging.StreamHandler)
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    try:
        yield buffer
    finally:
        handler.setStream(previous)


def korean(status, method="POST"):
    with translation.override("ko"):
        return _message(status, RequestFactory().generic(method, "/"))


@pytest.fixture
def officer(django_user_model):
    plan = tracking_plan()
    return make_user(django_user_model, "officer", roles.OFFICER, departments_of(plan)[:1])


def save(client, cells=(), **extra):
    body = json.dumps({"cells": list(cells)})
    return client.post(
        reverse("tracking:save"), body, content_type="application/json", **JSON, **extra
    )


def assert_json_error(response, status):
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["ok"] is False and body["error"]
    return body["error"]


# ---------------------------------------------------------------- tracebacks in the journal


def test_logging_sends_request_errors_and_our_apps_to_stderr():
    import sys

    for name in ("django.request", "django.security", "perfplan", "indicators", "goals"):
        logger = logging.getLogger(name)
        (handler,) = logger.handlers
        assert handler.stream is sys.stderr, name
        assert not logger.propagate, name  # once, not again through "django"
    assert logging.getLogger("django.request").getEffectiveLevel() == logging.ERROR


def test_a_failing_json_save_answers_json_500_and_logs_its_traceback(client, officer, monkeypatch):
    from indicators.views import save as save_views

    def failing(user, cells):
        raise RuntimeError("ops-test: saving failed")

    monkeypatch.setattr(save_views, "save_cells", failing)
    client.force_login(officer)
    client.raise_request_exception = False
    with journal() as stderr:
        response = save(client, [{"indicator": 1, "period": "Q1", "value": "1"}])
    assert assert_json_error(response, 500) == korean(500)
    logged = stderr.getvalue()
    assert "Internal Server Error: /admin/tracking/save/" in logged
    assert "Traceback (most recent call last)" in logged
    assert "RuntimeError: ops-test: saving failed" in logged
    assert logged.count("Internal Server Error") == 1  # not logged twice


@pytest.mark.urls(__name__)
def test_a_page_500_is_ours_and_logs_its_traceback(client, settings):
    assert not settings.DEBUG  # as in production (DJANGO_DEBUG=0)
    client.raise_request_exception = False
    with journal() as stderr:
        response = client.get("/boom/")
    assert response.status_code == 500
    html = response.content.decode()
    assert 'id="error-message"' in html and "(500)" in html  # templates/500.html
    assert "Traceback (most recent call last)" in stderr.getvalue()
    assert "RuntimeError: ops-test: the view failed" in stderr.getvalue()


def test_error_pages_404_and_403_are_ours(client, django_user_model):
    missing = client.get("/nowhere/")
    assert missing.status_code == 404
    assert 'id="error-message"' in missing.content.decode() and "(404)" in missing.content.decode()
    client.force_login(make_user(django_user_model, "nobody"))  # staff without a role
    denied = client.get(reverse("tracking:overview"))
    assert denied.status_code == 403
    assert 'id="error-message"' in denied.content.decode() and "(403)" in denied.content.decode()


# ---------------------------------------------------------------- JSON endpoints answer JSON


def test_json_endpoints_answer_403_404_405_and_an_expired_login_as_json(
    client, officer, django_user_model
):
    assert assert_json_error(save(client), 401) == korean(401)  # not logged in: no redirect
    client.force_login(make_user(django_user_model, "nobody"))
    assert assert_json_error(save(client), 403) == korean(403)
    client.force_login(officer)
    wrong_method = client.get(reverse("tracking:save"), **JSON)
    assert assert_json_error(wrong_method, 405) == korean(405, "GET")
    gone = client.post(reverse("tracking:evidence_delete", args=[987654]), **JSON)
    assert assert_json_error(gone, 404) == korean(404)
    upload = client.post(reverse("tracking:evidence_upload"), {"indicator": "x"}, **JSON)
    assert_json_error(upload, 404)
    # The view's own refusal stays as it was (JSON already).
    unreadable = client.post(reverse("tracking:save"), "{", content_type="application/json", **JSON)
    assert unreadable.status_code == 400 and unreadable.json()["ok"] is False


def test_a_form_post_to_a_json_endpoint_keeps_its_pages(client, django_user_model):
    client.force_login(make_user(django_user_model, "nobody"))
    response = client.post(reverse("tracking:save"), {"indicator": "1"})
    assert response.status_code == 403 and "text/html" in response["Content-Type"]


def test_a_csrf_failure_answers_json_to_a_json_endpoint_only(officer):
    client = Client(enforce_csrf_checks=True)
    client.force_login(officer)
    refused = save(client, [{"indicator": 1, "period": "Q1", "value": "1"}])
    with translation.override("ko"):
        from perfplan.http import csrf_failure

        expected = json.loads(csrf_failure(_json_request_to_save()).content)["error"]
    assert assert_json_error(refused, 403) == expected
    page = client.post(reverse("tracking:review_cells"), {"step": "submit"}, **JSON)
    assert page.status_code == 403 and "text/html" in page["Content-Type"]


def _json_request_to_save():
    from django.urls import resolve

    request = RequestFactory().post(reverse("tracking:save"), **JSON)
    request.resolver_match = resolve(reverse("tracking:save"))
    return request


# ---------------------------------------------------------------- a dropped connection


def _wsgi_get(path, cookie):
    """A request through the WSGI handler as gunicorn runs it (request_started and
    request_finished: connections are checked and closed as in production)."""
    environ = RequestFactory().get(path, HTTP_COOKIE=cookie).environ
    status = []
    body = b"".join(WSGIHandler()(environ, lambda s, headers, exc_info=None: status.append(s)))
    return int(status[0].split()[0]), body


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="terminates a PostgreSQL backend")
@pytest.mark.django_db(transaction=True)
def test_a_terminated_database_connection_costs_no_500(client, officer):
    assert connection.settings_dict["CONN_HEALTH_CHECKS"]
    assert connection.settings_dict["CONN_MAX_AGE"]  # kept between requests
    client.force_login(officer)
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    url = reverse("tracking:my_department")
    assert _wsgi_get(url, cookie)[0] == 200
    assert connection.connection is not None  # the request's connection is kept
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    finally:
        other.close()
    status, _body = _wsgi_get(url, cookie)
    assert status == 200
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != pid  # a new connection
