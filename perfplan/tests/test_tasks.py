"""Long imports outside the request (perfplan.tasks) and standings computed by the import.

Every upload above PERFPLAN_IMPORT_INLINE_ROWS (0 here: every upload) is held, previewed and
confirmed by a task: with the ImmediateBackend (the task runs as it is queued) for every kind,
and once with the database backend and its worker running in a thread, as production runs it
(`manage.py db_worker`), while the page's JSON is asked how far the import is. After any
import the standings are computed by the worker (the background import itself, or the task
an import in the request queues), and the overview computes none (issue 16, item 3).
"""

from __future__ import annotations

import io
import threading
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import translation

from goals.tests.factories import csv_bytes, seed_files, seed_rows
from indicators import standing
from indicators.models import IndicatorStanding, StandingInputChange
from indicators.results_import import RESULTS
from perfplan import imports, roles, tasks
from perfplan.models import ImportBatch, ImportFile, Plan
from perfplan.planfiles.exports import plan_tables
from perfplan.planfiles.importer import PLAN_TABLES
from perfplan.tabular import write_xlsx
from perfplan.tests.test_imports import (
    RESULT_HEADER,
    SEED_TEXT,
    YEAR,
    Case,
    goal_budgets,
    make_user,
    plan_case,
)

pytestmark = pytest.mark.django_db
IMMEDIATE = "django_tasks.backends.immediate.ImmediateBackend"
DATABASE = "django_tasks_db.DatabaseBackend"


@pytest.fixture(autouse=True)
def korean():
    with translation.override("ko"):
        yield


@pytest.fixture(params=["plan", "plan_text", "results"])
def case(request, django_user_model):
    """Each kind of import, set up so that its preview shows one write (as test_imports)."""
    from django.utils import timezone

    from goals.tests.factories import make_plan
    from perfplan.planfiles.importer import PLAN_TABLES, PLAN_TEXT

    if request.param == "plan":
        return plan_case(PLAN_TABLES, seed_files(), django_user_model)
    if request.param == "plan_text":
        return plan_case(PLAN_TEXT, [(SEED_TEXT.name, SEED_TEXT.read_bytes())], django_user_model)
    year = timezone.localdate().year  # the yearly period is open for entry now
    make_plan(year, departments=2, goals=1, policy_goals=1, indicators=2)
    officer = make_user(django_user_model, "officer", roles.OFFICER, ["부서000"])
    other = make_user(django_user_model, "officer2", roles.OFFICER, ["부서000"])
    rows = [RESULT_HEADER, ["부서000", "지표 0-0-0-0", "연간", "42", "메모"]]
    return Case(RESULTS, [("실적.csv", csv_bytes(rows))], officer, other, "results:confirm", year)


@pytest.fixture
def background(settings):
    """Every upload goes through the task; the task runs as soon as it is queued."""
    settings.TASKS = {"default": {"BACKEND": IMMEDIATE}}
    settings.PERFPLAN_IMPORT_INLINE_ROWS = 0


@pytest.fixture
def reports(monkeypatch):
    """Every progress the tasks write, in order."""
    written = []
    write = tasks._write_progress

    def spy(batch_id, progress, **extra):
        written.append(dict(progress))
        write(batch_id, progress, **extra)

    monkeypatch.setattr(tasks, "_write_progress", spy)
    return written


def page_of(case):
    return reverse("results:import" if case.kind is RESULTS else "admin:perfplan_plan_import")


def upload(case, client):
    """The case's files through its import page, as a person uploads them."""
    files = []
    for name, content in case.files:
        handle = io.BytesIO(content)
        handle.name = name
        files.append(handle)
    if case.kind is RESULTS:
        data = {"fiscal_year": case.year, "file": files[0]}
    else:
        data = {"fiscal_year": case.year, "files": files, "reason": ""}
    return client.post(page_of(case), data)


def held_batch(response):
    assert response.status_code == 302 and "?batch=" in response.url, response
    return ImportBatch.objects.get(pk=response.url.rsplit("=", 1)[1])


def progress(client, url, batch):
    response = client.get(f"{url}?progress={batch.pk}")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    return response.json()


def no_standing_pending(year):
    plan = Plan.objects.get(fiscal_year=year)
    standings = IndicatorStanding.objects.filter(plan=plan)
    return not StandingInputChange.objects.exists() and not standing.outdated_ids(plan, standings)


# ---------------------------------------------------------------- every kind, in the task


def test_every_kind_is_previewed_and_imported_by_the_task(case, client, background, reports):
    client.force_login(case.user)
    url = page_of(case)
    before = case.state()
    batch = held_batch(upload(case, client))
    assert batch.status == ImportBatch.Status.PREVIEWED
    assert len(batch.summary["fingerprint"]) == 64 and batch.summary["kind"] == case.kind.name
    assert case.state() == before  # a preview writes nothing
    assert progress(client, url, batch) | {"label": ""} == {
        "step": "preview",
        "state": "done",
        "stage": "done",
        "label": "",
        "text": "",
        "percent": 100,
        "finished": True,
    }
    stages = [r["stage"] for r in reports]
    assert stages[0] == "queued" and stages[-1] == "done"
    assert {"reading", "comparing", "rendering"} <= set(stages)

    # The preview the worker rendered, with the confirm form the page adds.
    page = client.get(f"{url}?batch={batch.pk}")
    html = page.content.decode()
    assert page.status_code == 200
    assert 'id="preview-title"' in html and 'id="preview-counts"' in html
    assert 'id="confirm-import"' in html and "csrfmiddlewaretoken" in html
    assert "미리보기" in html  # rendered in the uploader's language

    reports.clear()
    confirmed = client.post(reverse(case.confirm_url, args=[batch.pk]))
    assert confirmed.status_code == 302 and confirmed.url == f"{url}?batch={batch.pk}"
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.APPLIED and case.state() != before
    stages = [r["stage"] for r in reports]
    assert stages[0] == "queued" and stages[-1] == "done"
    assert {"reading", "writing", "settling"} <= set(stages)
    assert no_standing_pending(case.year)  # computed by the import, not by the next page
    assert "preview_html" not in batch.summary  # confirmed: its preview is not kept

    done = client.get(confirmed.url, follow=True)
    assert done.redirect_chain[0][0] == batch.summary["confirmed"]["url"]
    assert batch.summary["confirmed"]["message"] in done.content.decode()
    # Confirmed once: the confirmation of a confirmed batch is not found.
    assert client.post(reverse(case.confirm_url, args=[batch.pk])).status_code == 404


def test_the_runners_safeguards_hold_for_a_held_upload(case, background):
    """A held upload is no preview until the task compared it: it cannot be confirmed, and
    a file changed in between is refused."""
    held = imports.hold(case.kind, case.year, case.files, user=case.user)
    assert held.status == ImportBatch.Status.QUEUED
    with pytest.raises(Exception, match="404|No ImportBatch"):
        imports.previewed_batch(case.user, held.pk, [case.kind])
    assert not imports.confirm(held, user=case.user).ok
    stored = ImportFile.objects.filter(batch=held).first()
    ImportFile.objects.filter(pk=stored.pk).update(content=bytes(stored.content) + b"\r\n")
    result = imports.preview_held(held, user=case.user)
    assert not result.ok and str(result.errors[0]) == str(imports.CHANGED_SINCE_PREVIEW)
    held.refresh_from_db()
    assert held.status == ImportBatch.Status.REJECTED and not held.files.exists()


def test_a_refused_background_preview_names_file_row_and_column(
    client, django_user_model, background
):
    user = make_user(django_user_model, "planadmin", roles.PLAN_ADMIN)
    client.force_login(user)
    rows = seed_rows()
    rows[3][2] = "12a4"
    rows[6][3] = "오십"
    handle = io.BytesIO(csv_bytes(rows))
    handle.name = "plan.csv"
    url = reverse("admin:perfplan_plan_import")
    batch = held_batch(client.post(url, {"fiscal_year": YEAR, "files": [handle]}))
    assert batch.status == ImportBatch.Status.REJECTED and not batch.files.exists()
    assert progress(client, url, batch)["state"] == "failed"
    html = client.get(f"{url}?batch={batch.pk}").content.decode()
    assert 'id="import-errors"' in html and 'id="confirm-import"' not in html
    assert "plan.csv" in html and "4행" in html and "예산액(백만원)" in html and "12a4" in html
    assert "7행" in html and "비중(%)" in html
    assert not ImportBatch.objects.filter(status=ImportBatch.Status.PREVIEWED).exists()
    assert not Plan.objects.exists()


def test_an_import_and_its_progress_are_the_users_own(case, client, background):
    client.force_login(case.user)
    url = page_of(case)
    batch = held_batch(upload(case, client))
    client.force_login(case.other_user)  # same role, not the uploader
    assert client.get(f"{url}?progress={batch.pk}").status_code == 404
    assert client.get(f"{url}?batch={batch.pk}").status_code == 404
    assert client.get(f"{url}?progress=not-an-id").status_code == 404
    assert client.post(reverse(case.confirm_url, args=[batch.pk])).status_code == 404
    # The other kind's page does not show it either.
    other_page = (
        reverse("admin:perfplan_plan_import") if case.kind is RESULTS else reverse("results:import")
    )
    client.force_login(case.user)
    if case.user.has_perm("perfplan.add_plan") and case.user.has_perm("indicators.add_result"):
        assert client.get(f"{other_page}?progress={batch.pk}").status_code == 404


def test_reading_an_xlsx_tells_rows_read(client, django_user_model, background, reports):
    user = make_user(django_user_model, "planadmin", roles.PLAN_ADMIN)
    assert imports.run(PLAN_TABLES, YEAR, files=seed_files()).applied
    workbook = write_xlsx(plan_tables(Plan.objects.get(fiscal_year=YEAR)))
    goal_budgets().update(budget=Decimal(400))  # the file says otherwise: one change
    client.force_login(user)
    handle = io.BytesIO(workbook)
    handle.name = "성과계획.xlsx"
    url = reverse("admin:perfplan_plan_import")
    batch = held_batch(client.post(url, {"fiscal_year": YEAR, "files": [handle]}))
    assert batch.status == ImportBatch.Status.PREVIEWED
    rows = [r for r in reports if r["stage"] == "reading" and r.get("done")]
    assert rows and {r["file"] for r in rows} == {"성과계획.xlsx"}
    assert all(r["done"] == r["total"] for r in rows)
    sheets = {r["sheet"]: r["total"] for r in rows}
    assert sheets == {t.sheet_name: len(t.rows) + 1 for t in plan_tables_of_seed()}


def test_rows_are_counted_without_reading_the_file():
    rows = [RESULT_HEADER] + [["부서000", f"지표 {n}", "연간", str(n), ""] for n in range(2500)]
    assert tasks.estimated_rows([("실적.csv", csv_bytes(rows))]) == 2502  # the last line ends
    workbook = write_xlsx(plan_tables_of_seed())
    sheets = [(t.sheet_name, len(t.rows) + 1) for t in plan_tables_of_seed()]
    assert tasks.estimated_rows([("계획.xlsx", workbook)]) == sum(n for _s, n in sheets)
    assert not tasks.runs_inline(tasks.inline_rows() + 1)


def plan_tables_of_seed():
    if not Plan.objects.filter(fiscal_year=YEAR).exists():
        assert imports.run(PLAN_TABLES, YEAR, files=seed_files()).applied
    return plan_tables(Plan.objects.get(fiscal_year=YEAR))


def test_the_progress_bar_in_korean():
    batch = ImportBatch(
        fiscal_year=YEAR,
        summary={
            "progress": {
                "step": "preview",
                "state": "running",
                "stage": "reading",
                "done": 12000,
                "total": 20001,
                "file": "성과계획.xlsx",
                "sheet": "성과계획 및 재원비중",
            }
        },
    )
    shown = tasks.progress_of(batch)
    assert shown["text"] == "성과계획.xlsx · 성과계획 및 재원비중: 12,000 / 20,001 행 읽음"
    assert shown["label"] == "파일 읽는 중" and shown["percent"] == 35 and not shown["finished"]
    batch.summary["progress"] = {"step": "confirm", "state": "running", "stage": "settling"}
    shown = tasks.progress_of(batch)
    assert shown["label"] == "성과지표 현황 계산 중" and shown["percent"] == 90


# ---------------------------------------------------------------- the database backend


class Worker(threading.Thread):
    """django-tasks-db's worker (what `manage.py db_worker` runs) in a thread: runs the
    queued tasks, then stops. `hold_at` stops the task at a stage until released."""

    def __init__(self, hold_at=None):
        super().__init__(daemon=True)
        from django_tasks_db.management.commands.db_worker import Worker as DbWorker

        self.worker = DbWorker(
            queue_names=["default"],
            interval=0,
            batch=True,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id="test-worker",
            excluded_queue_names=[],
        )
        self.hold_at, self.reached, self.release = hold_at, threading.Event(), threading.Event()

    def watch(self, monkeypatch):
        write = tasks._write_progress

        def holding(batch_id, progress, **extra):
            write(batch_id, progress, **extra)
            if progress["stage"] == self.hold_at and not self.reached.is_set():
                self.reached.set()
                assert self.release.wait(30)

        monkeypatch.setattr(tasks, "_write_progress", holding)

    def run(self):
        try:
            self.worker.run()
        finally:
            connection.close()


@pytest.mark.django_db(transaction=True)
def test_a_queued_import_is_run_by_the_worker(client, django_user_model, settings, monkeypatch):
    settings.TASKS = {"default": {"BACKEND": DATABASE}}
    settings.PERFPLAN_IMPORT_INLINE_ROWS = 0
    from django_tasks_db.models import DBTaskResult

    user = make_user(django_user_model, "planadmin", roles.PLAN_ADMIN)
    client.force_login(user)
    url = reverse("admin:perfplan_plan_import")
    handles = []
    for name, content in seed_files():
        handles.append(io.BytesIO(content))
        handles[-1].name = name
    batch = held_batch(client.post(url, {"fiscal_year": YEAR, "files": handles, "reason": ""}))
    # Queued: nothing read yet; the page shows the bar and asks the JSON.
    assert progress(client, url, batch)["state"] == "queued"
    assert DBTaskResult.objects.filter(status="READY").count() == 1
    page = client.get(f"{url}?batch={batch.pk}").content.decode()
    assert 'id="import-progress"' in page and "perfplan/progress.js" in page
    assert 'id="import-form"' not in page and 'id="confirm-import"' not in page

    worker = Worker(hold_at="comparing")
    worker.watch(monkeypatch)
    worker.start()
    assert worker.reached.wait(60), "the worker did not start the preview"
    running = progress(client, url, batch)  # while the worker holds at the stage
    worker.release.set()
    worker.join(60)
    assert not worker.is_alive()
    assert running["state"] == "running" and running["stage"] == "comparing"
    assert running["label"] == "저장된 내용과 비교하는 중"
    assert progress(client, url, batch)["state"] == "done"
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"
    page = client.get(f"{url}?batch={batch.pk}").content.decode()
    assert 'id="preview-counts"' in page and 'id="confirm-import"' in page

    confirm = client.post(reverse("admin:perfplan_plan_import_confirm", args=[batch.pk]))
    assert confirm.url == f"{url}?batch={batch.pk}"
    assert progress(client, url, batch) | {"label": ""} == {
        "step": "confirm",
        "state": "queued",
        "stage": "queued",
        "label": "",
        "text": "",
        "percent": 0,
        "finished": False,
    }
    # A second click while it waits queues nothing more.
    client.post(reverse("admin:perfplan_plan_import_confirm", args=[batch.pk]))
    assert DBTaskResult.objects.filter(status="READY").count() == 1
    worker = Worker(hold_at="settling")
    worker.watch(monkeypatch)
    worker.start()
    assert worker.reached.wait(120), "the worker did not import"
    settling = progress(client, url, batch)
    worker.release.set()
    worker.join(60)
    assert settling["stage"] == "settling" and settling["state"] == "running"
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.APPLIED
    assert no_standing_pending(YEAR)
    plan = Plan.objects.get(fiscal_year=YEAR)
    done = client.get(f"{url}?batch={batch.pk}")
    assert done.url == reverse("admin:perfplan_plan_tables", args=[plan.pk])


# ---------------------------------------------------------------- standings after an import


def overview_queries(client):
    """The queries of one overview request that reads its counts (none kept from before:
    indicators.standing.kept_rows)."""
    from django.core.cache import cache
    from django.test.utils import CaptureQueriesContext

    cache.clear()
    with CaptureQueriesContext(connection) as captured:
        assert client.get(reverse("tracking:overview")).status_code == 200
    return len(captured)


def plan_import_in_the_request(client, year):
    """The seed plan imported through the admin's pages, in the request (preview, confirm)."""
    handles = []
    for name, content in seed_files():
        handles.append(io.BytesIO(content))
        handles[-1].name = name
    url = reverse("admin:perfplan_plan_import")
    response = client.post(url, {"fiscal_year": year, "files": handles, "reason": ""})
    batch = response.context["batch"]
    return client.post(reverse("admin:perfplan_plan_import_confirm", args=[batch.pk]))


def test_the_first_overview_after_an_import_computes_nothing(
    client, django_user_model, settings, django_capture_on_commit_callbacks
):
    """After a plan import and after a results import (through their pages, in the request),
    the task queued on commit computed the standings: the first overview is the same
    request as the second, nothing left to compute."""
    from django.utils import timezone

    settings.TASKS = {"default": {"BACKEND": IMMEDIATE}}  # the worker runs what is queued
    year = timezone.localdate().year
    admin = make_user(django_user_model, "planadmin", roles.PLAN_ADMIN)
    client.force_login(admin)
    with django_capture_on_commit_callbacks(execute=True):
        plan_import_in_the_request(client, year)
    assert Plan.objects.filter(fiscal_year=year).exists()
    assert no_standing_pending(year)
    first = overview_queries(client)
    assert first == overview_queries(client)

    indicator = standing.IndicatorStanding.objects.filter(plan__fiscal_year=year).first().indicator
    department = indicator.policy_goal.strategic_goal.plan_department.name
    data = csv_bytes(
        [["실국명", "성과지표명", "기간", "실적"], [department, indicator.name, "연간", "7"]]
    )
    handle = io.BytesIO(data)
    handle.name = "실적.csv"
    response = client.post(reverse("results:import"), {"fiscal_year": year, "file": handle})
    assert response.context["batch"] is not None, response.context["errors"]
    with django_capture_on_commit_callbacks(execute=True):
        confirm = client.post(reverse("results:confirm", args=[response.context["batch"].pk]))
    assert confirm.status_code == 302
    assert no_standing_pending(year)
    first = overview_queries(client)
    assert first == overview_queries(client)


def test_an_import_in_the_request_queues_the_standings_and_computes_none(
    client, django_user_model, settings, django_capture_on_commit_callbacks, monkeypatch
):
    """The import's request computes no standing (its cost does not grow with them): it
    queues indicators.tasks.compute_standings once committed, and the task computes them."""
    from django.utils import timezone

    from indicators.tasks import compute_standings

    settings.TASKS = {"default": {"BACKEND": DATABASE}}  # queued, not run
    computed = []
    compute = standing.compute
    monkeypatch.setattr(
        standing, "compute", lambda *a, **k: computed.append(len(a[1])) or compute(*a, **k)
    )
    year = timezone.localdate().year
    client.force_login(make_user(django_user_model, "planadmin", roles.PLAN_ADMIN))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        confirmed = plan_import_in_the_request(client, year)
    assert confirmed.status_code == 302 and callbacks
    assert computed == []  # nothing computed in the request
    plan = Plan.objects.get(fiscal_year=year)
    outdated = standing.outdated_ids(plan, IndicatorStanding.objects.filter(plan=plan))
    assert len(outdated) == IndicatorStanding.objects.filter(plan=plan).count() > 0
    from django_tasks_db.models import DBTaskResult

    queued = DBTaskResult.objects.get(status="READY")
    assert queued.task_path == "indicators.tasks.compute_standings"
    assert queued.args_kwargs["args"] == [plan.pk]
    # What the worker runs: every outdated standing computed, and nothing left after.
    assert compute_standings.call(plan.pk) == len(outdated)
    assert computed == [len(outdated)]
    assert no_standing_pending(year)
    assert compute_standings.call(plan.pk) == 0
    assert compute_standings.call(plan.pk + 1000) == 0  # a plan deleted meanwhile


def test_the_demo_leaves_no_standing_to_compute():
    call_command("load_demo", verbosity=0)
    from django.utils import timezone

    assert no_standing_pending(timezone.localdate().year)


def test_korean_for_the_stage_names():
    with translation.override("ko"):
        labels = {key: str(label) for key, label in tasks.STAGE_LABELS.items()}
    assert labels["reading"] == "파일 읽는 중" and labels["queued"] == "작업 대기 중"
    assert all(label and label != key for key, label in labels.items())
