"""Optimistic locking: a save based on an outdated copy is refused, never silently lost.

Every VersionedModel row carries `version`. A writer says which version its copy was loaded
at; save_versioned() locks the row (SELECT … FOR UPDATE), compares, bumps the version and
saves, all in one transaction. Of two people saving the same record, the second gets a
ConcurrentEditError naming the newer values, instead of overwriting the first one's change.

In the admin, OptimisticLockAdminMixin carries the loaded version in a hidden form field;
a stale save comes back as a form error (see its docstring for how to add it).
"""

from __future__ import annotations

from contextlib import contextmanager

from django import forms
from django.contrib import messages
from django.contrib.admin.utils import flatten_fieldsets
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models, router, transaction
from django.http import HttpResponseRedirect
from django.utils import timezone
from django.utils.translation import gettext as _

from .numbers import format_amount

VERSION_FIELD = "version"
# The name of the hidden admin form field that carries the version a form was loaded with.
LOADED_VERSION_FIELD = "loaded_version"
# How many newer values a message names before it stops.
MAX_NAMED_VALUES = 8
_MAX_VALUE_CHARS = 80


def is_versioned(model):
    try:
        model._meta.get_field(VERSION_FIELD)
    except FieldDoesNotExist:
        return False
    return True


def display_value(obj, field):
    """A field's value as a person reads it: choices by label, amounts with separators."""
    value = getattr(obj, field.attname)
    if value is None or value == "":
        return "—"
    if field.choices:
        return str(getattr(obj, f"get_{field.name}_display")())
    if field.is_relation:
        related = getattr(obj, field.name, None)
        return str(related) if related is not None else "—"
    if isinstance(field, models.DecimalField):
        return format_amount(value)
    if isinstance(field, models.BooleanField):
        return _("yes") if value else _("no")
    if isinstance(field, models.DateTimeField):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else "—"
    text = str(value)
    return text if len(text) <= _MAX_VALUE_CHARS else text[: _MAX_VALUE_CHARS - 1] + "…"


def _comparable_fields(model, names=None):
    fields = []
    for field in model._meta.concrete_fields:
        if field.primary_key or field.name == VERSION_FIELD:
            continue
        if names is not None and field.name not in names and field.attname not in names:
            continue
        if names is None and not field.editable:
            continue
        if isinstance(field, (models.BinaryField, models.JSONField)):
            continue
        fields.append(field)
    return fields


def newer_values(current, attempted=None, fields=None):
    """[(label, value)] of `current`'s fields that differ from what `attempted` holds.

    `attempted` is the writer's copy (a model instance) or a {field name: value} dict; when
    nothing differs (or it is not given), every compared field is named.
    """
    compared = _comparable_fields(type(current), fields)
    if isinstance(attempted, dict):
        wanted = attempted
    elif attempted is not None:
        wanted = {f.name: getattr(attempted, f.attname) for f in compared}
    else:
        wanted = {}

    def differs(field):
        if field.name not in wanted and field.attname not in wanted:
            return False
        mine = wanted.get(field.name, wanted.get(field.attname))
        if isinstance(mine, models.Model):
            mine = mine.pk
        return getattr(current, field.attname) != mine

    chosen = [f for f in compared if differs(f)] or [
        f for f in compared if f.name in wanted or f.attname in wanted
    ]
    if not chosen:
        chosen = compared
    return [(str(f.verbose_name), display_value(current, f)) for f in chosen[:MAX_NAMED_VALUES]]


def last_change(obj):
    """(user name, time) of the newest change-log entry of `obj`, or (None, None)."""
    from django.contrib.contenttypes.models import ContentType

    from .models import ChangeLogEntry

    entry = (
        ChangeLogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(type(obj)), object_id=str(obj.pk)
        )
        .order_by("-sequence")
        .only("username", "timestamp")
        .first()
    )
    if entry is None:
        return None, None
    return entry.username or None, entry.timestamp


def conflict_message(current, attempted=None, fields=None):
    """What a person is told when their copy is outdated: who, when, and the newer values."""
    values = "; ".join(
        f"{label}: {value}" for label, value in newer_values(current, attempted, fields)
    )
    username, when = last_change(current)
    params = {
        "object": str(current),
        "version": getattr(current, VERSION_FIELD, "?"),
        "values": values,
    }
    if username and when:
        params.update(user=username, time=timezone.localtime(when).strftime("%Y-%m-%d %H:%M"))
        return (
            _(
                "“%(object)s” was changed by %(user)s at %(time)s after you opened it "
                "(now version %(version)s). The newer values: %(values)s. Your change was "
                "not saved: open the record again and apply your change to the newer values."
            )
            % params
        )
    return (
        _(
            "“%(object)s” was changed by someone else after you opened it (now version "
            "%(version)s). The newer values: %(values)s. Your change was not saved: open the "
            "record again and apply your change to the newer values."
        )
        % params
    )


class ConcurrentEditError(Exception):
    """The copy being saved is outdated: `current` is the newer row as the database holds it."""

    def __init__(self, current, expected_version=None, attempted=None, fields=None, message=None):
        self.current = current
        self.expected_version = expected_version
        self.current_version = getattr(current, VERSION_FIELD, None)
        self.message = message or conflict_message(current, attempted, fields)
        super().__init__(self.message)

    def __str__(self):
        return self.message


def lock_row(model, pk, *, using=None):
    """The row as it is now, locked until the surrounding transaction ends."""
    using = using or router.db_for_write(model)
    return model._default_manager.db_manager(using).select_for_update().get(pk=pk)


@contextmanager
def versioned(obj, expected_version, *, using=None):
    """Lock `obj`'s row, compare its version, and set `obj.version` to the next one.

    The caller saves `obj` inside the block (the lock holds until the transaction ends):

        with versioned(obj, loaded_version):
            obj.save()

    `expected_version` None: do not compare, only lock and bump. Raises ConcurrentEditError
    (with the newer row) when the versions differ; nothing is written then.
    """
    model = type(obj)
    using = using or router.db_for_write(model, instance=obj)
    with transaction.atomic(using=using):
        try:
            current = lock_row(model, obj.pk, using=using)
        except model.DoesNotExist as exc:
            raise ConcurrentEditError(
                obj,
                expected_version,
                message=_("“%(object)s” was deleted by someone else; nothing was saved.")
                % {"object": str(obj)},
            ) from exc
        if expected_version is not None and current.version != int(expected_version):
            raise ConcurrentEditError(current, expected_version, obj)
        before = obj.version
        obj.version = current.version + 1
        try:
            yield current
        except BaseException:
            obj.version = before
            raise


def save_versioned(obj, expected_version, *, update_fields=None, using=None):
    """Save `obj` if its row is still at `expected_version`; bump the version. Atomic.

    `expected_version` is the version the writer's copy was loaded at (None: do not
    compare, only lock and bump). A new object (no pk) is inserted at version 1. Raises
    ConcurrentEditError with the newer row when the versions differ; nothing is written.
    """
    model = type(obj)
    using = using or router.db_for_write(model, instance=obj)
    if obj.pk is None or obj._state.adding:
        with transaction.atomic(using=using):
            obj.save(using=using)
        return obj
    if update_fields is not None:
        update_fields = set(update_fields) | {VERSION_FIELD}
        update_fields |= {
            f.name for f in model._meta.concrete_fields if getattr(f, "auto_now", False)
        }
    try:
        with versioned(obj, expected_version, using=using):
            obj.save(using=using, update_fields=update_fields)
    except ConcurrentEditError as exc:
        if exc.current is not obj and update_fields is not None:
            # Name the newer values of the fields this writer meant to change.
            raise ConcurrentEditError(exc.current, expected_version, obj, update_fields) from None
        raise
    return obj


# ---------------------------------------------------------------- admin


class _LoadedVersionFormMixin:
    """Form side of the admin mixin: the version travels in a hidden field and is checked."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields.get(LOADED_VERSION_FIELD)
        if field is not None and self.instance.pk is not None:
            field.initial = self.instance.version

    def clean(self):
        cleaned = super().clean()
        loaded = cleaned.get(LOADED_VERSION_FIELD)
        instance = self.instance
        if instance.pk is None or instance._state.adding:
            return cleaned
        if loaded is None:
            raise ValidationError(
                _(
                    "The form did not say which version of the record it was opened at; "
                    "open it again."
                ),
                code="version_missing",
            )
        model = type(instance)
        using = router.db_for_write(model, instance=instance)
        # Inside the admin's transaction the row stays locked until the save, so no one can
        # slip in between this check and save_versioned().
        manager = model._default_manager.db_manager(using)
        if transaction.get_connection(using).in_atomic_block:
            manager = manager.select_for_update()
        current = manager.filter(pk=instance.pk).first()
        if current is None:
            raise ValidationError(
                _("“%(object)s” was deleted by someone else; nothing was saved.")
                % {"object": str(instance)},
                code="deleted",
            )
        if current.version != loaded:
            model_fields = {f.name for f in model._meta.concrete_fields}
            attempted = {name: v for name, v in cleaned.items() if name in model_fields}
            raise ValidationError(
                conflict_message(current, attempted or None, list(attempted) or None),
                code="stale",
            )
        return cleaned


def _loaded_version_field():
    return forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=0)


def extra_form_fields_get_form(
    admin, super_get_form, request, obj, change, kwargs, extra, attrs=None, *, wanted=True
):
    """Call `super_get_form` without the non-model `extra` names, then declare them on the form.

    Shared by admin mixins that add non-model fields (the loaded version, an amendment
    reason): `extra` is {name: (form field factory, form mixin class or None)}; `attrs` are
    further class attributes of the form. The names may be listed in fieldsets; they are
    kept out of the model form factory's `fields`. Not `wanted` (this form goes without
    them): only kept out of `fields`.
    """
    if not wanted:
        if kwargs.get("fields") is not None:
            kwargs["fields"] = [name for name in kwargs["fields"] if name not in extra]
        return super_get_form(request, obj, change=change, **kwargs)
    if "fields" in kwargs:
        fields = kwargs.pop("fields")
    else:
        fields = flatten_fieldsets(admin.get_fieldsets(request, obj))
    if fields is not None:
        fields = [name for name in fields if name not in extra]
    form = super_get_form(request, obj, change=change, fields=fields, **kwargs)
    attrs = {**(attrs or {}), **{name: factory() for name, (factory, _mixin) in extra.items()}}
    mixins = tuple(m for _factory, m in extra.values() if m is not None)
    return type(form.__name__, (*mixins, form), attrs)


class OptimisticLockAdminMixin:
    """Refuse a stale admin save with a form error showing the newer values (not a 500).

    Put it before the ModelAdmin base: ``class PlanDataAdmin(OptimisticLockAdminMixin,
    ExportActionModelAdmin)``. It does nothing for models without a `version` field. The
    change form gets a hidden `loaded_version`; the form's clean() locks the row (the admin
    saves inside one transaction) and compares; save_model() runs the rest of the save
    chain inside versioned() (lock, compare, bump). An admin that overrides save_model()
    calls super().save_model() (or save_versioned()) to keep the check. Inline rows of
    versioned models are saved with their version bumped (no per-row comparison). A
    ConcurrentEditError raised later in the save (e.g. by a workflow function) is shown as
    an error message on the reloaded form, never as a 500.
    """

    def _uses_optimistic_lock(self, request, obj):
        return (
            obj is not None
            and obj.pk is not None
            and is_versioned(self.model)
            and self.has_change_permission(request, obj)
        )

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if not self._uses_optimistic_lock(request, obj):
            return fieldsets
        if LOADED_VERSION_FIELD in flatten_fieldsets(fieldsets):
            return fieldsets
        return [*fieldsets, (None, {"fields": [LOADED_VERSION_FIELD], "classes": ["hidden"]})]

    def get_form(self, request, obj=None, change=False, **kwargs):
        return extra_form_fields_get_form(
            self,
            super().get_form,
            request,
            obj,
            change,
            kwargs,
            {LOADED_VERSION_FIELD: (_loaded_version_field, _LoadedVersionFormMixin)},
            wanted=self._uses_optimistic_lock(request, obj),
        )

    def loaded_version(self, form):
        """The version the submitted form was opened at (None when the form has no such field)."""
        if form is None or not hasattr(form, "cleaned_data"):
            return None
        return form.cleaned_data.get(LOADED_VERSION_FIELD)

    def save_model(self, request, obj, form, change):
        if change and is_versioned(self.model) and LOADED_VERSION_FIELD in form.fields:
            # Locked, compared and bumped around the rest of the chain (scope checks, save).
            with versioned(obj, self.loaded_version(form)):
                super().save_model(request, obj, form, change)
        else:
            super().save_model(request, obj, form, change)

    def save_formset(self, request, form, formset, change):
        """Inline rows of versioned models are saved locked and with their version bumped."""
        if not is_versioned(formset.model):
            return super().save_formset(request, form, formset, change)
        instances = formset.save(commit=False)
        for obj in formset.deleted_objects:
            obj.delete()
        for obj in instances:
            save_versioned(obj, None)
        formset.save_m2m()

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ConcurrentEditError as exc:
            # The transaction has been rolled back; show the newer state with the reason.
            self.message_user(request, exc.message, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())
