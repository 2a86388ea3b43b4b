from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _sync_roles(sender, using="default", **kwargs):
    from django.contrib.auth.management import create_permissions
    from django.contrib.auth.models import Group, Permission

    from .roles import sync_role_groups

    # Later apps' permissions are created after ours in the same signal; make them now.
    for app_config in apps.get_app_configs():
        create_permissions(app_config, verbosity=0, using=using)
    sync_role_groups(Group, Permission)


class PerfplanConfig(AppConfig):
    name = "perfplan"
    verbose_name = _("Performance plan")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # After every migrate (and test-database flush) the role groups match perfplan.roles.
        post_migrate.connect(_sync_roles, sender=self, dispatch_uid="perfplan_sync_roles")
        from . import checks, signals, third_party  # noqa: F401 (checks: registered on import)

        signals.connect()
        third_party.name_in_korean()
