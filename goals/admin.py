import functools

from django.contrib import admin
from django.db.models import Count, Sum
from django.utils.translation import gettext_lazy as _

from perfplan.admin_base import PlanDataAdmin, count_column
from perfplan.models import DECLARED_FIGURES
from perfplan.money import share_of
from perfplan.numbers import format_amount, format_share

from .amendments import AmendmentAdminMixin, display_side_by_side, is_published
from .models import PlanDepartment, PolicyGoal, StrategicGoal
from .resources import (
    PlanDepartmentResource,
    PolicyGoalResource,
    StrategicGoalResource,
)

PLAN = "plan_department__plan"


class PublishedAmountInlineMixin:
    """In a published plan a target/budget changes only on its own form, with a reason."""

    amendable_field = None

    def parent_plan(self, obj):
        raise NotImplementedError

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None and is_published(self.parent_plan(obj)):
            readonly.append(self.amendable_field)
        return readonly


class StrategicGoalInline(PublishedAmountInlineMixin, admin.TabularInline):
    model = StrategicGoal
    amendable_field = "budget"
    fields = ("position", "name", "budget", "declared_share")
    extra = 0
    show_change_link = True

    def parent_plan(self, obj):
        return obj.plan


@admin.register(PlanDepartment)
class PlanDepartmentAdmin(PlanDataAdmin):
    resource_classes = [PlanDepartmentResource]
    list_display = (
        "name",
        "plan",
        "position",
        "goal_count",
        "policy_goal_count",
        "indicator_count",
        "budget_display",
    )
    list_filter = ("plan", "department")
    list_select_related = ("plan",)
    search_fields = ("name", "department__name")
    autocomplete_fields = ("department",)
    inlines = [StrategicGoalInline]
    fieldsets = (
        (None, {"fields": ("plan", "department", "name", "position")}),
        (
            _("Table 가 as declared"),
            {"fields": DECLARED_FIGURES},
        ),
    )

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("plan")  # __str__ shows the plan's year (autocomplete answers)
            .annotate(
                n_goals=Count("strategic_goals", distinct=True),
                n_policy_goals=Count("strategic_goals__policy_goals", distinct=True),
                n_indicators=Count("strategic_goals__policy_goals__indicators", distinct=True),
            )
            .order_by(*self.model._meta.ordering)
        )

    goal_count = count_column("n_goals", _("strategic goals"))

    policy_goal_count = count_column("n_policy_goals", _("policy program goals"))

    indicator_count = count_column("n_indicators", _("indicators"))

    @admin.display(description=_("budget (declared)"), ordering="declared_budget")
    def budget_display(self, obj):
        return format_amount(obj.declared_budget)


class PolicyGoalInline(admin.TabularInline):
    model = PolicyGoal
    fields = ("position", "name")
    extra = 0
    show_change_link = True


def plan_budget_totals():
    """Each plan's sum of strategic-goal budgets (plan id -> total), in one aggregate query."""
    return dict(
        StrategicGoal.objects.order_by()
        .values_list(PLAN)
        .annotate(total=Sum("budget"))
        .values_list(PLAN, "total")
    )


@admin.register(StrategicGoal)
class StrategicGoalAdmin(AmendmentAdminMixin, PlanDataAdmin):
    resource_classes = [StrategicGoalResource]
    list_display = (
        "name",
        "department_name",
        "fiscal_year",
        "policy_goal_count",
        "indicator_count",
        "budget_display",
        "declared_share",
        "computed_share",
        "amended_budget",
    )
    readonly_fields = ("original_budget",)
    list_filter = (PLAN, "plan_department__department")
    list_select_related = ("plan_department__plan",)
    search_fields = ("name", "plan_department__name")
    # Departments of every year: a search box, not a select that lists (and walks) them all.
    autocomplete_fields = ("plan_department",)
    inlines = [PolicyGoalInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_policy_goals=Count("policy_goals", distinct=True),
                n_indicators=Count("policy_goals__indicators", distinct=True),
            )
            .order_by(*self.model._meta.ordering)
        )

    @admin.display(description=_("department"), ordering="plan_department__name")
    def department_name(self, obj):
        return obj.plan_department.name

    @admin.display(description=_("fiscal year"), ordering=f"{PLAN}__fiscal_year")
    def fiscal_year(self, obj):
        return obj.plan_department.plan.fiscal_year

    policy_goal_count = count_column("n_policy_goals", _("policy program goals"))

    indicator_count = count_column("n_indicators", _("indicators"))

    @admin.display(description=_("budget"), ordering="budget")
    def budget_display(self, obj):
        return format_amount(obj.budget)

    @admin.display(description=_("share % (computed)"))
    def computed_share(self, obj):
        return ""  # replaced for each request by get_list_display, which sums once

    def get_list_display(self, request):
        # The plans' budget totals are summed once for the page, when the column first asks.
        totals = functools.cache(plan_budget_totals)

        @admin.display(description=_("share % (computed)"))
        def computed_share(obj):
            total = totals().get(obj.plan_department.plan_id)
            return format_share(share_of(obj.budget, total))

        display = super().get_list_display(request)
        return [computed_share if name == "computed_share" else name for name in display]

    @admin.display(description=_("budget amended (original → revised)"))
    def amended_budget(self, obj):
        return display_side_by_side(obj, "budget")


class PolicyGoalChildInline(PublishedAmountInlineMixin, admin.TabularInline):
    """Rows under a policy goal (indicators, unit programs) on its admin page."""

    extra = 0
    show_change_link = True

    def parent_plan(self, obj):
        return obj.strategic_goal.plan_department.plan


@admin.register(PolicyGoal)
class PolicyGoalAdmin(PlanDataAdmin):
    resource_classes = [PolicyGoalResource]
    list_display = (
        "name",
        "strategic_goal",
        "department_name",
        "fiscal_year",
        "indicator_count",
        "unit_program_count",
    )
    list_filter = (PolicyGoal.scope.plan, PolicyGoal.scope.department)
    list_select_related = (PolicyGoal.scope.plan,)
    search_fields = ("name", "strategic_goal__name")
    autocomplete_fields = ("strategic_goal",)  # goals of every year: a search box
    inlines = []  # filled by add_policy_goal_inline

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_indicators=Count("indicators", distinct=True),
                n_unit_programs=Count("unit_programs", distinct=True),
            )
            .order_by(*self.model._meta.ordering)
        )

    @admin.display(
        description=_("department"), ordering=f"{PolicyGoal.scope.to(PlanDepartment)}__name"
    )
    def department_name(self, obj):
        return obj.strategic_goal.plan_department.name

    @admin.display(description=_("fiscal year"))
    def fiscal_year(self, obj):
        return obj.strategic_goal.plan_department.plan.fiscal_year

    indicator_count = count_column("n_indicators", _("indicators"))

    unit_program_count = count_column("n_unit_programs", _("unit programs"))


# Indicators and unit programs live in apps above goals, which goals may not import (the
# layers contract in .importlinter): their admins add them to the policy goal's page.
# Positions fix the page's order whatever order the apps load in.
POLICY_GOAL_INLINE_POSITIONS = {"indicators": 0, "unit_programs": 1}
_policy_goal_inlines = {}  # position -> inline class


def add_policy_goal_inline(inline, position):
    """Show `inline` on the policy goal's admin page at `position` (one of
    POLICY_GOAL_INLINE_POSITIONS' values); indicators.admin and budgets.admin call it."""
    _policy_goal_inlines[position] = inline
    PolicyGoalAdmin.inlines = [_policy_goal_inlines[p] for p in sorted(_policy_goal_inlines)]
