from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from goals.admin import POLICY_GOAL_INLINE_POSITIONS, PolicyGoalChildInline, add_policy_goal_inline
from goals.amendments import AmendmentAdminMixin, display_side_by_side
from goals.models import PlanDepartment
from perfplan.admin_base import PlanDataAdmin
from perfplan.locking import LOADED_VERSION_FIELD, ConcurrentEditError
from perfplan.models import Department, Plan
from perfplan.numbers import format_amount

from . import locks, periods, workflow
from .models import EntryException, Indicator, PeriodTarget, Result, ResultStatus
from .resources import IndicatorResource

# Each model's paths to its plan and department, as declared (perfplan.scoping.Scope).
INDICATOR, TARGET, RESULT = Indicator.scope, PeriodTarget.scope, Result.scope
# How many refusals an admin action lists one by one.
MAX_LISTED_REFUSALS = 20


class PeriodChoiceField(forms.ChoiceField):
    def __init__(self, *args, frequency=None, **kwargs):
        kwargs.setdefault("label", _("period"))
        super().__init__(*args, choices=periods.period_choices(frequency), **kwargs)


class PeriodTargetForm(forms.ModelForm):
    period = PeriodChoiceField()

    class Meta:
        model = PeriodTarget
        fields = ("indicator", "period", "target")

    def clean(self):
        cleaned = super().clean()
        indicator = cleaned.get("indicator") or getattr(self.instance, "indicator", None)
        period = cleaned.get("period")
        if indicator is not None and period:
            try:
                workflow.check_period(indicator, period)
            except workflow.WorkflowError as exc:
                self.add_error("period", exc.message)
        return cleaned


class PeriodTargetInline(admin.TabularInline):
    model = PeriodTarget
    form = PeriodTargetForm
    fields = ("period", "target")
    extra = 0

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        frequency = getattr(obj, "frequency", None)
        formset.form.base_fields["period"] = PeriodChoiceField(frequency=frequency)
        return formset


@admin.register(Indicator)
class IndicatorAdmin(AmendmentAdminMixin, PlanDataAdmin):
    resource_classes = [IndicatorResource]
    list_display = (
        "name",
        "policy_goal",
        "strategic_goal",
        "department_name",
        "fiscal_year",
        "direction",
        "unit",
        "annual_target",
        "amended_target",
    )
    list_filter = (
        INDICATOR.plan,
        INDICATOR.department,
        "direction",
        "indicator_type",
        "frequency",
    )
    list_select_related = (INDICATOR.plan,)
    search_fields = ("name", "code", "policy_goal__name")
    readonly_fields = ("original_annual_target",)
    fieldsets = (
        (None, {"fields": ("policy_goal", "position", "code", "name")}),
        (
            _("Definition"),
            {
                "fields": (
                    "unit",
                    "direction",
                    "lower_is_better_method",
                    "indicator_type",
                    "formula",
                    "data_source",
                    "frequency",
                    "aggregation",
                    "weight",
                )
            },
        ),
        (
            _("Targets"),
            {
                "fields": (
                    "baseline",
                    "annual_target",
                    "original_annual_target",
                    "target_min",
                    "target_max",
                    "target_rationale",
                )
            },
        ),
    )
    autocomplete_fields = ("policy_goal",)
    inlines = [PeriodTargetInline]

    @admin.display(description=_("strategic goal"), ordering="policy_goal__strategic_goal__name")
    def strategic_goal(self, obj):
        return obj.policy_goal.strategic_goal.name

    @admin.display(description=_("department"), ordering=f"{INDICATOR.to(PlanDepartment)}__name")
    def department_name(self, obj):
        return obj.policy_goal.strategic_goal.plan_department.name

    @admin.display(description=_("fiscal year"), ordering=INDICATOR.year)
    def fiscal_year(self, obj):
        return obj.policy_goal.strategic_goal.plan_department.plan.fiscal_year

    @admin.display(description=_("target amended (original → revised)"))
    def amended_target(self, obj):
        return display_side_by_side(obj, "annual_target")


@admin.register(PeriodTarget)
class PeriodTargetAdmin(PlanDataAdmin):
    form = PeriodTargetForm
    list_display = ("indicator", "department_name", "fiscal_year", "period", "target")
    list_filter = (TARGET.plan, TARGET.department, "period")
    list_select_related = (TARGET.plan,)
    search_fields = ("indicator__name", "indicator__code")
    autocomplete_fields = ("indicator",)

    @admin.display(description=_("department"), ordering=f"{TARGET.to(PlanDepartment)}__name")
    def department_name(self, obj):
        return obj.indicator.policy_goal.strategic_goal.plan_department.name

    @admin.display(description=_("fiscal year"), ordering=TARGET.year)
    def fiscal_year(self, obj):
        return obj.indicator.policy_goal.strategic_goal.plan_department.plan.fiscal_year


# ---------------------------------------------------------------- results


class ResultForm(forms.ModelForm):
    period = PeriodChoiceField()
    request_user = None  # set per request by ResultAdmin.get_form

    class Meta:
        model = Result
        fields = ("indicator", "period", "value", "note")

    def clean(self):
        cleaned = super().clean()
        instance = self.instance
        adding = instance.pk is None
        if not adding and not ({"value", "note"} & set(self.changed_data)):
            return cleaned
        indicator = cleaned.get("indicator") if adding else instance.indicator
        period = cleaned.get("period") if adding else instance.period
        if indicator is None or not period:
            return cleaned
        try:
            workflow.check_entry(self.request_user, indicator, period, None if adding else instance)
        except workflow.WorkflowError as exc:
            raise ValidationError(exc.messages) from exc
        return cleaned


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("reason"), widget=forms.Textarea(attrs={"rows": 3, "cols": 60}), required=True
    )


RESULT_REVIEW_FIELDS = (
    "status",
    "return_reason",
    "edited_after_approval",
    "entered_by_name",
    "submitted_at",
    "reviewed_by_name",
    "reviewed_at",
    "updated_at",
)


def _person(field_name):
    """A result's person by name, without the link Django's read-only field would add: a
    user's page is closed to officers and reviewers (no link to a page one may not open)."""
    field = Result._meta.get_field(field_name)

    @admin.display(description=field.verbose_name)
    def show(_model_admin, obj):
        person = getattr(obj, field_name)
        return str(person) if person is not None else "-"

    return show


@admin.register(Result)
class ResultAdmin(PlanDataAdmin):
    """실적: values are entered through indicators.workflow.save_result, steps by actions."""

    form = ResultForm
    list_display = (
        "indicator_name",
        "department_name",
        "fiscal_year",
        "period",
        "value_display",
        "status",
        "edited_after_approval",
        "entered_by",
        "updated_at",
    )
    list_filter = (
        RESULT.plan,
        RESULT.department,
        "status",
        "period",
        "edited_after_approval",
    )
    list_select_related = (RESULT.plan, "entered_by")
    search_fields = ("indicator__name", "indicator__code")
    autocomplete_fields = ("indicator",)
    actions = ["submit_selected", "approve_selected", "return_selected", "reopen_selected"]
    actions += ["approve_whole_period"]

    entered_by_name = _person("entered_by")
    reviewed_by_name = _person("reviewed_by")

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # only draft or returned results are deleted
        return actions

    def has_submit_permission(self, request):
        return workflow.may_submit(request.user)

    def has_review_permission(self, request):
        return workflow.may_review(request.user)

    def has_reopen_permission(self, request):
        return workflow.may_reopen(request.user)

    def has_delete_permission(self, request, obj=None):
        allowed = super().has_delete_permission(request, obj)
        if obj is not None and obj.status not in ResultStatus.EDITABLE:
            return False
        return allowed

    fieldsets = (
        (None, {"fields": ("indicator", "period", "value", "note")}),
        (_("Review"), {"fields": RESULT_REVIEW_FIELDS}),
    )

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [(None, {"fields": ["indicator", "period", "value", "note"]})]
        return super().get_fieldsets(request, obj)  # with the hidden loaded version

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        readonly = ["indicator", "period", *RESULT_REVIEW_FIELDS]
        if workflow.EDIT not in workflow.allowed_actions(request.user, obj):
            readonly += ["value", "note"]
        return readonly

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"request_user": request.user})

    def save_model(self, request, obj, form, change):
        expected = form.cleaned_data.get(LOADED_VERSION_FIELD) if change else 0
        saved = workflow.save_result(
            request.user,
            obj.indicator,
            obj.period,
            value=obj.value,
            note=obj.note,
            expected_version=expected,
        )
        obj.pk, obj.version = saved.pk, saved.version
        obj._state.adding = False

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except workflow.WorkflowError as exc:
            for message in exc.messages:
                self.message_user(request, message, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    # ------------------------------------------------------------ columns

    @admin.display(description=_("indicator"), ordering="indicator__name")
    def indicator_name(self, obj):
        return obj.indicator.name

    @admin.display(description=_("department"), ordering=f"{RESULT.to(PlanDepartment)}__name")
    def department_name(self, obj):
        return obj.indicator.policy_goal.strategic_goal.plan_department.name

    @admin.display(description=_("fiscal year"), ordering=RESULT.year)
    def fiscal_year(self, obj):
        return obj.indicator.policy_goal.strategic_goal.plan_department.plan.fiscal_year

    @admin.display(description=_("actual"), ordering="value")
    def value_display(self, obj):
        return format_amount(obj.value)

    # ------------------------------------------------------------ actions

    def _run(self, request, queryset, action, step, reason=None):
        results = list(queryset.select_related(RESULT.plan))
        refused = workflow.refusals(request.user, results, action, reason)
        eligible = [r for r in results if r.pk not in refused]
        if eligible:
            try:
                done = step(request.user, eligible)
            except (workflow.WorkflowError, ConcurrentEditError) as exc:
                for message in getattr(exc, "messages", [str(exc)]):
                    self.message_user(request, message, messages.ERROR)
                return
            self.message_user(request, self._done_message(action, len(done)), messages.SUCCESS)
        listed = list(refused.values())
        for message in listed[:MAX_LISTED_REFUSALS]:
            self.message_user(request, message, messages.WARNING)
        if len(listed) > MAX_LISTED_REFUSALS:
            self.message_user(
                request,
                gettext("…and %(count)s more results were left as they are.")
                % {"count": len(listed) - MAX_LISTED_REFUSALS},
                messages.WARNING,
            )

    @staticmethod
    def _done_message(action, count):
        texts = {
            workflow.SUBMIT: ngettext(
                "%(count)s result submitted.", "%(count)s results submitted.", count
            ),
            workflow.APPROVE: ngettext(
                "%(count)s result approved.", "%(count)s results approved.", count
            ),
            workflow.RETURN: ngettext(
                "%(count)s result returned.", "%(count)s results returned.", count
            ),
            workflow.REOPEN: ngettext(
                "%(count)s result reopened.", "%(count)s results reopened.", count
            ),
        }
        return texts[action] % {"count": count}

    def _with_reason(self, request, queryset, action, step, title, intro, submit_label):
        if request.POST.get("confirm_reason") == "yes":
            form = ReasonForm(request.POST)
            if form.is_valid():
                reason = form.cleaned_data["reason"]
                self._run(
                    request, queryset, action, lambda user, rs: step(user, rs, reason), reason
                )
                return None
        else:
            form = ReasonForm()
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "intro": intro,
            "submit_label": submit_label,
            "form": form,
            "queryset": queryset,
            "action": request.POST.get("action", ""),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/indicators/result/reason_action.html", context)

    @admin.action(description=_("Submit the selected results (제출)"), permissions=["submit"])
    def submit_selected(self, request, queryset):
        self._run(request, queryset, workflow.SUBMIT, workflow.submit)

    @admin.action(description=_("Approve the selected results (승인)"), permissions=["review"])
    def approve_selected(self, request, queryset):
        self._run(request, queryset, workflow.APPROVE, workflow.approve)

    @admin.action(
        description=_("Return the selected results with a reason (반려)"), permissions=["review"]
    )
    def return_selected(self, request, queryset):
        return self._with_reason(
            request,
            queryset,
            workflow.RETURN,
            workflow.return_results,
            _("Return results"),
            _("These results go back to the officer with your reason:"),
            _("Return with this reason"),
        )

    @admin.action(
        description=_("Reopen the selected approved results with a reason"),
        permissions=["reopen"],
    )
    def reopen_selected(self, request, queryset):
        return self._with_reason(
            request,
            queryset,
            workflow.REOPEN,
            workflow.reopen_results,
            _("Reopen approved results"),
            _("These approved results become drafts again; the reason is kept in the change log:"),
            _("Reopen with this reason"),
        )

    @admin.action(
        description=_("Approve every submitted result of the selected results' periods"),
        permissions=["review"],
    )
    def approve_whole_period(self, request, queryset):
        groups = (
            queryset.order_by().values_list(RESULT.plan, RESULT.department, "period").distinct()
        )
        plans = Plan.objects.in_bulk({g[0] for g in groups})
        departments = Department.objects.in_bulk({g[1] for g in groups})
        total = 0
        for plan_id, department_id, period in groups:
            try:
                total += workflow.bulk_approve(
                    request.user, plans[plan_id], departments[department_id], period
                )
            except workflow.WorkflowError as exc:
                for message in exc.messages:
                    self.message_user(request, message, messages.ERROR)
        self.message_user(request, self._done_message(workflow.APPROVE, total), messages.SUCCESS)


# ---------------------------------------------------------------- entry exceptions


class EntryExceptionForm(forms.ModelForm):
    period = PeriodChoiceField()
    request_user = None

    class Meta:
        model = EntryException
        fields = ("plan", "department", "period", "open_until", "reason")

    def clean(self):
        cleaned = super().clean()
        instance = self.instance
        plan = cleaned.get("plan") or getattr(instance, "plan", None)
        department = cleaned.get("department") or getattr(instance, "department", None)
        period = cleaned.get("period") or instance.period
        if plan is None or department is None or not period or "open_until" not in cleaned:
            return cleaned
        try:
            locks.check_exception(
                self.request_user,
                plan,
                department,
                period,
                cleaned.get("open_until"),
                cleaned.get("reason"),
            )
        except locks.LockError as exc:
            raise ValidationError(exc.message) from exc
        return cleaned


@admin.register(EntryException)
class EntryExceptionAdmin(PlanDataAdmin):
    """Entry kept open after the deadline for one department and period (plan admins)."""

    form = EntryExceptionForm
    list_display = (
        "plan",
        "department",
        "period",
        "deadline",
        "open_until",
        "is_open",
        "reason",
        "created_by",
        "created_at",
    )
    list_filter = ("plan", "department", "period")
    list_select_related = ("plan", "department", "created_by")
    search_fields = ("department__name", "reason")
    autocomplete_fields = ("department",)

    def get_readonly_fields(self, request, obj=None):
        readonly = ["created_by", "created_at"]
        if obj is not None:
            readonly = ["plan", "department", "period", *readonly]
        return readonly

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"request_user": request.user})

    def save_model(self, request, obj, form, change):
        saved = locks.open_exception(
            request.user, obj.plan, obj.department, obj.period, obj.open_until, obj.reason
        )
        obj.pk = saved.pk
        obj._state.adding = False

    @admin.display(description=_("entry deadline"))
    def deadline(self, obj):
        return locks.entry_deadline(obj.plan, obj.period)

    @admin.display(description=_("open now"), boolean=True)
    def is_open(self, obj):
        return obj.open_until >= timezone.localdate()


class IndicatorInline(PolicyGoalChildInline):
    """A policy goal's indicators on its admin page (goals.admin's hook)."""

    model = Indicator
    amendable_field = "annual_target"
    fields = ("position", "code", "name", "unit", "direction", "annual_target")


add_policy_goal_inline(IndicatorInline, POLICY_GOAL_INLINE_POSITIONS["indicators"])
