"""People: no escalation through any form or URL, every user change in the change log, and
the service (perfplan.people) as what every way in calls.

The table RULES lists (actor, target, change) with whether it is allowed; each row is run
through the service and through the admin (crafted POSTs to the admin URLs) and must give
the same outcome both ways.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape
from django.utils.translation import gettext

from perfplan import people, roles
from perfplan.changelog import change_context
from perfplan.models import ChangeLogEntry, Department, DepartmentAssignment

pytestmark = pytest.mark.django_db

User = get_user_model()
PASSWORD = "people-test-pw-1"
NEW_PASSWORD = "people-test-pw-2-changed"


@pytest.fixture
def departments():
    return [Department.objects.create(name=f"부서{i}") for i in range(3)]


def person(username, *role_names, superuser=False):
    if superuser:
        return User.objects.create_superuser(username, f"{username}@example.org", PASSWORD)
    user = User.objects.create_user(username, password=PASSWORD, is_staff=bool(role_names))
    user.groups.add(*Group.objects.filter(name__in=role_names))
    return User.objects.get(pk=user.pk)


@pytest.fixture
def cast(db):
    return {
        "superuser": person("root", superuser=True),
        "plan_admin": person("planadmin", roles.PLAN_ADMIN),
        "other_plan_admin": person("planadmin2", roles.PLAN_ADMIN),
        "officer": person("officer", roles.OFFICER),
        "auditor": person("auditor", roles.AUDITOR),
    }


def fresh(user):
    return User.objects.get(pk=user.pk)


def state(user):
    """What may not change behind the rules' back, for comparing before and after."""
    user = fresh(user)
    return {
        "password": user.password,
        "is_superuser": user.is_superuser,
        "is_staff": user.is_staff,
        "is_active": user.is_active,
        "first_name": user.first_name,
        "roles": sorted(people.role_names(user)),
        "groups": sorted(user.groups.values_list("name", flat=True)),
        "perms": sorted(user.user_permissions.values_list("codename", flat=True)),
        "departments": sorted(
            DepartmentAssignment.objects.filter(user=user).values_list("department_id", flat=True)
        ),
    }


def entries_about(user, since=0):
    return list(
        ChangeLogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(User),
            object_id=str(user.pk),
            sequence__gt=since,
        ).order_by("sequence")
    )


def last_sequence():
    return (
        ChangeLogEntry.objects.order_by("-sequence").values_list("sequence", flat=True).first() or 0
    )


# ---------------------------------------------------------------- the admin forms as data


def change_form_data(client, user):
    """The change form's POST data as the page renders it for the client's user."""
    url = reverse("admin:auth_user_change", args=[user.pk])
    response = client.get(url)
    assert response.status_code == 200
    form = response.context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        if field.disabled or name == "password":
            continue
        value = form[name].value()
        if value is None:
            continue
        if isinstance(value, (list, tuple)):
            data[name] = [str(v) for v in value]
        elif isinstance(value, bool):
            if value:
                data[name] = "on"
        else:
            data[name] = str(value)
    return url, data


# ---------------------------------------------------------------- one table, two ways in

# (actor, target, change, allowed)
RULES = [
    ("plan_admin", "officer", "role_reviewer", True),
    ("plan_admin", "officer", "role_plan_admin", False),
    ("plan_admin", "officer", "departments", True),
    ("plan_admin", "officer", "deactivate", True),
    ("plan_admin", "officer", "name", True),
    ("plan_admin", "officer", "password", True),
    ("plan_admin", "auditor", "role_officer", True),
    ("plan_admin", "other_plan_admin", "deactivate", False),
    ("plan_admin", "other_plan_admin", "role_none", False),
    ("plan_admin", "other_plan_admin", "password", False),
    ("plan_admin", "other_plan_admin", "departments", False),
    ("plan_admin", "superuser", "password", False),
    ("plan_admin", "superuser", "deactivate", False),
    ("plan_admin", "superuser", "name", False),
    ("plan_admin", "plan_admin", "role_none", False),  # not their own roles either
    ("plan_admin", "plan_admin", "deactivate", False),
    ("auditor", "officer", "role_reviewer", False),
    ("auditor", "officer", "password", False),
    ("officer", "officer", "role_plan_admin", False),
    ("superuser", "officer", "role_plan_admin", True),
    ("superuser", "other_plan_admin", "password", True),
    ("superuser", "other_plan_admin", "role_none", True),
    ("superuser", "officer", "departments", True),
]


def expected_state(before, change, departments):
    after = dict(before)
    if change.startswith("role_"):
        wanted = {
            "role_reviewer": [roles.REVIEWER],
            "role_officer": [roles.OFFICER],
            "role_plan_admin": [roles.PLAN_ADMIN],
            "role_none": [],
        }[change]
        after["roles"] = after["groups"] = sorted(wanted)
        after["is_staff"] = bool(wanted) or before["is_superuser"]
    elif change == "departments":
        after["departments"] = sorted(d.pk for d in departments[:2])
    elif change == "deactivate":
        after["is_active"] = False
    elif change == "name":
        after["first_name"] = "새이름"
    return after


def through_service(actor, target, change, departments):
    reason = "표 검사"
    if change.startswith("role_"):
        wanted = {
            "role_reviewer": [roles.REVIEWER],
            "role_officer": [roles.OFFICER],
            "role_plan_admin": [roles.PLAN_ADMIN],
            "role_none": [],
        }[change]
        people.set_roles(actor, target, wanted, reason)
    elif change == "departments":
        people.set_departments(actor, target, departments[:2], reason)
    elif change == "deactivate":
        people.update_user(actor, target, reason=reason, is_active=False)
    elif change == "name":
        people.update_user(actor, target, reason=reason, first_name="새이름")
    elif change == "password":
        people.set_password(actor, target, NEW_PASSWORD, reason)


def through_admin(client, target, change, departments):
    """The same change as crafted POSTs to the admin, whatever the page offered."""
    if change == "password":
        url = reverse("admin:auth_user_password_change", args=[target.pk])
        return client.post(
            url,
            {
                "password1": NEW_PASSWORD,
                "password2": NEW_PASSWORD,
                "usable_password": "true",
                "reason": "표 검사",
            },
        )
    url = reverse("admin:auth_user_change", args=[target.pk])
    data = {
        "first_name": fresh(target).first_name,
        "last_name": "",
        "email": fresh(target).email,
        "is_active": "on",
        "roles": sorted(people.role_names(fresh(target))),
        "departments": [],
        "reason": "표 검사",
    }
    if change.startswith("role_"):
        data["roles"] = {
            "role_reviewer": [roles.REVIEWER],
            "role_officer": [roles.OFFICER],
            "role_plan_admin": [roles.PLAN_ADMIN],
            "role_none": [],
        }[change]
    elif change == "departments":
        data["departments"] = [str(d.pk) for d in departments[:2]]
    elif change == "deactivate":
        del data["is_active"]
    elif change == "name":
        data["first_name"] = "새이름"
    return client.post(url, data)


def password_changed(before, target):
    return fresh(target).password != before["password"]


@pytest.mark.parametrize("way", ["service", "admin"])
@pytest.mark.parametrize("actor_name, target_name, change, allowed", RULES)
def test_rules_are_the_same_every_way_in(
    cast, departments, client, way, actor_name, target_name, change, allowed
):
    actor, target = cast[actor_name], cast[target_name]
    before = state(target)
    if way == "service":
        try:
            through_service(actor, fresh(target), change, departments)
            outcome = "done"
        except people.PeopleDenied:
            outcome = "refused"
    else:
        client.force_login(actor)
        response = through_admin(client, target, change, departments)
        assert response.status_code in (200, 302, 403), response.status_code
        outcome = "done" if response.status_code == 302 else "refused"
    after = state(target)
    if change == "password":
        assert password_changed(before, target) == allowed
        assert {k: v for k, v in after.items() if k != "password"} == {
            k: v for k, v in before.items() if k != "password"
        }
    else:
        assert after == (expected_state(before, change, departments) if allowed else before)
    assert outcome == ("done" if allowed else "refused")


# ---------------------------------------------------------------- no escalation, by any URL


def test_plan_admin_cannot_make_anyone_superuser_or_grant_raw_permissions(cast, client):
    plan_admin, officer = cast["plan_admin"], cast["officer"]
    client.force_login(plan_admin)
    any_perm = Permission.objects.get(codename="delete_user")
    admin_group = Group.objects.get(name=roles.PLAN_ADMIN)
    for target in (officer, plan_admin):
        before = state(target)
        url, data = (
            change_form_data(client, target)
            if target is officer
            else (reverse("admin:auth_user_change", args=[target.pk]), {"reason": "x"})
        )
        data.update(
            {
                "is_superuser": "on",
                "is_staff": "on",
                "user_permissions": [str(any_perm.pk)],
                "groups": [str(admin_group.pk)],
                "reason": "승격 시도",
            }
        )
        client.post(url, data)
        assert state(target) == before, target
    # The add form: the flags and lists it does not offer are not taken from the POST.
    response = client.post(
        reverse("admin:auth_user_add"),
        {
            "username": "newcomer",
            "usable_password": "true",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
            "is_superuser": "on",
            "user_permissions": [str(any_perm.pk)],
            "groups": [str(admin_group.pk)],
            "roles": [roles.OFFICER],
            "reason": "신규 담당자",
        },
    )
    assert response.status_code == 302, (
        response.context and response.context["adminform"].form.errors
    )
    newcomer = User.objects.get(username="newcomer")
    assert not newcomer.is_superuser and newcomer.is_staff
    assert list(newcomer.user_permissions.all()) == []
    assert sorted(people.role_names(newcomer)) == [roles.OFFICER]
    # …and the plan-admin role is not on offer for a new user either.
    response = client.post(
        reverse("admin:auth_user_add"),
        {
            "username": "newadmin",
            "usable_password": "false",
            "roles": [roles.PLAN_ADMIN],
            "reason": "신규 관리자",
        },
    )
    assert response.status_code == 200
    assert not User.objects.filter(username="newadmin").exists()


def test_no_form_offers_the_superuser_flag_or_raw_permissions(cast, client):
    for actor in ("plan_admin", "superuser"):
        client.force_login(cast[actor])
        for url in (
            reverse("admin:auth_user_add"),
            reverse("admin:auth_user_change", args=[cast["officer"].pk]),
        ):
            form = client.get(url).context["adminform"].form
            offered = set(form.fields)
            assert not offered & {"is_superuser", "is_staff", "user_permissions", "groups"}, url
            assert "roles" in offered and "reason" in offered
            choices = [value for value, _label in form.fields["roles"].choices]
            assert (roles.PLAN_ADMIN in choices) == (actor == "superuser")


@pytest.mark.parametrize("target_name", ["superuser", "other_plan_admin"])
def test_every_user_admin_url_of_a_protected_account(cast, client, target_name):
    target = cast[target_name]
    client.force_login(cast["plan_admin"])
    before = state(target)
    password_url = reverse("admin:auth_user_password_change", args=[target.pk])
    for method in (client.get, client.post):
        response = method(password_url)
        assert response.status_code == 403
        # Says what and whose, in the page's language (Korean first).
        with translation.override("ko"):
            message = gettext("You may not set the password of %(user)s: only a superuser does.")
        assert escape(message % {"user": target.username}) in response.content.decode()
    response = client.post(
        password_url,
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "reason": "탈취"},
    )
    assert response.status_code == 403
    delete_url = reverse("admin:auth_user_delete", args=[target.pk])
    assert client.get(delete_url).status_code == 403
    assert client.post(delete_url, {"post": "yes"}).status_code == 403
    change_url = reverse("admin:auth_user_change", args=[target.pk])
    page = client.get(change_url)
    assert page.status_code == 200  # read-only: no form fields to post
    assert (
        not page.context["adminform"].form.fields or page.context["has_change_permission"] is False
    )
    assert client.post(change_url, {"is_active": "", "reason": "x"}).status_code == 403
    assert client.get(reverse("admin:auth_user_history", args=[target.pk])).status_code == 200
    assert User.objects.filter(pk=target.pk).exists()
    assert state(target) == before


def test_nobody_deletes_users_and_role_groups_are_read_only(cast, client):
    client.force_login(cast["superuser"])
    officer = cast["officer"]
    assert client.get(reverse("admin:auth_user_delete", args=[officer.pk])).status_code == 403
    group = Group.objects.get(name=roles.OFFICER)
    response = client.post(
        reverse("admin:auth_group_change", args=[group.pk]),
        {"name": roles.OFFICER, "permissions": [str(Permission.objects.first().pk)]},
    )
    assert response.status_code == 403
    page = client.get(reverse("admin:auth_group_change", args=[group.pk]))
    assert page.status_code == 200
    assert "실적" in page.content.decode()  # permission names read in Korean


def test_department_assignment_admin_only_lists(cast, departments, client):
    officer = cast["officer"]
    people.set_departments(cast["plan_admin"], officer, departments[:1], "배정")
    assignment = DepartmentAssignment.objects.get(user=officer)
    client.force_login(cast["plan_admin"])
    assert client.get(reverse("admin:perfplan_departmentassignment_changelist")).status_code == 200
    add_url = reverse("admin:perfplan_departmentassignment_add")
    assert (
        client.post(add_url, {"user": officer.pk, "department": departments[1].pk}).status_code
        == 403
    )
    delete_url = reverse("admin:perfplan_departmentassignment_delete", args=[assignment.pk])
    assert client.post(delete_url, {"post": "yes"}).status_code == 403
    assert state(officer)["departments"] == [departments[0].pk]


def test_a_reason_is_required(cast, client):
    officer = cast["officer"]
    with pytest.raises(people.PeopleDenied):
        people.update_user(cast["plan_admin"], officer, reason=" ", is_active=False)
    client.force_login(cast["plan_admin"])
    url, data = change_form_data(client, officer)
    data.pop("is_active", None)
    data["reason"] = ""
    assert client.post(url, data).status_code == 200  # the form asks for it
    assert fresh(officer).is_active


# ---------------------------------------------------------------- the change log


def test_every_change_through_the_service_is_logged_with_who_and_why(cast, departments):
    admin, officer = cast["plan_admin"], cast["officer"]
    since = last_sequence()
    people.set_password(officer, officer, PASSWORD, "본인 변경")
    people.update_user(admin, officer, reason="휴직", is_active=False)
    people.set_roles(admin, officer, [roles.REVIEWER], "승인자로 변경")
    people.set_departments(admin, officer, departments[:2], "배정")
    people.set_departments(admin, officer, departments[1:2], "배정 해제")
    people.set_password(admin, officer, NEW_PASSWORD, "분실 신고")

    entries = ChangeLogEntry.objects.filter(sequence__gt=since).order_by("sequence")
    rows = [(e.username, e.reason, e.action, e.changes) for e in entries]
    assert all(e.user_id in (admin.pk, officer.pk) for e in entries)
    about_user = [(r, a, c) for _u, r, a, c in rows]
    assert ("휴직", "update", {"is_active": [True, False]}) in about_user
    assert ("승인자로 변경", "assign", {"groups": [[roles.OFFICER], []]}) in about_user
    assert ("승인자로 변경", "assign", {"groups": [[], [roles.REVIEWER]]}) in about_user
    assigned = [e for e in entries if e.reason == "배정"]
    assert {e.department_id for e in assigned} == {departments[0].pk, departments[1].pk}
    assert [e.action for e in entries if e.reason == "배정 해제"] == ["delete"]
    password_entries = [e for e in entries if "password" in e.changes]
    assert [(e.username, e.reason, e.changes["password"][1]) for e in password_entries] == [
        ("officer", "본인 변경", "set"),
        ("planadmin", "분실 신고", "reset"),
    ]
    text = str(rows)
    assert fresh(officer).password not in text and "pbkdf2" not in text


def test_changes_made_any_other_way_are_logged_too(cast):
    """A shell, a third-party app: no service, still an entry for each change."""
    officer = cast["officer"]
    since = last_sequence()
    perm = Permission.objects.get(codename="delete_user")
    with change_context(reason="셸에서"):
        officer.is_superuser = True
        officer.is_staff = False
        officer.email = "x@example.org"
        officer.save()
        officer.user_permissions.add(perm)
        officer.user_permissions.clear()
        officer.groups.clear()
        Group.objects.get(name=roles.PLAN_ADMIN).user_set.add(officer)
        officer.set_password(NEW_PASSWORD)
        officer.save()
        officer.password = "pbkdf2_sha256$1$forged$forged"
        officer.save(update_fields=["password"])
    changes = [e.changes for e in entries_about(officer, since)]
    assert {
        "is_superuser": [False, True],
        "is_staff": [True, False],
        "email": ["", "x@example.org"],
    } in changes
    assert {"user_permissions": [[], ["auth.delete_user"]]} in changes
    assert {"user_permissions": [["auth.delete_user"], []]} in changes
    assert {"groups": [[roles.OFFICER], []]} in changes
    assert {"groups": [[], [roles.PLAN_ADMIN]]} in changes
    assert {"password": [None, "reset"]} in changes  # no actor in a shell: not the owner
    assert {"password": [None, "hash replaced"]} in changes
    assert all(e.reason == "셸에서" for e in entries_about(officer, since))
    assert "forged" not in str(changes)


def test_a_login_writes_no_entry_but_a_superuser_from_createsuperuser_does(client, cast):
    officer = cast["officer"]
    since = last_sequence()
    response = client.post(reverse("admin:login"), {"username": "officer", "password": PASSWORD})
    assert response.status_code == 302 and "_auth_user_id" in client.session
    assert entries_about(officer, since) == []
    call_command(
        "createsuperuser", username="boss", email="boss@example.org", interactive=False, verbosity=0
    )
    boss = User.objects.get(username="boss")
    (entry,) = entries_about(boss, since)
    assert entry.action == "create" and entry.changes["is_superuser"] == [None, True]


def test_the_admin_writes_its_changes_through_the_service(cast, departments, client):
    """The admin's change form and password form: entries with the actor and the reason."""
    admin, officer = cast["plan_admin"], cast["officer"]
    client.force_login(admin)
    since = last_sequence()
    url, data = change_form_data(client, officer)
    data.update(
        {
            "roles": [roles.REVIEWER],
            "departments": [str(departments[0].pk)],
            "reason": "인사 발령",
        }
    )
    data.pop("is_active", None)
    assert client.post(url, data).status_code == 302
    response = client.post(
        reverse("admin:auth_user_password_change", args=[officer.pk]),
        {
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
            "usable_password": "true",
            "reason": "초기화",
        },
    )
    assert response.status_code == 302
    entries = ChangeLogEntry.objects.filter(sequence__gt=since)
    assert {e.reason for e in entries} == {"인사 발령", "초기화"}
    assert {e.user_id for e in entries} == {admin.pk}
    after = state(officer)
    assert after["roles"] == [roles.REVIEWER] and not after["is_active"]
    assert after["departments"] == [departments[0].pk]
    assert fresh(officer).check_password(NEW_PASSWORD)
    history = client.get(reverse("admin:auth_user_history", args=[officer.pk])).content.decode()
    assert "인사 발령" in history and "초기화" in history


def test_load_demo_users_come_through_the_service(cast, departments):
    """The demo's creation path: people.create_user as the operator (actor None)."""
    since = last_sequence()
    user = people.create_user(
        None,
        "demo_officer",
        reason="Demo data (load_demo)",
        password=PASSWORD,
        roles=[roles.OFFICER],
        departments=departments[:1],
    )
    assert user.is_staff and not user.is_superuser
    assert {e.reason for e in ChangeLogEntry.objects.filter(sequence__gt=since)} == {
        "Demo data (load_demo)"
    }
    with pytest.raises(TypeError):
        people.create_user(None, "x", reason="r", is_superuser=True)  # no such way in


def test_the_admin_forms_call_the_service(cast, departments, client, monkeypatch):
    """Each admin form reaches perfplan.people: with the service refusing everything, no
    form changes anything."""
    called = []

    def refuse(name):
        def refused(*args, **kwargs):
            called.append(name)
            raise people.PeopleDenied("refused by the test")

        return refused

    for name in ("create_user", "update_user", "set_roles", "set_departments", "set_password"):
        monkeypatch.setattr(people, name, refuse(name))
    officer = cast["officer"]
    before = state(officer)
    client.force_login(cast["superuser"])
    url, data = change_form_data(client, officer)
    data.update({"first_name": "바뀜", "roles": [roles.AUDITOR], "reason": "r"})
    assert client.post(url, data).status_code == 403
    response = client.post(
        reverse("admin:auth_user_password_change", args=[officer.pk]),
        {
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
            "usable_password": "true",
            "reason": "r",
        },
    )
    assert response.status_code == 403
    response = client.post(
        reverse("admin:auth_user_add"),
        {"username": "nobody", "usable_password": "false", "roles": [roles.OFFICER], "reason": "r"},
    )
    assert response.status_code == 403
    assert called == ["update_user", "set_password", "create_user"]
    assert state(officer) == before
    assert not User.objects.filter(username="nobody").exists()
