import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

# Amounts are 백만원 (million won), kept exact.
AMOUNT_DIGITS = 18
AMOUNT_PLACES = 3


def amount_field(verbose_name, **kwargs):
    return models.DecimalField(
        verbose_name, max_digits=AMOUNT_DIGITS, decimal_places=AMOUNT_PLACES, **kwargs
    )


class DeclaredFigures(models.Model):
    """Table 가's figures for one row, stored exactly as the plan declares them."""

    declared_strategic_goals = models.PositiveIntegerField(
        _("strategic goals (declared)"), null=True, blank=True
    )
    declared_policy_goals = models.PositiveIntegerField(
        _("policy program goals (declared)"), null=True, blank=True
    )
    declared_indicators = models.PositiveIntegerField(
        _("indicators (declared)"), null=True, blank=True
    )
    declared_unit_programs = models.PositiveIntegerField(
        _("unit programs (declared)"), null=True, blank=True
    )
    declared_budget = amount_field(_("budget (declared)"), null=True, blank=True)
    declared_prior_budget = amount_field(_("prior-year budget (declared)"), null=True, blank=True)
    declared_change = amount_field(_("change (declared)"), null=True, blank=True)

    DECLARED_FIELDS = (
        "strategic_goals",
        "policy_goals",
        "indicators",
        "unit_programs",
        "budget",
        "prior_budget",
        "change",
    )

    class Meta:
        abstract = True

    def declared(self):
        return {name: getattr(self, f"declared_{name}") for name in self.DECLARED_FIELDS}


class Plan(DeclaredFigures):
    """A performance plan (성과계획서) for one fiscal year; its declared figures are the 계 row."""

    fiscal_year = models.PositiveSmallIntegerField(_("fiscal year"), unique=True)
    title = models.CharField(_("title"), max_length=200, blank=True)
    year_note = models.CharField(
        _("note on the year"),
        max_length=300,
        blank=True,
        help_text=_("For instance, that the source does not state its fiscal year."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-fiscal_year"]
        verbose_name = _("performance plan")
        verbose_name_plural = _("performance plans")

    def __str__(self):
        return self.title or _("%(year)s performance plan") % {"year": self.fiscal_year}


class ImportBatch(models.Model):
    """One import of plan tables: the uploaded files live here between preview and confirm.

    Kept in the database, not on one server's disk, so the confirm step may land on any
    app server that shares the database.
    """

    class Status(models.TextChoices):
        PREVIEWED = "previewed", _("previewed")
        APPLIED = "applied", _("applied")
        REJECTED = "rejected", _("rejected")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    fiscal_year = models.PositiveSmallIntegerField(_("fiscal year"))
    source = models.CharField(_("source"), max_length=20, default="admin")
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PREVIEWED
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    applied_at = models.DateTimeField(_("applied at"), null=True, blank=True)
    summary = models.JSONField(_("summary"), default=dict, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("import batch")
        verbose_name_plural = _("import batches")

    def __str__(self):
        return f"{self.fiscal_year} · {self.created_at:%Y-%m-%d %H:%M}"


class ImportFile(models.Model):
    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="files")
    name = models.CharField(_("file name"), max_length=255)
    content = models.BinaryField(_("content"))
    size = models.PositiveIntegerField(_("size"))

    class Meta:
        ordering = ["id"]
        verbose_name = _("imported file")
        verbose_name_plural = _("imported files")

    def __str__(self):
        return self.name
