"""Public pages."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PublicConfig(AppConfig):
    name = "public"
    verbose_name = _("Public pages")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from perfplan.changelog import entries_committed

        from .cache import on_entries_committed

        entries_committed.connect(on_entries_committed, dispatch_uid="public-cache")
