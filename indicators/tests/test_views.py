"""Staff views of tracking: my department's grid, an indicator's page, the plan overview.

Every role, department scoping (another department's id is a 404), saving through the
workflow with its refusals, filters kept in the URL, exports of what is on screen, and a
query count that does not grow with the number of indicators.

"Today" is fixed (2031-04-05: the first quarter has ended and is still open for entry) so
that nothing depends on the day the tests run.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from goals.models import StrategicGoal
from goals.tests.factories import make_plan
from indicators.models import EntryException, Evidence, Indicator, Result, ResultStatus
from indicators.periods import period_label
from perfplan import roles
from perfplan.money import budget_shares
from perfplan.tests.korean import korean_catalogue, untranslated

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

PNG = bytes.fromhex("89504E470D0A1A0A") + b"\x00" * 32


# ---------------------------------------------------------------- fixtures


@pytest.fixture
def mine(plan, depts):
    """The officer's department's two indicators; the second is lower-is-better, latest."""
    first, second = indicators_of(plan, depts[0])
    Indicator.objects.filter(pk=second.pk).update(
        direction="lower", aggregation="latest", annual_target=Decimal(10)
    )
    second.refresh_from_db()
    return first, second


def grid(client, query=""):
    response = client.get(reverse("tracking:my_department") + query)
    assert response.status_code == 200
    return response, response.content.decode()


def input_tag(html, indicator, period):
    match = re.search(
        rf'<input class="cell-input"[^>]*id="cell-{indicator.pk}-{period}"[^>]*>', html
    )
    assert match, f"no cell for {indicator} {period}"
    return match.group(0)


def shown_indicators(response):
    return [line.row.indicator.pk for group in response.context["groups"] for line in group.rows]


# ---------------------------------------------------------------- navigation and roles


def test_admin_home_links_to_the_views(client, officer, django_user_model):
    client.force_login(officer)
    html = client.get(reverse("admin:index")).content.decode()
    assert 'id="tracking-module"' in html
    assert f'href="{reverse("tracking:my_department")}"' in html
    assert f'href="{reverse("tracking:overview")}"' in html
    nobody = make_user(django_user_model, "nobody")
    client.force_login(nobody)
    assert 'id="tracking-module"' not in client.get(reverse("admin:index")).content.decode()


def test_a_staff_user_without_a_role_is_refused(client, django_user_model, plan):
    client.force_login(make_user(django_user_model, "nobody"))
    for name in ("tracking:my_department", "tracking:overview", "tracking:my_department_export"):
        assert client.get(reverse(name)).status_code == 403


def test_views_need_a_staff_login(client, plan):
    response = client.get(reverse("tracking:my_department"))
    assert response.status_code == 302 and reverse("admin:login") in response["Location"]


def test_officer_sees_and_enters_only_their_department(client, officer, mine, theirs):
    client.force_login(officer)
    response, html = grid(client)
    assert shown_indicators(response) == [i.pk for i in mine]
    assert "readonly" not in input_tag(html, mine[0], "Q1")
    assert 'data-status="missing"' in html  # Q1 has ended without a result
    assert theirs[0].name not in html


def test_reviewer_sees_their_department_read_only(client, reviewer, mine, theirs):
    client.force_login(reviewer)
    response, html = grid(client)
    assert shown_indicators(response) == [i.pk for i in mine]
    assert "readonly" in input_tag(html, mine[0], "Q1")
    assert 'id="keys-help"' not in html
    outcome = save_json(
        client, [{"indicator": mine[0].pk, "period": "Q1", "value": "5", "version": 0}]
    )
    assert outcome.json()["cells"][0]["ok"] is False
    assert not Result.objects.exists()


def test_auditor_sees_every_department_and_changes_nothing(client, auditor, mine, theirs):
    client.force_login(auditor)
    response, html = grid(client)
    assert set(shown_indicators(response)) == {i.pk for i in [*mine, *theirs]}
    assert "readonly" in input_tag(html, theirs[0], "Q1")
    outcome = save_json(
        client, [{"indicator": theirs[0].pk, "period": "Q1", "value": "5", "version": 0}]
    )
    assert outcome.json()["cells"][0]["ok"] is False
    assert not Result.objects.exists()


def test_plan_admin_enters_any_department(client, plan_admin, mine, theirs):
    client.force_login(plan_admin)
    response, html = grid(client)
    assert set(shown_indicators(response)) == {i.pk for i in [*mine, *theirs]}
    assert "readonly" not in input_tag(html, theirs[0], "Q1")
    outcome = save_json(
        client, [{"indicator": theirs[0].pk, "period": "Q1", "value": "5", "version": 0}]
    )
    assert outcome.json()["cells"][0]["ok"] is True


def test_another_departments_ids_are_404(client, officer, mine, theirs):
    client.force_login(officer)
    assert client.get(reverse("tracking:indicator", args=[mine[0].pk])).status_code == 200
    assert client.get(reverse("tracking:indicator", args=[theirs[0].pk])).status_code == 404
    assert client.get(reverse("tracking:cell", args=[theirs[0].pk, "Q1"])).status_code == 404
    assert client.get(reverse("tracking:cell", args=[mine[0].pk, "M01"])).status_code == 404
    assert client.get(reverse("tracking:indicator", args=[999999])).status_code == 404


# ---------------------------------------------------------------- saving


def test_saving_cells_computes_status_and_achievement(client, officer, mine):
    client.force_login(officer)
    higher, lower = mine
    body = save_json(
        client,
        [
            {"indicator": higher.pk, "period": "Q1", "value": "30", "version": 0},
            {"indicator": lower.pk, "period": "Q1", "value": "12", "version": 0},
        ],
    ).json()
    assert body["ok"] is True
    assert [c["value"] for c in body["cells"]] == ["30", "12"]
    rows = body["rows"]
    # 30 against a year-to-date target of 25 (100 pro rata); 10 ÷ 12 for lower-is-better
    assert (rows[str(higher.pk)]["rate"], rows[str(higher.pk)]["status"]) == ("120.00%", "achieved")
    assert (rows[str(lower.pk)]["rate"], rows[str(lower.pk)]["status"]) == ("83.33%", "behind")
    assert 'data-actual-points="1"' in rows[str(higher.pk)]["sparkline"]
    result = Result.objects.get(indicator=higher, period="Q1")
    assert (result.value, result.entered_by, result.status) == (30, officer, ResultStatus.DRAFT)
    _response, html = grid(client)
    assert 'value="30"' in input_tag(html, higher, "Q1")
    assert f'id="row-{lower.pk}" data-row data-indicator="{lower.pk}" data-status="behind"' in html


def test_values_are_read_as_korean_documents_write_them(client, officer, mine):
    client.force_login(officer)
    body = save_json(
        client, [{"indicator": mine[0].pk, "period": "Q1", "value": "1,234.5", "version": 0}]
    ).json()
    assert body["cells"][0]["value"] == "1,234.5"
    body = save_json(
        client, [{"indicator": mine[0].pk, "period": "Q2", "value": "열둘", "version": 0}]
    ).json()
    assert body["cells"][0]["ok"] is False and "열둘" in body["cells"][0]["error"]
    assert not Result.objects.filter(period="Q2").exists()


def test_a_stale_version_is_refused_with_the_newer_value(client, officer, mine):
    client.force_login(officer)
    save_json(client, [{"indicator": mine[0].pk, "period": "Q1", "value": "30", "version": 0}])
    # someone else's copy was loaded before the result existed (version 0)
    body = save_json(
        client, [{"indicator": mine[0].pk, "period": "Q1", "value": "40", "version": 0}]
    ).json()
    cell = body["cells"][0]
    assert cell["ok"] is False
    assert cell["current"] == "30" and cell["version"] == 1
    assert "30" in cell["error"]
    assert Result.objects.get(indicator=mine[0], period="Q1").value == 30


def test_a_closed_period_is_refused_inline(client, officer, mine, monkeypatch):
    freeze_today(monkeypatch, date(YEAR, 5, 1))  # Q1's deadline (10 April) has passed
    client.force_login(officer)
    _response, html = grid(client)
    tag = input_tag(html, mine[0], "Q1")
    # the reason is written once on the page, the cell points to it
    lock = re.search(r'aria-describedby="(lock-\w+)"', tag).group(1)
    assert "readonly" in tag and re.search(rf'<li id="{lock}">[^<]*2031-04-10', html)
    body = save_json(
        client, [{"indicator": mine[0].pk, "period": "Q1", "value": "30", "version": 0}]
    ).json()
    assert body["cells"][0]["ok"] is False and "2031-04-10" in body["cells"][0]["error"]
    assert not Result.objects.exists()
    # an exception opens it again
    EntryException.objects.create(
        plan=mine[0].policy_goal.strategic_goal.plan_department.plan,
        department=mine[0].policy_goal.strategic_goal.plan_department.department,
        period="Q1",
        open_until=date(YEAR, 5, 15),
        reason="late data",
    )
    _response, html = grid(client)
    assert "readonly" not in input_tag(html, mine[0], "Q1")
    body = save_json(
        client, [{"indicator": mine[0].pk, "period": "Q1", "value": "30", "version": 0}]
    ).json()
    assert body["cells"][0]["ok"] is True


def test_another_departments_indicator_cannot_be_saved(client, officer, theirs):
    client.force_login(officer)
    body = save_json(
        client, [{"indicator": theirs[0].pk, "period": "Q1", "value": "1", "version": 0}]
    ).json()
    assert body["cells"][0]["ok"] is False
    assert not Result.objects.exists()


def test_saving_a_value_keeps_the_note(client, officer, mine):
    client.force_login(officer)
    response = client.post(
        reverse("tracking:save"),
        {
            "indicator": mine[0].pk,
            "period": "Q1",
            "value": "30",
            "note": "현장 점검 결과",
            "version": 0,
        },
        HTTP_X_REQUESTED_WITH="fetch",
    )
    assert response.json()["ok"] is True
    save_json(client, [{"indicator": mine[0].pk, "period": "Q1", "value": "31", "version": 1}])
    result = Result.objects.get(indicator=mine[0], period="Q1")
    assert (result.value, result.note) == (31, "현장 점검 결과")


def test_submitted_results_are_read_only_in_the_grid(client, officer, mine):
    Result.objects.create(
        indicator=mine[0], period="Q1", value=30, status=ResultStatus.SUBMITTED, entered_by=officer
    )
    client.force_login(officer)
    _response, html = grid(client)
    assert "readonly" in input_tag(html, mine[0], "Q1")
    body = save_json(
        client, [{"indicator": mine[0].pk, "period": "Q1", "value": "31", "version": 1}]
    ).json()
    assert body["cells"][0]["ok"] is False


def test_sample_data_is_marked(client, officer, mine):
    Result.objects.create(indicator=mine[0], period="Q1", value=30, is_sample=True)
    client.force_login(officer)
    _response, html = grid(client)
    row = re.search(rf'<tr id="row-{mine[0].pk}".*?</tr>', html, re.S).group(0)
    assert 'class="is-sample"' in row and 'class="sample-badge"' in row
    other = re.search(rf'<tr id="row-{mine[1].pk}".*?</tr>', html, re.S).group(0)
    assert "sample-badge" not in other
    assert 'id="sample-note"' in html
    page = client.get(reverse("tracking:indicator", args=[mine[0].pk])).content.decode()
    assert 'id="sample-note"' in page


def test_grid_cells_escape_what_people_typed(client, reviewer, mine):
    """The cells are written by the tracking_grid tag: names and reasons escaped as the
    template escapes them."""
    Indicator.objects.filter(pk=mine[0].pk).update(name='민원 <b>"처리"</b> & 회신\'율')
    Result.objects.create(
        indicator=mine[0],
        period="Q1",
        value=30,
        status=ResultStatus.RETURNED,
        return_reason="<script>alert(1)</script> 증빙 & 사유",
    )
    Result.objects.create(indicator=mine[1], period="Q1", value=5, status=ResultStatus.SUBMITTED)
    client.force_login(reviewer)
    _response, html = grid(client)
    cell = input_tag(html, mine[0], "Q1")
    assert f'aria-labelledby="name-{mine[0].pk} period-Q1"' in cell
    assert ">민원 &lt;b&gt;&quot;처리&quot;&lt;/b&gt; &amp; 회신&#x27;율</a>" in html
    assert "<script>alert(1)" not in html
    assert (
        f'<span class="return-reason" id="reason-{mine[0].pk}-Q1" '
        'title="&lt;script&gt;alert(1)&lt;/script&gt; 증빙 &amp; 사유">'
    ) in html
    assert f'id="approve-{mine[1].pk}-Q1"' in html  # a reviewer's buttons on a submitted cell
    assert f'id="return-form-{mine[1].pk}-Q1"' in html
    assert reverse("tracking:cell", args=[mine[1].pk, "Q1"]) in html


# ---------------------------------------------------------------- filters in the URL


def test_filters_are_in_the_url(client, plan_admin, plan, depts, mine, theirs):
    Result.objects.create(indicator=mine[0], period="Q1", value=30)  # achieved
    Indicator.objects.filter(pk=theirs[1].pk).update(
        name="민원처리 기간 단축도", frequency="monthly"
    )
    client.force_login(plan_admin)

    def shown(query):
        return set(shown_indicators(grid(client, query)[0]))

    assert shown(f"?department={depts[1].pk}") == {i.pk for i in theirs}
    assert shown("?status=achieved") == {mine[0].pk}
    assert shown("?status=missing") == {mine[1].pk, theirs[0].pk, theirs[1].pk}
    assert shown("?direction=lower") == {mine[1].pk}
    assert shown("?q=민원처리") == {theirs[1].pk}
    assert shown("?frequency=monthly") == {theirs[1].pk}
    goal = theirs[0].policy_goal.strategic_goal
    assert shown(f"?strategic_goal={goal.pk}") == {i.pk for i in theirs}
    assert shown(f"?policy_goal={mine[0].policy_goal_id}") == {i.pk for i in mine}
    # a period shows only its column, for the indicators that have it
    response, html = grid(client, "?period=Q2")
    assert set(shown_indicators(response)) == {mine[0].pk, mine[1].pk, theirs[0].pk}
    assert f'id="cell-{mine[0].pk}-Q2"' in html and f'id="cell-{mine[0].pk}-Q1"' not in html
    # the form shows the state it was given, so the URL can be bookmarked and shared
    _response, html = grid(client, f"?department={depts[1].pk}&status=missing&q=민원")
    assert f'<option value="{depts[1].pk}" selected>' in html
    assert '<option value="missing" selected>' in html
    assert 'name="q" id="id_q" value="민원"' in html
    # exports follow the same URL
    assert f"department={depts[1].pk}" in re.search(r'id="export-xlsx" href="([^"]+)"', html).group(
        1
    )


def test_a_filter_on_another_department_shows_nothing(client, officer, depts, mine, theirs):
    client.force_login(officer)
    response, html = grid(client, f"?department={depts[1].pk}")
    assert shown_indicators(response) == []
    assert 'id="filter-errors"' in html
    assert theirs[0].name not in html
    response, _html = grid(client, f"?strategic_goal={theirs[0].policy_goal.strategic_goal_id}")
    assert shown_indicators(response) == []


def test_year_picks_the_plan(client, plan_admin, plan, mine):
    other = tracking_plan(YEAR + 1, departments=1, indicators=1)
    client.force_login(plan_admin)
    assert set(shown_indicators(grid(client)[0])) >= {i.pk for i in mine}  # today's year
    response, _html = grid(client, f"?year={YEAR + 1}")
    assert response.context["screen"].plan == other
    assert shown_indicators(response) == [
        i.pk for d in departments_of(other) for i in indicators_of(other, d)
    ]
    response, _html = grid(client, "?year=1999")
    assert shown_indicators(response) == []


# ---------------------------------------------------------------- exports


def test_grid_export_is_what_is_on_screen_and_escapes_formulas(client, officer, mine, theirs):
    Indicator.objects.filter(pk=mine[0].pk).update(name='=HYPERLINK("http://x","클릭")')
    Result.objects.create(indicator=mine[0], period="Q1", value=Decimal("1234.5"), note="-메모")
    Result.objects.create(indicator=mine[1], period="Q1", value=12)
    client.force_login(officer)
    url = reverse("tracking:my_department_export")

    response = client.get(url + "?format=xlsx")
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).worksheets[0]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    header = rows[0]
    assert len(rows) == 3  # the officer's two indicators only
    name_col = header.index(korean("performance indicator"))
    q1_col = header.index(korean_period("Q1"))
    status_col = header.index(korean("status"))
    assert rows[1][name_col] == '\'=HYPERLINK("http://x","클릭")'
    assert rows[1][q1_col] == 1234.5
    assert rows[2][q1_col] == 12
    with translation.override("ko"):
        from indicators.tracking.rules import STATUS_LABELS

        assert rows[2][status_col] == str(STATUS_LABELS["behind"])

    response = client.get(url + "?format=csv&direction=lower")
    assert response["Content-Type"].startswith("text/csv")
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    lines = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert (
        len(lines) == 2
        and lines[1][lines[0].index(korean("performance indicator"))] == mine[1].name
    )

    response = client.get(url + "?format=csv")
    text = response.content.decode("utf-8-sig")
    assert "'=HYPERLINK" in text and "\n=HYPERLINK" not in text and ",=HYPERLINK" not in text
    assert theirs[0].name not in text


def test_overview_export_has_departments_goals_and_risks(client, plan_admin, plan, mine):
    StrategicGoal.objects.filter(plan_department__plan=plan).update(budget=Decimal(1234567))
    client.force_login(plan_admin)
    url = reverse("tracking:overview_export")
    book = openpyxl.load_workbook(io.BytesIO(client.get(url + "?format=xlsx").content))
    assert len(book.worksheets) == 3
    departments = [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
    assert (
        len(departments) == 3
        and departments[1][0] == mine[0].policy_goal.strategic_goal.plan_department.name
    )
    text = client.get(url + "?format=csv&table=goals").content.decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(text)))
    budget_col = lines[0].index(korean("budget (million won)"))
    assert lines[1][budget_col] == "1,234,567"  # 백만원 with thousands separators
    share_col = lines[0].index(korean("budget share (%)"))
    assert lines[1][share_col] == "50.00"
    assert client.get(url + "?format=pdf").status_code == 404


# ---------------------------------------------------------------- an indicator's page


def test_indicator_page_shows_chart_targets_entries_and_evidence(client, officer, plan, mine):
    higher = mine[0]
    Indicator.objects.filter(pk=higher.pk).update(original_annual_target=Decimal(80))
    result = Result.objects.create(indicator=higher, period="Q1", value=30, note="1분기 점검")
    Result.objects.create(indicator=higher, period="Q2", value=20)
    Evidence.objects.create(
        result=result,
        name="증빙.png",
        content_type="image/png",
        size=len(PNG),
        sha256="x",
        content=PNG,
    )
    client.force_login(officer)
    response = client.get(reverse("tracking:indicator", args=[higher.pk]))
    html = response.content.decode()
    chart = re.search(r'<svg[^>]*id="indicator-chart"[^>]*>', html).group(0)
    assert 'data-mode="cumulative"' in chart and 'data-actual-points="2"' in chart
    assert 'id="original-target">80<' in html and 'id="revised-target">100<' in html
    assert "1분기 점검" in html and "증빙.png" in html
    # running total 50 against a half-year target of 50
    assert 'id="ytd-rate">100.00%<' in html
    assert 'id="indicator-status">' in html and 'data-status="achieved"' in html

    lower = mine[1]
    html = client.get(reverse("tracking:indicator", args=[lower.pk])).content.decode()
    chart = re.search(r'<svg[^>]*id="indicator-chart"[^>]*>', html).group(0)
    assert 'data-mode="period"' in chart and 'data-actual-points="0"' in chart
    assert 'id="amended-targets"' not in html


# ---------------------------------------------------------------- the overview


def test_overview_counts_missing_indicators_beyond_the_long_list_and_links_them(
    client, plan_admin, plan, depts, mine, theirs, monkeypatch
):
    from indicators import overview as core
    from indicators.views import overview as view

    Result.objects.create(indicator=theirs[0], period="Q1", value=10)  # theirs[1] is missing
    client.force_login(plan_admin)
    url = reverse("tracking:overview")
    listed = client.get(url, HTTP_ACCEPT_LANGUAGE="ko").context["data"]
    named = {line.key.department_id: line for line in listed["departments"]}[depts[1].pk]
    assert named.missing_count == len(named.missing_last) >= 1
    assert not listed["missing_unlisted"]

    monkeypatch.setattr(core, "LONG_LIST", 0)  # more missing than a page names
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="ko")
    data, html = response.context["data"], response.content.decode()
    line = {line.key.department_id: line for line in data["departments"]}[depts[1].pk]
    assert line.missing_last == [] and line.missing_count == named.missing_count
    assert data["missing_unlisted"]
    link = f"?year={plan.fiscal_year}&amp;department={depts[1].pk}#by-department"
    assert f'<a href="{link}">' in html
    assert theirs[1].name not in html.split('id="by-goal"')[0]
    # the exports still name every one
    exported = view.overview_data(response.context["screen"], plan_admin, all_at_risk=True)
    line = {line.key.department_id: line for line in exported["departments"]}[depts[1].pk]
    assert [m.indicator_id for m in line.missing_last] == [
        m.indicator_id for m in named.missing_last
    ]


def test_overview_by_department_and_goal_with_completeness_and_risk(
    client, plan_admin, plan, depts, mine, theirs
):
    StrategicGoal.objects.filter(
        plan_department__plan=plan, plan_department__department=depts[0]
    ).update(budget=Decimal(300))
    StrategicGoal.objects.filter(
        plan_department__plan=plan, plan_department__department=depts[1]
    ).update(budget=Decimal(100))
    Result.objects.create(indicator=mine[0], period="Q1", value=30)  # on track (120 %)
    Result.objects.create(indicator=mine[1], period="Q1", value=20)  # lower: 10 ÷ 20 → behind
    Result.objects.create(indicator=theirs[0], period="Q1", value=10)  # 10 × 4 = 40 → at risk
    client.force_login(plan_admin)
    response = client.get(reverse("tracking:overview"))
    data = response.context["data"]
    assert data["summary"]["by_status"]["achieved"] == 1
    assert data["summary"]["by_status"]["missing"] == 1
    lines = {line.key.department_id: line for line in data["departments"]}
    assert lines[depts[0].pk].completeness == Decimal(100)
    assert lines[depts[1].pk].completeness == Decimal(50)
    assert [m.indicator_id for m in lines[depts[1].pk].missing_last] == [theirs[1].pk]
    assert lines[depts[0].pk].share == Decimal(75)
    shares = budget_shares(
        {g.pk: g.budget for g in StrategicGoal.objects.filter(plan_department__plan=plan)}
    )
    assert {line.key.pk: line.share for line in data["goals"]} == shares
    risky = [item["indicator"].pk for item in data["at_risk"]]
    assert theirs[0].pk in risky and mine[0].pk not in risky
    html = response.content.decode()
    assert 'id="forecast-method"' in html and 'id="at-risk-list"' in html
    with translation.override("ko"):
        from indicators.tracking.rules import FORECAST_METHOD_TEXT

        assert str(FORECAST_METHOD_TEXT["sum"]) in html


def test_overview_lists_the_worst_at_risk_and_points_to_the_csv_for_the_rest(
    client, plan_admin, plan, theirs, monkeypatch
):
    from indicators.views import overview

    monkeypatch.setattr(overview, "AT_RISK_SHOWN", 1)
    Result.objects.create(indicator=theirs[0], period="Q1", value=10)  # 10 × 4 = 40 → at risk
    Result.objects.create(indicator=theirs[1], period="Q1", value=1)
    client.force_login(plan_admin)
    response = client.get(reverse("tracking:overview"))
    data = response.context["data"]
    assert len(data["at_risk"]) == 1 and data["at_risk_more"] == 1
    html = response.content.decode()
    listed = re.findall(r'<tr data-indicator="(\d+)">', html.split('id="at-risk-list"')[1])
    assert listed == [str(data["at_risk"][0]["indicator"].pk)]
    assert 'id="at-risk-more"' in html and "table=at_risk" in html
    csv_text = client.get(
        reverse("tracking:overview_export") + "?format=csv&table=at_risk"
    ).content.decode("utf-8-sig")
    assert theirs[0].name in csv_text and theirs[1].name in csv_text


def test_officer_overview_is_their_department_only(client, officer, depts, mine, theirs):
    client.force_login(officer)
    data = client.get(reverse("tracking:overview")).context["data"]
    assert [line.key.department_id for line in data["departments"]] == [depts[0].pk]
    assert data["summary"]["total"] == 2


# ---------------------------------------------------------------- query counts


def _populate(plan):
    indicators = list(Indicator.objects.in_plan(plan))
    frequencies = ("quarterly", "monthly", "half_yearly", "yearly")
    for number, indicator in enumerate(indicators):
        indicator.frequency = frequencies[number % 4]
        indicator.aggregation = ("sum", "latest", "average")[number % 3]
        indicator.annual_target = Decimal(100)
        indicator.direction = "lower" if number % 5 == 0 else "higher"
        indicator.is_sample = number % 7 == 0
    Indicator.objects.bulk_update(
        indicators, ["frequency", "aggregation", "annual_target", "direction", "is_sample"]
    )
    first = {"quarterly": "Q1", "monthly": "M01", "half_yearly": "H1", "yearly": "Y"}
    results = Result.objects.bulk_create(
        Result(
            indicator=indicator,
            period=first[indicator.frequency],
            value=Decimal(20 + n % 50),
            status=(ResultStatus.DRAFT, ResultStatus.SUBMITTED)[n % 2],
            is_sample=n % 3 == 0,
        )
        for n, indicator in enumerate(indicators)
    )
    Evidence.objects.bulk_create(
        Evidence(result=r, name="a.png", content_type="image/png", size=1, sha256="x", content=PNG)
        for r in results[::2]
    )
    for department in departments_of(plan):
        EntryException.objects.create(
            plan=plan, department=department, period="M01", open_until=date(2100, 1, 1), reason="x"
        )
    return len(indicators)


def _count(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_query_counts_do_not_grow_with_indicators(client, django_user_model, monkeypatch):
    """Grid, overview and both exports: the same count for 10 indicators (1 department) and
    300 (10 departments), for a plan admin (sees all) and an officer (scoped, may enter).

    The overview counts the month's standings, computed ahead here as refresh_standings does
    (the first visit of a month computes them: indicators/tests/test_standing.py)."""
    from indicators import standing

    small = make_plan(2031, departments=1, goals=1, policy_goals=2, indicators=5)
    large = make_plan(2032, departments=10, goals=3, policy_goals=2, indicators=5)
    assert (_populate(small), _populate(large)) == (10, 300)
    for plan in (small, large):
        standing.refresh(plan, date(plan.fiscal_year, 8, 20))
    departments = set(departments_of(small) + departments_of(large))
    users = [
        make_user(django_user_model, "admin", roles.PLAN_ADMIN),
        make_user(django_user_model, "officer", roles.OFFICER, departments),
    ]
    for user in users:
        client.force_login(user)
        counts = {}
        for plan in (small, large):
            freeze_today(monkeypatch, date(plan.fiscal_year, 8, 20))
            year = f"?year={plan.fiscal_year}"
            counts[plan.fiscal_year] = [
                _count(client, reverse("tracking:my_department") + year),
                _count(client, reverse("tracking:overview") + year),
                _count(client, reverse("tracking:my_department_export") + year + "&format=xlsx"),
                _count(client, reverse("tracking:overview_export") + year + "&format=csv"),
            ]
        assert counts[2031] == counts[2032], user
        html = client.get(reverse("tracking:my_department") + "?year=2032").content.decode()
        cells = html.count('class="cell-input"')
        # the plan admin (no department of their own) sees a page of departments at a time
        paged = user.username == "admin"
        assert ('id="grid-pages"' in html) is paged
        assert cells > (50 if paged else 300)
        assert 0 < html.count("readonly") < cells  # closed periods are read-only, open ones not


# ---------------------------------------------------------------- print and messages


def test_print_layout_is_a4_landscape():
    css = (Path(settings.BASE_DIR) / "static" / "indicators" / "tracking.css").read_text()
    print_rules = css[css.index("@media print") :]
    assert "size: A4 landscape" in print_rules
    assert ".tracking-filters" in print_rules


def test_grid_script_is_our_own(client, officer, mine):
    client.force_login(officer)
    _response, html = grid(client)
    scripts = re.findall(r'<script[^>]*src="([^"]+)"', html)
    assert any(src.endswith("indicators/grid.js") for src in scripts)
    assert all(not src.startswith(("http:", "https:", "//")) for src in scripts)
    js = (Path(settings.BASE_DIR) / "static" / "indicators" / "grid.js").read_text()
    for key in ("ArrowUp", "ArrowDown", "ArrowLeft", "ArrowRight", '"Enter"', '"Tab"', "shiftKey"):
        assert key in js


_TRANSLATE = re.compile(r"""\{%\s*translate\s+(["'])(.+?)\1""")
_BLOCK = re.compile(
    r"\{%\s*blocktranslate(?P<args>[^%]*)%\}(?P<body>.*?)\{%\s*endblocktranslate\s*%\}", re.S
)
_GETTEXT = re.compile(r"""(?<![\w.])_\(\s*(["'])((?:(?!\1).)+)\1\s*[,)]""")
VIEW_MODULES = (
    "screen",
    "access",
    "grid",
    "save",
    "review",
    "cell",
    "indicator",
    "overview",
    "exports",
    "home",
)
OUR_SOURCES = [
    f"indicators/{name}"
    for name in (
        *(f"views/{job}.py" for job in VIEW_MODULES),
        "tables.py",
        "formats.py",
        "forms.py",
        "filters.py",
        "charts.py",
        "evidence.py",
        "templatetags/tracking_grid.py",
        "templatetags/tracking_overview.py",
        "overview.py",
        "standing.py",
        "management/commands/refresh_standings.py",
    )
]


def our_templates():
    base = Path(settings.BASE_DIR) / "templates"
    paths = [
        p for p in sorted((base / "indicators").glob("*.html")) if p.name != "results_import.html"
    ]
    return [str(p.relative_to(settings.BASE_DIR)) for p in [*paths, base / "admin" / "index.html"]]


def _msgids():
    """The msgids our views, forms, filters, charts, evidence checks and templates use."""
    base = Path(settings.BASE_DIR)
    found = set()
    for name in OUR_SOURCES:
        source = (base / name).read_text(encoding="utf-8")
        source = re.sub(r'"\s*\n\s*"', "", source)  # implicit string concatenation
        found |= {m.group(2) for m in _GETTEXT.finditer(source)}
    for name in our_templates():
        text = (base / name).read_text(encoding="utf-8")
        found |= {m.group(2) for m in _TRANSLATE.finditer(text)}
        for block in _BLOCK.finditer(text):
            body = block.group("body").split("{% plural %}")[0]
            if "trimmed" in block.group("args"):
                body = " ".join(line.strip() for line in body.strip().splitlines())
            parts = re.split(r"(\{\{\s*\w+[^}]*\}\})", body)
            found.add(
                "".join(
                    re.sub(r"\{\{\s*(\w+)[^}]*\}\}", r"%(\1)s", part)
                    if part.startswith("{{")
                    else part.replace("%", "%%")
                    for part in parts
                )
            )
    return found


def test_every_message_of_the_tracking_pages_reads_in_korean():
    """Every msgid our views, forms, filters, charts and templates use has its Korean in the
    one catalogue (with what is pending a merge), with the same placeholders."""
    used = _msgids()
    assert len(used) > 60
    with korean_catalogue():
        assert not untranslated(used)


def test_the_pages_use_the_glossarys_words(client, officer, mine):
    """The words people see, on the pages themselves: 소속 실국 (not 내 부서), 성과계획 현황
    (not 전체 현황), 예시 자료 (not 예시 데이터), 미흡 (not 부진)."""
    Indicator.objects.filter(pk=mine[0].pk).update(is_sample=True)
    client.force_login(officer)
    with korean_catalogue():
        pages = [
            client.get(reverse(name)).content.decode()
            for name in ("tracking:my_department", "tracking:overview")
        ]
    grid_html, overview_html = pages
    assert "소속 실국" in grid_html and "성과계획 현황" in grid_html
    assert "예시 자료" in grid_html
    assert "미흡" in overview_html
    for html in pages:
        for other_word in ("내 부서", "전체 현황", "예시 데이터", "부진"):
            assert other_word not in html, other_word


def korean_period(key):
    with translation.override("ko"):
        return str(period_label(key))


def test_chart_axis_covers_every_value():
    from indicators import charts

    data = charts.ChartData(
        labels=["1분기", "2분기", "3분기", "4분기"],
        targets=[Decimal(61), Decimal(122), Decimal(183), Decimal(244)],
        actuals=[Decimal(74), None, Decimal(128), Decimal(205)],
        cumulative=True,
    )
    svg = str(charts.chart_svg(data))
    ys = [float(y) for y in re.findall(r'cy="([\d.]+)"', svg)]
    assert len(ys) == 7  # four targets, three actuals (the gap stays a gap)
    assert min(ys) >= charts.MARGIN_TOP and max(ys) <= charts.HEIGHT - charts.MARGIN_BOTTOM
    assert 'data-actual-points="3"' in svg and "<script" not in svg
    bars = charts.chart_svg(
        charts.ChartData(["a", "b"], [Decimal(10)] * 2, [Decimal(5), None], False)
    )
    assert str(bars).count('class="bar actual"') == 1


def test_an_invalid_filter_shows_no_overview_figures(client, plan_admin, officer, depts, mine):
    """The whole-plan overview counts the plan's standings directly: an invalid filter (an
    unknown or another department's id) must still narrow it to nothing."""
    Result.objects.create(indicator=mine[0], period="Q1", value=30)
    client.force_login(plan_admin)
    everything = client.get(reverse("tracking:overview")).context["data"]["summary"]["total"]
    assert everything == 4
    for user, query in (
        (plan_admin, "?department=999999"),
        (officer, f"?department={depts[1].pk}"),
    ):
        client.force_login(user)
        response = client.get(reverse("tracking:overview") + query)
        data = response.context["data"]
        assert data["summary"]["total"] == 0 and data["departments"] == [], (user, query)
        assert 'id="filter-errors"' in response.content.decode()
