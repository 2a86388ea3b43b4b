"""Read a plan's summary tables (가. 총괄, 나. 성과계획 및 재원비중) from PDF-extracted text.

The extraction loses the table grid: a cell is wrapped over several lines, blank lines only
mostly separate cells, page headers and continued goal names repeat at every page top and the
budget/share line of a strategic goal may be glued to the next cell. Table 나 is rebuilt as
a sequence of text blocks; which block is a policy goal and which an indicator (and which
block holds both) is decided per department by a small dynamic programme that respects the
table's structure and prefers the counts table 가 declares. Counts the text cannot satisfy are
reported as conflicts; nothing is invented or dropped.

Before that, cells are cut and joined by what the text shows for certain: each column's wrap
width, learned from the text (a line with room for the next word ended its cell), and pieces
after a blank line that no name starts with (a particle, a closing bracket). Every
reconstruction the text does not settle on its own is listed, with its lines, in the plan's
warnings, which the import preview shows.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import gettext as _

from perfplan.numbers import NumberFormatError, parse_count, parse_number

from .plan_data import (
    DepartmentData,
    Figures,
    IndicatorData,
    PlanData,
    PolicyGoalData,
    SourceRef,
    StrategicGoalData,
)


class PlanTextError(ValueError):
    """The input is not the text of a plan's summary tables (message in the user's language)."""


@dataclass
class ParsedPlanText:
    plan: PlanData
    conflicts: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------------------------
# Decoding


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM) or CP949 bytes as text with LF line endings."""
    if isinstance(data, str):
        text = data
    else:
        data = bytes(data)
        if b"\x00" in data:
            raise PlanTextError(_not_text_message())
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                text = data.decode("cp949")
            except UnicodeDecodeError as exc:
                raise PlanTextError(_not_text_message()) from exc
    text = text.lstrip("\ufeff")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _not_text_message():
    return _(
        "The file is not text in UTF-8 or CP949: expected the text of a performance plan's "
        "summary tables (성과계획 총괄표)."
    )


# --------------------------------------------------------------------------------------------
# Small text helpers


def _ns(text):
    """Whitespace removed: how names are compared."""
    return "".join(text.split())


def _width(text):
    """Printed width: Hangul and other wide characters 1, the rest (spaces, digits, …) 0.5."""
    return sum(1.0 if unicodedata.east_asian_width(ch) in "WFA" else 0.5 for ch in text)


_BULLETS = "○●◦•◎□■▪-ㆍ"
# Particles and endings that close a word: a wrap right after them was at a space.
_WORD_ENDS = tuple("를 을 와 과 는 은 및 한 고 며 에 으로 하여".split())
_CLOSERS = ")]}.,%·"


def _join(lines, cap):
    """Join a wrapped cell. A space is put back where the previous line had room for the next
    line's first character: the wrap was then at a word boundary, whose space it ate."""
    out = ""
    prev = ""
    for line in lines:
        if not out:
            out = line
        elif line[0] in _CLOSERS or out.endswith(("(", "[")):
            out += line
        elif line[0] in _BULLETS or out.endswith(","):
            out += " " + line
        elif _width(prev) + 0.5 + _width(line[0]) <= cap or prev.endswith(_WORD_ENDS):
            out += " " + line
        else:
            out += line
        prev = line
    return out


def _tokens_only(text, tokens):
    """Whether `text` (whitespace removed) is a concatenation of `tokens`."""
    if not text:
        return False
    ok = [True] + [False] * len(text)
    for i in range(len(text)):
        if ok[i]:
            for token in tokens:
                if text.startswith(token, i):
                    ok[i + len(token)] = True
    return ok[-1]


# Column headers; they repeat at each page top.
_HEADER_A = tuple(
    "3.성과계획총괄표 (단위:개,백만원) (단위:백만원,개) 실국명 성과계획 예산액 전략목표수 "
    "정책사업목표 개수 지표수 단위사업수 전년도예산액 비교증감 성과지표수 정책사업목표수 "
    "가.총괄".split()
)
_HEADER_B = tuple("전략목표명 (실국명) 정책사업목표명 성과지표명 예산액 (백만원) 비중(%)".split())
_PAGE_NUMBER = re.compile(r"^[-–]\s*\d+\s*[-–]$")

_AMOUNT = r"[△▲\-−]?\s?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
_ROW_A = re.compile(
    rf"^(?P<name>.*?)\s*(?P<sg>\d+)\s+(?P<pg>\d+)\s+(?P<ind>\d+)\s+(?P<up>\d+)\s+"
    rf"(?P<budget>{_AMOUNT})\s+(?P<prior>{_AMOUNT})\s+(?P<change>{_AMOUNT})$"
)
_TOTAL_NAMES = ("계", "합계", "총계")
_HEADING_A = re.compile(r"^가\s*[.)]\s*총\s*괄")
_HEADING_B = re.compile(r"^나\s*[.)]\s*성\s*과\s*계\s*획")
# A strategic goal's budget and share (share always with decimals), maybe glued to a cell.
_BUDGET_LINE = re.compile(
    r"^(?P<budget>(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?)\s+(?P<share>\d{1,3}\.\d+)(?![\d.,])"
    r"\s*(?P<rest>.*)$"
)


# --------------------------------------------------------------------------------------------
# Table 가


@dataclass
class _RowA:
    name: str
    figures: Figures
    line: int


def _parse_table_a(lines, start, end, filename):
    rows = []
    pending = []  # a department name wrapped onto the lines before its row
    for no in range(start, end):
        text = lines[no].strip()
        if not text:
            continue
        match = _ROW_A.match(text)
        if not match:
            if (
                rows
                and not any(ch.isdigit() for ch in text)
                and not _tokens_only(_ns(text), _HEADER_A)
            ):
                pending.append(text)
            continue
        name = "".join(pending + [match["name"].strip()]) if rows else match["name"].strip()
        pending = []
        if not name:
            continue
        try:
            figures = Figures(
                strategic_goals=parse_count(match["sg"]),
                policy_goals=parse_count(match["pg"]),
                indicators=parse_count(match["ind"]),
                unit_programs=parse_count(match["up"]),
                budget=parse_number(_ns(match["budget"])),
                prior_budget=parse_number(_ns(match["prior"])),
                change=parse_number(_ns(match["change"])),
            )
        except NumberFormatError:
            continue
        rows.append(_RowA(name, figures, no + 1))
    total = next((row for row in rows if _ns(row.name) in _TOTAL_NAMES), None)
    if total is None:
        if not rows:
            raise PlanTextError(_table_a_message())
        raise PlanTextError(_("Table 가 (총괄) has no total row (계)."))
    departments = []
    seen = set()
    for row in rows:
        if row is total:
            continue
        key = _ns(row.name)
        if key in seen:
            raise PlanTextError(
                _("Table 가 lists the department %(department)s twice (line %(line)s).")
                % {"department": row.name, "line": row.line}
            )
        seen.add(key)
        departments.append(
            DepartmentData(
                name=row.name, declared=row.figures, source=SourceRef(filename, row.line)
            )
        )
    if not departments:
        raise PlanTextError(_table_a_message())
    return total.figures, departments


def _table_a_message():
    return _(
        "This is not the text of a performance plan's summary tables: expected table 가 "
        "(총괄) with a 계 row and one row per department (name, numbers of strategic goals, "
        "policy goals, indicators and unit programs, budget, prior-year budget, change), "
        "followed by table 나 (성과계획 및 재원비중)."
    )


# --------------------------------------------------------------------------------------------
# Table 나: lines → units


@dataclass
class _Line:
    text: str
    no: int  # 1-based line number in the file
    key: str = field(init=False)  # text without whitespace
    rejoined: bool = False  # the piece after a blank line that _merge_fragments put back

    def __post_init__(self):
        self.key = _ns(self.text)


@dataclass
class _Block:
    lines: list[_Line]

    def prefix_keys(self):
        """Whitespace-free text of the first 1, 2, … lines."""
        keys, acc = [], ""
        for line in self.lines:
            acc += line.key
            keys.append(acc)
        return keys


@dataclass
class _SgUnit:
    dept: DepartmentData
    name: str
    line: int


@dataclass
class _BudgetUnit:
    budget: Decimal
    share: Decimal
    line: int


def _is_header_b(text):
    return _tokens_only(_ns(text), _HEADER_B)


def _table_b_units(lines, start):
    """Table 나 as _BudgetUnit and _Block (consecutive non-blank lines), without page headers.

    Page breaks need no marker: a page top shows as the strategic goal's name repeated."""
    units = []
    block = None
    no = start
    while no < len(lines):
        raw = lines[no]
        if "\f" in raw:  # pdftotext's page break
            block = None
            raw = raw.replace("\f", "")
        text = raw.strip()
        if not text or _PAGE_NUMBER.match(text):
            block = None
            no += 1
            continue
        if _is_header_b(text):
            # A run of header lines is the column header block (at each page top).
            run_end = no
            header_lines = 0
            while run_end < len(lines):
                candidate = lines[run_end].replace("\f", "").strip()
                if candidate and not _is_header_b(candidate):
                    break
                header_lines += bool(candidate)
                run_end += 1
            if header_lines >= 3 or _ns(text).startswith("전략목표명"):
                block = None
                no = run_end
                continue
        match = _BUDGET_LINE.match(text)
        if match:
            units.append(
                _BudgetUnit(parse_number(match["budget"]), parse_number(match["share"]), no + 1)
            )
            block = None
            rest = match["rest"].strip()
            if rest:
                block = _Block([_Line(rest, no + 1)])
                units.append(block)
            no += 1
            continue
        if block is None:
            block = _Block([])
            units.append(block)
        block.lines.append(_Line(text, no + 1))
        no += 1
    return units


# Words that end a phrase, so never start a name: a piece after a blank line that starts with
# one is the end of the cell above, cut by a page or row break ("…조성\n\n에 기여").
_PARTICLES = frozenset(
    "에 에서 을 를 이 가 의 와 과 및 으로 로 등 에게 에의 와의 과의 으로써 로써 로서 으로서 "
    "하는 위한 통한 대한".split()
)
_OPENERS = {"(": ")", "[": "]", "「": "」", "『": "』", "“": "”", "‘": "’", "<": ">", "《": "》"}


def _open_phrase(text):
    """Whether `text` leaves a bracket or quote open (a straight double quote counts in pairs)."""
    depth = {}
    for ch in text:
        if ch in _OPENERS:
            depth[ch] = depth.get(ch, 0) + 1
        else:
            for opener, closer in _OPENERS.items():
                if ch == closer and depth.get(opener):
                    depth[opener] -= 1
    return any(depth.values()) or text.count('"') % 2 == 1


def _continues_cell(previous, block, cap, narrowest):
    """Why `block`, after a blank line, is the end of the `previous` block's last cell rather
    than a cell of its own: "fragment" (only once the narrowest name column's width is known),
    "particle", "closes" (an open bracket or quote), or None. A strategic goal's cell (ended
    by its department in brackets) is never continued."""
    previous_text = _join([line.text for line in previous.lines], cap)
    if _DEPARTMENT_SUFFIX.search(_ns(previous_text)):
        return None
    first = block.lines[0].text
    if (
        narrowest is not None
        and len(block.lines) == 1
        and len(_ns(first)) <= 2
        and _width(previous.lines[-1].text) > narrowest - 1.5
    ):
        return "fragment"  # a lone last syllable or bracket ("…기\n\n여")
    if first.split()[0] in _PARTICLES:
        return "particle"
    if _open_phrase(previous_text) and not _open_phrase(previous_text + _ns(first)):
        return "closes"
    return None


def _merge_fragments(units, cap, narrowest, guesses):
    """Pieces after a blank line that cannot start a name end the cell above (see
    _continues_cell); each such reconstruction is a guess the preview shows."""
    merged = []
    for unit in units:
        if isinstance(unit, _Block) and merged and isinstance(merged[-1], _Block):
            previous = merged[-1]
            if _continues_cell(previous, unit, cap, narrowest):
                guesses.append(
                    (
                        unit.lines[0].no,
                        _(
                            "Lines %(first)s–%(last)s: the piece “%(piece)s” after a blank line "
                            "was read as the end of the name above it, “%(name)s”."
                        )
                        % {
                            "first": previous.lines[-1].no,
                            "last": unit.lines[-1].no,
                            "piece": " ".join(line.text for line in unit.lines),
                            "name": _join([line.text for line in previous.lines], cap),
                        },
                    )
                )
                unit.lines[0].rejoined = True
                previous.lines.extend(unit.lines)
                continue
        merged.append(unit)
    return merged


# Widths are counted in half-character steps (Hangul 1, the rest 0.5) where the PDF's font
# is proportional: a cut with only this much room to spare is a guess.
_NARROW_ROOM = 1.0


def _short_line_message(line, following):
    return _(
        "Lines %(first)s–%(last)s: “%(line)s” has room for “%(word)s” but does not hold it, so "
        "it was read as the end of its name (a narrow margin: check the two names)."
    ) % {
        "first": line.no,
        "last": following.no,
        "line": line.text,
        "word": following.text.split()[0],
    }


def _split_at_short_lines(units, cap, guesses):
    """A line that leaves room for the next line's first word ends its cell even without a
    blank line after it: the wrap would have put the word on it (a one-line policy goal
    printed right above its first indicator). A line that fills the column, or whose next
    word would not fit, may continue; the programme below decides those. `cap` is the name
    columns' width, learned from the text (_line_capacity)."""
    out = []
    for unit in units:
        if not isinstance(unit, _Block) or len(unit.lines) < 2:
            out.append(unit)
            continue
        start = 0
        for index in range(len(unit.lines) - 1):
            line, following = unit.lines[index], unit.lines[index + 1]
            if following.rejoined:
                continue
            room = cap - _width(line.text) - 0.5 - _width(following.text.split()[0])
            if room > 0:
                out.append(_Block(unit.lines[start : index + 1]))
                start = index + 1
                if room <= _NARROW_ROOM:
                    guesses.append((line.no, _short_line_message(line, following)))
        out.append(_Block(unit.lines[start:]) if start else unit)
    return out


def _strip_department(text, departments):
    """If `text` ends with "(<department>)", return (department, text before the bracket)."""
    key = _ns(text)
    for dept in departments:
        suffix = "(" + _ns(dept.name) + ")"
        if key.endswith(suffix):
            # Find the bracket in the original text: count non-space characters.
            keep = len(key) - len(suffix)
            seen = 0
            for index, ch in enumerate(text):
                if seen == keep:
                    return dept, text[:index].strip()
                if not ch.isspace():
                    seen += 1
            return dept, text.strip()
    return None


def _split_strategic_goals(units, departments, cap):
    """Turn blocks ending in "(<department>)" into strategic-goal units."""
    out = []
    for unit in units:
        if not isinstance(unit, _Block):
            out.append(unit)
            continue
        lines = unit.lines
        start = 0
        for index in range(len(lines)):
            texts = [line.text for line in lines[start : index + 1]]
            found = _strip_department(_join(texts, cap), departments)
            if found:
                dept, name = found
                out.append(_SgUnit(dept, name, lines[start].no))
                start = index + 1
        if start < len(lines):
            rest = _Block(lines[start:])
            _refuse_unknown_department(rest, cap)
            out.append(rest)
    return out


# "(…국)", "(…담당관)": how a strategic goal names its department.
_DEPARTMENT_SUFFIX = re.compile(r"\(([가-힣]{2,15}(?:국|실|과|소|단|담당관|센터|본부|의회))\)$")


def _refuse_unknown_department(block, cap):
    """A strategic goal of a department table 가 does not list cannot be placed anywhere."""
    match = _DEPARTMENT_SUFFIX.search(_ns(_join([line.text for line in block.lines], cap)))
    if match:
        raise PlanTextError(
            _(
                "Line %(line)s: table 나 has a strategic goal of the department %(department)s, "
                "which table 가 does not list."
            )
            % {"line": block.lines[0].no, "department": match.group(1)}
        )


# --------------------------------------------------------------------------------------------
# Telling policy goals from indicators


# Name endings and how surely they mark a policy goal (+) or an indicator (-).
_ENDINGS = {
    5.0: "구현 실현 향상 강화 활성화 증진 확충 육성 정착 확립 도모 기여 선도 극대화 고도화 "
    "선진화 효율화 한다",
    3.0: "조성 추진 지원 관리 보호 확산 제공 건설 수립 해소 보장 개선 구축 예방 창출 안정 혁신 "
    "실천 정비 보전 계승 발전 도약 대응 최소화 만들기 내실화",
    -5.0: ") 율 률 실적 도 수 %",
    -3.0: "액 면적 인원 시간 개소 등급 평가 건 회 명 등 량 비 일 km 개",
}
_ENDING_WEIGHTS = sorted(
    ((ending, weight) for weight, endings in _ENDINGS.items() for ending in endings.split()),
    key=lambda pair: -len(pair[0]),
)
# Never the end of a name: particles and connectives.
_CONNECTIVE_ENDINGS = tuple(
    "를 는 및 으로 에서 위한 통한 하는 하고 하며 적인 이며 에게 이고 있는 없는 되는 와의 과의".split()
)
_SINGLE_WORD_ENDS = tuple("수 등 및 율 률 도".split())
# Never the start of a name.
_CONTINUATION_STARTS = tuple("및 등 의 을 를 로 으로 에 와 과".split())


def _ending_weight(key):
    key = key.rstrip(".")
    for ending, weight in _ENDING_WEIGHTS:
        if key.endswith(ending):
            return weight
    return 0.0


def _pg_likeness(text):
    """Positive reads like a policy goal, negative like an indicator.

    The ending says most (goals end in 구현, 조성, 강화 …; indicators in 율, 실적, 만족도 …);
    length breaks ties: goals run to about 18 characters, indicators to about 10.
    """
    key = _ns(text)
    if not key:
        return 0.0
    return _ending_weight(key) + max(-1.5, min(1.5, (len(key) - 13) / 5))


def _short_penalty(text):
    return 12.0 if len(_ns(text)) <= 2 else 0.0  # "실적" alone is the end of a name


_SPLIT_BASE = 4.0  # a one-line goal glued to its indicator, with nothing against it
_SPLIT_UNLIKELY = 16.0  # not even offered: no count could justify it


def _split_cost(block, cap, k=1):
    """How unlikely it is that the block's first k lines are a whole policy goal printed
    without a blank line before its first indicator."""
    first = block.lines[k - 1].text
    rest = block.lines[k].text
    cost = _SPLIT_BASE
    if cap - _width(first) <= 1:
        cost += 8  # the line was full: an ordinary wrap
    if _ns(first).endswith(_CONNECTIVE_ENDINGS):
        cost += 8
    words = first.split()
    if len(words) > 1 and len(words[-1]) == 1 and words[-1] not in _SINGLE_WORD_ENDS:
        cost += 6  # a lone syllable after a space: the wrap split a word
    word = rest.split()[0]
    if rest[0] in _CLOSERS or word in _CONTINUATION_STARTS or word.startswith(("율", "률")):
        cost += 10  # "및 …", "율(%)": the line goes on with the same name
    return cost


# --------------------------------------------------------------------------------------------
# The per-department dynamic programme

_PG, _IND = "PG", "IND"
# Last thing seen: new strategic goal, continued one, policy goal, indicator, continued PG.
_S_NEW, _S_CONT, _S_PG, _S_IND, _S_PGC = range(5)

_HARD = 1000.0  # what the format never does
_BIG = 100.0  # a policy goal without indicators
_MEDIUM = 25.0  # a page top or budget line out of its usual place
_COUNT = 12.0  # being off table 가's count at all
_COUNT_MORE = 3.0  # each further entry off: a count far off is a wrong declaration, not a
# sign of entries hidden in the text, so it must not pull cells apart


def _count_penalty(found, declared):
    if declared is None or found == declared:
        return 0.0
    return _COUNT + _COUNT_MORE * (abs(found - declared) - 1)


@dataclass
class _Option:
    cells: list  # (label, first line index, end line index) within the block
    score: float


@dataclass
class _BlockInfo:
    block: _Block
    forced: str | None = None  # "PG", "IND" or "SPLIT:<k>"
    options: list = field(default_factory=list)


def _block_options(info, cap):
    block = info.block
    lines = [line.text for line in block.lines]
    text = _join(lines, cap)
    f = _pg_likeness(text)
    short = _short_penalty(text)
    options = []
    forced = info.forced
    if forced in (None, _PG):
        options.append(_Option([(_PG, 0, len(lines))], f - short))
    if forced in (None, _IND):
        options.append(_Option([(_IND, 0, len(lines))], -f - short))
    splits = []
    if forced and forced.startswith("SPLIT:"):
        splits = [int(forced[6:])]
    elif (
        forced is None
        and len(lines) > 1
        and _ending_weight(block.lines[0].key) > 0  # a one-line goal ends like one
        and _split_cost(block, cap) < _SPLIT_UNLIKELY
    ):
        splits = [1]
    for k in splits:
        head = _join(lines[:k], cap)
        tail = _join(lines[k:], cap)
        score = _pg_likeness(head) - _pg_likeness(tail) - _split_cost(block, cap, k)
        score -= _short_penalty(head) + _short_penalty(tail)
        options.append(_Option([(_PG, 0, k), (_IND, k, len(lines))], score))
    info.options = options


_BEAM = 60.0  # partial readings this far behind the best are dropped


def _option_step(state, option, score):
    """The state after a block read as `option`, and `score` less what the format's order
    says against it (a goal after a goal, an indicator before any goal…)."""
    pgs, inds, last, since = state
    for label, _a, _b in option.cells:
        if label == _PG:
            if last == _S_PG:
                score -= _BIG
            elif last == _S_PGC:
                score -= _MEDIUM
            pgs, last = pgs + 1, _S_PG
        else:
            if last == _S_NEW or last is None:
                score -= _HARD
            elif last == _S_CONT:
                score -= _MEDIUM
            inds, last, since = inds + 1, _S_IND, min(since + 1, 2)
    return (pgs, inds, last, since), score


def _transitions(state, score, item, infos):
    """Each reading of `item` after `state`: (next state, score, (state, option index))."""
    pgs, inds, last, since = state
    kind = item[0]
    if kind == "sg":
        penalty = _BIG if last in (_S_PG, _S_NEW) else 0.0
        new_last = _S_NEW if item[1] else _S_CONT
        yield (pgs, inds, new_last, 0), score - penalty, (state, None)
    elif kind == "pgc":
        yield (pgs, inds, _S_PGC, since), score, (state, None)
    elif kind == "budget":
        penalty = 0.0 if since == 1 and last == _S_IND else _MEDIUM
        yield state, score - penalty, (state, None)
    else:
        for index, option in enumerate(infos[item[1]].options):
            next_state, next_score = _option_step(state, option, score + option.score)
            yield next_state, next_score, (state, index)


def _final_score(state, score, declared):
    """A complete reading's score: it must end on an indicator and match table 가's counts."""
    pgs, inds, last, _since = state
    if last in (_S_PG, _S_NEW, None):
        score -= _BIG
    if declared is not None:
        score -= _count_penalty(pgs, declared.policy_goals)
        score -= _count_penalty(inds, declared.indicators)
    return score


def _solve(items, infos, declared):
    """Best labelling of a department's items: (score, chosen option per block index)."""
    # state: (policy goals, indicators, last, indicators since the goal's name on this page)
    states = {(0, 0, None, 0): (0.0, None)}
    history = []
    for item in items:
        new_states = {}
        for state, (score, _back) in states.items():
            for key, next_score, back in _transitions(state, score, item, infos):
                if key not in new_states or next_score > new_states[key][0]:
                    new_states[key] = (next_score, back)
        top = max(score for score, _back in new_states.values())
        new_states = {key: value for key, value in new_states.items() if value[0] >= top - _BEAM}
        history.append(new_states)
        states = new_states

    best = max(states, key=lambda key: _final_score(key, states[key][0], declared))
    best_score = _final_score(best, states[best][0], declared)
    chosen = {}
    state = best
    for item, step in zip(reversed(items), reversed(history), strict=True):
        _score, (previous, option) = step[state]
        if item[0] == "block":
            chosen[item[1]] = option
        state = previous
    return best_score, chosen


# --------------------------------------------------------------------------------------------
# Table 나: units → goals


def _repeat_readings(page_block, earlier):
    """Ways to read a page-top block as the repeated name of the policy goal that continues
    from the previous page: (rank, (position in earlier, k lines of that block or None for all
    of it, lines of page_block taken)). Rank 0 is a whole block repeated as a whole block;
    higher ranks match only first lines. Best rank first, then the latest block."""
    readings = []
    page_keys = page_block.prefix_keys()
    earlier_keys = [info.block.prefix_keys() for info in earlier]
    for kb in range(len(page_keys), 0, -1):
        key = page_keys[kb - 1]
        for position in range(len(earlier) - 1, -1, -1):
            keys = earlier_keys[position]
            if key not in keys:
                continue
            k = keys.index(key) + 1
            rank = (kb < len(page_keys)) * 2 + (k < len(keys))
            readings.append((rank, -position, position, None if k == len(keys) else k, kb))
    readings.sort()
    return [(rank, (position, k, kb)) for rank, _p, position, k, kb in readings]


def _department_runs(units):
    """Units grouped by department, in the order table 나 first names them.

    Item kinds: ("sg", new, unit), ("budget", unit), ("block", block, page_top) where
    page_top marks the first block after a strategic goal repeated at a page top.
    """
    runs = {}
    order = []
    current_dept = None
    current_sg = None
    page_top = False
    for unit in units:
        if isinstance(unit, _SgUnit):
            continuation = (
                current_sg is not None
                and unit.dept is current_dept
                and _ns(unit.name) == _ns(current_sg.name)
            )
            current_dept = unit.dept
            if id(current_dept) not in runs:
                runs[id(current_dept)] = []
                order.append(current_dept)
            if not continuation:
                current_sg = unit
            runs[id(current_dept)].append(("sg", not continuation, current_sg))
            page_top = continuation
            continue
        if current_dept is None:
            line = unit.line if isinstance(unit, _BudgetUnit) else unit.lines[0].no
            raise PlanTextError(
                _(
                    "Line %(line)s: table 나 starts with text that is not a strategic goal "
                    "(a goal name followed by its department in brackets, e.g. "
                    '"… (기획실)").'
                )
                % {"line": line}
            )
        if isinstance(unit, _BudgetUnit):
            runs[id(current_dept)].append(("budget", unit))
        else:
            runs[id(current_dept)].append(("block", unit, page_top))
        page_top = False
    return order, runs


def _interpret(raw, cap):
    """Items and block infos for the solver, with the policy goal names repeated at page tops
    taken out and what they say about the blocks before them (that block, or its first lines,
    is a policy goal; the blocks after it up to the page break are indicators)."""
    items, infos = [], []
    goal_start = 0
    for item in raw:
        if item[0] == "sg":
            items.append(("sg", item[1], item[2]))
            if item[1]:
                goal_start = len(infos)
            continue
        if item[0] == "budget":
            items.append(("budget", item[1]))
            continue
        _kind, block, page_top = item
        if page_top:
            earlier = infos[goal_start:]
            reading = next(
                (
                    reading
                    for rank, reading in _repeat_readings(block, earlier)
                    if _plausible_repeat(rank, block, reading, earlier, cap)
                    and all(later.forced in (None, _IND) for later in earlier[reading[0] + 1 :])
                ),
                None,
            )
            if reading is not None:
                position, k, taken = reading
                earlier[position].forced = _PG if k is None else f"SPLIT:{k}"
                for later in earlier[position + 1 :]:
                    later.forced = _IND
                items.append(("pgc",))
                if taken == len(block.lines):
                    continue
                block = _Block(block.lines[taken:])
        infos.append(_BlockInfo(block))
        items.append(("block", len(infos) - 1))
    return items, infos


def _plausible_repeat(rank, block, reading, earlier, cap):
    """Names are unique within a goal, so a page-top block that repeats a whole earlier cell
    (or is repeated whole) is a repeat. When only first lines match, they must read as a
    one-line policy goal glued to an indicator in both places, or a new goal merely starts
    with the same words."""
    if rank < 3:
        return True
    position, k, taken = reading
    return (
        _ending_weight("".join(line.key for line in block.lines[:taken])) > 0
        and _split_cost(block, cap, taken) < _SPLIT_UNLIKELY
        and _split_cost(earlier[position].block, cap, k) < _SPLIT_UNLIKELY
    )


def _parse_table_b(units, filename, cap, conflicts, guesses):
    """Solve each department of table 나; fills dept.strategic_goals. Returns the departments
    in the order table 나 names them."""
    order, runs = _department_runs(units)
    for dept in order:
        raw = runs[id(dept)]
        items, infos = _interpret(raw, cap)
        for info in infos:
            _block_options(info, cap)
        score, chosen = _solve(items, infos, dept.declared)
        if score <= -_HARD:
            first = next(item[2] for item in raw if item[0] == "sg")
            raise PlanTextError(
                _(
                    "%(department)s: table 나 cannot be read as strategic goal → policy goals → "
                    "indicators (line %(line)s)."
                )
                % {"department": dept.name, "line": first.line}
            )
        _build_department(dept, items, infos, chosen, filename, cap, conflicts)
        _flag_guesses(items, infos, chosen, cap, guesses)
    return order


_AGAINST_READING = 2.0  # how clearly a name must read as the other kind to be flagged


def _flag_guesses(items, infos, chosen, cap, guesses):
    """The readings the programme chose where the text alone does not decide: a block cut into
    a policy goal and its first indicator without a blank line or a short line to show it, and
    a name taken as the other kind than it reads like (by the table's order and table 가's
    counts)."""
    for item in items:
        if item[0] != "block":
            continue
        info = infos[item[1]]
        option = info.options[chosen[item[1]]]
        lines = info.block.lines
        names = [_join([line.text for line in lines[a:b]], cap) for _label, a, b in option.cells]
        if len(option.cells) == 2 and info.forced is None:
            guesses.append(
                (
                    lines[0].no,
                    _(
                        "Lines %(first)s–%(last)s: “%(goal)s” and “%(indicator)s” have no blank "
                        "line between them; they were read as a policy goal and its first "
                        "indicator."
                    )
                    % {
                        "first": lines[0].no,
                        "last": lines[-1].no,
                        "goal": names[0],
                        "indicator": names[1],
                    },
                )
            )
        elif len(option.cells) == 1 and info.forced is None:
            likeness = _pg_likeness(names[0])
            label = option.cells[0][0]
            if label == _IND and likeness > _AGAINST_READING:
                message = _(
                    "Line %(line)s: “%(name)s” reads like a policy goal but was taken as an "
                    "indicator, by the table's order and table 가's counts."
                )
            elif label == _PG and likeness < -_AGAINST_READING:
                message = _(
                    "Line %(line)s: “%(name)s” reads like an indicator but was taken as a "
                    "policy goal, by the table's order and table 가's counts."
                )
            else:
                continue
            guesses.append((lines[0].no, message % {"line": lines[0].no, "name": names[0]}))


def _build_department(dept, items, infos, chosen, filename, cap, conflicts):
    goals = {}  # id(_SgUnit) -> (StrategicGoalData, budget lines)
    goal = None
    policy = None
    for item in items:
        if item[0] == "sg":
            unit = item[2]
            if item[1]:
                goal = StrategicGoalData(name=unit.name, source=SourceRef(filename, unit.line))
                goals[id(unit)] = (goal, [])
                dept.strategic_goals.append(goal)
                policy = None
            current = goals[id(unit)]
            continue
        if item[0] == "budget":
            current[1].append(item[1])
            continue
        if item[0] != "block":
            continue
        info = infos[item[1]]
        option = info.options[chosen[item[1]]]
        lines = info.block.lines
        for label, a, b in option.cells:
            name = _join([line.text for line in lines[a:b]], cap)
            source = SourceRef(filename, lines[a].no)
            if label == _PG:
                policy = PolicyGoalData(name=name, source=source)
                goal.policy_goals.append(policy)
            else:
                # The programme never puts an indicator before a goal's first policy goal.
                policy.indicators.append(IndicatorData(name=name, source=source))
    for goal, found in goals.values():
        if not found:
            conflicts.append(
                _(
                    "%(department)s: table 나 gives no budget and share for the strategic "
                    "goal %(goal)s."
                )
                % {"department": dept.name, "goal": goal.name}
            )
            continue
        goal.budget, goal.share = found[0].budget, found[0].share
        for other in found[1:]:
            if (other.budget, other.share) != (goal.budget, goal.share):
                conflicts.append(
                    _(
                        "%(department)s: the strategic goal %(goal)s has different budgets in "
                        "table 나 (line %(line)s: %(first)s, line %(other_line)s: %(other)s); "
                        "the first is kept."
                    )
                    % {
                        "department": dept.name,
                        "goal": goal.name,
                        "line": found[0].line,
                        "first": f"{found[0].budget} {found[0].share}",
                        "other_line": other.line,
                        "other": f"{other.budget} {other.share}",
                    }
                )
                break


def _count_conflicts(dept, conflicts):
    declared = dept.declared
    found_sg = len(dept.strategic_goals)
    found_pg = sum(len(goal.policy_goals) for goal in dept.strategic_goals)
    found_ind = sum(
        len(policy.indicators) for goal in dept.strategic_goals for policy in goal.policy_goals
    )
    params = {"department": dept.name}
    if declared.strategic_goals is not None and declared.strategic_goals != found_sg:
        conflicts.append(
            _(
                "%(department)s: table 가 declares %(declared)s strategic goals but table 나 "
                "has %(found)s."
            )
            % {**params, "declared": declared.strategic_goals, "found": found_sg}
        )
    if declared.policy_goals is not None and declared.policy_goals != found_pg:
        conflicts.append(
            _(
                "%(department)s: table 가 declares %(declared)s policy goals but table 나 "
                "has %(found)s."
            )
            % {**params, "declared": declared.policy_goals, "found": found_pg}
        )
    if declared.indicators is not None and declared.indicators != found_ind:
        conflicts.append(
            _(
                "%(department)s: table 가 declares %(declared)s indicators but table 나 "
                "has %(found)s."
            )
            % {**params, "declared": declared.indicators, "found": found_ind}
        )
    for goal in dept.strategic_goals:
        for policy in goal.policy_goals:
            if not policy.indicators:
                conflicts.append(
                    _("%(department)s: the policy goal %(goal)s has no indicator in table 나.")
                    % {**params, "goal": policy.name}
                )


# --------------------------------------------------------------------------------------------
# Entry point


def parse_plan_text(data: bytes | str, filename: str = "") -> ParsedPlanText:
    """Read tables 가 and 나 from the text of a plan's 성과계획 총괄표 (PDF-to-text output)."""
    text = decode_text(data)
    if not text.strip():
        raise PlanTextError(
            _(
                "The file is empty: expected the text of a performance plan's summary tables "
                "(성과계획 총괄표)."
            )
        )
    lines = text.split("\n")
    heading_b = None
    heading_a = None
    for no, line in enumerate(lines):
        key = line.strip()
        if heading_a is None and _HEADING_A.match(key):
            heading_a = no
        if _HEADING_B.match(key):
            heading_b = no
            break
    end_a = heading_b if heading_b is not None else len(lines)
    total, departments = _parse_table_a(lines, heading_a or 0, end_a, filename)
    if heading_b is None:
        raise PlanTextError(
            _(
                "Table 나 (성과계획 및 재원비중) is missing: the text ends after table 가 "
                "(총괄). Expected the whole 성과계획 총괄표."
            )
        )

    units = _table_b_units(lines, heading_b + 1)
    units = _split_strategic_goals(units, departments, _block_capacity(units))
    # The strategic goal column may wrap at another width; the rest is the name columns'.
    cap = _block_capacity(units)
    guesses = []  # (line, message): reconstructions that needed a guess
    # Pieces that start with a particle or close a bracket first: read apart, they would
    # pass for cells of the other column in the reading that learns the widths.
    units = _merge_fragments(units, cap, None, guesses)
    narrowest = _narrowest_name_column(units, cap)
    units = _merge_fragments(units, cap, narrowest, guesses)
    units = _split_at_short_lines(units, narrowest, guesses)
    if not any(isinstance(unit, _SgUnit) for unit in units):
        raise PlanTextError(
            _(
                "Table 나 names no strategic goal: expected goal names followed by their "
                'department in brackets, e.g. "… (기획실)".'
            )
        )

    conflicts = []
    found = _parse_table_b(units, filename, cap, conflicts, guesses)
    _check_missing(departments, found)
    for dept in departments:
        _count_conflicts(dept, conflicts)
    plan = PlanData(
        departments=departments,
        total=total,
        has_summary=True,
        has_hierarchy=True,
        has_unit_programs=False,
        warnings=[message for _line, message in sorted(guesses, key=lambda guess: guess[0])],
    )
    return ParsedPlanText(plan=plan, conflicts=conflicts)


def _narrowest_name_column(units, cap):
    """The narrower of the policy goal and indicator columns' wrap widths. They are learned
    from a first reading without width cuts (the widest width several wrapped lines of each
    kind reach: a cell's last line shows nothing of its column, and a piece a blank line cut
    off may be read wrongly here), as the columns are told apart only by reading; the narrower
    one is used for the cuts, since a line short for it is short for either column."""
    widths = {_PG: [], _IND: []}
    order, runs = _department_runs(units)
    for dept in order:
        items, infos = _interpret(runs[id(dept)], cap)
        for info in infos:
            _block_options(info, cap)
        _score, chosen = _solve(items, infos, dept.declared)
        for index, info in enumerate(infos):
            for label, a, b in info.options[chosen[index]].cells:
                widths[label] += [_width(line.text) for line in info.block.lines[a : b - 1]]
    return min(_line_capacity(found) if found else cap for found in widths.values())


def _block_capacity(units):
    """The wrap width of the text blocks among `units`: the name columns' once the strategic
    goals are taken out (the format prints the policy goal and indicator columns equally wide;
    the seed wraps both at ten Hangul characters)."""
    return _line_capacity(
        [_width(line.text) for unit in units if isinstance(unit, _Block) for line in unit.lines]
    )


def _line_capacity(widths):
    """The width cells are wrapped at: the widest line width that several lines reach (one
    long stray line, a footnote say, does not count)."""
    counts = {}
    for width in widths:
        counts[width] = counts.get(width, 0) + 1
    common = [width for width, count in counts.items() if count >= 3]
    return max(common or widths or [10.0])


def _check_missing(departments, found):
    """Departments table 가 gives goals but table 나 never reaches: the text was cut short."""
    found_ids = {id(dept) for dept in found}
    last = max(index for index, dept in enumerate(departments) if id(dept) in found_ids)
    missing = [
        dept.name
        for dept in departments[last + 1 :]
        if id(dept) not in found_ids and (dept.declared.strategic_goals or 0) > 0
    ]
    if missing:
        raise PlanTextError(
            _(
                "Table 나 ends before the departments %(departments)s that table 가 declares "
                "goals for: the text seems cut short."
            )
            % {"departments": ", ".join(missing)}
        )
