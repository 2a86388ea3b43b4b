"""Plan tables in: formats, encodings, Korean errors, preview, atomicity, natural keys."""

import io
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from django.conf import settings

from goals.models import PlanDepartment, PolicyGoal, StrategicGoal
from goals.tests.factories import csv_bytes, load_seed, seed_files, seed_rows, synthetic_plan
from indicators.models import Direction, Frequency, Indicator
from perfplan.models import Department, ImportBatch, Plan
from perfplan.planfiles.exports import plan_tables, table_by_key
from perfplan.planfiles.importer import import_plan
from perfplan.planfiles.tables import read_plan_files
from perfplan.tabular import TableReadError
from perfplan.xlsx import write_csv, write_xlsx

pytestmark = pytest.mark.django_db
HEADER = ["실국명", "전략목표명", "예산액(백만원)", "비중(%)", "정책사업목표명", "성과지표명"]


def read(files):
    return read_plan_files(files)


def counts(result):
    return {
        level: {k: v for k, v in row.items() if v}
        for level, row in result.counts().items()
        if any(row.values())
    }


def test_utf8_with_and_without_bom_and_cp949_read_the_same():
    rows = seed_rows()
    variants = [
        csv_bytes(rows, "utf-8-sig"),
        csv_bytes(rows, "utf-8"),
        csv_bytes(rows, "cp949"),
        csv_bytes(rows, "euc-kr"),
    ]
    plans = [read([("h.csv", v)]) for v in variants]
    for plan in plans[1:]:
        assert plan == plans[0]
    assert (
        sum(
            len(pg.indicators)
            for d in plans[0].departments
            for sg in d.strategic_goals
            for pg in sg.policy_goals
        )
        == 168
    )


def test_english_headers_are_accepted():
    rows = seed_rows()
    rows[0] = ["department", "strategic goal", "budget", "share", "policy goal", "indicator"]
    assert read([("h.csv", csv_bytes(rows))]) == read([("h.csv", csv_bytes(seed_rows()))])


def test_every_bad_row_is_listed_at_once_and_nothing_is_written():
    rows = seed_rows()
    rows[3][2] = "12a4"  # budget
    rows[5][1] = ""  # strategic goal: blank repeats the row above, so use a new department
    rows[5][0] = "새부서"
    rows[8][3] = "5.0.9"  # share
    with pytest.raises(TableReadError) as caught:
        read([("계획.csv", csv_bytes(rows))])
    messages = [str(e) for e in caught.value.errors]
    assert len(messages) == 3
    assert messages[0].startswith("계획.csv")
    errors = caught.value.errors
    assert (errors[0].row, errors[0].column, errors[0].value) == (4, "예산액(백만원)", "12a4")
    assert (errors[1].row, errors[1].column) == (6, "전략목표명")
    assert (errors[2].row, errors[2].column, errors[2].value) == (9, "비중(%)", "5.0.9")
    assert Plan.objects.count() == 0 and StrategicGoal.objects.count() == 0


def test_errors_are_korean_by_default():
    rows = seed_rows()
    rows[3][2] = "12a4"
    with pytest.raises(TableReadError) as caught:
        read([("계획.csv", csv_bytes(rows))])
    text = str(caught.value.errors[0])
    assert "4행" in text and "열" in text, text


def test_inconsistent_budget_for_one_goal_is_refused():
    rows = seed_rows()
    rows[2][2] = "949"  # second row of 의회사무국's goal says 949, first 948
    with pytest.raises(TableReadError) as caught:
        read([("h.csv", csv_bytes(rows))])
    assert caught.value.errors[0].row == 3
    assert "2" in caught.value.errors[0].message  # names the row that said otherwise


def test_duplicate_indicator_is_refused():
    rows = seed_rows()
    rows.append(list(rows[1]))
    with pytest.raises(TableReadError) as caught:
        read([("h.csv", csv_bytes(rows))])
    assert caught.value.errors[0].row == len(rows)


def test_not_a_plan_table_says_what_was_expected():
    with pytest.raises(TableReadError) as caught:
        read([("x.csv", b"a,b\n1,2\n")])
    message = str(caught.value.errors[0])
    assert "성과지표명" in message and "전략목표수" in message


def test_missing_required_column():
    rows = [r[1:] for r in seed_rows()]  # no 실국명
    with pytest.raises(TableReadError) as caught:
        read([("h.csv", csv_bytes(rows))])
    assert "실국명" in str(caught.value.errors[0])


def test_file_size_limit(settings):
    settings.PERFPLAN_MAX_UPLOAD_BYTES = 100
    with pytest.raises(TableReadError) as caught:
        read([("h.csv", csv_bytes(seed_rows()))])
    assert "100" in str(caught.value.errors[0])


def test_zip_bomb_is_refused_unopened():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (50 * 1024 * 1024))
    with pytest.raises(TableReadError) as caught:
        read([("bomb.xlsx", buffer.getvalue())])
    message = str(caught.value.errors[0])  # in the active language: names the file and its size
    assert "bomb.xlsx" in message and "50.0 MB" in message


def test_merged_cell_style_blanks_repeat_the_row_above():
    rows = [
        HEADER,
        ["A국", "목표1", "1,000", "50.00", "사업1", "지표1"],
        ["", "", "", "", "", "지표2"],
        ["", "", "", "", "사업2", "지표3"],
        ["", "목표2", "△1,000", "", "사업3", ""],
    ]
    plan = read([("h.csv", csv_bytes(rows))])
    dept = plan.departments[0]
    assert [sg.name for sg in dept.strategic_goals] == ["목표1", "목표2"]
    assert [i.name for i in dept.strategic_goals[0].policy_goals[0].indicators] == [
        "지표1",
        "지표2",
    ]
    assert dept.strategic_goals[1].budget == Decimal(-1000)
    assert dept.strategic_goals[1].policy_goals[0].indicators == []


def test_preview_writes_nothing_then_confirm_writes_everything():
    data = read(seed_files())
    preview = import_plan(2026, data, dry_run=True)
    assert preview.ok and not preview.applied
    assert counts(preview)["indicator"] == {"new": 168}
    assert Plan.objects.count() == 0 and ImportBatch.objects.count() == 0
    applied = import_plan(2026, data)
    assert applied.applied
    assert Indicator.objects.count() == 168
    assert ImportBatch.objects.get().status == ImportBatch.Status.APPLIED


def test_reimporting_the_export_changes_nothing_in_every_format():
    plan = load_seed()
    tables = plan_tables(plan)
    ids = set(Indicator.objects.values_list("id", flat=True))
    for files in (
        [("plan.xlsx", write_xlsx(tables))],
        [
            ("h.csv", write_csv(table_by_key(tables, "hierarchy"))),
            ("s.csv", write_csv(table_by_key(tables, "summary"))),
        ],
        [
            ("h.csv", write_csv(table_by_key(tables, "hierarchy"), "cp949")),
            ("s.csv", write_csv(table_by_key(tables, "summary"), "cp949")),
        ],
    ):
        result = import_plan(2026, read(files))
        assert result.ok
        assert not result.has_writes, [c for c in result.changes if c.action != "unchanged"][:3]
    assert set(Indicator.objects.values_list("id", flat=True)) == ids


def test_edited_file_updates_in_place_with_old_and_new_values():
    load_seed()
    rows = seed_rows()
    rows[1][5] = "의원 전문교육 참석율"  # rename an indicator
    for row in rows[1:]:
        if row[0] == "홍보실":
            row[2] = "500"
    goal_id = StrategicGoal.objects.get(plan_department__name="홍보실").pk
    result = import_plan(2026, read([("h.csv", csv_bytes(rows))]))
    assert result.ok
    changed = {c.level: c for c in result.changes if c.action == "changed"}
    budget = changed["strategic_goal"].fields[0]
    assert (budget.field, budget.old, budget.new) == ("budget", Decimal(478), Decimal(500))
    assert StrategicGoal.objects.get(pk=goal_id).budget == Decimal(500)
    # A renamed indicator without a code is a new one; the old one is deleted.
    assert counts(result)["indicator"] == {"new": 1, "deleted": 1, "unchanged": 167}
    assert StrategicGoal.objects.count() == 10 and Indicator.objects.count() == 168


def test_indicator_codes_allow_renames_and_moves_in_place():
    rows = [
        HEADER[:5] + ["지표코드", "성과지표명"],
        ["A국", "목표", "10", "", "사업1", "I-1", "지표1"],
        ["A국", "목표", "10", "", "사업2", "I-2", "지표2"],
    ]
    assert import_plan(2026, read([("h.csv", csv_bytes(rows))])).ok
    before = Indicator.objects.get(code="I-1").pk
    rows[1] = ["A국", "목표", "10", "", "사업2", "I-1", "지표1 (개정)"]
    result = import_plan(2026, read([("h.csv", csv_bytes(rows))]))
    assert result.ok
    moved = Indicator.objects.get(code="I-1")
    assert moved.pk == before and moved.name == "지표1 (개정)"
    assert moved.policy_goal.name == "사업2"
    # I-1 moved and renamed; I-2 moved down one place in 사업2.
    assert counts(result)["indicator"] == {"changed": 2}
    # 사업1 is no longer in the file: deleted, without taking the moved indicator along.
    assert counts(result)["policy_goal"] == {"deleted": 1, "changed": 1}  # 사업2 moves up
    assert not PolicyGoal.objects.filter(name="사업1").exists()
    assert Indicator.objects.count() == 2


def test_spacing_differences_alone_change_nothing():
    load_seed()
    rows = seed_rows()
    rows[1][1] = rows[1][1].replace(" ", "")
    rows[2][1] = rows[2][1].replace(" ", "")
    result = import_plan(2026, read([("h.csv", csv_bytes(rows))]))
    assert result.ok and not result.has_writes


def test_missing_entries_are_deleted_and_listed():
    load_seed()
    rows = [r for r in seed_rows() if r[0] != "보건소"]
    result = import_plan(2026, read([("h.csv", csv_bytes(rows))]), dry_run=True)
    deleted = counts(result)
    assert deleted["strategic_goal"]["deleted"] == 1
    assert deleted["policy_goal"]["deleted"] == 7
    assert deleted["indicator"]["deleted"] == 24
    assert Indicator.objects.count() == 168  # a preview
    import_plan(2026, read([("h.csv", csv_bytes(rows))]))
    assert Indicator.objects.count() == 144
    assert PlanDepartment.objects.filter(name="보건소").exists()  # the summary keeps it


def test_summary_alone_updates_declared_figures_only():
    load_seed()
    rows = seed_rows("seed_plan_summary.csv")
    rows[2][5] = "1,400"  # 의회사무국 budget
    result = import_plan(2026, read([("s.csv", csv_bytes(rows))]))
    assert result.ok
    assert PlanDepartment.objects.get(name="의회사무국").declared_budget == Decimal(1400)
    assert Indicator.objects.count() == 168


def test_department_identity_continues_across_years():
    load_seed(2025)
    load_seed(2026)
    assert Department.objects.count() == 11
    council = Department.objects.get(name="의회사무국")
    assert council.plan_entries.count() == 2


def test_a_failure_while_writing_rolls_everything_back(monkeypatch):
    data = read(seed_files())

    def explode(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(Indicator.objects, "bulk_create", explode)
    with pytest.raises(RuntimeError):
        import_plan(2026, data)
    assert Plan.objects.count() == 0 and StrategicGoal.objects.count() == 0


def test_a_large_import_failing_while_logging_rolls_everything_back(monkeypatch):
    """Past COPY_MIN new records the importer writes with COPY on PostgreSQL (bulk_create on
    SQLite) and the log streams its entries: a failure half-way through the log must still
    leave no plan, no record and no entry behind, and the chain where it was."""
    from perfplan.bulk import COPY_MIN_OBJECTS as COPY_MIN
    from perfplan.changelog import ChainWriter, verify_chain
    from perfplan.models import ChangeLogEntry, ChangeLogHead

    data = synthetic_plan(departments=4, goals=3, policy_goals=4, indicators=25)
    assert 4 * 3 * 4 * 25 > COPY_MIN
    entries_before = ChangeLogEntry.objects.count()
    head_before = ChangeLogHead.objects.filter(pk=1).values_list("position", flat=True).first()
    extend = ChainWriter.extend

    def extend_then_fail(self, entries):
        def failing():
            for number, entry in enumerate(entries):
                if number == COPY_MIN:
                    raise RuntimeError("disk full")
                yield entry

        return extend(self, failing())

    monkeypatch.setattr(ChainWriter, "extend", extend_then_fail)
    with pytest.raises(RuntimeError, match="disk full"):
        import_plan(2026, data)
    assert not Plan.objects.exists() and not Indicator.objects.exists()
    assert not Department.objects.exists() and not ImportBatch.objects.exists()
    assert ChangeLogEntry.objects.count() == entries_before
    assert (
        ChangeLogHead.objects.filter(pk=1).values_list("position", flat=True).first() == head_before
    )
    monkeypatch.setattr(ChainWriter, "extend", extend)
    assert import_plan(2026, data).ok
    assert Indicator.objects.count() == 4 * 3 * 4 * 25
    assert verify_chain().ok


def test_definition_columns_round_trip():
    rows = [
        HEADER + ["단위", "지표방향", "측정주기", "목표치"],
        ["A국", "목표", "10", "", "사업", "민원처리기간", "일", "하향", "분기", "5.5"],
        ["A국", "목표", "10", "", "사업", "만족도", "점", "상향", "연", "85"],
    ]
    assert import_plan(2026, read([("h.csv", csv_bytes(rows))])).ok
    days = Indicator.objects.get(name="민원처리기간")
    assert days.direction == Direction.LOWER and days.frequency == Frequency.QUARTERLY
    assert days.annual_target == Decimal("5.5")
    exported = write_xlsx(plan_tables(Plan.objects.get()))
    assert not import_plan(2026, read([("p.xlsx", exported)])).has_writes
    rows[1][7] = "매일"
    with pytest.raises(TableReadError) as caught:
        read([("h.csv", csv_bytes(rows))])
    assert caught.value.errors[0].column == "지표방향"


def test_xlsx_export_escapes_formulae_and_reimports_them():
    rows = [HEADER, ["A국", '=HYPERLINK("x")', "10", "", "-사업", "@지표"]]
    assert import_plan(2026, read([("h.csv", csv_bytes(rows))])).ok
    tables = plan_tables(Plan.objects.get())
    workbook = openpyxl.load_workbook(io.BytesIO(write_xlsx(tables)))
    sheet = workbook["성과계획 및 재원비중"]
    values = [c.value for c in sheet[2]]
    assert '\'=HYPERLINK("x")' in values and "'-사업" in values and "'@지표" in values
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    csv_text = write_csv(table_by_key(tables, "hierarchy")).decode("utf-8-sig")
    assert "'=HYPERLINK" in csv_text and ",'-사업," in csv_text
    result = import_plan(2026, read([("p.xlsx", write_xlsx(tables))]))
    assert result.ok and not result.has_writes
    assert StrategicGoal.objects.get().name == '=HYPERLINK("x")'


def test_unit_programs_table_is_held_and_counted():
    load_seed()
    rows = [["실국명", "전략목표명", "정책사업목표명", "단위사업명", "예산액", "전년도예산액"]]
    goal = StrategicGoal.objects.get(plan_department__name="의회사무국")
    pg = goal.policy_goals.get()
    for n in range(3):
        rows.append(["의회사무국", goal.name, pg.name, f"의정활동 지원 {n}", "300", "280"])
    result = import_plan(2026, read([("u.csv", csv_bytes(rows))]))
    assert result.ok, result.errors
    assert pg.unit_programs.count() == 3
    from perfplan.planfiles.summary import reconcile_plan

    recon = reconcile_plan(Plan.objects.get())
    council = recon.rows[0]
    assert council.computed.unit_programs == 3 and "unit_programs" not in council.differences
    planning = recon.rows[1]
    assert planning.computed.unit_programs == 0
    assert "unit_programs" in planning.differences
    # Unknown policy goal in a unit-program table: a Korean error naming file and row.
    rows.append(["의회사무국", goal.name, "없는 사업", "x", "1", "1"])
    result = import_plan(2026, read([("u.csv", csv_bytes(rows))]))
    assert not result.ok and result.errors[0].row == 5


def test_every_written_record_is_in_the_change_log_with_its_batch():
    from perfplan.changelog import verify_chain
    from perfplan.models import ChangeLogEntry

    load_seed()
    batch = ImportBatch.objects.get()
    entries = ChangeLogEntry.objects.filter(batch_id=batch.pk)
    # plan + 11 departments + 10 goals + 66 policy goals + 168 indicators + the import itself
    assert entries.count() == 1 + 11 + 10 + 66 + 168 + 1
    indicator = entries.filter(
        action="create", object_repr__endswith="의원 전문교육 및 위탁연수 참석율"
    ).get()
    assert indicator.changes["name"] == [None, "의원 전문교육 및 위탁연수 참석율"]
    assert indicator.department.name == "의회사무국" and indicator.fiscal_year == 2026
    rows = seed_rows()
    for row in rows[1:]:
        if row[0] == "홍보실":
            row[2] = "500"
    import_plan(2026, read([("h.csv", csv_bytes(rows))]))
    update = ChangeLogEntry.objects.get(action="update", content_type__model="strategicgoal")
    assert update.changes == {"budget": ["478", "500"]}
    assert StrategicGoal.objects.get(plan_department__name="홍보실").version == 2
    assert verify_chain().ok


def test_an_indicator_with_results_is_never_deleted_by_an_import():
    from indicators.models import Result

    load_seed()
    indicator = Indicator.objects.get(name="의원 전문교육 및 위탁연수 참석율")
    Result.objects.create(indicator=indicator, period="Y", value=Decimal("95"))
    rows = seed_rows()
    rows[1][5] = "의원 전문교육 참석율"  # a rename without a code = delete + new
    result = import_plan(2026, read([("h.csv", csv_bytes(rows))]), dry_run=True)
    assert not result.ok
    assert "의원 전문교육 및 위탁연수 참석율" in str(result.errors[0])
    result = import_plan(2026, read([("h.csv", csv_bytes(rows))]))
    assert not result.applied and Indicator.objects.filter(pk=indicator.pk).exists()


def test_a_published_plans_budget_change_needs_a_reason_and_keeps_the_original():
    from django.utils import timezone

    from perfplan.models import ChangeLogEntry

    plan = load_seed()
    plan.published_at = timezone.now()
    plan.save()
    rows = seed_rows()
    for row in rows[1:]:
        if row[0] == "홍보실":
            row[2] = "500"
    result = import_plan(2026, read([("h.csv", csv_bytes(rows))]))
    assert not result.applied and "홍보실" in str(result.errors[0])
    result = import_plan(2026, read([("h.csv", csv_bytes(rows))]), reason="추경 반영")
    assert result.applied
    goal = StrategicGoal.objects.get(plan_department__name="홍보실")
    assert (goal.original_budget, goal.budget) == (Decimal(478), Decimal(500))
    entry = ChangeLogEntry.objects.get(action="update", content_type__model="strategicgoal")
    assert entry.reason == "추경 반영"
    for row in rows[1:]:
        if row[0] == "홍보실":
            row[2] = "510"
    import_plan(2026, read([("h.csv", csv_bytes(rows))]), reason="2차 추경")
    goal.refresh_from_db()
    assert (goal.original_budget, goal.budget) == (Decimal(478), Decimal(510))


def test_import_plan_command_previews_imports_and_refuses_bad_files(tmp_path):
    from django.core.management import call_command
    from django.core.management.base import CommandError
    from django.utils import translation

    fixtures = Path(settings.BASE_DIR) / "fixtures"
    files = [str(fixtures / "seed_plan_summary.csv"), str(fixtures / "seed_plan_hierarchy.csv")]
    with translation.override("ko"):
        out = io.StringIO()
        call_command("import_plan", *files, "--year", "2026", "--dry-run", stdout=out)
        assert "시험 실행: 아무것도 저장하지 않았습니다." in out.getvalue()
        assert not Plan.objects.exists()
        out = io.StringIO()
        call_command("import_plan", *files, "--year", "2026", "--note", "시험", stdout=out)
        assert "2026" in out.getvalue().splitlines()[-1]
        plan = Plan.objects.get(fiscal_year=2026)
        assert plan.year_note == "시험" and Indicator.objects.count() == 168
        bad = tmp_path / "h.csv"
        bad.write_bytes(csv_bytes([HEADER, ["A국", "목표", "숫자아님", "", "사업", "지표"]]))
        errors = io.StringIO()
        with pytest.raises(CommandError, match="가져오지"):
            call_command(
                "import_plan", str(bad), "--year", "2027", stdout=io.StringIO(), stderr=errors
            )
        assert not Plan.objects.filter(fiscal_year=2027).exists()
