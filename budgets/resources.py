from django.utils.translation import gettext_lazy as _
from import_export import fields, resources

from .models import UnitProgram

_PATH = "policy_goal__strategic_goal__plan_department"


class UnitProgramResource(resources.ModelResource):
    fiscal_year = fields.Field(f"{_PATH}__plan__fiscal_year", _("fiscal year"))
    department = fields.Field(f"{_PATH}__name", "실국명")
    strategic_goal = fields.Field("policy_goal__strategic_goal__name", "전략목표명")
    policy_goal = fields.Field("policy_goal__name", "정책사업목표명")
    code = fields.Field("code", "단위사업코드")
    name = fields.Field("name", "단위사업명")
    budget = fields.Field("budget", "예산액")
    prior_budget = fields.Field("prior_budget", "전년도예산액")

    class Meta:
        model = UnitProgram
        fields = (
            "fiscal_year",
            "department",
            "strategic_goal",
            "policy_goal",
            "code",
            "name",
            "budget",
            "prior_budget",
        )
