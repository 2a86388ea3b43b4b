"""Fixtures of the tracking tests: "today" fixed at 2031-04-05, a plan of two departments
with quarterly running totals, and a user of each role (officer and reviewer of the first
department). A module overrides any of them by defining its own."""

from __future__ import annotations

import pytest

from perfplan import roles

from .support import TODAY, departments_of, freeze_today, indicators_of, make_user, tracking_plan


@pytest.fixture
def today(monkeypatch):
    freeze_today(monkeypatch, TODAY)
    return TODAY


@pytest.fixture
def plan(today):
    return tracking_plan()


@pytest.fixture
def depts(plan):
    return departments_of(plan)


@pytest.fixture
def theirs(plan, depts):
    return indicators_of(plan, depts[1])


@pytest.fixture
def officer(django_user_model, depts):
    return make_user(django_user_model, "officer", roles.OFFICER, [depts[0]])


@pytest.fixture
def reviewer(django_user_model, depts):
    return make_user(django_user_model, "reviewer", roles.REVIEWER, [depts[0]])


@pytest.fixture
def auditor(django_user_model):
    return make_user(django_user_model, "auditor", roles.AUDITOR)


@pytest.fixture
def plan_admin(django_user_model):
    return make_user(django_user_model, "planadmin", roles.PLAN_ADMIN)
