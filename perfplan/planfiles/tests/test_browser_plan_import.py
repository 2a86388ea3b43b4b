"""The plan import acceptance flow, in a real browser against the live server.

A plan admin uploads the seed plan with mistakes and sees every error at once with nothing
written; uploads the corrected files, previews, confirms; edits an indicator name and a
budget, sees the old and new values in the preview, confirms; downloads the xlsx export.

Assertions are on element ids, files and the database, never on translated UI text.
"""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from django.conf import settings
from django.urls import reverse

from goals.models import PlanDepartment, PolicyGoal, StrategicGoal
from indicators.models import Indicator
from perfplan.models import Department, ImportBatch, Plan

YEAR = 2031  # fixed, so the test does not depend on today's date
SEED_DIR = Path(settings.BASE_DIR) / "fixtures"
HIERARCHY_NAME = "성과계획_재원비중.csv"
SUMMARY_NAME = "성과계획_총괄.csv"

DEPT, GOAL, BUDGET, POLICY_GOAL, INDICATOR = (
    "실국명",
    "전략목표명",
    "예산액(백만원)",
    "정책사업목표명",
    "성과지표명",
)
TOTAL_ROW = "계"
SHEET_SUMMARY, SHEET_HIERARCHY = "총괄", "성과계획 및 재원비중"


# ---------------------------------------------------------------- files


def read_csv(path):
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return [row for row in csv.reader(handle)]


def write_csv(path, rows):
    """UTF-8 without a BOM (the seed files carry one: both must read)."""
    with open(path, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def key(name):
    return re.sub(r"\s", "", name)


class SeedPlan:
    """The seed hierarchy as rows to mutate; line numbers are the CSV's (header = line 1)."""

    def __init__(self):
        self.rows = read_csv(SEED_DIR / "seed_plan_hierarchy.csv")
        self.summary = read_csv(SEED_DIR / "seed_plan_summary.csv")
        self.col = {name: index for index, name in enumerate(self.rows[0])}

    def copy(self):
        other = SeedPlan.__new__(SeedPlan)
        other.rows = [list(r) for r in self.rows]
        other.summary = [list(r) for r in self.summary]
        other.col = dict(self.col)
        return other

    def cell(self, line, column):
        return self.rows[line - 1][self.col[column]]

    def set(self, line, column, value):
        self.rows[line - 1][self.col[column]] = value

    def lines(self):
        return range(2, len(self.rows) + 1)

    def first_lines_of_departments(self):
        """The line where each department starts, in file order."""
        firsts, previous = [], None
        for line in self.lines():
            if self.cell(line, DEPT) != previous:
                firsts.append(line)
                previous = self.cell(line, DEPT)
        return firsts

    def goal_lines(self, line):
        """Every line of the strategic goal on `line` (its budget is repeated on each)."""
        goal = (self.cell(line, DEPT), self.cell(line, GOAL))
        return [n for n in self.lines() if (self.cell(n, DEPT), self.cell(n, GOAL)) == goal]

    def expected_new_counts(self):
        """[plan, departments, strategic goals, policy goals, indicators], counted by hand."""
        columns = (DEPT, GOAL, POLICY_GOAL, INDICATOR)
        body = [[key(self.cell(n, c)) for c in columns] for n in self.lines()]
        departments = {key(r[0]) for r in self.summary[1:] if r[0] != TOTAL_ROW}
        departments |= {r[0] for r in body}
        return [
            1,
            len(departments),
            len({tuple(r[:2]) for r in body}),
            len({tuple(r[:3]) for r in body}),
            len({tuple(r) for r in body}),
        ]

    def write(self, folder):
        folder.mkdir(exist_ok=True)
        return [
            write_csv(folder / HIERARCHY_NAME, self.rows),
            write_csv(folder / SUMMARY_NAME, self.summary),
        ]


def amount(text):
    """An amount as the page or a workbook shows it: 1,234 / 478.000 / 512."""
    return Decimal(str(text).replace(",", "").strip())


# ---------------------------------------------------------------- page steps


def upload(page, year, paths):
    page.fill("#id_fiscal_year", str(year))
    page.set_input_files("#id_files", [str(p) for p in paths])
    page.click("#preview-import")


def preview_counts(page):
    """#preview-counts as numbers: a row per level (plan, department, strategic goal, policy
    goal, indicator; levels without entries left out), columns new/changed/unchanged/deleted.
    """
    page.wait_for_load_state()
    return [
        [int(cell.replace(",", "").strip()) for cell in row.locator("td").all_inner_texts()]
        for row in page.locator("#preview-counts tbody tr").all()
    ]


def assert_plan_not_written():
    assert Plan.objects.count() == 0
    assert PlanDepartment.objects.count() == 0
    assert Department.objects.count() == 0
    assert StrategicGoal.objects.count() == 0
    assert Indicator.objects.count() == 0


# ---------------------------------------------------------------- the flow


@pytest.mark.browser
def test_plan_admin_imports_previews_confirms_edits_and_exports(
    page, live_server, plan_admin_user, admin_login, tmp_path
):
    from playwright.sync_api import expect

    tables_url = re.compile(r"/admin/perfplan/plan/(\d+)/tables/$")
    seed = SeedPlan()

    # --- the plan admin signs in and opens the import page from the plans list
    admin_login(page, plan_admin_user.username, plan_admin_user.raw_password)
    page.goto(live_server.url + reverse("admin:perfplan_plan_changelist"))
    page.click("#import-plan-link")
    page.wait_for_url(f"**{reverse('admin:perfplan_plan_import')}")
    expect(page.locator("#import-form")).to_be_visible()

    # --- a hierarchy file with two bad rows: every error at once, nothing written
    broken = seed.copy()
    departments = broken.first_lines_of_departments()
    empty_goal_line = departments[1]  # a department's first row: nothing above to repeat
    bad_budget_line = departments[2]
    broken.set(empty_goal_line, GOAL, "")
    broken.set(bad_budget_line, BUDGET, "12a4")
    upload(page, YEAR, broken.write(tmp_path / "broken"))

    errors = page.locator("#import-errors li")
    expect(page.locator("#import-errors")).to_be_visible()
    expect(errors).to_have_count(2)
    texts = errors.all_inner_texts()
    by_column = {column: [t for t in texts if column in t] for column in (GOAL, BUDGET)}
    for column, line in ((GOAL, empty_goal_line), (BUDGET, bad_budget_line)):
        assert len(by_column[column]) == 1, (column, texts)
        text = by_column[column][0]
        assert HIERARCHY_NAME in text, text
        assert re.search(rf"(?<!\d){line}(?!\d)", text), (line, text)
    assert "12a4" in by_column[BUDGET][0]
    assert_plan_not_written()
    assert ImportBatch.objects.count() == 0
    # The form is shown again for the next attempt.
    expect(page.locator("#import-form")).to_be_visible()

    # --- the corrected files: a preview of the new plan, still nothing written
    upload(page, YEAR, seed.write(tmp_path / "fixed"))
    expect(page.locator("#preview-counts")).to_be_visible()
    expect(page.locator("#import-errors")).to_have_count(0)
    expected = seed.expected_new_counts()  # the seed: 1 plan, 11, 10, 66, 168
    _plans, n_departments, n_goals, n_policy_goals, n_indicators = expected
    assert preview_counts(page) == [[n, 0, 0, 0] for n in expected]
    assert_plan_not_written()
    batch = ImportBatch.objects.get()
    assert batch.status == ImportBatch.Status.PREVIEWED
    assert batch.files.count() == 2

    page.click("#confirm-import")
    page.wait_for_url(tables_url)
    plan = Plan.objects.get(fiscal_year=YEAR)
    assert page.url.endswith(reverse("admin:perfplan_plan_tables", args=[plan.pk]))
    assert PlanDepartment.objects.filter(plan=plan).count() == n_departments
    assert StrategicGoal.objects.filter(plan_department__plan=plan).count() == n_goals
    policy_goals = PolicyGoal.objects.in_plan(plan)
    assert policy_goals.count() == n_policy_goals
    indicators = Indicator.objects.in_plan(plan)
    assert indicators.count() == n_indicators
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.APPLIED
    # The seed declares 173 indicators in table 가 but lists 168: shown, never corrected.
    expect(page.locator("#discrepancies li").first).to_be_visible()

    # --- second round: one indicator renamed, one strategic goal's budget changed
    edited = seed.copy()
    renamed_line = departments[0] + 1  # the first department's second indicator
    old_name = edited.cell(renamed_line, INDICATOR)
    new_name = f"{old_name} 횟수"
    edited.set(renamed_line, INDICATOR, new_name)
    budget_goal_lines = edited.goal_lines(departments[2])
    budget_dept = edited.cell(budget_goal_lines[0], DEPT)
    budget_goal = edited.cell(budget_goal_lines[0], GOAL)
    old_budget = amount(edited.cell(budget_goal_lines[0], BUDGET))
    new_budget = old_budget + 34
    for line in budget_goal_lines:  # a goal's budget is repeated on each of its rows
        edited.set(line, BUDGET, f"{new_budget:,}")

    page.goto(live_server.url + reverse("admin:perfplan_plan_import"))
    upload(page, YEAR, edited.write(tmp_path / "edited"))
    changes = page.locator("#preview-changes")
    expect(changes).to_be_visible()

    changed = changes.locator("tr.change-changed")
    expect(changed).to_have_count(1)  # the strategic goal; nothing else changed in place
    expect(changed).to_contain_text(budget_goal)
    old_shown = [amount(t) for t in changed.locator("del").all_inner_texts()]
    new_shown = [amount(t) for t in changed.locator("ins").all_inner_texts()]
    assert old_shown == [old_budget] and new_shown == [new_budget], (old_shown, new_shown)
    # Without indicator codes, a renamed indicator is matched by name: the old one goes,
    # the new one comes; the preview lists both names.
    expect(changes.locator("tr.change-deleted")).to_have_count(1)
    expect(changes.locator("tr.change-deleted")).to_contain_text(old_name)
    expect(changes.locator("tr.change-new")).to_have_count(1)
    expect(changes.locator("tr.change-new")).to_contain_text(new_name)
    # Columns: new, changed, unchanged, deleted.
    assert preview_counts(page) == [
        [0, 0, 1, 0],
        [0, 0, n_departments, 0],
        [0, 1, n_goals - 1, 0],
        [0, 0, n_policy_goals, 0],
        [1, 0, n_indicators - 1, 1],
    ]
    # Still nothing written.
    goal = StrategicGoal.objects.get(plan_department__plan=plan, name=budget_goal)
    assert goal.budget == old_budget
    assert indicators.filter(name=old_name).exists()
    assert not indicators.filter(name=new_name).exists()

    page.click("#confirm-import")
    page.wait_for_url(tables_url)
    assert page.url.endswith(reverse("admin:perfplan_plan_tables", args=[plan.pk]))
    goal.refresh_from_db()
    assert goal.budget == new_budget
    assert goal.plan_department.name == budget_dept
    assert not indicators.filter(name=old_name).exists()
    assert indicators.filter(name=new_name).exists()
    assert indicators.count() == n_indicators
    assert Plan.objects.count() == 1

    # --- the xlsx export from the plan page holds the edited values
    export_link = page.locator('a[href*="/export/?format=xlsx"]')
    expect(export_link).to_have_count(1)
    with page.expect_download() as download_info:
        export_link.click()
    download = download_info.value
    assert download.failure() is None
    assert download.suggested_filename.endswith(".xlsx")
    saved = tmp_path / "export.xlsx"
    download.save_as(saved)

    workbook = openpyxl.load_workbook(io.BytesIO(saved.read_bytes()), data_only=True)
    assert SHEET_SUMMARY in workbook.sheetnames
    assert SHEET_HIERARCHY in workbook.sheetnames
    sheet_rows = list(workbook[SHEET_HIERARCHY].iter_rows(values_only=True))
    header = [str(h) if h is not None else "" for h in sheet_rows[0]]
    body = [dict(zip(header, row, strict=False)) for row in sheet_rows[1:]]
    assert len(body) == n_indicators
    names = [row[INDICATOR] for row in body]
    assert new_name in names and old_name not in names
    goal_budgets = {amount(row[BUDGET]) for row in body if row[GOAL] == budget_goal}
    assert goal_budgets == {new_budget}
    summary_rows = list(workbook[SHEET_SUMMARY].iter_rows(values_only=True))
    assert [row[0] for row in summary_rows[1:]] == [row[0] for row in seed.summary[1:]]
