"""API tokens in the admin: plan admins create them for the people they manage (shown once)
and revoke them; nothing else changes a token, and none is deleted (the change log names
them)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from perfplan.people import PeopleDenied, manages_people

from . import tokens
from .models import ApiToken


class NewTokenForm(forms.Form):
    user = forms.ModelChoiceField(
        label=gettext_lazy("user"), queryset=get_user_model().objects.filter(is_active=True)
    )
    name = forms.CharField(
        label=gettext_lazy("name"),
        max_length=100,
        help_text=gettext_lazy("What calls the API with it (e.g. 예산 시스템)."),
    )
    reason = forms.CharField(label=gettext_lazy("reason"), widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.actor = actor
        self.fields["user"].queryset = self.fields["user"].queryset.order_by("username")

    def clean_user(self):
        user = self.cleaned_data["user"]
        if not tokens.may_create_for(self.actor, user):
            raise forms.ValidationError(
                _("You may not manage API tokens of %(user)s.") % {"user": user.get_username()}
            )
        return user


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "user",
        "prefix",
        "created_at",
        "created_by",
        "last_used_at",
        "revoked_at",
    )
    list_select_related = ("user", "created_by")
    list_filter = ("revoked_at",)
    search_fields = ("name", "prefix", "user__username")
    readonly_fields = (
        "user",
        "name",
        "prefix",
        "created_by",
        "created_at",
        "last_used_at",
        "revoked_at",
        "revoked_by",
    )
    exclude = ("secret_hash",)
    actions = ["revoke_selected"]

    def has_add_permission(self, request):
        return super().has_add_permission(request) and manages_people(request.user)

    def has_change_permission(self, request, obj=None):
        return False  # nothing of a token changes; revoking is an action

    def has_revoke_permission(self, request):
        return request.user.has_perm("api.change_apitoken")

    def has_delete_permission(self, request, obj=None):
        return False

    def add_view(self, request, form_url="", extra_context=None):
        """The form; once made, a page showing the token this once (it is stored hashed)."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = NewTokenForm(request.POST or None, actor=request.user)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("New API token"),
            "form": form,
        }
        if request.method == "POST" and form.is_valid():
            api_token, text = tokens.create_token(
                request.user,
                form.cleaned_data["user"],
                form.cleaned_data["name"],
                form.cleaned_data["reason"],
            )
            context.update(title=_("API token created"), api_token=api_token, token=text)
            response = TemplateResponse(request, "admin/api/apitoken/created.html", context)
            response.headers["Cache-Control"] = "no-store"
            return response
        return TemplateResponse(request, "admin/api/apitoken/add.html", context)

    @admin.action(description=gettext_lazy("Revoke the selected tokens"), permissions=["revoke"])
    def revoke_selected(self, request, queryset):
        done = 0
        for api_token in queryset.select_related("user"):
            try:
                tokens.revoke_token(request.user, api_token, _("revoked in the admin"))
            except PeopleDenied as exc:
                messages.error(request, str(exc))
                continue
            done += 1
        messages.success(
            request,
            ngettext("%(count)s token revoked.", "%(count)s tokens revoked.", done)
            % {"count": done},
        )
