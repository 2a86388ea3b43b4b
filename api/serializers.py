"""What the API shows of each model: plain fields and ids, each list read with a constant
number of queries (no nested object is loaded per row)."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from goals.models import PlanDepartment, PolicyGoal, StrategicGoal
from indicators.models import Indicator, PeriodTarget, Result
from perfplan.models import DECLARED_FIGURES, ChangeLogEntry, Department, Plan


class PlanSerializer(serializers.ModelSerializer):
    class Meta:
        model = Plan
        fields = [
            "id",
            "fiscal_year",
            "title",
            "year_note",
            "published_at",
            "threshold_achieved",
            "threshold_caution",
            "entry_deadline_days",
            "allow_self_review",
            *DECLARED_FIGURES,
            "version",
            "updated_at",
        ]


class DepartmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Department
        fields = ["id", "code", "name"]


class PlanDepartmentSerializer(serializers.ModelSerializer):
    fiscal_year = serializers.IntegerField(source="plan.fiscal_year", read_only=True)

    class Meta:
        model = PlanDepartment
        fields = ["id", "plan", "fiscal_year", "department", "name", "position", *DECLARED_FIGURES]


class StrategicGoalSerializer(serializers.ModelSerializer):
    department = serializers.IntegerField(source="plan_department.department_id", read_only=True)

    class Meta:
        model = StrategicGoal
        fields = [
            "id",
            "plan_department",
            "department",
            "name",
            "budget",
            "original_budget",
            "declared_share",
            "position",
            "version",
        ]


class PolicyGoalSerializer(serializers.ModelSerializer):
    department = serializers.IntegerField(
        source="strategic_goal.plan_department.department_id", read_only=True
    )

    class Meta:
        model = PolicyGoal
        fields = ["id", "strategic_goal", "department", "name", "position", "version"]


class IndicatorSerializer(serializers.ModelSerializer):
    class Meta:
        model = Indicator
        fields = [
            "id",
            "policy_goal",
            "code",
            "name",
            "position",
            "unit",
            "direction",
            "lower_is_better_method",
            "indicator_type",
            "formula",
            "data_source",
            "baseline",
            "annual_target",
            "original_annual_target",
            "target_min",
            "target_max",
            "target_rationale",
            "weight",
            "frequency",
            "aggregation",
            "is_sample",
            "version",
        ]


class PeriodTargetSerializer(serializers.ModelSerializer):
    class Meta:
        model = PeriodTarget
        fields = ["id", "indicator", "period", "target"]


class ResultSerializer(serializers.ModelSerializer):
    class Meta:
        model = Result
        fields = [
            "id",
            "indicator",
            "period",
            "value",
            "note",
            "status",
            "return_reason",
            "edited_after_approval",
            "is_sample",
            "entered_by",
            "updated_at",
            "submitted_at",
            "submitted_by",
            "reviewed_by",
            "reviewed_at",
            "version",
        ]
        read_only_fields = fields


class ChangeLogEntrySerializer(serializers.ModelSerializer):
    object_type = serializers.SerializerMethodField()

    class Meta:
        model = ChangeLogEntry
        fields = [
            "sequence",
            "position",
            "timestamp",
            "user",
            "username",
            "request_id",
            "ip_address",
            "action",
            "object_type",
            "object_id",
            "object_repr",
            "department",
            "fiscal_year",
            "changes",
            "reason",
            "batch",
            "prev_hash",
            "hash",
        ]

    @extend_schema_field(OpenApiTypes.STR)
    def get_object_type(self, entry):
        """app_label.model, from ContentType's cache (no query per entry)."""
        if entry.content_type_id is None:
            return ""
        content_type = ContentType.objects.get_for_id(entry.content_type_id)
        return f"{content_type.app_label}.{content_type.model}"


# ---------------------------------------------------------------- writes


class CellSerializer(serializers.Serializer):
    indicator = serializers.IntegerField(help_text=_("indicator id"))
    period = serializers.CharField(
        max_length=3, help_text=_("period key: M01–M12, Q1–Q4, H1–H2, Y")
    )
    value = serializers.CharField(
        allow_null=True, allow_blank=True, help_text=_("the actual; empty or null clears it")
    )
    note = serializers.CharField(
        required=False, allow_blank=True, help_text=_("left unchanged when not sent")
    )
    version = serializers.IntegerField(
        help_text=_("the result's version the value is based on; 0: there was no result yet")
    )


class SaveRequestSerializer(serializers.Serializer):
    cells = CellSerializer(many=True, min_length=1, max_length=500)


class CellOutcomeSerializer(serializers.Serializer):
    indicator = serializers.IntegerField()
    period = serializers.CharField()
    ok = serializers.BooleanField()
    error = serializers.CharField(required=False)
    current_version = serializers.IntegerField(required=False)
    result = ResultSerializer(required=False)


class SaveAnswerSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    replayed = serializers.BooleanField()
    cells = CellOutcomeSerializer(many=True)


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(
        required=False, allow_blank=True, help_text=_("required to return or reopen")
    )


class ErrorSerializer(serializers.Serializer):
    error = serializers.CharField()
    code = serializers.CharField()
    errors = serializers.ListField(child=serializers.CharField(), required=False)
