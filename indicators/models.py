from django.db import models
from django.utils.translation import gettext_lazy as _

from goals.models import PolicyGoal


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


class Indicator(models.Model):
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

    class Meta:
        ordering = [
            "policy_goal__strategic_goal__plan_department__plan",
            "policy_goal__strategic_goal__plan_department__position",
            "policy_goal__strategic_goal__position",
            "policy_goal__position",
            "position",
            "id",
        ]
        verbose_name = _("performance indicator")
        verbose_name_plural = _("performance indicators")
        constraints = [
            models.UniqueConstraint(fields=["policy_goal", "name"], name="uniq_indicator_name"),
        ]

    def __str__(self):
        return self.name
