"""The whole plan's PDF is made by the task worker (reports.published) and served as stored:
a plan admin asks for it, or marking the report final does; it is joined from parts with
its pages numbered across them, and its contents give each department's page."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import date

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from goals.tests.factories import load_seed
from indicators.demo import add_sample_data
from indicators.tests.support import departments_of, freeze_today, make_user
from perfplan import roles
from reports import pdf, published
from reports.models import ReportPdf
from reports.samples import write_sample_texts
from reports.tests.test_final_and_files import CLOSED, YEAR, Closed

pytestmark = pytest.mark.django_db
IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
DAY = date(2026, 1, 20)


@pytest.fixture(autouse=True)
def background(settings):
    reason = pdf.unavailable_reason()
    if reason:
        pytest.skip(f"server-side PDF not possible here (.ci/run installs it): {reason}")
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (poppler-utils) is not installed")
    settings.TASKS = IMMEDIATE
    settings.PERFPLAN_REPORT_INLINE_PDF_INDICATORS = 0  # every whole plan goes to the worker
    settings.PERFPLAN_REPORT_PDF_WORKERS = 1


def korean(text):
    with translation.override("ko"):
        return str(translation.gettext(text))


def pdf_text(data, page=None):
    pages = ["-f", str(page), "-l", str(page)] if page else []
    return subprocess.run(
        ["pdftotext", *pages, "-", "-"], input=data, capture_output=True, check=True
    ).stdout.decode("utf-8")


def body(response):
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_the_worker_makes_the_whole_plan_and_the_file_is_served(
    plan_admin_user, django_user_model, monkeypatch, pdf_engine
):
    plan = load_seed(2025)
    add_sample_data(plan, today=DAY)
    write_sample_texts(plan, today=DAY)
    freeze_today(monkeypatch, DAY)
    monkeypatch.setattr(published, "PART_INDICATORS", 25)  # several parts to join
    client = Client()
    client.force_login(plan_admin_user)
    url, year = reverse("reports:pdf"), {"year": 2025}

    # nothing made yet: the page says the file is made in the background
    response = client.get(url, year, HTTP_ACCEPT_LANGUAGE="ko", follow=True)
    assert response.redirect_chain
    waiting = korean(
        "The PDF of the whole plan is made on the server in the background (a plan admin "
        "asks for it, or marking the report final does); meanwhile take each department's "
        "PDF, or print the page."
    )
    assert escape(waiting) in response.content.decode()
    assert not ReportPdf.objects.exists()

    response = client.post(reverse("reports:make_pdf") + "?year=2025", follow=True)
    record = ReportPdf.objects.get(plan=plan)
    assert record.state == ReportPdf.State.DONE and record.parts_done == record.parts_total > 3
    assert 'id="published-pdf"' in response.content.decode()
    stored = bytes(record.content)
    assert stored.startswith(b"%PDF")

    data = body(client.get(url, year))
    assert data == stored  # served as stored, not made again
    text = pdf_text(data)
    assert record.pages > 10
    # pages numbered across the parts, once each, the cover without a number
    numbers = [int(n) for n in re.findall(rf"- (\d+) / {record.pages} -", text)]
    assert numbers == list(range(2, record.pages + 1))
    # the contents give each department's page; the department begins there
    contents = pdf_text(data, 2)
    departments = list(plan.departments.order_by("position", "pk").values_list("name", flat=True))
    for name in departments:
        found = re.search(re.escape(name) + r" … (\d+)", contents)
        assert found, name
        page = int(found.group(1))
        assert pdf_text(data, page).lstrip().startswith(name), (name, page)

    # bookmarks: the summary, then each department at its page
    from io import BytesIO

    from pypdf import PdfReader

    reader = PdfReader(BytesIO(data))
    marks = [(m.title, reader.get_destination_page_number(m) + 1) for m in reader.outline]
    assert [title for title, _page in marks[1:]] == departments
    assert all(pdf_text(data, page).lstrip().startswith(t) for t, page in marks[1:4])

    # the sample year's report is final: published, the same file for every reader
    officer = make_user(django_user_model, "officer", roles.OFFICER, [departments_of(plan)[0]])
    client.force_login(officer)
    assert body(client.get(url, year)) == stored


def test_marking_the_report_final_makes_the_published_file(django_user_model, monkeypatch):
    closed = Closed(django_user_model)
    closed.approve_reason(closed.behind)
    closed.approve_reason(closed.missing)
    freeze_today(monkeypatch, CLOSED)
    client = Client()
    client.force_login(closed.admin)
    url, year = reverse("reports:pdf"), {"year": YEAR}
    # a draft's copy, asked for by the plan admin: not for an officer of one department
    client.post(reverse("reports:make_pdf") + f"?year={YEAR}")
    draft = ReportPdf.objects.get(plan=closed.plan)
    assert draft.state == ReportPdf.State.DONE and not draft.of_final
    assert body(client.get(url, year)) == bytes(draft.content)
    officer_a = make_user(django_user_model, "officer_a", roles.OFFICER, [closed.a])
    reader = Client()
    reader.force_login(officer_a)
    assert reader.get(url, year).status_code == 302  # their own is made in the request

    client.post(reverse("reports:final") + f"?year={YEAR}")
    record = ReportPdf.objects.get(plan=closed.plan)
    assert record.state == ReportPdf.State.DONE and record.of_final
    text = pdf_text(bytes(record.content))
    assert closed.a.name in text and closed.b.name in text

    # the final report is published: everyone who reads reports gets the same file
    assert body(reader.get(url, year)) == bytes(record.content)


def test_a_pdf_asked_for_long_ago_is_no_longer_waited_for():
    from datetime import timedelta

    from django.utils import timezone

    plan = load_seed(2025)
    record = ReportPdf.objects.create(
        plan=plan, state=ReportPdf.State.RUNNING, requested_at=timezone.now()
    )
    assert published.is_running(record)
    record.requested_at -= published.STALE_AFTER + timedelta(minutes=1)
    assert not published.is_running(record)  # its worker died: a plan admin may ask again
