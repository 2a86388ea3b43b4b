"""The change-log entries of a plan import: one per written record, old → new."""

from __future__ import annotations

from decimal import Decimal

from django.contrib.contenttypes.models import ContentType

from goals.models import PlanDepartment
from perfplan.changelog import ChainWriter, decimal_text, plain

from .changes import LEVEL_MODELS

_LOG_ACTIONS = {"new": "create", "changed": "update", "deleted": "delete"}
_KEPT_AS_THEY_ARE = frozenset((str, int, bool, type(None)))


def _plain(value):
    """perfplan.changelog.plain, without the call for the values it returns unchanged."""
    return value if type(value) in _KEPT_AS_THEY_ARE else plain(value)


def log_changes(result, plan, batch):
    """One change-log entry per written record (the runner adds the import's own).

    Department and year come from the change's path, not from walking relations, so a
    national-scale import logs without a query per row; entries stream to the log as they
    are made (ChainWriter), never held all at once.
    """
    department_ids = dict(
        PlanDepartment.objects.filter(plan=plan).values_list("name", "department_id")
    )
    for change in result.changes:
        if change.level == "department" and change.action == "deleted":
            department_ids.setdefault(change.path[0], change.obj.department_id)
    types = {level: ContentType.objects.get_for_model(m).pk for level, m in LEVEL_MODELS.items()}
    with ChainWriter(batch=batch) as chain:
        chain.extend(_entries(result.changes, types, department_ids, plan.fiscal_year))


def _plain_new(value, kept):
    """plain() of a new record's value; a type plain() keeps (a str or int subclass, such
    as a choice) joins `kept`."""
    if type(value) is Decimal:
        return decimal_text(value)
    text = plain(value)
    if text is value:
        kept.add(type(value))
    return text


def _entries(changes, types, department_ids, year):
    """The log entries (ChainWriter.extend tuples) of the written changes."""
    kept = set(_KEPT_AS_THEY_ARE)  # and, once seen, str/int subclasses (choices)
    for change in changes:
        action = change.action
        if action == "unchanged":
            continue
        if action == "new":
            # plain() inlined: a national plan's new records bring a million values, most of
            # them str or int, kept as they are; blanks are not logged.
            fields = {
                name: [None, value if type(value) in kept else _plain_new(value, kept)]
                for name, value in (change.values or {}).items()
                if value is not None and value != ""
            }
        elif action == "changed":
            fields = {f.field: [_plain(f.old), _plain(f.new)] for f in change.fields}
        else:
            fields = {}
        obj, level, path = change.obj, change.level, change.path
        pk = obj.pk if obj is not None else None
        yield (
            _LOG_ACTIONS[action],
            types[level],
            "" if pk is None else str(pk),
            " › ".join(path)[:300],
            department_ids.get(path[0]) if level != "plan" else None,
            year,
            fields,
            "",
        )
