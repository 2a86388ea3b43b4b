import io
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from goals.amendments import publish
from indicators.demo import add_sample_data
from indicators.models import Indicator, Result
from perfplan import people, roles
from perfplan.changelog import change_context
from perfplan.models import ImportBatch, Plan
from perfplan.planfiles.importer import PLAN_TABLES, PLAN_TEXT, describe, import_plan
from perfplan.planfiles.tables import read_plan_paths
from rollover import demo as demo_years
from rollover.services import describe as describe_roll

SEED_FILES = ("seed_plan_summary.csv", "seed_plan_hierarchy.csv")
DEMO_SOURCE = "demo"  # ImportBatch.source of the demo's loads: how a demo plan is told apart
DEMO_USERS = (
    # username, role, departments (as the seed names them), superuser
    ("planadmin", roles.PLAN_ADMIN, (), False),
    ("officer", roles.OFFICER, ("복지환경국", "보건소"), False),
    ("reviewer", roles.REVIEWER, ("복지환경국",), False),
    ("auditor", roles.AUDITOR, (), False),
    ("admin", None, (), True),
)
DEMO_PASSWORD = "perfplan-demo"


def is_demo_plan(plan):
    """Only the demo ever loaded this year's plan (a real plan import since makes it real
    data; results imports do not count)."""
    batches = ImportBatch.objects.filter(
        fiscal_year=plan.fiscal_year,
        status=ImportBatch.Status.APPLIED,
        summary__kind__in=[PLAN_TABLES.name, PLAN_TEXT.name],
    )
    return (
        batches.filter(source=DEMO_SOURCE).exists()
        and not batches.exclude(source=DEMO_SOURCE).exists()
    )


def remove_demo_plan(plan, reason):
    """Delete the demo plan with everything under it, each deletion logged with `reason`.

    Results protect their indicators: they go first, then the plan and its cascade."""
    with transaction.atomic(), change_context(reason=reason):
        indicators = Indicator.objects.in_plan(plan).values("pk")
        Result.objects.filter(indicator__in=indicators).delete()
        Plan.objects.get(pk=plan.pk).delete()


def _report_text_writer():
    """The results report's own sample writer (reports.samples): sample texts for a closed
    year, the report marked final. Asked before anything is written."""
    try:
        from reports.samples import write_sample_texts
    except ImportError as exc:
        raise demo_years.DemoError(
            _(
                "The results report (the reports app, reports.samples.write_sample_texts) is "
                "missing: the demo's closed sample year needs it for its report."
            )
        ) from exc
    return write_sample_texts


class Command(BaseCommand):
    help = (
        "Load the seed plan (as the current year) and one demo user per role. An existing "
        "demo is left as it is; --reset rebuilds it from the seed."
    )

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, default=None)
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Delete the demo plan (with its results and edits) and load the seed again.",
        )

    def handle(self, *args, year, reset, **options):
        year = year or timezone.localdate().year
        plan = Plan.objects.filter(fiscal_year=year).first()
        if plan is not None and not reset:
            self._leave_as_it_is(plan)
            return
        if plan is not None:
            if not is_demo_plan(plan):
                raise CommandError(
                    _(
                        "The %(year)s plan was not loaded by the demo (it was imported since): "
                        "--reset deletes only a demo plan."
                    )
                    % {"year": year}
                )
            remove_demo_plan(plan, _("Demo reset (load_demo --reset)"))
            self.stdout.write(
                _("The demo plan %(year)s and its results were deleted.") % {"year": year}
            )
        plan = self._load_years(year, reset)
        self._write_logins_header()
        for username, role, departments, superuser in DEMO_USERS:
            self._demo_user(plan, username, role, departments, superuser, exact=reset)
            self._write_login(username, role, departments)
        self._publish_sample_year(year - 1)

    def _publish_sample_year(self, year):
        """The closed sample year was published, as a past year is (by the demo's plan
        admin, through the one publishing rule): the public pages show it."""
        sample = Plan.objects.filter(fiscal_year=year).first()
        if sample is None or not is_demo_plan(sample) or sample.published_at is not None:
            return
        admin = get_user_model()._default_manager.get(username=DEMO_USERS[0][0])
        publish(admin, sample)
        self.stdout.write(
            _("Sample year %(year)s published: the public pages show it.") % {"year": year}
        )

    def _leave_as_it_is(self, plan):
        """An existing plan (and its users) is never touched without --reset."""
        if is_demo_plan(plan):
            message = _(
                "The demo is already loaded (plan %(year)s, published: %(published)s): left "
                "as it is, edits included. To start again from the seed: make demo-reset "
                "(manage.py load_demo --reset)."
            )
        else:
            message = _(
                "A plan for %(year)s already exists and was not loaded by the demo: left as "
                "it is; no sample data or demo users are added."
            )
        published = (
            timezone.localtime(plan.published_at).strftime("%Y-%m-%d")
            if plan.published_at
            else _("not yet")
        )
        self.stdout.write(message % {"year": plan.fiscal_year, "published": published})
        present = set(
            get_user_model()
            ._default_manager.filter(username__in=[u[0] for u in DEMO_USERS])
            .values_list("username", flat=True)
        )
        if not present:
            return
        self._write_logins_header()
        for username, role, departments, _superuser in DEMO_USERS:
            if username in present:
                self._write_login(username, role, departments)
            else:
                missing = _("%(username)s is missing: make demo-reset creates it again.")
                self.stdout.write("  " + missing % {"username": username})

    def _load_years(self, year, reset):
        """A closed sample year (the year before, 예시 자료) with its results report, then
        this year made from it by the roll-forward and updated by importing the seed tables:
        both routes meet. A real plan of the year before is left alone (no sample year)."""
        sample = Plan.objects.filter(fiscal_year=year - 1).first()
        if sample is not None and is_demo_plan(sample) and reset:
            remove_demo_plan(sample, _("Demo reset (load_demo --reset)"))
            self.stdout.write(
                _("The demo plan %(year)s and its results were deleted.") % {"year": year - 1}
            )
            sample = None
        if sample is not None and not is_demo_plan(sample):
            self.stdout.write(
                _("A real %(year)s plan exists: no sample year is made before the demo year.")
                % {"year": year - 1}
            )
            return self._load_seed(year)
        try:
            if sample is None:
                sample = self._sample_year(year - 1, _report_text_writer())
            rolled = demo_years.roll_into(sample, year, DEMO_SOURCE)
        except demo_years.DemoError as exc:
            raise CommandError(str(exc)) from exc
        for line in describe_roll(rolled):
            self.stdout.write(line)
        self.stdout.write(
            _("The %(year)s plan was made from the sample year %(sample)s (baseline + 5 %%).")
            % {"year": year, "sample": year - 1}
        )
        return self._load_seed(year, rolled=True)

    def _sample_year(self, year, write_report_texts):
        """The seed plan as a closed sample year: every period's results approved, its
        results report written and marked final, all marked 예시 자료."""
        plan = self._import_seed(year)
        plan.title = _("Gwangju Seo-gu performance plan (seed) — closed sample year, sample data")
        plan.year_note = _(
            "Sample data (예시 자료): a closed year made by the demo from the seed plan, with "
            "sample results for every period and a sample results report."
        )
        plan.save(update_fields=["title", "year_note"])
        indicators, results = demo_years.close_sample_year(plan)
        texts = write_report_texts(plan, today=demo_years.year_after(plan))
        self.stdout.write(
            _(
                "Sample year %(year)s (marked as such): %(indicators)s indicator definitions, "
                "%(results)s approved results, %(texts)s results report texts."
            )
            % {"year": year, "indicators": indicators, "results": results, "texts": texts}
        )
        return plan

    def _import_seed(self, year):
        paths = [Path(settings.BASE_DIR) / "fixtures" / name for name in SEED_FILES]
        data = read_plan_paths(paths)
        result = import_plan(
            year, data, source=DEMO_SOURCE, files=[(p.name, p.read_bytes()) for p in paths]
        )
        for line in describe(result):
            self.stdout.write(line)
        if not result.ok:
            raise CommandError(_("The seed plan could not be loaded."))
        return result.plan

    def _load_seed(self, year, *, rolled=False):
        plan = self._import_seed(year)
        if rolled or not plan.title:
            plan.title = _("Gwangju Seo-gu performance plan (seed)")
        plan.year_note = _(
            "The source document does not state its fiscal year; the demo loads it as %(year)s."
        ) % {"year": year}
        plan.save(update_fields=["title", "year_note"])
        # The source has no targets or results: sample ones, marked as such in every view.
        if rolled:  # the roll's definitions and targets are kept; results follow them
            summary = demo_years.add_current_year_samples(plan)
        else:
            summary = add_sample_data(plan)
        self.stdout.write(
            _(
                "Sample data (marked as such): %(indicators)s indicator definitions, "
                "%(results)s results."
            )
            % {"indicators": summary.indicators, "results": summary.results}
        )
        return plan

    def _write_logins_header(self):
        self.stdout.write("")
        self.stdout.write(
            _("Demo logins (password for all: %(password)s):") % {"password": DEMO_PASSWORD}
        )

    def _write_login(self, username, role, departments):
        where = ", ".join(departments)
        label = role or _("superuser")
        self.stdout.write(f"  {username:<10} {label}{f' ({where})' if where else ''}")

    def _demo_user(self, plan, username, role, departments, superuser, *, exact=False):
        """The demo user, through perfplan.people (the operator's rights, logged).

        `exact` (a reset): the seed's departments only; otherwise others given since stay."""
        User = get_user_model()
        reason = _("Demo data (load_demo)")
        user = User._default_manager.filter(username=username).first()
        if superuser and user is None:
            # Superusers come from createsuperuser only; the demo's gets its password below.
            # Its English "Superuser created successfully." is not shown: the login line
            # printed next says it in Korean.
            call_command(
                "createsuperuser",
                username=username,
                email=f"{username}@demo.invalid",
                interactive=False,
                stdout=io.StringIO(),
            )
            user = User._default_manager.get(username=username)
        user_roles = (role,) if role else ()
        wanted = [plan.departments.get(name=name).department for name in departments]
        if user is None:
            people.create_user(
                None,
                username,
                reason=reason,
                password=DEMO_PASSWORD,
                roles=user_roles,
                departments=wanted,
            )
            return
        if user_roles:
            people.set_roles(None, user, user_roles, reason)
        kept = () if exact else user.department_assignments.values_list("department_id", flat=True)
        people.set_departments(None, user, {*kept, *(d.pk for d in wanted)}, reason)
        if not user.check_password(DEMO_PASSWORD):
            people.set_password(None, user, DEMO_PASSWORD, reason)
