"""The report's pages: the link from the admin home for the roles that read the report, a
constant number of queries whatever the plan's size, scoping of the whole-plan and
department reports, and a text written through the page's form."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from indicators.tests.support import departments_of, indicators_of, make_user, tracking_plan
from perfplan import roles
from reports.models import ResultText

pytestmark = pytest.mark.django_db


def _client(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    ("role", "sees"),
    [
        (roles.PLAN_ADMIN, True),
        (roles.OFFICER, True),
        (roles.REVIEWER, True),
        (roles.AUDITOR, True),
        (None, False),
    ],
)
def test_admin_home_links_the_report_for_roles_that_read_it(django_user_model, role, sees):
    plan = tracking_plan()
    user = make_user(django_user_model, "someone", role, departments_of(plan)[:1])
    client = _client(user)
    html = client.get(reverse("admin:index")).content.decode()
    assert ('id="link-results-report"' in html) is sees
    assert client.get(reverse("reports:report")).status_code == (200 if sees else 403)


def _report_queries(django_user_model, size, username):
    plan = tracking_plan(2031 + size, departments=2 * size, goals=2, policy_goals=2, indicators=3)
    user = make_user(django_user_model, username, roles.PLAN_ADMIN)
    client = _client(user)
    client.get(reverse("admin:index"))  # the session and permissions, read once
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("reports:report"), {"year": plan.fiscal_year})
    assert response.status_code == 200
    assert response.content.decode().count('class="report-department"') == 2 * size
    return len(queries)


def test_report_page_queries_do_not_grow_with_the_plan(django_user_model):
    small = _report_queries(django_user_model, 1, "admin_small")
    large = _report_queries(django_user_model, 6, "admin_large")  # 6 times the indicators
    assert small == large <= 30


def test_officer_sees_their_departments_and_no_other(django_user_model):
    plan = tracking_plan()
    a, b = departments_of(plan)
    officer = make_user(django_user_model, "officer", roles.OFFICER, [a])
    client = _client(officer)
    html = client.get(reverse("reports:report"), {"year": plan.fiscal_year}).content.decode()
    assert indicators_of(plan, a)[0].name in html
    assert indicators_of(plan, b)[0].name not in html
    other = plan.departments.get(department=b)
    response = client.get(
        reverse("reports:report"), {"year": plan.fiscal_year, "department": other.pk}
    )
    assert response.status_code == 404
    assert client.get(reverse("reports:report"), {"year": 1999}).status_code == 404


def test_officer_writes_a_text_through_the_form(django_user_model):
    plan = tracking_plan()
    a, _b = departments_of(plan)
    indicator = indicators_of(plan, a)[0]
    officer = make_user(django_user_model, "officer", roles.OFFICER, [a])
    client = _client(officer)
    url = reverse("reports:text", args=[indicator.pk])
    page = client.get(url).content.decode()
    assert 'id="save-text"' in page and 'name="version" value="0"' in page
    client.post(
        url,
        {"action": "save", "version": "0", "shortfall_reason": "지연", "improvement_plan": "점검"},
    )
    text = ResultText.objects.get(indicator=indicator)
    assert (text.shortfall_reason, text.improvement_plan, text.entered_by) == (
        "지연",
        "점검",
        officer,
    )
    page = client.get(url).content.decode()
    assert 'id="submit-text"' in page and 'id="approve-text"' not in page
    client.post(url, {"action": "submit", "version": str(text.version)})
    text.refresh_from_db()
    assert text.status == "submitted"


def test_during_the_year_the_report_says_its_figures_are_so_far(django_user_model, monkeypatch):
    from datetime import date

    from indicators.tests.support import freeze_today

    plan = tracking_plan()
    freeze_today(monkeypatch, date(plan.fiscal_year, 4, 5))
    user = make_user(django_user_model, "planadmin", roles.PLAN_ADMIN)
    html = _client(user).get(reverse("reports:report"), {"year": plan.fiscal_year}).content
    assert f"{plan.fiscal_year}-04-05".encode() in html
    freeze_today(monkeypatch, date(plan.fiscal_year + 1, 1, 5))
    html = _client(user).get(reverse("reports:report"), {"year": plan.fiscal_year}).content
    assert f"{plan.fiscal_year}-04-05".encode() not in html
    assert b'id="report-cover"' in html


def test_tracking_overview_links_the_years_report(django_user_model):
    plan = tracking_plan()
    user = make_user(django_user_model, "auditor", roles.AUDITOR)
    html = _client(user).get(reverse("tracking:overview"), {"year": plan.fiscal_year}).content
    link = f'{reverse("reports:report")}?year={plan.fiscal_year}"'.encode()
    assert b'id="link-results-report"' in html and link in html


def test_a_large_plan_is_shown_a_page_of_departments_at_a_time(django_user_model, monkeypatch):
    from reports import report as report_module
    from reports.report import build_report

    plan = tracking_plan(2040, departments=4, goals=1, policy_goals=1, indicators=3)
    admin = make_user(django_user_model, "admin_pages", roles.PLAN_ADMIN)
    monkeypatch.setattr(report_module, "PAGE_INDICATORS", 6)  # two departments a page
    whole = build_report(plan, admin)
    paged = build_report(plan, admin, page=2)
    assert paged.page == 2 and len(paged.pages) == 2
    names = [s.department.name for s in paged.shown]
    assert names == [s.department.name for s in whole.departments[2:]]
    assert not paged.departments[0].lines and paged.shown[0].lines
    # the summaries and the missing reasons are the whole plan's (from the standings)
    assert paged.summary.counts == whole.summary.counts
    assert paged.summary.mean_rate_text == whole.summary.mean_rate_text
    for a, b in zip(paged.departments, whole.departments, strict=True):
        assert a.summary.counts == b.summary.counts
    assert [m.indicator.pk for m in paged.missing] == [m.indicator.pk for m in whole.missing]
    assert paged.aggregations == whole.aggregations and paged.has_sample == whole.has_sample

    html = _client(admin).get(reverse("reports:report"), {"year": 2040}).content.decode()
    assert html.count('class="report-department"') == 2 and 'id="report-pager"' in html
    assert f"page=2#dept-{whole.departments[2].department.pk}" in html  # contents link
    everything = _client(admin).get(reverse("reports:report"), {"year": 2040, "page": "all"})
    assert everything.content.decode().count('class="report-department"') == 4
