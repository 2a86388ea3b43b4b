"""The tracking filters' fast choice lists give what Django's own would (bench/tracking_views.py)."""

import pytest
from django import forms
from django.utils.translation import gettext_lazy

from goals.models import PlanDepartment, PolicyGoal
from goals.tests.factories import make_plan
from indicators.filters import FastSelect, NameChoiceField

CHOICES = [
    ("", gettext_lazy("All")),
    (1, '실국 <하나> & "둘"'),
    ("2", "O'Brien"),
    (3, "셋"),
]


@pytest.mark.parametrize("value", [None, "", 1, "2", "3", "99", ["2"]])
@pytest.mark.parametrize(
    "attrs", [None, {"id": "id_department"}, {"id": "id_x", "data-flag": True, "hidden": False}]
)
def test_fast_select_writes_what_djangos_select_writes(value, attrs):
    expected = forms.Select(choices=CHOICES).render("department", value, attrs)
    assert FastSelect(choices=CHOICES).render("department", value, attrs) == expected


GROUPED = [
    ("", "All"),
    (gettext_lazy("monthly (월)"), [("M01", "1월 <M01>"), ("M02", "2월")]),
    ("Quarters", [("Q1", "Q1"), ("Q2", "Q2"), (None, "none")]),
    ("Y", "연간"),
]


@pytest.mark.parametrize("value", [None, "", "M02", "Q2", "Y", "None"])
def test_option_groups_are_written_as_django_writes_them(value):
    expected = forms.Select(choices=GROUPED).render("period", value, {"id": "id_period"})
    assert FastSelect(choices=GROUPED).render("period", value, {"id": "id_period"}) == expected


def test_multiple_selection_is_left_to_django():
    widget, reference = FastSelect(choices=CHOICES), forms.Select(choices=CHOICES)
    widget.allow_multiple_selected = reference.allow_multiple_selected = True
    assert widget.render("d", ["1", "3"]) == reference.render("d", ["1", "3"])


@pytest.mark.django_db
def test_name_choices_are_the_values_and_names_a_model_choice_field_gives():
    plan = make_plan(2031, departments=3, goals=1, policy_goals=2, indicators=1)
    departments = PlanDepartment.objects.filter(plan=plan).order_by("position")
    named = NameChoiceField(queryset=departments, to_field_name="department_id", empty_label="All")
    django = forms.ModelChoiceField(
        queryset=departments, to_field_name="department_id", empty_label="All"
    )
    django.label_from_instance = lambda entry: entry.name  # not __str__, which adds the year
    assert [(str(v), str(label)) for v, label in named.choices] == [
        (str(v), str(label)) for v, label in django.choices
    ]
    assert [str(v) for v, _label in named.choices][1:] == [
        str(d.department_id) for d in departments
    ]
    goals = PolicyGoal.objects.filter(strategic_goal__plan_department__plan=plan).order_by("id")
    named = NameChoiceField(queryset=goals, empty_label=None)
    assert [(str(v), label) for v, label in named.choices] == [(str(g.pk), str(g)) for g in goals]
    assert named.clean(str(goals[0].pk)) == goals[0]  # validation still loads the record
