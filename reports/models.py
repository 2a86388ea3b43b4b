"""The results report (성과보고서) of a plan year: the two texts each indicator carries, and
the report's own state (marked final by a plan admin).

The texts go through the review of results (indicators.workflow, its Rules reused by
reports.texts); both models declare their scope, so the change log records every change of
them (perfplan.signals) and restrict() scopes them like results.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from indicators.models import Indicator, ResultStatus
from perfplan.models import Plan, VersionedModel
from perfplan.scoping import Scope, ScopedManager


class ResultText(VersionedModel):
    """성과보고서 서술: why an indicator missed its target (미달성 사유) and what will change
    (향후 개선방안), for the year of its plan (an indicator belongs to one plan year)."""

    indicator = models.OneToOneField(
        Indicator,
        verbose_name=_("indicator"),
        on_delete=models.CASCADE,
        related_name="report_text",
    )
    shortfall_reason = models.TextField(_("shortfall reason (미달성 사유)"), blank=True)
    improvement_plan = models.TextField(_("improvement plan (향후 개선방안)"), blank=True)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=ResultStatus.choices,
        default=ResultStatus.DRAFT,
        db_index=True,
    )
    return_reason = models.TextField(_("reason for return"), blank=True)
    is_sample = models.BooleanField(
        _("sample data"), default=False, help_text=_("Demo text, not a real one.")
    )
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("entered by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    updated_at = models.DateTimeField(_("last update"), auto_now=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitted by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)

    objects = ScopedManager()
    scope = Scope("indicator")

    class Meta:
        ordering = ["indicator"]
        verbose_name = _("results report text")
        verbose_name_plural = _("results report texts")

    def __str__(self):
        return f"{self.indicator} ({_('results report text')})"


class ResultsReport(models.Model):
    """The results report of one plan: marked final by a plan admin once every required
    shortfall reason is approved (reports.texts.mark_final)."""

    plan = models.OneToOneField(
        Plan, verbose_name=_("plan"), on_delete=models.CASCADE, related_name="results_report"
    )
    is_final = models.BooleanField(_("final"), default=False)
    finalized_at = models.DateTimeField(_("marked final at"), null=True, blank=True)
    finalized_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("marked final by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    is_sample = models.BooleanField(_("sample data"), default=False)

    objects = ScopedManager()
    # The plan's own record: shared by every department, changed by plan admins.
    scope = Scope(plan="plan")

    class Meta:
        verbose_name = _("results report")
        verbose_name_plural = _("results reports")

    def __str__(self):
        return f"{self.plan} ({_('results report')})"


class ReportPdf(models.Model):
    """The whole plan's results report as a PDF, made once by the task worker
    (reports.published) when the report is marked final, or when a plan admin asks for it,
    and then served as stored: the same file for everyone, never rendered in a request."""

    class State(models.TextChoices):
        QUEUED = "queued", _("waiting for the worker")
        RUNNING = "running", _("being made")
        DONE = "done", _("made")
        FAILED = "failed", _("failed")

    plan = models.OneToOneField(
        Plan, verbose_name=_("plan"), on_delete=models.CASCADE, related_name="results_report_pdf"
    )
    state = models.CharField(_("state"), max_length=10, choices=State.choices)
    parts_done = models.PositiveIntegerField(_("parts made"), default=0)
    parts_total = models.PositiveIntegerField(_("parts"), default=0)
    requested_at = models.DateTimeField(_("requested at"), null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # The last file made (kept while a newer one is being made).
    content = models.BinaryField(_("PDF"), blank=True, default=b"", editable=False)
    pages = models.PositiveIntegerField(_("pages"), null=True, blank=True)
    made_at = models.DateTimeField(_("made at"), null=True, blank=True)
    of_final = models.BooleanField(_("of the final report"), default=False)

    class Meta:
        verbose_name = _("results report PDF")
        verbose_name_plural = _("results report PDFs")

    def __str__(self):
        return f"{self.plan} ({_('results report PDF')})"
