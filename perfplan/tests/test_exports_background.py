"""Large exports made by the task worker (perfplan.exports, issue 13 item 8).

An export of more than PERFPLAN_EXPORT_INLINE_ROWS rows is queued as an ExportJob and the
user sent to its page; a smaller one downloads at once. The job, run by the task (the
ImmediateBackend runs it as it is queued; the tests' default database backend only queues
it, as production does before the worker takes it), makes the same workbook as the request
would. Only the user who asked (and superusers) find it; the download asks again whether
they may have it.
"""

from __future__ import annotations

import io
import re
from datetime import timedelta

import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone, translation
from django_tasks_db.models import DBTaskResult

from goals.tests.factories import make_plan
from perfplan import exports, roles
from perfplan.models import ExportJob, Plan
from perfplan.tests.test_imports import make_user

pytestmark = pytest.mark.django_db
IMMEDIATE = "django_tasks.backends.immediate.ImmediateBackend"
DATABASE = "django_tasks_db.DatabaseBackend"
KOREAN = {"HTTP_ACCEPT_LANGUAGE": "ko"}
HANGUL = re.compile("[가-힣]")


@pytest.fixture(autouse=True)
def korean():
    with translation.override("ko"):
        yield


@pytest.fixture
def plan():
    # 3 departments × 1 goal × 1 policy goal × 2 indicators: 6 indicators, 9 table rows
    return make_plan(timezone.localdate().year, departments=3, goals=1, policy_goals=1)


@pytest.fixture
def admin_user(django_user_model, plan):
    return make_user(django_user_model, "planadmin", roles.PLAN_ADMIN)


@pytest.fixture
def officer(django_user_model, plan):
    return make_user(django_user_model, "officer", roles.OFFICER, ["부서000"])


@pytest.fixture
def queued(settings):
    """Every export is queued; the database backend keeps it for the worker."""
    settings.TASKS = {"default": {"BACKEND": DATABASE}}
    settings.PERFPLAN_EXPORT_INLINE_ROWS = 0


@pytest.fixture
def worker(settings):
    """Every export is queued and made at once (the ImmediateBackend runs the task)."""
    settings.TASKS = {"default": {"BACKEND": IMMEDIATE}}
    settings.PERFPLAN_EXPORT_INLINE_ROWS = 0


def urls(plan):
    """Each export wired to the mechanism: its kind and its page's URL (as the pages link)."""
    year = {"year": plan.fiscal_year}
    return {
        "plan_tables": (reverse("admin:perfplan_plan_export", args=[plan.pk]), {"format": "xlsx"}),
        "results_report": (reverse("reports:export"), year),
        "overview": (reverse("tracking:overview_export"), {**year, "format": "xlsx"}),
        "my_department": (reverse("tracking:my_department_export"), {**year, "format": "xlsx"}),
        "change_log": (reverse("admin:perfplan_changelogentry_export"), {}),
    }


def ask(client, plan, kind):
    url, query = urls(plan)[kind]
    return client.get(url, query, **KOREAN)


def job_of(response):
    assert response.status_code == 302, response
    match = re.fullmatch(r"/admin/exports/([0-9a-f-]+)/", response.url)
    assert match, response.url
    return ExportJob.objects.get(pk=match[1])


def cells(content):
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    return {
        sheet.title: [[cell.value for cell in row] for row in sheet.iter_rows()]
        for sheet in workbook.worksheets
    }


def body(response):
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


# ---------------------------------------------------------------- inline or queued


def test_a_small_export_downloads_at_once(client, admin_user, plan, settings):
    settings.PERFPLAN_EXPORT_INLINE_ROWS = 9  # the plan tables' rows: 6 indicators, 3 departments
    client.force_login(admin_user)
    response = ask(client, plan, "plan_tables")
    assert response.status_code == 200
    assert response["Content-Type"] == exports.XLSX_TYPE
    assert "attachment" in response["Content-Disposition"]
    assert ExportJob.objects.count() == 0


def test_a_large_export_is_queued_for_the_worker(client, admin_user, plan, settings):
    settings.TASKS = {"default": {"BACKEND": DATABASE}}
    settings.PERFPLAN_EXPORT_INLINE_ROWS = 8  # one row fewer than the tables hold
    client.force_login(admin_user)
    job = job_of(ask(client, plan, "plan_tables"))
    assert (job.kind, job.state, job.requested_by) == ("plan_tables", "queued", admin_user)
    assert job.params == {"plan": plan.pk}
    assert DBTaskResult.objects.count() == 1  # waiting for `manage.py db_worker`
    page = client.get(exports.job_url(job), **KOREAN)
    assert page.status_code == 200
    assert b'id="import-progress"' in page.content  # the progress bar, polled by progress.js
    assert reverse("exports:progress", args=[job.pk]).encode() in page.content


def test_the_seed_sized_plan_downloads_at_once_by_default(client, admin_user, plan):
    client.force_login(admin_user)
    assert exports.inline_rows() >= 1096  # the seed plan's largest export
    for kind in urls(plan):
        response = ask(client, plan, kind)
        assert response.status_code == 200, kind
    assert ExportJob.objects.count() == 0


@pytest.mark.parametrize(
    "kind", ["plan_tables", "results_report", "overview", "my_department", "change_log"]
)
def test_the_worker_makes_the_same_workbook_as_the_request(
    client, admin_user, plan, settings, kind
):
    client.force_login(admin_user)
    settings.PERFPLAN_EXPORT_INLINE_ROWS = 10**6
    inline = ask(client, plan, kind)
    assert inline.status_code == 200, inline

    settings.TASKS = {"default": {"BACKEND": IMMEDIATE}}
    settings.PERFPLAN_EXPORT_INLINE_ROWS = 0
    job = job_of(ask(client, plan, kind))
    job.refresh_from_db()
    assert job.state == "done", job.error
    assert job.made_at and job.size == len(bytes(job.content))
    download = client.get(reverse("exports:download", args=[job.pk]), **KOREAN)
    assert download.status_code == 200
    named = download["Content-Disposition"].lower(), inline["Content-Disposition"].lower()
    if kind == "change_log":  # stamped to the minute it was made
        named = tuple(name.rsplit("-", 1)[0] for name in named)
    assert named[0] == named[1]
    assert cells(body(download)) == cells(body(inline))


# ---------------------------------------------------------------- progress


def test_progress_json_from_queued_to_done(client, admin_user, plan, queued):
    client.force_login(admin_user)
    job = job_of(ask(client, plan, "results_report"))
    progress_url = reverse("exports:progress", args=[job.pk])
    progress = client.get(progress_url, **KOREAN).json()
    assert progress["state"] == "queued" and not progress["finished"]
    assert progress["percent"] == 0 and progress["download_url"] == ""

    exports._update(job.pk, state="running", progress_done=3, progress_total=6)
    progress = client.get(progress_url, **KOREAN).json()
    assert (progress["state"], progress["percent"]) == ("running", 50)
    assert "3" in progress["text"] and "6" in progress["text"]

    exports.make_export.call(str(job.pk))  # what the worker runs
    progress = client.get(progress_url, **KOREAN).json()
    assert progress["state"] == "done" and progress["finished"]
    assert progress["percent"] == 100
    assert progress["download_url"] == reverse("exports:download", args=[job.pk])
    assert progress["file_name"].endswith(".xlsx")
    page = client.get(exports.job_url(job), **KOREAN)
    assert b'id="export-download"' in page.content


def test_rows_written_are_told_as_the_workbook_is_written(admin_user, plan, queued, monkeypatch):
    told = []
    monkeypatch.setattr(exports, "REPORT_EVERY", 0)
    update = exports._update

    def spy(job_id, **fields):
        if fields.get("state") == "running":
            told.append((fields["progress_done"], fields["progress_total"]))
        update(job_id, **fields)

    monkeypatch.setattr(exports, "_update", spy)
    from perfplan.planfiles.views import PLAN_TABLES_EXPORT

    job = exports.queue(PLAN_TABLES_EXPORT, admin_user, {"plan": plan.pk})
    exports.make_export.call(str(job.pk))
    job.refresh_from_db()
    assert job.state == "done"
    assert told[0] == (0, 0)  # collecting the data
    assert told[1][0] == 0 and told[1][1] > 0  # writing begins
    assert told[-1] == (told[1][1], told[1][1])  # every row written
    assert job.progress_done == job.progress_total == told[1][1]


# ---------------------------------------------------------------- whose job


def test_another_user_finds_no_job(client, admin_user, officer, plan, worker, django_user_model):
    client.force_login(admin_user)
    job = job_of(ask(client, plan, "results_report"))
    other = make_user(django_user_model, "planadmin2", roles.PLAN_ADMIN)
    client.force_login(other)
    for name in ("job", "progress", "download"):
        assert client.get(reverse(f"exports:{name}", args=[job.pk])).status_code == 404, name
    assert str(job.pk) not in client.get(reverse("exports:list")).content.decode()
    superuser = django_user_model.objects.create_superuser("root", password="pw")
    client.force_login(superuser)
    assert client.get(reverse("exports:download", args=[job.pk])).status_code == 200


def test_the_download_asks_again_whether_the_user_may_have_it(client, officer, plan, worker):
    client.force_login(officer)
    job = job_of(ask(client, plan, "results_report"))
    assert job.state == "done"
    download = reverse("exports:download", args=[job.pk])
    assert client.get(download).status_code == 200
    officer.groups.clear()  # no longer allowed to see the report
    assert client.get(download).status_code == 403


def test_the_job_is_made_with_the_users_scope(client, officer, plan, worker):
    client.force_login(officer)
    job = job_of(ask(client, plan, "results_report"))
    workbook = cells(bytes(ExportJob.objects.get(pk=job.pk).content))
    text = repr(workbook)
    assert "부서000" in text
    assert "부서001" not in text and "부서002" not in text


def test_the_list_shows_the_users_recent_exports(client, admin_user, plan, worker):
    client.force_login(admin_user)
    made = job_of(ask(client, plan, "plan_tables"))
    page = client.get(reverse("exports:list"), **KOREAN)
    assert page.status_code == 200
    assert reverse("exports:download", args=[made.pk]).encode() in page.content


# ---------------------------------------------------------------- failures, duplicates, cleaning


def test_a_failure_stores_a_korean_error(client, admin_user, plan, worker, monkeypatch):
    from reports import views

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(views, "build_report", broken)
    client.force_login(admin_user)
    job = job_of(ask(client, plan, "results_report"))
    job.refresh_from_db()
    assert job.state == "failed" and not job.content
    assert job.error == str(exports.STOPPED)
    assert "disk full" not in job.error
    progress = client.get(reverse("exports:progress", args=[job.pk]), **KOREAN).json()
    assert progress["state"] == "failed" and progress["finished"]
    assert progress["error"] == job.error
    page = client.get(exports.job_url(job), **KOREAN)
    assert b'id="export-error"' in page.content
    # Korean once the lead merges locale/ko/LC_MESSAGES/pending/exports.po
    assert HANGUL.search(job.error), job.error


def test_a_job_no_longer_allowed_fails_with_a_message(admin_user, plan, queued):
    from reports.views import REPORT_EXPORT

    job = exports.queue(REPORT_EXPORT, admin_user, {"plan": plan.pk, "department": None})
    admin_user.groups.clear()
    exports.make_export.call(str(job.pk))
    job.refresh_from_db()
    assert job.state == "failed"
    assert job.error == str(exports.NOT_ALLOWED)


def test_the_same_request_while_queued_returns_the_same_job(client, admin_user, plan, queued):
    client.force_login(admin_user)
    first = job_of(ask(client, plan, "overview"))
    second = job_of(ask(client, plan, "overview"))
    assert first.pk == second.pk
    assert ExportJob.objects.count() == 1 and DBTaskResult.objects.count() == 1
    other_query = client.get(
        reverse("tracking:overview_export"),
        {"year": plan.fiscal_year, "format": "xlsx", "q": "지표"},
    )
    assert job_of(other_query).pk != first.pk  # other filters: another export


def test_a_finished_or_dead_job_is_not_reused(client, admin_user, plan, queued):
    client.force_login(admin_user)
    first = job_of(ask(client, plan, "plan_tables"))
    ExportJob.objects.filter(pk=first.pk).update(
        requested_at=timezone.now() - exports.STALE_AFTER - timedelta(minutes=1)
    )
    assert client.get(reverse("exports:progress", args=[first.pk])).json()["finished"]
    second = job_of(ask(client, plan, "plan_tables"))
    assert second.pk != first.pk


def test_the_worker_deletes_jobs_a_day_old(admin_user, plan, queued):
    from perfplan.planfiles.views import PLAN_TABLES_EXPORT

    old = exports.queue(PLAN_TABLES_EXPORT, admin_user, {"plan": plan.pk})
    ExportJob.objects.filter(pk=old.pk).update(
        state="done", requested_at=timezone.now() - timedelta(hours=25)
    )
    job = exports.queue(PLAN_TABLES_EXPORT, admin_user, {"plan": plan.pk})
    exports.make_export.call(str(job.pk))
    assert list(ExportJob.objects.values_list("pk", flat=True)) == [job.pk]


def test_every_kind_is_registered_once():
    import indicators.views.exports  # noqa: F401
    import perfplan.admin_changelog  # noqa: F401
    import perfplan.planfiles.views  # noqa: F401
    import reports.views  # noqa: F401

    assert set(exports._KINDS) >= {
        "plan_tables",
        "results_report",
        "overview",
        "my_department",
        "change_log",
    }
    for export in exports._KINDS.values():
        assert exports._export(export.path) is export


@pytest.mark.django_db(transaction=True)
def test_a_queued_export_is_made_by_the_db_worker(client, settings, monkeypatch, django_user_model):
    """As production runs it: the request queues, `manage.py db_worker` makes the file while
    the page's JSON tells how far it is."""
    import threading

    from perfplan.tests.test_tasks import Worker

    make_plan(timezone.localdate().year, departments=3, goals=1, policy_goals=1)
    plan_ = Plan.objects.get()
    user = make_user(django_user_model, "planadmin", roles.PLAN_ADMIN)
    settings.TASKS = {"default": {"BACKEND": DATABASE}}
    settings.PERFPLAN_EXPORT_INLINE_ROWS = 0
    client.force_login(user)
    job = job_of(ask(client, plan_, "plan_tables"))
    progress_url = reverse("exports:progress", args=[job.pk])
    assert client.get(progress_url, **KOREAN).json()["state"] == "queued"

    reached, release = threading.Event(), threading.Event()
    update = exports._update

    def holding(job_id, **fields):
        update(job_id, **fields)
        if fields.get("progress_total") and not reached.is_set():
            reached.set()
            assert release.wait(30)

    monkeypatch.setattr(exports, "_update", holding)
    worker = Worker()
    worker.start()
    assert reached.wait(60), "the worker did not start writing"
    running = client.get(progress_url, **KOREAN).json()
    release.set()
    worker.join(60)
    assert not worker.is_alive()
    assert running["state"] == "running" and running["stage"] == "running"
    assert running["total"] == 10 and not running["finished"]  # 가 with its 계 row, 나
    done = client.get(progress_url, **KOREAN).json()
    assert done["state"] == "done" and done["download_url"]
    made = DBTaskResult.objects.get(task_path="perfplan.exports.make_export")
    assert made.status == "SUCCESSFUL"
    download = client.get(done["download_url"])
    assert cells(download.content)


@pytest.mark.parametrize("role", [roles.PLAN_ADMIN, roles.OFFICER, roles.REVIEWER, roles.AUDITOR])
def test_the_admin_home_leads_every_role_to_its_exports(client, django_user_model, plan, role):
    user = make_user(django_user_model, f"home-{role}", role, ["부서000"])
    client.force_login(user)
    page = client.get(reverse("admin:index"), **KOREAN).content.decode()
    assert f'href="{reverse("exports:list")}" id="link-my-exports"' in page
    assert client.get(reverse("exports:list"), **KOREAN).status_code == 200
