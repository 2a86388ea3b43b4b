"""The grid's save: cells as JSON (or one cell from a form), all saved or none, answered once
per idempotency key, through indicators.workflow.save_results."""

from __future__ import annotations

import json

from django.contrib import messages
from django.http import HttpResponseNotAllowed, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from perfplan.http import wants_json
from perfplan.scoping import restrict

from ..formats import fmt_value
from ..forms import CellForm
from ..models import Indicator
from .access import require_view
from .screen import as_int, row_summary, safe_next

MAX_CELLS_PER_SAVE = 500
IDEMPOTENCY_HEADER = "X-Idempotency-Key"


def _cells_from_request(request):
    """[{indicator, period, value, note?, version}] from a JSON body or a form POST."""
    if request.content_type == "application/json":
        try:
            payload = json.loads(request.body or b"{}")
        except ValueError:
            return None
        cells = payload.get("cells") if isinstance(payload, dict) else None
        if not isinstance(cells, list) or not all(isinstance(c, dict) for c in cells):
            return None
        return cells
    form = CellForm(request.POST)
    if not form.is_valid():
        return None
    cell = dict(form.cleaned_data)
    if "note" not in request.POST:
        cell.pop("note", None)
    return [cell]


def _period_key(cell):
    return str(cell.get("period") or "").strip().upper()


def save_cells(user, cells):
    """Save the cells through workflow.save_results, which decides: all of them, or none.

    Returns one outcome per cell ({indicator, period, ok, value, version, …}, or {…, error,
    and for a stale copy the newer value and version}; when any cell is refused, the others
    say they were not saved either) and the indicators the user may see.
    """
    from ..workflow import CellsRefused, CellWrite, save_results

    ids = {as_int(c.get("indicator")) for c in cells} - {None}
    indicators = {
        i.pk: i
        for i in restrict(Indicator.objects.filter(pk__in=ids), user).select_related(
            Indicator.scope.plan, Indicator.scope.department
        )
    }
    outcomes = [
        {"indicator": as_int(c.get("indicator")), "period": _period_key(c), "ok": False}
        for c in cells
    ]
    writes, written = [], []
    for cell, out in zip(cells, outcomes, strict=True):
        indicator = indicators.get(out["indicator"])
        if indicator is None:
            out["error"] = _("This indicator does not exist or is not one you may see.")
            continue
        value = cell.get("value")
        value = value.strip() if isinstance(value, str) else value
        version = cell.get("version")
        writes.append(
            CellWrite(
                indicator,
                out["period"],
                None if value == "" else value,
                # The grid edits values only: a result's note is kept unless the note is sent.
                note=(cell.get("note") or "") if "note" in cell else None,
                expected_version=as_int(version) if version not in (None, "") else None,
            )
        )
        written.append(out)
    if any(o.get("error") for o in outcomes):
        return _none_saved(outcomes), indicators
    try:
        results = save_results(user, writes)
    except CellsRefused as exc:
        for out, refused in zip(written, exc.outcomes, strict=True):
            if refused.error:
                out["error"] = refused.error
            if refused.conflict is not None:
                newer = refused.conflict.current
                out.update(
                    current=fmt_value(getattr(newer, "value", None)),
                    version=getattr(newer, "version", None),
                )
        return _none_saved(outcomes), indicators
    for out, saved in zip(written, results, strict=True):
        result = saved.result
        out.update(
            ok=True,
            value=fmt_value(result.value),
            version=result.version,
            state=result.status,
            state_label=str(result.get_status_display()),
            note=result.note,
            is_sample=result.is_sample,
        )
    return outcomes, indicators


def _none_saved(outcomes):
    """A save is all or nothing: the cells not refused themselves say why they were not saved."""
    refused = sum(1 for o in outcomes if o.get("error"))
    for out in outcomes:
        if not out.get("error"):
            out["error"] = ngettext(
                "Not saved: %(count)s other cell of this save was refused, and a save is "
                "all or nothing.",
                "Not saved: %(count)s other cells of this save were refused, and a save is "
                "all or nothing.",
                refused,
            ) % {"count": refused}
            out["held_back"] = True
    return outcomes


def _rows_for(user, indicator_ids):
    from ..tracking.rows import tracking_rows

    if not indicator_ids:
        return []
    queryset = restrict(Indicator.objects.filter(pk__in=indicator_ids), user)
    plans = {}
    for indicator in queryset.select_related(Indicator.scope.plan):
        p = indicator.policy_goal.strategic_goal.plan_department.plan
        plans[p.pk] = p
    rows = []
    for p in plans.values():
        rows += tracking_rows(queryset, p, timezone.localdate())
    return rows


def save_view(request):
    """POST cells (JSON from the grid, or one cell from a form): all saved, or none.

    The page sends an idempotency key with each save (header X-Idempotency-Key, or the field
    idempotency_key) and the same key when it retries: the outcome is stored with the save,
    and a retry gets it back (workflow.answered_once) instead of being refused as stale.
    """
    from ..workflow import answered_once, is_idempotency_key

    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    require_view(request.user)
    cells = _cells_from_request(request)
    key = request.headers.get(IDEMPOTENCY_HEADER) or request.POST.get("idempotency_key") or ""
    if cells is None or len(cells) > MAX_CELLS_PER_SAVE or (key and not is_idempotency_key(key)):
        message = _("The request could not be read; reload the page and try again.")
        if wants_json(request):
            return JsonResponse({"ok": False, "error": message}, status=400)
        messages.error(request, message)
        return redirect(safe_next(request, reverse("tracking:my_department")))

    def run():
        outcomes, _indicators = save_cells(request.user, cells)
        return {"ok": all(o["ok"] for o in outcomes), "cells": outcomes}

    if key:
        answer, replayed = answered_once(request.user, key, run)
    else:
        answer, replayed = run(), False
    outcomes, ok = answer["cells"], answer["ok"]
    touched = {o["indicator"] for o in outcomes if o["indicator"] is not None}
    rows = {row.indicator.pk: row_summary(row) for row in _rows_for(request.user, touched)}
    if wants_json(request):
        body = {"ok": ok, "cells": outcomes, "rows": rows, "replayed": replayed}
        if len(outcomes) == 1:
            body["row"] = rows.get(outcomes[0]["indicator"])
            if ok:
                body["message"] = _("Saved.")
            else:
                body["error"] = outcomes[0].get("error")
        elif not ok:
            body["error"] = _("Nothing was saved: a save is all or nothing, see the cells marked.")
        return JsonResponse(body)
    for outcome in outcomes:
        if outcome["ok"]:
            messages.success(request, _("Saved."))
        else:
            messages.error(request, outcome.get("error") or _("Not saved."))
    return redirect(safe_next(request, reverse("tracking:my_department")))
