from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from goals.importer import describe, import_plan
from goals.tables import read_plan_paths
from indicators.demo import add_sample_data
from perfplan import roles
from perfplan.models import DepartmentAssignment

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

        User = get_user_model()
        self.stdout.write("")
        self.stdout.write(
            _("Demo logins (password for all: %(password)s):") % {"password": DEMO_PASSWORD}
        )
        superuser_label = _("superuser")
        for username, role, departments, superuser in DEMO_USERS:
            user, created = User.objects.get_or_create(username=username)
            user.is_staff = True
            user.is_superuser = superuser
            user.set_password(DEMO_PASSWORD)
            user.save()
            if role:
                user.groups.set([Group.objects.get(name=role)])
            for name in departments:
                department = plan.departments.get(name=name).department
                DepartmentAssignment.objects.get_or_create(user=user, department=department)
            where = ", ".join(departments)
            self.stdout.write(
                f"  {username:<10} {role or superuser_label}{f' ({where})' if where else ''}"
            )
