"""What waits for a person, read from the database: the one computation behind the admin
home's to-do list (reminders.todo) and the e-mails of send_reminders (reminders.services).

Scoped to the person's own departments (their DepartmentAssignment rows): a plan admin who
sees every department gets no one else's to-do list. Deadlines are indicators.locks' (a
period's entry deadline and its exceptions), periods indicators.periods', and who may submit
or review what is indicators.workflow's rule (asked, not re-decided here).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy

from indicators import locks, workflow
from indicators.models import Indicator, Result, ResultStatus
from indicators.periods import periods_for
from perfplan.models import Plan
from perfplan.scoping import department_ids

ENTER, SUBMIT, REVIEW, RETURNED, EXPLAIN = "enter", "submit", "review", "returned", "explain"
_NOT_ENTERED = gettext_lazy("not entered")


@dataclass
class Line:
    """One indicator (and period) that needs the person."""

    department: str
    indicator: str
    indicator_id: int
    period: str = ""
    state: str = ""  # not entered, draft, returned, submitted…
    note: str = ""  # a return's reason
    result_id: int | None = None
    version: int | None = None
    entered: bool = False  # a value is there (to submit), else to enter


@dataclass
class Batch:
    """The lines of one kind, plan and period: one to-do entry, one reminder."""

    kind: str
    plan: Plan
    period: str
    deadline: date | None = None
    lines: list = field(default_factory=list)


def current_plans(today):
    """The plans whose periods can still be due: this year's and last year's (its last
    periods close in January)."""
    return list(Plan.objects.filter(fiscal_year__in=(today.year - 1, today.year)))


def _indicators(plan, departments):
    scope = Indicator.scope
    return list(
        Indicator.objects.in_plan(plan)
        .of_departments(departments)
        .select_related(scope.department.rpartition("__")[0])
        .order_by(*Indicator._meta.ordering)
    )


def _department_of(indicator):
    pd = indicator.policy_goal.strategic_goal.plan_department
    return pd.department_id, pd.name


def _results(indicators):
    found = defaultdict(dict)
    for result in Result.objects.filter(indicator__in=[i.pk for i in indicators]).order_by():
        found[result.indicator_id][result.period] = result
    return found


def _state(result):
    if result is None or result.value is None:
        return str(_NOT_ENTERED)
    return result.get_status_display()


def entry_batches(plan, departments, today, *, within_days=None):
    """Per period: the indicators whose result is not entered or not submitted.

    within_days None (the to-do list): periods that have ended and are still open for
    entry; a number (the reminders): periods whose entry deadline falls within that many
    days from today (today included)."""
    batches = {}
    indicators = _indicators(plan, departments)
    results = _results(indicators)
    open_for_entry = {}  # (department, period) -> locks.entry_open: asked once each

    def entry_open(department_id, key):
        if (department_id, key) not in open_for_entry:
            open_for_entry[department_id, key] = locks.entry_open(plan, department_id, key, today)
        return open_for_entry[department_id, key]

    for indicator in indicators:
        department_id, department_name = _department_of(indicator)
        for period in periods_for(indicator.frequency, plan.fiscal_year):
            deadline = locks.entry_deadline(plan, period.key)
            if within_days is None:
                wanted = period.end < today and entry_open(department_id, period.key)
            else:
                wanted = today <= deadline <= today + timedelta(days=within_days)
            result = results[indicator.pk].get(period.key)
            waiting = result is None or result.value is None
            waiting = waiting or result.status in ResultStatus.SUBMITTABLE
            if not (wanted and waiting):
                continue
            batch = batches.setdefault(period.key, Batch(ENTER, plan, period.key, deadline))
            line = Line(department_name, indicator.name, indicator.pk, period.key, _state(result))
            line.entered = result is not None and result.value is not None
            batch.lines.append(line)
    return [batches[key] for key in sorted(batches, key=lambda k: (batches[k].deadline, k))]


def review_batches(user, plan, departments):
    """Per period: the submitted results of the person's departments they may approve
    (indicators.workflow decides: not their own, unless the plan allows it)."""
    results = list(
        Result.objects.filter(status=ResultStatus.SUBMITTED)
        .filter(indicator__in=Indicator.objects.in_plan(plan).of_departments(departments))
        .select_related(
            "indicator__policy_goal__strategic_goal__plan_department__plan",
        )
        .order_by("period", "indicator_id")
    )
    refused = workflow.refusals(user, results, workflow.APPROVE)
    batches = {}
    for result in results:
        if result.pk in refused:
            continue
        _department_id, department_name = _department_of(result.indicator)
        batch = batches.setdefault(result.period, Batch(REVIEW, plan, result.period))
        batch.lines.append(
            Line(
                department_name,
                result.indicator.name,
                result.indicator_id,
                result.period,
                result.get_status_display(),
                result_id=result.pk,
                version=result.version,
            )
        )
    return list(batches.values())


def returned_lines(plan, departments):
    """The returned results of these departments, with their reasons."""
    results = (
        Result.objects.filter(status=ResultStatus.RETURNED)
        .filter(indicator__in=Indicator.objects.in_plan(plan).of_departments(departments))
        .select_related("indicator__policy_goal__strategic_goal__plan_department")
        .order_by("period", "indicator_id")
    )
    lines = []
    for result in results:
        _department_id, department_name = _department_of(result.indicator)
        lines.append(
            Line(
                department_name,
                result.indicator.name,
                result.indicator_id,
                result.period,
                result.get_status_display(),
                result.return_reason,
                result.pk,
                result.version,
            )
        )
    return lines


def people_with_role(role):
    """Active people holding `role` (perfplan.roles' group) with at least one department."""
    return list(
        get_user_model()
        ._default_manager.filter(groups__name=role, is_active=True)
        .filter(department_assignments__isnull=False)
        .distinct()
        .order_by("pk")
    )


def departments_of(user):
    return sorted(department_ids(user))
