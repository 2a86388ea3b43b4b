"""The results report's server-side PDF (reports.pdf: Chromium, or WeasyPrint where there is
no Chromium), made by one function for every case.

A national plan (10,000 indicators, some 1,500 pages) is a minute of Chromium's work and
several of WeasyPrint's, and gigabytes as one document. So the document is made in parts —
the cover and contents, the summary, then the departments in groups of about
PART_INDICATORS indicators (each starts on a new page anyway) — laid out `workers` at a
time (Chromium pages, or WeasyPrint processes), joined with pypdf, the pages
numbered across the whole file (reports.pdf.join) and the contents given each department's
page as text.

A plan's whole PDF is made by the task worker (make_report_pdf, django-tasks) when the
report is marked final, or when a plan admin asks for it, and stored (ReportPdf): the same
file for everyone, served as stored. A department's PDF, or a small plan's (at most
inline_indicators()), is made in the request by the same function.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_tasks import task

from perfplan.models import Plan

from . import pdf
from .models import ReportPdf
from .report import build_report, report_title

CSS_PATH = Path(settings.BASE_DIR) / "static" / "reports" / "report.css"
PART_INDICATORS = 400  # a part's indicators: bounded memory per process, few font copies
INLINE_INDICATORS = 1000  # a PDF of at most this many indicators is made in the request
FRONT = 1  # the cover takes page 1; the contents follow
STALE_AFTER = timedelta(hours=2)  # a national plan's PDF takes minutes


def inline_indicators():
    return getattr(settings, "PERFPLAN_REPORT_INLINE_PDF_INDICATORS", INLINE_INDICATORS)


def workers():
    return getattr(settings, "PERFPLAN_REPORT_PDF_WORKERS", min(2, os.cpu_count() or 1))


def document_context(report):
    return {
        "report": report,
        "report_title": report_title(report.plan),
        "generated_at": timezone.localtime(),
    }


def _html(report, css, **extra):
    return render_to_string("reports/pdf.html", {**document_context(report), "css": css, **extra})


def _groups(sections, size):
    """Consecutive departments of about `size` indicators together (at least one each)."""
    groups, group, count = [], [], 0
    for section in sections:
        if group and count + section.summary.total > size:
            groups.append(group)
            group, count = [], 0
        group.append(section)
        count += section.summary.total
    if group:
        groups.append(group)
    return groups


def document_pdf(report, *, workers=1, progress=None):
    """The PDF of `report` (reports.report.Report) as bytes, and its page count."""
    css = CSS_PATH.read_text(encoding="utf-8")
    base_url = str(settings.BASE_DIR)
    groups = _groups(report.departments, PART_INDICATORS)
    bodies = [_html(report, css, part="summary")] + [
        _html(report, css, part="departments", sections=group) for group in groups
    ]
    total = len(bodies) + 1

    def step(done, _total):
        if progress:
            progress(done, total)

    joiner = pdf.Joiner()  # parts joined as they come, while the next are made
    rendered = pdf.render_all(
        bodies,
        base_url,
        workers=workers,
        progress=step,
        on_part=lambda number, part: joiner.add(number, part[0]),
    )
    # Where each part and each department begins, once the front's length is known.
    front_pages = 1
    for _attempt in range(4):
        summary_page = FRONT + front_pages + 1
        start = summary_page + rendered[0][1]
        for (_data, pages, headings), group in zip(rendered[1:], groups, strict=True):
            for section, page in zip(group, _department_pages(group, headings), strict=True):
                section.pdf_page = start + page
            start += pages
        front = pdf.render_all(
            [_html(report, css, part="front", summary_page=summary_page)], base_url
        )[0]
        if front[1] == FRONT + front_pages:
            break
        front_pages = front[1] - FRONT
    if progress:
        progress(total, total)
    outline = [(str(_("Summary")), summary_page)] + [
        (section.department.name, section.pdf_page) for group in groups for section in group
    ]
    return joiner.finish(front[0], outline=outline)


def _department_pages(group, headings):
    """The page (from 0, within its part) where each department of `group` begins: a part's
    top-level headings are its departments' titles, in order."""
    titles = [title.strip() for title, _page in headings]
    names = [section.department.name.strip() for section in group]
    if titles != names:
        raise ValueError(f"the part's headings {titles[:3]}… are not its departments {names[:3]}…")
    return [page for _title, page in headings]


# ---------------------------------------------------------------- the stored file


def stored(plan):
    return ReportPdf.objects.filter(plan=plan).first()


def servable(record, report_is_final):
    """Whether the stored file is the one to serve: made, and of the report as it stands
    (a draft's copy is not served once the report is final)."""
    return bool(record and record.made_at and (record.of_final or not report_is_final))


def is_running(record):
    """Queued or being made — unless asked for so long ago that its worker must have died
    (then a plan admin may ask again)."""
    return bool(
        record
        and record.state in (ReportPdf.State.QUEUED, ReportPdf.State.RUNNING)
        and record.requested_at
        and timezone.now() - record.requested_at < STALE_AFTER
    )


def queue_report_pdf(plan, user):
    """Ask the worker for the plan's whole PDF, as `user` (a plan admin: every department)
    sees it; nothing more while one is queued or being made. Returns the record."""
    with transaction.atomic():
        record, _created = ReportPdf.objects.select_for_update().get_or_create(
            plan=plan, defaults={"state": ReportPdf.State.QUEUED}
        )
        if not _created and is_running(record):
            return record
        record.state = ReportPdf.State.QUEUED
        record.parts_done = record.parts_total = 0
        record.requested_at = timezone.now()
        record.requested_by = user
        record.save()
    make_report_pdf.enqueue(plan.pk, user.pk)
    record.refresh_from_db()
    return record


def _update(plan_id, **fields):
    ReportPdf.objects.filter(plan_id=plan_id).update(**fields)


@task()
def make_report_pdf(plan_id, user_id):
    """The worker's making of a plan's whole PDF (in the site's language, for everyone)."""
    _update(plan_id, state=ReportPdf.State.RUNNING, parts_done=0)
    try:
        plan = Plan.objects.get(pk=plan_id)
        user = get_user_model().objects.get(pk=user_id)
        with translation.override(settings.LANGUAGE_CODE):
            report = build_report(plan, user)
            data, pages = document_pdf(
                report,
                workers=workers(),
                progress=lambda done, total: _update(plan_id, parts_done=done, parts_total=total),
            )
    except Exception:
        _update(plan_id, state=ReportPdf.State.FAILED)
        raise  # the worker keeps the traceback as the task's
    _update(
        plan_id,
        state=ReportPdf.State.DONE,
        content=data,
        pages=pages,
        made_at=timezone.now(),
        of_final=report.is_final,
    )
    return {"pages": pages, "bytes": len(data)}
