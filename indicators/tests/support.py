"""What the tracking tests share: a fixed "today", a synthetic plan, its departments and
indicators, users with a role and departments (the fixtures are in conftest.py)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone, translation

from goals.models import PlanDepartment
from goals.tests.factories import make_plan
from indicators import standing
from indicators.models import Indicator, Result
from perfplan.models import DepartmentAssignment

YEAR = 2031
TODAY = date(YEAR, 4, 5)  # Q1 ended on 31 March; its entry deadline is 10 April


def freeze_today(monkeypatch, day):
    """timezone.localdate() answers `day` (views, workflow and locks all ask it)."""
    original = timezone.localdate

    def localdate(value=None, timezone=None):
        if value is None:
            return day
        return original(value, timezone)

    monkeypatch.setattr("django.utils.timezone.localdate", localdate)


def tracking_plan(year=YEAR, **sizes):
    """A synthetic plan whose indicators are quarterly running totals with a target of 100."""
    sizes = {"departments": 2, "goals": 1, "policy_goals": 1, "indicators": 2, **sizes}
    plan = make_plan(year, **sizes)
    indicators = Indicator.objects.in_plan(plan)
    indicators.update(frequency="quarterly", aggregation="sum", annual_target=Decimal(100))
    # update() bypasses the signals that tell the standings (the import computed them).
    standing.touch(list(indicators.values_list("pk", flat=True)))
    return plan


def departments_of(plan):
    return [pd.department for pd in PlanDepartment.objects.filter(plan=plan).order_by("position")]


def indicators_of(plan, department):
    return list(
        Indicator.objects.in_plan(plan)
        .of_departments([department])
        .order_by("policy_goal__strategic_goal__position", "policy_goal__position", "position")
    )


def make_user(django_user_model, username, role=None, departments=()):
    user = django_user_model.objects.create_user(username, is_staff=True)  # force_login: no hash
    if role:
        user.groups.add(Group.objects.get(name=role))
    for department in departments:
        DepartmentAssignment.objects.create(user=user, department=department)
    return user


def enter(user, indicator, period, **values):
    """workflow.save_result based on the result as it is now: the version a page that loaded
    it would send (every write names the version it is based on; 0: no result yet)."""
    from indicators.workflow import save_result

    version = (
        Result.objects.filter(indicator=indicator, period=period)
        .values_list("version", flat=True)
        .first()
    )
    return save_result(user, indicator, period, expected_version=version or 0, **values)


def save_json(client, cells):
    return client.post(reverse("tracking:save"), {"cells": cells}, content_type="application/json")


def korean(text):
    with translation.override("ko"):
        return translation.gettext(text)
