from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from perfplan.models import Plan


class Reminder(models.Model):
    """One reminder sent: never the same one twice for a person, period and kind.

    The row is written (claimed) before the e-mail is sent, in the same transaction: a
    second run at the same time waits on the unique constraint and then finds it taken
    (reminders.services.send_reminders). `subject` tells apart notices of one kind and
    period that are each worth a message (a result returned, at its version); blank for the
    deadline and review reminders, which are sent once per person, period and kind.
    """

    class Kind(models.TextChoices):
        ENTER = "enter", _("results to enter or submit before the deadline")
        REVIEW = "review", _("results waiting for review")
        RETURNED = "returned", _("result returned")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    plan = models.ForeignKey(
        Plan, verbose_name=_("plan"), on_delete=models.CASCADE, related_name="+"
    )
    period = models.CharField(_("period"), max_length=3)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    subject = models.CharField(_("subject"), max_length=60, blank=True, default="")
    sent_at = models.DateTimeField(_("sent at"), auto_now_add=True)

    class Meta:
        ordering = ["-sent_at"]
        verbose_name = _("reminder sent")
        verbose_name_plural = _("reminders sent")
        default_permissions = ("view",)
        constraints = [
            models.UniqueConstraint(
                fields=["user", "plan", "period", "kind", "subject"], name="uniq_reminder"
            ),
        ]

    def __str__(self):
        return f"{self.user} · {self.plan.fiscal_year} {self.period} · {self.kind}"
