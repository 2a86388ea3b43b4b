"""Hardening: login throttling (django-axes), sessions, CSRF, and production settings that
`check --deploy` finds nothing to say about."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import translation

from perfplan.tests.korean import korean_catalogue

pytestmark = pytest.mark.django_db

BASE_DIR = Path(settings.BASE_DIR)
PASSWORD = "correct-horse-battery-staple"
LOCKOUT_MSGID = (
    "Too many failed logins: this account is locked for %(minutes)s minutes from this "
    "address. Try again later."
)


def korean(msgid):
    """What the Korean UI says for `msgid` (the one catalogue, with what is pending a merge)."""
    with korean_catalogue():
        text = translation.gettext(msgid)
    assert text != msgid, f"{msgid!r} has no Korean in the catalogue"
    return text


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Logins here are about throttling, not hashing: a fast hasher keeps the tests quick."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user(
        "kim", password=PASSWORD, is_staff=True, is_superuser=True
    )


def log_in(client, username, password, ip="192.0.2.10"):
    return client.post(
        reverse("admin:login"),
        {"username": username, "password": password, "next": reverse("admin:index")},
        REMOTE_ADDR=ip,
    )


def logged_in(response):
    return response.status_code == 302 and response["Location"] == reverse("admin:index")


# ---------------------------------------------------------------- login throttling


def test_five_failures_lock_the_login_for_15_minutes_with_a_korean_message(client, staff):
    assert settings.AUTHENTICATION_BACKENDS[0].startswith("axes.")
    assert settings.MIDDLEWARE[-1] == "axes.middleware.AxesMiddleware"
    for attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        response = log_in(client, "kim", f"wrong-{attempt}")
        assert response.status_code == 200, attempt  # the login form again, with its error
    locked = log_in(client, "kim", "wrong-last")
    assert locked.status_code == 429
    # Even the right password is refused while locked.
    again = log_in(client, "kim", PASSWORD)
    assert again.status_code == 429
    assert "_auth_user_id" not in client.session
    text = again.content.decode()
    expected = korean(LOCKOUT_MSGID) % {"minutes": 15}
    assert expected in text, "the lockout page is not in Korean (is the catalogue merged?)"
    assert settings.AXES_COOLOFF_TIME.total_seconds() == 15 * 60


def test_the_lock_ends_after_the_cool_off(client, staff):
    from axes.models import AccessAttempt
    from django.utils import timezone

    for attempt in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, "kim", f"wrong-{attempt}")
    assert log_in(client, "kim", PASSWORD).status_code == 429
    AccessAttempt.objects.update(attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME)
    assert logged_in(log_in(client, "kim", PASSWORD))


def test_the_lock_is_per_user_and_address(client, staff, django_user_model):
    """One person's typos behind the office's shared address do not lock colleagues out."""
    django_user_model.objects.create_user("lee", password=PASSWORD, is_staff=True)
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, "kim", f"wrong-{attempt}")
    assert log_in(client, "kim", PASSWORD).status_code == 429
    assert logged_in(log_in(Client(), "lee", PASSWORD))  # same address, another user
    assert logged_in(log_in(Client(), "kim", PASSWORD, ip="198.51.100.7"))  # elsewhere


def test_a_successful_login_resets_the_count(client, staff):
    for attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        log_in(client, "kim", f"wrong-{attempt}")
    assert logged_in(log_in(client, "kim", PASSWORD))
    client.logout()
    for attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        assert log_in(client, "kim", f"again-{attempt}").status_code == 200
    assert logged_in(log_in(client, "kim", PASSWORD))


# ---------------------------------------------------------------- sessions and CSRF


def test_session_cookie_ends_with_the_browser_and_is_http_only(client, staff):
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE is True
    assert settings.SESSION_COOKIE_AGE <= 12 * 3600
    response = log_in(client, "kim", PASSWORD)
    assert logged_in(response)
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["max-age"] == "" and cookie["expires"] == ""  # a browser-session cookie
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"
    assert client.session.get_expire_at_browser_close()


def test_login_and_admin_posts_need_the_csrf_token(staff):
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("admin:login"), {"username": "kim", "password": PASSWORD})
    assert response.status_code == 403
    client.force_login(staff)
    response = client.post(reverse("admin:perfplan_plan_add"), {"fiscal_year": 2031})
    assert response.status_code == 403
    assert "django.middleware.csrf.CsrfViewMiddleware" in settings.MIDDLEWARE
    assert settings.CSRF_COOKIE_HTTPONLY is True


# ---------------------------------------------------------------- production settings


def production_env(**extra):
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "PERFPLAN_")) and key != "DATABASE_URL"
    }
    env.update(
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(64)[:64],
        DJANGO_ALLOWED_HOSTS="perfplan.example.go.kr",
        DJANGO_SETTINGS_MODULE="perfplan.settings",
        PYTHONWARNINGS="ignore",
    )
    env.update(extra)
    return env


def run(args, env):
    return subprocess.run(
        [sys.executable, *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_check_deploy_is_clean_in_production():
    from perfplan import libxlsxwriter

    env = production_env(PERFPLAN_CACHE="database")
    if libxlsxwriter.load() is None:  # a server without it says so (perfplan.W002)
        env["PERFPLAN_XLSX_ENGINE"] = "xlsxwriter"
    result = run(["manage.py", "check", "--deploy", "--fail-level", "DEBUG"], env)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues (0 silenced)." in output, output
    assert "WARNINGS" not in output and "?: (" not in output, output


def test_check_deploy_does_warn_without_production_settings():
    """The check above can fail: the development defaults are not fit for production."""
    env = production_env(DJANGO_DEBUG="1")
    result = run(["manage.py", "check", "--deploy"], env)
    output = result.stdout + result.stderr
    assert "security.W018" in output  # DEBUG on
    assert "security.W012" in output  # session cookie not secure


def test_check_deploy_warns_about_a_per_process_cache():
    """Several gunicorn processes with local-memory caches keep stale public pages."""
    result = run(["manage.py", "check", "--deploy"], production_env())
    output = result.stdout + result.stderr
    assert "perfplan.W001" in output and "PERFPLAN_CACHE=database" in output, output
    script = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.CACHES['default']['BACKEND'])"
    )
    shared = run(["-c", script], production_env(PERFPLAN_CACHE="database"))
    assert shared.stdout.strip() == "django.core.cache.backends.db.DatabaseCache", shared.stderr
    wrong = run(["-c", script], production_env(PERFPLAN_CACHE="memcached"))
    assert wrong.returncode != 0 and "PERFPLAN_CACHE must be" in wrong.stderr


def test_production_settings_are_secure():
    script = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps({k: getattr(s, k) for k in ("
        "'DEBUG', 'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'SECURE_SSL_REDIRECT', "
        "'SECURE_HSTS_SECONDS', 'SECURE_HSTS_INCLUDE_SUBDOMAINS', 'SESSION_EXPIRE_AT_BROWSER_CLOSE', "
        "'MIDDLEWARE', 'ALLOWED_HOSTS')}, default=str))"
    )
    result = run(["-c", script], production_env())
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values["DEBUG"] is False
    assert values["SESSION_COOKIE_SECURE"] and values["CSRF_COOKIE_SECURE"]
    assert values["SECURE_SSL_REDIRECT"] and values["SECURE_HSTS_INCLUDE_SUBDOMAINS"]
    assert values["SECURE_HSTS_SECONDS"] >= 31536000
    assert values["SESSION_EXPIRE_AT_BROWSER_CLOSE"] is True
    assert values["ALLOWED_HOSTS"] == ["perfplan.example.go.kr"]
    middleware = values["MIDDLEWARE"]
    assert middleware[1] == "whitenoise.middleware.WhiteNoiseMiddleware"
    assert middleware[-1] == "axes.middleware.AxesMiddleware"


def test_production_refuses_to_start_without_a_secret_key():
    env = production_env()
    del env["DJANGO_SECRET_KEY"]
    result = run(["manage.py", "check"], env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr
