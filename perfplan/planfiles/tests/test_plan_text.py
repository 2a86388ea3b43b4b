"""Reading a plan's summary tables from PDF-extracted text (issue 5), and the generator that
renders plans in that form for round trips. Pure tests: no database."""

import csv
import random
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

from perfplan.numbers import parse_count, parse_number
from perfplan.planfiles.plan_data import (
    DepartmentData,
    Figures,
    IndicatorData,
    PlanData,
    PolicyGoalData,
    StrategicGoalData,
)
from perfplan.planfiles.plan_text import (
    ParsedPlanText,
    PlanTextError,
    _width,
    decode_text,
    parse_plan_text,
)
from perfplan.planfiles.tests.plan_text_render import (
    fill_figures,
    make_random_plan,
    render_plan_text,
    wrap_cell,
)

SEED_NAME = "000_b531d227c4430c07.txt"
SEED = Path(settings.BASE_DIR) / "fixtures" / "source" / SEED_NAME
FIXTURES = Path(settings.BASE_DIR) / "fixtures"


def squeeze(text):
    return re.sub(r"\s", "", text)


@pytest.fixture(scope="module")
def seed_bytes():
    return SEED.read_bytes()


@pytest.fixture(scope="module")
def seed_result(seed_bytes):
    return parse_plan_text(seed_bytes, SEED_NAME)


def read_fixture(name):
    with open(FIXTURES / name, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def hierarchy_rows(plan):
    """One row per indicator, like seed_plan_hierarchy.csv, names without whitespace."""
    rows = []
    for dept in plan.departments:
        for goal in dept.strategic_goals:
            for policy in goal.policy_goals:
                for indicator in policy.indicators:
                    rows.append(
                        (
                            dept.name,
                            squeeze(goal.name),
                            goal.budget,
                            goal.share,
                            squeeze(policy.name),
                            squeeze(indicator.name),
                        )
                    )
    return rows


def signature(plan):
    """Everything a round trip must keep, in order; names compared without whitespace."""
    out = [("total", tuple(plan.total.as_dict().values()))]
    for dept in plan.departments:
        out.append(("department", dept.name, tuple(dept.declared.as_dict().values())))
        for goal in dept.strategic_goals:
            out.append(("goal", squeeze(goal.name), goal.budget, goal.share))
            for policy in goal.policy_goals:
                out.append(("policy", squeeze(policy.name)))
                out += [("indicator", squeeze(i.name)) for i in policy.indicators]
    return out


def find(plan, department, name):
    """The policy goal or indicator called `name` in `department`, with its kind."""
    key = squeeze(name)
    for goal in plan.department(department).strategic_goals:
        for policy in goal.policy_goals:
            if squeeze(policy.name) == key:
                return "policy", policy
            for indicator in policy.indicators:
                if squeeze(indicator.name) == key:
                    return "indicator", indicator
    return None, None


# --------------------------------------------------------------------------------------------
# The seed


def test_seed_hierarchy_is_the_fixture_entry_by_entry(seed_result):
    expected = [
        (
            row["실국명"],
            squeeze(row["전략목표명"]),
            parse_number(row["예산액(백만원)"]),
            parse_number(row["비중(%)"]),
            squeeze(row["정책사업목표명"]),
            squeeze(row["성과지표명"]),
        )
        for row in read_fixture("seed_plan_hierarchy.csv")
    ]
    got = hierarchy_rows(seed_result.plan)
    assert len(expected) == 168
    for index, (want, have) in enumerate(zip(expected, got, strict=False)):
        assert have == want, f"row {index + 2} of seed_plan_hierarchy.csv"
    assert len(got) == len(expected)


def test_seed_summary_is_table_ga_with_its_total(seed_result):
    plan = seed_result.plan
    rows = read_fixture("seed_plan_summary.csv")
    assert rows[0]["실국명"] == "계"

    def figures(row):
        return Figures(
            strategic_goals=parse_count(row["전략목표수"]),
            policy_goals=parse_count(row["정책사업목표 개수"]),
            indicators=parse_count(row["지표수"]),
            unit_programs=parse_count(row["단위사업수"]),
            budget=parse_number(row["예산액"]),
            prior_budget=parse_number(row["전년도예산액"]),
            change=parse_number(row["비교증감"]),
        )

    assert plan.total == figures(rows[0])
    assert plan.total.budget == Decimal("448151") and plan.total.change == Decimal("30982")
    assert [dept.name for dept in plan.departments] == [row["실국명"] for row in rows[1:]]
    for dept, row in zip(plan.departments, rows[1:], strict=True):
        assert dept.declared == figures(row), dept.name
    assert plan.department("총무국").declared.change == Decimal("-2228")
    assert plan.department("보건소").declared.change == Decimal("-177")
    assert (plan.has_summary, plan.has_hierarchy, plan.has_unit_programs) == (True, True, False)


def test_seed_department_without_goals_is_kept_in_place(seed_result):
    dept = seed_result.plan.departments[-1]
    assert dept.name == "동주민센터"
    assert dept.strategic_goals == []
    assert dept.declared.budget == Decimal("2833")


def test_seed_cells_are_assigned_by_structure_and_declared_counts(seed_result):
    plan = seed_result.plan
    # Read like policy goals, but table 가's counts and the page structure say indicator.
    assert find(plan, "기획실", "체계적인 법무행정 지원")[0] == "indicator"
    assert find(plan, "보건소", "식품접객업소 불법영업 근절")[0] == "indicator"
    assert (
        find(plan, "안전도시국", "위반건축물 최소화를 위한 사전예방점검 서비스")[0] == "indicator"
    )
    assert find(plan, "의회사무국", "자매결연의회와의 합동수련회 추진")[0] == "indicator"
    # One-line policy goals printed with no blank line before their first indicator.
    kind, policy = find(plan, "보건소", "출산장려 환경조성")
    assert kind == "policy"
    assert [squeeze(i.name) for i in policy.indicators] == ["임신·육아등출산장려건강관리실적(%)"]
    kind, policy = find(plan, "복지환경국", "장애인복지증진")
    assert kind == "policy"
    assert len(policy.indicators) == 3
    # A goal continued on the next page is one goal, not two.
    goals = plan.department("총무국").strategic_goals
    assert len(goals) == 1 and len(goals[0].policy_goals) == 10
    assert len(plan.department("기획실").strategic_goals[0].policy_goals) == 1


def test_seed_names_keep_every_printed_character(seed_result):
    plan = seed_result.plan
    welfare = plan.department("복지환경국").strategic_goals[0]
    assert squeeze(welfare.name) == "○따뜻한서구복지공동체구현○맑고쾌적한녹색도시조성"
    assert welfare.name.startswith("○ ") and " ○ " in welfare.name
    assert plan.department("보건소").strategic_goals[0].name == "건강한 삶을 여는 사람 중심 서구"
    # "…기\n\n여": a lone syllable after a blank line ends the cell above.
    assert find(plan, "복지환경국", "영산강 수계수질오염 예방 및 맑고 쾌적한 생활환경 조성에 기여")[
        0
    ]
    assert find(plan, "복지환경국", "공동주택음식물쓰레기세대별발생량감량실적(하양지표)")[0]
    assert find(plan, "경제문화국", "효율적이고 체계적인 관리를 통해 쾌적한 체육공원을 조성한다.")[
        0
    ]
    assert find(plan, "보건소", "제조.유통식품 등 지도.점검률")[0] == "indicator"
    assert find(plan, "보건소", "고혈압,당뇨병 환자 등록관리자 수")[0] == "indicator"
    # Indicators glued to the budget line lose nothing.
    assert find(plan, "기획실", "의존재원 확보실적")[0] == "indicator"
    assert find(plan, "홍보실", "SNS운영실적")[0] == "indicator"
    # A wrap that lost a space gets it back where the line had room for more.
    assert find(plan, "기획실", "체계적인 법무행정 지원")[1].name == "체계적인 법무행정 지원"


def test_seed_budgets_and_shares(seed_result):
    goals = {
        dept.name: dept.strategic_goals[0]
        for dept in seed_result.plan.departments
        if dept.strategic_goals
    }
    assert goals["의회사무국"].budget == Decimal("948")
    assert goals["의회사무국"].share == Decimal("0.28")
    assert goals["복지환경국"].budget == Decimal("261863")
    assert goals["복지환경국"].share == Decimal("76.97")
    assert str(goals["보건소"].share) == "3.70"
    assert sum(goal.budget for goal in goals.values()) == Decimal("340225")


def test_seed_sources_point_at_lines(seed_result):
    plan = seed_result.plan
    dept = plan.department("의회사무국")
    assert (dept.source.file, dept.source.row) == (SEED_NAME, 20)
    goal = dept.strategic_goals[0]
    assert goal.source.row == 53
    assert goal.policy_goals[0].source.row == 58
    assert [i.source.row for i in goal.policy_goals[0].indicators] == [62, 67]
    assert find(plan, "기획실", "의존재원 확보실적")[1].source.row == 81
    assert find(plan, "보건소", "임신·육아 등 출산장려 건강관리 실적(%)")[1].source.row == 1048
    assert find(plan, "보건소", "출산장려 환경조성")[1].source.row == 1047


def test_seed_conflict_is_the_indicator_count_of_economy_and_culture(seed_result):
    assert len(seed_result.conflicts) == 1
    conflict = seed_result.conflicts[0]
    assert conflict.startswith("경제문화국:")
    assert "37" in conflict and "32" in conflict
    with translation.override("en"):
        english = parse_plan_text(SEED.read_bytes()).conflicts
    assert english == ["경제문화국: table 가 declares 37 indicators but table 나 has 32."]


def test_seed_in_every_encoding_and_line_ending_parses_the_same(seed_bytes, seed_result):
    text = seed_bytes.decode("utf-8")
    want = signature(seed_result.plan)
    variants = {
        "cp949 crlf": text.replace("\n", "\r\n").encode("cp949"),
        "cp949": text.encode("cp949"),
        "utf-8 bom crlf": b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8"),
        "str": text,
        "str crlf": text.replace("\n", "\r\n"),
        "cr": text.replace("\n", "\r").encode("utf-8"),
    }
    for label, data in variants.items():
        result = parse_plan_text(data, "x.txt")
        assert isinstance(result, ParsedPlanText)
        assert signature(result.plan) == want, label
        assert result.conflicts == seed_result.conflicts, label
        assert hierarchy_rows(result.plan) == hierarchy_rows(seed_result.plan), label


def test_decode_text():
    assert decode_text("가나\r\n다".encode("cp949")) == "가나\n다"
    assert decode_text(b"\xef\xbb\xbf\xea\xb0\x80\r\n") == "가\n"
    assert decode_text("\ufeff가\r다") == "가\n다"
    with pytest.raises(PlanTextError):
        decode_text(b"\xff\xfe\x00a")
    with pytest.raises(PlanTextError):
        decode_text(b"\x80\x80\x80")


# --------------------------------------------------------------------------------------------
# Refusals


def refusal(data):
    with translation.override("en"), pytest.raises(PlanTextError) as info:
        parse_plan_text(data, "bad.txt")
    assert isinstance(info.value, ValueError)
    return str(info.value)


def seed_lines():
    return SEED.read_text(encoding="utf-8").split("\n")


def test_a_department_name_wrapped_in_table_ga_and_a_repeated_header():
    text = SEED.read_text(encoding="utf-8").replace(
        "도시재생추진단 1 1 2 2", "실국명\n\n도시재생추진\n단 1 1 2 2"
    )
    result = parse_plan_text(text)
    dept = result.plan.departments[8]
    assert dept.name == "도시재생추진단"
    assert dept.declared.budget == Decimal("4443")
    assert len(dept.strategic_goals[0].policy_goals[0].indicators) == 2
    assert signature(result.plan) == signature(parse_plan_text(SEED.read_bytes()).plan)


def test_refuses_empty_files():
    assert "empty" in refusal(b"")
    assert "empty" in refusal(b"\xef\xbb\xbf \r\n\r\n")


def test_refuses_what_is_not_text():
    assert "UTF-8 or CP949" in refusal(b"PK\x03\x04\x00\x00binary")
    assert "UTF-8 or CP949" in refusal(b"\xff\xff\xff\xff")


def test_refuses_a_random_korean_document():
    prose = (
        "서구청은 주민의 삶의 질을 높이기 위해 다양한 사업을 추진하고 있습니다.\n"
        "올해는 예산 448,151백만원을 편성하였으며 2 3 4 5 등의 사업이 있습니다.\n\n"
        "나. 향후 계획\n문의: 기획실 (062-000-0000)\n"
    )
    message = refusal(prose.encode("cp949"))
    assert "table 가" in message and "계" in message


def test_refuses_the_seed_cut_after_table_ga():
    lines = seed_lines()
    cut = lines.index("나. 성과계획 및 재원비중")
    message = refusal("\n".join(lines[:cut]))
    assert "Table 나" in message and "missing" in message


def test_refuses_the_seed_cut_before_the_goals_of_table_na():
    lines = seed_lines()
    cut = lines.index("나. 성과계획 및 재원비중") + 10
    assert "names no strategic goal" in refusal("\n".join(lines[:cut]))


def test_refuses_the_seed_cut_in_table_na_before_departments_it_declares():
    lines = seed_lines()
    cut = lines.index("사람중심 도시기반")  # 안전도시국's goal starts here
    message = refusal("\n".join(lines[:cut]))
    assert "cut short" in message
    for name in ("안전도시국", "도시재생추진단", "보건소"):
        assert name in message
    assert "동주민센터" not in message  # it declares no goals


def test_a_department_cut_in_the_middle_is_read_with_conflicts():
    lines = seed_lines()
    cut = lines.index("공중위생 및 식품위")  # inside 보건소, the last one
    with translation.override("en"):
        result = parse_plan_text("\n".join(lines[:cut]))
    assert result.conflicts[-2:] == [
        "보건소: table 가 declares 7 policy goals but table 나 has 4.",
        "보건소: table 가 declares 24 indicators but table 나 has 13.",
    ]


def test_refuses_table_ga_without_total_or_with_a_department_twice():
    lines = seed_lines()
    without_total = [line for line in lines if not line.startswith("계 ")]
    assert "no total row" in refusal("\n".join(without_total))
    twice = lines[:21] + ["의회사무국 1 1 2 3 1,314 1,214 100"] + lines[21:]
    message = refusal("\n".join(twice))
    assert "의회사무국" in message and "twice" in message


def test_refuses_a_goal_of_a_department_table_ga_does_not_list():
    lines = seed_lines()
    renamed = [line.replace("감사담당관 1", "감사관 1") for line in lines]
    message = refusal("\n".join(renamed))
    assert message.startswith(f"Line {lines.index('공정하고 투명한 감') + 1}:")
    assert "감사담당관" in message


def test_refuses_table_na_that_starts_with_something_else():
    lines = seed_lines()
    start = lines.index("효율적인 의정지원으")
    bad = lines[:start] + ["이 표는 참고용입니다", ""] + lines[start:]
    message = refusal("\n".join(bad))
    assert f"Line {start + 1}:" in message


# --------------------------------------------------------------------------------------------
# The generator and round trips


def round_trip(plan, rng, **options):
    text = render_plan_text(plan, rng, **options)
    result = parse_plan_text(text, "generated.txt")
    assert signature(result.plan) == signature(plan)
    assert result.conflicts == []
    return text, result


def page_count(text):
    return text.count("(백만원) 비중(%)")


@pytest.mark.parametrize("seed", [1, 2, 3, 5, 8, 13, 21, 34])
def test_random_plans_round_trip(seed):
    rng = random.Random(seed)
    plan = make_random_plan(rng)
    assert sum(len(d.strategic_goals) for d in plan.departments) >= 2
    text, result = round_trip(plan, rng, lines_per_page=rng.choice([30, 45, 60]))
    assert page_count(text) >= 2


def test_the_same_random_gives_the_same_text():
    def render(seed):
        rng = random.Random(seed)
        return render_plan_text(make_random_plan(rng), rng, lines_per_page=45)

    assert render(7) == render(7)
    assert render(7) != render(8)


def test_random_plans_at_other_widths_and_page_lengths_round_trip():
    for seed in range(6):
        rng = random.Random(100 + seed)
        plan = make_random_plan(rng, departments=4)
        round_trip(plan, rng, width=[8, 9, 11, 12, 14, 7][seed], lines_per_page=25 + 10 * seed)


def test_a_large_plan_round_trips():
    rng = random.Random(77)
    plan = make_random_plan(rng, departments=12, max_policy_goals=12, max_indicators=6)
    text, result = round_trip(plan, rng, lines_per_page=60)
    assert sum(1 for _ in text.splitlines()) > 1000


def test_generated_text_has_the_quirks_of_the_seed():
    texts = []
    for seed in range(12):
        rng = random.Random(seed)
        texts.append(render_plan_text(make_random_plan(rng), rng, lines_per_page=40))
    joined = "\n".join(texts)
    # Budget and share glued to the next cell, and on a line of its own.
    assert re.search(r"^\d[\d,]* \d+\.\d\d\S", joined, re.M)
    assert re.search(r"^\d[\d,]* \d+\.\d\d$", joined, re.M)
    # Page headers repeat, each after three blank lines.
    assert joined.count("\n\n\n\n전략목표명\n\n(실국명)\n정책사업목표명 성과지표명\n") > 12
    # Wrapped cells: table 나 has no line wider than the width, but for glued budget lines.
    for text in texts:
        table = text.split("나. 성과계획 및 재원비중")[1].splitlines()
        headers = ("정책사업목표명 성과지표명", "(백만원) 비중(%)")
        cells = [line for line in table if line and not line[0].isdigit()]
        assert max(_width(line) for line in cells if line not in headers) <= 10


def edge_plan():
    """The edge cases the issue names, in one plan."""
    plan = PlanData(has_summary=True, has_hierarchy=True)

    def dept(name, goals):
        plan.departments.append(DepartmentData(name=name, strategic_goals=goals))

    def goal(name, budget, *policies):
        return StrategicGoalData(name=name, budget=Decimal(budget), policy_goals=list(policies))

    def policy(name, *indicators):
        return PolicyGoalData(name=name, indicators=[IndicatorData(name=i) for i in indicators])

    dept(
        "보건소",
        [
            goal(
                "건강한 삶을 여는 사람 중심 서구",
                12573,
                policy(
                    "감염병 예방 및 건강관리로 구민 건강증진 도모",
                    "감염병 감시체계 운영 충실도",
                    "결핵환자 치료 성공률",
                ),
                policy(
                    "출산장려 환경조성",
                    "지역사회통합돌봄사업참여주민만족도실적(%)",  # ")" wraps alone at width 10
                ),
                policy(
                    "공중위생 및 식품위생 수준 향상",
                    "식품접객업소 불법영업 근절",
                    "제조.유통식품 등 지도.점검률",
                ),
            )
        ],
    )
    dept("동주민센터", [])
    dept(
        "복지환경국",
        [
            goal(
                "○ 따뜻한 서구복지 공동체 구현 ○ 맑고 쾌적한 녹색 도시 조성",
                261863,
                policy("노인복지증진", *[f"노인일자리 제공실적 {n}단계" for n in range(1, 4)]),
                policy(
                    "영산강 수계수질오염 예방 및 맑고 쾌적한 생활환경 조성에 기여",
                    "폐수배출업소 지도점검률",
                    "명품화장실 조성",
                ),
                # Long enough to run over a page break.
                policy(
                    "장애인복지증진",
                    *[f"장애인복지관 프로그램 {n}차 정원충족실적" for n in range(1, 15)],
                ),
            )
        ],
    )
    dept(
        "기획실",
        [
            goal(
                "구정의 기획 조정역량 강화 및 건전재정 운영으로 사람중심 서구 조성",
                1234,
                policy(
                    "구정종합기획 및 재정운영의 효율화 추진",
                    "공약사업 추진율",
                    "의존재원 확보실적",
                    "체계적인 법무행정 지원",
                ),
            ),
            goal(
                "스마트 행정으로 신뢰받는 서구 구현",
                560,
                policy("행정정보화 역량 강화", "행정정보시스템 운영도"),
            ),
        ],
    )
    return fill_figures(plan, random.Random(0))


def test_edge_cases_round_trip():
    plan = edge_plan()
    texts = []
    for seed in range(10):
        text, result = round_trip(plan, random.Random(seed), lines_per_page=30)
        texts.append(text)
        assert result.plan.departments[1].name == "동주민센터"
        assert result.plan.departments[1].strategic_goals == []
        welfare = result.plan.department("복지환경국").strategic_goals[0]
        assert welfare.name.count("○") == 2
        assert len(result.plan.department("기획실").strategic_goals) == 2
    joined = "\n".join(texts)
    # The quirks did happen: a closing bracket alone on a line, for an indicator and for a
    # strategic goal's department ...
    assert "\n참여주민만족도실적(%\n)\n" in joined
    assert "\n참여주민만족도실적(%\n\n)\n" in joined  # ... even below a blank line ...
    assert "\n람 중심 서구 (보건소\n)\n" in joined
    # ... the two bulleted lines of a strategic goal ...
    assert (
        "\n○ 따뜻한 서구복지\n공동체 구현\n○ 맑고 쾌적한 녹색\n도시 조성\n(복지환경국)\n" in joined
    )
    # ... a one-line policy goal without a blank line before its first indicator ...
    assert re.search(r"\n노인복지증진\n노인일자리", joined)
    # ... and a page break inside a policy goal, which is named again on the next page.
    for text in texts:
        assert text.count("장애인복지증진") >= 2
        assert page_count(text) >= 3


def test_a_page_break_inside_a_policy_goal_repeats_its_name():
    plan = edge_plan()
    text, result = round_trip(plan, random.Random(3), lines_per_page=22)
    # The goal and the policy goal named again at the top of the next page ...
    assert text.count("(복지환경국)") >= 2
    assert re.search(r"\(백만원\) 비중\(%\)\n\n○ 따뜻한 서구복지\n", text)
    assert re.search(r"\(복지환경국\)\n\n장애인복지증진\n(\n)?장애인복지관", text)
    # ... are one goal with one policy goal of 14 indicators.
    welfare = result.plan.department("복지환경국").strategic_goals
    assert len(welfare) == 1 and len(welfare[0].policy_goals) == 3
    policy = find(result.plan, "복지환경국", "장애인복지증진")[1]
    assert len(policy.indicators) == 14


def test_counts_the_text_cannot_meet_are_reported_not_invented():
    for seed, delta in ((4, 5), (6, -3), (9, 2)):
        rng = random.Random(seed)
        plan = make_random_plan(rng, departments=5, empty_department=False)
        truth = signature(plan)
        dept = plan.departments[seed % 5]
        dept.declared.indicators += delta
        text = render_plan_text(plan, rng, lines_per_page=40)
        with translation.override("en"):
            result = parse_plan_text(text)
        got = signature(result.plan)
        # Everything as printed; only table 가's figure differs.
        assert [row for row in got if row[0] != "department"] == [
            row for row in truth if row[0] != "department"
        ]
        found = dept.declared.indicators - delta
        assert result.conflicts == [
            f"{dept.name}: table 가 declares {dept.declared.indicators} indicators but "
            f"table 나 has {found}."
        ]


def test_wrap_cell_breaks_mid_word_or_at_a_word_boundary():
    rng = random.Random(1)
    seen = set()
    for _ in range(40):
        lines = wrap_cell("효율적인 의정지원으로 참여와 자치의 선진 의회상 구현", 10, rng)
        assert squeeze("".join(lines)) == squeeze(
            "효율적인 의정지원으로 참여와 자치의 선진 의회상 구현"
        )
        assert all(len(line) <= 12 for line in lines)
        seen.add(tuple(lines))
    assert len(seen) > 1  # the Random decides where a word boundary is used
