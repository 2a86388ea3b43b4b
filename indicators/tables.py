"""The tracking exports' tables: the grid as on screen and the plan overview's sheets (as
NetBox keeps its tables apart from its views); indicators.views.exports writes them."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _

from perfplan.xlsx import Number, Table

from .formats import (
    annual_target_text,
    at_precision,
    entered_decimals,
    fmt_target,
    fmt_time,
    indicator_decimals,
)
from .models import Direction
from .periods import ALL_PERIOD_KEYS
from .tracking.rows import is_sample_row
from .tracking.rules import STATUS_LABELS, STATUSES


@dataclass
class Column:
    header: str
    kind: str = "text"


def _period_columns(rows, period_key):
    seen = {}
    for row in rows:
        for cell in row.cells:
            if period_key is None or cell.period.key == period_key:
                seen.setdefault(cell.period.key, cell.period)
    return [seen[k] for k in ALL_PERIOD_KEYS if k in seen]


def grid_table(screen):
    """The grid as on screen: one line per indicator, a column per period shown."""
    periods = _period_columns(screen.rows, screen.period_key)
    columns = [
        Column(_("department")),
        Column(_("strategic goal")),
        Column(_("policy program goal")),
        Column(_("code")),
        Column(_("performance indicator")),
        Column(_("unit")),
        Column(_("direction")),
        Column(_("measurement frequency")),
        Column(_("annual target")),
        *[Column(str(p.label), "number") for p in periods],  # 1분기, never Q1
        Column(_("year-to-date actual"), "number"),
        Column(_("year-to-date target"), "number"),
        Column(_("achievement rate (%)"), "number"),
        Column(_("status")),
        Column(_("last update")),
        Column(_("Sample data")),
    ]
    lines = []
    for row in screen.rows:
        indicator = row.indicator
        decimals = indicator_decimals(indicator)

        def figure(value, decimals=decimals):
            return shown(at_precision(value, decimals)) if isinstance(value, Decimal) else value

        values = {c.period.key: c.value for c in row.cells}
        target = (
            annual_target_text(indicator)
            if indicator.direction == Direction.RANGE
            else indicator.annual_target
        )
        ytd_target = fmt_target(row) if indicator.direction == Direction.RANGE else row.ytd_target
        lines.append(
            [
                row.department.name,
                row.strategic_goal.name,
                row.policy_goal.name,
                indicator.code,
                indicator.name,
                indicator.unit,
                indicator.get_direction_display() if indicator.direction else "",
                indicator.get_frequency_display() if indicator.frequency else "",
                figure(target),
                *[shown(entered(indicator, values.get(p.key))) for p in periods],
                figure(row.ytd_actual),
                figure(ytd_target),
                _normal(row.rate),
                str(row.status_label),
                fmt_time(row.last_update),
                _("Sample data") if is_sample_row(row) else "",
            ]
        )
    return Table("grid", columns, lines, sheet_name=_("My department"))


def entered(indicator, value):
    """An entered actual as the screen shows it (indicators.formats.entered_decimals)."""
    if value is None:
        return None
    return at_precision(value, entered_decimals(indicator, value))


def shown(value):
    """A figure rounded to its precision (at_precision), shown in the exports with all its
    decimals (87.0 for a rate of one decimal), as the screen shows it."""
    if isinstance(value, Decimal) and value.is_finite():
        return Number(value, max(0, -value.as_tuple().exponent))
    return value


def _normal(value):
    if isinstance(value, Decimal):
        return value.normalize() if value == value.to_integral_value() else value
    return value


def overview_tables(screen, data):
    status_columns = [Column(str(STATUS_LABELS[s]), "count") for s in STATUSES]
    bucket_columns = [Column(b["label"], "count") for b in data["buckets"]] if data else []

    def group_cells(line):
        tally = line.tally
        return [
            tally.total,
            *[tally.by_status[s] for s in STATUSES],
            *tally.buckets.values(),
            line.mean_rate,
            line.budget,
            line.share,
            line.completeness,
            ", ".join(f"{m.name} ({m.period.label})" for m in line.missing_last),
            line.at_risk,
        ]

    tail = [
        Column(_("average achievement rate (%)"), "number"),
        Column(_("budget (million won)"), "amount"),
        Column(_("budget share (%)"), "share"),
        Column(_("completeness (%)"), "number"),
        Column(_("last due period not entered")),
        Column(_("at risk"), "count"),
    ]
    departments = Table(
        "departments",
        sheet_name=_("By department"),
        columns=[
            Column(_("department")),
            Column(_("indicators"), "count"),
            *status_columns,
            *bucket_columns,
            *tail,
        ],
        rows=[
            [line.key.name, *group_cells(line)] for line in (data["departments"] if data else [])
        ],
    )
    goals = Table(
        "goals",
        sheet_name=_("By strategic goal"),
        columns=[
            Column(_("department")),
            Column(_("strategic goal")),
            Column(_("indicators"), "count"),
            *status_columns,
            *bucket_columns,
            *tail,
        ],
        rows=[
            [line.key.department_name, line.key.name, *group_cells(line)]
            for line in (data["goals"] if data else [])
        ],
    )
    risky = Table(
        "at_risk",
        sheet_name=_("At risk"),
        columns=[
            Column(_("department")),
            Column(_("performance indicator")),
            Column(_("annual target")),
            Column(_("projected year-end value"), "number"),
            Column(_("projected achievement rate (%)"), "number"),
            Column(_("how the projection is made")),
        ],
        rows=[
            [
                item["department_name"],
                item["indicator"].name,
                item["target"],
                shown(at_precision(item["projected_value"], indicator_decimals(item["indicator"]))),
                _normal(item["rate_value"]),
                str(item["method"]),
            ]
            for item in (data["at_risk"] if data else [])
        ],
    )
    return [departments, goals, risky]
