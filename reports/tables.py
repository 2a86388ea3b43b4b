"""The results report as xlsx sheets: the indicators (figures, trend, texts) and the goals'
summaries, with the same figures as the page (reports.report)."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from indicators.models import Aggregation, Direction
from indicators.periods import ALL_PERIOD_KEYS
from indicators.tracking.rules import STATUS_LABELS, STATUSES
from perfplan.xlsx import Table

from .report import report_title


@dataclass
class Column:
    header: str
    kind: str = "text"


def _title_of(report):
    """The department the sheet is of, or the whole plan."""
    return report.department.name if report.department else _("Whole plan")


def _periods(report):
    seen = {}
    for line in report.lines:
        for cell in line.row.cells:
            seen.setdefault(cell.period.key, cell.period)
    return [seen[k] for k in ALL_PERIOD_KEYS if k in seen]


def indicator_table(report):
    periods = _periods(report)
    columns = [
        Column(_("department")),
        Column(_("strategic goal")),
        Column(_("policy program goal")),
        Column(_("indicator")),
        Column(_("unit")),
        Column(_("aggregation")),
        Column(_("target"), "number"),
        Column(_("year-end actual"), "number"),
        Column(_("achievement rate (%)"), "number"),
        Column(_("status")),
        *[Column(str(p.label), "number") for p in periods],
        Column(_("shortfall reason (미달성 사유)")),
        Column(_("improvement plan (향후 개선방안)")),
        Column(_("text status")),
        Column(_("sample data")),
    ]
    rows = []
    for line in report.lines:
        row, text = line.row, line.text
        values = {c.period.key: c.value for c in row.cells}
        indicator = row.indicator
        # a range prints as "min–max" (text); a single target stays a number
        ranged = indicator.direction == Direction.RANGE
        target = line.target_text if ranged else indicator.annual_target
        rows.append(
            [
                row.department.name,
                row.strategic_goal.name,
                row.policy_goal.name,
                indicator.name,
                indicator.unit,
                str(Aggregation(line.aggregation).label),
                target,
                row.ytd_actual,
                row.rate,
                str(STATUS_LABELS[row.status]),
                *[values.get(p.key) for p in periods],
                text.shortfall_reason if text else "",
                text.improvement_plan if text else "",
                str(text.get_status_display()) if text else "",
                _("yes") if line.is_sample else "",
            ]
        )
    return Table(
        "indicators",
        columns,
        rows,
        sheet_name=_("Indicators"),
        title=report_title(report.plan),
        subtitle=_title_of(report),
    )


def goal_table(report):
    columns = [
        Column(_("department")),
        Column(_("level")),
        Column(_("goal")),
        Column(_("indicators"), "count"),
        *[Column(str(STATUS_LABELS[s]), "count") for s in STATUSES],
        Column(_("average achievement rate (%)"), "number"),
        Column(_("budget (million won)"), "amount"),
        Column(_("budget share (%)"), "share"),
    ]

    def line(department, level, section):
        summary = section.summary
        return [
            department.name,
            level,
            section.goal.name,
            summary.total,
            *[summary.tally.by_status[s] for s in STATUSES],
            summary.mean_rate,
            section.budget,
            section.share,
        ]

    rows = []
    for department in report.departments:
        for sg in department.strategic_goals:
            rows.append(line(department.department, _("strategic goal"), sg))
            for pg in sg.policy_goals:
                rows.append(line(department.department, _("policy program goal"), pg))
    return Table(
        "goals",
        columns,
        rows,
        sheet_name=_("Goals"),
        title=report_title(report.plan),
        unit=_("(unit: million won)"),
        subtitle=_title_of(report),
    )


def report_tables(report):
    """The report's workbook: its indicators, then its goals (perfplan.xlsx writes them)."""
    return [indicator_table(report), goal_table(report)]
