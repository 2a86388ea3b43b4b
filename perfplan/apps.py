from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PerfplanConfig(AppConfig):
    name = "perfplan"
    verbose_name = _("Performance plan")
    default_auto_field = "django.db.models.BigAutoField"
