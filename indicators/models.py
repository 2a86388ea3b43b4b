from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from goals.models import PolicyGoal
from perfplan.models import Department, Plan, VersionedModel
from perfplan.scoping import Scope, ScopedManager, ordering_under


class Direction(models.TextChoices):
    HIGHER = "higher", _("higher is better (상향)")
    LOWER = "lower", _("lower is better (하향)")
    RANGE = "range", _("target range")


class IndicatorType(models.TextChoices):
    INPUT = "input", _("input (투입)")
    PROCESS = "process", _("process (과정)")
    OUTPUT = "output", _("output (산출)")
    OUTCOME = "outcome", _("outcome (결과)")


class Frequency(models.TextChoices):
    MONTHLY = "monthly", _("monthly (월)")
    QUARTERLY = "quarterly", _("quarterly (분기)")
    HALF_YEARLY = "half_yearly", _("half-yearly (반기)")
    YEARLY = "yearly", _("yearly (연)")


class Aggregation(models.TextChoices):
    SUM = "sum", _("running total")
    LATEST = "latest", _("latest value")
    AVERAGE = "average", _("average")


class LowerIsBetterMethod(models.TextChoices):
    RATIO = "ratio", _("target ÷ actual × 100")
    COMPLEMENT = "complement", _("(2 − actual ÷ target) × 100")


class Indicator(VersionedModel):
    """성과지표 of a policy program goal, with its definition."""

    policy_goal = models.ForeignKey(
        PolicyGoal,
        verbose_name=_("policy program goal"),
        on_delete=models.CASCADE,
        related_name="indicators",
    )
    code = models.CharField(_("code"), max_length=30, blank=True)
    name = models.CharField(_("name"), max_length=500)
    position = models.PositiveIntegerField(_("order"), default=0)

    unit = models.CharField(_("unit"), max_length=30, blank=True)
    direction = models.CharField(
        _("direction"), max_length=10, choices=Direction.choices, default=Direction.HIGHER
    )
    lower_is_better_method = models.CharField(
        _("lower-is-better method"),
        max_length=12,
        choices=LowerIsBetterMethod.choices,
        default=LowerIsBetterMethod.RATIO,
    )
    indicator_type = models.CharField(
        _("indicator type"), max_length=10, choices=IndicatorType.choices, blank=True
    )
    formula = models.TextField(_("formula"), blank=True)
    data_source = models.CharField(_("data source"), max_length=300, blank=True)
    baseline = models.DecimalField(
        _("baseline"), max_digits=20, decimal_places=4, null=True, blank=True
    )
    annual_target = models.DecimalField(
        _("annual target"), max_digits=20, decimal_places=4, null=True, blank=True
    )
    original_annual_target = models.DecimalField(
        _("original annual target"),
        max_digits=20,
        decimal_places=4,
        null=True,
        blank=True,
        editable=False,
        help_text=_("The target as published, kept when an amendment changes it."),
    )
    target_min = models.DecimalField(
        _("target range from"), max_digits=20, decimal_places=4, null=True, blank=True
    )
    target_max = models.DecimalField(
        _("target range to"), max_digits=20, decimal_places=4, null=True, blank=True
    )
    target_rationale = models.TextField(_("target rationale"), blank=True)
    weight = models.DecimalField(_("weight"), max_digits=7, decimal_places=3, null=True, blank=True)
    frequency = models.CharField(
        _("measurement frequency"), max_length=12, choices=Frequency.choices, blank=True
    )
    aggregation = models.CharField(
        _("aggregation"), max_length=10, choices=Aggregation.choices, blank=True
    )
    is_sample = models.BooleanField(
        _("sample definition"),
        default=False,
        help_text=_("Demo targets and definition, not from the plan."),
    )
    # The same indicator in the previous year's plan (set by rollover.services.roll_plan):
    # the years of an indicator are followed through it. An import never touches it.
    predecessor = models.ForeignKey(
        "self",
        verbose_name=_("previous year's indicator"),
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="successors",
    )

    objects = ScopedManager()
    scope = Scope("policy_goal")

    class Meta:
        ordering = ordering_under("policy_goal", PolicyGoal, "position", "id")
        verbose_name = _("performance indicator")
        verbose_name_plural = _("performance indicators")
        constraints = [
            models.UniqueConstraint(fields=["policy_goal", "name"], name="uniq_indicator_name"),
        ]

    def __str__(self):
        return self.name


# Periods are keyed within the plan's year: M01–M12, Q1–Q4, H1–H2, Y (see indicators.periods).
PERIOD_KEY_LENGTH = 3


def period_key_choices():
    """Every period key with how people read it (3월, 2분기, 상반기, 연간), in the current
    language: lists, filters, read-only fields and the change log show the label, never
    the stored key (indicators.periods, which imports this module, decides the labels)."""
    from .periods import period_choices

    return period_choices()


def _period_text(key):
    from .periods import period_label

    return period_label(key)


class PeriodTarget(models.Model):
    """A target for one period; without them the year-to-date target is pro rata."""

    indicator = models.ForeignKey(
        Indicator,
        verbose_name=_("indicator"),
        on_delete=models.CASCADE,
        related_name="period_targets",
    )
    period = models.CharField(_("period"), max_length=PERIOD_KEY_LENGTH, choices=period_key_choices)
    target = models.DecimalField(_("target"), max_digits=20, decimal_places=4)

    objects = ScopedManager()
    scope = Scope("indicator")

    class Meta:
        ordering = ["indicator", "period"]
        verbose_name = _("period target")
        verbose_name_plural = _("period targets")
        constraints = [
            models.UniqueConstraint(fields=["indicator", "period"], name="uniq_period_target"),
        ]

    def __str__(self):
        return f"{self.indicator} {_period_text(self.period)}"


class ResultStatus(models.TextChoices):
    DRAFT = "draft", _("draft (작성중)")
    SUBMITTED = "submitted", _("submitted (제출)")
    APPROVED = "approved", _("approved (승인)")
    RETURNED = "returned", _("returned (반려)")


# The review's groups of states, the one place they are written (an enum's class body cannot
# refer to its own members). Tuples: ordered for `status__in` filters, and `in` tests.
# An officer edits and submits a draft or returned result; a submitted one waits for review;
# submitted and approved results are locked for entry; only an approved one is reopened.
ResultStatus.EDITABLE = (ResultStatus.DRAFT, ResultStatus.RETURNED)
ResultStatus.SUBMITTABLE = (ResultStatus.DRAFT, ResultStatus.RETURNED)
ResultStatus.REVIEWABLE = (ResultStatus.SUBMITTED,)
ResultStatus.LOCKED = (ResultStatus.SUBMITTED, ResultStatus.APPROVED)
ResultStatus.REOPENABLE = (ResultStatus.APPROVED,)


class Result(VersionedModel):
    """실적: an indicator's actual value for one period, and where it is in the review."""

    indicator = models.ForeignKey(
        Indicator, verbose_name=_("indicator"), on_delete=models.PROTECT, related_name="results"
    )
    period = models.CharField(_("period"), max_length=PERIOD_KEY_LENGTH, choices=period_key_choices)
    value = models.DecimalField(_("actual"), max_digits=20, decimal_places=4, null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=ResultStatus.choices,
        default=ResultStatus.DRAFT,
        db_index=True,
    )
    return_reason = models.TextField(_("reason for return"), blank=True)
    edited_after_approval = models.BooleanField(_("edited after approval"), default=False)
    is_sample = models.BooleanField(
        _("sample data"),
        default=False,
        help_text=_("Demo data, not a real result."),
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
    # Who submitted it: separation of duties refuses their own approval (indicators.workflow).
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
        ordering = ["indicator", "period"]
        verbose_name = _("result")
        verbose_name_plural = _("results")
        permissions = [
            ("submit_result", _("Can submit results")),
            ("review_result", _("Can approve or return results")),
            ("reopen_result", _("Can reopen approved results")),
        ]
        constraints = [
            models.UniqueConstraint(fields=["indicator", "period"], name="uniq_result_period"),
        ]

    def __str__(self):
        return f"{self.indicator} {_period_text(self.period)}"


class SaveReceipt(models.Model):
    """The outcome of one save request, under the idempotency key its page sent.

    Written in the save's own transaction, so a retry after a lost response (same user, same
    key) gets the first outcome back instead of a "stale" refusal against its own value.
    Receipts expire (indicators.workflow.RECEIPT_LIFETIME) and are cleared as users save.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_constraint=True
    )
    key = models.CharField(max_length=64)
    outcome = models.JSONField(default=dict)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="uniq_save_receipt"),
        ]

    def __str__(self):
        return f"{self.user_id} {self.key}"


class Evidence(models.Model):
    """증빙자료 attached to a result; kept in the database so every app server can serve it."""

    result = models.ForeignKey(
        Result, verbose_name=_("result"), on_delete=models.CASCADE, related_name="evidence"
    )
    name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveIntegerField(_("size"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    content = models.BinaryField(_("content"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    objects = ScopedManager()
    scope = Scope("result")

    class Meta:
        ordering = ["result", "id"]
        verbose_name = _("evidence")
        verbose_name_plural = _("evidence")

    def __str__(self):
        return self.name


class EntryException(models.Model):
    """Entry kept open for a department and period after its deadline (a lock exception)."""

    plan = models.ForeignKey(
        Plan, verbose_name=_("plan"), on_delete=models.CASCADE, related_name="entry_exceptions"
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        on_delete=models.CASCADE,
        related_name="entry_exceptions",
    )
    period = models.CharField(_("period"), max_length=PERIOD_KEY_LENGTH, choices=period_key_choices)
    open_until = models.DateField(_("open until"))
    reason = models.TextField(_("reason"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = ScopedManager()
    scope = Scope(department="department", plan="plan")

    class Meta:
        ordering = ["plan", "department", "period"]
        verbose_name = _("entry exception")
        verbose_name_plural = _("entry exceptions")
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "department", "period"], name="uniq_entry_exception"
            ),
        ]

    def __str__(self):
        return f"{self.department} {_period_text(self.period)} → {self.open_until}"


class IndicatorStanding(models.Model):
    """Where an indicator stands: its year-to-date status, rate, completeness and forecast as
    indicators.tracking computes them, kept so that the plan overview counts stored rows
    instead of recomputing thousands of indicators (see indicators.standing).

    Derived data, not a record: not in the change log, not editable. Every indicator has one
    (created with it), filed under its plan and goals so that a whole plan is counted without
    walking the hierarchy. A standing holds for the month it was computed for (`as_of`), the
    plan's thresholds it used and the inputs it read: writers of results, period targets and
    indicators append a StandingInputChange; the figures are current while none is left.
    """

    # Derived rows, written in bulk with every plan import: no foreign-key checks in the
    # database (one per row and key at commit). The indicator's delete takes its standing
    # (Django's cascade); a goal's delete takes its indicators, and with them theirs.
    indicator = models.OneToOneField(
        Indicator,
        verbose_name=_("indicator"),
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="standing",
        db_constraint=False,
    )
    # Where the indicator is in the plan (kept up to date by indicators.standing.link).
    plan = models.ForeignKey(
        Plan, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False
    )
    plan_department = models.ForeignKey(
        "goals.PlanDepartment",
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    strategic_goal = models.ForeignKey(
        "goals.StrategicGoal",
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    policy_goal = models.ForeignKey(
        PolicyGoal,
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    # The positions of the department, goals and indicator: the plan's order, without
    # joining the hierarchy to sort a plan's standings.
    department_position = models.PositiveIntegerField(default=0, db_default=0)
    strategic_goal_position = models.PositiveIntegerField(default=0, db_default=0)
    policy_goal_position = models.PositiveIntegerField(default=0, db_default=0)
    position = models.PositiveIntegerField(default=0, db_default=0)

    as_of = models.DateField(null=True)
    threshold_achieved = models.DecimalField(max_digits=6, decimal_places=2, null=True)
    threshold_caution = models.DecimalField(max_digits=6, decimal_places=2, null=True)
    status = models.CharField(_("status"), max_length=10, blank=True, db_default="")
    rate = models.DecimalField(_("achievement rate"), max_digits=30, decimal_places=2, null=True)
    bucket = models.CharField(max_length=8, blank=True, db_default="")
    due_count = models.PositiveSmallIntegerField(default=0, db_default=0)
    entered_due_count = models.PositiveSmallIntegerField(default=0, db_default=0)
    last_due_missing = models.CharField(max_length=PERIOD_KEY_LENGTH, blank=True, db_default="")
    projected = models.DecimalField(max_digits=30, decimal_places=2, null=True)
    forecast_rate = models.DecimalField(max_digits=30, decimal_places=2, null=True)
    forecast_method = models.CharField(max_length=10, blank=True, db_default="")
    at_risk = models.BooleanField(default=False, db_default=False)
    # sample results, or a sample definition: the overview marks such figures
    has_sample = models.BooleanField(default=False, db_default=False)

    objects = ScopedManager()
    # Filed under its plan and plan department (kept by indicators.standing.link): scoped
    # without joining the hierarchy. Derived data: not in the change log.
    scope = Scope("plan_department", plan="plan", logged=False, permissions="indicator")

    class Meta:
        verbose_name = _("indicator standing")
        verbose_name_plural = _("indicator standings")
        default_permissions = ()

    def __str__(self):
        return f"{self.indicator_id} {self.status} ({self.as_of})"


class StandingInputChange(models.Model):
    """A write that changed what an indicator's standing is computed from: appended by the
    writer in its own transaction, deleted by the computation that read it (see
    indicators.standing). Append-only for writers, so no writer waits on another here."""

    id = models.BigAutoField(primary_key=True)
    # No database foreign key: an insert then takes no lock on the indicator's row.
    indicator = models.ForeignKey(
        Indicator, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )

    objects = ScopedManager()
    scope = Scope("indicator", logged=False, permissions="indicator")

    class Meta:
        default_permissions = ()

    def __str__(self):
        return f"{self.indicator_id} #{self.pk}"


class StandingRevision(models.Model):
    """A write to a plan's stored standings (their figures or where they are filed),
    appended by the writer in its own transaction (indicators.standing). How many a plan
    has, and the last one, are the revision of its standings: counts kept from them are
    used while it is the same (indicators.standing.kept_rows). Append-only, like
    StandingInputChange, so no writer waits on another here."""

    id = models.BigAutoField(primary_key=True)
    plan = models.ForeignKey(
        Plan, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    # With the id, tells this revision from one of a database restored or rolled back to
    # before it (which may hand the same id out again).
    written_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        default_permissions = ()
        indexes = [models.Index(fields=["plan", "id"], name="standing_revision_plan")]

    def __str__(self):
        return f"{self.plan_id} #{self.pk}"
