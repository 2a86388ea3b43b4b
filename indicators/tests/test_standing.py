"""Stored standings (indicators.standing): the overview counts them, so they must always be
what indicators.tracking computes from the data of now — after every kind of write, a new
month, new thresholds, and a write that lands while a standing is being computed."""

from __future__ import annotations

import random
import threading
from contextlib import contextmanager
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from goals.models import PolicyGoal
from goals.tests.factories import make_plan
from indicators import standing
from indicators.models import (
    Indicator,
    IndicatorStanding,
    PeriodTarget,
    Result,
    ResultStatus,
    StandingInputChange,
)
from indicators.tests.support import freeze_today, make_user
from indicators.tracking.rows import standing_values, tracking_rows
from indicators.tracking.summaries import at_risk_rows, group_by, summarize
from perfplan import roles
from perfplan.models import Plan

pytestmark = pytest.mark.django_db

YEAR = 2031
TODAY = date(YEAR, 8, 20)
COUNT = 3 * 2 * 2 * 3  # mixed_plan's indicators
KEYS = {
    "monthly": [f"M{m:02d}" for m in range(1, 13)],
    "quarterly": ["Q1", "Q2", "Q3", "Q4"],
    "half_yearly": ["H1", "H2"],
    "yearly": ["Y"],
}


def mixed_plan(seed=7, **sizes):
    """Indicators of every frequency, aggregation and direction, with random results (some
    missing, some sample), period targets and a blank frequency."""
    rng = random.Random(seed)
    sizes = {"departments": 3, "goals": 2, "policy_goals": 2, "indicators": 3, **sizes}
    plan = make_plan(YEAR, **sizes)
    indicators = list(Indicator.objects.in_plan(plan))
    for n, indicator in enumerate(indicators):
        indicator.frequency = ("monthly", "quarterly", "half_yearly", "yearly", "")[n % 5]
        indicator.aggregation = ("sum", "latest", "average")[n % 3]
        indicator.direction = ("higher", "lower", "range", "higher")[n % 4]
        indicator.annual_target = Decimal(rng.choice([0, 50, 100, 120]))
        indicator.target_min = Decimal(80) if n % 8 == 2 else None
        indicator.target_max = Decimal(120) if n % 8 == 2 else None
        indicator.lower_is_better_method = ("ratio", "complement")[n % 2]
    Indicator.objects.bulk_update(
        indicators,
        [
            "frequency",
            "aggregation",
            "direction",
            "annual_target",
            "target_min",
            "target_max",
            "lower_is_better_method",
        ],
    )
    results, targets = [], []
    for n, indicator in enumerate(indicators):
        keys = KEYS[indicator.frequency or "yearly"]
        for k, key in enumerate(keys):
            if rng.random() < 0.8:
                value = None if rng.random() < 0.1 else Decimal(rng.randint(0, 150))
                results.append(
                    Result(indicator=indicator, period=key, value=value, is_sample=k == n % 7)
                )
            if n % 6 == 1:
                targets.append(PeriodTarget(indicator=indicator, period=key, target=Decimal(30)))
    Result.objects.bulk_create(results)
    PeriodTarget.objects.bulk_create(targets)
    # Written in bulk after the import computed the standings: outdated, as bulk writers do.
    standing.touch([i.pk for i in indicators])
    return plan


def plan_indicators(plan):
    return Indicator.objects.in_plan(plan)


def assert_current(plan, today=TODAY):
    """Every standing of the plan is what indicators.tracking computes now."""
    rows = tracking_rows(plan_indicators(plan), plan, today)
    stored = {s.indicator_id: s for s in IndicatorStanding.objects.all()}
    for row in rows:
        kept = stored[row.indicator.pk]
        assert kept.as_of == standing.standing_month(plan, today)
        assert not StandingInputChange.objects.filter(indicator_id=kept.pk).exists()
        for name, value in standing_values(row).items():
            assert getattr(kept, name) == value, (row.indicator.name, name)


def stale_count(plan, today=TODAY):
    """How many standings ensure() would compute (without computing them)."""
    return len(standing.outdated_ids(plan, IndicatorStanding.objects.filter(plan=plan), today))


@pytest.fixture
def today(monkeypatch):
    freeze_today(monkeypatch, TODAY)
    return TODAY


@pytest.fixture
def plan(today):
    return mixed_plan()


@pytest.fixture
def imports_leave_standings_outdated():
    """After its commit an import has the standings it outdated computed (standing.after_import:
    the task it queues, or at once in the worker); without that, what the import outdated
    stays to be seen."""
    from perfplan.imports import import_applied

    uid = "indicators.standing.after_import"
    import_applied.disconnect(dispatch_uid=uid)
    yield
    import_applied.connect(standing.after_import, dispatch_uid=uid)


# ---------------------------------------------------------------- computing


def assert_filed(plan):
    """Every indicator of the plan has its standing, filed where the indicator is."""
    placed = {
        i.pk: (
            plan.pk,
            i.policy_goal.strategic_goal.plan_department_id,
            i.policy_goal.strategic_goal_id,
            i.policy_goal_id,
        )  # fmt: skip
        for i in plan_indicators(plan).select_related("policy_goal__strategic_goal")
    }
    filed = {
        s.indicator_id: (s.plan_id, s.plan_department_id, s.strategic_goal_id, s.policy_goal_id)
        for s in IndicatorStanding.objects.filter(indicator__in=placed)
    }
    assert filed == placed


def test_every_indicator_has_its_standing_from_the_start(plan):
    assert_filed(plan)
    assert stale_count(plan) == COUNT  # filed, not computed since the fixture's writes
    goal = PolicyGoal.objects.in_plan(plan).first()
    created = Indicator.objects.create(policy_goal=goal, name="새 지표")
    assert IndicatorStanding.objects.filter(indicator=created, plan=plan).exists()


def test_a_move_in_the_hierarchy_files_the_standing_anew(plan):
    from goals.models import StrategicGoal

    standing.refresh(plan, TODAY)
    goals = list(PolicyGoal.objects.in_plan(plan))
    indicator = plan_indicators(plan).filter(policy_goal=goals[0]).first()
    indicator.policy_goal = goals[-1]
    indicator.save()
    other = StrategicGoal.objects.filter(plan_department__plan=plan).last()
    goals[1].strategic_goal = other
    goals[1].save()
    assert_filed(plan)
    other.position = 9  # a goal moved in the plan's order
    other.save()
    indicator.position = 7
    indicator.save()
    assert_filed(plan)
    assert stale_count(plan) == 1  # the indicator's save; a move changes no figure


def test_refresh_stores_what_services_computes(plan):
    assert standing.refresh(plan, TODAY) == COUNT
    assert_current(plan)
    statuses = set(IndicatorStanding.objects.values_list("status", flat=True))
    assert {"achieved", "behind", "missing"} <= statuses
    assert IndicatorStanding.objects.filter(at_risk=True).exists()
    assert IndicatorStanding.objects.exclude(last_due_missing="").exists()
    assert standing.refresh(plan, TODAY) == 0  # current: nothing to do


@pytest.mark.parametrize(
    "day", [date(YEAR - 1, 11, 3), TODAY, date(YEAR, 12, 31), date(YEAR + 1, 2, 1)]
)
def test_indicators_without_results_are_computed_apart_to_the_same_figures(plan, monkeypatch, day):
    """A new plan's indicators have no result: their figures are computed once per
    frequency, aggregation and sample mark (standing._store_empty), and must be what each
    one's own row says, whatever its target, direction, period targets or day."""
    indicators = list(plan_indicators(plan).order_by("pk"))
    empty = indicators[::2]
    Result.objects.filter(indicator__in=empty).delete()
    Indicator.objects.filter(pk__in=[i.pk for i in empty[:3]]).update(is_sample=True)
    PeriodTarget.objects.create(indicator=empty[1], period="Y", target=Decimal(7))
    IndicatorStanding.objects.filter(indicator__in=empty[:4]).update(position=99)  # misfiled
    through_rows = []
    store_rows = standing._store_rows
    monkeypatch.setattr(
        standing,
        "_store_rows",
        lambda p, ids, *a: through_rows.extend(ids) or store_rows(p, ids, *a),
    )
    assert standing.refresh(plan, day) == COUNT
    assert not set(through_rows) & {i.pk for i in empty}  # none went through the rows
    with_results = set(Result.objects.values_list("indicator_id", flat=True))
    assert sorted(through_rows) == sorted(with_results) and with_results
    assert_current(plan, day)
    assert_filed(plan)
    stored = IndicatorStanding.objects.filter(indicator__in=empty[:4]).order_by("pk")  # as empty
    assert [s.position for s in stored] == [i.position for i in empty[:4]]


def test_a_standing_holds_for_its_month(plan):
    standing.refresh(plan, TODAY)
    assert stale_count(plan, date(YEAR, 8, 31)) == 0
    assert stale_count(plan, date(YEAR, 9, 1)) == COUNT  # August has ended: M08 is due now
    standing.refresh(plan, date(YEAR, 9, 1))
    assert_current(plan, date(YEAR, 9, 1))


def test_standing_month_is_kept_within_the_plan_year():
    plan = Plan(fiscal_year=YEAR)
    assert standing.standing_month(plan, date(YEAR, 8, 20)) == date(YEAR, 8, 1)
    assert standing.standing_month(plan, date(YEAR - 3, 5, 2)) == date(YEAR - 1, 12, 1)
    assert standing.standing_month(plan, date(YEAR - 1, 12, 31)) == date(YEAR - 1, 12, 1)
    assert standing.standing_month(plan, date(YEAR, 1, 1)) == date(YEAR, 1, 1)
    assert standing.standing_month(plan, date(YEAR + 1, 1, 5)) == date(YEAR + 1, 1, 1)
    assert standing.standing_month(plan, date(YEAR + 4, 7, 1)) == date(YEAR + 1, 1, 1)


def test_a_past_plan_stays_current_as_months_pass(today):
    plan = mixed_plan()
    later = date(YEAR + 1, 3, 1)
    standing.refresh(plan, later)
    assert stale_count(plan, date(YEAR + 2, 11, 30)) == 0
    assert_current(plan, date(YEAR + 2, 11, 30))


def test_new_thresholds_make_every_standing_outdated(plan):
    standing.refresh(plan, TODAY)
    Plan.objects.filter(pk=plan.pk).update(threshold_achieved=Decimal(80))
    plan.refresh_from_db()
    assert stale_count(plan) == COUNT
    standing.refresh(plan, TODAY)
    assert_current(plan)


# ---------------------------------------------------------------- writes outdate


def test_saving_a_value_outdates_that_indicator_only(plan):
    standing.refresh(plan, TODAY)
    result = Result.objects.filter(indicator__in=plan_indicators(plan)).exclude(value=None)[0]
    result.value += 7
    result.save()
    assert stale_count(plan) == 1
    assert standing.refresh(plan, TODAY) == 1
    assert_current(plan)


def test_a_review_step_does_not_outdate(plan):
    standing.refresh(plan, TODAY)
    result = Result.objects.filter(indicator__in=plan_indicators(plan)).exclude(value=None)[0]
    result.status = ResultStatus.SUBMITTED
    result.note = "검토 요청"
    result.save()
    assert stale_count(plan) == 0


def test_new_and_deleted_results_targets_and_indicator_edits_outdate(plan):
    standing.refresh(plan, TODAY)
    first, second, third, fourth = plan_indicators(plan).filter(frequency="quarterly")[:4]
    Result.objects.filter(indicator=first).delete()  # a queryset delete: one signal per row
    Result.objects.create(indicator=second, period="Q4", value=Decimal(5))
    PeriodTarget.objects.create(indicator=third, period="Q1", target=Decimal(1))
    fourth.annual_target = Decimal(999)
    fourth.save()
    assert stale_count(plan) == 4
    standing.refresh(plan, TODAY)
    assert_current(plan)
    PeriodTarget.objects.filter(indicator=third).delete()
    assert stale_count(plan) == 1


def test_moving_a_result_to_another_indicator_outdates_both(plan):
    standing.refresh(plan, TODAY)
    one, other = plan_indicators(plan).filter(frequency="yearly")[:2]
    Result.objects.filter(indicator__in=(one, other)).delete()
    standing.refresh(plan, TODAY)
    result = Result.objects.create(indicator=one, period="Y", value=Decimal(3))
    standing.refresh(plan, TODAY)
    result.indicator = other
    result.save()
    assert stale_count(plan) == 2


def test_deleting_indicators_and_goals_takes_their_standings(plan):
    standing.refresh(plan, TODAY)
    indicator = plan_indicators(plan).filter(results__isnull=True).first() or (
        plan_indicators(plan).first()
    )
    Result.objects.filter(indicator=indicator).delete()
    PeriodTarget.objects.create(indicator=indicator, period="Y", target=Decimal(2))
    indicator.delete()  # its period targets go with it, and no standing is left behind
    goal = PolicyGoal.objects.in_plan(plan).last()
    Result.objects.filter(indicator__policy_goal=goal).delete()
    goal.delete()
    remaining = plan_indicators(plan).count()
    assert IndicatorStanding.objects.count() == remaining
    standing.refresh(plan, TODAY)
    assert_current(plan)


def test_a_write_during_a_computation_leaves_the_standing_outdated(plan, monkeypatch):
    """The computation read the data before the write committed: what it stores must not
    count as current (it is computed again the next time)."""
    from indicators.tracking import rows as tracking

    target = plan_indicators(plan).filter(frequency="yearly").first()
    real_rows = tracking.tracking_rows
    written = []

    def rows_then_a_write(*args, **kwargs):
        rows = real_rows(*args, **kwargs)  # read: before the write
        if not written:
            Result.objects.update_or_create(
                indicator=target, period="Y", defaults={"value": Decimal(1234)}
            )
            written.append(True)
        return rows

    monkeypatch.setattr(tracking, "tracking_rows", rows_then_a_write)
    standing.refresh(plan, TODAY)
    assert stale_count(plan) == 1
    monkeypatch.setattr(tracking, "tracking_rows", real_rows)
    assert standing.refresh(plan, TODAY) == 1
    assert_current(plan)


def test_bulk_writers_outdate_what_they_wrote(
    plan, django_user_model, imports_leave_standings_outdated
):
    from goals.tests.factories import csv_bytes
    from indicators.results_import import import_results_files

    standing.refresh(plan, TODAY)
    indicator = plan_indicators(plan).filter(frequency="yearly").first()
    Result.objects.filter(indicator=indicator).delete()
    standing.refresh(plan, TODAY)
    department = indicator.policy_goal.strategic_goal.plan_department
    admin = make_user(django_user_model, "admin", roles.PLAN_ADMIN)
    data = csv_bytes(
        [["실국명", "성과지표명", "기간", "실적"], [department.name, indicator.name, "Y", "77"]]
    )
    outcome = import_results_files(YEAR, [("실적.csv", data)], user=admin, today=TODAY)
    assert outcome.ok, outcome.errors
    assert stale_count(plan) == 1
    standing.refresh(plan, TODAY)
    assert_current(plan)


# ---------------------------------------------------------------- the overview counts them


def _overview(client, query=""):
    response = client.get(reverse("tracking:overview") + query)
    assert response.status_code == 200
    return response.context["data"]


def test_the_overview_counts_what_the_rows_say(client, django_user_model, plan):
    admin = make_user(django_user_model, "admin", roles.PLAN_ADMIN)
    client.force_login(admin)
    data = _overview(client)  # the month's first visit computes the standings
    rows = tracking_rows(plan_indicators(plan), plan, TODAY)
    expected = summarize(rows)
    for key in ("total", "by_status", "rated", "completeness", "at_risk"):
        assert data["summary"][key] == expected[key], key
    assert data["summary"]["buckets"] == expected["buckets"]
    for lines, key in ((data["departments"], "department"), (data["goals"], "strategic_goal")):
        groups = group_by(rows, key)
        assert [line.key.pk for line in lines] == [g.key.pk for g in groups]
        for line, group in zip(lines, groups, strict=True):
            for name in ("total", "by_status", "completeness", "at_risk", "buckets"):
                assert line.summary[name] == group.summary[name], (key, name)
            rates = [r.rate for r in group.rows if r.rate is not None]
            mean = sum(rates) / len(rates) if rates else None
            mean = mean.quantize(Decimal("0.01"), ROUND_HALF_UP) if rates else None
            assert line.mean_rate == mean
    risky = at_risk_rows(rows)
    assert [item["indicator"].pk for item in data["at_risk"]] == [r.indicator.pk for r in risky]
    assert [item["rate_value"] for item in data["at_risk"]] == [r.forecast.rate for r in risky]
    # a status filter counts the stored statuses
    behind = _overview(client, "?status=behind")
    assert behind["summary"]["total"] == expected["by_status"]["behind"] > 0
    quarterly = _overview(client, "?period=Q2")
    assert quarterly["summary"]["total"] == sum(
        1 for r in rows if r.indicator.frequency == "quarterly"
    )


def test_the_overview_follows_a_saved_value(client, django_user_model, plan):
    admin = make_user(django_user_model, "admin", roles.PLAN_ADMIN)
    client.force_login(admin)
    before = _overview(client)["summary"]["by_status"]
    indicator = plan_indicators(plan).filter(frequency="yearly", direction="higher").first()
    Result.objects.filter(indicator=indicator).delete()
    Indicator.objects.filter(pk=indicator.pk).update(annual_target=Decimal(100))
    indicator.refresh_from_db()
    indicator.save()  # an edit through the model outdates its standing
    Result.objects.create(indicator=indicator, period="Y", value=Decimal(40))
    after = _overview(client)
    assert after["summary"]["total"] == sum(before.values())
    rows = tracking_rows(plan_indicators(plan), plan, TODAY)
    assert after["summary"]["by_status"] == summarize(rows)["by_status"]


def test_a_current_overview_writes_nothing(client, django_user_model, plan):
    admin = make_user(django_user_model, "admin", roles.PLAN_ADMIN)
    client.force_login(admin)
    _overview(client)
    with CaptureQueriesContext(connection) as queries:
        _overview(client)
    writes = [q["sql"] for q in queries if q["sql"].split()[0].upper() in ("INSERT", "UPDATE")]
    assert not [w for w in writes if "indicatorstanding" in w]


# ---------------------------------------------------------------- the command


def test_refresh_standings_command(plan):
    out = StringIO()
    call_command("refresh_standings", stdout=out)
    assert f"{YEAR}년: 성과지표 현황 {COUNT}건 계산" in out.getvalue()
    assert_current(plan)
    out = StringIO()
    call_command("refresh_standings", "--year", str(YEAR), stdout=out)
    assert f"{YEAR}년: 성과지표 현황 0건 계산" in out.getvalue()
    with pytest.raises(CommandError):
        call_command("refresh_standings", "--year", "1999")


def test_a_plan_import_outdates_the_indicators_it_rewrites(today, imports_leave_standings_outdated):
    from goals.tests.factories import synthetic_plan
    from perfplan.planfiles.importer import import_plan

    plan = make_plan(YEAR, departments=1, goals=1, policy_goals=1, indicators=3)
    standing.refresh(plan, TODAY)
    data = synthetic_plan(departments=1, goals=1, policy_goals=1, indicators=3)
    changed = data.departments[0].strategic_goals[0].policy_goals[0].indicators[1]
    changed.attributes = {"annual_target": Decimal(55)}
    result = import_plan(YEAR, data)
    assert result.ok, result.errors
    assert stale_count(plan) == 1
    rewritten = plan_indicators(plan).get(name=changed.name)
    assert StandingInputChange.objects.filter(indicator=rewritten).exists()


def test_a_long_goal_list_waits_for_a_department(client, django_user_model, plan, monkeypatch):
    from indicators import overview

    monkeypatch.setattr(overview, "LONG_LIST", 5)  # the plan has 6 strategic goals
    client.force_login(make_user(django_user_model, "admin", roles.PLAN_ADMIN))
    response = client.get(reverse("tracking:overview"))
    data = response.context["data"]
    html = response.content.decode()
    assert data["goals"] is None and data["goal_count"] == 6
    assert 'id="goals-long"' in html and 'id="goals"' not in html
    department = data["departments"][1].key
    link = f'href="?year={YEAR}&amp;department={department.department_id}"'
    assert link in html  # the department's name opens its own overview
    narrowed = client.get(f"{reverse('tracking:overview')}?department={department.department_id}")
    assert [line.key.department_name for line in narrowed.context["data"]["goals"]] == [
        department.name
    ] * 2
    csv_text = client.get(
        reverse("tracking:overview_export") + "?format=csv&table=goals"
    ).content.decode("utf-8-sig")
    assert len(csv_text.strip().splitlines()) == 1 + 6  # the export lists them all


# ---------------------------------------------------------------- locks (README "Concurrency")

needs_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="row locks between two sessions need PostgreSQL: run with DATABASE_URL=postgres://…",
)


@contextmanager
def standing_held(indicator_id):
    """Another session holds this standing's row lock (as a computation or a move would)
    until the block ends."""
    held, release, failed = threading.Event(), threading.Event(), []

    def hold():
        try:
            with transaction.atomic():
                IndicatorStanding.objects.select_for_update().get(pk=indicator_id)
                held.set()
                release.wait(20)
        except Exception as exc:  # handed to the test thread
            failed.append(exc)
            held.set()
        finally:
            connections.close_all()  # this thread's own connection

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    assert held.wait(10) and not failed, failed
    try:
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '2s'")  # a wait fails the test, not hangs it
        yield
    finally:
        release.set()
        thread.join(10)
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = 0")


@pytest.mark.postgres
@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_a_save_never_waits_on_a_held_standing(plan):
    standing.refresh(plan, TODAY)
    result = Result.objects.filter(indicator__in=plan_indicators(plan)).exclude(value=None)[0]
    with standing_held(result.indicator_id):
        with transaction.atomic():
            result.value += 1
            result.save()  # outdates the standing without its row lock
        standing.touch(plan_indicators(plan).values_list("pk", flat=True))  # a bulk writer
    assert stale_count(plan) == COUNT


@pytest.mark.postgres
@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_filing_a_plan_locks_only_the_standings_that_moved(plan):
    standing.refresh(plan, TODAY)
    kept, moved = plan_indicators(plan).order_by("pk")[:2]
    with standing_held(kept.pk):
        standing.link_plan(plan)  # nothing moved: waits on nothing
        Indicator.objects.filter(pk=moved.pk).update(position=99)
        standing.link_plan(plan)
    assert IndicatorStanding.objects.get(pk=moved.pk).position == 99
    assert stale_count(plan) == 0  # a move changes no figure


@pytest.mark.postgres
@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_a_computation_skips_a_held_standing(plan):
    busy = plan_indicators(plan).order_by("pk")[3]
    with standing_held(busy.pk):
        assert standing.refresh(plan, TODAY) == COUNT - 1  # without waiting
        assert standing.outdated_ids(plan, IndicatorStanding.objects.all(), TODAY) == [busy.pk]
    assert standing.refresh(plan, TODAY) == 1
    assert_current(plan)
