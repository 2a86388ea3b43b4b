"""Bases of the plan-data admins: department scoping, scoped exports, our change history.

Every plan-data ModelAdmin derives from PlanDataAdmin, so the department scope
(perfplan.scoping) is applied in one place for its list, forms, object pages, related
choices, list filters, autocomplete answers (the related admin's get_queryset) and exports:

- get_queryset() is restrict(…, "view"): lists, search, filters, the export action and
  every object URL (change, delete, history) only reach rows the user may see. An id of
  another department answers like an id that does not exist.
- has_view/change/delete_permission(obj) ask can(); save_model() refuses a save whose
  row, before or after the change, is outside the user's scope (list_editable included);
  delete_queryset() refuses a bulk delete that reaches outside it.
- Foreign-key choices and related list filters list only what the user may see.
- The export action (django-import-export) exports get_queryset() narrowed once more with
  restrict() (resources only export; the admin has no import through them).

ChangeLogHistoryMixin replaces the admin's "history" page (Django's own LogEntry) with our
change log for the object, filtered to what the user may see.
"""

from __future__ import annotations

from django.contrib.admin.filters import RelatedFieldListFilter, RelatedOnlyFieldListFilter
from django.contrib.admin.utils import get_fields_from_path, unquote
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.core.paginator import Paginator
from django.template.response import TemplateResponse
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from import_export.admin import ExportActionModelAdmin
from import_export.forms import SelectableFieldsExportForm

from .changelog_display import ChangeDisplay, local_time
from .formats import CSV, XLSX
from .locking import OptimisticLockAdminMixin
from .models import ChangeLogEntry
from .scoping import can, department_ids, may_act_in, permission, restrict, scope_of, sees_all

HISTORY_PER_PAGE = 100


def count_column(annotation, description):
    """A list column showing (and sorting by) a count the admin's queryset annotates."""

    def column(model_admin, obj):
        return getattr(obj, annotation)

    column.short_description = description
    column.admin_order_field = annotation
    return column


def is_scoped_model(model):
    """Whether rows of `model` belong to a department (or the shared plan) for scoping."""
    return scope_of(model) is not None


def scoped_related_queryset(model, user, action="view", queryset=None):
    """The rows of a related model `user` may pick or see; None if the model is not scoped."""
    if not is_scoped_model(model):
        return None
    if queryset is None:
        queryset = model._default_manager.all()
    return restrict(queryset, user, action)


def in_department_scope(user, obj, action):
    """Whether `obj` as it is now (possibly unsaved) lies in `user`'s scope for `action`.

    Used for the state a save would write: the row's department is read through its
    (possibly just changed) foreign keys, not from the database.
    """
    scope = scope_of(type(obj))
    if scope is None:
        return True
    return may_act_in(user, permission(type(obj), action), scope.department_id(obj))


def restrict_log_entries(queryset, user):
    """Change-log entries `user` may read: all for those who see every department (auditors,
    plan admins), else those filed under one of the user's departments."""
    if user is None or not user.is_authenticated or not user.is_active:
        return queryset.none()
    if sees_all(user, "view"):
        return queryset
    return queryset.of_departments(department_ids(user))


def object_log_entries(user, obj):
    """Our change-log entries about `obj` that `user` may read, newest first.

    The caller has already established that `user` may see `obj`. Entries of the shared
    plan (no department) are readable by whoever may see the plan; entries of department
    data only where they were filed under one of the user's departments (a row moved from
    another department does not reveal its past there).
    """
    entries = ChangeLogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(type(obj)),
        object_id=str(obj.pk),
    ).order_by("-sequence")
    scope = scope_of(type(obj))
    if scope is not None and scope.shared:
        return entries
    return restrict_log_entries(entries, user)


class ScopedRelatedFieldListFilter(RelatedFieldListFilter):
    """A related-object list filter that lists only the objects the user may see.

    Department data (a model with a perfplan.scoping.Scope) is narrowed with restrict(); any
    other related model (users, …) lists only the values present in the user's scoped rows,
    as RelatedOnlyFieldListFilter does.
    """

    def field_choices(self, field, request, model_admin):
        related = field.related_model
        queryset = scoped_related_queryset(related, request.user)
        if queryset is None or not (field.many_to_one or field.one_to_one) or not field.concrete:
            return RelatedOnlyFieldListFilter.field_choices(self, field, request, model_admin)
        ordering = self.field_admin_ordering(field, request, model_admin)
        if ordering:
            queryset = queryset.order_by(*ordering)
        queryset = queryset.complex_filter(field.get_limit_choices_to() or {})
        value_attname = field.target_field.attname
        return [(getattr(obj, value_attname), str(obj)) for obj in queryset]


def scoped_list_filter(model, list_filter):
    """`list_filter` with every related-object filter replaced by the scoped one."""
    scoped = []
    for item in list_filter:
        if isinstance(item, str):
            try:
                field = get_fields_from_path(model, item)[-1]
            except (FieldDoesNotExist, LookupError):
                scoped.append(item)
                continue
            if field.is_relation:
                scoped.append((item, ScopedRelatedFieldListFilter))
                continue
        elif (
            isinstance(item, (list, tuple))
            and len(item) == 2
            and item[1] in (RelatedFieldListFilter, RelatedOnlyFieldListFilter)
        ):
            scoped.append((item[0], ScopedRelatedFieldListFilter))
            continue
        scoped.append(item)
    return scoped


class ChangeLogHistoryMixin:
    """The admin "history" page of an object shows our change log for it (scoped).

    For any ModelAdmin (PlanDataAdmin has it; PlanAdmin takes it as a mixin). The object is
    found through get_queryset(), so an object outside the user's scope answers as one that
    does not exist.
    """

    object_history_template = "admin/perfplan/changelog_object_history.html"
    history_per_page = HISTORY_PER_PAGE

    def history_view(self, request, object_id, extra_context=None):
        from django.contrib.admin.views.main import PAGE_VAR

        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        entries = object_log_entries(request.user, obj).select_related("department")
        paginator = Paginator(entries, self.history_per_page)
        page = paginator.get_page(request.GET.get(PAGE_VAR, 1))
        display = ChangeDisplay(page.object_list)
        rows = [
            (entry, local_time(entry.timestamp), display.rows(entry)) for entry in page.object_list
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": _("Change history: %(object)s") % {"object": obj},
            "subtitle": None,
            "object": obj,
            "opts": self.opts,
            "module_name": str(capfirst(self.opts.verbose_name_plural)),
            "page_obj": page,
            "entry_rows": rows,
            "page_range": paginator.get_elided_page_range(page.number),
            "page_var": PAGE_VAR,
            "pagination_required": paginator.num_pages > 1,
            "can_see_change_log": request.user.has_perm("perfplan.view_changelogentry"),
            "preserved_filters": self.get_preserved_filters(request),
            **(extra_context or {}),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.object_history_template, context)


class ExportFieldsForm(SelectableFieldsExportForm):
    """The export page's column choices as people read them: the column's header where the
    resource names it (실국명), else the model field's verbose name; django-import-export
    writes the attribute name in English ("Updated At", "Name (명칭)")."""

    def _get_field_label(self, resource, field_name):
        field = resource.fields.get(field_name)
        if field is not None and field.column_name != field_name:
            return str(field.column_name)
        try:
            return capfirst(resource._meta.model._meta.get_field(field_name).verbose_name)
        except (AttributeError, FieldDoesNotExist):
            return super()._get_field_label(resource, field_name)


class PlanDataAdmin(OptimisticLockAdminMixin, ChangeLogHistoryMixin, ExportActionModelAdmin):
    """Base of every plan-data admin: department-scoped, with formula-escaped exports."""

    formats = [XLSX, CSV]
    export_formats = [XLSX, CSV]
    export_form_class = ExportFieldsForm
    list_per_page = 100
    list_max_show_all = 1000
    show_full_result_count = False

    # ---------------------------------------------------------------- rows

    def get_queryset(self, request):
        return restrict(super().get_queryset(request), request.user, "view")

    def _can(self, request, action, obj):
        """can(), remembered for the request (the admin asks the same question repeatedly)."""
        cache = request.__dict__.setdefault("_perfplan_can", {})
        key = (action, obj._meta.label_lower, obj.pk)
        if key not in cache:
            cache[key] = can(request.user, action, obj)
        return cache[key]

    def has_view_permission(self, request, obj=None):
        if not super().has_view_permission(request, obj):
            return False
        if obj is None:
            return True
        # Django grants "view" to whoever may change; so do we, within the scope.
        return self._can(request, "view", obj) or self._can(request, "change", obj)

    def has_change_permission(self, request, obj=None):
        if not super().has_change_permission(request, obj):
            return False
        return obj is None or self._can(request, "change", obj)

    def has_delete_permission(self, request, obj=None):
        if not super().has_delete_permission(request, obj):
            return False
        return obj is None or self._can(request, "delete", obj)

    def save_model(self, request, obj, form, change):
        user = request.user
        if change:
            stored = type(obj)._default_manager.filter(pk=obj.pk)
            if not restrict(stored, user, "change").exists():
                raise PermissionDenied
        if not in_department_scope(user, obj, "change" if change else "add"):
            raise PermissionDenied
        super().save_model(request, obj, form, change)

    def delete_model(self, request, obj):
        if not can(request.user, "delete", obj):
            raise PermissionDenied
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        allowed = restrict(queryset, request.user, "delete")
        if allowed.count() != queryset.count():
            raise PermissionDenied
        super().delete_queryset(request, allowed)

    # ---------------------------------------------------------------- forms and filters

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "queryset" not in kwargs:
            base = self.get_field_queryset(kwargs.get("using"), db_field, request)
            scoped = scoped_related_queryset(
                db_field.remote_field.model, request.user, queryset=base
            )
            if scoped is not None:
                kwargs["queryset"] = scoped
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if "queryset" not in kwargs:
            base = self.get_field_queryset(kwargs.get("using"), db_field, request)
            scoped = scoped_related_queryset(
                db_field.remote_field.model, request.user, queryset=base
            )
            if scoped is not None:
                kwargs["queryset"] = scoped
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_list_filter(self, request):
        return scoped_list_filter(self.model, super().get_list_filter(request))

    # ---------------------------------------------------------------- export

    def has_export_permission(self, request):
        return self.has_view_permission(request) and super().has_export_permission(request)

    def get_data_for_export(self, request, queryset, **kwargs):
        # Whatever path produced `queryset` (the list, the action, the change form's
        # export button), only rows the user may see are written.
        queryset = restrict(queryset, request.user, "view")
        return super().get_data_for_export(request, queryset, **kwargs)
