"""Next year's plan from this one: preview and confirm through the import runner, baselines
from the year-end values, target rules, re-runs that change nothing, and the plan tables
imported afterwards updating the rolled plan in place with its predecessor links."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from budgets.models import UnitProgram
from goals.models import PlanDepartment, PolicyGoal, StrategicGoal
from goals.tests.factories import make_plan, synthetic_plan
from indicators.models import Direction, Indicator, Result, ResultStatus
from indicators.tests.support import make_user
from perfplan import imports, roles
from perfplan.models import ChangeLogEntry, ImportBatch, Plan
from perfplan.planfiles.importer import import_plan
from rollover.services import (
    ROLLOVER,
    RollError,
    parse_target_rule,
    preview_roll,
    proposed_targets,
    roll_plan,
)

pytestmark = pytest.mark.django_db

FROM, TO = 2040, 2041


def _define(plan):
    """Quarterly indicators of three aggregations, with results for the whole year."""
    indicators = list(Indicator.objects.in_plan(plan).order_by("pk"))
    kinds = ("sum", "latest", "average")
    for number, ind in enumerate(indicators):
        ind.frequency = "quarterly"
        ind.aggregation = kinds[number % 3]
        ind.annual_target = Decimal(100)
        ind.code = f"IND-{number:03d}"
        ind.unit = "건"
        ind.save()
        for quarter, value in enumerate((10, 20, 30, 40), start=1):
            Result.objects.create(
                indicator=ind,
                period=f"Q{quarter}",
                value=Decimal(value + number),
                status=ResultStatus.APPROVED,
            )
    return indicators


@pytest.fixture
def source():
    plan = make_plan(FROM, departments=2, goals=1, policy_goals=2, indicators=3, unit_programs=1)
    _define(plan)
    return plan


@pytest.fixture
def plan_admin(django_user_model):
    return make_user(django_user_model, "planadmin", roles.PLAN_ADMIN)


def _structure(plan):
    return {
        "departments": PlanDepartment.objects.filter(plan=plan).count(),
        "strategic_goals": StrategicGoal.objects.filter(plan_department__plan=plan).count(),
        "policy_goals": PolicyGoal.objects.in_plan(plan).count(),
        "indicators": Indicator.objects.in_plan(plan).count(),
        "unit_programs": UnitProgram.objects.in_plan(plan).count(),
    }


def _snapshot():
    rows = Indicator.objects.in_year(TO).order_by("pk")
    return list(
        rows.values_list(
            "pk", "name", "code", "baseline", "annual_target", "predecessor_id", "version"
        )
    )


def test_preview_writes_nothing_and_confirm_writes_what_it_showed(source, plan_admin):
    entries = ChangeLogEntry.objects.count()
    preview = preview_roll(source, TO, "empty", plan_admin)
    assert preview.ok, preview.errors
    assert preview.batch is not None and preview.batch.summary["kind"] == ROLLOVER.name
    assert not Plan.objects.filter(fiscal_year=TO).exists()
    assert ChangeLogEntry.objects.count() == entries
    assert preview.totals()["new"] == 1 + 2 + 2 + 4 + 12 + 4  # plan and every record

    result = imports.confirm(preview.batch, user=plan_admin)
    assert result.ok, result.errors
    target = Plan.objects.get(fiscal_year=TO)
    assert _structure(target) == _structure(source)
    preview.batch.refresh_from_db()
    assert preview.batch.status == ImportBatch.Status.APPLIED
    # one entry per record and one for the roll itself, all under its batch
    logged = ChangeLogEntry.objects.filter(batch=preview.batch)
    assert logged.count() == preview.totals()["new"] + 1
    assert logged.filter(action="import").count() == 1


def test_confirm_refuses_when_the_plan_changed_since_the_preview(source, plan_admin):
    preview = preview_roll(source, TO, "same", plan_admin)
    Indicator.objects.in_plan(source).filter(code="IND-000").update(annual_target=Decimal(555))
    result = imports.confirm(preview.batch, user=plan_admin)
    assert not result.ok
    assert not Plan.objects.filter(fiscal_year=TO).exists()
    preview.batch.refresh_from_db()
    assert preview.batch.status == ImportBatch.Status.REJECTED


def test_copies_definitions_codes_baselines_and_links_predecessors(source, plan_admin):
    result = roll_plan(source, TO, "empty", plan_admin)
    assert result.ok, result.errors
    for old in Indicator.objects.in_plan(source):
        new = Indicator.objects.in_year(TO).get(predecessor=old)
        assert (new.name, new.code, new.unit, new.frequency, new.aggregation) == (
            old.name,
            old.code,
            old.unit,
            old.frequency,
            old.aggregation,
        )
        values = [Decimal(v + int(old.code[-3:])) for v in (10, 20, 30, 40)]
        expected = {
            "sum": sum(values),
            "latest": values[-1],
            "average": sum(values) / 4,
        }[old.aggregation]
        assert new.baseline == expected
        assert new.annual_target is None  # the rule "empty"
    budgets = UnitProgram.objects.in_plan(result.plan).values_list("budget", "prior_budget")
    assert set(budgets) == {(None, Decimal(10))}  # next year's prior budget is this year's


def test_target_rules(source):
    rows = Indicator.objects.in_plan(source)
    higher = rows.first()
    assert proposed_targets(higher, Decimal("80.0"), parse_target_rule("same"))[0] == 100
    assert proposed_targets(higher, Decimal("80.0"), parse_target_rule("empty")) == (
        None,
        None,
        None,
    )
    assert proposed_targets(higher, Decimal("80.0"), parse_target_rule("baseline+5%"))[0] == (
        Decimal("84.0")
    )
    higher.direction = Direction.LOWER
    assert proposed_targets(higher, Decimal("12.5"), parse_target_rule("기준치+10%"))[0] == (
        Decimal("11.3")
    )
    with pytest.raises(RollError):
        parse_target_rule("double")


def test_rule_same_proposes_this_years_targets(source):
    result = roll_plan(source, TO, "same", None)
    assert result.ok, result.errors
    assert set(Indicator.objects.in_year(TO).values_list("annual_target", flat=True)) == {100}


def test_rerun_changes_nothing(source, plan_admin):
    assert roll_plan(source, TO, "baseline+5%", plan_admin).ok
    before = _snapshot()
    entries = ChangeLogEntry.objects.count()
    again = roll_plan(source, TO, "baseline+5%", plan_admin)
    assert again.ok, again.errors
    assert not again.has_writes
    assert _snapshot() == before
    # only the roll's own entry: nothing else was written
    assert ChangeLogEntry.objects.count() == entries + 1


def test_predecessor_links_survive_a_reimport_of_next_years_tables(source, plan_admin):
    assert roll_plan(source, TO, "empty", plan_admin).ok
    links = dict(Indicator.objects.in_year(TO).values_list("name", "predecessor_id"))
    ids = dict(Indicator.objects.in_year(TO).values_list("name", "pk"))
    data = synthetic_plan(departments=2, goals=1, policy_goals=2, indicators=3, unit_programs=1)
    # next year's tables: one indicator target set, one indicator renamed through its code
    first_pg = data.departments[0].strategic_goals[0].policy_goals[0]
    first_pg.indicators[0].attributes = {"annual_target": Decimal(130)}
    renamed = first_pg.indicators[1]
    renamed.code = Indicator.objects.in_year(TO).get(name=renamed.name).code
    old_name, renamed.name = renamed.name, "새 이름의 지표"
    result = import_plan(TO, data)
    assert result.ok, result.errors
    after = Indicator.objects.in_year(TO)
    assert after.count() == len(ids)  # updated in place: nothing created or deleted
    assert after.get(name=first_pg.indicators[0].name).annual_target == 130
    moved = after.get(name="새 이름의 지표")
    assert moved.pk == ids[old_name] and moved.predecessor_id == links[old_name]
    for name, predecessor in links.items():
        if name != old_name:
            assert after.get(name=name).predecessor_id == predecessor
    # rolling again after the import still changes nothing
    assert not roll_plan(source, TO, "empty", plan_admin).has_writes


def test_only_a_plan_admin_rolls(source, django_user_model):
    officer = make_user(django_user_model, "officer", roles.OFFICER)
    result = roll_plan(source, TO, "empty", officer)
    assert not result.ok
    assert not Plan.objects.filter(fiscal_year=TO).exists()


def test_refuses_a_published_target_and_a_missing_source(source):
    assert not roll_plan(FROM - 5, TO, "empty", None).ok
    assert not roll_plan(source, FROM, "empty", None).ok  # not after the source's year
    assert roll_plan(source, TO, "empty", None).ok
    from django.utils import timezone

    Plan.objects.filter(fiscal_year=TO).update(published_at=timezone.now())
    result = roll_plan(source, TO, "same", None)
    assert not result.ok


def test_command_previews_then_confirms(source, capsys):
    call_command("roll_plan", "--from", str(FROM), "--to", str(TO), "--targets", "same")
    assert not Plan.objects.filter(fiscal_year=TO).exists()
    call_command(
        "roll_plan", "--from", str(FROM), "--to", str(TO), "--targets", "same", "--confirm"
    )
    assert Indicator.objects.in_year(TO).count() == 12
    with pytest.raises(CommandError):
        call_command("roll_plan", "--from", str(FROM), "--to", str(TO), "--targets", "x")


def test_rolling_into_a_plan_imported_first_fills_its_blanks(source, plan_admin, client):
    """The other order: next year's tables imported first, then the roll links and fills."""
    data = synthetic_plan(departments=2, goals=1, policy_goals=2, indicators=3, unit_programs=1)
    first_pg = data.departments[0].strategic_goals[0].policy_goals[0]
    first_pg.indicators[0].attributes = {"annual_target": Decimal(130)}
    assert import_plan(TO, data).ok
    ids = set(Indicator.objects.in_year(TO).values_list("pk", flat=True))
    preview = preview_roll(source, TO, "same", plan_admin)
    assert preview.ok, preview.errors
    counts = preview.counts()
    assert counts["indicator"]["new"] == 0 and counts["indicator"]["changed"] == 12
    assert imports.confirm(preview.batch, user=plan_admin).ok
    rolled = Indicator.objects.in_year(TO)
    assert set(rolled.values_list("pk", flat=True)) == ids  # matched by name, none created
    assert not rolled.filter(predecessor=None).exists()
    assert rolled.get(name=first_pg.indicators[0].name).annual_target == 130  # kept
    assert set(rolled.values_list("annual_target", flat=True)) == {100, 130}
    # the preview page names what each record gets
    client.force_login(plan_admin)
    Indicator.objects.in_year(TO).update(baseline=None)
    page = client.post(
        reverse("admin:perfplan_plan_roll", args=[source.pk]), {"to_year": TO, "targets": "empty"}
    )
    assert page.status_code == 200 and "<ins>" in page.text
