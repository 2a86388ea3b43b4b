from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IndicatorsConfig(AppConfig):
    name = "indicators"
    verbose_name = _("Indicators")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import signals

        signals.connect()
        self._name_periods_in_the_change_log()

    @staticmethod
    def _name_periods_in_the_change_log():
        # The change log shows a period as people read it (3월, 2분기), not its key (M03).
        from perfplan.changelog_display import name_values_with

        from .models import EntryException, PeriodTarget, Result
        from .periods import period_label

        for model in (Result, PeriodTarget, EntryException):
            name_values_with(model, "period", period_label)
