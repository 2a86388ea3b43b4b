"""The API's endpoints: read-only lists and objects of the plan's data, each through
Model.objects.restrict(user) as the screens read them, and the results' writes, each through
indicators.workflow as the grid writes them (nothing is decided here)."""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from goals.filters import PlanDepartmentFilter, PolicyGoalFilter, StrategicGoalFilter
from goals.models import PlanDepartment, PolicyGoal, StrategicGoal
from indicators import workflow
from indicators.filters import PeriodTargetFilter, ResultFilter, TrackingFilter
from indicators.models import Indicator, PeriodTarget, Result
from indicators.views.screen import _pick_plan
from perfplan.changelog import change_context, current_context
from perfplan.filters import ChangeLogFilter, DepartmentFilter, PlanFilter, narrowed_by_range
from perfplan.locking import ConcurrentEditError
from perfplan.models import ChangeLogEntry, Department, Plan
from perfplan.scoping import get_or_deny, permission, restrict

from . import serializers as s
from .errors import refused
from .models import ApiToken
from .schema import ApiTokenScheme  # noqa: F401 - registers the token scheme in the schema
from .tokens import request_id_naming

IDEMPOTENCY_HEADERS = ("Idempotency-Key", "X-Idempotency-Key")


class MayViewModel(permissions.IsAuthenticated):
    """Signed in, and holding the model's view permission: the screens answer 403 without it
    (the change log for officers); which rows is restrict()'s answer."""

    def has_permission(self, request, view):
        if not super().has_permission(request, view):
            return False
        return request.user.has_perm(permission(view.model, "view"))


class ScopedReadViewSet(viewsets.ReadOnlyModelViewSet):
    """A list and its objects: the rows restrict(user, "view") gives, in the order of a
    unique key (`cursor_key`) for the cursor, filtered by the screens' filter set."""

    model = None
    related = ()
    cursor_key = "id"
    permission_classes = [MayViewModel]
    filter_backends = [DjangoFilterBackend]

    def get_queryset(self):
        queryset = self.model.objects.all()
        if self.related:  # select_related() without names would follow every foreign key
            queryset = queryset.select_related(*self.related)
        return restrict(queryset, self.request.user, "view").order_by(*ordering(self.cursor_key))


def ordering(cursor_key):
    return (cursor_key,) if isinstance(cursor_key, str) else tuple(cursor_key)


def _read(list_summary, object_summary):
    """The schema's summaries of a read endpoint (Korean from the catalogue)."""
    return extend_schema_view(
        list=extend_schema(summary=list_summary),
        retrieve=extend_schema(summary=object_summary),
    )


@_read(gettext_lazy("List plans"), gettext_lazy("One plan"))
class PlanViewSet(ScopedReadViewSet):
    model = Plan
    serializer_class = s.PlanSerializer
    filterset_class = PlanFilter
    cursor_key = "-fiscal_year"


@_read(gettext_lazy("List departments"), gettext_lazy("One department"))
class DepartmentViewSet(ScopedReadViewSet):
    model = Department
    serializer_class = s.DepartmentSerializer
    filterset_class = DepartmentFilter


@_read(gettext_lazy("List plan departments (table 가's rows)"), gettext_lazy("One plan department"))
class PlanDepartmentViewSet(ScopedReadViewSet):
    model = PlanDepartment
    related = ("plan",)
    serializer_class = s.PlanDepartmentSerializer
    filterset_class = PlanDepartmentFilter


@_read(gettext_lazy("List strategic goals"), gettext_lazy("One strategic goal"))
class StrategicGoalViewSet(ScopedReadViewSet):
    model = StrategicGoal
    related = ("plan_department",)
    serializer_class = s.StrategicGoalSerializer
    filterset_class = StrategicGoalFilter


@_read(gettext_lazy("List policy program goals"), gettext_lazy("One policy program goal"))
class PolicyGoalViewSet(ScopedReadViewSet):
    model = PolicyGoal
    related = ("strategic_goal__plan_department",)
    serializer_class = s.PolicyGoalSerializer
    filterset_class = PolicyGoalFilter


class IndicatorFilter(TrackingFilter):
    """The tracking screens' filter set, over one plan (year; the screens' choice without
    it). The status a screen computes per row is not an indicator's field: results have
    their own status filter."""

    def __init__(self, data=None, queryset=None, *, request, plan, plans=None):
        super().__init__(data, queryset, request=request, plan=plan, plans=plans)
        self.filters.pop("status", None)

    def _offer(self, name, goals, narrower, long_label):
        """The goals a value is checked against, narrowed as on the screens; the API shows no
        choices, so the screens' count of a long list (to leave it out of a page) is not read."""
        if narrower is not None:
            goals = goals.filter(narrower | Q(pk=self._chosen(name)))
        self.filters[name].queryset = goals

    # Typed for the schema; the screens' methods decide.
    def keep(self, queryset, name, value: int):
        return super().keep(queryset, name, value)

    def filter_department(self, queryset, name, value: int):
        return super().filter_department(queryset, name, value)

    def filter_period(self, queryset, name, value: str):
        return super().filter_period(queryset, name, value)


class TrackingFilterBackend(DjangoFilterBackend):
    def get_filterset_kwargs(self, request, queryset, view):
        kwargs = super().get_filterset_kwargs(request, queryset, view)
        data = kwargs["data"].copy()
        if view.plan is not None and not data.get("year"):
            data["year"] = str(view.plan.fiscal_year)
        return {**kwargs, "data": data, "plan": view.plan, "plans": view.plans}


@_read(gettext_lazy("List indicators of one plan (year)"), gettext_lazy("One indicator"))
@extend_schema_view(list=extend_schema(parameters=[OpenApiParameter("status", exclude=True)]))
class IndicatorViewSet(ScopedReadViewSet):
    model = Indicator
    serializer_class = s.IndicatorSerializer
    filterset_class = IndicatorFilter
    filter_backends = [TrackingFilterBackend]

    def get_queryset(self):
        from django.utils import timezone

        self.plans = list(restrict(Plan.objects.all(), self.request.user).order_by("-fiscal_year"))
        self.plan = _pick_plan(self.request, self.plans, timezone.localdate())
        queryset = super().get_queryset()
        if self.action == "retrieve":
            return queryset  # an indicator of any year by its id
        if self.plan is None:
            return queryset.none()
        year = self.plan.fiscal_year
        return narrowed_by_range(queryset, Indicator, year, queryset.in_plan(self.plan))

    def filter_queryset(self, queryset):
        if self.action == "retrieve":
            return queryset
        return super().filter_queryset(queryset)


@_read(gettext_lazy("List period targets"), gettext_lazy("One period target"))
class PeriodTargetViewSet(ScopedReadViewSet):
    model = PeriodTarget
    serializer_class = s.PeriodTargetSerializer
    filterset_class = PeriodTargetFilter
    cursor_key = ("indicator_id", "period")  # unique; a year's rows are a range of its index


@_read(gettext_lazy("List change log entries, newest first"), gettext_lazy("One change log entry"))
class ChangeLogViewSet(ScopedReadViewSet):
    model = ChangeLogEntry
    serializer_class = s.ChangeLogEntrySerializer
    filterset_class = ChangeLogFilter
    cursor_key = "-sequence"
    lookup_field = "sequence"


# ---------------------------------------------------------------- results: read and write


def api_change_context(request):
    """Who writes (the token's user) and, for a token, which token: the change log's request
    id of each entry names it (api-token:<prefix>:<request id>)."""
    values = {"user": request.user}
    if isinstance(request.auth, ApiToken):
        values["request_id"] = request_id_naming(request.auth, current_context().request_id)
    return change_context(**values)


def _idempotency_key(request):
    for header in IDEMPOTENCY_HEADERS:
        key = request.headers.get(header)
        if key:
            if not workflow.is_idempotency_key(key):
                raise exceptions.ValidationError(
                    _("The idempotency key must be 8 to 64 letters, digits, - or _.")
                )
            return key
    return ""


def save_cells(user, cells):
    """The cells through workflow.save_results (all or none): a JSON-able answer."""
    ids = {cell["indicator"] for cell in cells}
    indicators = {
        i.pk: i
        for i in restrict(Indicator.objects.filter(pk__in=ids), user).select_related(
            Indicator.scope.plan, Indicator.scope.department
        )
    }
    outcomes = [
        {"indicator": c["indicator"], "period": c["period"].upper(), "ok": False} for c in cells
    ]
    writes = []
    for cell, out in zip(cells, outcomes, strict=True):
        indicator = indicators.get(cell["indicator"])
        if indicator is None:
            out["error"] = _("This indicator does not exist or is not one you may see.")
            continue
        writes.append(
            workflow.CellWrite(
                indicator,
                out["period"],
                cell["value"] if cell["value"] not in ("", None) else None,
                note=cell.get("note"),
                expected_version=cell["version"],
            )
        )
    if any("error" in out for out in outcomes):
        return {"ok": False, "cells": outcomes}
    try:
        saved = workflow.save_results(user, writes)
    except workflow.CellsRefused as exc:
        for out, refusal in zip(outcomes, exc.outcomes, strict=True):
            if refusal.error:
                out["error"] = refusal.error
            if refusal.conflict is not None:
                out["current_version"] = getattr(refusal.conflict.current, "version", None)
        return {"ok": False, "cells": outcomes}
    for out, outcome in zip(outcomes, saved, strict=True):
        out.update(ok=True, result=dict(s.ResultSerializer(outcome.result).data))
    return {"ok": True, "cells": outcomes}


def _answer_status(answer):
    if answer["ok"]:
        return status.HTTP_200_OK
    if any("current_version" in cell for cell in answer["cells"]):
        return status.HTTP_409_CONFLICT
    return status.HTTP_400_BAD_REQUEST


def _step_schema(summary):
    return extend_schema(
        summary=summary,
        request=s.ReasonSerializer,
        responses={200: s.ResultSerializer, 400: s.ErrorSerializer, 404: s.ErrorSerializer},
    )


@_read(gettext_lazy("List results"), gettext_lazy("One result"))
class ResultViewSet(ScopedReadViewSet):
    model = Result
    serializer_class = s.ResultSerializer
    filterset_class = ResultFilter
    cursor_key = ("indicator_id", "period")  # unique; a year's rows are a range of its index

    def get_permissions(self):
        if self.action in ("list", "retrieve"):
            return super().get_permissions()
        return [permissions.IsAuthenticated()]  # the workflow decides who may write

    @extend_schema(
        summary=gettext_lazy("Enter results (all cells or none)"),
        request=s.SaveRequestSerializer,
        responses={
            200: s.SaveAnswerSerializer,
            400: s.SaveAnswerSerializer,
            409: s.SaveAnswerSerializer,
        },
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                location=OpenApiParameter.HEADER,
                required=False,
                description=gettext_lazy(
                    "Sent again with a retry: the first outcome is returned, not a refusal."
                ),
            )
        ],
    )
    @action(
        detail=False, methods=["post"], url_path="save", filter_backends=[], pagination_class=None
    )
    def save(self, request):
        body = s.SaveRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        cells = body.validated_data["cells"]
        key = _idempotency_key(request)
        with api_change_context(request):
            if key:
                answer, replayed = workflow.answered_once(
                    request.user, key, lambda: save_cells(request.user, cells)
                )
            else:
                answer, replayed = save_cells(request.user, cells), False
        return Response({**answer, "replayed": replayed}, status=_answer_status(answer))

    def _step(self, request, pk, run):
        result = get_or_deny(Result.objects.all(), request.user, "view", pk=pk)
        body = s.ReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        reason = body.validated_data.get("reason", "")
        try:
            with api_change_context(request):
                run(request.user, result, reason)
        except ConcurrentEditError as exc:
            return refused([exc.message], "stale", status.HTTP_409_CONFLICT)
        except workflow.WorkflowError as exc:
            return refused(exc.messages)
        result.refresh_from_db()
        return Response(s.ResultSerializer(result).data)

    @_step_schema(gettext_lazy("Submit a result"))
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def submit(self, request, pk=None):
        return self._step(request, pk, lambda user, r, reason: workflow.submit(user, [r]))

    @_step_schema(gettext_lazy("Approve a submitted result"))
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def approve(self, request, pk=None):
        return self._step(request, pk, lambda user, r, reason: workflow.approve(user, [r]))

    @_step_schema(gettext_lazy("Return a submitted result, with a reason"))
    @action(
        detail=True, methods=["post"], url_path="return", filter_backends=[], pagination_class=None
    )
    def return_(self, request, pk=None):
        return self._step(request, pk, workflow.return_result)

    @_step_schema(gettext_lazy("Reopen an approved result, with a reason (plan admins)"))
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def reopen(self, request, pk=None):
        return self._step(request, pk, workflow.reopen)
