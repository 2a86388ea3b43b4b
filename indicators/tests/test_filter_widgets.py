"""The tracking filters' fast choice lists give what Django's own would (bench/tracking_views.py)."""

import pytest
from django import forms
from django.utils import translation
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
    goals = PolicyGoal.objects.in_plan(plan).order_by("id")
    named = NameChoiceField(queryset=goals, empty_label=None)
    assert [(str(v), label) for v, label in named.choices] == [(str(g.pk), str(g)) for g in goals]
    assert named.clean(str(goals[0].pk)) == goals[0]  # validation still loads the record


@pytest.mark.django_db
def test_long_goal_lists_wait_for_a_department(monkeypatch, rf, django_user_model):
    """Over LONG_LIST goals, a goal filter lists nothing until a department or strategic goal
    narrows it (and says so); a goal given in a URL stays valid either way."""
    from goals.models import StrategicGoal
    from indicators import filters
    from indicators.models import Indicator

    plan = make_plan(2031, departments=3, goals=2, policy_goals=2, indicators=1)
    user = django_user_model.objects.create_superuser("admin")
    monkeypatch.setattr(filters, "LONG_LIST", 4)  # 6 strategic goals, 12 policy goals

    def offered(**data):
        request = rf.get("/", data)
        request.user = user
        data = {"year": "2031", **data}
        filterset = filters.TrackingFilter(
            data, Indicator.objects.all(), request=request, plan=plan
        )
        assert filterset.is_valid(), filterset.errors
        form = filterset.form
        with translation.override("en"):
            return {
                name: [str(label) for _v, label in form.fields[name].choices]
                for name in ("strategic_goal", "policy_goal")
            }

    everything = offered()
    assert everything["strategic_goal"] == ["All (choose a department to list them)"]
    assert everything["policy_goal"] == ["All (choose a department or strategic goal to list them)"]
    department = PlanDepartment.objects.filter(plan=plan).order_by("position")[1]
    narrowed = offered(department=str(department.department_id))
    assert narrowed["strategic_goal"] == ["All", "전략목표 1-0", "전략목표 1-1"]
    assert len(narrowed["policy_goal"]) == 1 + 4
    goal = StrategicGoal.objects.get(plan_department=department, name="전략목표 1-1")
    by_goal = offered(strategic_goal=str(goal.pk))
    assert by_goal["policy_goal"] == ["All", "정책사업목표 1-1-0", "정책사업목표 1-1-1"]
    assert by_goal["strategic_goal"] == ["All (choose a department to list them)", goal.name]
    policy_goal = PolicyGoal.objects.in_plan(plan).last()
    chosen = offered(policy_goal=str(policy_goal.pk))  # a bookmarked URL
    assert chosen["policy_goal"][1:] == [policy_goal.name]
    monkeypatch.setattr(filters, "LONG_LIST", 300)  # a district's plan: everything listed
    assert len(offered()["policy_goal"]) == 1 + 12
