"""Filters of the tracking views, with their state in the URL (GET) so a view can be shared.

Every choice list is narrowed by perfplan.scoping.restrict: a department, goal or plan the
user may not see is not offered, and its id in a URL is refused as an invalid choice. Status
is computed: the grid applies it to its rows after tracking.rows.tracking_rows (`filter_rows`),
the overview to the indicators' stored standings (indicators.standing).
"""

from __future__ import annotations

import django_filters
import django_filters.fields
from django import forms
from django.db.models import Q
from django.forms.models import ModelChoiceIteratorValue
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from goals.models import PlanDepartment, PolicyGoal, StrategicGoal
from perfplan.filters import narrowed_by_range
from perfplan.html import escape
from perfplan.models import Plan
from perfplan.scoping import restrict

from .models import (
    Direction,
    Frequency,
    Indicator,
    IndicatorType,
    PeriodTarget,
    Result,
    ResultStatus,
)

ALL = _("All")
# A goal list longer than this is offered once a department (or strategic goal) narrows
# it: a national plan has 750 strategic and 2,500 policy goals, too many for one select.
LONG_LIST = 300


class NameChoiceIterator(django_filters.fields.ModelChoiceIterator):
    """The choices of a department or goal filter, read as (value, name) rows.

    Labels are the `name` column: a goal's name (its __str__) and a department's name in
    that year's plan (PlanDepartment.__str__ would add the year). No model instance per
    option: a plan admin is offered every goal of the plan (2,500 at national scale).
    """

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        if self.field.null_label is not None:
            yield (self.field.null_value, self.field.null_label)
        key = self.field.to_field_name or "pk"
        for value, name in self.queryset.values_list(key, "name"):
            yield (ModelChoiceIteratorValue(value, None), name)


class NameChoiceField(django_filters.fields.ModelChoiceField):
    iterator = NameChoiceIterator


class NameChoiceFilter(django_filters.ModelChoiceFilter):
    """A ModelChoiceFilter listing its choices by name, in a FastSelect."""

    field_class = NameChoiceField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", FastSelect)
        super().__init__(*args, **kwargs)


class FastSelect(forms.Select):
    """Django's select, the same markup, written without a template per option.

    A plan admin's goal filters list every goal of the plan (2,500 policy goals at national
    scale): one template render per option took some 200 ms a page. Multiple selection is
    left to Django.
    """

    def render(self, name, value, attrs=None, renderer=None):
        if self.allow_multiple_selected:
            return super().render(name, value, attrs, renderer)
        values = self.format_value(value)
        selected_one = False
        parts = []

        def option(option_value, label):
            nonlocal selected_one
            option_value = str(option_value)
            selected = not selected_one and option_value in values
            selected_one |= selected
            parts.append(
                f'\n  <option value="{escape(option_value)}"'
                f"{' selected' if selected else ''}>{escape(label)}</option>\n"
            )

        for option_value, label in self.choices:  # iterated once: no COUNT of a queryset
            if option_value is None:
                option_value = ""
            if isinstance(label, (list, tuple)):  # an option group, as optgroups() reads it
                if option_value:
                    parts.append(f'\n  <optgroup label="{escape(option_value)}">')
                for sub_value, sub_label in label:
                    option(sub_value, sub_label)
                if option_value:
                    parts.append("\n  </optgroup>")
            else:
                option(option_value, label)
        attributes = "".join(
            f" {key}" if item is True else f' {key}="{escape(str(item))}"'
            for key, item in self.build_attrs(self.attrs, attrs).items()
            if item is not False
        )
        return mark_safe(f'<select name="{escape(name)}"{attributes}>{"".join(parts)}\n</select>')


class TrackingFilter(django_filters.FilterSet):
    year = django_filters.ChoiceFilter(
        label=_("fiscal year"), method="keep", empty_label=None, widget=FastSelect
    )
    department = NameChoiceFilter(
        label=_("department"),
        empty_label=ALL,
        queryset=PlanDepartment.objects.none(),
        to_field_name="department_id",
        method="filter_department",
    )
    strategic_goal = NameChoiceFilter(
        label=_("strategic goal"),
        empty_label=ALL,
        queryset=StrategicGoal.objects.none(),
        field_name="policy_goal__strategic_goal",
    )
    policy_goal = NameChoiceFilter(
        label=_("policy program goal"),
        empty_label=ALL,
        queryset=PolicyGoal.objects.none(),
        field_name="policy_goal",
    )
    status = django_filters.ChoiceFilter(
        label=_("status"), method="keep", empty_label=ALL, widget=FastSelect
    )
    direction = django_filters.ChoiceFilter(
        label=_("direction"), choices=Direction.choices, empty_label=ALL, widget=FastSelect
    )
    indicator_type = django_filters.ChoiceFilter(
        label=_("indicator type"),
        choices=IndicatorType.choices,
        empty_label=ALL,
        widget=FastSelect,
    )
    frequency = django_filters.ChoiceFilter(
        label=_("measurement frequency"),
        choices=Frequency.choices,
        method="filter_frequency",
        empty_label=ALL,
        widget=FastSelect,
    )
    period = django_filters.ChoiceFilter(
        label=_("period"), method="filter_period", empty_label=ALL, widget=FastSelect
    )
    q = django_filters.CharFilter(label=_("search"), method="filter_text")

    class Meta:
        model = Indicator
        fields = []

    def __init__(self, data=None, queryset=None, *, request, plan, plans=None):
        super().__init__(data, queryset, request=request)
        from .periods import PERIOD_KEYS, periods_for
        from .tracking.rules import STATUS_LABELS

        user = request.user
        self.plan = plan
        plans = plans if plans is not None else restrict(Plan.objects.all(), user)
        self.filters["year"].extra["choices"] = [(p.fiscal_year, p.fiscal_year) for p in plans]
        self.filters["department"].queryset = restrict(
            PlanDepartment.objects.filter(plan=plan), user
        ).order_by("position", "id")
        department, goal = self._chosen("department"), self._chosen("strategic_goal")
        self._offer(
            "strategic_goal",
            restrict(StrategicGoal.objects.in_plan(plan), user).order_by(
                "plan_department__position", "position", "id"
            ),
            Q(plan_department__department_id=department) if department else None,
            _("All (choose a department to list them)"),
        )
        if goal:
            narrower = Q(strategic_goal_id=goal)
        elif department:
            narrower = Q(**{PolicyGoal.scope.department: department})
        else:
            narrower = None
        self._offer(
            "policy_goal",
            restrict(PolicyGoal.objects.in_plan(plan), user).order_by(
                f"{PolicyGoal.scope.to(PlanDepartment)}__position",
                "strategic_goal__position",
                "strategic_goal_id",
                "position",
                "id",
            ),
            narrower,
            _("All (choose a department or strategic goal to list them)"),
        )
        self.filters["status"].extra["choices"] = list(STATUS_LABELS.items())
        year = plan.fiscal_year if plan else 2000
        self.filters["period"].extra["choices"] = [
            (
                Frequency(frequency).label,
                [(p.key, str(p.label)) for p in periods_for(frequency, year)],
            )
            for frequency in PERIOD_KEYS
        ]

    def _chosen(self, name):
        """The id given for a filter (not validated yet), or None."""
        try:
            return int((self.data or {}).get(name) or 0) or None
        except (TypeError, ValueError):
            return None

    def _offer(self, name, goals, narrower, long_label):
        """Offer `goals` in a goal filter: narrowed by the department or goal chosen, or, when
        nothing narrows a list longer than LONG_LIST, only the one selected (the label says
        how to list them). The value a URL gives stays valid whenever `goals` has it."""
        selected = Q(pk=self._chosen(name))
        if narrower is not None:
            goals = goals.filter(narrower | selected)
        elif len(goals.order_by().values_list("pk", flat=True)[: LONG_LIST + 1]) > LONG_LIST:
            goals = goals.filter(selected)
            self.filters[name].extra["empty_label"] = long_label
        self.filters[name].queryset = goals

    # -------------------------------------------------------------- queryset filters

    def keep(self, queryset, name, value):
        """Applied elsewhere (year picks the plan; status and period apply to rows)."""
        return queryset

    def filter_department(self, queryset, name, value):
        return queryset.under(PlanDepartment, value)

    def filter_frequency(self, queryset, name, value):
        if value == Frequency.YEARLY:  # a blank frequency is read as yearly
            return queryset.filter(Q(frequency=value) | Q(frequency=""))
        return queryset.filter(frequency=value)

    def filter_period(self, queryset, name, value):
        """Indicators that have this period: those of the frequency its key belongs to."""
        from .periods import FREQUENCY_OF_KEY

        return self.filter_frequency(queryset, name, FREQUENCY_OF_KEY[value])

    def filter_text(self, queryset, name, value):
        words = value.split()
        for word in words:
            queryset = queryset.filter(
                Q(name__icontains=word)
                | Q(code__icontains=word)
                | Q(policy_goal__name__icontains=word)
                | Q(policy_goal__strategic_goal__name__icontains=word)
            )
        return queryset

    # -------------------------------------------------------------- computed filters

    def _value(self, name):
        if not self.is_bound or not self.is_valid():
            return None
        return self.form.cleaned_data.get(name) or None

    @property
    def status_value(self):
        return self._value("status")

    @property
    def period_value(self):
        return self._value("period")

    def filter_rows(self, rows):
        """Rows whose computed status, and whose periods, match the filter."""
        status, period = self.status_value, self.period_value
        if status:
            rows = [row for row in rows if row.status == status]
        if period:
            rows = [row for row in rows if any(c.period.key == period for c in row.cells)]
        return rows

    def narrows_indicators(self):
        """A filter besides the year and the status (which apply to computed figures); an
        invalid filter narrows to nothing."""
        if not self.is_bound:
            return False
        if not self.is_valid():
            return True
        return any(v for k, v in self.form.cleaned_data.items() if k not in ("year", "status"))

    def is_filtered(self):
        if not self.is_bound or not self.is_valid():
            return False
        return any(v for k, v in self.form.cleaned_data.items() if k != "year")


# ---------------------------------------------------------------- the API's lists
# The tracking screens filter indicators (TrackingFilter, above); the results and period
# targets lists filter by the same hierarchy, through each model's declared scope.


class ResultFilter(django_filters.FilterSet):
    year = django_filters.NumberFilter(label=_("fiscal year"), method="filter_year")
    department = django_filters.NumberFilter(label=_("department"), method="filter_department")
    indicator = django_filters.NumberFilter(label=_("indicator"))
    period = django_filters.CharFilter(label=_("period"))
    status = django_filters.ChoiceFilter(label=_("status"), choices=ResultStatus.choices)
    updated_since = django_filters.IsoDateTimeFilter(
        label=_("updated since"), field_name="updated_at", lookup_expr="gte"
    )

    class Meta:
        model = Result
        fields = []

    def filter_year(self, queryset, name, value):
        year = int(value)
        return narrowed_by_range(queryset, Indicator, year, queryset.in_year(year))

    def filter_department(self, queryset, name, value):
        return queryset.of_departments([int(value)])


class PeriodTargetFilter(django_filters.FilterSet):
    year = django_filters.NumberFilter(label=_("fiscal year"), method="filter_year")
    department = django_filters.NumberFilter(label=_("department"), method="filter_department")
    indicator = django_filters.NumberFilter(label=_("indicator"))
    period = django_filters.CharFilter(label=_("period"))

    class Meta:
        model = PeriodTarget
        fields = []

    filter_year = ResultFilter.filter_year
    filter_department = ResultFilter.filter_department
