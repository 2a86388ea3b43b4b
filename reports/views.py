"""The results report's pages (mounted at /admin/reports/): the report of a plan year (whole
plan or one department), its xlsx and server-side PDF, marking it final, and the form where
an indicator's texts are written and reviewed. Every rule is in reports.texts (and
indicators.workflow); scoping through perfplan.scoping."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from goals.models import PlanDepartment
from indicators import workflow
from indicators.models import Indicator
from indicators.views.screen import download
from perfplan import exports
from perfplan.locking import ConcurrentEditError
from perfplan.models import Plan
from perfplan.scoping import get_or_deny, may_act_in, restrict, sees_all

from . import pdf, published, texts
from .models import ResultText
from .report import build_report, report_title
from .tables import report_tables

STEPS = {
    "submit": (texts.submit, False),
    "approve": (texts.approve, False),
    "return": (texts.return_texts, True),
    "reopen": (texts.reopen, True),
}


def may_view_report(user):
    return bool(user.is_active and user.has_perm("reports.view_resultsreport"))


def _require_view(user):
    if not may_view_report(user):
        raise PermissionDenied


def _pick(request):
    """The plan (?year=, else this year's, else the latest) and the department (?department=
    a plan department id, or the whole plan) the user asked for."""
    user = request.user
    _require_view(user)
    plans = list(restrict(Plan.objects.all(), user).order_by("-fiscal_year"))
    wanted = (request.GET.get("year") or "").strip()
    today = timezone.localdate()
    plan = next((p for p in plans if str(p.fiscal_year) == wanted), None)
    if wanted and plan is None:
        raise Http404
    plan = plan or next((p for p in plans if p.fiscal_year == today.year), None)
    plan = plan or (plans[0] if plans else None)
    department = None
    wanted = (request.GET.get("department") or "").strip()
    if plan is not None and wanted:
        if not wanted.isdigit():
            raise Http404
        department = get_or_deny(PlanDepartment.objects.filter(plan=plan), user, pk=int(wanted))
    return plans, plan, department


def _query(plan, department=None):
    query = {"year": plan.fiscal_year}
    if department is not None:
        query["department"] = department.pk
    return urlencode(query)


_document_context = published.document_context


def _published_pdf(user, plan, report_is_final):
    """What the page says of the plan's whole PDF: the stored file (when this user may
    have it), whether it is being made, and whether they may ask for it."""
    record = published.stored(plan)
    return {
        "record": record,
        "servable": published.servable(record, report_is_final)
        and (report_is_final or sees_all(user)),
        "running": published.is_running(record),
        "may_make": workflow.is_plan_admin(user),
    }


def report_view(request):
    plans, plan, department = _pick(request)
    context = {
        **admin.site.each_context(request),
        "title": _("Results report"),
        "plans": plans,
        "plan": plan,
    }
    if plan is not None:
        report = build_report(plan, request.user, department=department, page=_page(request))
        context.update(_document_context(report))
        if report.shown is not None:
            context.update(_paging(report, plan))
        context.update(
            department=department,
            departments=restrict(PlanDepartment.objects.filter(plan=plan), request.user),
            query=_query(plan, department),
            may_mark_final=workflow.is_plan_admin(request.user) and not report.is_final,
            pdf_unavailable=pdf.unavailable_reason(),
            may_write=request.user.has_perm("reports.add_resulttext"),
            published_pdf=_published_pdf(request.user, plan, report.is_final),
        )
    return TemplateResponse(request, "reports/report.html", context)


def _page(request):
    """?page=: a page of a large plan's departments (1 by default), or "all": the whole."""
    wanted = (request.GET.get("page") or "1").strip()
    if wanted == "all":
        return None
    return int(wanted) if wanted.isdigit() else 1


def _paging(report, plan):
    """The page's departments, the contents' links to the other pages, the pager."""
    base = reverse("reports:report") + "?" + _query(plan)
    page_of = report.page_of
    for section in report.departments:
        page = page_of[section.department.pk]
        if page != report.page:
            section.href = f"{base}&page={page}#{section.anchor}"
    pages = [
        {
            "number": n,
            "url": f"{base}&page={n}",
            "first": report.departments[sum(len(p) for p in report.pages[: n - 1])],
        }
        for n in range(1, len(report.pages) + 1)
    ]
    return {"sections": report.shown, "pager": pages, "whole_url": f"{base}&page=all"}


def export_view(request):
    """The report's xlsx: in the request for a small plan or a department, else made by
    the task worker (perfplan.exports), with the user's scope either way."""
    _plans, plan, department = _pick(request)
    if plan is None:
        raise Http404
    params = {"plan": plan.pk, "department": department.pk if department else None}
    return exports.respond(request, REPORT_EXPORT, params)


def _report_of(user, params):
    """The plan and department of an export's parameters, as _pick finds them for `user`
    (or Http404 / PermissionDenied)."""
    _require_view(user)
    plan = restrict(Plan.objects.all(), user).filter(pk=params.get("plan")).first()
    if plan is None:
        raise Http404
    department = None
    if params.get("department") is not None:
        department = get_or_deny(
            PlanDepartment.objects.filter(plan=plan), user, pk=params["department"]
        )
    return plan, department


def _may_export(user, params):
    try:
        _report_of(user, params)
    except (Http404, PermissionDenied):
        return False
    return True


def _export_indicators(user, params):
    plan, department = _report_of(user, params)
    indicators = restrict(Indicator.objects.in_plan(plan), user)
    if department is not None:
        indicators = indicators.filter(**{Indicator.scope.to(PlanDepartment): department})
    return indicators.count()


def _file_stem(plan, department):
    """The report's file name, without its extension (xlsx and PDF alike)."""
    return report_title(plan) + (f"_{department.name}" if department else "")


def _make_report_xlsx(user, params, progress):
    plan, department = _report_of(user, params)
    report = build_report(plan, user, department=department)
    stem = _file_stem(plan, department)
    return exports.xlsx_file(report_tables(report), f"{stem}.xlsx", progress)


# The report's workbook: in the request when small, else by the worker (perfplan.exports).
REPORT_EXPORT = exports.register(
    exports.Export(
        kind="results_report",
        label=gettext_lazy("Results report (xlsx)"),
        allowed=_may_export,
        size=_export_indicators,
        make=_make_report_xlsx,
        path=f"{__name__}.REPORT_EXPORT",
    )
)


def pdf_view(request):
    """A department's PDF, or a small plan's, made here; a plan's whole PDF as stored by
    the worker (reports.published) — or, while there is none, a message saying so."""
    _plans, plan, department = _pick(request)
    if plan is None:
        raise Http404
    back = reverse("reports:report") + "?" + _query(plan, department)
    stem = _file_stem(plan, department)
    if department is None:
        state = texts.is_final(plan)
        record = published.stored(plan)
        if published.servable(record, state) and (state or sees_all(request.user)):
            return download(bytes(record.content), f"{stem}.pdf", "application/pdf")
        shown = restrict(Indicator.objects.in_plan(plan), request.user).count()
        if shown > published.inline_indicators():
            messages.info(request, _wait_message(record))
            return redirect(back)
    reason = pdf.unavailable_reason()
    if reason:
        messages.error(request, reason)
        return redirect(back)
    report = build_report(plan, request.user, department=department)
    data, _pages = published.document_pdf(report)
    return download(data, f"{stem}.pdf", "application/pdf")


def _wait_message(record):
    if published.is_running(record):
        return _(
            "The PDF of the whole plan is being made on the server; the report page shows "
            "when it is ready."
        )
    return _(
        "The PDF of the whole plan is made on the server in the background (a plan admin "
        "asks for it, or marking the report final does); meanwhile take each department's "
        "PDF, or print the page."
    )


@require_POST
def make_pdf_view(request):
    """A plan admin asks the worker for the whole plan's PDF (of a draft, or again)."""
    _plans, plan, _department = _pick(request)
    if plan is None:
        raise Http404
    if not workflow.is_plan_admin(request.user):
        raise PermissionDenied
    reason = pdf.unavailable_reason()
    if reason:
        messages.error(request, reason)
    else:
        published.queue_report_pdf(plan, request.user)
        messages.success(request, _("The PDF of the whole plan is being made on the server."))
    return redirect(reverse("reports:report") + "?" + _query(plan))


@require_POST
def final_view(request):
    _plans, plan, _department = _pick(request)
    if plan is None:
        raise Http404
    try:
        texts.mark_final(request.user, plan)
    except workflow.WorkflowError as exc:
        messages.error(request, exc.messages[0])
    else:
        messages.success(
            request, _("The %(year)s results report is marked final.") % {"year": plan.fiscal_year}
        )
        if not pdf.unavailable_reason():  # the published file, made once by the worker
            published.queue_report_pdf(plan, request.user)
    return redirect(reverse("reports:report") + "?" + _query(plan))


# ---------------------------------------------------------------- one indicator's texts


def _indicator_or_404(user, pk):
    _require_view(user)
    return get_or_deny(
        Indicator.objects.select_related(Indicator.scope.plan, Indicator.scope.department),
        user,
        "view",
        pk=pk,
    )


def _text_of(user, indicator):
    return restrict(ResultText.objects.filter(indicator=indicator), user).first()


def _post_text(request, indicator, text):
    action = request.POST.get("action", "save")
    user = request.user
    if action == "save":
        texts.save_text(
            user,
            indicator,
            shortfall_reason=request.POST.get("shortfall_reason", ""),
            improvement_plan=request.POST.get("improvement_plan", ""),
            expected_version=request.POST.get("version"),
        )
        return _("The texts are saved.")
    if action not in STEPS or text is None:
        raise Http404
    if str(text.version) != request.POST.get("version"):
        raise ConcurrentEditError(text, request.POST.get("version"))
    step, with_reason = STEPS[action]
    if with_reason:
        step(user, [text], request.POST.get("reason", ""))
    else:
        step(user, [text])
    return {
        "submit": _("The texts are submitted for review."),
        "approve": _("The texts are approved."),
        "return": _("The texts are returned to the officer."),
        "reopen": _("The texts are reopened."),
    }[action]


def text_view(request, indicator_id):
    indicator = _indicator_or_404(request.user, indicator_id)
    plan = indicator.policy_goal.strategic_goal.plan_department.plan
    department = indicator.policy_goal.strategic_goal.plan_department
    text = _text_of(request.user, indicator)
    back = reverse("reports:report") + "?" + _query(plan, department) + f"#ind-{indicator.pk}"
    if request.method == "POST":
        try:
            done = _post_text(request, indicator, text)
        except ConcurrentEditError as exc:
            messages.error(request, exc.message)
        except workflow.WorkflowError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            messages.success(request, done)
            return redirect(request.path)
        text = _text_of(request.user, indicator)
    may_write = not texts.is_final(plan) and may_act_in(
        request.user, "reports.add_resulttext", department.department_id
    )
    context = {
        **admin.site.each_context(request),
        "title": _("Results report texts: %(indicator)s") % {"indicator": indicator},
        "indicator": indicator,
        "plan": plan,
        "department": department,
        "text": text,
        "version": text.version if text else workflow.NO_RESULT,
        "actions": texts.allowed_actions(request.user, text) if not texts.is_final(plan) else set(),
        "may_write": may_write
        and (text is None or "edit" in texts.allowed_actions(request.user, text)),
        "is_final": texts.is_final(plan),
        "back": back,
    }
    return TemplateResponse(request, "reports/text.html", context)
