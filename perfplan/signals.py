"""Single saves and deletes of tracked records go to the change log.

A record remembers the values it was loaded with (post_init), so a save logs exactly the
fields that changed, old → new. Bulk writers bypass signals and log their own diffs.
"""

from django.contrib.auth import get_user_model
from django.db.models.signals import m2m_changed, post_delete, post_init, post_save

from .changelog import current_context, draft_for, record_many
from .tracking import UNLOGGED_FIELDS, tracked_models


def _values(instance):
    # From __dict__: a deferred field (.only()/.defer()) is not loaded, and reading it
    # through getattr would load it, one query per field and row (and recurse, as loading
    # builds another instance).
    loaded = instance.__dict__
    return {
        f.attname: loaded[f.attname]
        for f in instance._meta.concrete_fields
        if f.attname in loaded and f.attname not in UNLOGGED_FIELDS
    }


def _remember(sender, instance, **kwargs):
    instance._changelog_loaded = _values(instance) if instance.pk is not None else None


def _saved(sender, instance, created, raw=False, **kwargs):
    context = current_context()
    if raw or context.quiet:
        return
    now = _values(instance)
    before = None if created else getattr(instance, "_changelog_loaded", None)
    if created or before is None:
        changes = {k: (None, v) for k, v in now.items() if v not in (None, "") and k != "id"}
        action = "create" if created else (context.action or "update")
    else:
        changes = {k: (before.get(k), v) for k, v in now.items() if before.get(k) != v}
        action = context.action or "update"
        if not changes and not context.action:
            return
    record_many([draft_for(instance, action, changes)])
    instance._changelog_loaded = now


def _deleted(sender, instance, **kwargs):
    if current_context().quiet:
        return
    record_many([draft_for(instance, "delete")])


def _groups_changed(sender, instance, action, pk_set, **kwargs):
    if action not in ("post_add", "post_remove", "post_clear") or current_context().quiet:
        return
    from django.contrib.auth.models import Group

    if not isinstance(instance, get_user_model()):
        return
    names = sorted(Group.objects.filter(pk__in=pk_set or []).values_list("name", flat=True))
    change = {"groups": ([], names)} if action == "post_add" else {"groups": (names, [])}
    record_many([draft_for(instance, "assign", change)])


def connect():
    for model in tracked_models():
        uid = model._meta.label_lower
        post_init.connect(_remember, sender=model, dispatch_uid=f"changelog_init_{uid}")
        post_save.connect(_saved, sender=model, dispatch_uid=f"changelog_save_{uid}")
        post_delete.connect(_deleted, sender=model, dispatch_uid=f"changelog_delete_{uid}")
    m2m_changed.connect(
        _groups_changed, sender=get_user_model().groups.through, dispatch_uid="changelog_groups"
    )
