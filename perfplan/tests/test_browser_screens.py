"""Issue 13's screens in a real browser: the change log reads as people read it, a forbidden
page is Korean inside the admin with a way back, and `make demo` run twice keeps the demo
(a publication made through the confirmation page included) and serves again.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
import urllib.request
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from django.utils import timezone, translation

from goals.tests.factories import make_plan
from indicators import locks
from indicators.models import Indicator, Result, ResultStatus
from indicators.tests.support import departments_of, indicators_of
from indicators.workflow import save_result, submit
from perfplan import roles
from perfplan.models import ChangeLogEntry, DepartmentAssignment

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "screens-browser-test-1"
MICROSECONDS = re.compile(r"\d{2}:\d{2}:\d{2}\.\d+")


@pytest.fixture
def office(transactional_db, django_user_model):
    roles.sync_role_groups(Group, Permission)  # a transactional test may start without them
    today = timezone.localdate()
    plan = make_plan(today.year, departments=2, goals=1, policy_goals=1, indicators=1)
    ours, theirs = departments_of(plan)
    [indicator] = indicators_of(plan, ours)
    Indicator.objects.filter(pk=indicator.pk).update(
        frequency="quarterly", aggregation="sum", annual_target=Decimal(100), unit="건"
    )
    period = f"Q{(today.month - 1) // 3 + 1}"
    assert locks.entry_open(plan, ours.pk, period, today)

    def user(name, role, departments=()):
        account = django_user_model.objects.create_user(
            name, password=PASSWORD, is_staff=True, first_name=name.title()
        )
        account.groups.add(Group.objects.get(name=role))
        for department in departments:
            DepartmentAssignment.objects.create(user=account, department=department)
        return account

    officer = user("officer", roles.OFFICER, [ours])
    return {
        "indicator": Indicator.objects.get(pk=indicator.pk),
        "period": period,
        "officer": officer,
        "auditor": user("auditor", roles.AUDITOR),
    }


@pytest.mark.browser
def test_the_change_log_shows_labels_names_and_local_time_not_codes(
    page, live_server, admin_login, office
):
    from playwright.sync_api import expect

    indicator, period, officer = office["indicator"], office["period"], office["officer"]
    save_result(officer, indicator, period, value=Decimal(42), expected_version=0)
    result = Result.objects.get(indicator=indicator, period=period)
    submit(officer, [result.pk])
    assert Result.objects.get(pk=result.pk).status == ResultStatus.SUBMITTED
    entry = ChangeLogEntry.objects.filter(action="submit").latest("sequence")

    admin_login(page, "auditor", PASSWORD)
    page.goto(f"{live_server.url}{reverse('admin:perfplan_changelogentry_changelist')}")
    expect(page.locator("#result_list")).to_be_visible()
    listing = page.locator("#result_list").inner_text()
    page.goto(
        f"{live_server.url}{reverse('admin:perfplan_changelogentry_change', args=[entry.pk])}"
    )
    detail = page.locator("#content").inner_text()

    with translation.override("ko"):
        submitted = str(ResultStatus.SUBMITTED.label)
        draft = str(ResultStatus.DRAFT.label)
    for text in (listing, detail):
        assert not MICROSECONDS.search(text), "times are shown without microseconds"
        for code in ("submitted", "draft", "True", "False", "None"):
            assert not re.search(rf"\b{code}\b", text), f"raw value {code!r} shown"
    assert submitted in detail and draft in detail  # the status change, in its labels
    local = timezone.localtime(entry.timestamp).strftime("%H:%M")
    assert local in detail  # Korean time (Asia/Seoul), not UTC
    assert page.locator("html").get_attribute("lang") == "ko"


@pytest.mark.browser
def test_a_forbidden_page_is_korean_inside_the_admin_with_a_way_back(
    page, live_server, admin_login, office
):
    admin_login(page, "officer", PASSWORD)
    home = f"{live_server.url}{reverse('admin:index')}"
    page.goto(home)
    forbidden = page.goto(f"{live_server.url}{reverse('admin:auth_user_changelist')}")
    assert forbidden.status == 403
    title = page.locator("#error-title").inner_text()
    assert re.search(r"[가-힣]", title) and "Forbidden" not in page.content()
    assert page.locator("#user-tools").count() == 1  # inside the admin's frame
    back = page.locator("#error-back")
    assert re.search(r"[가-힣]", back.inner_text())
    with page.expect_navigation():
        back.click()
    assert page.url.startswith(home)


# ---------------------------------------------------------------- make demo, twice


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(url, process, log, seconds=600):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"make demo stopped ({process.returncode}):\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(1)
    pytest.fail(f"make demo did not serve {url} in {seconds} s:\n{log.read_text()[-3000:]}")


def _start_demo(port, database, log):
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
        "PORT": str(port),
        "DJANGO_DEBUG": "1",
    }
    env.pop("PERFPLAN_TEST_DB_NAME", None)
    with log.open("w") as out:
        return subprocess.Popen(
            ["make", "demo", f"PORT={port}"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # the server and the worker die with the group
        )


def _stop(process):
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(process.pid, signal.SIGKILL)


@pytest.mark.browser
def test_make_demo_twice_keeps_a_publication_and_serves_again(page, tmp_path):
    from playwright.sync_api import expect

    from perfplan.management.commands.load_demo import DEMO_PASSWORD

    database = tmp_path / "demo.sqlite3"
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    year = timezone.localdate().year

    def log_in():
        page.context.clear_cookies()  # each run is a new visit
        page.goto(f"{base}/admin/login/")
        page.fill("#id_username", "planadmin")
        page.fill("#id_password", DEMO_PASSWORD)
        with page.expect_navigation():
            page.click("#login-form [type=submit]")
        assert "/admin/login/" not in page.url

    first_log = tmp_path / "first.log"
    demo = _start_demo(port, database, first_log)
    try:
        _wait_for(f"{base}/admin/login/", demo, first_log)
        log_in()
        page.goto(f"{base}/admin/perfplan/plan/")
        row = page.locator("#result_list tbody tr", has_text=str(year)).first
        row.locator("input.action-select").check()
        page.select_option("select[name=action]", "publish_selected")
        with page.expect_navigation():
            page.click("button[name=index]")
        # publishing asks first and says what changes once published
        expect(page.locator("#publish-consequences")).to_be_visible()
        with page.expect_navigation():
            page.click("#publish-confirmation [type=submit]")
        expect(page.locator(".messagelist li")).to_have_count(1)
    finally:
        _stop(demo)
    assert re.search(r"[가-힣]", first_log.read_text())

    second_log = tmp_path / "second.log"
    demo = _start_demo(port, database, second_log)
    try:
        _wait_for(f"{base}/admin/login/", demo, second_log)
        log_in()
        page.goto(f"{base}/admin/perfplan/plan/")
        row = page.locator("#result_list tbody tr", has_text=str(year)).first
        published = row.locator(".field-published_at").inner_text()
        assert re.search(r"\d{4}", published), "the publication was kept"
    finally:
        _stop(demo)
    kept = second_log.read_text()
    assert "demo-reset" in kept  # the second run left the demo and said how to start again
