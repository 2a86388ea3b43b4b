"""The policy goal's admin page: indicators, then unit programs, added by their own apps."""

from django.contrib import admin

from budgets.admin import UnitProgramInline
from goals import admin as goals_admin
from goals.models import PolicyGoal
from indicators.admin import IndicatorInline


def test_the_policy_goal_page_lists_indicators_then_unit_programs():
    assert admin.site._registry[PolicyGoal].inlines == [IndicatorInline, UnitProgramInline]


def test_positions_not_the_apps_load_order_decide(monkeypatch):
    monkeypatch.setattr(goals_admin, "_policy_goal_inlines", {})
    monkeypatch.setattr(goals_admin.PolicyGoalAdmin, "inlines", [])
    positions = goals_admin.POLICY_GOAL_INLINE_POSITIONS
    goals_admin.add_policy_goal_inline(UnitProgramInline, positions["unit_programs"])
    assert goals_admin.PolicyGoalAdmin.inlines == [UnitProgramInline]
    goals_admin.add_policy_goal_inline(IndicatorInline, positions["indicators"])
    assert goals_admin.PolicyGoalAdmin.inlines == [IndicatorInline, UnitProgramInline]
