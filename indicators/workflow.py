"""The review workflow of results (실적): enter, submit, approve or return, reopen.

    작성중 draft ──submit──▶ 제출 submitted ──approve──▶ 승인 approved ──reopen (plan admin,
        ▲  (officer)              │   (reviewer)                         with a reason)──▶ draft
        │                         └──return (reviewer, with a reason)──▶ 반려 returned
        └─ edit (officer) ◀───────────────────────────────────────────── edit, then submit

Who may do what is decided with perfplan.scoping (restrict / can): officers enter and submit
results of their departments' indicators, reviewers approve or return their departments'
submitted results, plan admins may take every step (and only they reopen), auditors change
nothing. Entry (create, edit, submit) closes after the period's deadline (indicators.locks).
An approved result is locked; once reopened, a change of its value marks it
`edited_after_approval` for good.

Every step is one transaction over locked rows; a refusal raises WorkflowError saying what
and why, and nothing is written. Each saved step is a change-log entry carrying the step's
name and reason (perfplan.changelog.change_context).

This module is the one place these rules live; every way in calls it: the grid's save and
a paste (save_results: many cells, all or none, a per-cell answer), the review buttons,
the Result admin's form and actions, the results import (write_refusals, then its own bulk
writers) and commands. Every write names the version it is based on (NO_RESULT = 0: "no
result yet"); without it, it is refused. Separation of duties: a reviewer does not approve
or return a result they entered or submitted, unless the plan's `allow_self_review` is on,
and then the change-log entry's reason says so. A save sent with an idempotency key is
answered once (answered_once): a retry gets the first outcome back.

The same rules serve the results report's texts (reports.texts: 미달성 사유 and 향후
개선방안, one per indicator): the steps take `rules=` a subclass of Rules that names its model,
what "empty" means for it, and that it has no period (so no entry deadline).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_DOWN, Decimal, InvalidOperation

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, connection, transaction
from django.db.models import Model, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from perfplan import bulk
from perfplan.changelog import change_context
from perfplan.locking import ConcurrentEditError
from perfplan.models import ChangeLogEntry, Department
from perfplan.numbers import NumberFormatError, parse_number
from perfplan.scoping import can, may_act_in, restrict, sees_all

from . import locks, periods
from .models import Indicator, Result, ResultStatus, SaveReceipt

EDIT = "edit"
SUBMIT = "submit"
APPROVE = "approve"
RETURN = "return"
REOPEN = "reopen"
ACTIONS = (EDIT, SUBMIT, APPROVE, RETURN, REOPEN)

VALUE_PLACES = 4
VALUE_LIMIT = Decimal(10) ** (20 - VALUE_PLACES)


class WorkflowError(Exception):
    """A refused step. `messages` lists every reason (one per refused result)."""

    def __init__(self, messages):
        if isinstance(messages, str):
            messages = [messages]
        self.messages = [str(m) for m in messages]
        self.message = "\n".join(self.messages)
        super().__init__(self.message)

    def __str__(self):
        return self.message


# ---------------------------------------------------------------- who may


def is_plan_admin(user):
    """Plan admins (who may change every department's data) may take every step."""
    return bool(user is not None and user.is_authenticated and sees_all(user, "change"))


def may_submit(user):
    return user.has_perm("indicators.submit_result") or is_plan_admin(user)


def may_review(user):
    return user.has_perm("indicators.review_result") or is_plan_admin(user)


def may_reopen(user):
    return user.has_perm("indicators.reopen_result")


def _active(user):
    return user is not None and user.is_authenticated and user.is_active


# ---------------------------------------------------------------- helpers


def _department(result_or_indicator):
    indicator = getattr(result_or_indicator, "indicator", result_or_indicator)
    return indicator.policy_goal.strategic_goal.plan_department


def _status(result):
    return result.get_status_display()


def _label(result):
    return str(result)


def _lock_results(ids, model=Result):
    """The results (or `model`'s rows), locked (only their own rows) in a fixed order, with
    plan and department."""
    queryset = model.objects.select_related(model.scope.plan).filter(pk__in=ids).order_by("pk")
    if connection.features.has_select_for_update_of:
        return list(queryset.select_for_update(of=("self",)))
    return list(queryset.select_for_update())


def _lock_one(indicator, period_key):
    queryset = Result.objects.select_related(Result.scope.plan).filter(
        indicator=indicator, period=period_key
    )
    if connection.features.has_select_for_update_of:
        return queryset.select_for_update(of=("self",)).first()
    return queryset.select_for_update().first()


def _ids(results):
    if isinstance(results, Model):
        return [results.pk]
    return [r.pk if isinstance(r, Model) else int(r) for r in results]


class Refusal(str):
    """Why a write is refused, and what it concerns: "scope" (the user's role or
    departments), "status" (submitted or approved), "period" (entry is closed) — so that an
    import points at the column of its file that the refusal is about."""

    concerns = ""


def _refusal(message, concerns):
    refusal = Refusal(message)
    refusal.concerns = concerns
    return refusal


class _ScopeIds(dict):
    """{action: the ids of `within` that restrict() gives the user for it}, each read on its
    first use (an import's entry needs only "change": one query less over thousands)."""

    def __init__(self, within, user):
        super().__init__()
        self.within, self.user = within, user

    def __missing__(self, action):
        ids = self[action] = set(
            restrict(self.within, self.user, action).values_list("pk", flat=True)
        )
        return ids


class _Checker:
    """Refusal reasons for many results with a constant number of queries.

    Subclassed (`Rules`) for other records that go through the same review (the results
    report's texts): `model`, `add_permission`, `period_of` and `content_refusal` are what
    differ; every rule is the same code.

    The one place that decides who may take which step on a result in which status: every
    way in (grid, paste, admin form and actions, results import, commands) asks it. A
    "result" here is anything with `pk` and `status` (a Result, or the import's plain rows);
    a write names its indicator and period, so that a result not created yet is decided too.
    `within`: a Result queryset that holds every result asked about (the import asks about
    thousands: its scope is read per department rather than as a list of ids).
    """

    model = Result
    add_permission = "indicators.add_result"  # may create a new one in a department

    def __init__(self, user, results, today=None, *, within=None):
        self.user = user
        self.today = today
        if within is None:
            within = self.model.objects.filter(pk__in=[r.pk for r in results if r is not None])
        self.in_scope = _ScopeIds(within, user)
        self._open = {}
        self._may_add = {}

    def _entry_open(self, pd, period):
        key = (pd.plan_id, pd.department_id, period)
        if key not in self._open:
            self._open[key] = locks.entry_open(pd.plan, pd.department_id, period, self.today)
        return self._open[key]

    def period_of(self, result):
        """The period an entry deadline applies to; None: no deadline (texts)."""
        return result.period

    def content_refusal(self, result):
        """Why `result` cannot be submitted for what it holds, or None."""
        if result.value is None:
            return _("%(result)s: a result without a value cannot be submitted.") % {
                "result": _label(result)
            }
        return None

    def entry_open(self, result):
        period = self.period_of(result)
        return period is None or self._entry_open(_department(result), period)

    def closed(self, result):
        pd = _department(result)
        return locks.closed_message(pd.plan, pd.name, result.period)

    def write_refusal(self, indicator, period, current):
        """Why `user` may not enter (create or change) the result of `indicator` for
        `period`, whose row is `current` (None: there is none yet), or None (a Refusal)."""
        user = self.user
        label = str(indicator) if period is None else f"{indicator} {periods.period_label(period)}"
        if not _active(user):
            return _refusal(_("%(result)s: you are not signed in.") % {"result": label}, "scope")
        pd = _department(indicator)
        if current is None:
            if pd.department_id not in self._may_add:
                self._may_add[pd.department_id] = may_act_in(
                    user, self.add_permission, pd.department_id
                )
            in_scope = self._may_add[pd.department_id]
        else:
            in_scope = current.pk in self.in_scope["change"]
        if not in_scope:
            message = _("%(result)s: you may not enter results of this department.")
            return _refusal(message % {"result": label}, "scope")
        if current is not None and current.status == ResultStatus.SUBMITTED:
            message = _(
                "%(result)s is submitted and waits for review: it cannot be edited "
                "unless the reviewer returns it."
            )
            return _refusal(message % {"result": label}, "status")
        if current is not None and current.status == ResultStatus.APPROVED:
            message = _("%(result)s is approved and locked: only a plan admin can reopen it.")
            return _refusal(message % {"result": label}, "status")
        if period is not None and not self._entry_open(pd, period):
            return _refusal(f"{label}: {locks.closed_message(pd.plan, pd.name, period)}", "period")
        return None

    def self_review(self, result):
        """Whether the reviewer entered or submitted `result` themselves."""
        return self.user.pk is not None and self.user.pk in (
            result.entered_by_id,
            result.submitted_by_id,
        )

    def refusal(self, result, action, reason=None):
        """Why `user` may not take `action` on `result` now, or None."""
        if not _active(self.user):
            return _("%(result)s: you are not signed in.") % {"result": _label(result)}
        try:
            check = self._CHECKS[action]
        except KeyError:
            raise ValueError(f"unknown workflow action {action!r}") from None
        return check(self, result, action, reason)

    def _edit_refusal(self, result, action, reason):
        return self.write_refusal(result.indicator, self.period_of(result), result)

    def _submit_refusal(self, result, action, reason):
        label = _label(result)
        if not may_submit(self.user) or result.pk not in self.in_scope["change"]:
            return _("%(result)s: you may not submit results of this department.") % {
                "result": label
            }
        if result.status not in ResultStatus.SUBMITTABLE:
            return _(
                "%(result)s: only a draft or returned result can be submitted (it is %(status)s)."
            ) % {"result": label, "status": _status(result)}
        empty = self.content_refusal(result)
        if empty:
            return empty
        if not self.entry_open(result):
            return f"{label}: {self.closed(result)}"
        return None

    def _review_refusal(self, result, action, reason):
        """Approve and return: a submitted result, by a reviewer who did not enter it."""
        label = _label(result)
        if not may_review(self.user) or result.pk not in self.in_scope["view"]:
            return _("%(result)s: you may not review results of this department.") % {
                "result": label
            }
        if result.status != ResultStatus.SUBMITTED:
            if action == APPROVE:
                message = _(
                    "%(result)s: only a submitted result can be approved (it is %(status)s)."
                )
            else:
                message = _(
                    "%(result)s: only a submitted result can be returned (it is %(status)s)."
                )
            return message % {"result": label, "status": _status(result)}
        if self.self_review(result) and not _department(result).plan.allow_self_review:
            return _(
                "%(result)s: you entered or submitted this result yourself; another "
                "reviewer approves or returns it (separation of duties)."
            ) % {"result": label}
        if action == RETURN and reason is not None and not reason.strip():
            return _("%(result)s: a result is returned with a reason.") % {"result": label}
        return None

    def _reopen_refusal(self, result, action, reason):
        label = _label(result)
        if not may_reopen(self.user) or result.pk not in self.in_scope["change"]:
            return _("%(result)s: only a plan admin can reopen an approved result.") % {
                "result": label
            }
        if result.status != ResultStatus.APPROVED:
            return _("%(result)s: only an approved result can be reopened (it is %(status)s).") % {
                "result": label,
                "status": _status(result),
            }
        if reason is not None and not reason.strip():
            return _("%(result)s: reopening an approved result needs a reason.") % {"result": label}
        return None

    # Each step's own checks, after the one every step shares (signed in).
    _CHECKS = {
        EDIT: _edit_refusal,
        SUBMIT: _submit_refusal,
        APPROVE: _review_refusal,
        RETURN: _review_refusal,
        REOPEN: _reopen_refusal,
    }


# The rules, public for the records that reuse them (reports.texts subclasses it).
Rules = _Checker


def refusals(user, results, action, reason=None, today=None, *, rules=Rules):
    """{result pk: why `user` may not take `action`} for the refused ones (read-only check)."""
    results = list(results)
    checker = rules(user, results, today)
    found = {}
    for result in results:
        message = checker.refusal(result, action, reason)
        if message:
            found[result.pk] = message
    return found


def allowed_actions(user, result, today=None, *, rules=Rules) -> set[str]:
    """The steps `user` may take on `result` now: a subset of ACTIONS (for the UI)."""
    if result is None or result.pk is None:
        return set()
    checker = rules(user, [result], today)
    return {action for action in ACTIONS if checker.refusal(result, action) is None}


def _save_step(result):
    result.version += 1  # the row is locked by this transaction: an open edit form is stale
    result.save()


def _step(user, results, action, apply, *, reason="", today=None, rules=Rules):
    ids = _ids(results)
    if not ids:
        return []
    with transaction.atomic():
        locked = _lock_results(ids, rules.model)
        if len(locked) != len(set(ids)):
            raise WorkflowError(_("Some of the results no longer exist; nothing was changed."))
        checker = rules(user, locked, today)
        problems = [
            message for message in (checker.refusal(r, action, reason) for r in locked) if message
        ]
        if problems:
            raise WorkflowError(problems)
        now = timezone.now()
        with change_context(user=user, action=action, reason=reason):
            for result in locked:
                own = action in (APPROVE, RETURN) and checker.self_review(result)
                apply(result, now)
                # Allowed by the plan's setting (else refused above): the entry says so.
                with change_context(reason=_self_review_reason(reason) if own else reason):
                    _save_step(result)
    return locked


def _self_review_reason(reason):
    mark = _("self-review (the plan allows it: allow_self_review)")
    return f"{reason} · {mark}" if reason else mark


# ---------------------------------------------------------------- entering


def _parse_value(value, indicator):
    if value is None or value == "":
        return None
    try:
        number = value if isinstance(value, Decimal) else parse_number(value)
    except (NumberFormatError, InvalidOperation) as exc:
        raise WorkflowError(
            _("%(indicator)s: “%(value)s” is not a number (%(problem)s).")
            % {"indicator": indicator, "value": value, "problem": exc}
        ) from exc
    if number is None:
        return None
    if not number.is_finite():
        raise WorkflowError(
            _("%(indicator)s: “%(value)s” is not a number (%(problem)s).")
            % {"indicator": indicator, "value": value, "problem": _("not a number")}
        )
    if abs(number) >= VALUE_LIMIT:
        raise WorkflowError(
            _("%(indicator)s: %(value)s is too large for a result.")
            % {"indicator": indicator, "value": value}
        )
    if number != number.quantize(Decimal(1).scaleb(-VALUE_PLACES), rounding=ROUND_DOWN):
        raise WorkflowError(
            _("%(indicator)s: a value has at most %(places)s decimal places (%(value)s).")
            % {"indicator": indicator, "places": VALUE_PLACES, "value": value}
        )
    return number


def check_period(indicator, period_key):
    """Refuse a period key that is not one of the indicator's periods (WorkflowError)."""
    keys = periods.keys_for(indicator.frequency or "")
    if period_key not in keys:
        raise WorkflowError(
            _("%(indicator)s: “%(period)s” is not one of its periods (%(keys)s).")
            % {
                "indicator": indicator,
                "period": period_key,
                "keys": ", ".join(periods.period_label(key) for key in keys),
            }
        )


def check_entry(user, indicator, period_key, result=None, today=None):
    """Why `user` may not enter this result now (WorkflowError), or nothing. Read-only."""
    check_period(indicator, period_key)
    if not can(user, "view", indicator):
        raise WorkflowError(
            _("%(indicator)s: you may not enter results of this department.")
            % {"indicator": indicator}
        )
    current = result if result is not None and result.pk is not None else None
    message = _Checker(user, [current] if current else [], today).write_refusal(
        indicator, period_key, current
    )
    if message:
        raise WorkflowError(message)


def write_refusals(user, writes, *, today=None, within=None):
    """{index: why} for the refused ones of `writes`, given as (indicator, period key, the
    result's row or None): the rules of save_results for writers that write in bulk
    themselves (the results import), read-only. The caller has locked the rows."""
    writes = list(writes)
    checker = _Checker(user, [current for _i, _p, current in writes], today, within=within)
    found = {}
    for index, (indicator, period, current) in enumerate(writes):
        message = checker.write_refusal(indicator, period, current)
        if message:
            found[index] = message
    return found


def ever_approved(result_ids):
    """The ids among `result_ids` of results that were approved once (the change log says):
    a change of their value after reopening marks them `edited_after_approval`."""
    ids = [str(pk) for pk in result_ids]
    found = set()
    content_type = ContentType.objects.get_for_model(Result)
    step = bulk.max_params(connection) - 2  # one statement for an import's ids, where it may
    for start in range(0, len(ids), step):
        found.update(
            int(object_id)
            for object_id in ChangeLogEntry.objects.filter(
                content_type=content_type,
                object_id__in=ids[start : start + step],
                action=ChangeLogEntry.Action.APPROVE,
            ).values_list("object_id", flat=True)
        )
    return found


def version_refusal(label, expected_version):
    """Why a write without the version it was based on is refused, or None."""
    if expected_version is None or expected_version == "":
        return _(
            "%(result)s: the save did not say which version of the result it was based on; "
            "reload the page and enter the value again."
        ) % {"result": label}
    return None


NO_RESULT = 0  # the version a write names when there was no result yet
CONFLICT_FIELDS = ["value", "note", "status"]


@dataclass
class CellWrite:
    """One result to write: `note=None` keeps the note; `expected_version` is the version
    the writer's copy was loaded at (NO_RESULT: there was none) and is required."""

    indicator: object  # an Indicator
    period: str
    value: object
    note: str | None = None
    expected_version: int | None = None


@dataclass
class CellOutcome:
    indicator_id: int
    period: str
    ok: bool = False
    error: str = ""
    conflict: ConcurrentEditError | None = None  # a stale copy: the newer row is in it
    result: Result | None = None  # as saved (or as it was, when nothing changed)
    changed: bool = False


class CellsRefused(WorkflowError):
    """One or more cells of a save were refused: nothing was written. `outcomes` has every
    cell (the refused ones with their reason)."""

    def __init__(self, outcomes):
        self.outcomes = outcomes
        super().__init__([o.error for o in outcomes if o.error])


def _lock_cells(keys):
    """The existing results of (indicator id, period) `keys`, locked in one fixed order."""
    if not keys:
        return {}
    wanted = Q(pk__in=[])
    for indicator_id, period in keys:
        wanted |= Q(indicator_id=indicator_id, period=period)
    queryset = Result.objects.select_related(Result.scope.plan).filter(wanted).order_by("pk")
    if connection.features.has_select_for_update_of:
        queryset = queryset.select_for_update(of=("self",))
    else:
        queryset = queryset.select_for_update()
    return {(r.indicator_id, r.period): r for r in queryset}


def save_results(user, writes, *, today=None) -> list[CellOutcome]:
    """Write many results in one transaction: all of them, or none (CellsRefused).

    Every cell is decided before anything is written: its number, its period, its version
    (required), then _Checker.write_refusal (department, status, deadline). A value equal
    to the stored one writes nothing. A changed value of a result approved once marks it
    `edited_after_approval`; a value over sample data makes it real. One change-log entry
    per written result.
    """
    writes = list(writes)
    outcomes = [CellOutcome(w.indicator.pk, w.period) for w in writes]
    values = [None] * len(writes)
    visible = set(
        restrict(
            Indicator.objects.filter(pk__in={w.indicator.pk for w in writes}), user, "view"
        ).values_list("pk", flat=True)
    )
    seen = set()
    for index, (write, out) in enumerate(zip(writes, outcomes, strict=True)):
        key = (write.indicator.pk, write.period)
        label = f"{write.indicator} {periods.period_label(write.period)}"
        try:
            values[index] = _parse_value(write.value, write.indicator)
            check_period(write.indicator, write.period)
        except WorkflowError as exc:
            out.error = exc.message
            continue
        if write.indicator.pk not in visible:
            out.error = _("%(indicator)s: you may not enter results of this department.") % {
                "indicator": write.indicator
            }
        elif key in seen:
            out.error = _("%(result)s is twice in one save.") % {"result": label}
        else:
            out.error = version_refusal(label, write.expected_version) or ""
        seen.add(key)
    if any(o.error for o in outcomes):
        raise CellsRefused(outcomes)

    with transaction.atomic(), change_context(user=user):
        locked = _lock_cells([(w.indicator.pk, w.period) for w in writes])
        checker = _Checker(user, list(locked.values()), today)
        for index, (write, out) in enumerate(zip(writes, outcomes, strict=True)):
            current = locked.get((write.indicator.pk, write.period))
            note = write.note if write.note is not None else (current.note if current else "")
            expected = int(write.expected_version)
            attempted = {"value": values[index], "note": note}
            if current is None and expected != NO_RESULT:
                out.error = _(
                    "%(indicator)s %(period)s: the result was deleted by someone else."
                ) % {
                    "indicator": write.indicator,
                    "period": periods.period_label(write.period),
                }
                continue
            if current is not None and current.version != expected:
                out.conflict = ConcurrentEditError(current, expected, attempted, CONFLICT_FIELDS)
                out.error = out.conflict.message
                continue
            if current is not None and current.value == values[index] and current.note == note:
                out.ok, out.result = True, current  # nothing to write
                continue
            out.error = checker.write_refusal(write.indicator, write.period, current) or ""
        if any(o.error for o in outcomes):
            raise CellsRefused(outcomes)

        approved_once = ever_approved(r.pk for r in locked.values() if not r.edited_after_approval)
        for index, (write, out) in enumerate(zip(writes, outcomes, strict=True)):
            if out.ok:
                continue
            current = locked.get((write.indicator.pk, write.period))
            note = write.note if write.note is not None else (current.note if current else "")
            out.result = _write_cell(user, write, current, values[index], note, approved_once)
            out.ok = out.changed = True
    return outcomes


def _write_cell(user, write, current, value, note, approved_once):
    """Write one decided cell (inside save_results' transaction)."""
    if current is not None:
        if current.value != value and current.pk in approved_once:
            current.edited_after_approval = True
        current.value, current.note = value, note
        current.entered_by = user
        current.is_sample = False
        _save_step(current)
        return current
    result = Result(
        indicator=write.indicator,
        period=write.period,
        value=value,
        note=note,
        entered_by=user,
        status=ResultStatus.DRAFT,
    )
    try:
        with transaction.atomic():
            result.save()
    except IntegrityError:
        # Someone created it between our look and our insert: this copy is stale.
        newer = Result.objects.get(indicator=write.indicator, period=write.period)
        out = CellOutcome(write.indicator.pk, write.period)
        out.conflict = ConcurrentEditError(
            newer, NO_RESULT, {"value": value, "note": note}, CONFLICT_FIELDS
        )
        out.error = out.conflict.message
        raise CellsRefused([out]) from None
    return result


def save_result(
    user, indicator, period_key, *, value, note=None, expected_version=None, today=None
) -> Result:
    """Create or update the result of `indicator` for `period_key`; returns it.

    save_results for one cell: a stale copy raises ConcurrentEditError, any other refusal
    WorkflowError. `expected_version` is required (NO_RESULT: "there was no result yet").
    """
    write = CellWrite(indicator, period_key, value, note, expected_version)
    try:
        (outcome,) = save_results(user, [write], today=today)
    except CellsRefused as exc:
        refused = next(o for o in exc.outcomes if o.error)
        if refused.conflict is not None:
            raise refused.conflict from None
        raise WorkflowError(refused.error) from None
    return outcome.result


# ---------------------------------------------------------------- saves answered once

RECEIPT_LIFETIME = timedelta(days=1)
IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


def is_idempotency_key(key):
    return bool(key) and bool(IDEMPOTENCY_KEY.match(key))


def answered_once(user, key, run):
    """run()'s outcome (JSON-able), stored under `key` in run()'s own transaction: a retry
    with the same key (after a lost response) gets the first outcome back, not a refusal of
    a now "stale" copy. Returns (outcome, replayed). Receipts older than RECEIPT_LIFETIME
    are removed as the user saves."""
    now = timezone.now()
    with transaction.atomic():
        SaveReceipt.objects.filter(user=user, created_at__lt=now - RECEIPT_LIFETIME).delete()
        found = SaveReceipt.objects.filter(user=user, key=key).first()
        if found is not None:
            return found.outcome, True
        try:
            with transaction.atomic():
                # Taken first: the same key sent twice at once waits here for the first.
                receipt = SaveReceipt.objects.create(user=user, key=key, created_at=now)
        except IntegrityError:
            return SaveReceipt.objects.get(user=user, key=key).outcome, True
        outcome = run()
        receipt.outcome = outcome
        receipt.save(update_fields=["outcome"])
    return outcome, False


# ---------------------------------------------------------------- the steps


def submit(user, results, today=None, *, rules=Rules):
    """제출: draft or returned → submitted (officers, plan admins; entry must be open)."""

    def apply(result, now):
        result.status = ResultStatus.SUBMITTED
        result.submitted_at = now
        result.submitted_by = user
        result.return_reason = ""

    return _step(user, results, SUBMIT, apply, today=today, rules=rules)


def approve(user, results, today=None, *, rules=Rules):
    """승인: submitted → approved, and locked (reviewers, plan admins)."""

    def apply(result, now):
        result.status = ResultStatus.APPROVED
        result.reviewed_by = user
        result.reviewed_at = now
        result.return_reason = ""

    return _step(user, results, APPROVE, apply, today=today, rules=rules)


def _required(reason, message):
    reason = (reason or "").strip()
    if not reason:
        raise WorkflowError(message)
    return reason


def return_result(user, result, reason, today=None):
    """반려: submitted → returned, with the reason the officer will see (reviewers)."""
    reason = _required(reason, _("A result is returned with a reason."))

    def apply(result, now):
        result.status = ResultStatus.RETURNED
        result.return_reason = reason
        result.reviewed_by = user
        result.reviewed_at = now

    return _step(user, [result], RETURN, apply, reason=reason, today=today)[0]


def return_results(user, results, reason, today=None, *, rules=Rules):
    """반려 of several results with one reason."""
    reason = _required(reason, _("A result is returned with a reason."))

    def apply(result, now):
        result.status = ResultStatus.RETURNED
        result.return_reason = reason
        result.reviewed_by = user
        result.reviewed_at = now

    return _step(user, results, RETURN, apply, reason=reason, today=today, rules=rules)


def reopen(user, result, reason, today=None):
    """Approved → draft again, with a reason (plan admins only)."""
    return reopen_results(user, [result], reason, today)[0]


def reopen_results(user, results, reason, today=None, *, rules=Rules):
    reason = _required(reason, _("Reopening an approved result needs a reason."))

    def apply(result, now):
        result.status = ResultStatus.DRAFT

    return _step(user, results, REOPEN, apply, reason=reason, today=today, rules=rules)


def bulk_approve(user, plan, department, period_key, today=None) -> int:
    """Approve every submitted result of `department` for `period_key` in `plan`; the count."""
    department_id = getattr(department, "pk", department)
    if not may_review(user) or not (
        restrict(Department.objects.filter(pk=department_id), user, "view").exists()
    ):
        raise WorkflowError(
            _("You may not approve results of %(department)s.") % {"department": department}
        )
    ids = list(
        restrict(
            Result.objects.in_plan(plan)
            .of_departments([department_id])
            .filter(period=period_key, status=ResultStatus.SUBMITTED),
            user,
            "view",
        ).values_list("pk", flat=True)
    )
    return len(approve(user, ids, today))
