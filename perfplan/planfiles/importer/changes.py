"""What a plan import does, record by record: the changes the preview shows (new, changed
with old → new, unchanged, deleted), the errors, and what the apply step has to write."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field

import orjson
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from budgets.models import UnitProgram
from goals.models import PlanDepartment, PolicyGoal, StrategicGoal
from indicators.models import Indicator
from perfplan.imports import CountedChanges, NamedChange
from perfplan.models import Plan
from perfplan.tabular import name_key

from ..plan_data import PlanData

LEVEL_LABELS = {
    "plan": gettext_lazy("plan"),
    "department": gettext_lazy("department"),
    "strategic_goal": gettext_lazy("strategic goal"),
    "policy_goal": gettext_lazy("policy program goal"),
    "indicator": gettext_lazy("performance indicator"),
    "unit_program": gettext_lazy("unit program"),
}
ACTION_LABELS = {
    "new": gettext_lazy("new"),
    "changed": gettext_lazy("changed"),
    "unchanged": gettext_lazy("unchanged"),
    "deleted": gettext_lazy("deleted"),
}
LEVELS = tuple(LEVEL_LABELS)
ACTIONS = tuple(ACTION_LABELS)
LEVEL_MODELS = {
    "plan": Plan,
    "department": PlanDepartment,
    "strategic_goal": StrategicGoal,
    "policy_goal": PolicyGoal,
    "indicator": Indicator,
    "unit_program": UnitProgram,
}


@dataclass
class FieldChange:
    field: str
    label: str
    old: object
    new: object


@dataclass
class Change(NamedChange):
    action: str
    level: str
    path: tuple
    fields: list = field(default_factory=list)
    source: object = None
    obj: object = None  # the record, for the change log (its pk is known after the write)
    values: dict | None = None  # what a new record was created with

    LEVEL_LABELS, ACTION_LABELS = LEVEL_LABELS, ACTION_LABELS


@dataclass
class ImportResult(CountedChanges):
    year: int
    errors: list = field(default_factory=list)
    changes: list = field(default_factory=list)
    conflicts: list = field(default_factory=list)
    applied: bool = False
    dry_run: bool = False
    plan: Plan | None = None
    batch: object = None  # perfplan.models.ImportBatch, once applied
    source_kind: str = "tables"  # or "text"
    data: PlanData | None = None  # what was read (the preview reconciles its table 가)
    # The stored counts of the tables the file does not carry, per department (diff).
    kept_counts: dict = field(default_factory=dict)

    LEVELS, ACTIONS = LEVELS, ACTIONS


def _label(model, field_name):
    return str(model._meta.get_field(field_name).verbose_name)


def _differs(field_name, old, new):
    if field_name == "name":
        return name_key(old) != name_key(new)
    if old in (None, "") and new in (None, ""):
        return False
    return old != new


class Differ:
    """Compares one object's fields, records the change and sets the new values."""

    def __init__(self, result):
        self.result = result

    def compare(self, level, path, obj, values, source=None, *, is_new=False):
        changes = []
        for field_name, new in values.items():
            old = None if is_new else getattr(obj, field_name)
            if is_new or _differs(field_name, old, new):
                if not is_new:
                    changes.append(FieldChange(field_name, _label(type(obj), field_name), old, new))
                setattr(obj, field_name, new)
        action = "new" if is_new else ("changed" if changes else "unchanged")
        self.result.changes.append(
            Change(action, level, path, changes, source, obj, dict(values) if is_new else None)
        )
        return action


@dataclass
class Work:
    """What the apply step has to do."""

    create: dict = field(default_factory=lambda: defaultdict(list))
    update: dict = field(default_factory=lambda: defaultdict(list))
    update_fields: dict = field(default_factory=lambda: defaultdict(set))
    delete: dict = field(default_factory=lambda: defaultdict(list))


def fingerprint(result):
    """What the import would write, old and new values included: the confirmation must
    write exactly what the preview showed (any change of the file or of the plan since
    then changes it)."""
    digest = hashlib.sha256()
    for change in result.changes:
        if change.action == "unchanged":
            continue
        if change.action == "new":
            values = sorted((change.values or {}).items())
        else:
            values = [(f.field, f.old, f.new) for f in change.fields]
        digest.update(
            orjson.dumps(
                [change.action, change.level, change.path, values],
                default=_fingerprint_value,
            )
        )
    return digest.hexdigest()


def _fingerprint_value(value):
    if hasattr(value, "pk"):
        return value.pk
    return str(value)


def describe(result):
    """Lines for the command line: counts per level, then every error."""
    lines = []
    counts = result.counts()
    for level in LEVELS:
        row = counts[level]
        if any(row.values()):
            counts_text = ", ".join(f"{ACTION_LABELS[a]} {row[a]}" for a in ACTIONS)
            lines.append(f"{LEVEL_LABELS[level]}: {counts_text}")
    for conflict in result.conflicts:
        lines.append(_("Conflict: %(conflict)s") % {"conflict": conflict})
    # What the reader saw or guessed (hidden rows, a text's reconstructed cells): the preview's.
    for warning in getattr(result.data, "warnings", ()):
        lines.append(_("Check: %(warning)s") % {"warning": warning})
    for error in result.errors:
        lines.append(_("Error: %(error)s") % {"error": error})
    return lines
