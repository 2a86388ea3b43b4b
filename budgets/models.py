from django.db import models
from django.utils.translation import gettext_lazy as _

from goals.models import PolicyGoal
from perfplan.models import VersionedModel, amount_field
from perfplan.scoping import Scope, ScopedManager, ordering_under


class UnitProgram(VersionedModel):
    """단위사업: a budgeted activity under a policy program goal."""

    policy_goal = models.ForeignKey(
        PolicyGoal,
        verbose_name=_("policy program goal"),
        on_delete=models.CASCADE,
        related_name="unit_programs",
    )
    code = models.CharField(_("code"), max_length=30, blank=True)
    name = models.CharField(_("name"), max_length=500)
    budget = amount_field(_("budget"), null=True, blank=True)
    prior_budget = amount_field(_("prior-year budget"), null=True, blank=True)
    original_budget = amount_field(_("original budget"), null=True, blank=True, editable=False)
    position = models.PositiveIntegerField(_("order"), default=0)

    objects = ScopedManager()
    scope = Scope("policy_goal")

    class Meta:
        ordering = ordering_under("policy_goal", PolicyGoal, "position", "id")
        verbose_name = _("unit program")
        verbose_name_plural = _("unit programs")
        constraints = [
            models.UniqueConstraint(fields=["policy_goal", "name"], name="uniq_unit_program_name"),
        ]

    def __str__(self):
        return self.name

    @property
    def change(self):
        if self.budget is None or self.prior_budget is None:
            return None
        return self.budget - self.prior_budget
