"""Filters of the plan hierarchy's lists (the API's; the admin lists filter by the same
fields): by fiscal year and department, through each model's declared scope."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from perfplan.filters import narrowed_by_range

from .models import PlanDepartment, PolicyGoal, StrategicGoal


class InPlanFilter(django_filters.FilterSet):
    """year: the plan's fiscal year; department: the Department id (any year)."""

    year = django_filters.NumberFilter(label=_("fiscal year"), method="filter_year")
    department = django_filters.NumberFilter(label=_("department"), method="filter_department")

    def filter_year(self, queryset, name, value):
        return queryset.in_year(int(value))

    def filter_department(self, queryset, name, value):
        return queryset.of_departments([int(value)])


class PlanDepartmentFilter(InPlanFilter):
    class Meta:
        model = PlanDepartment
        fields = []


class StrategicGoalFilter(InPlanFilter):
    plan_department = django_filters.NumberFilter(label=_("plan department"))

    class Meta:
        model = StrategicGoal
        fields = []


class PolicyGoalFilter(InPlanFilter):
    strategic_goal = django_filters.NumberFilter(label=_("strategic goal"))

    class Meta:
        model = PolicyGoal
        fields = []

    def filter_year(self, queryset, name, value):
        year = int(value)
        return narrowed_by_range(queryset, PolicyGoal, year, queryset.in_year(year))
