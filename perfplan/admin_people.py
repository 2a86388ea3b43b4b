"""People in the admin: users (roles, departments), department assignments, role groups.

Every write goes through perfplan.people, which decides who may do what and logs it; this
module only narrows what the forms offer with the same rules:

- The user forms (add, change, password) offer the roles the actor may grant (the four
  groups by their Korean names), departments, active flag, names, e-mail and a reason. No
  form offers the superuser flag, the staff flag (it follows the roles), raw permissions or
  groups beyond the roles — for superusers neither: superusers come from `createsuperuser`.
- A user the actor may not manage (a superuser, another plan admin, or anyone for those who
  do not manage people) is shown read-only; its password URL answers 403.
- Nobody deletes a user here: deactivate instead (the change log keeps referring to them).
- Department assignments are listed here and changed on the user's page (with a reason).
- Role groups are read-only: their permissions are defined in perfplan.roles.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.admin.widgets import FilteredSelectMultiple
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.forms import (
    AdminPasswordChangeForm,
    AdminUserCreationForm,
    UserChangeForm,
)
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from . import people
from .admin_base import ChangeLogHistoryMixin, PlanDataAdmin
from .changelog import current_context
from .changelog_display import permission_label
from .models import Department, DepartmentAssignment

User = get_user_model()

PERSON_FIELDS = ("first_name", "last_name", "email", "is_active")


class PersonFieldsMixin(forms.Form):
    """Roles, departments and the reason, offered as the actor (class attribute) may."""

    actor = None  # set per request by PersonAdmin.get_form

    roles = forms.MultipleChoiceField(
        label=_("roles"), required=False, widget=forms.CheckboxSelectMultiple
    )
    departments = forms.ModelMultipleChoiceField(
        label=_("departments"),
        queryset=Department.objects.none(),
        required=False,
        widget=FilteredSelectMultiple(_("departments"), is_stacked=False),
    )
    reason = forms.CharField(
        label=_("reason for the change"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Kept in the change log with your name."),
    )

    def _person_fields(self, user):
        self.fields["roles"].choices = [(role, role) for role in people.grantable_roles(self.actor)]
        self.fields["departments"].queryset = Department.objects.order_by("name")
        if user is not None and user.pk is not None:
            self.initial.setdefault("roles", sorted(people.role_names(user)))
            self.initial.setdefault(
                "departments",
                list(user.department_assignments.values_list("department_id", flat=True)),
            )


class PersonCreationForm(PersonFieldsMixin, AdminUserCreationForm):
    class Meta(AdminUserCreationForm.Meta):
        fields = ("username", "first_name", "last_name", "email")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._person_fields(None)


class PersonChangeForm(PersonFieldsMixin, UserChangeForm):
    class Meta(UserChangeForm.Meta):
        fields = ("password", *PERSON_FIELDS)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._person_fields(self.instance)


class PersonPasswordForm(AdminPasswordChangeForm):
    reason = forms.CharField(
        label=_("reason for the change"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Kept in the change log with your name (never the password)."),
    )

    def save(self, commit=True):
        # The admin view gives this form no request: the actor is the request's user, as
        # the change-log middleware recorded it.
        password = (
            self.cleaned_data["password1"]
            if self.cleaned_data.get("set_usable_password", True)
            else None
        )
        return people.set_password(
            current_context().user, self.user, password, self.cleaned_data["reason"]
        )


class PersonAdmin(ChangeLogHistoryMixin, UserAdmin):
    form = PersonChangeForm
    add_form = PersonCreationForm
    change_password_form = PersonPasswordForm
    inlines = []
    actions = None
    list_display = ("username", "first_name", "last_name", "email", "is_active", "roles_display")
    list_filter = ("is_active", "groups")
    add_fieldsets = (
        (None, {"fields": ("username", "usable_password", "password1", "password2")}),
        (_("Personal info"), {"fields": ("first_name", "last_name", "email")}),
        (_("Roles and departments"), {"fields": ("roles", "departments")}),
        (None, {"fields": ("reason",)}),
    )
    change_fieldsets = (
        (None, {"fields": ("username", "password", "is_superuser")}),
        (_("Personal info"), {"fields": ("first_name", "last_name", "email")}),
        (_("Roles and departments"), {"fields": ("is_active", "roles", "departments")}),
        (None, {"fields": ("reason",)}),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    view_fieldsets = (
        (None, {"fields": ("username", "is_superuser")}),
        (_("Personal info"), {"fields": ("first_name", "last_name", "email")}),
        (
            _("Roles and departments"),
            {"fields": ("is_active", "roles_display", "departments_display")},
        ),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")

    @admin.display(description=_("roles"))
    def roles_display(self, obj):
        names = [group.name for group in obj.groups.all() if group.name in people.ROLES]
        return ", ".join(sorted(names)) or "-"

    @admin.display(description=_("departments"))
    def departments_display(self, obj):
        names = obj.department_assignments.values_list("department__name", flat=True)
        return ", ".join(sorted(names)) or "-"

    # ---------------------------------------------------------------- who may

    def has_add_permission(self, request):
        return super().has_add_permission(request) and people.manages_people(request.user)

    def has_change_permission(self, request, obj=None):
        if not super().has_change_permission(request, obj):
            return False
        return obj is None or people.may_manage(request.user, obj)

    def has_delete_permission(self, request, obj=None):
        return False  # deactivate instead

    # ---------------------------------------------------------------- forms

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return self.add_fieldsets
        if self.has_change_permission(request, obj):
            return self.change_fieldsets
        return self.view_fieldsets

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return ("username", "is_superuser", "last_login", "date_joined")

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        # The actor rides on a class made for this request (forms are built per request).
        return type(form.__name__, (form,), {"actor": request.user})

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        actor, reason = request.user, data["reason"]
        if not change:
            password = data["password1"] if data.get("set_usable_password") else None
            user = people.create_user(
                actor,
                obj.username,
                reason=reason,
                password=password,
                first_name=data.get("first_name", ""),
                last_name=data.get("last_name", ""),
                email=data.get("email", ""),
                roles=data["roles"],
                departments=data["departments"],
            )
            obj.pk = user.pk
            obj._state.adding = False
            return
        stored = User._default_manager.get(pk=obj.pk)
        people.update_user(actor, stored, reason=reason, **{k: data[k] for k in PERSON_FIELDS})
        people.set_roles(actor, stored, data["roles"], reason)
        people.set_departments(actor, stored, data["departments"], reason)

    def save_related(self, request, form, formsets, change):
        pass  # roles and departments were written by save_model through perfplan.people

    def user_change_password(self, request, id, form_url=""):
        user = self.get_object(request, unquote(id))
        if user is not None:
            people.deny_unless_may_set_password(request.user, user)
        return super().user_change_password(request, id, form_url)


class DepartmentAssignmentAdmin(PlanDataAdmin):
    """Who works for which department (a person may have several); changed on the user's
    page, where the change goes through perfplan.people with a reason."""

    list_display = ("user", "department", "user_link")
    list_filter = ("department",)
    list_select_related = ("user", "department")
    search_fields = ("user__username", "user__first_name", "user__last_name", "department__name")
    autocomplete_fields = ("user", "department")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("change on the user's page"))
    def user_link(self, obj):
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:auth_user_change", args=[obj.user_id]),
            obj.user,
        )


class RoleGroupAdmin(GroupAdmin):
    """The role groups, read-only: their permissions are defined in perfplan.roles."""

    fields = ("name", "permission_names")
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("permissions"))
    def permission_names(self, obj):
        from django.utils.html import format_html_join

        perms = obj.permissions.select_related("content_type").order_by(
            "content_type__app_label", "codename"
        )
        return format_html_join("", "<div>{}</div>", ((permission_label(p),) for p in perms))


admin.site.register(DepartmentAssignment, DepartmentAssignmentAdmin)
admin.site.unregister(User)
admin.site.register(User, PersonAdmin)
admin.site.unregister(Group)
admin.site.register(Group, RoleGroupAdmin)
