"""Render a PlanData as the text a PDF-to-text tool makes of a plan's summary tables.

The output has every quirk of the seed text (see fixtures/source/README.md): cells wrapped at
about `width` characters, mid-word or at a word boundary whose space is lost; the column
header block repeated at each page top together with the names of the strategic goal and
policy goal that continue there; a strategic goal's budget and share printed after the first
indicator row of each page and sometimes glued to the next cell; a one-line policy goal
sometimes printed without a blank line before its first indicator; a strategic goal written as
bulleted lines; a lone last syllable after a blank line; the last piece of a wrapped cell
pushed below a blank line where it starts with a particle ("…조성\n\n에 기여"). The strategic
goal and indicator columns may be narrower or wider than the policy goal column (goal_width,
indicator_width). The same Random gives
the same text.

`make_random_plan` builds plausible plans of any size for round-trip tests and benchmarks.
"""

from __future__ import annotations

import random
from decimal import Decimal

from perfplan.numbers import format_amount, format_share
from perfplan.planfiles.plan_data import (
    DepartmentData,
    Figures,
    IndicatorData,
    PlanData,
    PolicyGoalData,
    StrategicGoalData,
)
from perfplan.planfiles.plan_text import _width

_HEADER_A = [
    "",
    "3. 성과계획 총괄표",
    "",
    "(단위:개, 백만원)",
    "",
    "가. 총괄",
    "",
    "실국명",
    "",
    "성과계획 예산액",
    "",
    "전략목표수",
    "정책사업목표",
    "",
    "단위사업수 예산액 전년도예산액 비교증감",
    "개수 지표수",
    "",
]
_HEADING_B = "나. 성과계획 및 재원비중"
_HEADER_B = [
    "전략목표명",
    "",
    "(실국명)",
    "정책사업목표명 성과지표명",
    "",
    "예산액",
    "",
    "(백만원) 비중(%)",
    "",
]

# How often each quirk happens.
_WORD_WRAP = 0.3  # a wrap at a word boundary rather than mid-word
_GLUE_BUDGET = 0.3  # the budget line glued to the next cell's first line
_TIGHT_BUDGET = 0.2  # the next cell right under the budget line, no blank line
_GLUE_POLICY = 0.35  # a one-line policy goal with no blank line before its first indicator
_FRAGMENT = 0.3  # a lone last syllable pushed below a blank line
_TRIANGLE = 0.3  # a negative amount written △1,234 rather than -1,234
_PARTICLE_BREAK = 0.5  # a cell's last piece starting with a particle pushed below a blank line

# Words that end a phrase and so never start a name: where a wrapped line starts with one, the
# page or row break may fall right before it.
PARTICLES = tuple("에 에서 을 를 이 가 의 와 과 및 으로 로 등 에게 으로써 로써".split())


def wrap_cell(text, width, rng):
    """Wrap like the extraction does: fill up to `width`, break inside a word or, sometimes,
    at a word boundary (the space is lost either way)."""
    lines = []
    current = ""
    for word in text.split():
        joined = f"{current} {word}" if current else word
        if _width(joined) <= width:
            current = joined
            continue
        if current and _width(word) <= width and rng.random() < _WORD_WRAP:
            lines.append(current)
            current = word
            continue
        if current:
            current += " "
        for ch in word:
            if current.strip() and _width(current + ch) > width:
                lines.append(current.rstrip())
                current = ch
            else:
                current += ch
    if current.strip():
        lines.append(current.rstrip())
    return lines


def _amount(value, rng):
    if value is None:
        return "0"
    value = Decimal(value)
    if value < 0 and rng.random() < _TRIANGLE:
        return "△" + format_amount(-value)
    return format_amount(value)


def _row_a(name, figures, rng):
    counts = [
        figures.strategic_goals,
        figures.policy_goals,
        figures.indicators,
        figures.unit_programs,
    ]
    parts = [name] + [str(count or 0) for count in counts]
    parts += [_amount(figures.budget, rng), _amount(figures.prior_budget, rng)]
    parts.append(_amount(figures.change, rng))
    return " ".join(parts)


class _Cell:
    """A cell's kind and wrapped lines."""

    def __init__(self, kind, lines):
        self.kind = kind  # "sg", "pg", "ind", "budget"
        self.lines = lines


def _strategic_cell(goal, dept, width, rng):
    name = goal.name.strip()
    if name.startswith("○"):
        lines = []
        for item in name.split("○"):
            if item.strip():
                lines += wrap_cell("○ " + item.strip(), width, rng)
        return _Cell("sg", lines + [f"({dept.name})"])
    return _Cell("sg", wrap_cell(f"{name} ({dept.name})", width, rng))


def _name_cell(kind, name, width, rng):
    lines = wrap_cell(name, width, rng)
    if (
        len(lines) > 1
        and len(lines[-1]) == 1
        and _width(lines[-2]) >= width - 1
        and rng.random() < _FRAGMENT
    ):
        return _Cell(kind, lines[:-1] + ["", lines[-1]])
    starts = [i for i in range(1, len(lines)) if lines[i].split()[0] in PARTICLES]
    if starts and rng.random() < _PARTICLE_BREAK:
        return _Cell(kind, lines[: starts[-1]] + [""] + lines[starts[-1] :])
    return _Cell(kind, lines)


def _rows(plan):
    """(department, goal, policy goal, indicator, first of goal, first of policy goal)."""
    for dept in plan.departments:
        for goal in dept.strategic_goals:
            first_goal = True
            for policy in goal.policy_goals:
                first_policy = True
                for indicator in policy.indicators:
                    yield dept, goal, policy, indicator, first_goal, first_policy
                    first_goal = first_policy = False


def render_plan_text(
    plan: PlanData,
    rng: random.Random,
    *,
    lines_per_page: int = 45,
    width: int = 10,
    goal_width: int | None = None,
    indicator_width: int | None = None,
) -> str:
    """The plan as PDF-to-text output of its tables 가 and 나: the policy goal column wraps
    at `width`, the strategic goal and indicator columns at `goal_width` and
    `indicator_width` (default `width`)."""
    goal_width = goal_width or width
    indicator_width = indicator_width or width
    out = list(_HEADER_A)
    total = plan.total or Figures()
    out += [_row_a("계", total, rng), ""]
    for dept in plan.departments:
        out += [_row_a(dept.name, dept.declared or Figures(), rng), ""]
    out += [_HEADING_B, ""] + _HEADER_B

    # Pages of indicator rows; a row is its cells in reading order: the strategic goal and
    # policy goal where they start (or continue at a page top), the indicator, and after the
    # first row of a goal on each page the goal's budget and share.
    page_lines = len(out)
    pages = [[]]
    for dept, goal, policy, indicator, first_goal, first_policy in _rows(plan):
        row = []
        if first_goal:
            row.append(_strategic_cell(goal, dept, goal_width, rng))
        if first_policy:
            row.append(_name_cell("pg", policy.name, width, rng))
        row.append(_name_cell("ind", indicator.name, indicator_width, rng))
        size = sum(len(cell.lines) + 1 for cell in row) + 2
        page_top = bool(pages[-1]) and page_lines + size > lines_per_page
        if page_top:
            pages.append([])
            page_lines = len(_HEADER_B) + 3
            # A goal continuing on the new page is named again, and so is its policy goal.
            row = [_strategic_cell(goal, dept, goal_width, rng)]
            row.append(_name_cell("pg", policy.name, width, rng))
            row.append(_name_cell("ind", indicator.name, indicator_width, rng))
        if first_goal or page_top:
            budget = f"{format_amount(goal.budget or 0)} {format_share(goal.share or 0)}"
            row.append(_Cell("budget", [budget]))
        pages[-1].append(row)
        page_lines += sum(len(cell.lines) + 1 for cell in row)

    for number, page in enumerate(pages):
        if number:
            out += ["", "", ""] + _HEADER_B
        cells = [cell for row in page for cell in row]
        text_lines = []
        for index, cell in enumerate(cells):
            following = cells[index + 1] if index + 1 < len(cells) else None
            text_lines += cell.lines
            if following is None:
                continue
            if cell.kind == "budget":
                roll = rng.random()
                if roll < _GLUE_BUDGET:
                    following.lines = [text_lines.pop() + following.lines[0]] + following.lines[1:]
                    continue
                if roll < _GLUE_BUDGET + _TIGHT_BUDGET:
                    continue
            elif (
                cell.kind == "pg"
                and following.kind == "ind"
                and len(cell.lines) == 1
                and _width(cell.lines[0]) <= width - 1.5
                and rng.random() < _GLUE_POLICY
            ):
                continue
            text_lines.append("")
        out += text_lines
    out.append("")
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------------------------
# Random plans

_DEPARTMENTS = (
    "기획실 의회사무국 홍보실 감사담당관 총무국 행정지원국 복지환경국 경제문화국 안전도시국 "
    "건설교통국 주민자치국 문화관광국 일자리경제국 도시재생추진단 보건소 환경녹지국 "
    "교육청소년과 재난안전과 세무과 민원봉사과"
).split()
_SUBJECTS = (
    "주민 구민 지역 청년 노인 아동 여성 장애인 소상공인 중소기업 마을 공동체 문화예술 생활체육 "
    "관광 녹색환경 대중교통 생활안전 재난 공중보건 사회복지 평생교육 지방세 세외수입 행정정보 "
    "민원 건축 도로 하천 공원녹지 산림 도시농업 일자리 전통시장 공공도서관 자원순환 상하수도 "
    "주거 식품위생 감염병"
).split()
_OBJECTS = "서비스 기반 역량 체계 인프라 환경 참여 시설 네트워크 프로그램 행정 안전망 생태계 거버넌스 정책".split()
_GOAL_ENDS = "강화 조성 구현 향상 확충 활성화 증진 도모 지원 정착 육성 구축 개선 확산 실현".split()
_MEASURES = (
    "만족도|참여율|처리율|추진율|추진실적|운영실적|이용실적|지도점검률|달성률|이용자 수|발굴건수|"
    "지원건수|개선율|정비율|교육 이수율|징수율|확보율|운영 충실도|집행률|가입실적|등록관리자 수|"
    "처리기간 단축도"
).split("|")
_UNITS = "(%) (점) (회/명) (건) (하양지표) (비율%)".split()
_TRICKY_INDICATOR_ENDS = "지원 근절 조성 서비스 운영".split()
_VISIONS = [
    "사람중심 {a}",
    "함께 누리는 {a}",
    "활력 넘치는 {a}",
    "안전하고 쾌적한 {a}",
    "살기 좋은 {a}",
    "신뢰받는 {a}",
]
_PLACES = "서구 동구 남구 북구 중구 행복도시 희망도시".split()


def _batchim(word):
    last = word[-1]
    return "가" <= last <= "힣" and (ord(last) - 0xAC00) % 28 != 0


def _with(word, consonant, vowel):
    return word + (consonant if _batchim(word) else vowel)


def _pick(rng, items):
    return items[rng.randrange(len(items))]


def _policy_name(rng):
    s, o, e = _pick(rng, _SUBJECTS), _pick(rng, _OBJECTS), _pick(rng, _GOAL_ENDS)
    form = rng.randrange(8)
    if form == 0:
        return f"{s} {o} {e}"
    if form == 7:
        # "…생활환경 조성에 기여" in the seed: the particle makes a wrap point of its own.
        return f"{s} {o} {_pick(rng, _SUBJECTS)} {e}에 기여"
    if form == 1:
        return f"{s}{o} {e}"
    s2, o2, e2 = _pick(rng, _SUBJECTS), _pick(rng, _OBJECTS), _pick(rng, _GOAL_ENDS)
    if form == 2:
        return f"{_with(s + ' ' + o, '을', '를')} 통한 {s2} {o2} {e2}"
    if form == 3:
        return f"{s} {o} {e} 및 {s2}{o2} {e2}"
    if form == 4:
        return f"{_with(s + ' ' + o + ' ' + e, '으로', '로')} {s2} {o2} {e2}"
    if form == 5:
        return f"{_with(s + ' ' + o, '을', '를')} {e}한다."
    return f"{s}, {s2} {o} {e}"


def _indicator_name(rng, tricky=False):
    s, o, m = _pick(rng, _SUBJECTS), _pick(rng, _OBJECTS), _pick(rng, _MEASURES)
    form = rng.randrange(10)
    if form == 0:
        return f"{s} {o} {m}{_pick(rng, _UNITS)}"
    if form == 1:
        return f"{s}·{_pick(rng, _SUBJECTS)} {m}"
    if form == 2 and tricky:
        # Reads like a policy goal ("체계적인 법무행정 지원" in the seed).
        return f"{s}{o} {_pick(rng, _TRICKY_INDICATOR_ENDS)}"
    if form == 3:
        return f"{s}.{o} 지도.{m}"
    if form in (4, 5):
        return f"{s}{o}{m}"
    return f"{s} {o} {m}"


def _strategic_name(rng, bulleted):
    def one():
        s, o, e = _pick(rng, _SUBJECTS), _pick(rng, _OBJECTS), _pick(rng, _GOAL_ENDS)
        vision = _pick(rng, _VISIONS).format(a=_pick(rng, _PLACES))
        return f"{_with(s + ' ' + o + ' ' + e, '으로', '로')} {vision} 구현"

    if bulleted:
        a = f"{_pick(rng, _SUBJECTS)} {_pick(rng, _OBJECTS)} {_pick(rng, _GOAL_ENDS)}"
        b = f"{_pick(rng, _SUBJECTS)}{_pick(rng, _OBJECTS)} {_pick(rng, _GOAL_ENDS)}"
        return f"○ {a} ○ {b}"
    return one()


def _unique(make, rng, seen):
    for _attempt in range(100):
        name = make(rng)
        if "".join(name.split()) not in seen:
            seen.add("".join(name.split()))
            return name
    raise RuntimeError("name pool exhausted")  # pragma: no cover


def make_random_plan(
    rng: random.Random,
    *,
    departments: int | None = None,
    max_policy_goals: int = 8,
    max_indicators: int = 6,
    empty_department: bool | None = None,
    bulleted_goal: bool | None = None,
    tricky_names: bool = False,
) -> PlanData:
    """A plausible plan: departments with one (sometimes two) strategic goals, each with
    policy goals of 1 … max_indicators indicators; budgets, shares and table 가 agree.

    tricky_names: some indicators are named like policy goals (… 지원, … 근절), as a few
    are in real plans; where neither the structure nor the counts decide, such a text is
    ambiguous and a reader may take one for a policy goal.
    """
    count = departments if departments is not None else rng.randint(3, 9)
    names = rng.sample(_DEPARTMENTS, count)
    empty_at = None
    if empty_department is None:
        empty_department = rng.random() < 0.5
    if empty_department:
        empty_at = rng.randrange(count)
    bulleted_at = None
    if bulleted_goal is None:
        bulleted_goal = rng.random() < 0.5
    if bulleted_goal:
        bulleted_at = rng.choice([i for i in range(count) if i != empty_at] or [None])

    plan = PlanData(has_summary=True, has_hierarchy=True, has_unit_programs=False)
    for index, name in enumerate(names):
        dept = DepartmentData(name=name)
        plan.departments.append(dept)
        if index == empty_at:
            continue
        seen = set()
        bulleted = index == bulleted_at
        goals = 2 if rng.random() < 0.15 and not bulleted else 1
        for _goal in range(goals):
            goal = StrategicGoalData(
                name=_unique(lambda r, b=bulleted: _strategic_name(r, b), rng, seen),
                budget=Decimal(rng.randint(50, 300_000)),
            )
            dept.strategic_goals.append(goal)
            for _policy in range(rng.randint(1, max_policy_goals)):
                policy = PolicyGoalData(name=_unique(_policy_name, rng, seen))
                goal.policy_goals.append(policy)
                for _indicator in range(rng.randint(1, max_indicators)):
                    policy.indicators.append(
                        IndicatorData(
                            name=_unique(lambda r: _indicator_name(r, tricky_names), rng, seen)
                        )
                    )
    fill_figures(plan, rng)
    return plan


def fill_figures(plan, rng):
    """Shares from the budgets and table 가's rows from the hierarchy (plus some money)."""
    goals = [goal for dept in plan.departments for goal in dept.strategic_goals]
    programme = sum((goal.budget or 0) for goal in goals) or Decimal(1)
    for goal in goals:
        goal.share = (Decimal(goal.budget or 0) * 100 / programme).quantize(Decimal("0.01"))
    total = Figures(0, 0, 0, 0, Decimal(0), Decimal(0), Decimal(0))
    for dept in plan.departments:
        policies = [p for goal in dept.strategic_goals for p in goal.policy_goals]
        budget = sum((goal.budget or 0) for goal in dept.strategic_goals) + rng.randint(0, 3000)
        prior = max(0, budget + rng.randint(-5000, 5000))
        dept.declared = Figures(
            strategic_goals=len(dept.strategic_goals),
            policy_goals=len(policies),
            indicators=sum(len(p.indicators) for p in policies),
            unit_programs=len(policies) + rng.randint(0, 2 * len(policies)),
            budget=Decimal(budget),
            prior_budget=Decimal(prior),
            change=Decimal(budget - prior),
        )
        for name in Figures.FIELDS:
            setattr(total, name, getattr(total, name) + getattr(dept.declared, name))
    plan.total = total
    return plan
