from import_export import fields

from goals.resources import UnderPolicyGoalResource

from .models import Indicator


class IndicatorResource(UnderPolicyGoalResource):
    code = fields.Field("code", "지표코드")
    name = fields.Field("name", "성과지표명")
    unit = fields.Field("unit", "단위")
    direction = fields.Field("get_direction_display", "지표방향")
    annual_target = fields.Field("annual_target", "목표치")

    class Meta:
        model = Indicator
        fields = (
            *UnderPolicyGoalResource.PATH_FIELDS,
            "code",
            "name",
            "unit",
            "direction",
            "annual_target",
        )
