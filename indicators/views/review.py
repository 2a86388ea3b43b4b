"""Review steps taken in the grid: submit, approve, return or reopen cells, or a department's
whole period (indicators.workflow decides; its refusals are shown as messages).

A form post (no script) is answered with a redirect back to the grid and the messages; the
grid's script asks for JSON instead and gets the messages and the rows the step changed,
re-rendered as the grid renders them, to put in place without reloading the page."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.db.models import Q
from django.http import HttpResponseNotAllowed, JsonResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from goals.models import PlanDepartment
from perfplan.http import wants_json
from perfplan.scoping import restrict

from ..models import Indicator, Result, ResultStatus
from ..periods import is_period_key, period_label
from .access import require_view
from .save import MAX_CELLS_PER_SAVE
from .screen import Screen, as_int, safe_next

MAX_LISTED_REFUSALS = 10


def grid_url(request):
    return safe_next(request, reverse("tracking:my_department"))


class Answer:
    """What a review step says back: its messages, and the rows it changed. As messages and
    a redirect to the grid for a form post; as JSON for the grid's script."""

    def __init__(self, request):
        self.request = request
        self.said = []  # (level, text)
        self.plan = None
        self.indicator_ids = ()  # ids, or a subquery of them (read only for a JSON answer)

    def error(self, text):
        self.said.append((messages.ERROR, text))

    def info(self, text):
        self.said.append((messages.INFO, text))

    def success(self, text):
        self.said.append((messages.SUCCESS, text))

    def refused(self, messages_list):
        for message in messages_list[:MAX_LISTED_REFUSALS]:
            self.error(message)
        if len(messages_list) > MAX_LISTED_REFUSALS:
            self.error(
                _("…and %(count)s more refusals.")
                % {"count": len(messages_list) - MAX_LISTED_REFUSALS}
            )

    def done(self, step, count):
        from ..workflow import APPROVE, REOPEN, RETURN, SUBMIT

        texts = {
            SUBMIT: ngettext("%(count)s result submitted.", "%(count)s results submitted.", count),
            APPROVE: ngettext("%(count)s result approved.", "%(count)s results approved.", count),
            RETURN: ngettext("%(count)s result returned.", "%(count)s results returned.", count),
            REOPEN: ngettext("%(count)s result reopened.", "%(count)s results reopened.", count),
        }
        self.success(texts[step] % {"count": count})

    def rows_of(self, plan, indicator_ids):
        self.plan = plan
        self.indicator_ids = indicator_ids

    def response(self):
        request = self.request
        if not wants_json(request):
            for level, text in self.said:
                messages.add_message(request, level, text)
            return redirect(grid_url(request))
        tags = {messages.ERROR: "error", messages.INFO: "info", messages.SUCCESS: "success"}
        return JsonResponse(
            {
                "ok": not any(level == messages.ERROR for level, _text in self.said),
                "messages": [{"level": tags[level], "text": text} for level, text in self.said],
                "rows": self._rows_html(),
            }
        )

    def _rows_html(self):
        """The changed rows as the grid renders them (its script puts their cells in place)."""
        from django.utils import timezone

        from ..tracking.rows import tracking_rows
        from .grid import grid_groups

        if self.plan is None:
            return ""
        user = self.request.user
        today = timezone.localdate()
        indicators = restrict(
            Indicator.objects.in_plan(self.plan).filter(pk__in=self.indicator_ids), user
        )
        rows = tracking_rows(indicators, self.plan, today, people=False)
        screen = Screen(self.plan, [self.plan], None, indicators, rows, today)
        lines = [line for group in grid_groups(screen, user) for line in group.rows]
        return render_to_string(
            "indicators/_grid_rows.html",
            {"lines": lines, "grid_next": grid_url(self.request)},
            request=self.request,
        )


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
    """POST step (submit, approve, return, reopen) and cells ("indicator:period"), a reason
    to return or reopen.

    The results are looked up within what the user may see: a cell of another department is
    "not found", never touched. The workflow decides the step for all of them in one
    transaction (one refusal: nothing changes) and its refusals are shown as messages.
    """
    from ..workflow import (
        APPROVE,
        REOPEN,
        RETURN,
        SUBMIT,
        WorkflowError,
        approve,
        reopen_results,
        return_results,
        submit,
    )

    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    user = request.user
    require_view(user)
    answer = Answer(request)
    step = request.POST.get("step")
    keys = _cell_keys(request.POST.getlist("cell"))
    if step not in (SUBMIT, APPROVE, RETURN, REOPEN) or not keys or len(keys) > MAX_CELLS_PER_SAVE:
        answer.error(_("The request could not be read; reload the page and try again."))
        return answer.response()
    wanted = Q(pk__in=[])
    for indicator_id, period in keys:
        wanted |= Q(indicator_id=indicator_id, period=period)
    results = list(
        restrict(Result.objects.filter(wanted), user)
        .select_related(Result.scope.plan)
        .order_by("pk")
    )
    if len(results) != len(keys):
        answer.error(
            _("A result to review does not exist or is not one you may see; nothing was changed.")
        )
        return answer.response()
    try:
        with transaction.atomic():
            reason = request.POST.get("reason", "")
            if step == SUBMIT:
                done = submit(user, results)
            elif step == APPROVE:
                done = approve(user, results)
            elif step == RETURN:
                done = return_results(user, results, reason)
            else:
                done = reopen_results(user, results, reason)
    except WorkflowError as exc:
        answer.refused(exc.messages)
    else:
        answer.done(step, len(done))
    plan = results[0].indicator.policy_goal.strategic_goal.plan_department.plan
    answer.rows_of(plan, {result.indicator_id for result in results})
    return answer.response()


def review_period_view(request):
    """POST step (submit or approve), plan, and target ("department:period"): the whole
    period of a department — its draft and returned results that have values are submitted
    (sample data is not), or every submitted one is approved (workflow.bulk_approve)."""
    from ..workflow import APPROVE, SUBMIT, WorkflowError

    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    user = request.user
    require_view(user)
    answer = Answer(request)
    step = request.POST.get("step")
    department_id, _sep, period = (request.POST.get("target") or "").partition(":")
    department_id, period = as_int(department_id), period.strip().upper()
    plan_id = as_int(request.POST.get("plan"))
    if (
        step not in (SUBMIT, APPROVE)
        or None in (department_id, plan_id)
        or not is_period_key(period)
    ):
        answer.error(_("The request could not be read; reload the page and try again."))
        return answer.response()
    plan_department = (
        restrict(PlanDepartment.objects.filter(plan_id=plan_id, department_id=department_id), user)
        .select_related("plan", "department")
        .first()
    )
    if plan_department is None:
        answer.error(_("This department is not one whose results you may review or submit."))
        return answer.response()
    # the rows to refresh: the department's indicators with a result of the period
    period_results = restrict(
        Result.objects.under(PlanDepartment, plan_department).filter(period=period), user
    )
    answer.rows_of(plan_department.plan, period_results.values("indicator_id"))
    try:
        with transaction.atomic():
            _period_step(answer, user, plan_department, period, step)
    except WorkflowError as exc:
        answer.refused(exc.messages)
    return answer.response()


def _period_step(answer, user, plan_department, period, step):
    from ..workflow import APPROVE, WorkflowError, bulk_approve, may_submit, submit

    params = {"department": plan_department.name, "period": period_label(period)}
    if step == APPROVE:
        count = bulk_approve(user, plan_department.plan, plan_department.department, period)
        if not count:
            answer.info(
                _("No result of %(department)s for %(period)s waits for approval.") % params
            )
            return
        answer.done(step, count)
        return
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
        answer.info(
            _(
                "%(department)s has no draft or returned result with a value for "
                "%(period)s to submit."
            )
            % params
        )
        return
    answer.done(step, len(submit(user, ids)))
