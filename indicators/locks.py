"""Periods close for entry: each has a deadline, after which only an exception reopens it.

A period's entry deadline is its last day plus the plan's `entry_deadline_days`. Until the
end of that day, results of the period may be entered, edited and submitted; after it,
entry is closed, unless a plan admin has opened an exception (EntryException) for the
department and period, until a date and with a reason — like DHIS2's expiry days and lock
exceptions. Reviewing (approve, return) and a plan admin's reopen are not entry: they stay
possible after the deadline.

A period's keys, dates and labels are indicators.periods'; this module only adds deadlines.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from perfplan.changelog import change_context, draft_for, record_many
from perfplan.scoping import can, may_act_in

from .models import EntryException
from .periods import check_period_key, period_end, period_label


class LockError(Exception):
    """A refused lock or exception operation; the message says what and why."""

    def __init__(self, message):
        self.message = message
        super().__init__(message)

    def __str__(self):
        return self.message


def entry_deadline(plan, key) -> date:
    """The last day on which results of period `key` may be entered without an exception."""
    return period_end(plan.fiscal_year, key) + timedelta(days=plan.entry_deadline_days)


def _today(today):
    return today or timezone.localdate()


def active_exception(plan, department_id, period_key, today=None):
    """The EntryException keeping the period open today, if any."""
    return (
        EntryException.objects.filter(
            plan=plan,
            department_id=department_id,
            period=period_key,
            open_until__gte=_today(today),
        )
        .order_by("-open_until")
        .first()
    )


def entry_open(plan, department_id, period_key, today=None) -> bool:
    """Whether results of that department and period may be entered (edited, submitted)."""
    today = _today(today)
    if today <= entry_deadline(plan, period_key):
        return True
    return active_exception(plan, department_id, period_key, today) is not None


def closed_message(plan, department_name, period_key):
    """Why entry is refused: the deadline that passed (and a lapsed exception, if any)."""
    params = {
        "department": department_name,
        "period": period_label(period_key),
        "deadline": entry_deadline(plan, period_key).isoformat(),
    }
    return (
        _(
            "The entry deadline of %(department)s for period %(period)s was %(deadline)s: "
            "entry is closed. A plan admin can open an exception for the department and "
            "period."
        )
        % params
    )


def check_exception(user, plan, department, period_key, open_until, reason, today=None):
    """Why an exception may not be opened (LockError), or nothing."""
    if not may_act_in(user, "indicators.add_entryexception", department.pk):
        raise LockError(_("Only a plan admin can open an entry exception."))
    try:
        check_period_key(period_key)
    except ValueError as exc:
        raise LockError(str(exc)) from None
    if not (reason or "").strip():
        raise LockError(_("An entry exception needs a reason."))
    if open_until is None:
        raise LockError(_("An entry exception needs the date until which entry stays open."))
    if open_until < _today(today):
        raise LockError(
            _("An entry exception cannot end in the past (%(date)s).")
            % {"date": open_until.isoformat()}
        )
    if not plan.departments.filter(department=department).exists():
        raise LockError(
            _("%(department)s is not a department of %(plan)s.")
            % {"department": department, "plan": plan}
        )


def open_exception(user, plan, department, period_key, open_until, reason, today=None):
    """Keep entry open for one department and period until `open_until` (plan admins only).

    An exception already there for the department and period is extended (or shortened) in
    place. The change log records it with the action "lock" and the reason.
    """
    reason = (reason or "").strip()
    check_exception(user, plan, department, period_key, open_until, reason, today)
    with transaction.atomic():
        exception = (
            EntryException.objects.select_for_update()
            .filter(plan=plan, department=department, period=period_key)
            .first()
        )
        if exception is not None and not can(user, "change", exception):
            raise LockError(_("Only a plan admin can open an entry exception."))
        if exception is None:
            exception = EntryException(plan=plan, department=department, period=period_key)
            changes = {"period": (None, period_key)}
        else:
            changes = {}
        for name, value in (("open_until", open_until), ("reason", reason)):
            old = getattr(exception, name) if exception.pk else None
            if old != value:
                changes[name] = (old, value)
        exception.open_until = open_until
        exception.reason = reason
        exception.created_by = user
        with change_context(quiet=True):  # one "lock" entry, not "create"/"update" besides
            exception.save()
        record_many([draft_for(exception, "lock", changes, reason=reason)])
    return exception
