"""Shared pytest fixtures; the browser ones drive Debian's Chromium through Playwright.

Browser tests take ``page`` (or ``browser``) with pytest-django's ``live_server`` and are
marked ``@pytest.mark.browser``; an unmarked test that uses the browser fails at setup.

Environment:
  PERFPLAN_CHROMIUM=/path          the Chromium to launch (default /usr/bin/chromium).
  PERFPLAN_REQUIRE_BROWSER=1       a missing or broken browser fails the browser tests
                                   (CI sets it); otherwise they are skipped with the reason.
  PERFPLAN_BROWSER_TIMEOUT_MS=N    Playwright's default timeout for actions and waits.
  PERFPLAN_REQUIRE_LIBREOFFICE=1   a missing LibreOffice (soffice) or poppler-utils fails the
                                   tests that print a workbook to PDF (CI sets it); otherwise
                                   they are skipped with the reason.
  PERFPLAN_REQUIRE_LIBXLSXWRITER=1 a missing libxlsxwriter (Debian: libxlsxwriter4) fails the
                                   tests that write workbooks with each engine (CI sets it).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM_DEFAULT = "/usr/bin/chromium"
# `playwright install` cannot download here: Debian's Chromium, with these flags.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
BROWSER_FIXTURES = ("browser", "page")
PLAN_ADMIN_PASSWORD = "plan-admin-browser-test"


def chromium_path():
    return os.environ.get("PERFPLAN_CHROMIUM") or CHROMIUM_DEFAULT


def browser_required():
    return os.environ.get("PERFPLAN_REQUIRE_BROWSER") == "1"


def _browser_unavailable(reason):
    """Skip the browser test, or fail it when the environment says a browser is required."""
    if browser_required():
        pytest.fail(
            f"{reason} (PERFPLAN_REQUIRE_BROWSER=1: browser tests must run here)", pytrace=False
        )
    pytest.skip(f"browser test skipped: {reason}")


# ---------------------------------------------------------------- hooks


def pytest_runtest_setup(item):
    uses_browser = any(name in item.fixturenames for name in BROWSER_FIXTURES)
    if uses_browser and item.get_closest_marker("browser") is None:
        pytest.fail(
            f"{item.nodeid} uses the browser: mark it @pytest.mark.browser "
            "so that `-m browser` / `-m 'not browser'` select it",
            pytrace=False,
        )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    # The page fixture's teardown reads this to keep a screenshot of a failed test.
    setattr(item, f"_report_{report.when}", report)
    return report


# ---------------------------------------------------------------- browser


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium (a playwright.sync_api.Browser) for the whole session."""
    path = chromium_path()
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        _browser_unavailable(
            f"no Chromium executable at {path} (PERFPLAN_CHROMIUM names another one)"
        )
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        _browser_unavailable(f"the playwright package is not installed ({exc})")

    # Playwright's sync API runs an event loop in this thread, so Django's async-unsafe
    # check would refuse the ORM calls tests make between browser steps. Only for the
    # sessions that start the browser; restored when it closes.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    try:
        try:
            chromium = playwright.chromium.launch(
                executable_path=path, headless=True, args=CHROMIUM_ARGS
            )
        except PlaywrightError as exc:
            first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
            _browser_unavailable(f"Chromium at {path} did not start: {first_line}")
        try:
            yield chromium
        finally:
            chromium.close()
    finally:
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser, request, tmp_path_factory):
    """A fresh tab in its own context (no cookies shared between tests), downloads allowed.

    On a failed test the screenshot and HTML of the page are kept (the path is printed), as
    are the requests the server answered with a 5xx.
    """
    context = browser.new_context(accept_downloads=True, locale="ko-KR")
    timeout = int(os.environ.get("PERFPLAN_BROWSER_TIMEOUT_MS", "20000"))
    context.set_default_timeout(timeout)
    tab = context.new_page()
    server_errors = []

    def note_server_error(response):
        if response.status >= 500:
            server_errors.append(f"{response.status} {response.request.method} {response.url}")

    tab.on("response", note_server_error)
    try:
        yield tab
    finally:
        report = getattr(request.node, "_report_call", None)
        if report is not None and report.failed:
            # A timeout waiting for an element is often a 500 page: say so (the traceback
            # is in the captured django.request log).
            for line in server_errors:
                print(f"{request.node.nodeid}: the server answered {line}")
            if not tab.is_closed():
                _keep_failure_artifacts(tab, request.node, tmp_path_factory)
        context.close()


def _keep_failure_artifacts(tab, node, tmp_path_factory):
    folder = tmp_path_factory.mktemp("browser-failure")
    try:
        tab.screenshot(path=str(folder / "page.png"), full_page=True)
        Path(folder / "page.html").write_text(tab.content(), encoding="utf-8")
    except Exception as exc:  # the page may be gone; the test's own error matters more
        print(f"{node.nodeid}: could not keep the failed page: {exc}")
        return
    print(f"{node.nodeid}: failed at {tab.url}; screenshot and HTML in {folder}")


@pytest.fixture
def admin_login(live_server):
    """log_in(page, username, password): sign in through the admin login form.

    Returns once the admin has accepted the login (the page has left the login URL); fails
    the test at once when the form refuses it.
    """
    from django.urls import reverse

    login_path = reverse("admin:login")

    def log_in(tab, username, password):
        tab.goto(f"{live_server.url}{login_path}")
        tab.fill("#id_username", username)
        tab.fill("#id_password", password)
        with tab.expect_navigation():
            tab.click("#login-form [type=submit]")
        if login_path in tab.url:
            pytest.fail(f"the admin login form refused {username!r} (staff? password?)")

    return log_in


# ---------------------------------------------------------------- LibreOffice


@pytest.fixture(scope="session")
def soffice():
    """The path of LibreOffice's soffice, for tests that print a workbook to PDF (and read
    it with poppler-utils' pdftotext and pdfinfo). Skipped when missing, failed in CI."""
    missing = [name for name in ("soffice", "pdftotext", "pdfinfo") if not shutil.which(name)]
    if missing:
        reason = (
            f"not installed: {', '.join(missing)} (Debian: libreoffice-calc-nogui, poppler-utils)"
        )
        if os.environ.get("PERFPLAN_REQUIRE_LIBREOFFICE") == "1":
            pytest.fail(f"{reason} (PERFPLAN_REQUIRE_LIBREOFFICE=1: these tests must run here)")
        pytest.skip(f"PDF print test skipped: {reason}")
    return shutil.which("soffice")


# ---------------------------------------------------------------- cache


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache: a rolled-back test's database may hand the same
    ids out again, and what an earlier test kept must not answer for it."""
    from django.core.cache import cache

    cache.clear()


# ---------------------------------------------------------------- workbook engines


@pytest.fixture(params=["libxlsxwriter", "xlsxwriter"])
def xlsx_engine(request, settings):
    """Each library that writes workbooks in turn (PERFPLAN_XLSX_ENGINE, perfplan.xlsx);
    libxlsxwriter is skipped where it is not installed, failed in CI."""
    from perfplan.xlsx import xlsx_engine as engine_in_use

    settings.PERFPLAN_XLSX_ENGINE = request.param
    try:
        engine_in_use()
    except RuntimeError as exc:
        if os.environ.get("PERFPLAN_REQUIRE_LIBXLSXWRITER") == "1":
            pytest.fail(f"{exc} (PERFPLAN_REQUIRE_LIBXLSXWRITER=1: it must be)", pytrace=False)
        pytest.skip(f"{exc} (Debian: libxlsxwriter4)")
    return request.param


# ---------------------------------------------------------------- users


@pytest.fixture
def plan_admin_user(db, django_user_model):
    """A staff user in the plan-admin group (perfplan.roles.PLAN_ADMIN) with its permissions.

    The group is (re)created here: a transactional test's flush removes the groups the
    roles migration made. The password is PLAN_ADMIN_PASSWORD, also on `user.raw_password`.
    """
    from django.contrib.auth.models import Group, Permission
    from django.db.models import Q

    from perfplan.roles import PLAN_ADMIN, ROLE_PERMISSIONS

    wanted = Q(pk__in=[])
    for app_label, codename in ROLE_PERMISSIONS[PLAN_ADMIN]:
        wanted |= Q(content_type__app_label=app_label, codename=codename)
    group, _created = Group.objects.get_or_create(name=PLAN_ADMIN)
    # As the roles sync does: a permission whose model does not exist yet is left out.
    group.permissions.set(Permission.objects.filter(wanted))
    user = django_user_model.objects.create_user(
        username="planadmin-test", password=PLAN_ADMIN_PASSWORD, is_staff=True
    )
    user.groups.add(group)
    user.raw_password = PLAN_ADMIN_PASSWORD
    return user
