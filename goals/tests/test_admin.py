"""The Korean admin: list pages, the plan page, import with preview, exports, language."""

import io
import json

import openpyxl
import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from goals.models import StrategicGoal
from indicators.models import Indicator
from perfplan import roles
from perfplan.models import ImportBatch, ImportFile, Plan

from .factories import csv_bytes, load_seed, make_plan, seed_files, seed_rows

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan_admin(django_user_model):
    user = django_user_model.objects.create_user("planadmin", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=roles.PLAN_ADMIN))
    return user


@pytest.fixture
def officer(django_user_model):
    user = django_user_model.objects.create_user("officer", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=roles.OFFICER))
    return user


@pytest.fixture
def admin_client(client, plan_admin):
    client.force_login(plan_admin)
    return client


LIST_URLS = [
    "admin:perfplan_plan_changelist",
    "admin:perfplan_department_changelist",
    "admin:goals_plandepartment_changelist",
    "admin:goals_strategicgoal_changelist",
    "admin:goals_policygoal_changelist",
    "admin:indicators_indicator_changelist",
    "admin:budgets_unitprogram_changelist",
]


def count_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), response


@pytest.mark.parametrize("name", LIST_URLS)
def test_list_pages_query_count_does_not_grow_with_rows(admin_client, name):
    make_plan(2030, departments=5, goals=1, policy_goals=1, indicators=2, unit_programs=2)
    small, _ = count_queries(admin_client, reverse(name) + "?all=")
    make_plan(2031, departments=25, goals=2, policy_goals=2, indicators=5, unit_programs=5)
    large, response = count_queries(admin_client, reverse(name) + "?all=")
    assert small == large
    assert response.context["cl"].result_count >= 2


def test_plan_page_query_count_does_not_grow(admin_client):
    small_plan = make_plan(2030, departments=2, goals=1, policy_goals=1, indicators=5)
    big_plan = make_plan(2031, departments=25, goals=2, policy_goals=2, indicators=5)
    small, _ = count_queries(
        admin_client, reverse("admin:perfplan_plan_tables", args=[small_plan.pk])
    )
    large, _ = count_queries(
        admin_client, reverse("admin:perfplan_plan_tables", args=[big_plan.pk])
    )
    assert small == large


def test_plan_page_shows_both_tables_and_flags_differences(admin_client):
    plan = load_seed()
    plan.year_note = "원문에 회계연도가 없어 현재 연도로 불러왔습니다."
    plan.save()
    response = admin_client.get(reverse("admin:perfplan_plan_tables", args=[plan.pk]))
    html = response.content.decode()
    assert "원문에 회계연도가 없어" in html
    assert html.count('class="num differs"') == 4
    assert 'data-department="경제문화국"' in html and "448,151" in html and "448,150" in html
    assert "261,863" in html and "76.97" in html
    assert html.count("<tr>") >= 168  # one printed line per indicator in table 나
    assert "@page" not in html  # print rules live in the stylesheet
    assert "size: A4" in open("static/perfplan/perfplan.css", encoding="utf-8").read()


def test_admin_is_korean_whatever_the_browser_says(admin_client):
    response = admin_client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert response["Content-Language"] == "ko"
    assert '<html lang="ko"' in response.content.decode()
    admin_client.post(reverse("set_language"), {"language": "en", "next": "/admin/"})
    response = admin_client.get(reverse("admin:index"))
    assert response["Content-Language"] == "en"
    assert '<html lang="en"' in response.content.decode()


def test_import_shows_every_error_and_writes_nothing(admin_client):
    rows = seed_rows()
    rows[3][2] = "12a4"
    rows[6][3] = "오십"
    upload = io.BytesIO(csv_bytes(rows))
    upload.name = "plan.csv"
    response = admin_client.post(
        reverse("admin:perfplan_plan_import"), {"fiscal_year": 2026, "files": [upload]}
    )
    assert response.status_code == 200
    errors = response.context["errors"]
    assert [(e.file, e.row, e.column) for e in errors] == [
        ("plan.csv", 4, "예산액(백만원)"),
        ("plan.csv", 7, "비중(%)"),
    ]
    assert 'id="import-errors"' in response.content.decode()
    assert Plan.objects.count() == 0 and ImportBatch.objects.count() == 0


def test_import_preview_then_confirm_keeps_the_file_in_the_database(
    admin_client, plan_admin, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    uploads = []
    for name, content in seed_files():
        upload = io.BytesIO(content)
        upload.name = name
        uploads.append(upload)
    response = admin_client.post(
        reverse("admin:perfplan_plan_import"), {"fiscal_year": 2026, "files": uploads}
    )
    assert response.status_code == 200
    assert response.context["totals"]["new"] > 0
    assert Plan.objects.count() == 0  # a preview only
    batch = ImportBatch.objects.get()
    assert batch.status == ImportBatch.Status.PREVIEWED
    assert ImportFile.objects.filter(batch=batch).count() == 2
    assert not (tmp_path / "media").exists()  # nothing on this server's disk
    response = admin_client.post(reverse("admin:perfplan_plan_import_confirm", args=[batch.pk]))
    plan = Plan.objects.get(fiscal_year=2026)
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:perfplan_plan_tables", args=[plan.pk])
    assert Indicator.objects.count() == 168
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.APPLIED and batch.created_by == plan_admin
    # A batch is confirmed once.
    response = admin_client.post(reverse("admin:perfplan_plan_import_confirm", args=[batch.pk]))
    assert response.status_code == 404


def test_preview_lists_changed_fields_with_old_and_new_values(admin_client):
    load_seed()
    rows = seed_rows()
    for row in rows[1:]:
        if row[0] == "홍보실":
            row[2] = "480"
    upload = io.BytesIO(csv_bytes(rows))
    upload.name = "plan.csv"
    response = admin_client.post(
        reverse("admin:perfplan_plan_import"), {"fiscal_year": 2026, "files": [upload]}
    )
    changed = [c for c in response.context["listed_changes"] if c.action == "changed"]
    assert len(changed) == 1
    assert (changed[0].fields[0].old, changed[0].fields[0].new) == (478, 480)
    assert "<del>478" in response.content.decode()
    assert StrategicGoal.objects.get(plan_department__name="홍보실").budget == 478


def test_officer_cannot_import(client, officer):
    client.force_login(officer)
    assert client.get(reverse("admin:perfplan_plan_import")).status_code == 403


def test_upload_size_limit(admin_client, settings):
    settings.PERFPLAN_MAX_UPLOAD_BYTES = 50
    upload = io.BytesIO(csv_bytes(seed_rows()))
    upload.name = "plan.csv"
    response = admin_client.post(
        reverse("admin:perfplan_plan_import"), {"fiscal_year": 2026, "files": [upload]}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["files"]
    assert ImportBatch.objects.count() == 0


def test_exports(admin_client):
    plan = load_seed()
    url = reverse("admin:perfplan_plan_export", args=[plan.pk])
    xlsx = admin_client.get(url + "?format=xlsx")
    workbook = openpyxl.load_workbook(io.BytesIO(xlsx.content))
    assert workbook.sheetnames == ["총괄", "성과계획 및 재원비중"]
    assert workbook["성과계획 및 재원비중"].max_row == 169
    summary = admin_client.get(url + "?format=csv&table=summary")
    assert summary.content.startswith(b"\xef\xbb\xbf")
    assert '보건소,,1,7,24,18,"14,666","14,844",-177' in summary.content.decode("utf-8-sig")
    cp949 = admin_client.get(url + "?format=csv&table=hierarchy&encoding=cp949")
    assert "공동주택음식물쓰레기" in cp949.content.decode("cp949")
    data = json.loads(admin_client.get(url + "?format=json").content)
    assert len(data["discrepancies"]) == 4


def test_blank_template_has_two_example_rows_and_imports(admin_client):
    response = admin_client.get(reverse("admin:perfplan_plan_import_template"))
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    assert [ws.max_row for ws in workbook.worksheets] == [3, 3]
    upload = io.BytesIO(response.content)
    upload.name = "양식.xlsx"
    preview = admin_client.post(
        reverse("admin:perfplan_plan_import"), {"fiscal_year": 2040, "files": [upload]}
    )
    assert not preview.context["errors"], preview.context["errors"]
    assert preview.context["totals"]["new"] == 1 + 1 + 1 + 1 + 2  # plan, dept, goal, pg, 2 ind
