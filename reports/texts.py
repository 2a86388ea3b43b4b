"""The results report's texts (미달성 사유, 향후 개선방안) and marking the report final: the
one service every way in calls (the report page's form, samples, commands).

Texts follow the review of results: indicators.workflow's Rules, subclassed only for what a
text is (no period, so no entry deadline; "empty" is both texts blank). Officers write and
submit the texts of their departments' indicators, reviewers approve or return them, plan
admins take every step and reopen; separation of duties, versions and the change log as for
results. A final report locks its texts.

A shortfall reason is required for every indicator whose status (indicators.tracking, as the
report shows it) is 주의 caution, 부진 behind or 미입력 missing; the report is marked final
only when each of them is written and approved (`missing_reasons` lists the others).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from indicators import workflow
from indicators.models import Indicator, ResultStatus
from indicators.tracking.rules import BEHIND, CAUTION, MISSING
from perfplan.changelog import change_context
from perfplan.locking import ConcurrentEditError
from perfplan.scoping import restrict

from .models import ResultsReport, ResultText

# The statuses whose indicators must explain the shortfall (미흡/부진, 미입력).
REASON_REQUIRED = (CAUTION, BEHIND, MISSING)
TEXT_FIELDS = ["shortfall_reason", "improvement_plan", "status"]


class TextRules(workflow.Rules):
    """The rules of results, for texts: their model and permission, no period (no entry
    deadline), and a text is empty when both of its parts are blank."""

    model = ResultText
    add_permission = "reports.add_resulttext"

    def period_of(self, text):
        return None

    def content_refusal(self, text):
        if not text.shortfall_reason.strip() and not text.improvement_plan.strip():
            return _("%(text)s: an empty text cannot be submitted.") % {"text": text}
        return None


def report_of(plan):
    """The plan's ResultsReport (created on first use)."""
    report, _created = ResultsReport.objects.get_or_create(plan=plan)
    return report


def is_final(plan):
    return ResultsReport.objects.filter(plan=plan, is_final=True).exists()


def _refuse_when_final(plan):
    if is_final(plan):
        raise workflow.WorkflowError(
            _("The results report of %(year)s is final: its texts can no longer change.")
            % {"year": plan.fiscal_year}
        )


def _plan_of(indicator):
    return indicator.policy_goal.strategic_goal.plan_department.plan


def _lock_text(indicator):
    queryset = ResultText.objects.filter(indicator=indicator)
    if connection.features.has_select_for_update_of:
        return queryset.select_for_update(of=("self",)).first()
    return queryset.select_for_update().first()


def _clean(text):
    return (text or "").replace("\r\n", "\n").strip()


def save_text(
    user,
    indicator,
    *,
    shortfall_reason,
    improvement_plan,
    expected_version=None,
    is_sample=False,
    today=None,
):
    """Write the texts of `indicator` (created as a draft the first time); returns the text.

    As a result's save: the version the writer's copy was loaded at is required
    (workflow.NO_RESULT when there was no text yet), a stale copy raises
    ConcurrentEditError, and who may write in which state is workflow's write_refusal."""
    indicator = Indicator.objects.select_related(Indicator.scope.plan).get(pk=indicator.pk)
    refused = workflow.version_refusal(str(indicator), expected_version)
    if refused:
        raise workflow.WorkflowError(refused)
    if not restrict(Indicator.objects.filter(pk=indicator.pk), user, "view").exists():
        raise workflow.WorkflowError(
            _("%(indicator)s: you may not write texts of this department.")
            % {"indicator": indicator}
        )
    plan = _plan_of(indicator)
    shortfall_reason, improvement_plan = _clean(shortfall_reason), _clean(improvement_plan)
    with transaction.atomic(), change_context(user=user):
        _refuse_when_final(plan)
        current = _lock_text(indicator)
        expected = int(expected_version)
        attempted = {"shortfall_reason": shortfall_reason, "improvement_plan": improvement_plan}
        if current is None and expected != workflow.NO_RESULT:
            raise workflow.WorkflowError(
                _("%(indicator)s: the text was deleted by someone else.") % {"indicator": indicator}
            )
        if current is not None and current.version != expected:
            raise ConcurrentEditError(current, expected, attempted, TEXT_FIELDS)
        if (
            current is not None
            and current.shortfall_reason == shortfall_reason
            and current.improvement_plan == improvement_plan
        ):
            return current  # nothing to write
        refusal = TextRules(user, [current] if current else [], today).write_refusal(
            indicator, None, current
        )
        if refusal:
            raise workflow.WorkflowError(refusal)
        text = current or ResultText(indicator=indicator, status=ResultStatus.DRAFT)
        text.shortfall_reason, text.improvement_plan = shortfall_reason, improvement_plan
        text.entered_by = user
        text.is_sample = is_sample
        if current is not None:
            text.version += 1  # the row is locked here: an open form is now stale
        text.save()
        return text


def _step(step, user, items, *args, **kwargs):
    """A workflow step on texts, refused while their report is final."""
    items = list(items)
    if not items:
        return []
    ids = [t.pk if isinstance(t, ResultText) else int(t) for t in items]
    plans = {
        _plan_of(t.indicator)
        for t in ResultText.objects.select_related(ResultText.scope.plan).filter(pk__in=ids)
    }
    with transaction.atomic():
        for plan in plans:
            _refuse_when_final(plan)
        return step(user, items, *args, rules=TextRules, **kwargs)


def submit(user, texts, today=None):
    """제출 of texts (officers of their departments, plan admins)."""
    return _step(workflow.submit, user, texts, today)


def approve(user, texts, today=None):
    """승인 (reviewers of their departments, not of their own texts; plan admins)."""
    return _step(workflow.approve, user, texts, today)


def return_texts(user, texts, reason, today=None):
    """반려 with a reason (reviewers; the officer sees the reason)."""
    return _step(workflow.return_results, user, texts, reason, today)


def reopen(user, texts, reason, today=None):
    """An approved text back to draft, with a reason (plan admins)."""
    return _step(workflow.reopen_results, user, texts, reason, today)


def allowed_actions(user, text, today=None):
    """The steps `user` may take on `text` now (for the page's buttons)."""
    if text is None or text.pk is None:
        return set()
    return workflow.allowed_actions(user, text, today, rules=TextRules)


# ---------------------------------------------------------------- final


@dataclass
class MissingReason:
    """An indicator whose shortfall reason is required and not (yet) approved."""

    indicator: object
    department: object
    status: str  # the indicator's tracking status
    text: ResultText | None

    @property
    def problem(self):
        if self.text is None or not self.text.shortfall_reason:
            return _("not written")
        return self.text.get_status_display()


def requires_reason(status):
    return status in REASON_REQUIRED


def missing_reasons(rows, texts):
    """The MissingReason of each row (tracking rows, the report's) whose status requires a
    shortfall reason that is not written or not approved; `texts` maps indicator id to its
    ResultText."""
    found = []
    for row in rows:
        if not requires_reason(row.status):
            continue
        text = texts.get(row.indicator.pk)
        if text is None or not text.shortfall_reason or text.status != ResultStatus.APPROVED:
            found.append(MissingReason(row.indicator, row.department, row.status, text))
    return found


class ReportNotReady(workflow.WorkflowError):
    """Marking final refused: `missing` lists the shortfall reasons still to approve."""

    def __init__(self, messages, missing=()):
        self.missing = list(missing)
        super().__init__(messages)


def mark_final(user, plan, *, today=None, is_sample=False):
    """Mark the plan's results report final (plan admins): refused (ReportNotReady, listing
    them) while a required shortfall reason is missing or not approved. Reads every
    indicator of the plan, whatever the admin's scope (plan admins see all)."""
    from .report import plan_rows, texts_by_indicator

    if not workflow.is_plan_admin(user):
        raise workflow.WorkflowError(_("Only a plan admin marks the results report final."))
    with transaction.atomic(), change_context(user=user):
        report = report_of(plan)
        report = ResultsReport.objects.select_for_update().get(pk=report.pk)
        if report.is_final:
            return report
        rows = plan_rows(plan, Indicator.objects.in_plan(plan), today)
        missing = missing_reasons(rows, texts_by_indicator(ResultText.objects.in_plan(plan)))
        if missing:
            lines = [
                _("%(department)s · %(indicator)s: shortfall reason %(problem)s")
                % {"department": m.department, "indicator": m.indicator, "problem": m.problem}
                for m in missing
            ]
            message = _(
                "The results report cannot be marked final: %(count)s required shortfall "
                "reasons are missing or not approved."
            ) % {"count": len(missing)}
            raise ReportNotReady([message, *lines], missing)
        report.is_final = True
        report.finalized_at = timezone.now()
        report.finalized_by = user
        report.is_sample = is_sample
        report.save()
        return report
