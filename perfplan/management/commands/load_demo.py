from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from indicators.demo import add_sample_data
from perfplan import people, roles
from perfplan.planfiles.importer import describe, import_plan
from perfplan.planfiles.tables import read_plan_paths

SEED_FILES = ("seed_plan_summary.csv", "seed_plan_hierarchy.csv")
DEMO_USERS = (
    # username, role, departments (as the seed names them), superuser
    ("planadmin", roles.PLAN_ADMIN, (), False),
    ("officer", roles.OFFICER, ("복지환경국", "보건소"), False),
    ("reviewer", roles.REVIEWER, ("복지환경국",), False),
    ("auditor", roles.AUDITOR, (), False),
    ("admin", None, (), True),
)
DEMO_PASSWORD = "perfplan-demo"


class Command(BaseCommand):
    help = "Load the seed plan (as the current year) and one demo user per role."

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, default=None)

    def handle(self, *args, year, **options):
        year = year or timezone.localdate().year
        paths = [Path(settings.BASE_DIR) / "fixtures" / name for name in SEED_FILES]
        data = read_plan_paths(paths)
        result = import_plan(
            year, data, source="demo", files=[(p.name, p.read_bytes()) for p in paths]
        )
        for line in describe(result):
            self.stdout.write(line)
        if not result.ok:
            raise CommandError(_("The seed plan could not be loaded."))
        plan = result.plan
        plan.title = plan.title or _("Gwangju Seo-gu performance plan (seed)")
        plan.year_note = _(
            "The source document does not state its fiscal year; the demo loads it as %(year)s."
        ) % {"year": year}
        plan.save(update_fields=["title", "year_note"])
        # The source has no targets or results: sample ones, marked as such in every view.
        summary = add_sample_data(plan)
        self.stdout.write(
            _(
                "Sample data (marked as such): %(indicators)s indicator definitions, "
                "%(results)s results."
            )
            % {"indicators": summary.indicators, "results": summary.results}
        )

        self.stdout.write("")
        self.stdout.write(
            _("Demo logins (password for all: %(password)s):") % {"password": DEMO_PASSWORD}
        )
        superuser_label = _("superuser")
        for username, role, departments, superuser in DEMO_USERS:
            self._demo_user(plan, username, role, departments, superuser)
            where = ", ".join(departments)
            self.stdout.write(
                f"  {username:<10} {role or superuser_label}{f' ({where})' if where else ''}"
            )

    def _demo_user(self, plan, username, role, departments, superuser):
        """The demo user, through perfplan.people (the operator's rights, logged)."""
        User = get_user_model()
        reason = _("Demo data (load_demo)")
        user = User._default_manager.filter(username=username).first()
        if superuser and user is None:
            # Superusers come from createsuperuser only; the demo's gets its password below.
            call_command(
                "createsuperuser",
                username=username,
                email=f"{username}@demo.invalid",
                interactive=False,
                stdout=self.stdout,
            )
            user = User._default_manager.get(username=username)
        roles = (role,) if role else ()
        wanted = [plan.departments.get(name=name).department for name in departments]
        if user is None:
            people.create_user(
                None,
                username,
                reason=reason,
                password=DEMO_PASSWORD,
                roles=roles,
                departments=wanted,
            )
            return
        if roles:
            people.set_roles(None, user, roles, reason)
        # Adds the seed's departments, keeping others given since.
        current = user.department_assignments.values_list("department_id", flat=True)
        people.set_departments(None, user, {*current, *(d.pk for d in wanted)}, reason)
        if not user.check_password(DEMO_PASSWORD):
            people.set_password(None, user, DEMO_PASSWORD, reason)
