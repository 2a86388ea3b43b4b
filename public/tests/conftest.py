"""Fixtures of the public pages' tests: the seed plan published, with sample results of
every status (indicators.demo: draft, submitted, returned and approved), the year closed.
The cache is emptied around each test: the database is rolled back between tests, the
local-memory cache is not."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.cache import cache
from django.utils import timezone

from goals.tests.factories import load_seed
from indicators.demo import add_sample_data
from perfplan.models import Plan

YEAR = 2025
AFTER_YEAR = date(YEAR + 1, 1, 20)


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


def publish(plan):
    Plan.objects.filter(pk=plan.pk).update(published_at=timezone.now())
    plan.refresh_from_db()
    return plan


@pytest.fixture
def seed_plan(db):
    plan = load_seed(YEAR)
    add_sample_data(plan, today=AFTER_YEAR)
    return publish(plan)
