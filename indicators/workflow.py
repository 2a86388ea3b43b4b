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
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal, InvalidOperation

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from goals.models import Department
from perfplan.changelog import change_context
from perfplan.locking import ConcurrentEditError
from perfplan.models import ChangeLogEntry
from perfplan.numbers import NumberFormatError, parse_number
from perfplan.scoping import can, department_ids, restrict, sees_all

from . import locks
from .models import Result, ResultStatus

EDIT = "edit"
SUBMIT = "submit"
APPROVE = "approve"
RETURN = "return"
REOPEN = "reopen"
ACTIONS = (EDIT, SUBMIT, APPROVE, RETURN, REOPEN)

DEPT = "indicator__policy_goal__strategic_goal__plan_department"
_RELATED = (f"{DEPT}__plan",)
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


def _may_add_result(user, department_id):
    """restrict()'s rule, for a result row that does not exist yet."""
    if not _active(user) or not user.has_perm("indicators.add_result"):
        return False
    return sees_all(user, "add") or department_id in department_ids(user)


# ---------------------------------------------------------------- helpers


def _department(result_or_indicator):
    indicator = getattr(result_or_indicator, "indicator", result_or_indicator)
    return indicator.policy_goal.strategic_goal.plan_department


def _status(result):
    return result.get_status_display()


def _label(result):
    return str(result)


def _lock_results(ids):
    """The results, locked (only their own rows) in a fixed order, with plan and department."""
    queryset = Result.objects.select_related(*_RELATED).filter(pk__in=ids).order_by("pk")
    if connection.features.has_select_for_update_of:
        return list(queryset.select_for_update(of=("self",)))
    return list(queryset.select_for_update())


def _lock_one(indicator, period_key):
    queryset = Result.objects.select_related(*_RELATED).filter(
        indicator=indicator, period=period_key
    )
    if connection.features.has_select_for_update_of:
        return queryset.select_for_update(of=("self",)).first()
    return queryset.select_for_update().first()


def _ids(results):
    if isinstance(results, Result):
        return [results.pk]
    return [r.pk if isinstance(r, Result) else int(r) for r in results]


def _was_ever_approved(result):
    return ChangeLogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Result),
        object_id=str(result.pk),
        action=ChangeLogEntry.Action.APPROVE,
    ).exists()


class _Checker:
    """Refusal reasons for many results with a constant number of queries."""

    def __init__(self, user, results, today=None):
        self.user = user
        self.today = today
        ids = [r.pk for r in results]
        self.in_scope = {}
        for action in ("view", "change"):
            allowed = restrict(Result.objects.filter(pk__in=ids), user, action)
            self.in_scope[action] = set(allowed.values_list("pk", flat=True))
        self._open = {}

    def entry_open(self, result):
        pd = _department(result)
        key = (pd.plan_id, pd.department_id, result.period)
        if key not in self._open:
            self._open[key] = locks.entry_open(pd.plan, pd.department_id, result.period, self.today)
        return self._open[key]

    def closed(self, result):
        pd = _department(result)
        return locks.closed_message(pd.plan, pd.name, result.period)

    def refusal(self, result, action, reason=None):
        """Why `user` may not take `action` on `result` now, or None."""
        user, label = self.user, _label(result)
        status = result.status
        if not _active(user):
            return _("%(result)s: you are not signed in.") % {"result": label}
        if action == EDIT:
            if result.pk not in self.in_scope["change"]:
                return _("%(result)s: you may not enter results of this department.") % {
                    "result": label
                }
            if status == ResultStatus.SUBMITTED:
                return _(
                    "%(result)s is submitted and waits for review: it cannot be edited "
                    "unless the reviewer returns it."
                ) % {"result": label}
            if status == ResultStatus.APPROVED:
                return _("%(result)s is approved and locked: only a plan admin can reopen it.") % {
                    "result": label
                }
            if not self.entry_open(result):
                return f"{label}: {self.closed(result)}"
            return None
        if action == SUBMIT:
            if not may_submit(user) or result.pk not in self.in_scope["change"]:
                return _("%(result)s: you may not submit results of this department.") % {
                    "result": label
                }
            if status not in (ResultStatus.DRAFT, ResultStatus.RETURNED):
                return _(
                    "%(result)s: only a draft or returned result can be submitted (it is "
                    "%(status)s)."
                ) % {"result": label, "status": _status(result)}
            if result.value is None:
                return _("%(result)s: a result without a value cannot be submitted.") % {
                    "result": label
                }
            if not self.entry_open(result):
                return f"{label}: {self.closed(result)}"
            return None
        if action in (APPROVE, RETURN):
            if not may_review(user) or result.pk not in self.in_scope["view"]:
                return _("%(result)s: you may not review results of this department.") % {
                    "result": label
                }
            if status != ResultStatus.SUBMITTED:
                if action == APPROVE:
                    message = _(
                        "%(result)s: only a submitted result can be approved (it is %(status)s)."
                    )
                else:
                    message = _(
                        "%(result)s: only a submitted result can be returned (it is %(status)s)."
                    )
                return message % {"result": label, "status": _status(result)}
            if action == RETURN and reason is not None and not reason.strip():
                return _("%(result)s: a result is returned with a reason.") % {"result": label}
            return None
        if action == REOPEN:
            if not may_reopen(user) or result.pk not in self.in_scope["change"]:
                return _("%(result)s: only a plan admin can reopen an approved result.") % {
                    "result": label
                }
            if status != ResultStatus.APPROVED:
                return _(
                    "%(result)s: only an approved result can be reopened (it is %(status)s)."
                ) % {"result": label, "status": _status(result)}
            if reason is not None and not reason.strip():
                return _("%(result)s: reopening an approved result needs a reason.") % {
                    "result": label
                }
            return None
        raise ValueError(f"unknown workflow action {action!r}")


def refusals(user, results, action, reason=None, today=None):
    """{result pk: why `user` may not take `action`} for the refused ones (read-only check)."""
    results = list(results)
    checker = _Checker(user, results, today)
    found = {}
    for result in results:
        message = checker.refusal(result, action, reason)
        if message:
            found[result.pk] = message
    return found


def allowed_actions(user, result, today=None) -> set[str]:
    """The steps `user` may take on `result` now: a subset of ACTIONS (for the UI)."""
    if result is None or result.pk is None:
        return set()
    checker = _Checker(user, [result], today)
    return {action for action in ACTIONS if checker.refusal(result, action) is None}


def _save_step(result):
    result.version += 1  # the row is locked by this transaction: an open edit form is stale
    result.save()


def _step(user, results, action, apply, *, reason="", today=None):
    ids = _ids(results)
    if not ids:
        return []
    with transaction.atomic():
        locked = _lock_results(ids)
        if len(locked) != len(set(ids)):
            raise WorkflowError(_("Some of the results no longer exist; nothing was changed."))
        checker = _Checker(user, locked, today)
        problems = [
            message for message in (checker.refusal(r, action, reason) for r in locked) if message
        ]
        if problems:
            raise WorkflowError(problems)
        now = timezone.now()
        with change_context(user=user, action=action, reason=reason):
            for result in locked:
                apply(result, now)
                _save_step(result)
    return locked


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
    keys = locks.keys_for(indicator.frequency or "")
    if period_key not in keys:
        raise WorkflowError(
            _("%(indicator)s: “%(period)s” is not one of its periods (%(keys)s).")
            % {"indicator": indicator, "period": period_key, "keys": ", ".join(keys)}
        )


def check_entry(user, indicator, period_key, result=None, today=None):
    """Why `user` may not enter this result now (WorkflowError), or nothing. Read-only."""
    check_period(indicator, period_key)
    if not can(user, "view", indicator):
        raise WorkflowError(
            _("%(indicator)s: you may not enter results of this department.")
            % {"indicator": indicator}
        )
    if result is not None and result.pk is not None:
        message = _Checker(user, [result], today).refusal(result, EDIT)
        if message:
            raise WorkflowError(message)
        return
    pd = _department(indicator)
    if not _may_add_result(user, pd.department_id):
        raise WorkflowError(
            _("%(indicator)s: you may not enter results of this department.")
            % {"indicator": indicator}
        )
    if not locks.entry_open(pd.plan, pd.department_id, period_key, today):
        raise WorkflowError(
            f"{indicator} {period_key}: {locks.closed_message(pd.plan, pd.name, period_key)}"
        )


def save_result(
    user, indicator, period_key, *, value, note=None, expected_version=None, today=None
) -> Result:
    """Create or update the result of `indicator` for `period_key`; returns it.

    `expected_version` is the version the caller's copy was loaded at (0: "there was no
    result yet"); a newer row raises ConcurrentEditError. Without it, the row is still
    locked and its version bumped. Nothing changed: nothing is written. `note=None` keeps
    the note as it is. A value entered over sample data makes the result real.
    """
    keep_note = note is None
    note = note or ""
    value = _parse_value(value, indicator)
    check_period(indicator, period_key)
    if not can(user, "view", indicator):
        raise WorkflowError(
            _("%(indicator)s: you may not enter results of this department.")
            % {"indicator": indicator}
        )
    with transaction.atomic(), change_context(user=user):
        existing = _lock_one(indicator, period_key)
        if existing is not None and keep_note:
            note = existing.note
        attempted = {"value": value, "note": note}
        if existing is not None:
            if expected_version is not None and existing.version != int(expected_version):
                raise ConcurrentEditError(
                    existing, expected_version, attempted, ["value", "note", "status"]
                )
            if existing.value == value and existing.note == note:
                if not can(user, "view", existing):
                    raise WorkflowError(
                        _("%(indicator)s: you may not enter results of this department.")
                        % {"indicator": indicator}
                    )
                return existing
            check_entry(user, indicator, period_key, existing, today)
            value_changed = existing.value != value
            existing.value = value
            existing.note = note
            existing.entered_by = user
            existing.is_sample = False
            if value_changed and not existing.edited_after_approval:
                existing.edited_after_approval = _was_ever_approved(existing)
            _save_step(existing)
            return existing
        if expected_version not in (None, 0):
            raise WorkflowError(
                _("%(indicator)s %(period)s: the result was deleted by someone else.")
                % {"indicator": indicator, "period": period_key}
            )
        check_entry(user, indicator, period_key, None, today)
        result = Result(
            indicator=indicator,
            period=period_key,
            value=value,
            note=note,
            entered_by=user,
            status=ResultStatus.DRAFT,
        )
        try:
            with transaction.atomic():
                result.save()
        except IntegrityError:
            # Someone created it between our look and our insert.
            current = Result.objects.get(indicator=indicator, period=period_key)
            raise ConcurrentEditError(
                current, expected_version, attempted, ["value", "note", "status"]
            ) from None
        return result


# ---------------------------------------------------------------- the steps


def submit(user, results, today=None):
    """제출: draft or returned → submitted (officers, plan admins; entry must be open)."""

    def apply(result, now):
        result.status = ResultStatus.SUBMITTED
        result.submitted_at = now
        result.return_reason = ""

    return _step(user, results, SUBMIT, apply, today=today)


def approve(user, results, today=None):
    """승인: submitted → approved, and locked (reviewers, plan admins)."""

    def apply(result, now):
        result.status = ResultStatus.APPROVED
        result.reviewed_by = user
        result.reviewed_at = now
        result.return_reason = ""

    return _step(user, results, APPROVE, apply, today=today)


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


def return_results(user, results, reason, today=None):
    """반려 of several results with one reason."""
    reason = _required(reason, _("A result is returned with a reason."))

    def apply(result, now):
        result.status = ResultStatus.RETURNED
        result.return_reason = reason
        result.reviewed_by = user
        result.reviewed_at = now

    return _step(user, results, RETURN, apply, reason=reason, today=today)


def reopen(user, result, reason, today=None):
    """Approved → draft again, with a reason (plan admins only)."""
    return reopen_results(user, [result], reason, today)[0]


def reopen_results(user, results, reason, today=None):
    reason = _required(reason, _("Reopening an approved result needs a reason."))

    def apply(result, now):
        result.status = ResultStatus.DRAFT

    return _step(user, results, REOPEN, apply, reason=reason, today=today)


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
            Result.objects.filter(
                **{f"{DEPT}__plan": plan, f"{DEPT}__department_id": department_id},
                period=period_key,
                status=ResultStatus.SUBMITTED,
            ),
            user,
            "view",
        ).values_list("pk", flat=True)
    )
    return len(approve(user, ids, today))
