"""The report printed to PDF by Chromium (page.pdf, print media): the cover, a department's
table with its header, and page numbers from the CSS @page margin boxes."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from django.urls import reverse
from django.utils import timezone

from goals.tests.factories import load_seed
from indicators.demo import add_sample_data
from reports.report import report_title
from reports.samples import write_sample_texts

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_report_prints_as_the_published_document(
    page, live_server, admin_login, plan_admin_user
):
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (poppler-utils) is not installed")
    today = timezone.localdate()
    year = today.year - 1  # a closed year
    plan = load_seed(year)
    add_sample_data(plan, today=today)
    write_sample_texts(plan, today=today)
    admin_login(page, plan_admin_user.username, plan_admin_user.raw_password)
    page.goto(f"{live_server.url}{reverse('reports:report')}?year={year}")
    page.wait_for_selector("#report-cover")
    data = page.pdf(format="A4", print_background=True, prefer_css_page_size=True)
    text = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True
    ).stdout.decode("utf-8")
    pages = text.split("\f")
    # the cover, alone on the first page: the title, no page number
    assert report_title(plan) in pages[0]
    assert not re.search(r"- 1 / \d+ -", pages[0])
    # the contents list the departments; each department's table starts on its own page
    departments = list(plan.departments.order_by("position").values_list("name", flat=True))
    assert all(name in pages[1] for name in departments[:3])
    first = departments[0]
    starts = [i for i, p in enumerate(pages) if i > 2 and first in p]
    assert starts, f"no page with {first}"
    table_page = "".join(pages[starts[0]].split())
    headers = ("성과지표", "목표치", "달성률", "상태", "추이")  # the table's header row
    assert all(h in table_page for h in headers), table_page[:400]
    # page numbers from the margin boxes: "- n / total -" on every page but the cover
    total = len([p for p in pages if p.strip()])
    numbered = re.findall(r"- (\d+) / (\d+) -", text)
    assert len(numbered) >= total - 1 > 5
    assert {int(t) for _n, t in numbered} == {total}
    # every page of tables starts with a header row (repeated where a table continues)
    header_pages = [p for p in pages if "달성률" in "".join(p.split())]
    assert len(header_pages) > len(departments)
