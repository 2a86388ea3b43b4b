from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ResultsReportConfig(AppConfig):
    name = "reports"
    verbose_name = _("Results reports")
    default_auto_field = "django.db.models.BigAutoField"
