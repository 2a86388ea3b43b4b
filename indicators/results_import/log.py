"""The change-log entries of an import: one per created or changed result, old → new."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType

from indicators.models import Result, ResultStatus
from perfplan.changelog import ChainWriter, plain

from .changes import entered_by_id

_LOG_ACTIONS = {"new": "create", "changed": "update"}


def log_changes(result, batch, user):
    """One entry per created or changed result (old → new); the import runner
    (perfplan.imports) adds the import's own.

    Department and year come from what the import matched, not from walking relations; the
    entries stream to the log as they are made (ChainWriter).
    """
    content_type_id = ContentType.objects.get_for_model(Result).pk
    entered_by = entered_by_id(user)
    with ChainWriter(batch=batch) as chain:
        for change in result.changes:
            if change.action == "new":
                values = {
                    "indicator_id": change.indicator.pk,
                    "period": change.period.key,
                    "value": change.new_value,
                    "note": change.new_note,
                    "status": ResultStatus.DRAFT,
                    "entered_by_id": entered_by,
                }
                changes = {k: [None, plain(v)] for k, v in values.items() if v not in (None, "")}
            elif change.action == "changed":
                current = change.current
                changes = {}
                if change.old_value != change.new_value:
                    changes["value"] = [plain(change.old_value), plain(change.new_value)]
                if change.old_note != change.new_note:
                    changes["note"] = [change.old_note, change.new_note]
                if current.entered_by_id != entered_by:
                    changes["entered_by_id"] = [current.entered_by_id, entered_by]
                if change.marks_edited_after_approval:
                    changes["edited_after_approval"] = [False, True]
            else:
                continue
            chain.append(
                _LOG_ACTIONS[change.action],
                content_type_id,
                str(change.pk),
                f"{change.indicator.name} {change.period.key}"[:300],
                change.department.department_id,
                result.year,
                changes,
            )
