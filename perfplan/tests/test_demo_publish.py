"""`make demo` run again, publishing with a confirmation page, Korean 403/404 in the admin.

Issue 13, item 7 and the error pages of item 4.
"""

from decimal import Decimal
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from goals.amendments import amend, publish
from goals.tests.factories import load_seed
from indicators.models import Indicator, Result
from perfplan.management.commands.load_demo import DEMO_PASSWORD, DEMO_USERS
from perfplan.models import ChangeLogEntry, Plan

pytestmark = pytest.mark.django_db
YEAR = 2026


def load_demo(*args):
    out = StringIO()
    call_command("load_demo", "--year", str(YEAR), *args, stdout=out)
    return out.getvalue()


def snapshot():
    """Everything the demo writes, and the log's length: equal means nothing was changed."""
    User = get_user_model()
    return (
        list(Plan.objects.values_list("pk", "published_at", "version", "title")),
        list(
            Indicator.objects.order_by("pk").values_list(
                "pk", "annual_target", "original_annual_target", "is_sample", "version"
            )
        ),
        list(Result.objects.order_by("pk").values_list("pk", "value", "status")),
        list(User._default_manager.order_by("pk").values_list("username", "password")),
        sorted(User._default_manager.values_list("username", "department_assignments__department")),
        ChangeLogEntry.objects.count(),
    )


def planadmin():
    return get_user_model()._default_manager.get(username="planadmin")


def test_a_second_run_leaves_a_published_and_edited_demo_as_it_is():
    load_demo()
    first = snapshot()
    plan = Plan.objects.get(fiscal_year=YEAR)
    seed_target_of = dict(Indicator.objects.values_list("pk", "annual_target"))
    indicator = Indicator.objects.in_plan(plan).order_by("pk").first()
    publish(planadmin(), plan)
    amend(planadmin(), indicator, "annual_target", Decimal("4321"), "revised by the council")
    officer = get_user_model()._default_manager.get(username="officer")
    officer.set_password("changed-by-the-officer")
    officer.save()
    edited = snapshot()
    assert edited != first

    out = load_demo()  # no CommandError: `make demo` goes on to runserver

    assert snapshot() == edited
    indicator.refresh_from_db()
    assert indicator.annual_target == Decimal("4321")
    assert indicator.original_annual_target == seed_target_of[indicator.pk]
    assert "demo-reset" in out and DEMO_PASSWORD in out
    for username, *_rest in DEMO_USERS:
        assert username in out  # the logins are printed every time


def test_a_second_run_keeps_the_edits_of_an_unpublished_demo():
    load_demo()
    indicator = Indicator.objects.order_by("pk").first()
    amend(planadmin(), indicator, "annual_target", Decimal("77"))
    result = Result.objects.order_by("pk").first()
    result.delete()
    edited = snapshot()
    load_demo()
    assert snapshot() == edited


def test_reset_restores_the_seed():
    load_demo()
    seed = snapshot()
    plan = Plan.objects.get(fiscal_year=YEAR)
    indicator = Indicator.objects.in_plan(plan).order_by("pk").first()
    publish(planadmin(), plan)
    amend(planadmin(), indicator, "annual_target", Decimal("4321"), "revised")
    officer = get_user_model()._default_manager.get(username="officer")
    officer.set_password("changed")
    officer.save()
    officer.department_assignments.all().delete()

    out = load_demo("--reset")

    plan = Plan.objects.get(fiscal_year=YEAR)
    assert plan.published_at is None
    names = lambda rows: [row[1:] for row in rows]  # noqa: E731 (new rows, new keys)
    after = snapshot()
    assert names(after[1]) == names(seed[1])  # the sample definitions, unamended
    assert names(after[2]) == names(seed[2])  # the sample results
    assert [u for u, _p in after[3]] == [u for u, _p in seed[3]]
    officer.refresh_from_db()
    assert officer.check_password(DEMO_PASSWORD)
    departments = set(officer.department_assignments.values_list("department__name", flat=True))
    assert departments == {"복지환경국", "보건소"}
    assert DEMO_PASSWORD in out
    # the deletions are in the change log under the reset's reason
    assert ChangeLogEntry.objects.filter(action="delete", content_type__model="plan").exists()


def test_a_plan_not_loaded_by_the_demo_is_never_touched():
    load_seed(YEAR)  # a real import (source "command"/"admin", not the demo)
    before = snapshot()
    load_demo()
    assert snapshot() == before
    assert not get_user_model()._default_manager.filter(username="officer").exists()
    with pytest.raises(CommandError):
        load_demo("--reset")
    assert snapshot() == before
