"""django-import-export resources that keep to the user's department scope.

django-import-export's admin import does not go through ModelAdmin.get_queryset(): the
resource finds rows by its own queryset (Resource.get_queryset) and writes whatever the file
says. An officer allowed to import could therefore overwrite, or create under, another
department's rows. ScopedModelResource enforces the scope itself, for every way in:

- the user comes with the resource (ScopedModelResource(user=…), which is how the admin's
  get_import_resource_kwargs/get_export_resource_kwargs pass it, see PlanDataAdmin), or as
  import_data(…, user=…) (the admin's import passes user=request.user there);
- before_import_row refuses every row when there is no user or the user may not import
  such rows at all (no add/change permission);
- rows are looked up only among those the user may see (get_queryset), and a row naming a
  stored row outside that scope is refused rather than taken for a new row;
- import_instance refuses a row whose stored state or whose state after the import lies
  outside the user's scope (moving a row into another department included);
- deletions need the delete scope; export writes only what the user may see.

A refused row is an import error (not a validation error), so django-import-export rolls the
whole import back: nothing is written.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from import_export import resources

from .admin_base import in_department_scope
from .scoping import restrict


class OutOfScope(PermissionDenied):
    """A row the importing user may not write."""


def _perm(model, action):
    return f"{model._meta.app_label}.{action}_{model._meta.model_name}"


class ScopedModelResource(resources.ModelResource):
    """A ModelResource that only reads and writes rows inside its user's department scope."""

    def __init__(self, user=None, **kwargs):
        super().__init__(**kwargs)
        self.user = user

    # ---------------------------------------------------------------- who

    def _user(self, kwargs=None):
        user = (kwargs or {}).get("user") or self.user
        if self.user is None and user is not None:
            self.user = user
        return user

    def _refuse(self, message):
        raise OutOfScope(message)

    # ---------------------------------------------------------------- rows

    def get_queryset(self):
        """What the instance loader finds and export writes: only rows the user may see.

        (Writing needs more: import_instance checks the change scope of the stored row.)
        """
        return restrict(super().get_queryset(), self.user, "view")

    def import_data(self, dataset, *args, **kwargs):
        self._user(kwargs)
        return super().import_data(dataset, *args, **kwargs)

    def before_import_row(self, row, **kwargs):
        user = self._user(kwargs)
        model = self._meta.model
        if user is None or not user.is_authenticated or not user.is_active:
            self._refuse(_("Import refused: no user to check the rows against."))
        if not (user.has_perm(_perm(model, "add")) or user.has_perm(_perm(model, "change"))):
            self._refuse(
                _("Import refused: you may not write %(things)s.")
                % {"things": model._meta.verbose_name_plural}
            )
        super().before_import_row(row, **kwargs)

    def get_instance(self, instance_loader, row):
        instance = super().get_instance(instance_loader, row)
        if instance is None:
            self._refuse_existing_outside_scope(row)
        return instance

    def _refuse_existing_outside_scope(self, row):
        """A row naming (by its import id) a stored row the user may not change is refused,
        rather than taken for a new row."""
        id_fields = [self.fields[name] for name in self.get_import_id_fields()]
        if not id_fields or any(field.column_name not in row for field in id_fields):
            return
        lookup = {}
        for field in id_fields:
            value = field.clean(row)
            if value in (None, ""):
                return
            lookup[field.attribute] = value
        manager = self._meta.model._default_manager
        try:
            exists = manager.filter(**lookup).exists()
        except (ValueError, TypeError):
            return
        if exists:
            self._refuse(
                _("Row refused: it names a %(thing)s outside your departments.")
                % {"thing": self._meta.model._meta.verbose_name}
            )

    def import_instance(self, instance, row, **kwargs):
        user = self._user(kwargs)
        if user is None:
            self._refuse(_("Import refused: no user to check the rows against."))
        model = type(instance)
        is_update = (
            instance.pk is not None and model._default_manager.filter(pk=instance.pk).exists()
        )
        if (
            is_update
            and not restrict(model._default_manager.filter(pk=instance.pk), user, "change").exists()
        ):
            self._refuse(
                _("Row refused: it would change a %(thing)s outside your departments.")
                % {"thing": model._meta.verbose_name}
            )
        super().import_instance(instance, row, **kwargs)
        action = "change" if is_update else "add"
        if not user.has_perm(_perm(model, action)) or not in_department_scope(
            user, instance, action
        ):
            self._refuse(
                _("Row refused: it would write a %(thing)s outside your departments.")
                % {"thing": model._meta.verbose_name}
            )

    def delete_instance(self, instance, row, **kwargs):
        user = self._user(kwargs)
        if not restrict(
            type(instance)._default_manager.filter(pk=instance.pk), user, "delete"
        ).exists():
            self._refuse(
                _("Row refused: it would delete a %(thing)s outside your departments.")
                % {"thing": type(instance)._meta.verbose_name}
            )
        super().delete_instance(instance, row, **kwargs)

    # ---------------------------------------------------------------- export

    def export(self, queryset=None, **kwargs):
        user = self._user(kwargs)
        if queryset is None:
            queryset = self.get_queryset()
        return super().export(queryset=restrict(queryset, user, "view"), **kwargs)
