"""Issue 12 item 4: the PDF-text reader on 200 random plans rendered with every quirk of the
format, among them the two that made it invent or lose a cell while table 가's counts still
agreed (a one-line policy goal printed right above its first indicator; a wrapped cell whose
last piece, starting with a particle, is pushed below a blank line). Pure tests: no database."""

import random
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

from perfplan.planfiles.plan_text import parse_plan_text
from perfplan.planfiles.tests.plan_text_render import (
    PARTICLES,
    make_random_plan,
    render_plan_text,
)
from perfplan.planfiles.tests.test_plan_text import signature

SEED = Path(settings.BASE_DIR) / "fixtures" / "source" / "000_b531d227c4430c07.txt"
PLANS = 200


def random_case(seed):
    """A plan of varied size and its text, at varied column widths and page lengths."""
    rng = random.Random(seed)
    plan = make_random_plan(
        rng,
        departments=rng.randint(2, 7),
        max_policy_goals=rng.choice([3, 5, 8]),
        max_indicators=rng.choice([3, 5]),
    )
    width = rng.choice([8, 9, 10, 11, 12, 14])
    # Each column may wrap at its own width: the reader learns them from the text.
    goal_width = rng.choice([None, None, width - 1, width + 2])
    indicator_width = rng.choice([None, None, width - 1, width + 2])
    text = render_plan_text(
        plan,
        rng,
        lines_per_page=rng.choice([30, 45, 60]),
        width=width,
        goal_width=goal_width,
        indicator_width=indicator_width,
    )
    return plan, text


def particle_pieces(text):
    """1-based numbers of the lines that start a name's last piece after a blank line."""
    lines = text.split("\n")
    return [
        index + 1
        for index in range(2, len(lines))
        if lines[index - 1] == ""
        and lines[index - 2] != ""
        and lines[index].split()
        and lines[index].split()[0] in PARTICLES
    ]


def glued_policy_goals(plan, text):
    """How many one-line policy goals are printed right above their first indicator."""
    return sum(
        len(re.findall("\n\n" + re.escape(policy.name) + "\n[^\n]", text))
        for dept in plan.departments
        for goal in dept.strategic_goals
        for policy in goal.policy_goals
    )


@pytest.fixture(scope="module")
def cases():
    return [random_case(seed) for seed in range(PLANS)]


def test_200_random_plans_read_back_exactly(cases):
    wrong = []
    for seed, (plan, text) in enumerate(cases):
        result = parse_plan_text(text, f"random-{seed}.txt")
        # Names (without whitespace), budgets, shares, table 가's figures, in order: nothing
        # invented, nothing lost, nothing moved.
        if signature(result.plan) != signature(plan) or result.conflicts:
            wrong.append(seed)
    assert wrong == []


def test_the_random_texts_have_both_quirks_often(cases):
    texts = [text for _plan, text in cases]
    assert sum(bool(particle_pieces(text)) for text in texts) >= PLANS // 4
    assert sum(len(particle_pieces(text)) for text in texts) >= 120
    assert sum(glued_policy_goals(plan, text) for plan, text in cases) >= 150
    assert any("에 기여" in text for text in texts)


def test_every_particle_piece_is_flagged_with_its_lines(cases):
    flagged = 0
    with translation.override("en"):
        for _plan, text in cases[:40]:
            warnings = parse_plan_text(text).plan.warnings
            for line in particle_pieces(text):
                assert any(
                    warning.startswith(f"Lines {line - 2}–") and "after a blank line" in warning
                    for warning in warnings
                ), (line, warnings)
                flagged += 1
    assert flagged >= 20


def seed_with_both_quirks_in_one_department():
    """The seed with 보건소's two-line policy goal 건전한 음악·게임 문화 조성 renamed to fit on
    one line and printed right above its indicator, and "및 예방 중심의 질환 관리", the end of
    another policy goal, pushed below a blank line (on both pages it is printed on)."""
    text = SEED.read_text(encoding="utf-8")
    edited = text.replace("건전한 음악·게임\n문화 조성\n\n음악", "게임문화 조성\n음악")
    edited = edited.replace("건강생활실천 관리\n및 예방", "건강생활실천 관리\n\n및 예방")
    assert edited.count("게임문화 조성\n음악") == 1 and edited.count("\n\n및 예방") == 2
    return edited


def test_a_glued_goal_and_a_particle_piece_in_one_department_are_read_exactly():
    # The two errors the reader used to make here cancel in table 가's counts: no conflict
    # told of them. Both cells are now rebuilt as printed.
    with translation.override("en"):
        result = parse_plan_text(seed_with_both_quirks_in_one_department(), "other.txt")
        seed = parse_plan_text(SEED.read_bytes(), SEED.name)
    want = [
        ("policy", "게임문화조성") if row == ("policy", "건전한음악·게임문화조성") else row
        for row in signature(seed.plan)
    ]
    assert signature(result.plan) == want
    assert result.conflicts == seed.conflicts
    health = result.plan.department("보건소").strategic_goals[0].policy_goals
    names = {policy.name: [i.name for i in policy.indicators] for policy in health}
    assert names["게임문화 조성"] == ["음악·게임업소 재행정 처분율"]
    assert "건강생활실천 관리 및 예방 중심의 질환관리" in names
    # Each guess is in the preview's warnings, with its lines.
    warnings = result.plan.warnings
    assert any(w.startswith("Lines 1069–1071:") and "게임문화 조성" in w for w in warnings)
    assert any(w.startswith("Lines 1005–1008:") and "및 예방" in w for w in warnings)
    assert any(w.startswith("Lines 1039–1042:") for w in warnings)


def seed_with_policy_goal(name, indicator):
    """The seed with 기획실's policy goal renamed (on both pages it is printed on) and printed
    right above its first indicator, renamed too."""
    text = SEED.read_text(encoding="utf-8").replace(
        "구정종합기획 및 재\n정운영의 효율화 추\n진\n\n공약사업 추진율", f"{name}\n{indicator}"
    )
    return text.replace("구정종합기획 및 재\n정운영의 효율화 추\n진\n", f"{name}\n")


def test_a_short_line_ends_its_cell_without_a_blank_line():
    # "청년 일자리" leaves room for "공약" on its line (the seed's name columns wrap at 9.5
    # of our units): it ended there, though nothing in its words says it is a whole name.
    with translation.override("en"):
        result = parse_plan_text(seed_with_policy_goal("청년 일자리", "공약 추진율"))
    policy = result.plan.department("기획실").strategic_goals[0].policy_goals[0]
    assert policy.name == "청년 일자리"
    assert [i.name for i in policy.indicators][:1] == ["공약 추진율"]
    assert result.conflicts == ["경제문화국: table 가 declares 37 indicators but table 나 has 32."]
    # Certain from the widths: not a guess.
    assert not any("청년 일자리" in warning for warning in result.plan.warnings)


def test_a_cut_with_little_room_to_spare_is_flagged():
    with translation.override("en"):
        result = parse_plan_text(seed_with_policy_goal("청년 창업지원", "공약 추진율"))
    policy = result.plan.department("기획실").strategic_goals[0].policy_goals[0]
    assert (policy.name, policy.indicators[0].name) == ("청년 창업지원", "공약 추진율")
    assert any(
        w.startswith("Lines 75–76: “청년 창업지원” has room for “공약”")
        for w in result.plan.warnings
    )


def test_a_piece_that_closes_an_open_bracket_continues_the_name():
    text = SEED.read_text(encoding="utf-8").replace(
        "에너지 복지사업 추\n진실적(교체율)", "에너지 복지사업 추\n진실적(교체\n\n율)"
    )
    with translation.override("en"):
        result = parse_plan_text(text)
    assert signature(result.plan) == signature(parse_plan_text(SEED.read_bytes()).plan)
    assert any(w.startswith("Lines 568–570:") and "“율)”" in w for w in result.plan.warnings)


def test_the_seed_is_flagged_only_where_it_needed_a_guess():
    with translation.override("en"):
        warnings = parse_plan_text(SEED.read_bytes()).plan.warnings
    assert [re.match(r"Lines? [\d–]+", w).group(0) for w in warnings] == [
        "Line 67",
        "Line 141",
        "Lines 549–551",
        "Lines 1047–1050",
    ]
    assert "“여”" in warnings[2] and "출산장려 환경조성" in warnings[3]


def test_the_guesses_read_in_korean():
    from perfplan.tests.korean import korean_catalogue

    with korean_catalogue():
        warnings = parse_plan_text(seed_with_both_quirks_in_one_department()).plan.warnings
    assert any(w.startswith("1005–1008행: 빈 줄 뒤의 “및 예방") for w in warnings)
    assert any(
        w.startswith("1069–1071행:") and "정책사업목표와 그 첫 성과지표" in w for w in warnings
    )
    assert any(w.startswith("67행:") and "성과지표로 읽었습니다" in w for w in warnings)
