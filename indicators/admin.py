from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from perfplan.admin_base import PlanDataAdmin

from .models import Indicator
from .resources import IndicatorResource

DEPT = "policy_goal__strategic_goal__plan_department"


@admin.register(Indicator)
class IndicatorAdmin(PlanDataAdmin):
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
    )
    list_filter = (
        f"{DEPT}__plan",
        f"{DEPT}__department",
        "direction",
        "indicator_type",
        "frequency",
    )
    list_select_related = (f"{DEPT}__plan",)
    search_fields = ("name", "code", "policy_goal__name")
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
                    "target_min",
                    "target_max",
                    "target_rationale",
                )
            },
        ),
    )
    autocomplete_fields = ("policy_goal",)

    @admin.display(description=_("strategic goal"), ordering="policy_goal__strategic_goal__name")
    def strategic_goal(self, obj):
        return obj.policy_goal.strategic_goal.name

    @admin.display(description=_("department"), ordering=f"{DEPT}__name")
    def department_name(self, obj):
        return obj.policy_goal.strategic_goal.plan_department.name

    @admin.display(description=_("fiscal year"), ordering=f"{DEPT}__plan__fiscal_year")
    def fiscal_year(self, obj):
        return obj.policy_goal.strategic_goal.plan_department.plan.fiscal_year
