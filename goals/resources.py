"""django-import-export resources: what the admin's per-list export writes.

Whole plans go in and out through perfplan.planfiles (tables, importer, exports: the plan
tables); these resources export the rows an admin selected on a list page, with the same
Korean headers and formula-escaped formats (perfplan.formats).
"""

from django.utils.translation import gettext_lazy as _
from import_export import fields, resources

from perfplan.models import DECLARED_FIGURES

from .models import PlanDepartment, PolicyGoal, StrategicGoal


class PlanDepartmentResource(resources.ModelResource):
    fiscal_year = fields.Field("plan__fiscal_year", _("fiscal year"))
    name = fields.Field("name", "실국명")
    declared_strategic_goals = fields.Field("declared_strategic_goals", "전략목표수")
    declared_policy_goals = fields.Field("declared_policy_goals", "정책사업목표 개수")
    declared_indicators = fields.Field("declared_indicators", "지표수")
    declared_unit_programs = fields.Field("declared_unit_programs", "단위사업수")
    declared_budget = fields.Field("declared_budget", "예산액")
    declared_prior_budget = fields.Field("declared_prior_budget", "전년도예산액")
    declared_change = fields.Field("declared_change", "비교증감")

    class Meta:
        model = PlanDepartment
        fields = ("fiscal_year", "name", *DECLARED_FIGURES)

    def get_queryset(self):
        return super().get_queryset().select_related("plan")


class StrategicGoalResource(resources.ModelResource):
    fiscal_year = fields.Field("plan_department__plan__fiscal_year", _("fiscal year"))
    department = fields.Field("plan_department__name", "실국명")
    name = fields.Field("name", "전략목표명")
    budget = fields.Field("budget", "예산액(백만원)")
    declared_share = fields.Field("declared_share", "비중(%)")

    class Meta:
        model = StrategicGoal
        fields = ("fiscal_year", "department", "name", "budget", "declared_share")


class PolicyGoalResource(resources.ModelResource):
    fiscal_year = fields.Field(PolicyGoal.scope.year, _("fiscal year"))
    department = fields.Field(f"{PolicyGoal.scope.to(PlanDepartment)}__name", "실국명")
    strategic_goal = fields.Field("strategic_goal__name", "전략목표명")
    name = fields.Field("name", "정책사업목표명")

    class Meta:
        model = PolicyGoal
        fields = ("fiscal_year", "department", "strategic_goal", "name")


class UnderPolicyGoalResource(resources.ModelResource):
    """Rows filed under a policy goal (indicators, unit programs): its path comes first."""

    PATH_FIELDS = ("fiscal_year", "department", "strategic_goal", "policy_goal")
    fiscal_year = fields.Field(f"policy_goal__{PolicyGoal.scope.year}", _("fiscal year"))
    department = fields.Field(f"policy_goal__{PolicyGoal.scope.to(PlanDepartment)}__name", "실국명")
    strategic_goal = fields.Field("policy_goal__strategic_goal__name", "전략목표명")
    policy_goal = fields.Field("policy_goal__name", "정책사업목표명")
