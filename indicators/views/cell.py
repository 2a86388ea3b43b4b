"""One cell of the grid: its value, note and evidence (증빙자료: upload, download, removal)."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.db.models import Count
from django.http import HttpResponseNotAllowed, JsonResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from perfplan.files import evidence_limit, format_size
from perfplan.http import wants_json
from perfplan.scoping import get_or_deny, restrict

from .. import evidence as evidence_rules
from ..formats import fmt_figure, fmt_value
from ..forms import EvidenceUploadForm
from ..models import Evidence, Indicator, Result, ResultStatus
from .access import (
    EntryWindow,
    enterable_ids,
    indicator_or_404,
    period_or_404,
    plan_of,
    require_view,
)
from .screen import as_int, download, page_context, safe_next


def _cell_permissions(user, indicator, period, result, today):
    """(may edit the value and note, may attach evidence, may delete evidence, reason)."""
    department = indicator.policy_goal.strategic_goal.plan_department
    if indicator.pk not in enterable_ids(user, Indicator.objects.filter(pk=indicator.pk)):
        return False, False, False, _("You may view these results but not enter them.")
    window = EntryWindow.load(plan_of(indicator), user, today)
    if result is not None and result.status in ResultStatus.LOCKED:
        reason = _("%(state)s: it cannot be edited now.") % {"state": result.get_status_display()}
        return False, False, False, reason
    if not window.is_open(department.department_id, period.key):
        return False, False, False, window.closed_reason(department.name, period.key)
    has_result = result is not None
    return (
        True,
        has_result and user.has_perm("indicators.add_evidence"),
        has_result and user.has_perm("indicators.delete_evidence"),
        "",
    )


def cell_context(request, indicator, period):
    from ..tracking.rows import tracking_rows

    user = request.user
    plan = plan_of(indicator)
    today = timezone.localdate()
    result = (
        restrict(Result.objects.filter(indicator=indicator, period=period.key), user)
        .select_related("entered_by", "reviewed_by")
        .first()
    )
    files = []
    if result is not None:
        files = list(
            restrict(Evidence.objects.filter(result=result), user)
            .defer("content")
            .select_related("uploaded_by")
        )
    rows = tracking_rows(restrict(Indicator.objects.filter(pk=indicator.pk), user), plan, today)
    cell = next((c for c in rows[0].cells if c.period.key == period.key), None) if rows else None
    can_edit, can_attach, can_delete, reason = _cell_permissions(
        user, indicator, period, result, today
    )
    return {
        "indicator": indicator,
        "period": period,
        "plan": plan,
        "result": result,
        "cell": cell,
        "files": files,
        "can_edit": can_edit,
        "can_attach": can_attach,
        "can_delete": can_delete,
        "lock_reason": reason,
        "upload_form": EvidenceUploadForm(
            initial={"indicator": indicator.pk, "period": period.key}
        ),
        "accept": evidence_rules.ACCEPT_ATTRIBUTE,
        "max_size": format_size(evidence_limit()),
        "kinds": evidence_rules.allowed_kinds_text(),
        "value_text": fmt_value(result.value if result else None),
        "target_text": fmt_figure(indicator, cell.period_target if cell else None),
        "version": result.version if result else 0,
        # The form's save, answered once however often it is sent (workflow.answered_once).
        "save_key": uuid.uuid4().hex,
        "cell_url": reverse("tracking:cell", args=[indicator.pk, period.key]),
    }


def cell_view(request, indicator_id, period):
    require_view(request.user)
    indicator = indicator_or_404(request.user, indicator_id)
    period = period_or_404(indicator, period)
    context = cell_context(request, indicator, period)
    if request.GET.get("partial"):
        return TemplateResponse(request, "indicators/_cell_detail.html", context)
    context.update(
        page_context(
            request,
            _("%(indicator)s · %(period)s") % {"indicator": indicator, "period": period.label},
            tab="my",
        )
    )
    return TemplateResponse(request, "indicators/cell.html", context)


def _evidence_answer(request, ok, message, indicator, period_key, fallback):
    if wants_json(request):
        body = {"ok": ok, ("message" if ok else "error"): message}
        if ok:
            result = (
                restrict(
                    Result.objects.filter(indicator=indicator, period=period_key), request.user
                )
                .annotate(n=Count("evidence"))
                .first()
            )
            body["evidence_count"] = result.n if result else 0
        return JsonResponse(body, status=200 if ok else 400)
    (messages.success if ok else messages.error)(request, message)
    return redirect(safe_next(request, fallback))


def evidence_upload_view(request):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    user = request.user
    require_view(user)
    indicator = indicator_or_404(user, as_int(request.POST.get("indicator")))
    period = period_or_404(indicator, request.POST.get("period"))
    fallback = reverse("tracking:cell", args=[indicator.pk, period.key])
    result = restrict(Result.objects.filter(indicator=indicator, period=period.key), user).first()
    _edit, can_attach, _delete, reason = _cell_permissions(
        user, indicator, period, result, timezone.localdate()
    )
    if not can_attach:
        if result is None and not reason:
            reason = _("Enter the result first, then attach its evidence.")
        elif not reason:
            reason = _("You may not attach evidence to this result.")
        return _evidence_answer(request, False, reason, indicator, period.key, fallback)
    form = EvidenceUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        errors = "; ".join(str(e) for errs in form.errors.values() for e in errs)
        return _evidence_answer(request, False, errors, indicator, period.key, fallback)
    upload = form.cleaned_data["file"]
    evidence_rules.store(result, upload.name, form.content, form.kind, user)
    message = _("%(name)s is attached.") % {"name": evidence_rules.clean_name(upload.name)}
    return _evidence_answer(request, True, message, indicator, period.key, fallback)


def evidence_download_view(request, pk):
    require_view(request.user)
    item = get_or_deny(Evidence.objects.all(), request.user, "view", pk=pk)
    response = download(bytes(item.content), item.name, item.content_type)
    response["Content-Security-Policy"] = "sandbox"
    return response


def evidence_delete_view(request, pk):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    user = request.user
    require_view(user)
    item = get_or_deny(
        Evidence.objects.defer("content").select_related("result__indicator"), user, "view", pk=pk
    )
    result = item.result
    indicator = indicator_or_404(user, result.indicator_id)
    period = period_or_404(indicator, result.period)
    fallback = reverse("tracking:cell", args=[indicator.pk, period.key])
    _edit, _attach, can_delete, reason = _cell_permissions(
        user, indicator, period, result, timezone.localdate()
    )
    deletable = restrict(Evidence.objects.filter(pk=item.pk), user, "delete").exists()
    if not (can_delete and deletable):
        message = reason or _("You may not remove this evidence.")
        return _evidence_answer(request, False, message, indicator, period.key, fallback)
    name = item.name
    item.delete()
    message = _("%(name)s is removed.") % {"name": name}
    return _evidence_answer(request, True, message, indicator, period.key, fallback)
