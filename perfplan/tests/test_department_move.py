"""Department moved from goals into perfplan's core without moving a row (issue 11, break 3).

A database with data from before the move (perfplan 0009, goals 0002, indicators 0010) is
migrated forward and back with Django's MigrationExecutor: every row keeps its id and its
links, the content type keeps its id under its new label (the change log's hashes cover it)
and the permissions granted to groups follow it.
"""

from __future__ import annotations

import datetime
import io

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from goals.models import PlanDepartment
from indicators.models import EntryException
from perfplan import roles
from perfplan.changelog import ChainWriter, seal, verify_chain
from perfplan.models import ChangeLogEntry, Department, DepartmentAssignment

BEFORE = [
    ("perfplan", "0009_change_log_sealer"),
    ("goals", "0002_versions_and_original_budget"),
    ("indicators", "0010_standing_input_changes"),
]
GRANTED = "부서 이관 시험"  # a group of our own, besides the role groups


def migrate(targets=None):
    """Migrate the test database to `targets` (default: every app's latest migration)."""
    executor = MigrationExecutor(connection)
    targets = targets or executor.loader.graph.leaf_nodes()
    executor.migrate(targets)
    return MigrationExecutor(connection).loader.project_state(targets).apps


def department_type(app_label):
    return ContentType.objects.filter(app_label=app_label, model="department").first()


def group_permissions(name):
    group = Group.objects.get(name=name)
    return set(group.permissions.values_list("pk", "content_type__app_label", "codename"))


def make_old_data(old):
    """Rows of every kind that points to a department, made with the models of before."""
    department = old.get_model("goals", "Department").objects.create(code="D-01", name="기획실")
    user = old.get_model("auth", "User").objects.create(username="department-move")
    assignment = old.get_model("perfplan", "DepartmentAssignment").objects.create(
        user=user, department=department
    )
    plan = old.get_model("perfplan", "Plan").objects.create(fiscal_year=2031, title="이관")
    plan_department = old.get_model("goals", "PlanDepartment").objects.create(
        plan=plan, department=department, name="기획실"
    )
    exception = old.get_model("indicators", "EntryException").objects.create(
        plan=plan,
        department=department,
        period="Q1",
        open_until=datetime.date(2031, 5, 1),
        reason="이관 시험",
    )
    content_type = old.get_model("contenttypes", "ContentType").objects.get(
        app_label="goals", model="department"
    )
    permission = old.get_model("auth", "Permission").objects.get(
        content_type=content_type, codename="change_department"
    )
    old.get_model("auth", "Group").objects.create(name=GRANTED).permissions.add(permission)
    with ChainWriter(reason="이관 전") as chain:
        chain.append(
            "update",
            content_type.pk,
            department.pk,
            department.name,
            department.pk,
            None,
            {"name": ["기획조정실", "기획실"]},
        )
    seal()
    return {
        "department": department.pk,
        "assignment": assignment.pk,
        "plan_department": plan_department.pk,
        "exception": exception.pk,
        "content_type": content_type.pk,
        "permission": permission.pk,
    }


def assert_verified():
    assert verify_chain().ok
    call_command("verify_change_log", stdout=io.StringIO())  # CommandError when broken


@pytest.mark.django_db(transaction=True)  # migrations cannot run inside the test's transaction
def test_department_moves_to_perfplan_keeping_rows_content_type_and_grants():
    role_grants = {role: group_permissions(role) for role in roles.ROLES}
    try:
        ids = make_old_data(migrate(BEFORE))
        assert department_type("perfplan") is None
        old_grants = {role: group_permissions(role) for role in (*roles.ROLES, GRANTED)}

        migrate()
        ContentType.objects.clear_cache()
        department = Department.objects.get(pk=ids["department"])
        assert (department.code, department.name) == ("D-01", "기획실")
        assert DepartmentAssignment.objects.get(pk=ids["assignment"]).department == department
        assert PlanDepartment.objects.get(pk=ids["plan_department"]).department == department
        assert EntryException.objects.get(pk=ids["exception"]).department == department
        content_type = ContentType.objects.get_for_model(Department)
        assert content_type.pk == ids["content_type"]
        assert department_type("goals") is None
        entry = ChangeLogEntry.objects.get(reason="이관 전")
        assert (entry.content_type_id, entry.department_id) == (content_type.pk, department.pk)
        assert_verified()
        # The same permission rows, now perfplan's; the groups hold exactly what they held.
        permission = Permission.objects.get(pk=ids["permission"])
        assert (permission.content_type_id, permission.codename) == (
            content_type.pk,
            "change_department",
        )
        for name, held in old_grants.items():
            moved = {
                (pk, "perfplan" if (app, model) == ("goals", "department") else app, code)
                for pk, app, code in held
                for model in [code.split("_", 1)[1]]
            }
            assert group_permissions(name) == moved, name
        assert group_permissions(GRANTED) == {(permission.pk, "perfplan", "change_department")}
        for role in roles.ROLES:
            assert group_permissions(role) == role_grants[role], role
        user = DepartmentAssignment.objects.get(pk=ids["assignment"]).user
        user.groups.add(Group.objects.get(name=GRANTED))
        assert user.has_perm("perfplan.change_department")

        # And back: the type returns to goals under the same id, the grants with it.
        migrate(BEFORE)
        old_type = department_type("goals")
        assert old_type is not None and old_type.pk == ids["content_type"]
        assert department_type("perfplan") is None
        assert group_permissions(GRANTED) == {(ids["permission"], "goals", "change_department")}
        assert_verified()
    finally:
        migrate()
        ContentType.objects.clear_cache()


def test_the_core_models_point_to_no_app_above():
    """import-linter cannot see string foreign keys: the core's models may point only to the
    core and to Django's own apps (break 3 was perfplan's keys to goals.Department)."""
    below = {"perfplan", "auth", "contenttypes"}
    upward = [
        f"{model._meta.label}.{field.name} -> {field.related_model._meta.label}"
        for model in apps.get_app_config("perfplan").get_models()
        for field in model._meta.get_fields()
        if field.is_relation and field.concrete and field.related_model._meta.app_label not in below
    ]
    assert upward == []
