"""Results in bulk: formats and encodings, preview then confirm, atomicity, every error at
once, department scoping, approved results, entry deadlines, the change log, the admin page."""

import io
import re
from datetime import date
from decimal import Decimal as D
from unittest import mock

import openpyxl
import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from goals.models import PlanDepartment
from goals.tests.factories import csv_bytes, make_plan
from indicators import results_import
from indicators.models import EntryException, Indicator, Result, ResultStatus
from indicators.results_import import (
    import_results_files,
    read_results_files,
)
from perfplan import roles
from perfplan.changelog import verify_chain
from perfplan.models import ChangeLogEntry, Department, DepartmentAssignment, ImportBatch

pytestmark = pytest.mark.django_db

YEAR = 2026
TODAY = date(2026, 7, 5)  # Q2 and the year are open for entry; Q1's deadline has passed
HEADER = ["실국명", "성과지표명", "기간", "실적", "비고"]


@pytest.fixture
def plan():
    # 부서000 and 부서001, each with 지표 d-0-0-0 and 지표 d-0-0-1 (yearly: not defined yet)
    return make_plan(YEAR, departments=2, goals=1, policy_goals=1, indicators=2)


def _user(django_user_model, username, role, departments=()):
    user = django_user_model.objects.create_user(username, password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    for name in departments:
        DepartmentAssignment.objects.create(user=user, department=Department.objects.get(name=name))
    return django_user_model.objects.get(pk=user.pk)  # fresh: no cached permissions


@pytest.fixture
def officer(plan, django_user_model):
    return _user(django_user_model, "officer", roles.OFFICER, ["부서000"])


@pytest.fixture
def plan_admin(plan, django_user_model):
    return _user(django_user_model, "planadmin", roles.PLAN_ADMIN)


def indicator(name):
    return Indicator.objects.get(name=name)


def run(rows, user, *, name="실적.csv", encoding="utf-8-sig", dry_run=False, **kwargs):
    kwargs.setdefault("today", TODAY)
    data = csv_bytes([HEADER, *rows], encoding)
    return import_results_files(YEAR, [(name, data)], user=user, dry_run=dry_run, **kwargs)


def where(errors):
    return [(e.row, e.column) for e in errors]


# ---------------------------------------------------------------- preview, apply, re-import


def test_preview_writes_nothing_then_apply_then_reimport_changes_nothing(officer):
    rows = [
        ["부서000", "지표 0-0-0-0", "연간", "85.5", "잠정치"],
        ["부서000", "지표 0-0-0-1", "Y", "1,234", ""],
    ]
    preview = run(rows, officer, dry_run=True)
    assert preview.ok, preview.errors
    assert preview.totals() == {"new": 2, "changed": 0, "unchanged": 0, "skipped": 0}
    assert Result.objects.count() == 0 and ImportBatch.objects.filter(source="results").count() == 0
    assert not ChangeLogEntry.objects.filter(content_type__model="result").exists()

    applied = run(rows, officer)
    assert applied.ok and applied.applied
    first = Result.objects.get(indicator=indicator("지표 0-0-0-0"), period="Y")
    assert (first.value, first.note, first.status) == (D("85.5"), "잠정치", ResultStatus.DRAFT)
    assert first.entered_by == officer and not first.is_sample
    assert Result.objects.get(indicator=indicator("지표 0-0-0-1")).value == D(1234)
    assert applied.batch.source == "results" and applied.batch.status == "applied"
    assert applied.batch.files.count() == 1 and applied.batch.created_by == officer

    again = run(rows, officer)
    assert again.totals() == {"new": 0, "changed": 0, "unchanged": 2, "skipped": 0}

    rows[0][3] = "90"
    rows[1][4] = "확정"
    edited = run(rows, officer, dry_run=True)
    changed = [c for c in edited.changes if c.action == "changed"]
    assert [(c.old_value, c.new_value) for c in changed] == [(D("85.5"), D(90)), (D(1234), D(1234))]
    assert [(c.old_note, c.new_note) for c in changed] == [("잠정치", "잠정치"), ("", "확정")]
    assert changed[0].value_changed and not changed[0].note_changed
    version = first.version
    run(rows, officer)
    first.refresh_from_db()
    assert first.value == D(90) and first.note == "잠정치"  # a blank 비고 keeps the note
    assert first.version == version + 1  # open edit forms are now stale


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "cp949", "euc-kr"])
def test_csv_encodings(officer, encoding):
    rows = [["부서000", "지표 0-0-0-0", "연간", "△12", "음수 표기"]]
    result = run(rows, officer, encoding=encoding)
    assert result.ok, result.errors
    assert Result.objects.get().value == D(-12) and Result.objects.get().note == "음수 표기"


def test_xlsx_reads_like_csv(officer):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "실적"
    sheet.append(["3분기 실적 취합"])  # a title line above the header
    sheet.append(HEADER)
    sheet.append(["부서000", "지표 0-0-0-0", "연간", 85.5, None])
    sheet.append([None, None, None, None, None])
    sheet.append(["부서000", "지표 0-0-0-1", "Y", 7, "메모"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    result = import_results_files(
        YEAR, [("실적.xlsx", buffer.getvalue())], user=officer, today=TODAY
    )
    assert result.ok, result.errors
    assert sorted(Result.objects.values_list("value", flat=True)) == [D(7), D("85.5")]
    # xlsx floats are read as typed, never as binary expansions
    assert Result.objects.get(value=D("85.5")).value == D("85.5")


def test_english_headers_and_indicator_codes(officer):
    target = indicator("지표 0-0-0-1")
    target.code = "IND-7"
    target.save()
    data = csv_bytes(
        [
            ["department", "indicator code", "period", "actual", "note"],
            ["부서000", "IND-7", "y", "3", ""],
        ]
    )
    result = import_results_files(YEAR, [("r.csv", data)], user=officer, today=TODAY)
    assert result.ok, result.errors
    assert Result.objects.get().indicator == target


def test_korean_period_forms(officer):
    quarterly = indicator("지표 0-0-0-0")
    quarterly.frequency = "quarterly"
    quarterly.save()
    monthly = indicator("지표 0-0-0-1")
    monthly.frequency = "monthly"
    monthly.save()
    rows = [
        ["부서000", "지표 0-0-0-0", "2/4분기", "5", ""],
        ["부서000", "지표 0-0-0-1", "6월", "6", ""],
        ["부서000", "지표 0-0-0-1", "M07", "7", ""],
    ]
    result = run(rows, officer)
    assert result.ok, result.errors
    assert sorted(Result.objects.values_list("period", flat=True)) == ["M06", "M07", "Q2"]


def test_rows_without_value_or_note_are_skipped(officer):
    rows = [
        ["부서000", "지표 0-0-0-0", "연간", "", ""],
        ["부서000", "지표 0-0-0-1", "연간", "4", ""],
    ]
    result = run(rows, officer)
    assert result.ok and result.totals()["skipped"] == 1
    assert Result.objects.count() == 1


# ---------------------------------------------------------------- every error at once


def test_every_error_listed_at_once_with_row_and_column_and_nothing_written(officer):
    quarterly = indicator("지표 0-0-0-1")
    quarterly.frequency = "quarterly"
    quarterly.save()
    rows = [
        ["부서000", "지표 0-0-0-0", "연간", "10", ""],  # row 2: fine
        ["부서000", "지표 0-0-0-0", "연간", "12a", ""],  # row 3: not a number
        ["부서000", "없는 지표", "연간", "1", ""],  # row 4: no such indicator
        ["부서000", "지표 0-0-0-1", "봄", "1", ""],  # row 5: not a period
        ["부서000", "지표 0-0-0-1", "3월", "1", ""],  # row 6: a quarterly indicator
        ["부서000", "지표 0-0-0-0", "Y", "11", ""],  # row 7: the same as row 2
        ["", "지표 0-0-0-0", "연간", "1", ""],  # row 8: no department
        ["부서000", "지표 0-0-0-0", "연간", "", "설명만"],  # row 9: a note without a value
        ["부서000", "지표 0-0-0-1", "4분기", "1", ""],  # row 10: not begun on 5 July
    ]
    result = run(rows, officer)
    assert not result.ok and not result.applied
    assert where(result.errors) == [
        (3, "실적"),
        (4, "성과지표명"),
        (5, "기간"),
        (6, "기간"),
        (7, "기간"),
        (8, "실국명"),
        (9, "실적"),
        (10, "기간"),
    ]
    assert result.errors[0].value == "12a" and result.errors[0].file == "실적.csv"
    assert "row 2" in result.errors[4].message or "2행" in result.errors[4].message
    assert Result.objects.count() == 0 and ImportBatch.objects.filter(source="results").count() == 0
    assert not ChangeLogEntry.objects.filter(content_type__model="result").exists()


def test_errors_are_in_korean(officer):
    result = run([["부서000", "지표 0-0-0-0", "연간", "12a", ""]], officer)
    text = str(result.errors[0])
    assert text.startswith("실적.csv, 2행, '실적' 열 [12a]: ")
    assert "숫자" in text


def test_file_level_errors(officer):
    result = import_results_files(
        YEAR, [("r.csv", csv_bytes([["이름", "값"], ["a", "1"]]))], user=officer, today=TODAY
    )
    assert not result.ok and result.errors[0].row is None
    result = import_results_files(YEAR, [("r.pdf", b"%PDF")], user=officer, today=TODAY)
    assert not result.ok
    missing = csv_bytes([["성과지표명", "기간", "실적"], ["지표 0-0-0-0", "Y", "1"]])
    result = import_results_files(YEAR, [("r.csv", missing)], user=officer, today=TODAY)
    assert "실국명" in result.errors[0].message
    result = import_results_files(2031, [("r.csv", csv_bytes([HEADER]))], user=officer)
    assert not result.ok  # no such plan


def test_the_whole_file_is_one_transaction(officer):
    rows = [["부서000", f"지표 0-0-0-{i}", "연간", str(i + 1), ""] for i in range(2)]
    with mock.patch.object(
        results_import.log, "log_changes", side_effect=RuntimeError("log failed")
    ):
        with pytest.raises(RuntimeError):
            run(rows, officer)
    assert Result.objects.count() == 0 and ImportBatch.objects.filter(source="results").count() == 0


def test_ambiguous_names_need_the_policy_goal(officer, plan):
    from goals.models import PolicyGoal

    first = indicator("지표 0-0-0-0")
    other_goal = PolicyGoal.objects.create(
        strategic_goal=first.policy_goal.strategic_goal, name="둘째 목표"
    )
    Indicator.objects.create(policy_goal=other_goal, name="지표 0-0-0-0")
    result = run([["부서000", "지표 0-0-0-0", "연간", "1", ""]], officer)
    assert where(result.errors) == [(2, "성과지표명")]
    data = csv_bytes(
        [
            ["실국명", "정책사업목표명", "성과지표명", "기간", "실적"],
            ["부서000", "둘째 목표", "지표 0-0-0-0", "연간", "1"],
        ]
    )
    result = import_results_files(YEAR, [("r.csv", data)], user=officer, today=TODAY)
    assert result.ok, result.errors
    assert Result.objects.get().indicator.policy_goal == other_goal


# ---------------------------------------------------------------- scoping


def test_a_bad_row_of_another_department_lists_both_problems(officer):
    result = run([["부서001", "지표 1-0-0-0", "연간", "12a", ""]], officer)
    assert where(result.errors) == [(2, "실적"), (2, "실국명")]


def test_a_row_of_another_department_is_refused_naming_the_row(officer):
    """The django-import-export trap: its admin import ignores ModelAdmin.get_queryset, so an
    officer could write another department's rows. Here scoping decides every row."""
    rows = [
        ["부서000", "지표 0-0-0-0", "연간", "1", ""],
        ["부서001", "지표 1-0-0-0", "연간", "2", ""],
    ]
    result = run(rows, officer)
    assert not result.ok
    assert where(result.errors) == [(3, "실국명")]
    assert result.errors[0].value == "부서001"
    assert Result.objects.count() == 0  # not even the officer's own row

    # matching the other department's indicator by its code does not get around it
    other = indicator("지표 1-0-0-0")
    other.code = "OTHER-1"
    other.save()
    data = csv_bytes([["실국명", "지표코드", "기간", "실적"], ["부서000", "OTHER-1", "Y", "1"]])
    result = import_results_files(YEAR, [("r.csv", data)], user=officer, today=TODAY)
    assert where(result.errors) == [(2, "지표코드")]
    assert Result.objects.count() == 0


def test_plan_admin_imports_every_department(plan_admin):
    rows = [
        ["부서000", "지표 0-0-0-0", "연간", "1", ""],
        ["부서001", "지표 1-0-0-0", "연간", "2", ""],
    ]
    result = run(rows, plan_admin)
    assert result.ok, result.errors
    assert Result.objects.count() == 2


def test_a_viewer_who_may_not_enter_results_is_refused(plan, django_user_model):
    reviewer = _user(django_user_model, "reviewer", roles.REVIEWER, ["부서000"])
    Result.objects.create(indicator=indicator("지표 0-0-0-1"), period="Y", value=D(1))
    rows = [
        ["부서000", "지표 0-0-0-0", "연간", "1", ""],
        ["부서000", "지표 0-0-0-1", "연간", "2", ""],
    ]
    result = run(rows, reviewer)
    assert where(result.errors) == [(2, "실국명"), (3, "실국명")]
    assert Result.objects.count() == 1 and Result.objects.get().value == D(1)


# ---------------------------------------------------------------- approved, deadlines


def test_an_approved_result_cannot_be_overwritten(officer):
    approved = Result.objects.create(
        indicator=indicator("지표 0-0-0-0"), period="Y", value=D(5), status=ResultStatus.APPROVED
    )
    result = run([["부서000", "지표 0-0-0-0", "연간", "6", ""]], officer)
    assert where(result.errors) == [(2, "실적")]
    approved.refresh_from_db()
    assert approved.value == D(5)
    # the same value again is no overwrite: an exported file re-imports cleanly
    result = run([["부서000", "지표 0-0-0-0", "연간", "5", ""]], officer)
    assert result.ok and result.totals()["unchanged"] == 1


def test_periods_past_their_entry_deadline_are_refused(officer):
    quarterly = indicator("지표 0-0-0-0")
    quarterly.frequency = "quarterly"
    quarterly.save()
    rows = [
        ["부서000", "지표 0-0-0-0", "Q1", "1", ""],  # deadline 10 April: closed on 5 July
        ["부서000", "지표 0-0-0-0", "Q2", "2", ""],  # deadline 10 July: open
    ]
    result = run(rows, officer)
    assert where(result.errors) == [(2, "기간")]
    assert Result.objects.count() == 0
    EntryException.objects.create(
        plan=quarterly.policy_goal.strategic_goal.plan_department.plan,
        department=Department.objects.get(name="부서000"),
        period="Q1",
        open_until=date(2026, 7, 31),
        reason="자료 지연",
    )
    result = run(rows, officer)
    assert result.ok, result.errors
    assert Result.objects.count() == 2


# ---------------------------------------------------------------- the change log


def test_a_1000_row_import_is_logged_in_full(plan_admin):
    big = make_plan(2027, departments=2, goals=5, policy_goals=10, indicators=10)
    names = list(
        Indicator.objects.in_plan(big).values_list(
            f"{Indicator.scope.to(PlanDepartment)}__name", "name"
        )
    )
    assert len(names) == 1000
    rows = [[dept, name, "연간", str(n), ""] for n, (dept, name) in enumerate(names)]
    data = csv_bytes([HEADER, *rows])
    result = import_results_files(
        2027, [("big.csv", data)], user=plan_admin, today=date(2027, 3, 1)
    )
    assert result.ok, result.errors[:3]
    entries = ChangeLogEntry.objects.filter(batch_id=result.batch.pk)
    creates = entries.filter(action="create", content_type__model="result")
    assert creates.count() == 1000
    assert entries.filter(action="import").count() == 1
    entry = creates.get(object_id=str(Result.objects.get(value=D(7)).pk))
    assert entry.changes["value"] == [None, "7"] and entry.changes["period"] == [None, "Y"]
    assert entry.user_id == plan_admin.pk and entry.fiscal_year == 2027
    assert entry.department_id == Department.objects.get(name="부서000").pk
    assert Result.objects.count() == 1000

    for row in rows:
        row[3] = str(int(row[3]) + 1)
    data = csv_bytes([HEADER, *rows])
    result = import_results_files(
        2027, [("big.csv", data)], user=plan_admin, today=date(2027, 3, 1)
    )
    updates = ChangeLogEntry.objects.filter(batch_id=result.batch.pk, action="update")
    assert updates.count() == 1000
    assert updates.get(object_id=entry.object_id).changes == {"value": ["7", "8"]}
    assert verify_chain().ok


def test_import_logs_no_single_save_entries_besides_its_own(officer):
    run([["부서000", "지표 0-0-0-0", "연간", "1", ""]], officer)
    assert ChangeLogEntry.objects.filter(content_type__model="result").count() == 1


def test_query_count_does_not_grow_with_rows(plan_admin):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    big = make_plan(2027, departments=1, goals=2, policy_goals=6, indicators=20)
    names = list(Indicator.objects.in_plan(big).order_by("pk").values_list("name", flat=True))

    def count(selected, dry_run):
        rows = [["부서000", name, "연간", "1", ""] for name in selected]
        data = csv_bytes([HEADER, *rows])
        with CaptureQueriesContext(connection) as queries:
            result = import_results_files(
                2027, [("r.csv", data)], user=plan_admin, today=date(2027, 3, 1), dry_run=dry_run
            )
        assert result.ok and result.totals()["new"] == len(selected)
        return len(queries)

    count(names[:5], True)  # warm the permission and content-type caches
    assert count(names[:10], True) == count(names[:200], True)
    # Writes go in batches (on SQLite a batch is bounded by its 999 parameters): never a
    # query per row.
    small, large = count(names[:10], False), count(names[10:210], False)
    assert small <= large <= small + 200 // 25
    if connection.vendor == "postgresql":
        assert small == large


# ---------------------------------------------------------------- command


def test_management_command(officer, tmp_path, settings):
    path = tmp_path / "실적.csv"
    path.write_bytes(csv_bytes([HEADER, ["부서000", "지표 0-0-0-0", "연간", "3", ""]]))
    this_year = timezone.localdate().year
    make_plan(this_year, departments=1, goals=1, policy_goals=1, indicators=2)
    # the officer's department is 부서000 in every plan
    out = io.StringIO()
    call_command(
        "import_results",
        str(path),
        "--year",
        this_year,
        "--user",
        "officer",
        "--dry-run",
        stdout=out,
    )
    assert Result.objects.count() == 0
    call_command("import_results", str(path), "--year", this_year, "--user", "officer", stdout=out)
    assert Result.objects.get().value == D(3)
    assert ImportBatch.objects.get(source="results").summary["via"] == "command"
    with pytest.raises(CommandError):
        call_command("import_results", str(path), "--year", this_year, "--user", "nobody")
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_bytes([HEADER, ["부서001", "지표 1-0-0-0", "연간", "3", ""]]))
    with pytest.raises(CommandError):
        call_command(
            "import_results", str(bad), "--year", this_year, "--user", "officer", stdout=out
        )


# ---------------------------------------------------------------- the admin page


@pytest.fixture
def current_plan():
    return make_plan(
        timezone.localdate().year, departments=2, goals=1, policy_goals=1, indicators=2
    )


def _upload(rows, name="실적.csv", encoding="utf-8-sig"):
    upload = io.BytesIO(csv_bytes([HEADER, *rows], encoding))
    upload.name = name
    return upload


def test_admin_upload_preview_then_confirm(
    client, current_plan, django_user_model, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    officer = _user(django_user_model, "officer", roles.OFFICER, ["부서000"])
    client.force_login(officer)
    url = reverse("results:import")
    assert client.get(url).status_code == 200
    year = current_plan.fiscal_year
    rows = [["부서000", "지표 0-0-0-0", "연간", "42", "메모"]]
    response = client.post(url, {"fiscal_year": year, "file": _upload(rows, encoding="cp949")})
    assert response.status_code == 200
    assert response.context["totals"]["new"] == 1
    html = response.content.decode()
    assert 'id="confirm-import"' in html and "지표 0-0-0-0" in html
    assert Result.objects.count() == 0  # a preview only
    batch = ImportBatch.objects.get(source="results")
    assert (batch.source, batch.status, batch.created_by) == ("results", "previewed", officer)
    assert batch.files.count() == 1
    assert not (tmp_path / "media").exists()  # nothing on this server's disk

    # another user cannot confirm someone else's preview
    other = _user(django_user_model, "officer2", roles.OFFICER, ["부서000"])
    client.force_login(other)
    assert client.post(reverse("results:confirm", args=[batch.pk])).status_code == 404
    client.force_login(officer)
    response = client.post(reverse("results:confirm", args=[batch.pk]))
    assert response.status_code == 302
    assert Result.objects.get().value == D(42)
    batch.refresh_from_db()
    assert batch.status == "applied"
    assert ChangeLogEntry.objects.filter(batch_id=batch.pk, action="create").count() == 1
    # a batch is confirmed once
    assert client.post(reverse("results:confirm", args=[batch.pk])).status_code == 404


def test_admin_confirm_refuses_when_the_data_changed_since_the_preview(
    client, current_plan, django_user_model
):
    officer = _user(django_user_model, "officer", roles.OFFICER, ["부서000"])
    client.force_login(officer)
    rows = [["부서000", "지표 0-0-0-0", "연간", "42", ""]]
    client.post(
        reverse("results:import"), {"fiscal_year": current_plan.fiscal_year, "file": _upload(rows)}
    )
    batch = ImportBatch.objects.get(source="results")
    Result.objects.create(indicator=indicator_in(current_plan, "지표 0-0-0-0"), period="Y", value=1)
    response = client.post(reverse("results:confirm", args=[batch.pk]))
    assert response.status_code == 200 and response.context["errors"]
    assert Result.objects.get().value == D(1)
    batch.refresh_from_db()
    assert batch.status == "rejected"
    assert client.post(reverse("results:confirm", args=[batch.pk])).status_code == 404


def indicator_in(plan, name):
    return Indicator.objects.in_plan(plan).get(name=name)


def test_admin_upload_refuses_another_departments_rows(client, current_plan, django_user_model):
    officer = _user(django_user_model, "officer", roles.OFFICER, ["부서000"])
    client.force_login(officer)
    rows = [["부서001", "지표 1-0-0-0", "연간", "1", ""]]
    response = client.post(
        reverse("results:import"), {"fiscal_year": current_plan.fiscal_year, "file": _upload(rows)}
    )
    assert response.status_code == 200
    assert where(response.context["errors"]) == [(2, "실국명")]
    assert 'id="import-errors"' in response.content.decode()
    assert ImportBatch.objects.filter(source="results").count() == 0 and Result.objects.count() == 0


def test_admin_page_needs_the_right_to_enter_results(client, current_plan, django_user_model):
    reviewer = _user(django_user_model, "reviewer", roles.REVIEWER, ["부서000"])
    client.force_login(reviewer)
    assert client.get(reverse("results:import")).status_code == 403
    assert client.get(reverse("results:template")).status_code == 403
    client.logout()
    assert client.get(reverse("results:import")).status_code == 302  # to the login page


def test_blank_template_and_filled_template_round_trip(client, current_plan, django_user_model):
    officer = _user(django_user_model, "officer", roles.OFFICER, ["부서000"])
    client.force_login(officer)
    response = client.get(reverse("results:template") + "?format=xlsx")
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    sheet = workbook["실적"]
    assert [c.value for c in sheet[1]] == [
        "실국명",
        "정책사업목표명",
        "지표코드",
        "성과지표명",
        "기간",
        "실적",
        "비고",
    ]
    assert sheet.max_row == 3  # two example rows
    rows, errors = read_results_files([("t.xlsx", response.content)])
    assert len(rows) == 2 and not errors
    csv_response = client.get(reverse("results:template") + "?format=csv&encoding=cp949")
    assert csv_response.content.decode("cp949").startswith("실국명,")

    Result.objects.create(indicator=indicator_in(current_plan, "지표 0-0-0-0"), period="Y", value=5)
    year = current_plan.fiscal_year
    filled = client.get(reverse("results:template") + f"?format=xlsx&year={year}")
    assert filled.status_code == 200
    rows, errors = read_results_files([("f.xlsx", filled.content)], year=year)
    assert [r.department for r in rows] == ["부서000", "부서000"]  # the officer's only
    result = import_results_files(year, [("f.xlsx", filled.content)], user=officer)
    assert result.ok, result.errors
    assert result.totals() == {"new": 0, "changed": 0, "unchanged": 1, "skipped": 1}


def test_the_diff_locks_the_results_in_id_order(officer):
    # The one lock order (README, Concurrency): results in id order, or two writers deadlock.
    run([["부서000", "지표 0-0-0-0", "연간", "1", ""]], officer)
    with CaptureQueriesContext(connection) as queries:
        preview = run([["부서000", "지표 0-0-0-0", "연간", "2", ""]], officer, dry_run=True)
    assert preview.ok, preview.errors
    (read,) = [q["sql"] for q in queries if '"indicators_result"."entered_by_id"' in q["sql"]]
    # values_list(pk, …) orders by its first column: the id
    assert re.search(r'ORDER BY ("indicators_result"\."id"|1) ASC', read), read
    if connection.features.has_select_for_update_of:
        assert "FOR UPDATE OF" in read
