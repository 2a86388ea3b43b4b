"""The grid as people work in it, in a real browser (issue 13, item 1): the header row and the
indicator names stay in place while the grid scrolls both ways inside its box, at 1280 and
1440 px; the page opens at the current period; submit, approve, return and reopen happen in
place (no page load, the scroll position kept); a refused value keeps the focus.

A plan of two departments with 24 monthly indicators each; "today" is fixed at 5 October
2031 (September is open for entry until 10 October, October is the current period).
Assertions are on element ids, bounding boxes, attributes and the database.
"""

from __future__ import annotations

import os
import re
from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from goals.tests.factories import make_plan
from indicators.models import Indicator, Result, ResultStatus
from perfplan import roles
from perfplan.models import DepartmentAssignment

from .support import departments_of, freeze_today, indicators_of

PASSWORD = "grid-browser-test-1"
YEAR = 2031
TODAY = date(YEAR, 10, 5)
OPEN, CURRENT = "M09", "M10"


@pytest.fixture
def scene(transactional_db, django_user_model, monkeypatch):
    roles.sync_role_groups(Group, Permission)  # a transactional test may start without them
    freeze_today(monkeypatch, TODAY)
    plan = make_plan(YEAR, departments=2, goals=2, policy_goals=3, indicators=4)
    Indicator.objects.in_plan(plan).update(
        frequency="monthly", aggregation="sum", annual_target=Decimal(1200), unit="건"
    )
    ours, _theirs = departments_of(plan)
    mine = indicators_of(plan, ours)

    def user(name, role, departments=()):
        account = django_user_model.objects.create_user(name, password=PASSWORD, is_staff=True)
        account.groups.add(Group.objects.get(name=role))
        for department in departments:
            DepartmentAssignment.objects.create(user=account, department=department)
        return account

    return {
        "plan": plan,
        "mine": mine,
        "officer": user("officer", roles.OFFICER, [ours]),
        "reviewer": user("reviewer", roles.REVIEWER, [ours]),
        "planadmin": user("planadmin", roles.PLAN_ADMIN),
    }


def open_grid(tab, live_server, query=""):
    tab.goto(f"{live_server.url}{reverse('tracking:my_department')}{query}")
    tab.wait_for_selector("#tracking-grid table[data-grid]")


def box_of(tab, selector):
    box = tab.locator(selector).first.bounding_box()
    assert box is not None, f"{selector} is not displayed"
    return box


def scroll_box(tab, left=None, top=None):
    tab.evaluate(
        """([left, top]) => {
            const box = document.querySelector('.grid-scroll');
            if (left !== null) { box.scrollLeft = left; }
            if (top !== null) { box.scrollTop = top; }
        }""",
        [left, top],
    )
    tab.wait_for_timeout(100)  # a frame for sticky cells to be placed


def visible_in(inner, outer, slack=1):
    return (
        inner["x"] >= outer["x"] - slack
        and inner["x"] + inner["width"] <= outer["x"] + outer["width"] + slack
        and inner["y"] >= outer["y"] - slack
        and inner["y"] + inner["height"] <= outer["y"] + outer["height"] + slack
    )


@pytest.mark.browser
@pytest.mark.parametrize("width", [1280, 1440])
def test_names_and_headers_stay_while_the_grid_scrolls_both_ways(
    page, live_server, admin_login, scene, width
):
    page.set_viewport_size({"width": width, "height": 800})
    admin_login(page, "officer", PASSWORD)
    open_grid(page, live_server)
    first, last = scene["mine"][0], scene["mine"][-1]
    sizes = page.evaluate(
        "(() => { const b = document.querySelector('.grid-scroll');"
        " return [b.scrollWidth, b.clientWidth, b.scrollHeight, b.clientHeight]; })()"
    )
    assert sizes[0] > sizes[1], "the months do not overflow at this width: nothing to test"
    assert sizes[2] > sizes[3], "the rows do not overflow the box: nothing to test"

    # sideways to the end: December is reachable, the names are still at the left edge
    scroll_box(page, left=100_000, top=0)
    frame = box_of(page, ".grid-scroll")
    december = box_of(page, "thead th[data-period=M12]")
    assert visible_in(december, frame)
    name = box_of(page, f"#row-{first.pk} th.ind-name")
    assert visible_in(name, frame)
    assert abs(name["x"] - frame["x"]) <= 2  # stuck to the left edge
    assert name["x"] + name["width"] <= december["x"]  # not covering the months
    head = box_of(page, "thead th.ind-name-head")
    assert abs(head["x"] - frame["x"]) <= 2

    # down to the last row: the header row is still at the top, above the last row
    scroll_box(page, top=100_000)
    header = box_of(page, "thead th[data-period=M12]")
    assert abs(header["y"] - frame["y"]) <= 2
    last_name = box_of(page, f"#row-{last.pk} th.ind-name")
    assert visible_in(last_name, frame)
    assert last_name["y"] >= header["y"] + header["height"] - 1
    assert abs(last_name["x"] - frame["x"]) <= 2
    assert abs(box_of(page, "thead th.ind-name-head")["y"] - frame["y"]) <= 2


@pytest.mark.browser
def test_the_grid_opens_at_the_current_period(page, live_server, admin_login, scene):
    page.set_viewport_size({"width": 1280, "height": 800})
    admin_login(page, "officer", PASSWORD)
    open_grid(page, live_server)
    page.wait_for_load_state("load")  # the grid scrolls once laid out
    table = page.locator("table[data-grid]").first
    assert table.get_attribute("data-current-period") == CURRENT
    assert page.evaluate("document.querySelector('.grid-scroll').scrollLeft") > 0
    frame = box_of(page, ".grid-scroll")
    current = box_of(page, f"thead th[data-period={CURRENT}]")
    names = box_of(page, "thead th.ind-name-head")
    assert visible_in(current, frame)
    assert current["x"] >= names["x"] + names["width"] - 1  # beside the names, not under
    before = box_of(page, f"thead th[data-period={OPEN}]")  # with the period before it
    assert visible_in(before, frame) and before["x"] >= names["x"] + names["width"] - 1


def mark_page(tab):
    """A mark that a page load would wipe out."""
    tab.evaluate("window.__sameDocument = 'yes'")


def same_page(tab):
    return tab.evaluate("window.__sameDocument") == "yes"


def scroll_of(tab):
    return tab.evaluate(
        "(() => { const b = document.querySelector('.grid-scroll');"
        " return [b.scrollLeft, b.scrollTop, window.scrollX, window.scrollY]; })()"
    )


def kept(after, before):
    """The grid is where it was: a reload would put it back at the top left (or at the
    current period); a cell whose buttons changed may move it a little (a closed 반려 form
    narrows its column by some 20 px)."""
    return all(abs(a - b) <= 30 for a, b in zip(after, before, strict=True))


def result_of(indicator, period=OPEN):
    return Result.objects.get(indicator=indicator, period=period)


@pytest.mark.browser
def test_submit_approve_return_and_reopen_happen_in_place(
    page, browser, live_server, admin_login, scene
):
    from playwright.sync_api import expect

    one, two = scene["mine"][0], scene["mine"][1]
    first, second = f"{one.pk}-{OPEN}", f"{two.pk}-{OPEN}"
    page.set_viewport_size({"width": 1280, "height": 800})
    admin_login(page, "officer", PASSWORD)
    open_grid(page, live_server)
    loads = []
    page.on("load", lambda _page: loads.append(page.url))

    # the officer enters two values and submits them one by one, the page stays
    page.click(f"#cell-{first}")
    page.keyboard.type("120")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == f"cell-{second}"
    # (one save at a time: SQLite's test database locks a table under two writers)
    expect(page.locator(f"#cell-{first}")).to_have_attribute("data-saved", "120")
    page.keyboard.type("80")
    page.keyboard.press("Enter")
    expect(page.locator(f"#cell-{second}")).to_have_attribute("data-saved", "80")
    scroll_box(page, top=40)
    mark_page(page)
    before = scroll_of(page)
    for key in (first, second):
        page.click(f"#submit-{key}")
        expect(page.locator(f"#state-{key}")).to_have_class("cell-state submitted")
        expect(page.locator(f"#cell-{key}")).to_have_attribute("readonly", "")
    expect(page.locator("#grid-notice .success")).to_have_count(1)
    assert same_page(page) and not loads
    assert kept(scroll_of(page), before) and before[0] > 0 and before[1] > 0
    assert result_of(one).status == result_of(two).status == ResultStatus.SUBMITTED

    # the reviewer approves one and returns the other, in place
    context = browser.new_context(locale="ko-KR", viewport={"width": 1280, "height": 800})
    context.set_default_timeout(int(os.environ.get("PERFPLAN_BROWSER_TIMEOUT_MS", "20000")))
    try:
        reviewer = context.new_page()
        admin_login(reviewer, "reviewer", PASSWORD)
        open_grid(reviewer, live_server)
        reviewer_loads = []
        reviewer.on("load", lambda _page: reviewer_loads.append(reviewer.url))
        mark_page(reviewer)
        # clicked where they are (Playwright's own clicks scroll a button into view first)
        reviewer.locator(f"#approve-{first}").scroll_into_view_if_needed()
        before = scroll_of(reviewer)
        reviewer.locator(f"#approve-{first}").evaluate("button => button.click()")
        expect(reviewer.locator(f"#state-{first}")).to_have_class("cell-state approved")
        expect(reviewer.locator(f"#approve-{first}")).to_have_count(0)
        assert kept(scroll_of(reviewer), before) and before[0] > 0
        reviewer.click(f"#return-{second} summary")
        reviewer.fill(f"#return-reason-{second}", "증빙자료를 첨부하세요.")
        before = scroll_of(reviewer)
        reviewer.locator(f"#return-submit-{second}").evaluate("button => button.click()")
        expect(reviewer.locator(f"#state-{second}")).to_have_class("cell-state returned")
        expect(reviewer.locator(f"#reason-{second}")).to_contain_text("증빙자료를 첨부하세요.")
        assert kept(scroll_of(reviewer), before)
        assert same_page(reviewer) and not reviewer_loads
    finally:
        context.close()
    assert result_of(one).status == ResultStatus.APPROVED
    returned = result_of(two)
    assert (returned.status, returned.return_reason) == (
        ResultStatus.RETURNED,
        "증빙자료를 첨부하세요.",
    )

    # the plan admin reopens the approved one, in place
    context = browser.new_context(locale="ko-KR", viewport={"width": 1280, "height": 800})
    context.set_default_timeout(int(os.environ.get("PERFPLAN_BROWSER_TIMEOUT_MS", "20000")))
    try:
        admin = context.new_page()
        admin_login(admin, "planadmin", PASSWORD)
        open_grid(admin, live_server)
        mark_page(admin)
        admin.click(f"#reopen-{first} summary")
        admin.fill(f"#reopen-reason-{first}", "실적 재확인")
        admin.click(f"#reopen-submit-{first}")
        expect(admin.locator(f"#state-{first}")).to_have_class("cell-state draft")
        expect(admin.locator(f"#cell-{first}")).not_to_have_attribute("readonly", "")
        assert same_page(admin)
    finally:
        context.close()
    assert result_of(one).status == ResultStatus.DRAFT


@pytest.mark.browser
def test_a_refused_value_keeps_the_focus_with_its_korean_message(
    page, live_server, admin_login, scene
):
    from playwright.sync_api import expect

    one = scene["mine"][0]
    key = f"{one.pk}-{OPEN}"
    admin_login(page, "officer", PASSWORD)
    open_grid(page, live_server)
    page.click(f"#cell-{key}")
    page.keyboard.type("삼십")
    page.keyboard.press("Enter")
    cell = page.locator(f"#cell-{key}")
    expect(cell).to_be_focused()
    message = cell.locator("xpath=ancestor::td").locator(".cell-msg")
    expect(message).to_contain_text("삼십")
    assert re.search(r"[가-힣]{2,}", message.inner_text().replace("삼십", ""))
    assert "not a number" not in message.inner_text()
    expect(cell).to_have_value("삼십")
    assert not Result.objects.filter(indicator=one, period=OPEN).exists()
    # corrected where it is, it is saved
    page.keyboard.press("Control+A")
    page.keyboard.type("30")
    page.keyboard.press("Enter")
    expect(cell).to_have_attribute("data-saved", "30")
    assert result_of(one).value == 30
