"""API tokens: one per other system (or person) that calls the API as a user.

A token is shown once, when a plan admin creates it; only its SHA-256 is stored, found by a
short lookup prefix that is stored in clear (api.tokens). Revoked tokens are kept, so that
every change the log attributes to one still names it.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

PREFIX_LENGTH = 10
HASH_LENGTH = 64


class ApiToken(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="api_tokens",
        help_text=_("The API answers a request with this token as this user, in their scope."),
    )
    name = models.CharField(
        _("name"), max_length=100, help_text=_("What calls the API with it (e.g. 예산 시스템).")
    )
    prefix = models.CharField(_("token prefix"), max_length=PREFIX_LENGTH, unique=True)
    secret_hash = models.CharField(_("SHA-256 of the token"), max_length=HASH_LENGTH)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("revoked by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self):
        return self.revoked_at is None
