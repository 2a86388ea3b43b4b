"""Previews tell the truth: a file carrying only some tables is compared only on those; the
plan keeps the rest, so table 가's computed figures are the stored ones (issue 13, item 6)."""

import io

import pytest
from django.urls import reverse

from goals.models import PlanDepartment
from goals.tests.factories import csv_bytes, load_seed, seed_rows
from perfplan.planfiles.importer import import_plan
from perfplan.planfiles.summary import reconcile_plan, reconcile_plan_data
from perfplan.planfiles.tables import read_plan_files

pytestmark = pytest.mark.django_db


def summary_upload(rows):
    upload = io.BytesIO(csv_bytes(rows))
    upload.name = "총괄.csv"
    return upload


def differences(reconciliation):
    return {row.name: sorted(row.differences) for row in reconciliation.all_rows}


def test_a_file_with_only_table_ga_is_compared_with_the_stored_hierarchy(admin_client):
    plan = load_seed()
    response = admin_client.post(
        reverse("admin:perfplan_plan_import"),
        {"fiscal_year": 2026, "files": [summary_upload(seed_rows("seed_plan_summary.csv"))]},
    )
    assert response.status_code == 200 and not response.context["errors"]
    shown = response.context["file_reconciliation"]
    stored = reconcile_plan(plan)
    # The seed's own table 가: the very differences the plan page shows, no more (경제문화국's
    # 37 declared indicators against 32, the 계 row, 보건소's change), never "computed 0".
    assert differences(shown) == differences(stored)
    assert sum(len(fields) for fields in differences(shown).values()) < 8
    assert [row.computed for row in shown.all_rows] == [row.computed for row in stored.all_rows]
    assert sum(row.computed.indicators for row in shown.rows) == 168
    html = response.content.decode()
    assert html.count("⚠") == sum(len(fields) for fields in differences(stored).values())


def test_the_tables_a_file_carries_are_still_compared():
    """Table 나 given: its counts, not the stored ones, are what the plan will hold."""
    load_seed()
    hierarchy = seed_rows()
    department = hierarchy[1][0]
    # Keep the department's first row only: it would have one indicator after the import.
    kept = [hierarchy[0]] + [row for row in hierarchy[1:] if row[0] != department]
    kept.insert(1, next(row for row in hierarchy[1:] if row[0] == department))
    data = read_plan_files(
        [
            ("총괄.csv", csv_bytes(seed_rows("seed_plan_summary.csv"))),
            ("성과계획.csv", csv_bytes(kept)),
        ]
    )
    result = import_plan(2026, data, dry_run=True)
    assert result.ok
    shown = reconcile_plan_data(result.data, result.kept_counts)
    row = next(r for r in shown.rows if r.name == department)
    assert row.computed.indicators == 1
    assert "indicators" in row.differences


def test_a_department_new_to_the_plan_keeps_nothing_of_a_table_the_file_lacks():
    load_seed()
    rows = seed_rows("seed_plan_summary.csv")
    new_row = list(rows[2])
    new_row[0] = "신설국"
    rows.insert(3, new_row)
    result = import_plan(2026, read_plan_files([("총괄.csv", csv_bytes(rows))]), dry_run=True)
    assert result.ok
    shown = reconcile_plan_data(result.data, result.kept_counts)
    new = next(r for r in shown.rows if r.name == "신설국")
    assert new.computed.strategic_goals == 0  # the plan will hold none of its goals
    old = next(r for r in shown.rows if r.name == rows[2][0])
    stored = PlanDepartment.objects.get(name=rows[2][0]).strategic_goals.count()
    assert old.computed.strategic_goals == stored
