"""The seed plan, loaded through the import pipeline, against the source document."""

import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from goals.models import PlanDepartment, PolicyGoal, StrategicGoal
from goals.tests.factories import load_seed
from indicators.models import Direction, Indicator
from perfplan.planfiles.summary import hierarchy, plan_as_json, reconcile_plan

pytestmark = pytest.mark.django_db
SOURCE = Path(settings.BASE_DIR) / "fixtures" / "source" / "000_b531d227c4430c07.txt"

DEPARTMENTS = [
    "의회사무국",
    "기획실",
    "홍보실",
    "감사담당관",
    "총무국",
    "복지환경국",
    "경제문화국",
    "안전도시국",
    "도시재생추진단",
    "보건소",
    "동주민센터",
]
# Per department: (policy goals, indicators) as listed in table 나, budget and share.
LISTED = {
    "의회사무국": (1, 2, "948", "0.28"),
    "기획실": (1, 4, "1234", "0.36"),
    "홍보실": (1, 3, "478", "0.14"),
    "감사담당관": (1, 3, "103", "0.03"),
    "총무국": (10, 30, "17320", "5.09"),
    "복지환경국": (18, 42, "261863", "76.97"),
    "경제문화국": (14, 32, "14660", "4.31"),
    "안전도시국": (12, 26, "26685", "7.84"),
    "도시재생추진단": (1, 2, "4361", "1.28"),
    "보건소": (7, 24, "12573", "3.70"),
}


def squeeze(text):
    return re.sub(r"\s", "", text)


def test_departments_goals_and_indicators_as_listed():
    plan = load_seed()
    assert [d.name for d in PlanDepartment.objects.filter(plan=plan)] == DEPARTMENTS
    for name, (pgs, inds, budget, share) in LISTED.items():
        goals = StrategicGoal.objects.filter(plan_department__plan=plan, plan_department__name=name)
        assert goals.count() == 1, name
        goal = goals.get()
        assert goal.budget == Decimal(budget), name
        assert goal.declared_share == Decimal(share), name
        assert PolicyGoal.objects.filter(strategic_goal=goal).count() == pgs, name
        assert Indicator.objects.filter(policy_goal__strategic_goal=goal).count() == inds, name
    assert not StrategicGoal.objects.filter(plan_department__name="동주민센터").exists()
    assert Indicator.objects.count() == 168
    assert PolicyGoal.objects.count() == 66


def test_every_name_is_printed_in_the_source_in_order():
    """Names come out exactly as printed (whitespace aside) and in the source's order."""
    plan = load_seed()
    source = squeeze(SOURCE.read_text(encoding="utf-8"))
    position = 0
    for row in hierarchy(plan):
        goal = row.strategic_goal
        assert squeeze(goal.name) in source
        for pg in goal.policy_goals.all():
            assert squeeze(pg.name) in source, pg.name
            for indicator in pg.indicators.all():
                found = source.find(squeeze(indicator.name), position)
                assert found >= 0, indicator.name
                position = found
    names = set(Indicator.objects.values_list("name", flat=True))
    assert "공동주택음식물쓰레기세대별발생량감량실적(하양지표)" in names
    assert "활력 넘치는 건강도시 사업 실적(%)" in names
    assert "효율적이고 체계적인 관리를 통해 쾌적한 체육공원을 조성한다." in set(
        PolicyGoal.objects.values_list("name", flat=True)
    )


def test_misprinted_lower_is_better_indicator_loads_as_lower():
    load_seed()
    lower = Indicator.objects.filter(direction=Direction.LOWER)
    assert list(lower.values_list("name", flat=True)) == [
        "공동주택음식물쓰레기세대별발생량감량실적(하양지표)"
    ]


def test_computed_shares_reproduce_the_printed_column():
    plan = load_seed()
    rows = hierarchy(plan)
    assert len(rows) == 10
    for row in rows:
        assert row.share == row.strategic_goal.declared_share
        assert not row.share_differs


def test_exactly_the_sources_differences_are_flagged():
    plan = load_seed()
    recon = reconcile_plan(plan)
    found = {
        (d["department"], d["field"], d["declared"], d["computed"]) for d in recon.discrepancies()
    }
    assert found == {
        ("경제문화국", "indicators", 37, 32),
        ("보건소", "change", Decimal(-177), Decimal(-178)),
        ("계", "indicators", 173, 168),
        ("계", "budget", Decimal(448151), Decimal(448150)),
    }
    # Unit programs are only counted by the source, so never compared.
    assert recon.total.computed.unit_programs is None
    assert recon.total.declared.unit_programs == 189


def test_declared_figures_are_kept_as_printed():
    plan = load_seed()
    assert plan.declared() == {
        "strategic_goals": 10,
        "policy_goals": 66,
        "indicators": 173,
        "unit_programs": 189,
        "budget": Decimal(448151),
        "prior_budget": Decimal(417169),
        "change": Decimal(30982),
    }
    health = PlanDepartment.objects.get(plan=plan, name="보건소")
    assert health.declared_change == Decimal(-177)
    general = PlanDepartment.objects.get(plan=plan, name="총무국")
    assert general.declared_change == Decimal(-2228)


def test_json_export_reproduces_both_tables(tmp_path):
    load_seed(2026)
    out = tmp_path / "plan.json"
    call_command("export_plan", "--year", "2026", "--format", "json", "-o", str(out))
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["year"] == 2026
    assert [d["name"] for d in data["departments"]] == DEPARTMENTS
    council = data["departments"][0]
    assert council["declared"] == {
        "strategic_goals": 1,
        "policy_goals": 1,
        "indicators": 2,
        "unit_programs": 3,
        "budget": 1314,
        "prior_budget": 1214,
        "change": 100,
    }
    assert council["computed"] == {
        "strategic_goals": 1,
        "policy_goals": 1,
        "indicators": 2,
        "unit_programs": None,
        "budget": None,
        "change": 100,
    }
    goal = council["strategic_goals"][0]
    assert goal["budget"] == 948 and goal["share_pct"] == 0.28
    assert [i["name"] for i in goal["policy_goals"][0]["indicators"]] == [
        "의원 전문교육 및 위탁연수 참석율",
        "자매결연의회와의 합동수련회 추진",
    ]
    assert data["total"]["declared"]["budget"] == 448151
    assert data["total"]["computed"]["budget"] == 448150
    assert sorted(
        (d["department"], d["field"], d["declared"], d["computed"]) for d in data["discrepancies"]
    ) == sorted(
        [
            ("경제문화국", "indicators", 37, 32),
            ("보건소", "change", -177, -178),
            ("계", "indicators", 173, 168),
            ("계", "budget", 448151, 448150),
        ]
    )
    assert data == plan_as_json(PlanDepartment.objects.first().plan)
