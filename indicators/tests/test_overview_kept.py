"""The overview's counts kept between requests (indicators.standing.kept_rows): used only
while the plan's stored standings are at the same revision (indicators.standing.revision),
so that after every kind of write the overview says what it says when counted afresh."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from goals.models import PolicyGoal
from goals.tests.factories import make_plan
from indicators import standing
from indicators.models import Indicator, IndicatorStanding, Result, StandingRevision
from indicators.overview import plan_overview
from indicators.tests.support import freeze_today, make_user
from indicators.tests.test_standing import TODAY, YEAR, mixed_plan, plan_indicators
from perfplan import roles
from perfplan.models import DepartmentAssignment

pytestmark = pytest.mark.django_db


@pytest.fixture
def today(monkeypatch):  # the day of test_standing's plan (indicators/tests/conftest.py's is April)
    freeze_today(monkeypatch, TODAY)
    return TODAY


@pytest.fixture
def plan(today):
    made = mixed_plan()
    standing.refresh(made, TODAY)
    return made


def figures(plan, today=TODAY, **options):
    """What the overview shows of the plan's counts."""
    found = plan_overview(plan, IndicatorStanding.objects.in_plan(plan), today, **options)
    return {
        "total": (found.total.summary(), found.total.mean_rate),
        "departments": [
            (
                line.key.pk,
                line.tally.summary(),
                line.tally.mean_rate,
                line.missing_count,
                [entry.indicator_id for entry in line.missing_last],
            )
            for line in found.departments
        ],
        "goals": [(line.key.pk, line.tally.summary()) for line in found.goals or []],
        "at_risk": found.at_risk,
        "methods": found.methods,
    }


def counted_afresh(plan, today=TODAY, **options):
    cache.clear()
    return figures(plan, today, **options)


def grouped_counts(queries):
    return [q["sql"] for q in queries if "GROUP BY" in q["sql"] and "COUNT(" in q["sql"]]


# ------------------------------------------------------------------ every kind of write


def _result(plan):
    return Result.objects.filter(indicator__in=plan_indicators(plan)).exclude(value=None).first()


def enter_a_value(plan, today):
    result = Result.objects.filter(
        indicator__in=plan_indicators(plan), value=None, period__in=["M01", "M02", "Q1"]
    ).first()
    result.value = Decimal(77)
    result.save()
    return today


def enter_values_in_bulk(plan, today):
    ids = list(plan_indicators(plan).values_list("pk", flat=True))
    Result.objects.filter(indicator_id__in=ids).exclude(value=None).update(value=Decimal(1))
    standing.touch(ids)  # as bulk writers do
    return today


def delete_a_result(plan, today):
    _result(plan).delete()
    return today


def change_a_target(plan, today):
    indicator = _result(plan).indicator
    indicator.annual_target = Decimal(5000)
    indicator.save()
    return today


def delete_an_indicator(plan, today):
    indicator = _result(plan).indicator
    Result.objects.filter(indicator=indicator).delete()  # results are kept from deletion
    indicator.delete()
    return today


def add_an_indicator(plan, today):
    goal = PolicyGoal.objects.in_plan(plan).first()
    Indicator.objects.create(policy_goal=goal, name="새 성과지표", annual_target=Decimal(10))
    return today


def move_an_indicator(plan, today):
    indicator = _result(plan).indicator
    elsewhere = (
        PolicyGoal.objects.in_plan(plan)
        .exclude(
            strategic_goal__plan_department=indicator.policy_goal.strategic_goal.plan_department
        )
        .first()
    )
    indicator.policy_goal = elsewhere
    indicator.save()
    return today


def change_the_thresholds(plan, today):
    plan.threshold_achieved = Decimal(80)
    plan.save()
    return today


def a_new_month(plan, today):
    return date(YEAR, today.month + 1, 3)


WRITES = [
    enter_a_value,
    enter_values_in_bulk,
    delete_a_result,
    change_a_target,
    delete_an_indicator,
    add_an_indicator,
    move_an_indicator,
    change_the_thresholds,
    a_new_month,
]


@pytest.mark.parametrize("write", WRITES, ids=lambda w: w.__name__)
def test_after_every_kind_of_write_the_overview_is_what_it_is_counted_afresh(plan, write):
    before = figures(plan)  # counted and kept
    assert figures(plan) == before  # kept, the same
    day = write(plan, TODAY)
    plan.refresh_from_db()
    after = figures(plan, day)
    assert after == counted_afresh(plan, day)
    if write is not a_new_month:
        assert after != before, "the write changed nothing the overview shows: a weak case"


def test_the_kept_counts_are_used_while_nothing_was_written(plan):
    first = figures(plan)
    with CaptureQueriesContext(connection) as queries:
        again = figures(plan)
    assert again == first
    assert not grouped_counts(queries)  # the grouped count was not read again
    with CaptureQueriesContext(connection) as queries:
        assert counted_afresh(plan) == first
    assert len(grouped_counts(queries)) == 1


def test_each_narrowing_keeps_its_own_counts(plan):
    department = plan_indicators(plan).first().policy_goal.strategic_goal.plan_department
    whole = figures(plan)
    one = plan_overview(
        plan,
        IndicatorStanding.objects.in_plan(plan).filter(plan_department=department),
        TODAY,
    )
    assert one.total.total < whole["total"][0]["total"]
    assert [line.key.pk for line in one.departments] == [department.pk]
    assert figures(plan, status="behind") == counted_afresh(plan, status="behind")
    assert figures(plan) == whole


# ------------------------------------------------------------------ the revision


def test_the_revision_moves_with_every_write_to_the_standings(plan):
    now = standing.revision(plan)
    assert now is not None and standing.revision(plan) == now  # reading changes nothing
    result = _result(plan)
    result.value += 1
    result.save()
    assert standing.revision(plan) is None  # a write waits to be computed
    standing.ensure(plan, today=TODAY)
    computed = standing.revision(plan)
    assert computed not in (None, now)
    IndicatorStanding.objects.filter(pk=result.indicator_id).delete()  # however it goes
    assert standing.revision(plan) != computed
    written = StandingRevision.objects.filter(plan=plan).count()
    standing.link_plan(plan)  # the row made again
    assert StandingRevision.objects.filter(plan=plan).count() == written + 1
    standing.link_plan(plan)  # nothing to file: nothing written
    assert StandingRevision.objects.filter(plan=plan).count() == written + 1


def test_a_move_to_another_plan_revises_both(plan, today):
    other = make_plan(YEAR + 1, departments=1, goals=1, policy_goals=1, indicators=2)
    standing.refresh(other, TODAY)
    before = standing.revision(plan), standing.revision(other)
    indicator = plan_indicators(plan).first()
    indicator.policy_goal = PolicyGoal.objects.in_plan(other).first()
    indicator.name = "다른 해로 옮긴 성과지표"
    indicator.save()
    standing.ensure(plan, today=TODAY)
    standing.ensure(other, today=TODAY)
    assert standing.revision(plan) != before[0] and standing.revision(other) != before[1]
    assert figures(other) == counted_afresh(other)


@pytest.mark.postgres
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="two writers committing out of order need PostgreSQL (SQLite writes one at a time)",
)
@pytest.mark.django_db(transaction=True)
def test_a_write_that_commits_after_a_later_one_still_moves_the_revision(plan):
    """Writers commit in any order: the one that took the smaller id may commit last."""
    inserted, commit, failed = threading.Event(), threading.Event(), []

    def slow_writer():
        try:
            with transaction.atomic():
                standing.revised([plan.pk])
                inserted.set()
                commit.wait(10)
        except Exception as exc:  # handed to the test thread
            failed.append(exc)
            inserted.set()
        finally:
            connections.close_all()

    thread = threading.Thread(target=slow_writer, daemon=True)
    thread.start()
    assert inserted.wait(10) and not failed, failed
    standing.revised([plan.pk])  # a later id, committed first
    seen = standing.revision(plan)
    commit.set()
    thread.join(10)
    assert not failed, failed
    assert standing.revision(plan) != seen


# ------------------------------------------------------------------ through the page


def overview_page(client, query=""):
    response = client.get(reverse("tracking:overview") + query)
    assert response.status_code == 200
    return response.context["data"]["summary"]["total"]


def test_a_search_in_the_goals_names_follows_a_renamed_goal(client, django_user_model, plan):
    """A goal's name is not a standing's input: a search by it is counted each time."""
    client.force_login(make_user(django_user_model, "admin", roles.PLAN_ADMIN))
    goal = PolicyGoal.objects.in_plan(plan).first()
    assert overview_page(client, "?q=새이름") == 0
    assert overview_page(client) == overview_page(client)  # the whole plan, kept
    goal.name = "새이름 정책사업목표"
    goal.save()
    assert overview_page(client, "?q=새이름") == goal.indicators.count() > 0


def test_an_officer_given_another_department_sees_its_counts(client, django_user_model, plan):
    """A user's departments are in what the kept counts are kept under."""
    first, second = (pd.department for pd in plan.departments.order_by("position")[:2])
    officer = make_user(django_user_model, "officer", roles.OFFICER, [first])
    client.force_login(officer)
    alone = overview_page(client)
    assert overview_page(client) == alone  # kept
    DepartmentAssignment.objects.create(user=officer, department=second)
    assert overview_page(client) > alone
