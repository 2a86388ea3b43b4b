import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .scoping import SELF, Scope, ScopedManager

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


# The model fields of DeclaredFigures, in table 가's column order (admin fieldsets, exports).
DECLARED_FIGURES = tuple(f"declared_{name}" for name in DeclaredFigures.DECLARED_FIELDS)


class VersionedModel(models.Model):
    """Optimistic locking: a save based on an outdated copy is refused (see perfplan.locking)."""

    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    class Meta:
        abstract = True


class Plan(DeclaredFigures, VersionedModel):
    """A performance plan (성과계획서) for one fiscal year; its declared figures are the 계 row."""

    fiscal_year = models.PositiveSmallIntegerField(_("fiscal year"), unique=True)
    title = models.CharField(_("title"), max_length=200, blank=True)
    year_note = models.CharField(
        _("note on the year"),
        max_length=300,
        blank=True,
        help_text=_("For instance, that the source does not state its fiscal year."),
    )
    published_at = models.DateTimeField(
        _("published at"),
        null=True,
        blank=True,
        help_text=_("After publication, changing a target or a budget needs a reason."),
    )
    threshold_achieved = models.DecimalField(
        _("achieved from (%)"), max_digits=6, decimal_places=2, default=100
    )
    threshold_caution = models.DecimalField(
        _("caution from (%)"), max_digits=6, decimal_places=2, default=90
    )
    entry_deadline_days = models.PositiveSmallIntegerField(
        _("entry deadline (days after the period ends)"), default=10
    )
    reminder_days = models.PositiveSmallIntegerField(
        _("reminders (days before the entry deadline)"),
        default=5,
        help_text=_(
            "send_reminders e-mails officers this many days before a period's entry "
            "deadline about results not entered or not submitted."
        ),
    )
    allow_self_review = models.BooleanField(
        _("allow self-review"),
        default=False,
        help_text=_(
            "For one-person departments: a reviewer may approve or return a result they "
            "entered or submitted themselves. Every such step is marked in the change log."
        ),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ScopedManager()
    scope = Scope(plan=SELF)  # no department: the plan is shared by all

    class Meta:
        ordering = ["-fiscal_year"]
        verbose_name = _("performance plan")
        verbose_name_plural = _("performance plans")
        permissions = [
            ("view_all_departments", _("Can see every department's data")),
            ("change_all_departments", _("Can change every department's data")),
        ]

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
        # An upload kept for the import worker, not compared yet: nothing can confirm it.
        QUEUED = "queued", _("waiting for the import worker")

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


class Department(models.Model):
    """A department's identity across years; each plan lists it under that year's name."""

    code = models.CharField(_("code"), max_length=30, unique=True, null=True, blank=True)
    name = models.CharField(_("name"), max_length=100, db_index=True)

    objects = ScopedManager()
    scope = Scope(department=SELF)

    class Meta:
        # Moved from goals without moving a row: the table keeps its first name.
        db_table = "goals_department"
        ordering = ["name"]
        verbose_name = _("department")
        verbose_name_plural = _("departments")

    def __str__(self):
        return self.name


class DepartmentAssignment(models.Model):
    """A person works for a department (several are possible); roles come from groups."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="department_assignments",
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        on_delete=models.CASCADE,
        related_name="assignments",
    )

    objects = ScopedManager()
    scope = Scope(department="department")

    class Meta:
        verbose_name = _("department assignment")
        verbose_name_plural = _("department assignments")
        constraints = [
            models.UniqueConstraint(fields=["user", "department"], name="uniq_assignment"),
        ]

    def __str__(self):
        return f"{self.user} · {self.department}"


class LogJSONField(models.JSONField):
    """JSON kept as the text it was written and hashed with: PostgreSQL `json`, not `jsonb`.

    jsonb would re-encode every entry on the way in (the log is appended by the ten
    thousand and never queried inside its JSON); psycopg decodes `json` itself on reading.
    """

    def db_type(self, connection):
        if connection.vendor == "postgresql":
            return "json"
        return super().db_type(connection)

    def from_db_value(self, value, expression, connection):
        if value is not None and not isinstance(value, str):
            return value  # already decoded by psycopg
        return super().from_db_value(value, expression, connection)


class ChangeLogEntry(models.Model):
    """One recorded change. Append-only and hash-chained (see perfplan.changelog).

    References are plain ids without database constraints, so that deleting a user or an
    object never has to touch (and could never silently alter) the log.
    """

    class Action(models.TextChoices):
        CREATE = "create", _("created")
        UPDATE = "update", _("updated")
        DELETE = "delete", _("deleted")
        SUBMIT = "submit", _("submitted")
        APPROVE = "approve", _("approved")
        RETURN = "return", _("returned")
        REOPEN = "reopen", _("reopened")
        IMPORT = "import", _("imported")
        LOCK = "lock", _("entry exception")
        ASSIGN = "assign", _("role assignment")

    # The order of appending, from a database sequence on PostgreSQL (migration 0009): writers
    # take it without any lock. Values taken by a rolled-back transaction are simply missing.
    sequence = models.BigIntegerField(_("sequence"), primary_key=True)
    # The place in the hash chain, given by the sealer (perfplan.changelog.seal) once the entry
    # is committed: entries commit out of sequence order, so the chain keeps its own order.
    # Empty (with prev_hash and hash) until then.
    position = models.BigIntegerField(_("chain position"), null=True, blank=True, unique=True)
    timestamp = models.DateTimeField(_("time"), db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    username = models.CharField(_("user name"), max_length=150, blank=True)
    request_id = models.CharField(_("request id"), max_length=64, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    # Indexed through the composite indexes in Meta: a single-column index beside them would
    # only slow down the bulk appends of an import.
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    content_type = models.ForeignKey(
        "contenttypes.ContentType",
        verbose_name=_("object type"),
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    object_repr = models.CharField(_("object"), max_length=300, blank=True)
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    fiscal_year = models.PositiveSmallIntegerField(_("fiscal year"), null=True, blank=True)
    changes = LogJSONField(_("changes"), default=dict, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    batch = models.ForeignKey(
        ImportBatch,
        verbose_name=_("import batch"),
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,  # no filter reads the log by batch; one index less per append
        related_name="+",
    )
    # Empty until sealed (the database's default: writers do not send them).
    prev_hash = models.CharField(_("previous hash"), max_length=64, blank=True, db_default="")
    hash = models.CharField(_("hash"), max_length=64, blank=True, db_default="")

    objects = ScopedManager()
    scope = Scope(department="department", logged=False)  # filed under the changed row's

    class Meta:
        ordering = ["-sequence"]
        verbose_name = _("change log entry")
        verbose_name_plural = _("change log")
        indexes = [
            models.Index(fields=["department", "-sequence"], name="changelog_dept_seq"),
            models.Index(fields=["user", "-sequence"], name="changelog_user_seq"),
            models.Index(fields=["content_type", "object_id"], name="changelog_object"),
            models.Index(fields=["action", "-sequence"], name="changelog_action_seq"),
            # Only the entries waiting for the sealer: small, whatever the log's size.
            models.Index(
                fields=["sequence"],
                condition=models.Q(position__isnull=True),
                name="changelog_unsealed",
            ),
        ]

    def __str__(self):
        return f"#{self.sequence} {self.get_action_display()} {self.object_repr}"


class ChangeLogHead(models.Model):
    """The chain's last sealed position and hash: one row, locked only by the sealer."""

    position = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="0" * 64)

    class Meta:
        verbose_name = _("change log head")

    def __str__(self):
        return f"#{self.position} {self.hash[:12]}"


class ExportJob(models.Model):
    """A large export made by the task worker (perfplan.exports), kept for its user to
    download: who asked, what (a registered kind and its parameters), how far it is, and
    the file. Kept in the database like ImportFile and ReportPdf, so the worker and every
    app server share it without a shared disk; the worker deletes jobs a day old."""

    class State(models.TextChoices):
        QUEUED = "queued", _("waiting for the worker")
        RUNNING = "running", _("being made")
        DONE = "done", _("made")
        FAILED = "failed", _("failed")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    kind = models.CharField(_("kind"), max_length=100)
    # The registered export (perfplan.exports.Export) by dotted path: the worker imports it.
    maker = models.CharField(_("export"), max_length=200)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    # kind and parameters hashed: the same request while one is under way is not queued again
    key = models.CharField(max_length=64, db_index=True, editable=False)
    language = models.CharField(_("language"), max_length=10, default="ko")
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.QUEUED)
    progress_done = models.PositiveIntegerField(_("rows written"), default=0)
    progress_total = models.PositiveIntegerField(_("rows"), default=0)
    file_name = models.CharField(_("file name"), max_length=255, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    content = models.BinaryField(_("content"), blank=True, default=b"", editable=False)
    size = models.PositiveIntegerField(_("size"), default=0)
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True, db_index=True)
    made_at = models.DateTimeField(_("made at"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        ordering = ["-requested_at"]
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        indexes = [models.Index(fields=["requested_by", "-requested_at"])]

    def __str__(self):
        return self.file_name or self.kind
