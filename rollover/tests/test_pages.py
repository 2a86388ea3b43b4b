"""The roll in the admin (the plan list's action, preview, confirm), the plan comparison page
and its xlsx export, and an indicator's years side by side on its page."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse
from openpyxl import load_workbook

from budgets.models import UnitProgram
from goals.models import PolicyGoal, StrategicGoal
from goals.tests.factories import make_plan
from indicators.models import Indicator, Result, ResultStatus
from indicators.tests.support import make_user
from perfplan import roles
from perfplan.models import ImportBatch, Plan
from rollover.services import roll_plan

pytestmark = pytest.mark.django_db

FROM, TO = 2040, 2041


def _define(plan, target=100):
    for number, ind in enumerate(Indicator.objects.in_plan(plan).order_by("pk")):
        ind.frequency, ind.aggregation = "quarterly", "sum"
        ind.annual_target = Decimal(target)
        ind.code = f"K{number:04d}"
        ind.save()
        for quarter in range(1, 5):
            Result.objects.create(
                indicator=ind,
                period=f"Q{quarter}",
                value=Decimal(25 + number),
                status=ResultStatus.APPROVED,
            )


@pytest.fixture
def source():
    plan = make_plan(FROM, departments=2, goals=1, policy_goals=1, indicators=2, unit_programs=1)
    _define(plan)
    return plan


@pytest.fixture
def plan_admin(django_user_model):
    return make_user(django_user_model, "planadmin", roles.PLAN_ADMIN)


def test_plan_list_action_leads_to_the_roll_preview_and_confirm(client, source, plan_admin):
    client.force_login(plan_admin)
    response = client.post(
        reverse("admin:perfplan_plan_changelist"),
        {"action": "roll_forward_action", ACTION_CHECKBOX_NAME: [source.pk]},
    )
    roll_url = reverse("admin:perfplan_plan_roll", args=[source.pk])
    assert response.status_code == 302 and response["Location"] == roll_url
    page = client.get(roll_url)
    assert page.status_code == 200 and 'id="roll-form"' in page.text
    preview = client.post(roll_url, {"to_year": TO, "targets": "baseline", "percent": "10"})
    assert preview.status_code == 200
    assert 'id="preview-changes"' in preview.text
    assert not Plan.objects.filter(fiscal_year=TO).exists()
    batch = ImportBatch.objects.get(summary__kind="rollover", status="previewed")
    assert batch.summary["options"] == {} and batch.created_by == plan_admin
    done = client.post(reverse("admin:perfplan_plan_roll_confirm", args=[batch.pk]))
    assert done.status_code == 302, done.content.decode()[-3000:]
    new_plan = Plan.objects.get(fiscal_year=TO)
    assert done.status_code == 302
    assert done["Location"] == reverse("admin:perfplan_plan_change", args=[new_plan.pk])
    first = Indicator.objects.in_plan(new_plan).get(code="K0000")
    assert first.baseline == 100 and first.annual_target == Decimal("110.0")
    # the same preview cannot be confirmed twice
    again = client.post(reverse("admin:perfplan_plan_roll_confirm", args=[batch.pk]))
    assert again.status_code == 404


def test_roll_pages_refuse_other_roles(client, source, django_user_model):
    officer = make_user(django_user_model, "officer", roles.OFFICER)
    client.force_login(officer)
    assert client.get(reverse("admin:perfplan_plan_roll", args=[source.pk])).status_code == 403


def _next_year_edited(source):
    """Next year's plan rolled, then edited: one goal renamed, one indicator added, one
    removed, one renamed, one re-targeted, a budget changed."""
    assert roll_plan(source, TO, "same", None).ok
    plan = Plan.objects.get(fiscal_year=TO)
    sg = StrategicGoal.objects.filter(plan_department__plan=plan).order_by("pk").first()
    sg.name = "새 전략목표"
    sg.budget = Decimal(777)
    sg.save()
    indicators = list(Indicator.objects.in_plan(plan).order_by("pk"))
    indicators[0].name = "바뀐 지표명"
    indicators[0].save()
    indicators[1].annual_target = Decimal(150)
    indicators[1].save()
    indicators[2].delete()
    Indicator.objects.create(policy_goal=indicators[3].policy_goal, name="새 지표", code="NEW1")
    up = UnitProgram.objects.in_plan(plan).order_by("pk").first()
    up.budget = Decimal(12)
    up.save()
    return plan


def _kinds(rows):
    return {(row.level, row.kinds, row.old_name, row.new_name) for row in rows}


def test_comparison_lists_what_changed(client, source, plan_admin):
    from rollover.compare import compare_plans

    plan = _next_year_edited(source)
    comparison = compare_plans(source, plan)
    old_sg = StrategicGoal.objects.filter(plan_department__plan=source).order_by("pk").first()
    assert ("strategic_goal", ("renamed",), old_sg.name, "새 전략목표") in _kinds(comparison.goals)
    indicator_kinds = _kinds(comparison.indicators)
    old = list(Indicator.objects.in_plan(source).order_by("pk"))
    assert ("indicator", ("renamed",), old[0].name, "바뀐 지표명") in indicator_kinds
    assert ("indicator", ("retargeted",), old[1].name, old[1].name) in indicator_kinds
    assert ("indicator", ("removed",), old[2].name, "") in indicator_kinds
    assert ("indicator", ("added",), "", "새 지표") in indicator_kinds
    assert len(comparison.indicators) == 4
    budgets = {(row.level, row.old_value, row.new_value) for row in comparison.budgets}
    assert ("strategic_goal", Decimal(100), Decimal(777)) in budgets
    assert ("unit_program", Decimal(10), Decimal(12)) in budgets

    client.force_login(plan_admin)
    url = reverse("rollover:compare")
    page = client.get(url, {"from": FROM, "to": TO})
    assert page.status_code == 200
    assert "바뀐 지표명" in page.text and "새 전략목표" in page.text
    assert 'id="compare-indicators"' in page.text

    export = client.get(url, {"from": FROM, "to": TO, "format": "xlsx"})
    assert export.status_code == 200
    workbook = load_workbook(io.BytesIO(export.content), read_only=True)
    sheets = {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in workbook}
    indicator_rows = next(rows for title, rows in sheets.items() if "바뀐 지표명" in str(rows))
    assert len(indicator_rows) == 1 + 4  # header and the four differences
    assert any(row[5] == "새 지표" and row[6] == "NEW1" for row in indicator_rows)


def test_comparison_follows_links_across_several_years(source):
    from rollover.compare import compare_plans

    assert roll_plan(source, TO, "same", None).ok
    assert roll_plan(TO, TO + 1, "same", None).ok
    last = Plan.objects.get(fiscal_year=TO + 1)
    # codes cleared: only the links tie the years together
    Indicator.objects.in_plan(last).update(code="")
    renamed = Indicator.objects.in_plan(last).order_by("pk").first()
    renamed.name = "세 해 뒤의 이름"
    renamed.save()
    comparison = compare_plans(source, last)
    assert [row.kinds for row in comparison.indicators] == [("renamed",)]


def test_comparison_page_queries_do_not_grow_with_the_plans(
    client, plan_admin, django_assert_max_num_queries
):
    def measured(year, size):
        plan = make_plan(year, departments=size, goals=2, policy_goals=2, indicators=3)
        assert roll_plan(plan, year + 1, "same", None).ok
        Indicator.objects.in_year(year + 1).update(annual_target=Decimal(5))
        client.force_login(plan_admin)
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("rollover:compare"), {"from": year, "to": year + 1})
        assert response.status_code == 200
        return len(queries)

    small = measured(2050, 1)
    large = measured(2060, 10)
    assert small == large
    with django_assert_max_num_queries(small):
        client.get(reverse("rollover:compare"), {"from": 2060, "to": 2061})


def test_comparison_needs_a_plan_reader(client, source, django_user_model):
    nobody = django_user_model.objects.create_user("nobody", is_staff=True)
    client.force_login(nobody)
    assert client.get(reverse("rollover:compare")).status_code == 403


def test_indicator_page_shows_every_year(client, source, plan_admin, django_user_model):
    assert roll_plan(source, TO, "baseline+10%", None).ok
    assert roll_plan(TO, TO + 1, "same", None).ok
    newest = Indicator.objects.in_year(TO + 1).get(code="K0000")
    middle = Indicator.objects.in_year(TO).get(code="K0000")
    client.force_login(plan_admin)
    page = client.get(reverse("tracking:indicator", args=[middle.pk]))
    assert page.status_code == 200
    text = page.text
    assert 'id="indicator-years"' in text
    for year in (FROM, TO, TO + 1):
        assert f'data-year="{year}"' in text
    # the source year: target 100, year-end actual 100 (a running total of 4 × 25), 100 %
    section = text[text.index('id="indicator-years"') :]
    first_row = section[section.index(f'data-year="{FROM}"') : section.index(f'data-year="{TO}"')]
    assert "100" in first_row and "100.00%" in first_row
    assert reverse("tracking:indicator", args=[newest.pk]) in section

    # another department's officer does not see the page; one of this department sees
    # every year of it (departments stay the same across the years)
    department = middle.policy_goal.strategic_goal.plan_department.department
    officer = make_user(django_user_model, "officer", roles.OFFICER, [department])
    client.force_login(officer)
    page = client.get(reverse("tracking:indicator", args=[middle.pk]))
    assert page.status_code == 200 and f'data-year="{FROM}"' in page.text


def test_indicator_page_finds_a_year_by_code_without_links(client, source, plan_admin):
    other = make_plan(FROM - 1, departments=1, goals=1, policy_goals=1, indicators=1)
    Indicator.objects.in_plan(other).update(code="K0000", annual_target=Decimal(90))
    current = Indicator.objects.in_plan(source).get(code="K0000")
    client.force_login(plan_admin)
    page = client.get(reverse("tracking:indicator", args=[current.pk]))
    assert f'data-year="{FROM - 1}"' in page.text and f'data-year="{FROM}"' in page.text


def test_policy_goal_count_stays(source):
    # the comparison reads each level once: a plan without unit programs compares too
    from rollover.compare import compare_plans

    assert roll_plan(source, TO, "empty", None).ok
    UnitProgram.objects.in_year(TO).delete()
    rows = compare_plans(source, Plan.objects.get(fiscal_year=TO)).budgets
    assert {row.kinds for row in rows if row.level == "unit_program"} == {("removed",)}
    assert PolicyGoal.objects.in_year(TO).count() == PolicyGoal.objects.in_plan(source).count()
