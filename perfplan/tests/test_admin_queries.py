"""Every admin changelist and change form answers in a number of queries that does not grow
with the plan (issue 16, item 1), as NetBox keeps its per-view query counts.

Each page is counted at two scales — the seed plan, then the seed plus a generated plan
with ten times the seed's indicators in another year — as a superuser and as a plan admin.
The pages are taken from admin.site._registry, so a newly registered admin is counted too
(it needs a row at each scale: add_tracking_rows makes those the importer does not).

The two scales are built once for the module inside one transaction that is rolled back at
the end (building the large plan for each test would dominate the suite).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from budgets.models import UnitProgram
from goals.tests.factories import load_seed, make_plan
from indicators.models import EntryException, Indicator, PeriodTarget, Result
from perfplan import roles
from perfplan.models import DepartmentAssignment, ImportBatch

# The mark makes pytest-django set up the test database the module fixture fills.
pytestmark = pytest.mark.django_db

# Our apps and Django's auth; axes' admins (login attempts) are a library's and not ours.
COUNTED_APPS = {"perfplan", "goals", "budgets", "indicators", "auth"}
ADMIN_MODELS = sorted(
    (model for model in admin.site._registry if model._meta.app_label in COUNTED_APPS),
    key=lambda model: model._meta.label,
)
PAGES = ("changelist", "change")
ROLES = ("superuser", "plan_admin")
SCALES = ("seed", "large")
SEED_YEAR, LARGE_YEAR = 2026, 2030
# 60 departments x 2 goals x 2 policy goals x 7 indicators = 1,680 indicators: ten times the
# seed's 168, five times its departments, in a second year (choices that grow with the years).
LARGE_PLAN = {"departments": 60, "goals": 2, "policy_goals": 2, "indicators": 7, "unit_programs": 1}
# The ceiling of issue 16 for any admin page at national size.
MAX_QUERIES = 40


@dataclass(frozen=True)
class Count:
    status: int
    queries: int
    sql: tuple


def newest(model):
    return model._default_manager.order_by("-pk").first()


def add_tracking_rows(plan, officer):
    """Rows the importer does not make: targets and results for every indicator of `plan`,
    a unit program (the seed has none), an entry exception, the officer's department
    assignment, the import batch."""
    indicators = list(Indicator.objects.in_plan(plan).order_by("pk"))
    PeriodTarget.objects.bulk_create(
        PeriodTarget(indicator=indicator, period="Y", target=Decimal(10))
        for indicator in indicators
    )
    Result.objects.bulk_create(
        Result(indicator=indicator, period="Y", value=Decimal(7), entered_by=officer)
        for indicator in indicators
    )
    if not UnitProgram.objects.in_plan(plan).exists():
        UnitProgram.objects.create(
            policy_goal=indicators[-1].policy_goal, name="단위사업", budget=Decimal(10)
        )
    plan_department = plan.departments.select_related("department").last()
    department = plan_department.department
    DepartmentAssignment.objects.create(user=officer, department=department)
    EntryException.objects.create(
        plan=plan,
        department=department,
        period="Y",
        open_until=date(plan.fiscal_year + 1, 1, 31),
        reason="test",
        created_by=officer,
    )
    if not ImportBatch.objects.filter(fiscal_year=plan.fiscal_year).exists():
        ImportBatch.objects.create(fiscal_year=plan.fiscal_year, created_by=officer)


def page_url(model, page):
    opts = model._meta
    if page == "changelist":
        return reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    obj = newest(model)
    assert obj is not None, f"no {opts.label} row to open: add one in add_tracking_rows"
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])


def count(client, url):
    client.get(url)  # warms the per-process caches (content types, …) for both scales alike
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    return Count(response.status_code, len(queries), tuple(q["sql"] for q in queries))


def autocomplete_url(model, field_name):
    """The search box's answer for `model`'s `field_name`: its first page of choices."""
    opts = model._meta
    query = f"app_label={opts.app_label}&model_name={opts.model_name}&field_name={field_name}"
    return f"{reverse('admin:autocomplete')}?{query}&term="


AUTOCOMPLETE_FIELDS = [
    (model, field_name)
    for model in ADMIN_MODELS
    for field_name in admin.site._registry[model].autocomplete_fields
]


TRACKING_PAGES = ("grid", "grid_department", "overview", "overview_department", "indicator", "cell")


def tracking_urls(plan):
    """The tracking pages of `plan` (its year asked for: the large plan is not this year's),
    for the department of its newest indicator (one with indicators at both scales)."""
    indicator = (
        Indicator.objects.in_plan(plan)
        .select_related("policy_goal__strategic_goal__plan_department")
        .order_by("pk")
        .last()
    )
    department = indicator.policy_goal.strategic_goal.plan_department.department_id
    year = f"?year={plan.fiscal_year}"
    grid, overview = reverse("tracking:my_department"), reverse("tracking:overview")
    return {
        "grid": grid + year,
        "grid_department": f"{grid}{year}&department={department}",
        "overview": overview + year,
        "overview_department": f"{overview}{year}&department={department}",
        "indicator": reverse("tracking:indicator", args=[indicator.pk]),
        "cell": reverse("tracking:cell", args=[indicator.pk, "Y"]),
    }


def count_every_page(clients, scale, counts, plan):
    for name, url in tracking_urls(plan).items():
        for role, client in clients.items():
            counts["tracking", name, role, scale] = count(client, url)
    for model in ADMIN_MODELS:
        for page in PAGES:
            url = page_url(model, page)
            for role, client in clients.items():
                counts[model._meta.label, page, role, scale] = count(client, url)
    for model, field_name in AUTOCOMPLETE_FIELDS:
        url = autocomplete_url(model, field_name)
        for role, client in clients.items():
            counts[model._meta.label, field_name, role, scale] = count(client, url)


def make_clients():
    users = get_user_model()._default_manager
    superuser = users.create_superuser("aq-superuser", password="pw")
    plan_admin = users.create_user("aq-planadmin", password="pw", is_staff=True)
    plan_admin.groups.add(Group.objects.get(name=roles.PLAN_ADMIN))
    clients = {}
    for role, user in (("superuser", superuser), ("plan_admin", plan_admin)):
        clients[role] = Client()
        clients[role].force_login(user)
    return clients


def make_officer(name):
    officer = get_user_model()._default_manager.create_user(name, password="pw", is_staff=True)
    officer.groups.add(Group.objects.get(name=roles.OFFICER))
    return officer


@pytest.fixture(scope="module")
def counts(django_db_setup, django_db_blocker):
    counted = {}
    with django_db_blocker.unblock(), transaction.atomic():
        clients = make_clients()
        seed = load_seed(SEED_YEAR)
        add_tracking_rows(seed, make_officer("aq-officer-seed"))
        counted["indicators", "seed"] = Indicator.objects.in_plan(seed).count()
        count_every_page(clients, "seed", counted, seed)
        large = make_plan(LARGE_YEAR, **LARGE_PLAN)
        for n in range(10):
            make_officer(f"aq-officer-{n}")
        add_tracking_rows(large, make_officer("aq-officer-large"))
        counted["indicators", "large"] = Indicator.objects.in_plan(large).count()
        count_every_page(clients, "large", counted, large)
        transaction.set_rollback(True)
    return counted


def test_the_large_plan_has_ten_times_the_seeds_indicators(counts):
    assert counts["indicators", "large"] >= 10 * counts["indicators", "seed"] > 0


def assert_does_not_grow(counts, what, role):
    """The page `what` answered alike at both scales, in no more queries with the large plan."""
    seed, large = (counts[(*what, role, scale)] for scale in SCALES)
    assert seed.status == large.status
    if role == "superuser":
        assert seed.status == 200
    grown = "\n".join(large.sql[seed.queries :]) if large.queries > seed.queries else ""
    assert large.queries <= seed.queries, (
        f"{' '.join(what)} as {role}: {seed.queries} queries with the seed plan, "
        f"{large.queries} with a plan ten times larger; from query {seed.queries + 1} on:\n"
        f"{grown[:3000]}"
    )
    assert large.queries <= MAX_QUERIES


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("view", PAGES)
@pytest.mark.parametrize("model", ADMIN_MODELS, ids=lambda model: model._meta.label)
def test_admin_page_queries_do_not_grow_with_the_plan(counts, model, view, role):
    assert_does_not_grow(counts, (model._meta.label, view), role)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    "model,field_name",
    AUTOCOMPLETE_FIELDS,
    ids=[f"{model._meta.label}.{name}" for model, name in AUTOCOMPLETE_FIELDS],
)
def test_autocomplete_answers_do_not_grow_with_the_plan(counts, model, field_name, role):
    """The search boxes that replace choices of every year answer in constant queries too
    (their rows' __str__ must not load a relation row by row)."""
    assert_does_not_grow(counts, (model._meta.label, field_name), role)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("tracking_page", TRACKING_PAGES)
def test_tracking_page_queries_do_not_grow_with_the_plan(counts, tracking_page, role):
    """The tracking pages too (the grid, the overview, an indicator, a cell), for the
    whole plan and for one department."""
    assert_does_not_grow(counts, ("tracking", tracking_page), role)
