"""Marking the report final (refused while a required shortfall reason is missing or not
approved, listing them first), the demo's sample texts, the xlsx export's values, and the
server-side PDF (WeasyPrint; a Korean message where it or its fonts are missing)."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
from datetime import date

import openpyxl
import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from goals.tests.factories import load_seed
from indicators.demo import add_sample_data
from indicators.models import Indicator, ResultStatus
from indicators.tests.support import departments_of, indicators_of, make_user, tracking_plan
from indicators.tracking.rules import BEHIND, MISSING
from perfplan import roles
from perfplan.models import ChangeLogEntry
from reports import pdf, texts
from reports.models import ResultsReport, ResultText
from reports.report import build_report
from reports.samples import SAMPLE_MARK, write_sample_texts

pytestmark = pytest.mark.django_db

YEAR = 2031
CLOSED = date(YEAR + 1, 2, 1)


def korean(text):
    with translation.override("ko"):
        return translation.gettext(text)


class Closed:
    """A closed year of two departments: A's first indicator achieved, its second behind, B's
    first not entered (missing), B's second achieved."""

    def __init__(self, django_user_model):
        self.plan = tracking_plan(YEAR)
        a, b = departments_of(self.plan)
        self.a, self.b = a, b
        u = django_user_model
        self.officer = make_user(u, "officer", roles.OFFICER, [a, b])
        self.reviewer = make_user(u, "reviewer", roles.REVIEWER, [a, b])
        self.admin = make_user(u, "planadmin", roles.PLAN_ADMIN)
        mine, theirs = indicators_of(self.plan, a), indicators_of(self.plan, b)
        values = {mine[0]: 30, mine[1]: 10, theirs[1]: 30}  # per quarter; target 100 a year
        from indicators.models import Result

        for indicator, value in values.items():
            for quarter in ("Q1", "Q2", "Q3", "Q4"):
                Result.objects.create(indicator=indicator, period=quarter, value=value)
        self.behind, self.missing = mine[1], theirs[0]

    def report(self, user=None):
        return build_report(self.plan, user or self.admin, today=CLOSED)

    def approve_reason(self, indicator, reason="사유"):
        text = texts.save_text(
            self.officer,
            indicator,
            shortfall_reason=reason,
            improvement_plan="개선",
            expected_version=0,
        )
        texts.submit(self.officer, [text])
        texts.approve(self.reviewer, [text])


@pytest.fixture
def closed(django_user_model):
    return Closed(django_user_model)


def test_missing_reasons_are_listed_and_final_refused(closed, monkeypatch):
    report = closed.report()
    assert [(m.indicator, m.status) for m in report.missing] == [
        (closed.behind, BEHIND),
        (closed.missing, MISSING),
    ]
    with pytest.raises(texts.ReportNotReady) as caught:
        texts.mark_final(closed.admin, closed.plan, today=CLOSED)
    assert [m.indicator for m in caught.value.missing] == [closed.behind, closed.missing]
    assert closed.behind.name in caught.value.message
    assert not ResultsReport.objects.filter(plan=closed.plan, is_final=True).exists()

    # written and submitted is not enough: approved
    text = texts.save_text(
        closed.officer,
        closed.behind,
        shortfall_reason="예산 집행 지연",
        improvement_plan="",
        expected_version=0,
    )
    texts.submit(closed.officer, [text])
    report = closed.report()
    assert [m.indicator for m in report.missing] == [closed.behind, closed.missing]
    texts.approve(closed.reviewer, [text])
    assert [m.indicator for m in closed.report().missing] == [closed.missing]

    # the page lists them at the top, before the document
    from indicators.tests.support import freeze_today

    freeze_today(monkeypatch, CLOSED)
    client = Client()
    client.force_login(closed.admin)
    html = client.get(reverse("reports:report"), {"year": YEAR}).content.decode()
    listed = html.index('id="missing-reasons"')
    assert listed < html.index('id="report-cover"')
    assert closed.missing.name in html[listed : html.index('id="report-cover"')]
    response = client.post(reverse("reports:final") + f"?year={YEAR}", follow=True)
    assert not ResultsReport.objects.filter(plan=closed.plan, is_final=True).exists()
    assert "mark-final" in response.content.decode()

    # only a plan admin marks it final
    closed.approve_reason(closed.missing)
    with pytest.raises(texts.workflow.WorkflowError):
        texts.mark_final(closed.reviewer, closed.plan, today=CLOSED)
    client.post(reverse("reports:final") + f"?year={YEAR}")
    state = ResultsReport.objects.get(plan=closed.plan)
    assert state.is_final and state.finalized_by == closed.admin
    assert ChangeLogEntry.objects.filter(
        content_type__model="resultsreport", object_id=str(state.pk)
    ).exists()
    # a final report locks its texts
    text = ResultText.objects.get(indicator=closed.behind)
    with pytest.raises(texts.workflow.WorkflowError):
        texts.reopen(closed.admin, [text], "다시")


def test_sample_texts_for_a_closed_seed_year():
    plan = load_seed(2025)
    add_sample_data(plan, today=date(2026, 1, 20))
    written = write_sample_texts(plan, today=date(2026, 1, 20))
    assert written == Indicator.objects.in_plan(plan).count()
    state = ResultsReport.objects.get(plan=plan)
    assert state.is_final and state.is_sample
    assert not ResultText.objects.exclude(status=ResultStatus.APPROVED).exists()
    assert all(
        t.improvement_plan.startswith(SAMPLE_MARK) and t.is_sample for t in ResultText.objects.all()
    )
    assert write_sample_texts(plan, today=date(2026, 1, 20)) == 0  # again: nothing more


def _number(value):
    return None if value is None else float(value)


def test_xlsx_export_has_the_reports_values(closed, monkeypatch):
    from indicators.tests.support import freeze_today

    closed.approve_reason(closed.behind, "예산 집행 지연")
    freeze_today(monkeypatch, CLOSED)
    client = Client()
    client.force_login(closed.admin)
    response = client.get(reverse("reports:export"), {"year": YEAR})
    assert response.status_code == 200
    data = b"".join(response.streaming_content) if response.streaming else response.content
    book = openpyxl.load_workbook(io.BytesIO(data))
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    header = list(rows[0])
    column = {key: header.index(_header(key)) for key in (
        "indicator", "year-end actual", "achievement rate (%)", "status",
        "shortfall reason (미달성 사유)",
    )}  # fmt: skip
    by_name = {r[column["indicator"]]: r for r in rows[1:]}
    report = closed.report()
    assert len(by_name) == len(report.lines) == 4
    for line in report.lines:
        cells = by_name[line.indicator.name]
        assert _number(cells[column["year-end actual"]]) == _number(line.row.ytd_actual)
        assert _number(cells[column["achievement rate (%)"]]) == _number(line.row.rate)
        assert cells[column["status"]] == str(line.status_label)
    behind = by_name[closed.behind.name]
    assert behind[column["shortfall reason (미달성 사유)"]] == "예산 집행 지연"
    assert _number(behind[column["year-end actual"]]) == 40  # 4 quarters of 10, a running total
    goals = list(book.worksheets[1].iter_rows(values_only=True))
    assert len(goals) == 1 + 2 * 2  # a strategic and a policy goal per department


def _header(text):
    with translation.override("ko"):
        return str(translation.gettext(text))


def test_without_any_pdf_engine_the_page_says_so_in_korean(closed, monkeypatch):
    def missing():
        raise ImportError("No module named 'weasyprint'")

    monkeypatch.setattr(pdf, "_import_weasyprint", missing)
    monkeypatch.setattr(pdf, "chromium_path", lambda: None)
    client = Client()
    client.force_login(closed.admin)
    url = reverse("reports:report")
    html = client.get(url, {"year": YEAR}, HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    assert 'id="pdf-unavailable"' in html and 'id="export-pdf"' not in html
    expected = korean(
        "The server cannot make the PDF: neither Chromium nor WeasyPrint with the Pango "
        "library it needs is installed (%(error)s). Print the page to PDF from the browser "
        "instead, or ask the administrator to install them (README: Running in production)."
    ).split("(%(error)s)")[0]
    assert expected in html
    response = client.get(reverse("reports:pdf"), {"year": YEAR}, follow=True)
    assert response.status_code == 200 and response.redirect_chain
    assert expected in response.content.decode()


def test_the_engine_is_chromium_where_installed_else_weasyprint(settings, monkeypatch):
    settings.PERFPLAN_PDF_ENGINE = "auto"
    monkeypatch.setattr(pdf, "_chromium_problem", lambda: None)
    monkeypatch.setattr(pdf, "_weasyprint_problem", lambda: None)
    assert pdf.engine() == pdf.CHROMIUM
    monkeypatch.setattr(pdf, "_chromium_problem", lambda: "Chromium is not installed")
    assert pdf.engine() == pdf.WEASYPRINT
    settings.PERFPLAN_PDF_ENGINE = "chromium"  # asked for by name: no silent other engine
    assert pdf.engine() is None
    assert "Chromium is not installed" in pdf.unavailable_reason()
    settings.PERFPLAN_PDF_ENGINE = "weasyprint"
    monkeypatch.setattr(pdf, "_chromium_problem", lambda: None)
    assert pdf.engine() == pdf.WEASYPRINT


def test_without_korean_fonts_the_page_says_so(closed, monkeypatch):
    monkeypatch.setattr(pdf, "korean_fonts_installed", lambda: False)
    client = Client()
    client.force_login(closed.admin)
    html = client.get(reverse("reports:report"), {"year": YEAR}).content.decode()
    assert "fonts-noto-cjk" in html and 'id="export-pdf"' not in html


def _weasyprint_or_skip():
    reason = pdf.unavailable_reason()
    if reason:
        pytest.skip(f"server-side PDF not possible here (.ci/run installs it): {reason}")
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (poppler-utils) is not installed")


def test_server_side_pdf_of_the_seed_plan_has_korean_text(plan_admin_user, monkeypatch, pdf_engine):
    _weasyprint_or_skip()
    from indicators.tests.support import freeze_today

    plan = load_seed(2025)
    add_sample_data(plan, today=date(2026, 1, 20))
    write_sample_texts(plan, today=date(2026, 1, 20))
    freeze_today(monkeypatch, date(2026, 1, 20))
    client = Client()
    client.force_login(plan_admin_user)
    response = client.get(reverse("reports:pdf"), {"year": 2025})
    assert response["Content-Type"] == "application/pdf"
    data = b"".join(response.streaming_content) if response.streaming else response.content
    assert data.startswith(b"%PDF")
    text = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True
    ).stdout.decode("utf-8")
    for name in plan.departments.values_list("name", flat=True):
        assert name in text.replace(" ", "") or name in text, name
    assert "성과보고서" in text or "results report" in text.lower()
    assert SAMPLE_MARK in text
    print(f"PDF: {len(data):,} bytes", file=sys.stderr)
