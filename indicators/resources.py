from django.utils.translation import gettext_lazy as _
from import_export import fields, resources

from .models import Indicator

_PATH = "policy_goal__strategic_goal__plan_department"


class IndicatorResource(resources.ModelResource):
    fiscal_year = fields.Field(f"{_PATH}__plan__fiscal_year", _("fiscal year"))
    department = fields.Field(f"{_PATH}__name", "실국명")
    strategic_goal = fields.Field("policy_goal__strategic_goal__name", "전략목표명")
    policy_goal = fields.Field("policy_goal__name", "정책사업목표명")
    code = fields.Field("code", "지표코드")
    name = fields.Field("name", "성과지표명")
    unit = fields.Field("unit", "단위")
    direction = fields.Field("get_direction_display", "지표방향")
    annual_target = fields.Field("annual_target", "목표치")

    class Meta:
        model = Indicator
        fields = (
            "fiscal_year",
            "department",
            "strategic_goal",
            "policy_goal",
            "code",
            "name",
            "unit",
            "direction",
            "annual_target",
        )
