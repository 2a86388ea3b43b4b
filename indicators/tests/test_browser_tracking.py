"""An officer enters a quarter's results in the grid, in a real browser against the live server.

Two indicators of the officer's department: a running total (higher is better, target 100)
and a lower-is-better one (latest value, target 10). The officer finds the grid from the admin
home, types the first quarter's values with the keyboard as in Excel, sees the status, the
achievement rate and the charts change, sees a refusal under the cell, and exports the grid.

"Today" is fixed at 2031-04-05 (the first quarter has ended and is open for entry).
Assertions are on element ids, attributes, files and the database, not on translated text.
"""

from __future__ import annotations

import openpyxl
import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from django.utils import translation

from indicators.models import Indicator, Result, ResultStatus
from indicators.periods import period_label
from perfplan import roles
from perfplan.models import DepartmentAssignment

from .support import TODAY, departments_of, freeze_today, indicators_of, tracking_plan

PASSWORD = "officer-browser-test-1"


@pytest.fixture
def scene(transactional_db, django_user_model, monkeypatch):
    roles.sync_role_groups(Group, Permission)  # a transactional test may start without them
    freeze_today(monkeypatch, TODAY)
    plan = tracking_plan()
    ours, theirs = departments_of(plan)
    higher, lower = indicators_of(plan, ours)
    Indicator.objects.filter(pk=lower.pk).update(
        direction="lower", aggregation="latest", annual_target=10
    )
    officer = django_user_model.objects.create_user("officer", password=PASSWORD, is_staff=True)
    officer.groups.add(Group.objects.get(name=roles.OFFICER))
    DepartmentAssignment.objects.create(user=officer, department=ours)
    return {
        "plan": plan,
        "officer": officer,
        "higher": higher,
        "lower": lower,
        "theirs": indicators_of(plan, theirs),
    }


def active_id(page):
    return page.evaluate("document.activeElement && document.activeElement.id")


def chart_points(page, live_server, indicator):
    page.goto(f"{live_server.url}{reverse('tracking:indicator', args=[indicator.pk])}")
    return page.locator("#indicator-chart").get_attribute("data-actual-points")


@pytest.mark.browser
def test_officer_enters_a_quarter_sees_status_and_exports(
    page, live_server, admin_login, scene, tmp_path
):
    from playwright.sync_api import expect

    higher, lower = scene["higher"], scene["lower"]
    admin_login(page, "officer", PASSWORD)
    assert chart_points(page, live_server, higher) == "0"

    # the admin home leads to the grid
    page.goto(f"{live_server.url}{reverse('admin:index')}")
    page.click("#link-my-department")
    page.wait_for_selector("#tracking-grid")
    high_row, low_row = page.locator(f"#row-{higher.pk}"), page.locator(f"#row-{lower.pk}")
    expect(high_row).to_have_attribute("data-status", "missing")  # Q1 has ended, nothing entered
    expect(low_row).to_have_attribute("data-status", "missing")
    assert page.locator(f"#row-{scene['theirs'][0].pk}").count() == 0  # not their department
    expect(high_row.locator("svg.sparkline")).to_have_attribute("data-actual-points", "0")

    # Excel-like keys: Enter saves and moves down, Tab saves and moves right
    page.click(f"#cell-{higher.pk}-Q1")
    page.keyboard.type("30")
    page.keyboard.press("Enter")
    assert active_id(page) == f"cell-{lower.pk}-Q1"
    page.keyboard.type("12")
    page.keyboard.press("Tab")
    assert active_id(page) == f"cell-{lower.pk}-Q2"
    page.keyboard.press("ArrowUp")
    assert active_id(page) == f"cell-{higher.pk}-Q2"
    page.keyboard.press("Shift+Enter")  # the first row: stays
    assert active_id(page) == f"cell-{higher.pk}-Q2"
    page.keyboard.press("ArrowLeft")
    assert active_id(page) == f"cell-{higher.pk}-Q1"
    page.click(f"#cell-{higher.pk}-Q4")
    page.keyboard.press("Tab")  # the end of a row wraps to the next row's first cell
    assert active_id(page) == f"cell-{lower.pk}-Q1"
    page.keyboard.press("Shift+Tab")
    assert active_id(page) == f"cell-{higher.pk}-Q4"

    # status, achievement and the row's chart change once saved
    expect(high_row).to_have_attribute("data-status", "achieved")  # 30 vs 25 so far
    expect(high_row.locator("[data-field=rate]")).to_have_text("120.00%")
    expect(low_row).to_have_attribute("data-status", "behind")  # lower is better: 10 ÷ 12
    expect(low_row.locator("[data-field=rate]")).to_have_text("83.33%")
    expect(high_row.locator("svg.sparkline")).to_have_attribute("data-actual-points", "1")
    expect(page.locator(f"#cell-{higher.pk}-Q1")).to_have_attribute("data-saved", "30")

    # a value that is not a number is refused under its cell, and nothing is written
    page.click(f"#cell-{higher.pk}-Q2")
    page.keyboard.type("삼십")
    page.keyboard.press("Enter")
    message = (
        page.locator(f"#cell-{higher.pk}-Q2").locator("xpath=ancestor::td").locator(".cell-msg")
    )
    expect(message).to_contain_text("삼십")
    page.click(f"#cell-{higher.pk}-Q2")
    page.keyboard.press("Escape")
    expect(page.locator(f"#cell-{higher.pk}-Q2")).to_have_value("")

    saved = {r.indicator_id: r for r in Result.objects.filter(period="Q1")}
    assert (saved[higher.pk].value, saved[lower.pk].value) == (30, 12)
    assert saved[higher.pk].entered_by == scene["officer"]
    assert saved[higher.pk].status == ResultStatus.DRAFT
    assert not Result.objects.filter(period="Q2").exists()

    # the indicator's own chart now has the quarter
    assert chart_points(page, live_server, higher) == "1"
    expect(page.locator("#indicator-status")).to_have_attribute(
        "class", "status-badge status-achieved"
    )
    page.go_back()
    page.wait_for_selector("#tracking-grid")

    # cells copied from Excel are pasted across the row and saved together
    page.locator(f"#cell-{higher.pk}-Q2").evaluate(
        """(input, text) => {
            const data = new DataTransfer();
            data.setData("text/plain", text);
            input.dispatchEvent(new ClipboardEvent("paste", {
                clipboardData: data, bubbles: true, cancelable: true }));
        }""",
        "40\t50\r\n",
    )
    expect(page.locator(f"#cell-{higher.pk}-Q3")).to_have_attribute("data-saved", "50")
    expect(page.locator(f"#cell-{higher.pk}-Q2")).to_have_attribute("data-saved", "40")
    assert {r.period: r.value for r in Result.objects.filter(indicator=higher)} == {
        "Q1": 30,
        "Q2": 40,
        "Q3": 50,
    }

    # export what is on screen
    with page.expect_download() as download_info:
        page.click("#export-xlsx")
    path = tmp_path / download_info.value.suggested_filename
    download_info.value.save_as(path)
    assert path.suffix == ".xlsx"
    rows = [list(r) for r in openpyxl.load_workbook(path).worksheets[0].iter_rows(values_only=True)]
    header = rows[0]
    with translation.override("ko"):
        from indicators.tracking.rules import STATUS_LABELS

        name_col = header.index(translation.gettext("performance indicator"))
        status_col = header.index(translation.gettext("status"))
        achieved, behind = str(STATUS_LABELS["achieved"]), str(STATUS_LABELS["behind"])
        q1_col = header.index(str(period_label("Q1")))
    by_name = {row[name_col]: row for row in rows[1:]}
    assert set(by_name) == {higher.name, lower.name}
    assert (by_name[higher.name][q1_col], by_name[higher.name][status_col]) == (30, achieved)
    assert by_name[higher.name][q1_col + 1] == 40  # the Q2 column
    assert (by_name[lower.name][q1_col], by_name[lower.name][status_col]) == (12, behind)

    # and the pasted quarters
    assert chart_points(page, live_server, higher) == "3"
