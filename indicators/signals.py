"""Single saves keep the indicators' standings (indicators.standing) true: a write that
changes what a standing is computed from outdates it (touch: an appended change, no lock on
the standing); a move in the hierarchy files it anew (link). Bulk writers call touch and
link themselves."""

from django.db.models.signals import post_delete, post_init, post_save

from goals.models import PlanDepartment, PolicyGoal, StrategicGoal

from . import standing
from .models import Indicator, PeriodTarget, Result

# What a standing reads of a result: a review step (status, reviewer, times) changes none.
RESULT_INPUTS = ("indicator_id", "period", "value", "is_sample")
# The levels an indicator hangs under: moving one of them moves its indicators.
PLAN_LEVELS = (PolicyGoal, StrategicGoal, PlanDepartment)


def _result_inputs(instance):
    loaded = instance.__dict__  # never load a deferred field here
    return tuple(loaded.get(name) for name in RESULT_INPUTS)


def _result_loaded(sender, instance, **kwargs):
    instance._standing_inputs = _result_inputs(instance) if instance.pk is not None else None


def _result_saved(sender, instance, created, **kwargs):
    now = _result_inputs(instance)
    before = None if created else getattr(instance, "_standing_inputs", None)
    if before != now:
        ids = {instance.indicator_id}
        if before is not None and before[0] is not None:
            ids.add(before[0])
        standing.touch(ids)
    instance._standing_inputs = now


def _deleted_itself(sender, origin):
    """The delete began with this record (or a queryset of its kind), not with its
    indicator or a goal above it: then the standing goes with the indicator."""
    model = getattr(origin, "model", type(origin))
    return model is sender


def _result_deleted(sender, instance, origin=None, **kwargs):
    if _deleted_itself(sender, origin):
        standing.touch([instance.indicator_id])


def _target_saved(sender, instance, **kwargs):
    standing.touch([instance.indicator_id])


def _target_deleted(sender, instance, origin=None, **kwargs):
    if _deleted_itself(sender, origin):
        standing.touch([instance.indicator_id])


def _indicator_saved(sender, instance, **kwargs):
    standing.link([instance.pk])  # a new indicator gets its row here; a moved one is filed
    standing.touch([instance.pk])


def _goal_saved(sender, instance, created, **kwargs):
    if not created:  # a new goal has no indicators yet
        below = Indicator.objects.under(sender, instance)
        standing.link(below.values_list("pk", flat=True))


def connect():
    post_init.connect(_result_loaded, sender=Result, dispatch_uid="standing_result_init")
    post_save.connect(_result_saved, sender=Result, dispatch_uid="standing_result_save")
    post_delete.connect(_result_deleted, sender=Result, dispatch_uid="standing_result_delete")
    post_save.connect(_target_saved, sender=PeriodTarget, dispatch_uid="standing_target_save")
    post_delete.connect(_target_deleted, sender=PeriodTarget, dispatch_uid="standing_target_delete")
    post_save.connect(_indicator_saved, sender=Indicator, dispatch_uid="standing_indicator")
    for model in PLAN_LEVELS:
        post_save.connect(
            _goal_saved, sender=model, dispatch_uid=f"standing_{model._meta.model_name}"
        )
