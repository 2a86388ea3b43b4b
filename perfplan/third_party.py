"""Libraries' apps named in Korean: the admin's sidebar and titles show an app's
verbose_name, which django-axes and django-tasks' database backend leave English ("Axes",
"Tasks Database Backend"). Their models' and fields' names are gettext already and get their
Korean from our catalogue; axes' records are named in words (its own __str__ is English
only: "Attempted Access: 2026-…+00:00")."""

from django.apps import apps
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

# Columns of axes' admin that are methods without a description (shown as "Status").
AXES_COLUMNS = {"status": _("status"), "expiration": _("Expires At")}
# django-tasks' admin names two columns with plain (untranslated) strings.
TASK_COLUMNS = {"formatted_traceback": _("traceback"), "display_run_after": _("run after")}
APP_NAMES = {
    "axes": _("Login attempts"),
    "django_tasks_database": _("Background tasks"),
}


def login_attempt_name(attempt):
    return gettext("Login attempt of %(username)s at %(time)s") % {
        "username": attempt.username or "—",
        "time": timezone.localtime(attempt.attempt_time).strftime("%Y-%m-%d %H:%M"),
    }


def name_in_korean():
    """Called once from PerfplanConfig.ready()."""
    for label, name in APP_NAMES.items():
        if label in apps.app_configs:
            apps.app_configs[label].verbose_name = name
    if "axes" in apps.app_configs:
        for model in apps.get_app_config("axes").get_models():
            if hasattr(model, "attempt_time") and hasattr(model, "username"):
                model.__str__ = login_attempt_name
        from axes import admin as axes_admin

        for admin_class in vars(axes_admin).values():
            for name, label in AXES_COLUMNS.items():
                method = getattr(admin_class, name, None) if isinstance(admin_class, type) else None
                if callable(method) and not hasattr(method, "short_description"):
                    method.short_description = label
    if "django_tasks_database" in apps.app_configs:
        from django_tasks_db import admin as tasks_admin

        for admin_class in vars(tasks_admin).values():
            for name, label in TASK_COLUMNS.items():
                method = getattr(admin_class, name, None) if isinstance(admin_class, type) else None
                if callable(method):
                    method.short_description = label
