from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RolloverConfig(AppConfig):
    name = "rollover"
    verbose_name = _("Next year's plan")
    default_auto_field = "django.db.models.BigAutoField"
