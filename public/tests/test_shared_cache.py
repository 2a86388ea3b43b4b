"""With PERFPLAN_CACHE=database the public pages' cache is shared by every server process: a
result approved through one process moves the year's generation that every other reads."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.core.cache import caches
from django.core.cache.backends.db import DatabaseCache
from django.core.management import call_command
from django.urls import reverse

from indicators import workflow
from indicators.models import Indicator, Result, ResultStatus
from public import cache as public_cache

from .conftest import YEAR

SHARED = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "perfplan_cache",
    }
}


@pytest.fixture
def database_cache(settings, db):
    settings.CACHES = SHARED
    call_command("createcachetable", verbosity=0)
    caches["default"].clear()
    yield
    caches["default"].clear()


def another_process():
    """The cache as another server process opens it: its own backend on the same table."""
    return DatabaseCache("perfplan_cache", {})


def test_an_approval_reaches_every_process(
    database_cache, client, seed_plan, plan_admin_user, django_capture_on_commit_callbacks
):
    assert isinstance(caches["default"], DatabaseCache)
    submitted = (
        Result.objects.filter(
            indicator__in=Indicator.objects.in_plan(seed_plan),
            status=ResultStatus.SUBMITTED,
            value__isnull=False,
        )
        .order_by("pk")
        .first()
    )
    Result.objects.filter(pk=submitted.pk).update(value=Decimal("4321.5"), submitted_by=None)
    url = reverse("public:download", args=[YEAR, "results", "json"])

    def shown():
        records = json.loads(client.get(url).content)["records"]
        return [
            r["실적"]
            for r in records
            if r["지표번호"] == submitted.indicator_id and r["기간코드"] == submitted.period
        ]

    assert shown() == []
    generation = public_cache.generation(YEAR)
    assert another_process().get(f"{public_cache.PREFIX}gen:{YEAR}") == generation
    with django_capture_on_commit_callbacks(execute=True):
        workflow.approve(plan_admin_user, [submitted.pk])
    # the other process reads the moved generation, hence a new page key
    assert another_process().get(f"{public_cache.PREFIX}gen:{YEAR}") == generation + 1
    assert shown() == [4321.5]
