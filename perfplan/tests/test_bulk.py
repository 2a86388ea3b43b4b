"""perfplan.bulk: inserts and updates in bulk, on SQLite and PostgreSQL, by every path
(statements of a few rows, COPY and the temporary table on PostgreSQL)."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from perfplan import bulk
from perfplan.models import Plan

pytestmark = pytest.mark.django_db

PATHS = {
    # a statement of at most 2 rows: several statements per call
    "statements": {"BATCH": 2, "COPY_THRESHOLD": 10**9, "COPY_MIN_OBJECTS": 10**9},
    # PostgreSQL copies from the first row (elsewhere: the statements path, one big batch)
    "copy": {"BATCH": 2000, "COPY_THRESHOLD": 1, "COPY_MIN_OBJECTS": 1},
}


@pytest.fixture(params=sorted(PATHS))
def path(request, monkeypatch):
    for name, value in PATHS[request.param].items():
        monkeypatch.setattr(bulk, name, value)
    return request.param


def test_insert_writes_the_rows_and_every_other_column_as_save_would(path):
    rows = [(2101 + n, f"계획 {n}", Decimal(f"{80 + n}.25")) for n in range(5)]

    written = bulk.insert(
        Plan, ["fiscal_year", "title", "threshold_achieved"], rows, defaults={"year_note": "벌크"}
    )

    assert written == 5
    plans = list(Plan.objects.filter(fiscal_year__gt=2100).order_by("fiscal_year"))
    assert [(p.fiscal_year, p.title, p.threshold_achieved) for p in plans] == rows
    default = Plan()
    for plan in plans:
        assert plan.year_note == "벌크"  # from `defaults`
        assert plan.version == 1  # the field's default
        assert plan.allow_self_review == default.allow_self_review
        assert plan.entry_deadline_days == default.entry_deadline_days
        assert plan.created_at is not None and plan.updated_at is not None  # auto_now(_add)


def test_update_sets_the_values_the_constants_and_raises_the_counters(path):
    plans = [Plan.objects.create(fiscal_year=2201 + n, title=f"전 {n}") for n in range(5)]
    untouched = plans.pop()
    rows = [(p.pk, f"후 {n}", Decimal(n) + Decimal("0.5")) for n, p in enumerate(plans)]

    written = bulk.update(
        Plan,
        ["title", "threshold_achieved"],
        rows,
        constants={"allow_self_review": True, "year_note": "갱신"},
        increment=("version",),
    )

    assert written == 4
    after = {p.pk: p for p in Plan.objects.filter(fiscal_year__gt=2200)}
    for pk, title, threshold in rows:
        plan = after[pk]
        assert (plan.title, plan.threshold_achieved) == (title, threshold)
        assert plan.allow_self_review is True
        assert plan.year_note == "갱신"
        assert plan.version == 2
    other = after[untouched.pk]
    assert (other.title, other.version, other.year_note) == ("전 4", 1, "")


def test_the_update_twice_in_one_transaction(path):
    # The temporary table of PostgreSQL's COPY path is dropped after each use.
    plan = Plan.objects.create(fiscal_year=2301)
    for title in ("하나", "둘"):
        bulk.update(Plan, ["title"], [(plan.pk, title)], increment=("version",))
    plan.refresh_from_db()
    assert (plan.title, plan.version) == ("둘", 3)


def test_nothing_to_write_sends_no_statement():
    with CaptureQueriesContext(connection) as queries:
        assert bulk.insert(Plan, ["fiscal_year"], []) == 0
        assert bulk.update(Plan, ["title"], []) == 0
    assert not [q for q in queries if not q["sql"].startswith(("SELECT", "PRAGMA"))]


def test_statements_hold_as_many_rows_as_the_database_allows():
    # Django's 999 for SQLite is the limit of old builds; the library's own is far larger.
    assert bulk.max_params(connection) >= 32766 or connection.vendor != "sqlite"
    assert bulk.rows_per_statement(connection, 16) == bulk.BATCH
    assert bulk.rows_per_statement(connection, 10**9) == 1


def test_create_objects_sets_their_primary_keys(path):
    plans = [Plan(fiscal_year=2401 + n, title=f"새 {n}") for n in range(3)]

    bulk.create_objects(Plan, plans)

    assert all(p.pk is not None and not p._state.adding for p in plans)
    stored = dict(Plan.objects.filter(fiscal_year__gt=2400).values_list("pk", "title"))
    assert stored == {p.pk: p.title for p in plans}
    # The ids were drawn from the table's own sequence: the next row does not collide.
    after = Plan.objects.create(fiscal_year=2499)
    assert after.pk not in stored


def test_update_objects_writes_the_named_fields_only(path):
    plans = [Plan.objects.create(fiscal_year=2501 + n, title="전") for n in range(3)]
    for plan in plans:
        plan.title, plan.year_note, plan.version = f"후 {plan.pk}", "쓰지 않음", 7

    bulk.update_objects(Plan, plans, ["title", "version"])

    stored = {p.pk: p for p in Plan.objects.filter(fiscal_year__gt=2500)}
    assert {(p.title, p.year_note, p.version) for p in stored.values()} == {
        (f"후 {pk}", "", 7) for pk in stored
    }
