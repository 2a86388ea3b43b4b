"""A large plan upload in a real browser: the progress bar, then the preview, then the import.

The upload is above PERFPLAN_IMPORT_INLINE_ROWS, so the task worker (django-tasks-db's, in a
thread here, `manage.py db_worker` in production) previews and imports it while the page
polls its progress. The worker is held at a stage until the page has shown it.

Assertions are on element ids, data attributes and the database, never on translated text.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from goals.tests.factories import synthetic_plan
from perfplan.models import ImportBatch, Plan
from perfplan.planfiles.exports import plan_tables
from perfplan.planfiles.importer import import_plan
from perfplan.tabular import write_xlsx
from perfplan.tasks import estimated_rows
from perfplan.tests.test_tasks import Worker

YEAR = 2032
WAIT_MS = 60_000


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_large_upload_shows_its_progress_then_the_preview(
    page, live_server, plan_admin_user, admin_login, settings, monkeypatch, tmp_path
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.PERFPLAN_IMPORT_INLINE_ROWS = 500
    # Last year's plan of 2,000 indicators, exported: this year's upload, all of it new.
    data = synthetic_plan(departments=10, goals=4, policy_goals=5, indicators=10)
    assert import_plan(YEAR - 1, data).ok
    path = tmp_path / "성과계획.xlsx"
    path.write_bytes(write_xlsx(plan_tables(Plan.objects.get(fiscal_year=YEAR - 1))))
    assert estimated_rows([(path.name, path.read_bytes())]) > 2000

    admin_login(page, plan_admin_user.username, plan_admin_user.raw_password)
    page.goto(live_server.url + reverse("admin:perfplan_plan_import"))
    page.fill("#id_fiscal_year", str(YEAR))
    page.set_input_files("#id_files", [str(path)])
    with page.expect_navigation():
        page.click("#preview-import")
    page.wait_for_selector("#import-progress-bar")  # queued: no worker yet
    batch = ImportBatch.objects.get(fiscal_year=YEAR)
    assert "?batch=" in page.url and batch.status == ImportBatch.Status.QUEUED

    worker = Worker(hold_at="comparing")
    worker.watch(monkeypatch)
    worker.start()
    try:
        assert worker.reached.wait(WAIT_MS / 1000), "the worker did not start the preview"
        # The page polls and shows the stage the worker is at, with the bar moved on.
        page.wait_for_selector("#import-progress[data-stage=comparing]", timeout=WAIT_MS)
        assert int(page.get_attribute("#import-progress-bar", "value")) >= 60
        assert page.inner_text("#import-progress-stage").strip()
    finally:
        worker.release.set()
        worker.join(WAIT_MS / 1000)
    # Done: the page opens the preview by itself.
    page.wait_for_selector("#preview-counts", timeout=WAIT_MS)
    assert page.is_visible("#confirm-import") and not page.is_visible("#import-progress")
    assert Plan.objects.filter(fiscal_year=YEAR).count() == 0  # a preview only

    with page.expect_navigation():
        page.click("#confirm-import")
    page.wait_for_selector("#import-progress-bar")
    worker = Worker()
    worker.start()
    worker.join(WAIT_MS / 1000)
    plan = Plan.objects.get(fiscal_year=YEAR)
    tables = reverse("admin:perfplan_plan_tables", args=[plan.pk])
    page.wait_for_url(f"**{tables}**", timeout=WAIT_MS)
    assert page.locator(".messagelist .success").count() == 1
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.APPLIED
