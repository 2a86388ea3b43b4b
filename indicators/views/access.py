"""Who may do what in the tracking views, and the lookups that 404 outside a user's scope."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.core.exceptions import PermissionDenied
from django.http import Http404

from perfplan.models import Plan
from perfplan.scoping import get_or_deny, may_act_in, restrict

from ..models import EntryException, Indicator


def require_view(user):
    if not user.has_perm("indicators.view_indicator"):
        raise PermissionDenied


def may_enter(user):
    return user.has_perm("indicators.add_result") and user.has_perm("indicators.change_result")


def enterable_ids(user, indicators):
    """Ids of `indicators` whose results the user may enter (their departments, or all)."""
    if not may_enter(user):
        return set()
    # "enter" is not a model permission: restrict() narrows to the user's departments
    # unless they may change every department's data.
    return set(restrict(indicators, user, "enter").values_list("pk", flat=True))


@dataclass
class EntryWindow:
    """Which periods of a plan are open for entry today, with one query (see indicators.locks)."""

    plan: Plan
    today: date
    exceptions: set = field(default_factory=set)

    @classmethod
    def load(cls, plan, user, today):
        exceptions = set(
            restrict(
                EntryException.objects.filter(plan=plan, open_until__gte=today), user, "enter"
            ).values_list("department_id", "period")
        )
        return cls(plan, today, exceptions)

    def is_open(self, department_id, period_key):
        from ..locks import entry_deadline

        if self.today <= entry_deadline(self.plan, period_key):
            return True
        return (department_id, period_key) in self.exceptions

    def closed_reason(self, department_name, period_key):
        from ..locks import closed_message

        return closed_message(self.plan, department_name, period_key)


class ReviewScope:
    """Which departments' results a user may submit, and approve or return, as
    indicators.workflow decides it (may_act_in: restrict's rule for one department), from
    the user's permissions and assignments only: no query per row. The workflow checks again."""

    def __init__(self, user):
        from ..workflow import may_reopen, may_review, may_submit

        active = bool(user.is_authenticated and user.is_active)
        self.may_submit = active and may_submit(user) and user.has_perm("indicators.change_result")
        self.may_review = active and may_review(user) and user.has_perm("indicators.view_result")
        self.may_reopen = active and may_reopen(user) and user.has_perm("indicators.change_result")
        self.user = user

    @property
    def any(self):
        return self.may_submit or self.may_review or self.may_reopen

    def reopens(self, department_id):
        return self.may_reopen and may_act_in(self.user, "indicators.change_result", department_id)

    def submits(self, department_id):
        return self.may_submit and may_act_in(self.user, "indicators.change_result", department_id)

    def reviews(self, department_id):
        return self.may_review and may_act_in(self.user, "indicators.view_result", department_id)


def indicator_or_404(user, pk):
    return get_or_deny(
        Indicator.objects.select_related(Indicator.scope.plan, Indicator.scope.department),
        user,
        "view",
        pk=pk,
    )


def plan_of(indicator):
    return indicator.policy_goal.strategic_goal.plan_department.plan


def period_or_404(indicator, key):
    from ..periods import get_period

    try:
        return get_period(indicator.frequency, plan_of(indicator).fiscal_year, key)
    except ValueError:
        raise Http404 from None
