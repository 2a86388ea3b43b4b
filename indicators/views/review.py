"""Review steps taken in the grid: submit, approve or return cells, or a department's whole
period (indicators.workflow decides; its refusals are shown as messages)."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.db.models import Q
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from goals.models import PlanDepartment
from perfplan.scoping import restrict

from ..models import Result, ResultStatus
from ..periods import is_period_key, period_label
from .access import require_view
from .save import MAX_CELLS_PER_SAVE
from .screen import as_int, safe_next

MAX_LISTED_REFUSALS = 10


def grid_url(request):
    return safe_next(request, reverse("tracking:my_department"))


def _refused(request, messages_list):
    for message in messages_list[:MAX_LISTED_REFUSALS]:
        messages.error(request, message)
    if len(messages_list) > MAX_LISTED_REFUSALS:
        messages.error(
            request,
            _("…and %(count)s more refusals.")
            % {"count": len(messages_list) - MAX_LISTED_REFUSALS},
        )


def _done(request, step, count):
    from ..workflow import APPROVE, RETURN, SUBMIT

    texts = {
        SUBMIT: ngettext("%(count)s result submitted.", "%(count)s results submitted.", count),
        APPROVE: ngettext("%(count)s result approved.", "%(count)s results approved.", count),
        RETURN: ngettext("%(count)s result returned.", "%(count)s results returned.", count),
    }
    messages.success(request, texts[step] % {"count": count})


def _cell_keys(values):
    """[(indicator id, period key)] from "indicator:period" values; None if one is unreadable."""
    keys = []
    for value in values:
        indicator, _sep, period = str(value).partition(":")
        indicator, period = as_int(indicator), period.strip().upper()
        if indicator is None or not period:
            return None
        keys.append((indicator, period))
    return list(dict.fromkeys(keys))


def review_cells_view(request):
    """POST step (submit, approve, return) and cells ("indicator:period"), a reason to return.

    The results are looked up within what the user may see: a cell of another department is
    "not found", never touched. The workflow decides the step for all of them in one
    transaction (one refusal: nothing changes) and its refusals are shown as messages.
    """
    from ..workflow import APPROVE, RETURN, SUBMIT, WorkflowError, approve, return_results, submit

    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    user = request.user
    require_view(user)
    step = request.POST.get("step")
    keys = _cell_keys(request.POST.getlist("cell"))
    if step not in (SUBMIT, APPROVE, RETURN) or not keys or len(keys) > MAX_CELLS_PER_SAVE:
        messages.error(request, _("The request could not be read; reload the page and try again."))
        return redirect(grid_url(request))
    wanted = Q(pk__in=[])
    for indicator_id, period in keys:
        wanted |= Q(indicator_id=indicator_id, period=period)
    results = list(restrict(Result.objects.filter(wanted), user).order_by("pk"))
    if len(results) != len(keys):
        messages.error(
            request,
            _("A result to review does not exist or is not one you may see; nothing was changed."),
        )
        return redirect(grid_url(request))
    try:
        with transaction.atomic():
            if step == SUBMIT:
                done = submit(user, results)
            elif step == APPROVE:
                done = approve(user, results)
            else:
                done = return_results(user, results, request.POST.get("reason", ""))
    except WorkflowError as exc:
        _refused(request, exc.messages)
    else:
        _done(request, step, len(done))
    return redirect(grid_url(request))


def review_period_view(request):
    """POST step (submit or approve), plan, and target ("department:period"): the whole
    period of a department — its draft and returned results that have values are submitted
    (sample data is not), or every submitted one is approved (workflow.bulk_approve)."""
    from ..workflow import APPROVE, SUBMIT, WorkflowError, bulk_approve, may_submit, submit

    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    user = request.user
    require_view(user)
    step = request.POST.get("step")
    department_id, _sep, period = (request.POST.get("target") or "").partition(":")
    department_id, period = as_int(department_id), period.strip().upper()
    plan_id = as_int(request.POST.get("plan"))
    if (
        step not in (SUBMIT, APPROVE)
        or None in (department_id, plan_id)
        or not is_period_key(period)
    ):
        messages.error(request, _("The request could not be read; reload the page and try again."))
        return redirect(grid_url(request))
    plan_department = (
        restrict(PlanDepartment.objects.filter(plan_id=plan_id, department_id=department_id), user)
        .select_related("plan", "department")
        .first()
    )
    if plan_department is None:
        messages.error(
            request, _("This department is not one whose results you may review or submit.")
        )
        return redirect(grid_url(request))
    params = {"department": plan_department.name, "period": period_label(period)}
    try:
        with transaction.atomic():
            if step == APPROVE:
                count = bulk_approve(user, plan_department.plan, plan_department.department, period)
                if not count:
                    messages.info(
                        request,
                        _("No result of %(department)s for %(period)s waits for approval.")
                        % params,
                    )
                    return redirect(grid_url(request))
            else:
                if not may_submit(user):
                    raise WorkflowError(_("You may not submit results of %(department)s.") % params)
                ids = list(
                    restrict(
                        Result.objects.under(PlanDepartment, plan_department).filter(
                            period=period,
                            status__in=ResultStatus.SUBMITTABLE,
                            value__isnull=False,
                            is_sample=False,
                        ),
                        user,
                        "change",
                    ).values_list("pk", flat=True)
                )
                if not ids:
                    messages.info(
                        request,
                        _(
                            "%(department)s has no draft or returned result with a value for "
                            "%(period)s to submit."
                        )
                        % params,
                    )
                    return redirect(grid_url(request))
                count = len(submit(user, ids))
    except WorkflowError as exc:
        _refused(request, exc.messages)
    else:
        _done(request, step, count)
    return redirect(grid_url(request))
