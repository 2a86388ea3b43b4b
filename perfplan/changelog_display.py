"""The change log as people read it: labels, names and local times instead of stored codes.

An entry keeps its changes as they were written (field names, choice codes, ids, ISO times in
UTC: its hash covers them). Every page and export that shows entries asks ChangeDisplay, made
once for the entries shown together, which

- names each field by its model field's verbose name (the entry's content type says which
  model), and a choice by its label, a boolean as 예 / 아니요;
- names a related object (a foreign-key id) by its name, read in one query per related model
  for all the entries at once (never one per row); an object deleted since shows as
  "삭제된 항목 #id";
- writes amounts with thousands separators, times in local time (settings.TIME_ZONE) to the
  minute, lists (a user's groups) as "a, b", and what an app names itself (a period key,
  registered with name_values_with) its way;
- reads an import's own entry (new / changed / deleted / unchanged counts) and a user's
  password events (perfplan.signals) in words.

Core layer: models are reached through their content type (the apps registry), never imported.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from decimal import Decimal, InvalidOperation

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext, gettext_lazy

from .numbers import format_amount

EMPTY = "—"
TIME_FORMAT = "%Y-%m-%d %H:%M"

# The counts an import's own entry holds (perfplan.imports.log_import): the importers' words.
IMPORT_COUNT_LABELS = {
    "new": gettext_lazy("new"),
    "changed": gettext_lazy("changed"),
    "deleted": gettext_lazy("deleted"),
    "unchanged": gettext_lazy("unchanged"),
    "skipped": gettext_lazy("skipped (no value)"),
}
# What perfplan.signals logs for a password (never the hash): the event, by its code.
PASSWORD_EVENTS = {
    "set": gettext_lazy("set by its owner"),
    "reset": gettext_lazy("reset by another user"),
    "disabled": gettext_lazy("password login disabled"),
    "hash replaced": gettext_lazy("stored hash replaced"),
}


# Values only their own app can name (a period key as 3월): (model label, field name) ->
# function. Apps above the core register theirs in AppConfig.ready (name_values_with).
_VALUE_NAMERS = {}


def name_values_with(model, field_name, function):
    """Show the logged values of `model`'s `field_name` as `function(value)` returns them."""
    _VALUE_NAMERS[(model._meta.label_lower, field_name)] = function


def local_time(value):
    """A datetime (or its ISO text) in local time, to the minute: 2026-03-04 09:05."""
    if isinstance(value, str):
        try:
            value = datetime.datetime.fromisoformat(value)
        except ValueError:
            return value
    if timezone.is_naive(value):
        value = timezone.make_aware(value, datetime.UTC)
    return timezone.localtime(value).strftime(TIME_FORMAT)


def model_of(content_type_id):
    """The model an entry is about (None for a type that no longer exists)."""
    if content_type_id is None:
        return None
    try:
        return ContentType.objects.get_for_id(content_type_id).model_class()
    except ContentType.DoesNotExist:
        return None


def _fields_by_key(model):
    """Logged key (field name or attname) -> field, many-to-many fields included."""
    fields = {}
    if model is None:
        return fields
    for field in (*model._meta.concrete_fields, *model._meta.many_to_many):
        fields[field.name] = field
        fields[field.attname] = field
    return fields


def _pairs(changes):
    """(key, old, new) of an entry's changes, in key order; a bare value is a new one."""
    for key, value in sorted((changes or {}).items()):
        if isinstance(value, (list, tuple)) and len(value) == 2:
            yield key, value[0], value[1]
        else:
            yield key, None, value


def _is_foreign_key(field):
    return field is not None and field.many_to_one and field.concrete


class ChangeDisplay:
    """The readable changes of the entries shown together (a page, an export chunk)."""

    def __init__(self, entries):
        self._fields = {}
        self._names = {}  # related model -> {pk: name}
        self._permission_names = {}
        wanted = defaultdict(set)
        permissions = set()
        for entry in entries:
            model = model_of(entry.content_type_id)
            fields = self._fields_of(model)
            for key, old, new in _pairs(entry.changes):
                field = fields.get(key)
                if _is_foreign_key(field):
                    wanted[field.related_model].update(
                        value for value in (old, new) if value not in (None, "")
                    )
                elif key == "user_permissions":
                    permissions.update(_names_in(old) + _names_in(new))
        for related, ids in wanted.items():
            self._names[related] = _names_of(related, ids)
        if permissions:
            self._permission_names = _permission_names(permissions)

    def _fields_of(self, model):
        if model not in self._fields:
            self._fields[model] = _fields_by_key(model)
        return self._fields[model]

    def rows(self, entry):
        """(label, old, new) of `entry`'s changes, as people read them."""
        model = model_of(entry.content_type_id)
        if entry.action == "import":
            return [
                (str(IMPORT_COUNT_LABELS.get(key, key)), EMPTY, self._number(new))
                for key, _old, new in _pairs(entry.changes)
            ]
        fields = self._fields_of(model)
        rows = []
        for key, old, new in _pairs(entry.changes):
            field = fields.get(key)
            label = str(capfirst(field.verbose_name)) if field is not None else key
            rows.append((label, self.value(field, key, old), self.value(field, key, new)))
        return rows

    def text(self, entry, separator="; "):
        """The changes in one line (or one per line with separator="\\n")."""
        return separator.join(f"{label}: {old} → {new}" for label, old, new in self.rows(entry))

    def value(self, field, key, value):
        if value is None or value == "" or value == []:
            return EMPTY
        if key == "password" and field is not None and field.model is get_user_model():
            return str(PASSWORD_EVENTS.get(value, value))
        if key == "user_permissions":
            return ", ".join(self._permission_names.get(name, name) for name in _names_in(value))
        if isinstance(value, list):
            return ", ".join(str(item) for item in value)
        if field is None:
            return str(value)
        namer = _VALUE_NAMERS.get((field.model._meta.label_lower, field.name))
        if namer is not None:
            return str(namer(value))
        if field.choices:
            return str(dict(field.flatchoices).get(value, value))
        if _is_foreign_key(field):
            names = self._names.get(field.related_model, {})
            name = names.get(_key_of(value))
            return name if name is not None else gettext("deleted item #%(id)s") % {"id": value}
        if isinstance(field, models.BooleanField):
            return gettext("yes") if value else gettext("no")
        if isinstance(field, models.DateTimeField):
            return local_time(value)
        if isinstance(field, models.DecimalField):
            return self._number(value)
        return str(value)

    @staticmethod
    def _number(value):
        try:
            return format_amount(Decimal(str(value)))
        except (InvalidOperation, ValueError, TypeError):
            return str(value)


def _key_of(value):
    """Ids are logged as numbers (or their text): compared as text."""
    return str(value)


def _names_in(value):
    return [str(item) for item in value] if isinstance(value, list) else []


def _names_of(model, ids):
    """{str(pk): name} of `model`'s rows among `ids`, in one query."""
    pks = set()
    for value in ids:
        try:
            pks.add(model._meta.pk.to_python(value))
        except (ValidationError, TypeError, ValueError):
            continue  # no valid key: shown as a deleted item
    manager = model._base_manager
    if "name" in {field.name for field in model._meta.concrete_fields}:
        rows = manager.filter(pk__in=pks).values_list("pk", "name")
        return {str(pk): name for pk, name in rows}
    return {str(obj.pk): str(obj) for obj in manager.filter(pk__in=pks).select_related()}


def _permission_names(labels):
    """{"app.codename": its name as people read it} for the logged labels, one query."""
    from django.contrib.auth.models import Permission

    codenames = {label.partition(".")[2] for label in labels}
    rows = Permission.objects.filter(codename__in=codenames).select_related("content_type")
    return {f"{p.content_type.app_label}.{p.codename}": permission_label(p) for p in rows}


PERMISSION_ACTIONS = {
    "view": gettext_lazy("view %(model)s"),
    "add": gettext_lazy("add %(model)s"),
    "change": gettext_lazy("change %(model)s"),
    "delete": gettext_lazy("delete %(model)s"),
}


def permission_label(permission):
    """A permission as people read it, everywhere (role pages, the change log): the model's
    Korean name with the action for Django's four, else its name through the catalogue
    (Django stores "Can add result" in English)."""
    action, _sep, model_name = permission.codename.partition("_")
    model = permission.content_type.model_class()
    if action in PERMISSION_ACTIONS and model is not None and model._meta.model_name == model_name:
        return PERMISSION_ACTIONS[action] % {"model": model._meta.verbose_name}
    return gettext(permission.name)
