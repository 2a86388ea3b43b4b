"""What an import does, row by row: new, changed or unchanged results, and its errors."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from indicators.models import Indicator
from perfplan.changelog import plain
from perfplan.models import ImportBatch, Plan
from perfplan.numbers import format_amount

from .read import ResultRow

ACTION_LABELS = {
    "new": gettext_lazy("new"),
    "changed": gettext_lazy("changed"),
    "unchanged": gettext_lazy("unchanged"),
}
ACTIONS = tuple(ACTION_LABELS)


class Current(NamedTuple):
    """A result as it is in the database: read as plain values, no model instances."""

    pk: int
    indicator_id: int
    period: str
    value: Decimal | None
    note: str
    status: str
    entered_by_id: int | None
    version: int
    edited_after_approval: bool


CURRENT_FIELDS = Current._fields


@dataclass
class ResultChange:
    action: str  # new, changed, unchanged
    row: ResultRow
    indicator: Indicator
    period: object  # indicators.periods.Period
    old_value: Decimal | None = None
    new_value: Decimal | None = None
    old_note: str = ""
    new_note: str = ""
    current: Current | None = None  # the result as it is (None: a new one)
    result_id: int | None = None  # known for a new result once written
    # A value changed over a result approved once (reopened since): marked as the grid does.
    marks_edited_after_approval: bool = False

    @property
    def pk(self):
        return self.current.pk if self.current is not None else self.result_id

    @property
    def action_label(self):
        return ACTION_LABELS[self.action]

    @property
    def department(self):
        return self.indicator.policy_goal.strategic_goal.plan_department

    @property
    def old_value_text(self):
        return format_amount(self.old_value)

    @property
    def new_value_text(self):
        return format_amount(self.new_value)

    @property
    def value_changed(self):
        return self.action == "changed" and self.old_value != self.new_value

    @property
    def note_changed(self):
        return self.action == "changed" and self.old_note != self.new_note


@dataclass
class ResultsImportResult:
    year: int
    errors: list = field(default_factory=list)
    changes: list = field(default_factory=list)
    skipped: list = field(default_factory=list)  # rows without a value or a note
    applied: bool = False
    dry_run: bool = False
    plan: Plan | None = None
    batch: ImportBatch | None = None
    department_pks: set = field(default_factory=set)  # the departments the rows are of
    warnings: list = field(default_factory=list)  # Korean lines for the preview (hidden rows…)

    @property
    def ok(self):
        return not self.errors

    def totals(self):
        totals = dict.fromkeys(ACTIONS, 0)
        for change in self.changes:
            totals[change.action] += 1
        totals["skipped"] = len(self.skipped)
        return totals

    @property
    def has_writes(self):
        return any(c.action != "unchanged" for c in self.changes)

    def fingerprint(self):
        """What the import would write; the confirmation must write exactly this."""
        items = sorted(
            (
                c.indicator.pk,
                c.period.key,
                c.action,
                plain(c.old_value),
                plain(c.new_value),
                c.old_note,
                c.new_note,
                c.current.version if c.current is not None else 0,  # what the write is based on
            )
            for c in self.changes
            if c.action != "unchanged"
        )
        return hashlib.sha256(json.dumps(items, ensure_ascii=False).encode()).hexdigest()


def describe(result):
    """Lines for the command line: the counts, then every error."""
    totals = result.totals()
    lines = [
        _(
            "results: %(new)s new, %(changed)s changed, %(unchanged)s unchanged, "
            "%(skipped)s skipped (no value)"
        )
        % totals
    ]
    for change in result.changes:
        if change.action == "changed":
            lines.append(
                f"  {change.action_label}: {change.department.name} › {change.indicator.name} "
                f"{change.period.key}: {plain(change.old_value)} → {plain(change.new_value)}"
            )
    for error in result.errors:
        lines.append(_("Error: %(error)s") % {"error": error})
    return lines


def entered_by_id(user):
    """The id of the user the results are entered as (None: no user account)."""
    return user.pk if user is not None and getattr(user, "pk", None) else None
