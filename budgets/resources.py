from import_export import fields

from goals.resources import UnderPolicyGoalResource

from .models import UnitProgram


class UnitProgramResource(UnderPolicyGoalResource):
    code = fields.Field("code", "단위사업코드")
    name = fields.Field("name", "단위사업명")
    budget = fields.Field("budget", "예산액")
    prior_budget = fields.Field("prior_budget", "전년도예산액")

    class Meta:
        model = UnitProgram
        fields = (*UnderPolicyGoalResource.PATH_FIELDS, "code", "name", "budget", "prior_budget")
