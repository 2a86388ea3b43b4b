from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RolloverConfig(AppConfig):
    name = "rollover"
    verbose_name = _("Next year's plan")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # The roll-forward is a kind of the import runner: registered before any
        # confirmation looks its stored preview's kind up.
        from . import services  # noqa: F401
