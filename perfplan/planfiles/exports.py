"""Plan tables out: the same columns the importer reads, as xlsx, csv or data rows.

Rows are built from a fixed number of queries; perfplan.xlsx writes them in constant
memory, each table titled as the source prints it (가. 총괄, 나. 성과계획 및 재원비중).
"""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext as _

from budgets.models import UnitProgram
from goals.models import PlanDepartment, PolicyGoal, StrategicGoal
from indicators.models import Indicator
from perfplan.xlsx import Table

from .plan_data import Figures
from .tables import (
    INDICATOR_DEFINITION_COLUMNS,
    SHEET_NAMES,
    TABLES_BY_KEY,
    choice_to_text,
)

TOTAL_NAME = "계"
# The tables' letters as the source numbers them (가. 총괄, 나. 성과계획 및 재원비중).
TABLE_LETTERS = {"summary": "가", "hierarchy": "나", "unit_programs": "다"}


def _unit_line(key):
    if key == "summary":
        return _("(unit: count, million won)")
    return _("(unit: million won)")


# The levels of table 나 that the source prints once per group (merged down): the workbook
# writes them on a group's first row only; the importer reads a blank there as the row above.
PRINTED_GROUPS = {
    "hierarchy": (
        ("department", "department_code"),
        ("strategic_goal", "budget", "share"),
        ("policy_goal",),
    ),
}


def plan_table(key, rows, plan=None):
    """A plan table: its columns and sheet name as tables.TABLES and SHEET_NAMES give them,
    titled and with the unit line as the source prints them (and the plan's year)."""
    columns = TABLES_BY_KEY[key].columns
    position = {column.key: index for index, column in enumerate(columns)}
    return Table(
        key,
        columns,
        rows,
        SHEET_NAMES[key],
        title=f"{TABLE_LETTERS[key]}. {SHEET_NAMES[key]}",
        unit=_unit_line(key),
        subtitle=_("%(year)s performance plan") % {"year": plan.fiscal_year} if plan else "",
        groups=[[position[k] for k in level] for level in PRINTED_GROUPS.get(key, ())],
    )


def _definition_values(fields):
    """The definition cells from an indicator's fields in INDICATOR_DEFINITION_COLUMNS order."""
    values = []
    for column, value in zip(INDICATOR_DEFINITION_COLUMNS, fields, strict=True):
        if column.kind == "choice":
            value = choice_to_text(column.choices, value)
        values.append(value)
    return values


def hierarchy_table(plan):
    """Table 나, one row per indicator; a goal without indicators still gets its row."""
    departments = list(
        PlanDepartment.objects.filter(plan=plan)
        .select_related("department")
        .order_by("position", "id")
    )
    goals = list(StrategicGoal.objects.in_plan(plan).order_by("position", "id"))
    pgs = list(PolicyGoal.objects.in_plan(plan).order_by("position", "id"))
    # Values, not model instances: a national plan's indicators are read several times faster.
    indicators = (
        Indicator.objects.in_plan(plan)
        .order_by("position", "id")
        .values_list(
            "policy_goal_id", "code", "name", *(c.key for c in INDICATOR_DEFINITION_COLUMNS)
        )
    )
    goals_by_dept, pgs_by_goal, inds_by_pg = {}, {}, {}
    for goal in goals:
        goals_by_dept.setdefault(goal.plan_department_id, []).append(goal)
    for pg in pgs:
        pgs_by_goal.setdefault(pg.strategic_goal_id, []).append(pg)
    for ind in indicators.iterator(chunk_size=5000):
        inds_by_pg.setdefault(ind[0], []).append(ind)
    blank_definition = [None] * len(INDICATOR_DEFINITION_COLUMNS)
    rows = []
    for dept in departments:
        code = dept.department.code or ""
        for goal in goals_by_dept.get(dept.pk, []):
            head = [dept.name, code, goal.name, goal.budget, goal.declared_share]
            goal_pgs = pgs_by_goal.get(goal.pk, [])
            if not goal_pgs:
                rows.append(head + [None, None, None] + blank_definition)
            for pg in goal_pgs:
                pg_inds = inds_by_pg.get(pg.pk, [])
                if not pg_inds:
                    rows.append(head + [pg.name, None, None] + blank_definition)
                for _pg, ind_code, ind_name, *fields in pg_inds:
                    rows.append(head + [pg.name, ind_code, ind_name] + _definition_values(fields))
    return plan_table("hierarchy", rows, plan)


def _figure_cells(figures):
    return [getattr(figures, name) for name in Figures.FIELDS]


def summary_table(plan):
    """Table 가 as declared, the 계 row first as the source prints it."""
    rows = [[TOTAL_NAME, ""] + _figure_cells(Figures(**plan.declared()))]
    for dept in (
        PlanDepartment.objects.filter(plan=plan)
        .select_related("department")
        .order_by("position", "id")
    ):
        rows.append(
            [dept.name, dept.department.code or ""] + _figure_cells(Figures(**dept.declared()))
        )
    return plan_table("summary", rows, plan)


def unit_program_table(plan):
    programs = (
        UnitProgram.objects.in_plan(plan)
        .select_related(UnitProgram.scope.to(PlanDepartment))
        .order_by(*UnitProgram._meta.ordering)
    )
    rows = []
    for up in programs:
        pg = up.policy_goal
        sg = pg.strategic_goal
        rows.append(
            [
                sg.plan_department.name,
                sg.name,
                pg.name,
                up.code,
                up.name,
                up.budget,
                up.prior_budget,
            ]
        )
    return plan_table("unit_programs", rows, plan)


def plan_tables(plan, keys=("summary", "hierarchy", "unit_programs")):
    builders = {
        "summary": summary_table,
        "hierarchy": hierarchy_table,
        "unit_programs": unit_program_table,
    }
    tables = [builders[key](plan) for key in keys]
    # Unit programs only when the plan names them.
    return [t for t in tables if t.key != "unit_programs" or t.rows]


def template_tables():
    """A blank plan with two example rows per table, for the import page's template."""
    example_definition = [
        "%",
        "상향",
        "결과",
        "참석인원 ÷ 대상인원 × 100",
        "교육 결과 보고",
        Decimal("85"),
        Decimal("90"),
        None,
        None,
        "최근 3년 평균 이상",
        Decimal("1"),
        "반기",
        "최신값",
        None,
    ]
    hierarchy = [
        [
            "○○국",
            "",
            "주민이 행복한 ○○ 구현",
            Decimal("1234"),
            Decimal("0.36"),
            "주민 참여 확대",
            "",
            "주민교육 참석율",
        ]
        + example_definition,
        [
            "○○국",
            "",
            "주민이 행복한 ○○ 구현",
            Decimal("1234"),
            Decimal("0.36"),
            "주민 참여 확대",
            "",
            "민원처리 기간 단축도",
        ]
        + [
            "일",
            "하향",
            "산출",
            "",
            "",
            Decimal("7"),
            Decimal("5"),
            None,
            None,
            "",
            Decimal("1"),
            "분기",
            "평균",
            "목표/실적",
        ],
    ]
    summary = [
        [TOTAL_NAME, "", 1, 1, 2, 3, Decimal("1314"), Decimal("1214"), Decimal("100")],
        ["○○국", "", 1, 1, 2, 3, Decimal("1314"), Decimal("1214"), Decimal("100")],
    ]
    return [
        plan_table("summary", summary),
        plan_table("hierarchy", hierarchy),
    ]


def table_by_key(tables, key):
    for table in tables:
        if table.key == key:
            return table
    return plan_table(key, [])
