"""Plan amendments: after publication a target or budget changes only with a reason."""

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import translation

from budgets.models import UnitProgram
from goals.amendments import (
    AmendmentError,
    amend,
    budgets_side_by_side,
    publish,
    requires_reason,
    targets_side_by_side,
)
from goals.models import StrategicGoal
from goals.tests.factories import make_plan
from indicators.models import Indicator
from perfplan import roles
from perfplan.locking import LOADED_VERSION_FIELD, ConcurrentEditError
from perfplan.models import ChangeLogEntry, DepartmentAssignment, Plan

pytestmark = pytest.mark.django_db
YEAR = date.today().year + 1


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def make_user(django_user_model, username, role, *departments):
    if not Group.objects.filter(name=role).exists():
        roles.sync_role_groups(Group, Permission)
    user = django_user_model.objects.create_user(username, is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    for department in departments:
        DepartmentAssignment.objects.create(user=user, department=department)
    return user


@pytest.fixture
def plan():
    plan = make_plan(YEAR, departments=1, goals=1, policy_goals=1, indicators=1, unit_programs=1)
    Indicator.objects.update(annual_target=Decimal("80"))
    return plan


@pytest.fixture
def plan_admin(django_user_model):
    return make_user(django_user_model, "planadmin", roles.PLAN_ADMIN)


def amendable(plan, kind):
    """(object, field, published value) of each amendable kind in the plan."""
    if kind == "indicator":
        return Indicator.objects.get(), "annual_target", Decimal("80")
    if kind == "strategic goal":
        return StrategicGoal.objects.get(plan_department__plan=plan), "budget", Decimal("100")
    return UnitProgram.objects.get(), "budget", Decimal("10")


KINDS = ["indicator", "strategic goal", "unit program"]


def log_of(obj):
    return ChangeLogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(type(obj)), object_id=str(obj.pk)
    ).order_by("sequence")


def original(obj, field):
    return getattr(obj, "original_annual_target" if field == "annual_target" else "original_budget")


# ---------------------------------------------------------------- publishing


def test_plan_admin_publishes_once(plan, plan_admin):
    assert plan.published_at is None
    publish(plan_admin, plan)
    stored = Plan.objects.get(pk=plan.pk)
    assert stored.published_at is not None and stored.version == plan.version
    assert log_of(stored).last().changes["published_at"][0] is None
    with pytest.raises(AmendmentError, match="already published"):
        publish(plan_admin, plan)


@pytest.mark.parametrize("role", [roles.OFFICER, roles.REVIEWER, roles.AUDITOR])
def test_only_plan_admins_publish(plan, django_user_model, role):
    department = plan.departments.get().department
    user = make_user(django_user_model, "someone", role, department)
    with pytest.raises(AmendmentError, match="Only a plan admin"):
        publish(user, plan)
    assert Plan.objects.get(pk=plan.pk).published_at is None


# ---------------------------------------------------------------- amending


@pytest.mark.parametrize("kind", KINDS)
def test_before_publication_values_change_freely(plan, plan_admin, kind):
    obj, field, published = amendable(plan, kind)
    assert not requires_reason(obj, field)
    amend(plan_admin, obj, field, "95")
    stored = type(obj).objects.get(pk=obj.pk)
    assert getattr(stored, field) == Decimal("95") and original(stored, field) is None
    assert log_of(stored).last().reason == ""


@pytest.mark.parametrize("kind", KINDS)
def test_after_publication_a_change_needs_a_reason(plan, plan_admin, kind):
    publish(plan_admin, plan)
    obj, field, published = amendable(plan, kind)
    assert requires_reason(obj, field)
    before = log_of(obj).count()
    for reason in ("", "  "):
        with pytest.raises(AmendmentError, match="needs a reason"):
            amend(plan_admin, obj, field, "95", reason)
    stored = type(obj).objects.get(pk=obj.pk)
    assert getattr(stored, field) == published and original(stored, field) is None
    assert log_of(obj).count() == before


@pytest.mark.parametrize("kind", KINDS)
def test_an_amendment_keeps_the_published_value_and_logs_the_reason(plan, plan_admin, kind):
    publish(plan_admin, plan)
    obj, field, published = amendable(plan, kind)
    amend(plan_admin, obj, field, "95", "추경 반영")
    stored = type(obj).objects.get(pk=obj.pk)
    assert getattr(stored, field) == Decimal("95") and original(stored, field) == published
    entry = log_of(obj).last()
    assert entry.reason == "추경 반영" and entry.username == "planadmin"
    assert entry.changes[field] == [format(published.normalize(), "f"), "95"]
    # A second amendment never overwrites the published value.
    amend(plan_admin, stored, field, "90", "2차 추경")
    stored = type(obj).objects.get(pk=obj.pk)
    assert getattr(stored, field) == Decimal("90") and original(stored, field) == published
    assert log_of(obj).last().reason == "2차 추경"


def test_no_change_is_no_amendment(plan, plan_admin):
    publish(plan_admin, plan)
    obj, field, published = amendable(plan, "indicator")
    before = (log_of(obj).count(), Indicator.objects.get().version)
    amend(plan_admin, obj, field, "80.0")  # the same value, no reason needed
    assert (log_of(obj).count(), Indicator.objects.get().version) == before


def test_side_by_side(plan, plan_admin):
    indicator, field, published = amendable(plan, "indicator")
    assert targets_side_by_side(indicator) == (published, published)
    publish(plan_admin, plan)
    amend(plan_admin, indicator, field, "120", "상향 조정")
    assert targets_side_by_side(Indicator.objects.get()) == (published, Decimal("120"))
    goal, _field, goal_budget = amendable(plan, "strategic goal")
    assert budgets_side_by_side(goal) == (goal_budget, goal_budget)


def test_amend_is_refused_without_permission_or_with_a_stale_copy(
    plan, plan_admin, django_user_model
):
    officer = make_user(
        django_user_model, "officer", roles.OFFICER, plan.departments.get().department
    )
    obj, field, published = amendable(plan, "indicator")
    with pytest.raises(AmendmentError, match="may not change"):
        amend(officer, obj, field, "1")
    stale = Indicator.objects.get(pk=obj.pk)
    amend(plan_admin, obj, field, "81", expected_version=obj.version)
    with pytest.raises(ConcurrentEditError) as caught:
        amend(plan_admin, stale, field, "82", expected_version=stale.version)
    assert "81" in caught.value.message
    assert Indicator.objects.get().annual_target == Decimal("81")


def test_amend_refuses_fields_that_are_not_amendable_and_bad_values(plan, plan_admin):
    obj, field, published = amendable(plan, "indicator")
    with pytest.raises(ValueError):
        amend(plan_admin, obj, "weight", "1")
    with pytest.raises(AmendmentError):
        amend(plan_admin, obj, field, "열")


# ---------------------------------------------------------------- admin


def form_data(response):
    data = {}

    def put(form):
        for name in form.fields:
            value = form[name].value()
            if isinstance(value, bool):
                if value:
                    data[form.add_prefix(name)] = "on"
            elif value is not None:
                data[form.add_prefix(name)] = value

    put(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        put(inline.formset.management_form)
        for form in inline.formset.forms:
            put(form)
    return data


ADMIN_URLS = {
    "indicator": "admin:indicators_indicator_change",
    "strategic goal": "admin:goals_strategicgoal_change",
    "unit program": "admin:budgets_unitprogram_change",
}


@pytest.mark.parametrize("kind", KINDS)
def test_admin_asks_for_a_reason_once_the_plan_is_published(client, plan, plan_admin, kind):
    obj, field, published = amendable(plan, kind)
    client.force_login(plan_admin)
    url = reverse(ADMIN_URLS[kind], args=[obj.pk])
    assert "amendment_reason" not in client.get(url).context["adminform"].form.fields
    publish(plan_admin, plan)
    page = client.get(url)
    assert "amendment_reason" in page.context["adminform"].form.fields
    data = form_data(page)
    data[field] = "95"
    response = client.post(url, data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["amendment_reason"]
    assert getattr(type(obj).objects.get(pk=obj.pk), field) == published
    data["amendment_reason"] = "추경 반영"
    response = client.post(url, data)
    assert response.status_code == 302
    stored = type(obj).objects.get(pk=obj.pk)
    assert getattr(stored, field) == Decimal("95") and original(stored, field) == published
    assert stored.version == obj.version + 1
    assert log_of(obj).last().reason == "추경 반영"


def test_admin_other_changes_of_a_published_plan_need_no_reason(client, plan, plan_admin):
    publish(plan_admin, plan)
    indicator = Indicator.objects.get()
    client.force_login(plan_admin)
    url = reverse(ADMIN_URLS["indicator"], args=[indicator.pk])
    data = form_data(client.get(url))
    data["unit"] = "%"
    assert client.post(url, data).status_code == 302
    stored = Indicator.objects.get()
    assert stored.unit == "%" and stored.original_annual_target is None
    assert data[LOADED_VERSION_FIELD] == indicator.version


def test_admin_inlines_keep_published_targets_read_only(client, plan, plan_admin):
    indicator = Indicator.objects.get()
    client.force_login(plan_admin)
    url = reverse("admin:goals_policygoal_change", args=[indicator.policy_goal_id])
    inline = client.get(url).context["inline_admin_formsets"][0]
    assert "annual_target" in inline.formset.forms[0].fields
    publish(plan_admin, plan)
    inline = client.get(url).context["inline_admin_formsets"][0]
    assert "annual_target" not in inline.formset.forms[0].fields
