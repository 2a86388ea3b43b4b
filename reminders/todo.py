"""Each person's to-do list on the admin home: what to enter, submit, review and explain,
in their own departments, with links (reminders.work computes what waits)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from indicators.periods import period_label

from . import work


@dataclass
class TodoItem:
    kind: str  # work.ENTER, SUBMIT, REVIEW, RETURNED, EXPLAIN
    text: str
    count: int
    url: str
    deadline: date | None = None


def _grid_url(plan, period="", status=""):
    query = {"year": plan.fiscal_year}
    if period:
        query["period"] = period
    if status:
        query["status"] = status
    return f"{reverse('tracking:my_department')}?{urlencode(query)}"


def _when(plan, period):
    return _("%(year)s %(period)s") % {"year": plan.fiscal_year, "period": period_label(period)}


def _entry_items(plan, departments, today):
    items = []
    for batch in work.entry_batches(plan, departments, today):
        to_enter = sum(1 for line in batch.lines if not line.entered)
        to_submit = len(batch.lines) - to_enter
        params = {"when": _when(plan, batch.period), "deadline": batch.deadline.isoformat()}
        if to_enter:
            text = _("%(when)s: %(count)s results to enter (deadline %(deadline)s)")
            items.append(
                TodoItem(
                    work.ENTER,
                    text % {**params, "count": to_enter},
                    to_enter,
                    _grid_url(plan, batch.period),
                    batch.deadline,
                )
            )
        if to_submit:
            text = _("%(when)s: %(count)s results to submit (deadline %(deadline)s)")
            items.append(
                TodoItem(
                    work.SUBMIT,
                    text % {**params, "count": to_submit},
                    to_submit,
                    _grid_url(plan, batch.period),
                    batch.deadline,
                )
            )
    return items


def _review_items(user, plan, departments):
    items = []
    for batch in work.review_batches(user, plan, departments):
        text = _("%(when)s: %(count)s submitted results to review") % {
            "when": _when(plan, batch.period),
            "count": len(batch.lines),
        }
        items.append(TodoItem(work.REVIEW, text, len(batch.lines), _grid_url(plan, batch.period)))
    return items


def waiting_texts(user, plan, departments, today):
    """[(write, n), (review, n)]: the results report's 미달성 사유 of these departments still
    to write (officers) or to review (reviewers), once the plan's year has ended and while
    its report is not final. Which indicators need one is reports.texts' rule."""
    from indicators import standing
    from indicators.models import IndicatorStanding, ResultStatus
    from reports.models import ResultText
    from reports.report import year_closed
    from reports.texts import is_final, requires_reason

    if not year_closed(plan, today) or is_final(plan):
        return []
    standings = IndicatorStanding.objects.filter(plan=plan).of_departments(departments)
    standing.ensure(plan, standings, today)
    required = [
        pk
        for pk, status in standings.values_list("indicator_id", "status")
        if requires_reason(status)
    ]
    texts = dict(
        ResultText.objects.filter(indicator_id__in=required)
        .exclude(shortfall_reason="")
        .values_list("indicator_id", "status")
    )
    to_write = sum(
        1 for pk in required if texts.get(pk, ResultStatus.DRAFT) in ResultStatus.EDITABLE
    )
    to_review = sum(1 for status in texts.values() if status == ResultStatus.SUBMITTED)
    found = []
    if user.has_perm("indicators.add_result"):
        found.append(("write", to_write))
    if user.has_perm("indicators.review_result"):
        found.append(("review", to_review))
    return found


def _explain_items(user, plan, departments, today):
    """미달성 사유 to write (officers) or review (reviewers), when the results report's app
    (reports) is there."""
    try:
        url = f"{reverse('reports:report')}?{urlencode({'year': plan.fiscal_year})}"
        found = waiting_texts(user, plan, departments, today)
    except (ImportError, NoReverseMatch):
        return []
    items = []
    for kind, count in found:
        if not count:
            continue
        if kind == "write":
            text = _("%(year)s results report: %(count)s shortfall reasons to write")
        else:
            text = _("%(year)s results report: %(count)s shortfall reasons to review")
        items.append(
            TodoItem(work.EXPLAIN, text % {"year": plan.fiscal_year, "count": count}, count, url)
        )
    return items


def todo_items(user, today=None):
    """The person's to-do list, most urgent first (by deadline)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return []
    today = today or timezone.localdate()
    departments = work.departments_of(user)
    if not departments:
        return []
    items = []
    officer = user.has_perm("indicators.add_result")
    reviewer = user.has_perm("indicators.review_result")
    for plan in work.current_plans(today):
        if officer:
            items.extend(_entry_items(plan, departments, today))
            returned = work.returned_lines(plan, departments)
            if returned:
                text = _("%(year)s: %(count)s results returned to correct") % {
                    "year": plan.fiscal_year,
                    "count": len(returned),
                }
                url = _grid_url(plan)
                items.append(TodoItem(work.RETURNED, text, len(returned), url))
        if reviewer:
            items.extend(_review_items(user, plan, departments))
        if officer or reviewer:
            items.extend(_explain_items(user, plan, departments, today))
    return sorted(items, key=lambda item: (item.deadline is None, item.deadline or today))
