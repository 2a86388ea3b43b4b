"""The public pages in a browser: no WCAG 2.1 A/AA violation of impact serious or critical
by axe-core (the checker KWCAG 2.2's automated checks follow), the skip link and the
tables reachable by keyboard, and printing hides what paper cannot use."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.urls import reverse

from goals.models import PlanDepartment
from goals.tests.factories import load_seed
from indicators.demo import add_sample_data

from .conftest import AFTER_YEAR, YEAR, publish

pytestmark = pytest.mark.browser

AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations"],
}
BLOCKING = ("serious", "critical")


@pytest.fixture
def published(transactional_db):
    plan = load_seed(YEAR)
    add_sample_data(plan, today=AFTER_YEAR)
    return publish(plan)


def blocking_violations(page):
    results = Axe().run(page, options=AXE_OPTIONS)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(node["target"][0] for node in v["nodes"][:3])
        for v in results.response["violations"]
        if v["impact"] in BLOCKING
    ]


def public_urls(plan):
    department = PlanDepartment.objects.filter(plan=plan).order_by("position").first()
    return [
        reverse("public:plans"),
        reverse("public:plan", args=[plan.fiscal_year]),
        reverse("public:department", args=[plan.fiscal_year, department.pk]),
        reverse("public:dictionary"),
    ]


def test_no_serious_accessibility_violations(page, live_server, published):
    for url in public_urls(published):
        page.goto(f"{live_server.url}{url}")
        assert page.locator("html").get_attribute("lang") == "ko"
        assert blocking_violations(page) == [], url
    # in English too
    page.goto(f"{live_server.url}{reverse('public:language', args=['en'])}?next=/public/")
    assert page.locator("html").get_attribute("lang") == "en"
    page.goto(f"{live_server.url}{public_urls(published)[1]}")
    assert blocking_violations(page) == []
    # the checker does find a violation: faint text added to the page
    page.evaluate(
        "document.getElementById('content').insertAdjacentHTML('beforeend',"
        " '<p style=\"color:#d0d0d0;background:#fff\">흐린 글씨</p>')"
    )
    assert any(v.startswith("color-contrast") for v in blocking_violations(page))


def test_keyboard_skip_link_and_navigation(page, live_server, published):
    page.goto(f"{live_server.url}{reverse('public:plan', args=[YEAR])}")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.getAttribute('href')")
    assert focused == "#content"
    assert page.locator(".skip-link").is_visible()  # shown when focused
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "content"
    # the next Tab goes into the page's content, not back to the header
    page.keyboard.press("Tab")
    inside = page.evaluate("document.getElementById('content').contains(document.activeElement)")
    assert inside
    # a department's page is reached with the keyboard alone
    first = PlanDepartment.objects.filter(plan=published).order_by("position").first()
    link = page.locator(f"#table-ga a[href$='/departments/{first.pk}/']")
    link.focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert f"/departments/{first.pk}/" in page.url
    assert page.locator("h1").inner_text().startswith(first.name)
    # the scrolling table regions take the focus (keyboard users can scroll them)
    page.locator(".scroll").first.focus()
    assert page.evaluate("document.activeElement.classList.contains('scroll')")


def test_printing_hides_navigation_and_keeps_the_tables(page, live_server, published):
    page.goto(f"{live_server.url}{reverse('public:plan', args=[YEAR])}")
    page.emulate_media(media="print")
    assert not page.locator(".languages").is_visible()
    assert not page.locator("#open-data").is_visible()
    assert page.locator("#table-ga table").is_visible()
    assert page.locator("#table-na table").is_visible()
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF")
