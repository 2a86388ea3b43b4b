"""E-mail reminders (manage.py send_reminders, daily from cron).

* officers: the indicators of their departments whose period's entry deadline falls within
  the plan's `reminder_days` and whose result is not entered or not submitted;
* reviewers: the submitted results of their departments waiting for them;
* officers: a result of their department returned (with its reason).

Never the same reminder twice for a person, period and kind: each is claimed as a
reminders.Reminder row (unique per person, plan, period, kind and subject) in the same
transaction that sends the message. A second run at the same time waits on the constraint
and then finds the reminder taken; a message that cannot be sent rolls its claims back, so
the next run tries again. Text in the site's language (Korean), through gettext; Django's
e-mail framework (settings: EMAIL_BACKEND and the SMTP variables, README).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from indicators.periods import period_label
from perfplan import roles

from . import work
from .models import Reminder


@dataclass
class Notice:
    """One reminder to claim and the lines it tells."""

    kind: str
    plan: object
    period: str
    subject: str = ""
    deadline: object = None
    lines: list = field(default_factory=list)


@dataclass
class SendReport:
    sent: int = 0  # messages
    reminders: int = 0  # reminders claimed (kinds × periods × subjects)
    already: int = 0  # reminders found sent before
    without_email: list = field(default_factory=list)


def _officer_notices(user, plans, today):
    departments = work.departments_of(user)
    notices = []
    for plan in plans:
        for batch in work.entry_batches(plan, departments, today, within_days=plan.reminder_days):
            notices.append(Notice(work.ENTER, plan, batch.period, "", batch.deadline, batch.lines))
        for line in work.returned_lines(plan, departments):
            subject = f"{line.result_id}:{line.version}"
            notices.append(Notice(work.RETURNED, plan, line.period, subject, None, [line]))
    return notices


def _reviewer_notices(user, plans):
    departments = work.departments_of(user)
    notices = []
    for plan in plans:
        for batch in work.review_batches(user, plan, departments):
            notices.append(Notice(work.REVIEW, plan, batch.period, "", None, batch.lines))
    return notices


def _claim(user, notice):
    """Record the reminder; False when it was sent before (or by a run at the same time)."""
    try:
        with transaction.atomic():
            Reminder.objects.create(
                user=user,
                plan=notice.plan,
                period=notice.period,
                kind=notice.kind,
                subject=notice.subject,
            )
    except IntegrityError:
        return False
    return True


def _when(notice):
    return _("%(year)s %(period)s") % {
        "year": notice.plan.fiscal_year,
        "period": period_label(notice.period),
    }


def _section(notice):
    if notice.kind == work.ENTER:
        title = _(
            "%(when)s: results not entered or not submitted; entry closes on %(deadline)s"
        ) % {"when": _when(notice), "deadline": notice.deadline.isoformat()}
    elif notice.kind == work.REVIEW:
        title = _("%(when)s: submitted results waiting for your review") % {"when": _when(notice)}
    else:
        title = _("%(when)s: a result was returned to you") % {"when": _when(notice)}
    lines = [title]
    for line in notice.lines:
        text = f"  - {line.department} · {line.indicator} ({line.state})"
        if line.note:
            text += "\n    " + _("reason: %(reason)s") % {"reason": line.note}
        lines.append(text)
    return "\n".join(lines)


def _message(user, notices):
    base = getattr(settings, "PERFPLAN_BASE_URL", "").rstrip("/")
    link = f"{base}{reverse('admin:index')}"
    name = user.get_full_name() or user.get_username()
    body = [
        _("%(name)s, this is what waits for you in the performance plan:") % {"name": name},
        "",
        *(_section(n) + "\n" for n in notices),
        _("Your to-do list: %(link)s") % {"link": link},
        "",
        _("This message is sent once for each period and kind; reply is not read."),
    ]
    subject = _("[Performance plan] %(count)s reminders") % {"count": len(notices)}
    return EmailMessage(subject, "\n".join(body), to=[user.email])


def _send_to(user, notices, report):
    """Claim the notices not sent before, and send them in one message: one transaction."""
    with transaction.atomic():
        fresh = [notice for notice in notices if _claim(user, notice)]
        report.already += len(notices) - len(fresh)
        if not fresh:
            return
        with translation.override(settings.LANGUAGE_CODE):
            message = _message(user, fresh)
        message.send(fail_silently=False)  # an error rolls the claims back
    report.sent += 1
    report.reminders += len(fresh)


def send_reminders(today=None):
    """Send today's reminders to every officer and reviewer; a SendReport."""
    today = today or timezone.localdate()
    plans = work.current_plans(today)
    report = SendReport()
    people = {}
    for user in work.people_with_role(roles.OFFICER):
        people.setdefault(user.pk, (user, []))[1].extend(_officer_notices(user, plans, today))
    for user in work.people_with_role(roles.REVIEWER):
        entry = people.setdefault(user.pk, (user, []))
        entry[1].extend(_reviewer_notices(entry[0], plans))
    for user, notices in people.values():
        if not notices:
            continue
        if not user.email:
            report.without_email.append(user.get_username())
            continue
        _send_to(user, notices, report)
    return report
