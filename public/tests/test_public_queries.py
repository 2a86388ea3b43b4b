"""The public pages and files are built in a fixed number of queries: the seed plan and a
plan ten times its indicators take the same count (what the cache misses costs)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from goals.models import PlanDepartment
from goals.tests.factories import load_seed, make_plan
from indicators.models import Indicator, Result, ResultStatus
from public.opendata import DATASETS
from reports.models import ResultsReport, ResultText

from .conftest import YEAR, publish

pytestmark = pytest.mark.django_db

LARGE_YEAR = 2030
LARGE_PLAN = {"departments": 60, "goals": 2, "policy_goals": 2, "indicators": 7, "unit_programs": 1}


def add_approved_results_and_report(plan):
    indicators = list(Indicator.objects.in_plan(plan).order_by("pk"))
    Indicator.objects.filter(pk__in=[i.pk for i in indicators]).update(
        annual_target=Decimal(10), frequency="yearly", aggregation="latest"
    )
    Result.objects.bulk_create(
        Result(indicator=i, period="Y", value=Decimal(7), status=ResultStatus.APPROVED)
        for i in indicators
    )
    ResultText.objects.bulk_create(
        ResultText(indicator=i, shortfall_reason="사유", status=ResultStatus.APPROVED)
        for i in indicators[:50]
    )
    ResultsReport.objects.update_or_create(plan=plan, defaults={"is_final": True})


def count(client, url):
    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries)


def urls(plan):
    year = plan.fiscal_year
    department = PlanDepartment.objects.filter(plan=plan).order_by("position").first()
    yield "list", reverse("public:plans")
    yield "plan", reverse("public:plan", args=[year])
    yield "department", reverse("public:department", args=[year, department.pk])
    for key in DATASETS:
        for fmt in ("csv", "json"):
            yield f"{key}.{fmt}", reverse("public:download", args=[year, key, fmt])


def test_queries_do_not_grow_with_the_plan(client):
    seed_plan = publish(load_seed(YEAR))
    add_approved_results_and_report(seed_plan)
    large = publish(make_plan(LARGE_YEAR, **LARGE_PLAN))
    add_approved_results_and_report(large)
    seed_count = Indicator.objects.in_plan(seed_plan).count()
    assert Indicator.objects.in_plan(large).count() >= 10 * seed_count - 10
    seed = {name: count(client, url) for name, url in urls(seed_plan)}
    grown = {name: count(client, url) for name, url in urls(large)}
    assert seed == grown
    assert max(seed.values()) <= 15, seed
