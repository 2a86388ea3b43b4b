"""The writes of a plan import: what the diff scheduled (Work), parents before children, in
bulk (perfplan.bulk). Written without signals: the standings are kept up to date here."""

from __future__ import annotations

from budgets.models import UnitProgram
from goals.models import PlanDepartment, PolicyGoal, StrategicGoal
from indicators import standing
from indicators.models import Indicator
from perfplan import bulk
from perfplan.models import Department


def apply(work):
    """Write `work` (the diff's schedule); returns the plan."""
    plan = work.plan_obj
    if work.plan_changed:
        if plan.pk:
            plan.version += 1
        plan.save()
    # Leaves first; parents only after the writes, so that an indicator moved (by its
    # code) out of a deleted policy goal is re-parented before the cascade reaches it.
    _delete(work, (Indicator, UnitProgram))
    new_departments = work.create.get(PlanDepartment, [])
    identities = [pd for pd in new_departments if pd._new_identity]
    created = Department.objects.bulk_create(
        [Department(name=pd.name, code=pd._code or None) for pd in identities]
    )
    for pd, identity in zip(identities, created, strict=True):
        pd.department = identity
    for pd in new_departments:
        pd.plan = plan
    # Parents before children: bulk_create fills the primary keys the children point to.
    for model, parent in (
        (PlanDepartment, None),
        (StrategicGoal, "plan_department"),
        (PolicyGoal, "strategic_goal"),
        (Indicator, "policy_goal"),
        (UnitProgram, "policy_goal"),
    ):
        objects = work.create.get(model, [])
        if parent:
            for obj in objects:
                setattr(obj, parent, getattr(obj, parent))  # re-read the parent's new pk
        if objects:
            bulk.create_objects(model, objects)
        changed = work.update.get(model, [])
        if changed and hasattr(model, "version"):
            # An open edit form of any of these records is now stale (optimistic locking).
            for obj in changed:
                obj.version += 1
            work.update_fields[model].add("version")
        if changed:
            if parent and model is Indicator:
                cached = Indicator._meta.get_field("policy_goal").is_cached
                for obj in changed:
                    if cached(obj):  # else policy_goal_id is already the pk (no query per row)
                        obj.policy_goal = obj.policy_goal
            bulk.update_objects(model, changed, sorted(work.update_fields[model]))
    _delete(work, (PolicyGoal, StrategicGoal, PlanDepartment))
    # Written without signals: rewritten indicators' standings are outdated, new ones get
    # theirs, and every standing is filed where its indicator now is.
    standing.touch(obj.pk for obj in work.update.get(Indicator, []))
    standing.link_plan(plan)
    return plan


def _delete(work, models):
    for model in models:
        ids = work.delete.get(model, [])
        for start in range(0, len(ids), bulk.BATCH):
            model.objects.filter(pk__in=ids[start : start + bulk.BATCH]).delete()
