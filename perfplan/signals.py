"""Single saves and deletes of tracked records go to the change log.

A record remembers the values it was loaded with (post_init), so a save logs exactly the
fields that changed, old → new. Bulk writers bypass signals and log their own diffs.
"""

from django.contrib.auth import get_user_model
from django.db.models.signals import m2m_changed, post_delete, post_init, post_save

from .changelog import UNLOGGED_FIELDS, current_context, draft_for, record_many, tracked_models


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


# ---------------------------------------------------------------- users, whatever the way

# What a user save logs; the password only as an event (PASSWORD_* below), never the hash.
USER_FIELDS = (
    "username",
    "first_name",
    "last_name",
    "email",
    "is_active",
    "is_staff",
    "is_superuser",
)
PASSWORD_SET = "set"  # by its owner
PASSWORD_RESET = "reset"  # by someone else
PASSWORD_DISABLED = "disabled"  # password login turned off
# The hash changed with no new password given (a hash upgrade at login, or a hash written
# directly): logged too, as it may be either.
PASSWORD_REPLACED = "hash replaced"


def _user_values(instance):
    loaded = instance.__dict__
    return {name: loaded[name] for name in (*USER_FIELDS, "password") if name in loaded}


def _remember_user(sender, instance, **kwargs):
    instance._changelog_user_loaded = _user_values(instance) if instance.pk is not None else None


def _password_event(instance):
    from django.contrib.auth.hashers import is_password_usable

    if not is_password_usable(instance.password):
        return PASSWORD_DISABLED
    if getattr(instance, "_password", None) is None:
        return PASSWORD_REPLACED
    actor = current_context().user
    return PASSWORD_SET if actor is not None and actor.pk == instance.pk else PASSWORD_RESET


def _user_saved(sender, instance, created, raw=False, update_fields=None, **kwargs):
    context = current_context()
    if raw or context.quiet:
        return
    now = _user_values(instance)
    before = None if created else getattr(instance, "_changelog_user_loaded", None)
    written = set(update_fields) if update_fields else set(now)
    if before is None:
        changes = {k: (None, v) for k, v in now.items() if k != "password" and v not in (None, "")}
        if now.get("password"):
            changes["password"] = (None, _password_event(instance))
        action = "create" if created else (context.action or "update")
    else:
        changes = {
            k: (before.get(k), v)
            for k, v in now.items()
            if k != "password" and k in written and before.get(k) != v
        }
        if "password" in written and before.get("password") != now.get("password"):
            changes["password"] = (None, _password_event(instance))
        action = context.action or "update"
        if not changes:
            return
    record_many([draft_for(instance, action, changes)])
    remembered = dict(before or {})
    remembered.update({k: v for k, v in now.items() if k in written or before is None})
    instance._changelog_user_loaded = remembered


def _user_m2m_names(model, pks):
    if model._meta.label_lower == "auth.permission":
        rows = model.objects.filter(pk__in=pks).values_list("content_type__app_label", "codename")
        return sorted(f"{app}.{codename}" for app, codename in rows)
    return sorted(model.objects.filter(pk__in=pks).values_list("name", flat=True))


def _user_m2m_changed(field_name):
    """A handler logging a user's `field_name` (groups, user_permissions) changes, from
    either side (user.groups.add(…) or group.user_set.add(…))."""

    def changed(sender, instance, action, reverse, model, pk_set, **kwargs):
        if current_context().quiet:
            return
        User = get_user_model()
        if action == "pre_clear":
            # Remember what is cleared: post_clear gets no pk_set.
            if reverse:
                pk_set = set(
                    model.objects.filter(**{field_name: instance}).values_list("pk", flat=True)
                )
            else:
                pk_set = set(getattr(instance, field_name).values_list("pk", flat=True))
            instance._changelog_cleared = pk_set
            return
        if action not in ("post_add", "post_remove", "post_clear"):
            return
        if action == "post_clear":
            pk_set = getattr(instance, "_changelog_cleared", set())
        if not pk_set:
            return
        removed = action != "post_add"
        if reverse:  # instance is the group or permission, pk_set the users
            name = _user_m2m_names(type(instance), [instance.pk])
            users = User._default_manager.filter(pk__in=pk_set).order_by("pk")
            drafts = [
                draft_for(user, "assign", {field_name: (name, []) if removed else ([], name)})
                for user in users
            ]
        else:
            names = _user_m2m_names(model, pk_set)
            change = {field_name: (names, []) if removed else ([], names)}
            drafts = [draft_for(instance, "assign", change)]
        record_many(drafts)

    return changed


def connect():
    for model in tracked_models():
        uid = model._meta.label_lower
        post_init.connect(_remember, sender=model, dispatch_uid=f"changelog_init_{uid}")
        post_save.connect(_saved, sender=model, dispatch_uid=f"changelog_save_{uid}")
        post_delete.connect(_deleted, sender=model, dispatch_uid=f"changelog_delete_{uid}")
    User = get_user_model()
    post_init.connect(_remember_user, sender=User, dispatch_uid="changelog_init_user")
    post_save.connect(_user_saved, sender=User, dispatch_uid="changelog_save_user")
    post_delete.connect(_deleted, sender=User, dispatch_uid="changelog_delete_user")
    for field_name in ("groups", "user_permissions"):
        m2m_changed.connect(
            _user_m2m_changed(field_name),
            sender=getattr(User, field_name).through,
            dispatch_uid=f"changelog_user_{field_name}",
            weak=False,
        )
