"""Pages printed to PDF by Chromium (issue 13, item 2): the plan tables, the results grid, the
plan overview, an indicator's page and the change log's list and detail.

Each page is printed as the browser's print dialog does (the page's own @page size), then
read back with poppler-utils: the paper is A4 (landscape for the wide pages: the grid, the
overview, the change log's list), the content uses the page's width (the admin's sidebar
leaves no reserved room), every column header the screen shows is on the first page
(nothing cut at the right), and a long department name is printed whole on one line,
never one syllable per line.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from goals.models import PlanDepartment
from goals.tests.factories import make_plan
from indicators.models import Indicator, Result, ResultStatus
from perfplan import roles
from perfplan.models import ChangeLogEntry

PASSWORD = "print-browser-test-1"
YEAR = 2031
TODAY = date(YEAR, 10, 5)
# A department name without a space: printed whole or not at all on one line
LONG_NAME = "시민안전재난대응총괄본부"
A4 = (595.3, 841.9)  # points, portrait


@pytest.fixture
def scene(transactional_db, django_user_model, monkeypatch):
    from indicators.tests.support import freeze_today

    if not (shutil.which("pdftotext") and shutil.which("pdfinfo")):
        missing = "poppler-utils (pdftotext, pdfinfo) is not installed"
        if os.environ.get("PERFPLAN_REQUIRE_BROWSER") == "1":  # CI: a failure, not a skip
            pytest.fail(missing)
        pytest.skip(missing)
    roles.sync_role_groups(Group, Permission)
    freeze_today(monkeypatch, TODAY)
    plan = make_plan(YEAR, departments=3, goals=2, policy_goals=2, indicators=2)
    first = PlanDepartment.objects.filter(plan=plan).order_by("position").first()
    PlanDepartment.objects.filter(pk=first.pk).update(name=LONG_NAME)
    Indicator.objects.in_plan(plan).update(
        frequency="monthly", aggregation="sum", annual_target=Decimal(1200), unit="건"
    )
    indicator = Indicator.objects.in_plan(plan).order_by("pk").first()
    Result.objects.create(
        indicator=indicator, period="M01", value=Decimal(90), status=ResultStatus.APPROVED
    )
    django_user_model.objects.create_superuser("printer", password=PASSWORD)
    return {"plan": plan, "indicator": indicator}


def pdf_of(tab, path):
    tab.emulate_media(media="print")
    tab.wait_for_timeout(200)
    tab.pdf(path=str(path), prefer_css_page_size=True)
    return path


def page_size(path):
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    width, height = re.search(r"Page size:\s+([\d.]+) x ([\d.]+) pts", info.stdout).groups()
    return float(width), float(height)


def first_page_text(path, page=1):
    """A page's text in the order it is drawn (-raw: a cell's "1월" stays one word, where
    -layout splits digits and Hangul drawn on slightly different baselines)."""
    return subprocess.run(
        ["pdftotext", "-f", str(page), "-l", str(page), "-raw", str(path), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def page_count(path):
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    return int(re.search(r"Pages:\s+(\d+)", info.stdout).group(1))


def rightmost_word(path):
    html = subprocess.run(
        ["pdftotext", "-f", "1", "-l", "1", "-bbox", str(path), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return max(float(x) for x in re.findall(r'xMax="([\d.]+)"', html))


def headers_shown(tab, table, cells="thead th"):
    """The column headers of the page's first `table` as the screen shows them (those that
    are printed: not .no-print)."""
    return tab.eval_on_selector(
        table,
        """(table, cells) => Array.from(table.querySelectorAll(cells))
            .filter(c => !c.closest('.no-print') && c.offsetParent !== null)
            .map(c => c.innerText.trim()).filter(Boolean)""",
        cells,
    )


def assert_printed(
    tab, url, tmp_path, *, landscape, table, cells="thead th", name=None, full_width=True
):
    tab.goto(url)
    tab.wait_for_load_state("load")
    columns = headers_shown(tab, table, cells)
    assert columns, f"no column headers found on {url} ({table} {cells})"
    path = pdf_of(tab, tmp_path / f"{len(list(tmp_path.glob('*.pdf'))) + 1}.pdf")
    width, height = page_size(path)
    expected = (A4[1], A4[0]) if landscape else A4
    assert abs(width - expected[0]) < 2 and abs(height - expected[1]) < 2, (url, width, height)
    text = first_page_text(path)
    words = set(text.split())
    for column in columns:
        for word in column.split():
            assert word in words, f"{url}: column {column!r} is not on page 1"
    if full_width:
        # the content reaches the right of the paper (not a column squeezed to the left)
        assert rightmost_word(path) > 0.8 * width, (url, rightmost_word(path), width)
    if name:
        assert name in text, f"{url}: {name!r} is not printed whole on one line"
    return path


@pytest.mark.browser
def test_every_page_prints_on_a4_with_every_column(page, live_server, admin_login, scene, tmp_path):
    page.set_viewport_size({"width": 1280, "height": 900})
    admin_login(page, "printer", PASSWORD)
    plan, indicator = scene["plan"], scene["indicator"]
    base = live_server.url
    grid = reverse("tracking:my_department")
    printed = assert_printed(
        page,
        f"{base}{reverse('admin:perfplan_plan_tables', args=[plan.pk])}",
        tmp_path,
        landscape=False,
        table="table.plan-table",
        name=LONG_NAME,
    )
    # table 나 goes on over the next page, its header row repeated there
    assert page_count(printed) >= 2
    last = first_page_text(printed, page_count(printed))
    for column in headers_shown(page, "table.table-na"):
        for word in column.split():
            assert word in last.split(), f"table 나's header {column!r} is not repeated"
    assert_printed(
        page,
        f"{base}{grid}?year={YEAR}",
        tmp_path,
        landscape=True,
        table="table.tracking-grid",
        name=LONG_NAME,
    )
    assert_printed(
        page,
        f"{base}{reverse('tracking:overview')}?year={YEAR}",
        tmp_path,
        landscape=True,
        table="table.tracking-table",
        name=LONG_NAME,
    )
    assert_printed(
        page,
        f"{base}{reverse('tracking:indicator', args=[indicator.pk])}",
        tmp_path,
        landscape=True,
        table="#definition",
        cells="th",
        name=LONG_NAME,
    )
    assert_printed(
        page,
        f"{base}{reverse('admin:perfplan_changelogentry_changelist')}",
        tmp_path,
        landscape=True,
        table="#result_list",
        cells="thead th:not(.action-checkbox-column)",
    )
    entry = ChangeLogEntry.objects.order_by("-sequence").first()
    printed = assert_printed(
        page,
        f"{base}{reverse('admin:perfplan_changelogentry_change', args=[entry.pk])}",
        tmp_path,
        landscape=False,
        table="#content-main",
        cells=".form-row label",
        full_width=False,
    )
    assert first_page_text(printed).strip()


def test_the_print_rules_are_linked_from_every_admin_page(client, django_user_model):
    """Every admin page (the change log's too) links the print rules, for print only."""
    user = django_user_model.objects.create_superuser("printer", password=PASSWORD)
    client.force_login(user)
    html = client.get(reverse("admin:perfplan_changelogentry_changelist")).content.decode()
    assert re.search(r'<link rel="stylesheet" href="[^"]*perfplan/print\.css" media="print">', html)
    css = (Path(__file__).resolve().parents[2] / "static" / "perfplan" / "print.css").read_text()
    assert "size: A4 landscape" in css and "word-break: keep-all" in css
    assert "display: table-header-group" in css
