"""The exported plan workbook prints readably on A4 and holds what the database holds.

LibreOffice prints the export to PDF (as a person would: File › Export as PDF); poppler's
pdfinfo and pdftotext read it back. Without LibreOffice the print test is skipped, in CI
(PERFPLAN_REQUIRE_LIBREOFFICE=1) it fails: see the `soffice` fixture in conftest.py.
"""

from __future__ import annotations

import io
import re
import subprocess
from decimal import Decimal

import openpyxl
import pytest

from goals.models import PlanDepartment, StrategicGoal
from goals.tests.factories import load_seed
from indicators.models import Indicator
from perfplan.planfiles.exports import plan_tables
from perfplan.planfiles.importer import import_plan
from perfplan.planfiles.tables import (
    HIERARCHY_COLUMNS,
    SHEET_NAMES,
    SUMMARY_COLUMNS,
    read_plan_files,
)
from perfplan.xlsx import write_xlsx

# Each library that writes workbooks in turn (conftest.xlsx_engine): both must print alike.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("xlsx_engine")]

A4_LANDSCAPE = (841.89, 595.28)  # points
SUMMARY, HIERARCHY = SHEET_NAMES["summary"], SHEET_NAMES["hierarchy"]


def compact(text):
    """Text without any white space: a name wrapped over several lines of a cell is whole."""
    return "".join(str(text).split())


def print_to_pdf(soffice, workbook, folder):
    """The workbook as LibreOffice prints it; returns the PDF's path."""
    source = folder / "export.xlsx"
    source.write_bytes(workbook)
    profile = (folder / "profile").as_uri()  # its own profile: no clash with another soffice
    subprocess.run(
        [
            soffice,
            f"-env:UserInstallation={profile}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(folder),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    return folder / "export.pdf"


def page_sizes(pdf):
    info = subprocess.run(
        ["pdfinfo", "-f", "1", "-l", "9999", str(pdf)], check=True, capture_output=True, text=True
    ).stdout
    return [
        (float(width), float(height))
        for width, height in re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+)", info)
    ]


def page_texts(pdf, pages):
    """Each page's text in the order it was printed (-raw: a cell's lines stay together)."""
    return [
        subprocess.run(
            ["pdftotext", "-raw", "-f", str(n), "-l", str(n), str(pdf), "-"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        for n in range(1, pages + 1)
    ]


@pytest.fixture
def seed_plan():
    plan = load_seed()
    # The longest names the source could hold, so that wrapping is needed and checked.
    goal = StrategicGoal.objects.in_plan(plan).order_by("position", "id").first()
    goal.name = (
        "주민과 함께하는 지속가능한 녹색도시 조성과 기후위기 대응을 위한 탄소중립 실천 기반 확충"
    )
    goal.save()
    return plan


def test_the_exported_plan_prints_one_page_wide_on_a4_with_names_whole(
    soffice, seed_plan, tmp_path
):
    pdf = print_to_pdf(soffice, write_xlsx(plan_tables(seed_plan)), tmp_path)
    sizes = page_sizes(pdf)
    assert sizes, "LibreOffice printed no page"
    for width, height in sizes:  # every page A4 landscape
        assert abs(width - A4_LANDSCAPE[0]) < 2 and abs(height - A4_LANDSCAPE[1]) < 2
    texts = page_texts(pdf, len(sizes))
    summary_pages = [t for t in texts if "가. 총괄" in t]
    hierarchy_pages = [t for t in texts if "나. 성과계획 및 재원비중" in t]
    assert len(summary_pages) + len(hierarchy_pages) == len(texts)
    assert len(summary_pages) == 1  # 24 departments: one page
    # The 169 rows of table 나 would take 14 pages at full size and 3 widths: fitted to one
    # width, a handful of pages down.
    assert 1 <= len(hierarchy_pages) <= 12

    # One page wide: every page shows every column header of its table (the header row is
    # repeated on every page, and no column is pushed onto a second page across).
    for pages, columns in ((summary_pages, SUMMARY_COLUMNS), (hierarchy_pages, HIERARCHY_COLUMNS)):
        for number, text in enumerate(pages, 1):
            missing = [c.header for c in columns if compact(c.header) not in compact(text)]
            assert not missing, f"page {number}: headers not printed {missing}"
            assert "(단위:" in text  # the unit line, as the source prints it

    # Names are not cut: every department, strategic goal, policy goal and indicator name
    # is printed whole (wrapped over lines of its cell at most), the longest ones included.
    printed = compact("".join(hierarchy_pages))
    names = set()
    for goal in StrategicGoal.objects.in_plan(seed_plan).select_related("plan_department"):
        names |= {goal.name, goal.plan_department.name}
    for indicator in Indicator.objects.in_plan(seed_plan).select_related("policy_goal"):
        names |= {indicator.name, indicator.policy_goal.name}
    longest = max(names, key=len)
    assert compact(longest) in printed, longest
    cut = sorted(name for name in names if compact(name) not in printed)
    assert not cut, f"names not printed whole: {cut[:5]}"
    summary_text = compact(summary_pages[0])
    for department in PlanDepartment.objects.filter(plan=seed_plan):
        assert compact(department.name) in summary_text
    assert "14,666" in summary_text  # amounts with thousands separators, as printed


def test_the_exported_plan_holds_what_the_database_holds_and_reimports_unchanged(seed_plan):
    exported = write_xlsx(plan_tables(seed_plan))
    book = openpyxl.load_workbook(io.BytesIO(exported))
    assert book.sheetnames == [SUMMARY, HIERARCHY]
    sheet = book[HIERARCHY]
    rows = list(sheet.iter_rows(values_only=True))
    header, body = list(rows[0]), rows[1:]
    assert header == [c.header for c in HIERARCHY_COLUMNS]
    column = {c.key: i for i, c in enumerate(HIERARCHY_COLUMNS)}
    # A strategic goal's cells on its first row only, as the source prints them merged
    goal_rows = [row for row in body if row[column["strategic_goal"]]]
    assert len(goal_rows) == StrategicGoal.objects.in_plan(seed_plan).count()
    with_goals = StrategicGoal.objects.in_plan(seed_plan).values("plan_department").distinct()
    assert sum(1 for row in body if row[column["department"]]) == with_goals.count()
    # … and the importer reads a blank there as the row above: so does this test
    filled, above = [], None
    group_columns = [column[k] for k in ("department", "strategic_goal", "budget", "share")]
    for row in body:
        row = list(row)
        if above is not None and row[column["strategic_goal"]] is None:
            for index in group_columns + [column["policy_goal"]]:
                row[index] = above[index] if row[index] is None else row[index]
        elif above is not None and row[column["department"]] is None:
            row[column["department"]] = above[column["department"]]
        filled.append(row)
        above = row
    body = filled
    by_name = {row[column["indicator"]]: row for row in body}
    indicators = Indicator.objects.in_plan(seed_plan).select_related(
        "policy_goal__strategic_goal__plan_department"
    )
    assert len(body) == len(by_name) == indicators.count() == 168
    for indicator in indicators:
        row = by_name[indicator.name]
        pg = indicator.policy_goal
        goal = pg.strategic_goal
        assert row[column["department"]] == goal.plan_department.name
        assert row[column["strategic_goal"]] == goal.name
        assert row[column["policy_goal"]] == pg.name
        assert Decimal(str(row[column["budget"]])) == goal.budget
        assert Decimal(str(row[column["share"]])) == goal.declared_share
        for key in ("annual_target", "baseline", "weight"):
            stored = getattr(indicator, key)
            shown = row[column[key]]
            assert (shown is None and stored is None) or Decimal(str(shown)) == stored, key
    summary = list(book[SUMMARY].iter_rows(values_only=True))
    departments = {row[0]: row for row in summary[1:]}
    for department in PlanDepartment.objects.filter(plan=seed_plan):
        declared = department.declared()
        row = departments[department.name]
        assert Decimal(str(row[6])) == declared["budget"]
        assert row[4] == declared["indicators"]

    # Printed as the source: amounts with thousands separators, shares with 2 decimals, a
    # frozen header repeated on every page, A4 landscape one page wide, title and unit.
    budget = sheet.cell(row=2, column=column["budget"] + 1)
    assert budget.number_format == "#,##0" and budget.border.left.style == "thin"
    assert sheet.cell(row=2, column=column["share"] + 1).number_format == "#,##0.00"
    assert sheet.cell(row=2, column=column["strategic_goal"] + 1).alignment.wrap_text
    assert sheet.freeze_panes == "A2" and sheet.print_title_rows == "$1:$1"
    assert sheet.page_setup.orientation == "landscape" and sheet.page_setup.paperSize == 9
    # One page wide (fitToWidth's default, 1, is left out of the file), any number down.
    assert sheet.page_setup.fitToWidth in (None, 1) and sheet.page_setup.fitToHeight == 0
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert "나. 성과계획 및 재원비중" in sheet.oddHeader.center.text
    assert "(단위: 백만원)" in sheet.oddHeader.right.text
    assert "2026" in sheet.oddHeader.left.text
    wide = sheet.column_dimensions["C"].width  # 전략목표명: names wrap at its width
    assert wide > sheet.column_dimensions["B"].width

    result = import_plan(seed_plan.fiscal_year, read_plan_files([("plan.xlsx", exported)]))
    assert result.ok and not result.has_writes, counts_of(result)


def counts_of(result):
    return {level: row for level, row in result.counts().items() if any(row.values())}
