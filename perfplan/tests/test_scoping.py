"""Department scoping on the queryset (perfplan.scoping): the declared paths, restrict() and
its helpers, and may_act_in() — the one rule "reaches every department for this action, or
the department is one of mine"."""

from __future__ import annotations

from datetime import date

import pytest
from django.apps import apps
from django.contrib.admin.utils import get_fields_from_path

from goals.models import PlanDepartment, PolicyGoal, StrategicGoal
from goals.tests.factories import make_plan
from indicators.models import (
    EntryException,
    Evidence,
    Indicator,
    IndicatorStanding,
    PeriodTarget,
    Result,
    StandingInputChange,
)
from indicators.tests.support import make_user
from perfplan.changelog import tracked_models
from perfplan.models import ChangeLogEntry, Department, DepartmentAssignment, Plan
from perfplan.roles import AUDITOR, OFFICER, PLAN_ADMIN, REVIEWER
from perfplan.scoping import (
    can,
    get_or_deny,
    may_act_in,
    restrict,
    scope_of,
    scoped_models,
)
from reports.models import ResultsReport, ResultText

pytestmark = pytest.mark.django_db

APPS = ("perfplan", "goals", "budgets", "indicators")


def reaches_department(model, seen=()):
    """Whether a chain of foreign keys leads from `model` to a Department."""
    if model is Department:
        return True
    for field in model._meta.concrete_fields:
        target = field.related_model if field.is_relation else None
        if target is not None and target not in seen and target._meta.app_label in APPS:
            if reaches_department(target, (*seen, model)):
                return True
    return False


def project_models():
    return [m for name in APPS for m in apps.get_app_config(name).get_models()]


# ---------------------------------------------------------------- the declarations


def test_every_model_with_department_data_declares_its_scope():
    missing = [
        m._meta.label
        for m in project_models()
        if reaches_department(m) and (scope_of(m) is None or scope_of(m).shared)
    ]
    assert missing == [], "declare `scope = Scope(…)` on these models"
    # and the walk finds them: the chain of a result goes up to its department
    assert reaches_department(Evidence) and not reaches_department(Plan)


def test_every_declared_path_leads_to_the_department_and_the_plan():
    for model in scoped_models():
        scope = model.scope
        if scope.department == "pk":
            assert model is Department
        elif scope.department is not None:
            field = get_fields_from_path(model, scope.department)[-1]
            assert field.related_model is Department, model
        if scope.plan == "pk":
            assert model is Plan
        elif scope.plan is not None:
            assert get_fields_from_path(model, scope.plan)[-1].related_model is Plan, model


def test_the_change_log_tracks_the_plan_data_it_always_tracked():
    assert {m._meta.label_lower for m in tracked_models()} == {
        "perfplan.plan",
        "perfplan.department",
        "perfplan.departmentassignment",
        "goals.plandepartment",
        "goals.strategicgoal",
        "goals.policygoal",
        "budgets.unitprogram",
        "indicators.indicator",
        "indicators.periodtarget",
        "indicators.result",
        "indicators.evidence",
        "indicators.entryexception",
        "reports.resulttext",
        "reports.resultsreport",
    }


@pytest.fixture
def data(django_user_model):
    """Two plans of two departments, with a row of every scoped model."""
    plan = make_plan(2031, departments=2, goals=1, policy_goals=1, indicators=2, unit_programs=1)
    other = make_plan(2032, departments=2, goals=1, policy_goals=1, indicators=1)
    first, second = (pd.department for pd in plan.departments.order_by("position"))
    officer = make_user(django_user_model, "officer", OFFICER, [first])
    for indicator in Indicator.objects.all():
        PeriodTarget.objects.create(indicator=indicator, period="Q1", target=10)
        result = Result.objects.create(indicator=indicator, period="Q1", value=5)
        Evidence.objects.create(
            result=result,
            name="a.txt",
            content_type="text/plain",
            size=1,
            sha256="0" * 64,
            content=b"x",
        )
        StandingInputChange.objects.create(indicator=indicator)
    EntryException.objects.create(
        plan=plan, department=second, period="Q1", open_until=date(2031, 5, 1), reason="r"
    )
    for indicator in Indicator.objects.all():
        ResultText.objects.create(indicator=indicator, shortfall_reason="r")
    for each in (plan, other):
        ResultsReport.objects.create(plan=each)
    return plan, other, first, second, officer


def test_every_declared_path_gives_each_row_its_department_and_year(data):
    for model in scoped_models():
        scope = model.scope
        rows = list(model._default_manager.all())
        assert rows, f"no {model._meta.label} row: the check would prove nothing"
        fields = ["pk", scope.department or "pk", scope.year or "pk"]
        stored = {pk: (d, y) for pk, d, y in model._default_manager.values_list(*fields)}
        for obj in rows:
            department, year = stored[obj.pk]
            if scope.department is not None:
                assert scope.department_id(obj) == department, (model, obj.pk)
            if scope.year is not None:
                assert scope.fiscal_year(obj) == year, (model, obj.pk)


# ---------------------------------------------------------------- the queryset


def test_helpers_narrow_to_departments_plans_years_and_parents(data):
    plan, other, first, second, _officer = data
    for model in (Indicator, Result, Evidence, PeriodTarget, IndicatorStanding, PolicyGoal):
        everything = set(model._default_manager.all())
        in_plan = set(model.objects.in_plan(plan))
        assert in_plan and in_plan == {o for o in everything if model.scope.fiscal_year(o) == 2031}
        assert set(model.objects.in_year(2032)) == everything - in_plan
        mine = set(model.objects.of_departments([first.pk]))
        assert mine == {o for o in everything if model.scope.department_id(o) == first.pk}
    pd = plan.departments.get(department=first)
    under = set(Result.objects.under(PlanDepartment, pd))
    assert under == {
        r
        for r in Result.objects.all()
        if r.indicator.policy_goal.strategic_goal.plan_department_id == pd.pk
    }
    assert set(Result.objects.under(PlanDepartment, [pd.pk])) == under
    goal = StrategicGoal.objects.in_plan(other).first()
    assert list(Indicator.objects.under(StrategicGoal, goal)) == list(
        Indicator.objects.filter(policy_goal__strategic_goal=goal)
    )


def test_restrict_gives_officers_their_departments_and_auditors_everything_to_read(
    data, django_user_model
):
    plan, _other, first, second, officer = data
    auditor = make_user(django_user_model, "auditor", AUDITOR)
    mine = set(Result.objects.of_departments([first]))
    assert set(Result.objects.restrict(officer, "view")) == mine
    assert set(restrict(Result.objects.all(), officer, "change")) == mine
    assert not Result.objects.restrict(officer, "delete").exists()  # no permission
    assert Result.objects.restrict(auditor).count() == Result.objects.count()
    assert not Result.objects.restrict(auditor, "change").exists()
    # the shared plan: seen by all, changed by none but plan admins
    assert Plan.objects.restrict(officer).count() == 2
    assert not Plan.objects.restrict(officer, "change").exists()
    # standings are scoped like their indicators
    assert set(IndicatorStanding.objects.restrict(officer).values_list("pk", flat=True)) == set(
        Indicator.objects.restrict(officer).values_list("pk", flat=True)
    )
    # the change log is filed under departments as well
    logged = ChangeLogEntry.objects.of_departments([second])
    assert logged.exists() and not (
        set(logged) & set(ChangeLogEntry.objects.of_departments([first]))
    )
    theirs = Result.objects.of_departments([second]).first()
    assert not can(officer, "view", theirs) and can(auditor, "view", theirs)
    from django.http import Http404

    with pytest.raises(Http404):
        get_or_deny(Result.objects.all(), officer, pk=theirs.pk)


def test_restrict_refuses_inactive_and_anonymous_users(data):
    from django.contrib.auth.models import AnonymousUser

    *_rest, officer = data
    assert not Indicator.objects.restrict(AnonymousUser()).exists()
    assert not Indicator.objects.restrict(None).exists()
    officer.is_active = False
    assert not Indicator.objects.restrict(officer).exists()


def test_may_act_in_is_restricts_rule_for_one_department(data, django_user_model):
    plan, _other, first, second, officer = data
    admin = make_user(django_user_model, "admin", PLAN_ADMIN)
    reviewer = make_user(django_user_model, "reviewer", REVIEWER, [first])
    auditor = make_user(django_user_model, "auditor", AUDITOR)
    assert may_act_in(officer, "indicators.add_result", first.pk)
    assert not may_act_in(officer, "indicators.add_result", second.pk)
    assert not may_act_in(officer, "indicators.add_result", None)  # the shared plan
    assert not may_act_in(reviewer, "indicators.add_result", first.pk)  # no permission
    assert may_act_in(reviewer, "indicators.view_result", first.pk)
    assert may_act_in(auditor, "indicators.view_result", second.pk)
    assert not may_act_in(auditor, "indicators.add_entryexception", second.pk)
    assert may_act_in(admin, "indicators.add_entryexception", second.pk)
    assert may_act_in(admin, "perfplan.change_plan", None)
    # the same answers as restrict() gives for the rows there are
    for user in (officer, reviewer, auditor, admin):
        for action in ("view", "change"):
            for department in (first, second):
                rows = Result.objects.of_departments([department])
                assert may_act_in(user, f"indicators.{action}_result", department.pk) == (
                    rows.restrict(user, action).count() == rows.count()
                )
    officer.is_active = False
    assert not may_act_in(officer, "indicators.add_result", first.pk)


def test_standings_take_their_indicators_permissions(data, django_user_model):
    *_rest, first, _second, _officer = data
    nobody = make_user(django_user_model, "nobody", None, [first])  # assigned, no role
    assert Indicator.objects.of_departments([first]).exists()
    assert not IndicatorStanding.objects.restrict(nobody).exists()
    assert not StandingInputChange.objects.restrict(nobody).exists()


def test_assignments_are_scoped_by_their_department(data):
    *_rest, first, _second, officer = data
    assert list(DepartmentAssignment.objects.of_departments([first])) == list(
        DepartmentAssignment.objects.filter(user=officer)
    )
