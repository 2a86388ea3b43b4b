"""The all-department grid and the plan tables page at national size (issue 16, item 2): a
user who sees every department gets the grid one page of departments at a time, so no page
is over ~300 KB; the queries do not grow with the plan; the filters still apply and the
exports still hold every indicator.

The national plan (250 departments x 40 monthly indicators = 10,000, through the importer as
admins load plans, with a year of results in every review state) is built once for the
module inside one transaction rolled back at the end, next to a small plan of another year.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from goals.models import PlanDepartment
from goals.tests.factories import make_plan
from indicators.models import Indicator, IndicatorStanding, Result, ResultStatus
from indicators.views.grid import GRID_PAGE_ROWS
from perfplan import roles
from perfplan.models import DepartmentAssignment

pytestmark = pytest.mark.django_db

NATIONAL_YEAR, SMALL_YEAR = 2034, 2033
NATIONAL = {"departments": 250, "goals": 2, "policy_goals": 2, "indicators": 10}
SMALL = {"departments": 3, "goals": 1, "policy_goals": 2, "indicators": 3}
MAX_PAGE_BYTES = 300 * 1024
TODAY = date(NATIONAL_YEAR, 9, 20)
STATES = (
    ResultStatus.APPROVED,
    ResultStatus.SUBMITTED,
    ResultStatus.RETURNED,
    ResultStatus.DRAFT,
)


def fill_results(plan):
    """Monthly indicators with a result for each month of the year so far, in every state
    (submitted ones carry the reviewer's 승인 / 반려 buttons, the heaviest cells)."""
    indicators = list(Indicator.objects.in_plan(plan).order_by("pk"))
    Indicator.objects.in_plan(plan).update(
        frequency="monthly", aggregation="sum", annual_target=Decimal(1200)
    )
    months = [f"M{m:02d}" for m in range(1, 9)]
    Result.objects.bulk_create(
        Result(
            indicator=indicator,
            period=month,
            value=Decimal(90 + n % 30),
            status=STATES[(n + m) % len(STATES)],
            return_reason="증빙 부족" if STATES[(n + m) % len(STATES)] == "returned" else "",
        )
        for n, indicator in enumerate(indicators)
        for m, month in enumerate(months)
    )
    return len(indicators)


def user_of(role, name, departments=()):
    user = get_user_model().objects.create_user(name, is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    for department in departments:
        DepartmentAssignment.objects.create(user=user, department=department)
    client = Client()
    client.force_login(user)
    return client


def measure(client, url):
    client.get(url)  # warms the per-process caches alike for both plans
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries), response


@pytest.fixture(scope="module")
def national(django_db_setup, django_db_blocker):
    """Pages and exports measured at both sizes (the plan is too big to build per test)."""
    import indicators.views.screen as screen_module

    seen = {}
    with django_db_blocker.unblock(), transaction.atomic():
        roles.sync_role_groups(Group, Permission)
        small = make_plan(SMALL_YEAR, **SMALL)
        big = make_plan(NATIONAL_YEAR, **NATIONAL)
        seen["indicators"] = {SMALL_YEAR: fill_results(small), NATIONAL_YEAR: fill_results(big)}
        first_department = PlanDepartment.objects.filter(plan=big).order_by("position").first()
        clients = {
            "plan_admin": user_of(roles.PLAN_ADMIN, "np-admin"),
            "auditor": user_of(roles.AUDITOR, "np-auditor"),
        }
        original = screen_module.timezone.localdate
        screen_module.timezone.localdate = lambda *a, **k: TODAY if not a else original(*a, **k)
        try:
            for who, client in clients.items():
                for year in (SMALL_YEAR, NATIONAL_YEAR):
                    grid = reverse("tracking:my_department") + f"?year={year}"
                    tables = reverse(
                        "admin:perfplan_plan_tables",
                        args=[PlanDepartment.objects.filter(plan__fiscal_year=year)[0].plan_id],
                    )
                    seen[who, "grid", year] = measure(client, grid)
                    seen[who, "page2", year] = measure(client, grid + "&page=2")
                    seen[who, "tables", year] = measure(client, tables)
                    seen[who, "tables2", year] = measure(client, tables + "?page=2")
            plan_id = PlanDepartment.objects.filter(plan=big)[0].plan_id
            whole = clients["plan_admin"].get(
                reverse("admin:perfplan_plan_tables", args=[plan_id]) + "?page=all"
            )
            seen["tables_whole"] = whole.content.decode().count('<tr class="" data-department=')
            client = clients["plan_admin"]
            base = reverse("tracking:my_department") + f"?year={NATIONAL_YEAR}"
            seen["filtered"] = client.get(
                base + f"&department={first_department.department_id}"
            ).content.decode()
            seen["searched"] = client.get(base + "&q=지표 17-1-0-3").content.decode()
            seen["export"] = client.get(
                reverse("tracking:my_department_export") + f"?year={NATIONAL_YEAR}&format=csv"
            )
            seen["first_department"] = first_department.name
            from indicators.views.grid import department_counts
            from perfplan.scoping import restrict

            admin = get_user_model().objects.get(username="np-admin")
            seen["counts"] = (
                department_counts(big, restrict(Indicator.objects.in_plan(big), admin)),
                department_counts(big, None, whole_plan_of=admin),
            )
        finally:
            screen_module.timezone.localdate = original
        transaction.set_rollback(True)
    return seen


def html_of(response):
    return response.content.decode()


@pytest.mark.parametrize("who", ["plan_admin", "auditor"])
def test_the_all_department_grid_is_paged_under_300_kb(national, who):
    assert national["indicators"][NATIONAL_YEAR] == 10_000
    for key in ("grid", "page2"):
        _queries, response = national[who, key, NATIONAL_YEAR]
        html = html_of(response)
        assert len(response.content) <= MAX_PAGE_BYTES, (key, len(response.content))
        rows = html.count('data-row data-indicator="')
        assert 0 < rows <= GRID_PAGE_ROWS
        assert 'id="grid-pages"' in html
        assert 'data-total="10000"' in html
    first = html_of(national[who, "grid", NATIONAL_YEAR][1])
    second = html_of(national[who, "page2", NATIONAL_YEAR][1])
    assert re.findall(r'id="row-(\d+)"', first) != re.findall(r'id="row-(\d+)"', second)
    assert 'id="page-next"' in first and 'id="page-previous"' not in first
    assert 'id="page-previous"' in second


def test_the_whole_plans_pages_are_counted_from_the_standings_alike(national):
    """The whole plan's departments counted from the standings (one table) are the ones
    counted from the indicators up their hierarchy, in the same order."""
    from_indicators, from_standings = national["counts"]
    assert len(from_indicators) == NATIONAL["departments"]
    assert from_standings == from_indicators


@pytest.mark.parametrize("who", ["plan_admin", "auditor"])
@pytest.mark.parametrize("view", ["grid", "page2", "tables", "tables2"])
def test_queries_do_not_grow_with_the_plan(national, who, view):
    small, _response = national[who, view, SMALL_YEAR]
    large, _response = national[who, view, NATIONAL_YEAR]
    assert large <= small, (who, view, small, large)


def test_the_plan_tables_page_is_paged_under_300_kb(national):
    for key in ("tables", "tables2"):
        _queries, response = national["plan_admin", key, NATIONAL_YEAR]
        html = html_of(response)
        assert len(response.content) <= MAX_PAGE_BYTES, (key, len(response.content))
        assert 'id="plan-pages"' in html
        # one page of departments in both tables, and table 가's 계 row on each
        departments = html.count('<tr class="" data-department=')
        assert 0 < departments < NATIONAL["departments"]
        assert html.count('<tr class="total" data-department=') == 1
        assert html.count("data-goal=") == departments * NATIONAL["goals"]


def test_the_whole_plan_tables_on_one_page_when_asked_to_print_them(national):
    assert national["tables_whole"] == NATIONAL["departments"]


def test_filters_still_apply_and_exports_hold_everything(national):
    department = national["filtered"]
    assert 'data-row data-indicator="' in department
    assert department.count('class="group-row"') == 1  # the department asked for
    assert national["first_department"] in department
    searched = national["searched"]
    # filtered before paging: department 17's indicator is on the first page
    assert 0 < searched.count('data-row data-indicator="') < GRID_PAGE_ROWS
    assert ">지표 17-1-0-3</a>" in searched and "부서017" in searched
    export = national["export"]
    assert export.status_code == 200
    text = b"".join(export.streaming_content if export.streaming else [export.content])
    rows = list(csv.reader(io.StringIO(text.decode("utf-8-sig"))))
    names = {cell for row in rows for cell in row if re.fullmatch(r"지표 \d+-\d+-\d+-\d+", cell)}
    assert len(names) == 10_000


def test_a_status_filter_pages_over_the_matching_indicators(client, plan_admin, monkeypatch):
    """Status is computed: the pages are made of the indicators whose (current) standing has
    it, so no page of a filtered grid is empty while another holds the matches."""
    from indicators.tests.support import freeze_today

    monkeypatch.setattr("indicators.views.grid.GRID_PAGE_ROWS", 2)
    freeze_today(monkeypatch, date(SMALL_YEAR, 8, 20))
    plan = make_plan(SMALL_YEAR, departments=4, goals=1, policy_goals=1, indicators=2)
    indicators = list(Indicator.objects.in_plan(plan).order_by("pk"))
    Indicator.objects.in_plan(plan).update(
        frequency="quarterly", aggregation="sum", annual_target=Decimal(100)
    )
    # only the last department's indicators have results (60 of 50 so far: achieved)
    Result.objects.bulk_create(
        Result(indicator=indicator, period=period, value=Decimal(30))
        for indicator in indicators[-2:]
        for period in ("Q1", "Q2")
    )
    # written in bulk here, not by the workflow that marks the standings to compute again
    IndicatorStanding.objects.filter(plan=plan).update(as_of=None)
    client.force_login(plan_admin)
    url = reverse("tracking:my_department") + f"?year={SMALL_YEAR}&status=achieved"
    html = client.get(url).content.decode()
    shown = re.findall(r'data-row data-indicator="(\d+)" data-status="(\w+)"', html)
    assert shown == [(str(i.pk), "achieved") for i in indicators[-2:]]
    assert 'id="grid-pages"' not in html  # one page: the two that match
    everything = client.get(reverse("tracking:my_department") + f"?year={SMALL_YEAR}")
    assert 'id="grid-pages"' in everything.content.decode()  # four pages unfiltered
