from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from goals.admin import POLICY_GOAL_INLINE_POSITIONS, PolicyGoalChildInline, add_policy_goal_inline
from goals.amendments import AmendmentAdminMixin, display_side_by_side
from goals.models import PlanDepartment
from perfplan.admin_base import PlanDataAdmin
from perfplan.numbers import format_amount

from .models import UnitProgram
from .resources import UnitProgramResource

SCOPE = UnitProgram.scope


@admin.register(UnitProgram)
class UnitProgramAdmin(AmendmentAdminMixin, PlanDataAdmin):
    resource_classes = [UnitProgramResource]
    list_display = (
        "name",
        "code",
        "policy_goal",
        "department_name",
        "budget_display",
        "prior_budget_display",
        "change_display",
        "amended_budget",
    )
    readonly_fields = ("original_budget",)
    list_filter = (SCOPE.plan, SCOPE.department)
    list_select_related = (SCOPE.plan,)
    search_fields = ("name", "code", "policy_goal__name")
    autocomplete_fields = ("policy_goal",)

    @admin.display(description=_("department"), ordering=f"{SCOPE.to(PlanDepartment)}__name")
    def department_name(self, obj):
        return obj.policy_goal.strategic_goal.plan_department.name

    @admin.display(description=_("budget"), ordering="budget")
    def budget_display(self, obj):
        return format_amount(obj.budget)

    @admin.display(description=_("prior-year budget"), ordering="prior_budget")
    def prior_budget_display(self, obj):
        return format_amount(obj.prior_budget)

    @admin.display(description=_("change"))
    def change_display(self, obj):
        return format_amount(obj.change)

    @admin.display(description=_("budget amended (original → revised)"))
    def amended_budget(self, obj):
        return display_side_by_side(obj, "budget")


class UnitProgramInline(PolicyGoalChildInline):
    """A policy goal's unit programs on its admin page (goals.admin's hook)."""

    model = UnitProgram
    amendable_field = "budget"
    fields = ("position", "code", "name", "budget", "prior_budget")


add_policy_goal_inline(UnitProgramInline, POLICY_GOAL_INLINE_POSITIONS["unit_programs"])
