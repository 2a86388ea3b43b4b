from django.db import models
from django.utils.translation import gettext_lazy as _

from perfplan.models import DeclaredFigures, Department, Plan, VersionedModel, amount_field
from perfplan.scoping import Scope, ScopedManager, ordering_under


class PlanDepartment(DeclaredFigures):
    """A department (실국) as one plan lists it, with table 가's figures as declared."""

    plan = models.ForeignKey(
        Plan, verbose_name=_("plan"), on_delete=models.CASCADE, related_name="departments"
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        related_name="plan_entries",
    )
    name = models.CharField(_("department name"), max_length=100)
    position = models.PositiveIntegerField(_("order"), default=0)

    objects = ScopedManager()
    scope = Scope(department="department", plan="plan")

    class Meta:
        ordering = ["plan", "position", "id"]
        verbose_name = _("plan department")
        verbose_name_plural = _("plan departments")
        constraints = [
            models.UniqueConstraint(fields=["plan", "name"], name="uniq_plan_department_name"),
            models.UniqueConstraint(fields=["plan", "department"], name="uniq_plan_department"),
        ]

    def __str__(self):
        return f"{self.name} ({self.plan.fiscal_year})"


class StrategicGoal(VersionedModel):
    """전략목표, with its programme budget (table 나's 예산액)."""

    plan_department = models.ForeignKey(
        PlanDepartment,
        verbose_name=_("department"),
        on_delete=models.CASCADE,
        related_name="strategic_goals",
    )
    name = models.CharField(_("name"), max_length=500)
    budget = amount_field(_("budget"), null=True, blank=True)
    original_budget = amount_field(
        _("original budget"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("The budget as published, kept when an amendment changes it."),
    )
    declared_share = models.DecimalField(
        _("share % (declared)"), max_digits=7, decimal_places=2, null=True, blank=True
    )
    position = models.PositiveIntegerField(_("order"), default=0)

    objects = ScopedManager()
    scope = Scope("plan_department")

    class Meta:
        ordering = ordering_under("plan_department", PlanDepartment, "position", "id")
        verbose_name = _("strategic goal")
        verbose_name_plural = _("strategic goals")
        constraints = [
            models.UniqueConstraint(
                fields=["plan_department", "name"], name="uniq_strategic_goal_name"
            ),
        ]

    def __str__(self):
        return self.name


class PolicyGoal(VersionedModel):
    """정책사업목표."""

    strategic_goal = models.ForeignKey(
        StrategicGoal,
        verbose_name=_("strategic goal"),
        on_delete=models.CASCADE,
        related_name="policy_goals",
    )
    name = models.CharField(_("name"), max_length=500)
    position = models.PositiveIntegerField(_("order"), default=0)

    objects = ScopedManager()
    scope = Scope("strategic_goal")

    class Meta:
        ordering = ordering_under("strategic_goal", StrategicGoal, "position", "id")
        verbose_name = _("policy program goal")
        verbose_name_plural = _("policy program goals")
        constraints = [
            models.UniqueConstraint(
                fields=["strategic_goal", "name"], name="uniq_policy_goal_name"
            ),
        ]

    def __str__(self):
        return self.name
