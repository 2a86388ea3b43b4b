"""Optimistic locking: no lost updates, in code, in the admin and between two real sessions."""

import threading
import time
from datetime import date
from decimal import Decimal
from unittest import mock

import pytest
from django.contrib import admin
from django.contrib.admin.sites import AdminSite
from django.contrib.auth.models import Group, Permission
from django.db import connection, connections, transaction
from django.urls import reverse

from goals.admin import StrategicGoalAdmin
from goals.models import StrategicGoal
from goals.tests.factories import make_plan
from indicators.models import Result
from perfplan import roles
from perfplan.admin import DepartmentAdmin
from perfplan.admin_base import PlanDataAdmin
from perfplan.changelog import change_context
from perfplan.locking import (
    LOADED_VERSION_FIELD,
    ConcurrentEditError,
    OptimisticLockAdminMixin,
    save_versioned,
)
from perfplan.models import Department, DepartmentAssignment

FUTURE_YEAR = date.today().year + 1
needs_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="two concurrent sessions need PostgreSQL (SQLite has no row locks): "
    "run with DATABASE_URL=postgres://…",
)


def sync_groups(role):
    if not Group.objects.filter(name=role).exists():  # flushed by a transactional test
        roles.sync_role_groups(Group, Permission)


def make_user(django_user_model, username, role, *departments):
    sync_groups(role)
    # No password: tests log in with force_login, and hashing one costs a second.
    user = django_user_model.objects.create_user(username, is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    for department in departments:
        DepartmentAssignment.objects.create(user=user, department=department)
    return user


def first_goal(year=FUTURE_YEAR):
    plan = make_plan(year, departments=1, goals=1, policy_goals=1, indicators=1)
    return StrategicGoal.objects.get(plan_department__plan=plan)


# ---------------------------------------------------------------- save_versioned


@pytest.mark.django_db
def test_save_with_the_loaded_version_saves_and_bumps_it():
    goal = first_goal()
    assert goal.version == 1
    goal.budget = Decimal("777")
    save_versioned(goal, 1)
    stored = StrategicGoal.objects.get(pk=goal.pk)
    assert (stored.budget, stored.version, goal.version) == (Decimal("777"), 2, 2)


@pytest.mark.django_db
def test_stale_save_is_refused_with_the_newer_value_and_writes_nothing(django_user_model):
    goal = first_goal()
    mine = StrategicGoal.objects.get(pk=goal.pk)
    theirs = StrategicGoal.objects.get(pk=goal.pk)
    first = django_user_model.objects.create_user("kim")
    with change_context(user=first):
        theirs.budget = Decimal("1234.5")
        save_versioned(theirs, 1)
    mine.budget = Decimal("99")
    with pytest.raises(ConcurrentEditError) as caught:
        save_versioned(mine, 1)
    error = caught.value
    assert error.current.budget == Decimal("1234.5") and error.current_version == 2
    assert error.expected_version == 1
    assert "1,234.5" in error.message  # the newer value, as people read amounts
    assert "kim" in error.message  # and who made it
    stored = StrategicGoal.objects.get(pk=goal.pk)
    assert (stored.budget, stored.version) == (Decimal("1234.5"), 2)
    assert mine.version == 1  # the refused copy keeps the version it was loaded at


@pytest.mark.django_db
def test_without_an_expected_version_the_row_is_locked_and_bumped_only():
    goal = first_goal()
    other = StrategicGoal.objects.get(pk=goal.pk)
    other.name = "바뀐 이름"
    save_versioned(other, None)
    goal.budget = Decimal("5")
    save_versioned(goal, None, update_fields=["budget"])
    stored = StrategicGoal.objects.get(pk=goal.pk)
    # update_fields kept the other writer's name; both saves bumped the version.
    assert (stored.name, stored.budget, stored.version) == ("바뀐 이름", Decimal("5"), 3)


@pytest.mark.django_db
def test_a_deleted_row_is_reported_not_recreated():
    goal = first_goal()
    copy = StrategicGoal.objects.get(pk=goal.pk)
    StrategicGoal.objects.filter(pk=goal.pk).delete()
    copy.budget = Decimal("1")
    with pytest.raises(ConcurrentEditError, match="deleted|삭제"):
        save_versioned(copy, 1)
    assert not StrategicGoal.objects.filter(pk=goal.pk).exists()


@pytest.mark.django_db
def test_a_new_object_is_inserted_at_version_1():
    goal = first_goal()
    new = StrategicGoal(plan_department=goal.plan_department, name="새 목표", budget=1)
    save_versioned(new, None)
    assert StrategicGoal.objects.get(pk=new.pk).version == 1


# ---------------------------------------------------------------- the admin mixin


def test_every_plan_data_admin_refuses_a_stale_save():
    # The shared base carries the mixin: no admin needs wrapping on its own.
    assert issubclass(PlanDataAdmin, OptimisticLockAdminMixin)
    admins = [a for a in admin.site._registry.values() if isinstance(a, PlanDataAdmin)]
    assert {type(a).__name__ for a in admins} >= {
        "StrategicGoalAdmin",
        "IndicatorAdmin",
        "ResultAdmin",
        "UnitProgramAdmin",
    }
    assert all(isinstance(a, OptimisticLockAdminMixin) for a in admins)


@pytest.fixture
def plan_admin(django_user_model):
    return make_user(django_user_model, "planadmin", roles.PLAN_ADMIN)


def admin_form_data(response):
    """The POST data of an admin change form as it was rendered (inlines included)."""
    data = {}

    def put(form):
        for name in form.fields:
            value = form[name].value()
            if isinstance(value, bool):
                if value:
                    data[form.add_prefix(name)] = "on"
                continue
            if value is None:
                continue
            data[form.add_prefix(name)] = value

    put(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        put(formset.management_form)
        for form in formset.forms:
            put(form)
    return data


@pytest.mark.django_db
def test_change_form_carries_the_version_and_refuses_a_stale_save(client, plan_admin):
    goal = first_goal()
    client.force_login(plan_admin)
    url = reverse("admin:goals_strategicgoal_change", args=[goal.pk])
    page = client.get(url)
    html = page.content.decode()
    assert f'name="{LOADED_VERSION_FIELD}" value="1"' in html
    data = admin_form_data(page)
    # Someone else saves first.
    other = StrategicGoal.objects.get(pk=goal.pk)
    other.budget = Decimal("4321")
    save_versioned(other, 1)
    data["budget"] = "10"
    response = client.post(url, data)
    assert response.status_code == 200  # the form again, with the error, not a 500
    errors = response.context["adminform"].form.non_field_errors()
    assert len(errors) == 1 and "4,321" in errors[0]
    stored = StrategicGoal.objects.get(pk=goal.pk)
    assert (stored.budget, stored.version) == (Decimal("4321"), 2)
    # Reopened at the newer version, the change goes through and bumps it.
    data = admin_form_data(client.get(url))
    assert data[LOADED_VERSION_FIELD] == 2
    data["budget"] = "10"
    response = client.post(url, data)
    assert response.status_code == 302
    stored = StrategicGoal.objects.get(pk=goal.pk)
    assert (stored.budget, stored.version) == (Decimal("10"), 3)


@pytest.mark.django_db
def test_change_form_without_a_version_is_refused(client, plan_admin):
    goal = first_goal()
    client.force_login(plan_admin)
    url = reverse("admin:goals_strategicgoal_change", args=[goal.pk])
    data = admin_form_data(client.get(url))
    del data[LOADED_VERSION_FIELD]
    data["budget"] = "10"
    response = client.post(url, data)
    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors()
    assert StrategicGoal.objects.get(pk=goal.pk).budget != Decimal("10")


@pytest.mark.django_db
def test_a_conflict_found_during_the_save_is_a_message_not_a_500(client, plan_admin):
    goal = first_goal()
    client.force_login(plan_admin)
    url = reverse("admin:goals_strategicgoal_change", args=[goal.pk])
    data = admin_form_data(client.get(url))
    data["budget"] = "10"

    def conflict(self, request, obj, form, change):
        raise ConcurrentEditError(StrategicGoal.objects.get(pk=obj.pk), 1, message="바뀜")

    with mock.patch.object(StrategicGoalAdmin, "save_model", conflict):
        response = client.post(url, data, follow=True)
    assert response.status_code == 200
    assert "바뀜" in [str(m) for m in response.context["messages"]]
    assert StrategicGoal.objects.get(pk=goal.pk).budget != Decimal("10")


@pytest.mark.django_db
def test_view_only_users_and_unversioned_models_get_no_version_field(
    client, django_user_model, plan_admin
):
    goal = first_goal()
    auditor = make_user(django_user_model, "auditor", roles.AUDITOR)
    client.force_login(auditor)
    page = client.get(reverse("admin:goals_strategicgoal_change", args=[goal.pk]))
    assert page.status_code == 200
    assert LOADED_VERSION_FIELD not in page.content.decode()
    department = Department.objects.first()
    factory_request = mock.Mock(user=plan_admin)
    department_admin = DepartmentAdmin(Department, AdminSite())
    fields = department_admin.get_fieldsets(factory_request, department)[0][1]["fields"]
    assert LOADED_VERSION_FIELD not in fields


@pytest.mark.django_db
def test_inline_rows_get_their_version_bumped(client, plan_admin):
    goal = first_goal()
    client.force_login(plan_admin)
    url = reverse("admin:goals_plandepartment_change", args=[goal.plan_department.pk])
    data = admin_form_data(client.get(url))
    prefix = "strategic_goals-0-"
    data[prefix + "name"] = "인라인에서 바꾼 이름"
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    stored = StrategicGoal.objects.get(pk=goal.pk)
    assert (stored.name, stored.version) == ("인라인에서 바꾼 이름", 2)


# ---------------------------------------------------------------- two real sessions


def _in_thread(target, results, key):
    def run():
        try:
            results[key] = target()
        except Exception as exc:  # handed to the test thread
            results[key] = exc
        finally:
            connections.close_all()  # this thread's own connection

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


@pytest.mark.postgres
@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_second_session_waits_for_the_first_and_is_refused():
    goal = first_goal()
    first_saved, let_first_commit = threading.Event(), threading.Event()
    results = {}

    def first_writer():
        with transaction.atomic():
            mine = StrategicGoal.objects.get(pk=goal.pk)
            mine.budget = Decimal("111")
            save_versioned(mine, 1)
            first_saved.set()
            assert let_first_commit.wait(10)
        return "saved"

    def second_writer():
        assert first_saved.wait(10)
        mine = StrategicGoal.objects.get(pk=goal.pk)  # reads version 1: not committed yet
        assert mine.version == 1
        mine.budget = Decimal("222")
        return save_versioned(mine, 1)  # blocks on the row lock until the first commits

    a = _in_thread(first_writer, results, "first")
    b = _in_thread(second_writer, results, "second")
    assert first_saved.wait(10)
    time.sleep(0.5)
    assert b.is_alive(), "the second writer did not wait for the first one's row lock"
    let_first_commit.set()
    a.join(10)
    b.join(10)
    assert results["first"] == "saved"
    error = results["second"]
    assert isinstance(error, ConcurrentEditError), error
    assert error.current.budget == Decimal("111") and "111" in error.message
    stored = StrategicGoal.objects.get(pk=goal.pk)
    assert (stored.budget, stored.version) == (Decimal("111"), 2)


@pytest.mark.postgres
@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_two_officers_saving_the_same_result_at_once_one_wins(django_user_model):
    from indicators.workflow import save_result

    plan = make_plan(FUTURE_YEAR, departments=1, goals=1, policy_goals=1, indicators=1)
    department = plan.departments.get().department
    officers = [
        make_user(django_user_model, f"officer{i}", roles.OFFICER, department) for i in (1, 2)
    ]
    indicator = plan.departments.get().strategic_goals.get().policy_goals.get().indicators.get()
    result = save_result(officers[0], indicator, "Y", value="1", expected_version=0)
    for attempt in range(3):
        start = threading.Barrier(2)
        results = {}
        version = Result.objects.get(pk=result.pk).version

        def writer(officer, value, version=version, start=start):
            start.wait(10)
            return save_result(officer, indicator, "Y", value=value, expected_version=version)

        threads = [
            _in_thread(lambda o=o, v=v: writer(o, v), results, v)
            for o, v in zip(officers, (f"{10 + attempt}", f"{20 + attempt}"), strict=True)
        ]
        for thread in threads:
            thread.join(15)
        outcomes = sorted(type(r).__name__ for r in results.values())
        assert outcomes == ["ConcurrentEditError", "Result"], results
        winner = next(r for r in results.values() if isinstance(r, Result))
        loser = next(r for r in results.values() if isinstance(r, ConcurrentEditError))
        stored = Result.objects.get(pk=result.pk)
        assert stored.value == winner.value and stored.version == version + 1
        assert loser.current.value == winner.value


@pytest.mark.postgres
@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_two_officers_creating_the_same_result_at_once_one_wins(django_user_model):
    from indicators.workflow import save_result

    plan = make_plan(FUTURE_YEAR, departments=1, goals=1, policy_goals=1, indicators=1)
    department = plan.departments.get().department
    officers = [
        make_user(django_user_model, f"officer{i}", roles.OFFICER, department) for i in (1, 2)
    ]
    indicator = plan.departments.get().strategic_goals.get().policy_goals.get().indicators.get()
    start = threading.Barrier(2)
    results = {}

    def writer(officer, value):
        start.wait(10)
        return save_result(officer, indicator, "Y", value=value, expected_version=0)

    threads = [
        _in_thread(lambda o=o, v=v: writer(o, v), results, v)
        for o, v in zip(officers, ("5", "6"), strict=True)
    ]
    for thread in threads:
        thread.join(15)
    outcomes = sorted(type(r).__name__ for r in results.values())
    assert outcomes == ["ConcurrentEditError", "Result"], results
    assert Result.objects.filter(indicator=indicator).count() == 1
