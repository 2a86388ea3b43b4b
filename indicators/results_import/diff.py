"""The diff: rows matched against the plan and the results there are now, each decided by
indicators.workflow (write_refusals), as a save in the grid is. Writes nothing; locks the
results it read until the import's transaction ends."""

from __future__ import annotations

from collections import defaultdict

from django.utils.translation import gettext as _

from goals.models import PlanDepartment
from indicators import workflow
from indicators.models import Frequency, Indicator, Result
from indicators.periods import PERIOD_KEYS, get_period
from indicators.tracking.rules import frequency_of
from perfplan.models import Plan
from perfplan.scoping import restrict
from perfplan.tabular import RowError, name_key

from .changes import CURRENT_FIELDS, Current, ResultChange


def diff(result, year, rows, user, today):
    """Fill `result` with the changes and errors of `rows` for the plan of `year`."""
    errors = result.errors
    plan = restrict(Plan.objects.filter(fiscal_year=year), user, "view").first()
    if plan is None:
        errors.append(
            RowError(
                "", None, "", None, _("there is no %(year)s performance plan") % {"year": year}
            )
        )
        return
    result.plan = plan
    matched = _match_rows(result, plan, rows, user, today)
    if not matched:
        return

    # The results there are now, of the departments the file names, locked until the end in
    # the one lock order (results in id order: README, Concurrency).
    department_pks = result.department_pks = {pd.pk for _row, _ind, pd, _period in matched}
    indicator_by_id = {indicator.pk for _row, indicator, _pd, _period in matched}
    plan_results = Result.objects.under(PlanDepartment, department_pks)
    locked = restrict(plan_results, user, "view").select_for_update(of=("self",)).order_by("pk")
    existing = {}
    for values in locked.values_list(*CURRENT_FIELDS):
        current = Current(*values)
        if current.indicator_id in indicator_by_id:
            existing[(current.indicator_id, current.period)] = current
    candidates = []
    for row, indicator, _pd, period in matched:
        current = existing.get((indicator.pk, period.key))
        new_note = row.note if row.note else (current.note if current else "")
        change = ResultChange(
            "new" if current is None else "changed",
            row,
            indicator,
            period,
            current.value if current else None,
            row.value,
            current.note if current else "",
            new_note,
            current,
        )
        if current is not None and current.value == row.value and current.note == new_note:
            change.action = "unchanged"
            result.changes.append(change)
            continue
        candidates.append(change)

    # The rules are indicators.workflow's, as for every other way in (one decision per row).
    refused = workflow.write_refusals(
        user,
        [(c.indicator, c.period.key, c.current) for c in candidates],
        today=today,
        within=plan_results,
    )
    for index, change in enumerate(candidates):
        message = refused.get(index)
        if message is None:
            result.changes.append(change)
            continue
        row = change.row
        column, value = _REFUSED_COLUMN.get(message.concerns, ("value", row.value_raw))
        if column == "department":
            value = row.department or row.department_code
        elif column == "period":
            value = row.period_raw
        errors.append(row.error(column, value, str(message)))
    approved_once = workflow.ever_approved(
        c.current.pk
        for c in result.changes
        if c.value_changed and not c.current.edited_after_approval
    )
    for change in result.changes:
        if change.value_changed and change.current.pk in approved_once:
            change.marks_edited_after_approval = True


# Which column a refusal of indicators.workflow points at in the file.
_REFUSED_COLUMN = {"scope": ("department", None), "period": ("period", None)}


def _match_rows(result, plan, rows, user, today):
    """[(row, indicator, plan department, period)] for the rows that name what they mean."""
    errors = result.errors
    # What the user may see, through the one scoping choke point.
    departments = list(
        restrict(PlanDepartment.objects.filter(plan=plan), user, "view").select_related(
            "department"
        )
    )
    dept_by_name = {name_key(pd.name): pd for pd in departments}
    dept_by_code = {pd.department.code: pd for pd in departments if pd.department.code}
    indicators = restrict(Indicator.objects.in_plan(plan), user, "view")
    by_code = defaultdict(list)
    by_dept_name = defaultdict(list)
    for indicator in indicators.select_related(Indicator.scope.department, Indicator.scope.plan):
        pd = indicator.policy_goal.strategic_goal.plan_department
        if indicator.code:
            by_code[indicator.code].append(indicator)
        by_dept_name[(pd.pk, name_key(indicator.name))].append(indicator)
    matched, seen = [], {}
    for row in rows:
        if row.valid and row.value is None and not row.note:
            result.skipped.append(row)
            continue
        # A row with a bad cell is still matched, so that all its problems are listed at once.
        if not (row.department or row.department_code):
            continue
        pd = _match_department(row, dept_by_name, dept_by_code, errors, plan)
        if pd is None or not (row.indicator or row.indicator_code):
            continue
        indicator = _match_indicator(row, pd, by_code, by_dept_name, errors)
        if indicator is None or not row.valid:
            continue
        frequency = frequency_of(indicator)
        try:
            period = get_period(frequency, plan.fiscal_year, row.period_key)
        except ValueError:
            errors.append(
                row.error(
                    "period",
                    row.period_raw,
                    _("the indicator is measured %(frequency)s: its periods are %(keys)s")
                    % {
                        "frequency": Frequency(frequency).label,
                        "keys": ", ".join(PERIOD_KEYS[frequency]),
                    },
                )
            )
            continue
        key = (indicator.pk, period.key)
        if key in seen:
            errors.append(
                row.error(
                    "period",
                    row.period_raw,
                    _("the same indicator and period are already in row %(row)s")
                    % {"row": seen[key].row},
                )
            )
            continue
        seen[key] = row
        if period.start > today:
            errors.append(
                row.error(
                    "period",
                    row.period_raw,
                    _("%(period)s has not begun yet (it starts on %(start)s)")
                    % {"period": period.label, "start": period.start.isoformat()},
                )
            )
            continue
        matched.append((row, indicator, pd, period))
    return matched


def _match_department(row, by_name, by_code, errors, plan):
    pd = by_code.get(row.department_code) if row.department_code else None
    if row.department_code and pd is None:
        errors.append(
            row.error(
                "department_code",
                row.department_code,
                _("no department with this code in the %(year)s plan among your departments")
                % {"year": plan.fiscal_year},
            )
        )
        return None
    if pd is not None and row.department and name_key(row.department) != name_key(pd.name):
        errors.append(
            row.error(
                "department",
                row.department,
                _("the code %(code)s is the department %(name)s")
                % {"code": row.department_code, "name": pd.name},
            )
        )
        return None
    pd = pd or by_name.get(name_key(row.department))
    if pd is None:
        # The same answer whether the department exists elsewhere or not at all.
        errors.append(
            row.error(
                "department",
                row.department,
                _(
                    "no such department in the %(year)s plan among your departments: you may "
                    "only import results of your own departments"
                )
                % {"year": plan.fiscal_year},
            )
        )
    return pd


def _match_indicator(row, pd, by_code, by_dept_name, errors):
    if row.indicator_code:
        found = [i for i in by_code.get(row.indicator_code, []) if _dept_of(i) == pd]
        if not found:
            errors.append(
                row.error(
                    "indicator_code",
                    row.indicator_code,
                    _("no indicator with this code in %(department)s") % {"department": pd.name},
                )
            )
            return None
        if len(found) > 1:
            found = [i for i in found if name_key(i.name) == name_key(row.indicator)] or found
        indicator = found[0]
        if row.indicator and name_key(indicator.name) != name_key(row.indicator):
            errors.append(
                row.error(
                    "indicator",
                    row.indicator,
                    _("the code %(code)s is the indicator %(name)s")
                    % {"code": row.indicator_code, "name": indicator.name},
                )
            )
            return None
        return indicator
    candidates = by_dept_name.get((pd.pk, name_key(row.indicator)), [])
    if row.policy_goal:
        candidates = [
            i for i in candidates if name_key(i.policy_goal.name) == name_key(row.policy_goal)
        ]
    if not candidates:
        errors.append(
            row.error(
                "indicator",
                row.indicator,
                _("no such indicator in %(department)s") % {"department": pd.name}
                if not row.policy_goal
                else _("no such indicator under this policy program goal of %(department)s")
                % {"department": pd.name},
            )
        )
        return None
    if len(candidates) > 1:
        errors.append(
            row.error(
                "indicator",
                row.indicator,
                _(
                    "%(count)s indicators of %(department)s have this name; add the "
                    "정책사업목표명 or 지표코드 column to tell them apart"
                )
                % {"count": len(candidates), "department": pd.name},
            )
        )
        return None
    return candidates[0]


def _dept_of(indicator):
    return indicator.policy_goal.strategic_goal.plan_department
