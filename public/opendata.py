"""Open data files of a published plan year, in the 공공데이터 open-format conventions.

One table per file; Korean headers (the same in every language: they are the data's
names); for each coded value a code column and a name column (부서코드/부서명,
상태코드/상태명); numbers as plain numbers (no thousands separators, no units: the unit is a
column). Each table as CSV in UTF-8 with a BOM (Excel opens it as Korean) and in CP949 (as
Korean Excel saves), and as JSON. The column dictionary (DATASETS) is published beside the
files (public/templates: dictionary.html) and the files are built from it, so the two agree.

Only what public.data reads: published plans, approved results.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import orjson
from django.utils.translation import gettext_lazy as _
from django.utils.translation import override

from indicators.models import Aggregation, Direction, Frequency, IndicatorType
from indicators.periods import period_label
from indicators.tracking.rows import is_sample_row
from indicators.tracking.rules import STATUS_LABELS
from perfplan.numbers import json_number

from .data import TOTAL_NAME

SAMPLE_YES, SAMPLE_NO = "Y", "N"
# What CP949 cannot hold, replaced by its nearest CP949 character (else "?").
CP949_SUBSTITUTES = str.maketrans({"–": "-", "—": "-", "‧": "·", "∼": "~", "‘": "'", "’": "'"})


@dataclass(frozen=True)
class Column:
    header: str  # Korean, as published
    kind: str  # 문자, 숫자, 코드, 날짜
    description: object  # lazy text
    example: str = ""


def _choices_name(choices, value):
    """A choice's Korean name, the part in brackets when the label carries one."""
    if not value:
        return ""
    with override("ko"):
        label = str(dict(choices.choices).get(value, value))
    if "(" in label and label.endswith(")"):
        return label[label.rindex("(") + 1 : -1]
    return label


def _status_name(status):
    with override("ko"):
        return str(STATUS_LABELS.get(status, ""))


def _department_code(plan_department):
    department = plan_department.department
    if department is None:
        return ""
    return department.code or f"D{department.pk}"


def _number(value):
    return json_number(value)


SUMMARY_COLUMNS = (
    Column("회계연도", "숫자", _("The plan's fiscal year."), "2026"),
    Column(
        "부서코드", "코드", _("The department's code (D and a number where it has none)."), "D1"
    ),
    Column(
        "부서명",
        "문자",
        _("The department (실국) as the plan names it; 계 is the total row."),
        "의회사무국",
    ),
    Column("전략목표수", "숫자", _("Strategic goals, as the plan declares."), "1"),
    Column("정책사업목표수", "숫자", _("Policy program goals, as the plan declares."), "1"),
    Column("성과지표수", "숫자", _("Indicators, as the plan declares."), "3"),
    Column("단위사업수", "숫자", _("Unit programs, as the plan declares."), "5"),
    Column("예산액", "숫자", _("Budget in million won (백만원)."), "948"),
    Column("전년도예산액", "숫자", _("Prior-year budget in million won (백만원)."), "1025"),
    Column("비교증감", "숫자", _("Change from the prior year in million won (백만원)."), "-77"),
)

INDICATOR_COLUMNS = (
    Column("회계연도", "숫자", _("The plan's fiscal year."), "2026"),
    Column(
        "부서코드", "코드", _("The department's code (D and a number where it has none)."), "D1"
    ),
    Column("부서명", "문자", _("The department (실국) as the plan names it."), "의회사무국"),
    Column("전략목표명", "문자", _("The strategic goal."), ""),
    Column(
        "전략목표예산액", "숫자", _("The strategic goal's budget in million won (백만원)."), "948"
    ),
    Column(
        "전략목표비중", "숫자", _("The strategic goal's share of the plan's budget (%)."), "0.28"
    ),
    Column("정책사업목표명", "문자", _("The policy program goal."), ""),
    Column(
        "지표번호",
        "코드",
        _("The indicator's number in this system (stable across downloads)."),
        "101",
    ),
    Column(
        "지표코드", "코드", _("The indicator's code in the plan (blank where it has none)."), ""
    ),
    Column("성과지표명", "문자", _("The indicator."), ""),
    Column("단위", "문자", _("The unit of its values."), "%"),
    Column("지표방향코드", "코드", _("higher, lower or range."), "higher"),
    Column("지표방향명", "문자", _("The direction's Korean name (상향, 하향, 범위)."), "상향"),
    Column("지표유형코드", "코드", _("input, process, output or outcome."), "outcome"),
    Column("지표유형명", "문자", _("The type's Korean name (투입, 과정, 산출, 결과)."), "결과"),
    Column("측정산식", "문자", _("How the indicator is measured."), ""),
    Column("자료출처", "문자", _("Where its figures come from."), ""),
    Column("측정주기코드", "코드", _("monthly, quarterly, half_yearly or yearly."), "quarterly"),
    Column("측정주기명", "문자", _("The frequency's Korean name."), "분기"),
    Column("집계방식코드", "코드", _("sum, latest or average."), "sum"),
    Column("집계방식명", "문자", _("The aggregation's Korean name (누계, 최신값, 평균)."), "누계"),
    Column("전년도실적", "숫자", _("The baseline: the prior year's value."), "85"),
    Column("목표치", "숫자", _("The annual target."), "90"),
    Column("목표범위하한", "숫자", _("A range indicator's lower bound."), ""),
    Column("목표범위상한", "숫자", _("A range indicator's upper bound."), ""),
    Column("실적기준기간", "문자", _("The last period with an approved result."), "2분기"),
    Column("누적목표", "숫자", _("The target up to that period."), "45"),
    Column("실적", "숫자", _("The approved value up to that period (by its aggregation)."), "47"),
    Column("달성률", "숫자", _("Achievement rate (%), from approved results only."), "104.44"),
    Column(
        "상태코드",
        "코드",
        _("achieved, caution, behind or no_data (no approved result yet)."),
        "achieved",
    ),
    Column(
        "상태명",
        "문자",
        _("The status's Korean name (달성, 주의, 미흡, 자료 없음)."),
        "달성",
    ),
    Column(
        "예시데이터여부", "코드", _("Y: sample data made for the demonstration, not real."), "N"
    ),
)

RESULT_COLUMNS = (
    Column("회계연도", "숫자", _("The plan's fiscal year."), "2026"),
    Column(
        "부서코드", "코드", _("The department's code (D and a number where it has none)."), "D1"
    ),
    Column("부서명", "문자", _("The department (실국) as the plan names it."), "의회사무국"),
    Column(
        "지표번호",
        "코드",
        _("The indicator's number in this system (stable across downloads)."),
        "101",
    ),
    Column("성과지표명", "문자", _("The indicator."), ""),
    Column("기간코드", "코드", _("The period: M01–M12, Q1–Q4, H1–H2 or Y."), "Q1"),
    Column("기간명", "문자", _("The period as read: 1월, 1분기, 상반기, 연간."), "1분기"),
    Column("기간목표", "숫자", _("The period's target."), "20"),
    Column("실적", "숫자", _("The period's approved value."), "21"),
    Column(
        "예시데이터여부", "코드", _("Y: sample data made for the demonstration, not real."), "N"
    ),
)


@dataclass(frozen=True)
class Dataset:
    key: str
    title: object
    filename: str  # Korean file stem (the year is added)
    columns: tuple

    @property
    def headers(self):
        return [c.header for c in self.columns]


DATASETS = {
    "summary": Dataset("summary", _("Plan summary (table 가)"), "성과계획_총괄", SUMMARY_COLUMNS),
    "indicators": Dataset(
        "indicators", _("Indicators and achievement"), "성과지표_달성도", INDICATOR_COLUMNS
    ),
    "results": Dataset(
        "results", _("Approved results by period"), "성과지표_기간별실적", RESULT_COLUMNS
    ),
}


def summary_records(data):
    year = data.plan.fiscal_year
    out = []
    for row in data.table_ga:
        department = row["department"]
        out.append(
            [
                year,
                _department_code(department) if department else "",
                row["name"] if department else TOTAL_NAME,
                row["strategic_goals"],
                row["policy_goals"],
                row["indicators"],
                row["unit_programs"],
                _number(row["budget"]),
                _number(row["prior_budget"]),
                _number(row["change"]),
            ]
        )
    return out


def _codes(data):
    return {d.pk: _department_code(d) for d in data.departments}


def _indicator_record(year, row, goal_figures, codes):
    indicator, department = row.indicator, row.department
    budget, share = goal_figures.get(row.strategic_goal.pk, (None, None))
    return [
        year,
        codes[department.pk],
        department.name,
        row.strategic_goal.name,
        _number(budget),
        _number(share),
        row.policy_goal.name,
        indicator.pk,
        indicator.code,
        indicator.name,
        indicator.unit,
        indicator.direction,
        _choices_name(Direction, indicator.direction),
        indicator.indicator_type,
        _choices_name(IndicatorType, indicator.indicator_type),
        indicator.formula,
        indicator.data_source,
        indicator.frequency,
        _choices_name(Frequency, indicator.frequency),
        indicator.aggregation,
        _choices_name(Aggregation, indicator.aggregation),
        _number(indicator.baseline),
        _number(indicator.annual_target),
        _number(indicator.target_min),
        _number(indicator.target_max),
        _period_name(row.upto.key) if row.upto is not None else "",
        _number(row.ytd_target),
        _number(row.ytd_actual),
        _number(row.rate),
        row.status,
        _status_name(row.status),
        SAMPLE_YES if is_sample_row(row) else SAMPLE_NO,
    ]


def _period_name(key):
    with override("ko"):
        return str(period_label(key))


def indicator_records(data):
    goal_figures = {g.pk: (g.budget, g.share) for g in data.goals}
    codes = _codes(data)
    return [_indicator_record(data.plan.fiscal_year, row, goal_figures, codes) for row in data.rows]


def result_records(data):
    year = data.plan.fiscal_year
    codes = _codes(data)
    out = []
    for row in data.rows:
        department = row.department
        for cell in row.cells:
            if cell.value is None:
                continue
            out.append(
                [
                    year,
                    codes[department.pk],
                    department.name,
                    row.indicator.pk,
                    row.indicator.name,
                    cell.period.key,
                    _period_name(cell.period.key),
                    _number(cell.period_target),
                    _number(cell.value),
                    SAMPLE_YES if cell.result is not None and cell.result.is_sample else SAMPLE_NO,
                ]
            )
    return out


RECORDS = {"summary": summary_records, "indicators": indicator_records, "results": result_records}


def _cell(value):
    return "" if value is None else value


def csv_bytes(dataset, records, encoding):
    """The table as CSV: "utf-8" (with a BOM) or "cp949"."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(dataset.headers)
    writer.writerows([_cell(v) for v in record] for record in records)
    text = buffer.getvalue()
    if encoding == "cp949":
        return text.translate(CP949_SUBSTITUTES).encode("cp949", errors="replace")
    return text.encode("utf-8-sig")


def json_bytes(dataset, records, plan):
    return orjson.dumps(
        {
            "dataset": dataset.filename,
            "fiscal_year": plan.fiscal_year,
            "columns": dataset.headers,
            "records": [dict(zip(dataset.headers, record, strict=True)) for record in records],
        },
        option=orjson.OPT_INDENT_2,
    )


def file_name(dataset, plan, fmt):
    suffix = {"csv": "csv", "cp949": "csv", "json": "json"}[fmt]
    tag = "_CP949" if fmt == "cp949" else ""
    return f"{dataset.filename}_{plan.fiscal_year}{tag}.{suffix}"


def render_file(data, key, fmt):
    """(bytes, content type, file name) of one dataset of `data` in `fmt` (csv, cp949, json)."""
    dataset = DATASETS[key]
    records = RECORDS[key](data)
    if fmt == "json":
        body, content_type = json_bytes(dataset, records, data.plan), "application/json"
    elif fmt == "cp949":
        body = csv_bytes(dataset, records, "cp949")
        content_type = "text/csv; charset=cp949"
    else:
        body = csv_bytes(dataset, records, "utf-8")
        content_type = "text/csv; charset=utf-8"
    return body, content_type, file_name(dataset, data.plan, fmt)
