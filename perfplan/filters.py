"""Filters of the core's lists for the API: plans, departments, the change log. The change
log's are those of its admin list (department, user, object type, action, date)."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from .models import ChangeLogEntry, Department, Plan


class PlanFilter(django_filters.FilterSet):
    year = django_filters.NumberFilter(label=_("fiscal year"), field_name="fiscal_year")
    published = django_filters.BooleanFilter(
        label=_("published"), field_name="published_at", lookup_expr="isnull", exclude=True
    )

    class Meta:
        model = Plan
        fields = []


class DepartmentFilter(django_filters.FilterSet):
    year = django_filters.NumberFilter(
        label=_("fiscal year"), field_name="plan_entries__plan__fiscal_year"
    )
    code = django_filters.CharFilter(label=_("code"))

    class Meta:
        model = Department
        fields = []


class ChangeLogFilter(django_filters.FilterSet):
    department = django_filters.NumberFilter(label=_("department"), field_name="department_id")
    user = django_filters.NumberFilter(label=_("user"), field_name="user_id")
    object_type = django_filters.CharFilter(
        label=_("object type"), method="filter_object_type", help_text="app_label.model"
    )
    object_id = django_filters.CharFilter(label=_("object id"))
    action = django_filters.ChoiceFilter(label=_("action"), choices=ChangeLogEntry.Action.choices)
    year = django_filters.NumberFilter(label=_("fiscal year"), field_name="fiscal_year")
    since = django_filters.IsoDateTimeFilter(
        label=_("changed since"), field_name="timestamp", lookup_expr="gte"
    )
    until = django_filters.IsoDateTimeFilter(
        label=_("changed before"), field_name="timestamp", lookup_expr="lt"
    )

    class Meta:
        model = ChangeLogEntry
        fields = []

    def filter_object_type(self, queryset, name, value):
        from django.contrib.contenttypes.models import ContentType

        app_label, _sep, model = value.lower().partition(".")
        try:
            content_type = ContentType.objects.get_by_natural_key(app_label, model)
        except ContentType.DoesNotExist:
            return queryset.none()
        return queryset.filter(content_type_id=content_type.pk)
