"""The results sheets to download: a blank template, and the user's indicators filled in."""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone

from indicators.models import Indicator
from indicators.tracking.rows import tracking_rows
from perfplan.scoping import restrict

from .read import RESULT_COLUMNS

SHEET_NAME = "실적"
FILE_STEM = "실적"
TEMPLATE_COLUMNS = tuple(c for c in RESULT_COLUMNS if c.key != "department_code")


class ResultsTable:
    """A results sheet for perfplan.xlsx's writers (write_xlsx / write_csv)."""

    key = "results"
    sheet_name = SHEET_NAME

    def __init__(self, rows, columns=TEMPLATE_COLUMNS):
        self.columns = columns
        self.rows = rows

    @property
    def headers(self):
        return [c.header for c in self.columns]


def template_table():
    """A blank results sheet with two example rows."""
    rows = [
        ["○○국", "주민 참여 확대", "", "주민교육 참석율", "1분기", Decimal("85.5"), ""],
        ["○○국", "주민 참여 확대", "", "민원처리 기간 단축도", "M03", Decimal("6"), "잠정치"],
    ]
    return ResultsTable(rows)


def filled_table(plan, user, today=None):
    """The user's indicators with one row per period begun so far, values as entered.

    Filled in and uploaded again, it changes only what was edited.
    """
    today = today or timezone.localdate()
    indicators = restrict(Indicator.objects.in_plan(plan), user, "view")
    rows = []
    for row in tracking_rows(indicators, plan, today):
        for cell in row.cells:
            if cell.period.start > today:
                continue
            rows.append(
                [
                    row.department.name,
                    row.policy_goal.name,
                    row.indicator.code,
                    row.indicator.name,
                    cell.period.key,
                    cell.value,
                    cell.result.note if cell.result else "",
                ]
            )
    return ResultsTable(rows)
