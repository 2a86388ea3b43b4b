"""Department scoping, everywhere: every role × every endpoint × own and other department.

Two departments, A (부서000) and B (부서001), each with a full branch of plan data, results,
evidence and an entry exception. The roles are an officer and a reviewer of A, an auditor, a
plan admin, a staff user with no role and an anonymous visitor. Every admin list, search,
department filter, add page, object page (change, history, delete), autocomplete, export,
the plan pages, the change log and its export, and the staff views under /admin/tracking/
and /admin/results/ (discovered from indicators/urls*.py) are requested; the answer must be
a refusal (403, 404, 405, or a redirect away) or contain nothing of a department the user
may not see — except the plan summary (tables 가 and 나, on the plan's page, the tables page
and the exports), a public document every role that sees plans reads whole. The user admin's
object pages are checked for an account a plan admin manages and for two they may not. Expectations come from perfplan.roles.ROLE_PERMISSIONS (the role spec) and an
explicit table of whose departments each role reaches, never from perfplan.scoping itself.

The data is built once for the module, inside a transaction rolled back at its end.
"""

from __future__ import annotations

import datetime
import io
import json
import re
from dataclasses import dataclass, field

import openpyxl
import pytest
from django.contrib import admin
from django.contrib.admin.utils import get_fields_from_path
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import FieldDoesNotExist
from django.db import transaction
from django.urls import NoReverseMatch, URLPattern, reverse

from goals.models import PlanDepartment, PolicyGoal, StrategicGoal
from goals.tests.factories import make_plan
from indicators.results_import import SOURCE as RESULTS_SOURCE
from perfplan import roles
from perfplan.changelog import tracked_models
from perfplan.models import ChangeLogEntry, Department, DepartmentAssignment, ImportBatch

pytestmark = pytest.mark.django_db

# ---------------------------------------------------------------- who reaches what

# role -> (group, departments reached: "A", "all" or none)
ROLES = {
    "officer_a": (roles.OFFICER, "A"),
    "reviewer_a": (roles.REVIEWER, "A"),
    "auditor": (roles.AUDITOR, "all"),
    "plan_admin": (roles.PLAN_ADMIN, "all"),
    "staff_no_role": (None, None),
    "anonymous": (None, None),
}


def role_perms(role):
    group = ROLES[role][0]
    return {f"{app}.{codename}" for app, codename in roles.ROLE_PERMISSIONS.get(group, [])}


def may(role, action, label):
    app, model = label.split(".")
    return f"{app}.{action}_{model}" in role_perms(role)


def may_view(role, label):
    return may(role, "view", label) or may(role, "change", label)


def sees_all(role):
    return ROLES[role][1] == "all"


def reaches_a(role):
    return ROLES[role][1] in ("A", "all")


# What must never appear for a role that does not see department B (names as make_plan
# writes them for department index 1, and the B-only texts set below).
OTHER_MARKERS = (
    "부서001",
    "전략목표 1-",
    "정책사업목표 1-",
    "지표 1-",
    "단위사업 1-",
    "증빙B",
    "예외사유B",
    "실적메모B",
    "EVIDENCE-B",
)
# Per model: a text of A's row and of B's row in its pages.
MARKERS = {
    "perfplan.department": ("부서000", "부서001"),
    "goals.plandepartment": ("부서000", "부서001"),
    "goals.strategicgoal": ("전략목표 0-", "전략목표 1-"),
    "goals.policygoal": ("정책사업목표 0-", "정책사업목표 1-"),
    "budgets.unitprogram": ("단위사업 0-", "단위사업 1-"),
    "indicators.indicator": ("지표 0-", "지표 1-"),
    "indicators.periodtarget": ("지표 0-", "지표 1-"),
    "indicators.result": ("지표 0-", "지표 1-"),
    "indicators.evidence": ("증빙A", "증빙B"),
    "indicators.entryexception": ("부서000", "부서001"),
    "perfplan.departmentassignment": ("부서000", "부서001"),
    "perfplan.changelogentry": ("부서000", "부서001"),
}
# Search terms that find B's rows without themselves containing a marker (the search box
# echoes the term).
SEARCH_TERMS = {"perfplan.department": "001", "goals.plandepartment": "001"}
DEFAULT_SEARCH_TERM = "1-0"


# ---------------------------------------------------------------- the data


@dataclass
class World:
    plan: object
    departments: dict
    objects: dict = field(default_factory=dict)  # (label, "own"|"other") -> object
    users: dict = field(default_factory=dict)
    accounts: dict = field(default_factory=dict)  # user admin targets: officer, superuser, …


def _first(queryset):
    obj = queryset.order_by("pk").first()
    assert obj is not None, queryset.model
    return obj


def build_world():
    from budgets.models import UnitProgram
    from indicators.models import EntryException, Evidence, Indicator, PeriodTarget, Result
    from perfplan.roles import sync_role_groups

    sync_role_groups(Group, Permission)
    plan = make_plan(2030, departments=2, goals=1, policy_goals=1, indicators=2, unit_programs=1)
    pd_a = plan.departments.get(name="부서000")
    pd_b = plan.departments.get(name="부서001")
    world = World(plan=plan, departments={"own": pd_a.department, "other": pd_b.department})
    User = get_user_model()
    for role, (group, reach) in ROLES.items():
        if role == "anonymous":
            world.users[role] = None
            continue
        user = User.objects.create_user(role, password="matrix-pw", is_staff=True)
        if group:
            user.groups.add(Group.objects.get(name=group))
        if reach == "A":
            DepartmentAssignment.objects.create(user=user, department=pd_a.department)
        world.users[role] = user
    officer_b = User.objects.create_user("officer_b", password="matrix-pw", is_staff=True)
    officer_b.groups.add(Group.objects.get(name=roles.OFFICER))
    # Accounts the user admin protects from plan admins (perfplan.people).
    world.accounts["officer"] = world.users["officer_a"]
    world.accounts["superuser"] = User.objects.create_superuser("root", "", "matrix-pw")
    other_admin = User.objects.create_user("plan_admin_2", password="matrix-pw", is_staff=True)
    other_admin.groups.add(Group.objects.get(name=roles.PLAN_ADMIN))
    world.accounts["other_plan_admin"] = other_admin

    for which, pd, letter in (("own", pd_a, "A"), ("other", pd_b, "B")):
        dept = pd.department
        goal = _first(StrategicGoal.objects.filter(plan_department=pd))
        policy = _first(PolicyGoal.objects.filter(strategic_goal=goal))
        indicator = _first(Indicator.objects.filter(policy_goal=policy))
        unit = _first(UnitProgram.objects.filter(policy_goal=policy))
        Indicator.objects.filter(pk=indicator.pk).update(frequency="quarterly")
        indicator.refresh_from_db()
        target = PeriodTarget.objects.create(indicator=indicator, period="Q1", target=10)
        result = Result.objects.create(
            indicator=indicator, period="Q1", value=5, note=f"실적메모{letter}"
        )
        content = f"EVIDENCE-{letter}".encode()
        evidence = Evidence.objects.create(
            result=result,
            name=f"증빙{letter}.pdf",
            content_type="application/pdf",
            size=len(content),
            sha256="0" * 64,
            content=content,
        )
        exception = EntryException.objects.create(
            plan=plan,
            department=dept,
            period="Q1",
            open_until=datetime.date(2030, 12, 31),
            reason=f"예외사유{letter}",
        )
        if letter == "A":
            assignment = DepartmentAssignment.objects.get(user__username="officer_a")
        else:
            assignment = DepartmentAssignment.objects.create(user=officer_b, department=dept)
        preview = ImportBatch.objects.create(
            fiscal_year=2030,
            source=RESULTS_SOURCE,
            created_by=assignment.user,
            summary={"counts": {"new": 1}},
        )
        for label, obj in (
            ("perfplan.department", dept),
            ("goals.plandepartment", pd),
            ("goals.strategicgoal", goal),
            ("goals.policygoal", policy),
            ("budgets.unitprogram", unit),
            ("indicators.indicator", indicator),
            ("indicators.periodtarget", target),
            ("indicators.result", result),
            ("indicators.evidence", evidence),
            ("indicators.entryexception", exception),
            ("perfplan.departmentassignment", assignment),
            ("perfplan.importbatch", preview),
        ):
            world.objects[(label, which)] = obj
    for which in ("own", "other"):
        entry = (
            ChangeLogEntry.objects.filter(department=world.departments[which])
            .order_by("-sequence")
            .first()
        )
        assert entry is not None
        world.objects[("perfplan.changelogentry", which)] = entry
    return world


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield build_world()
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


# ---------------------------------------------------------------- answers


def body_text(response):
    """What a person would read in the answer: HTML, JSON (unescaped), csv, xlsx cells."""
    if getattr(response, "streaming", False):
        raw = b"".join(response.streaming_content)
    else:
        raw = response.content
    kind = response.get("Content-Type", "")
    if "spreadsheetml" in kind or raw[:2] == b"PK":
        workbook = openpyxl.load_workbook(io.BytesIO(raw), read_only=True)
        return "\n".join(
            " ".join("" if cell is None else str(cell) for cell in row)
            for sheet in workbook.worksheets
            for row in sheet.iter_rows(values_only=True)
        )
    text = raw.decode("utf-8", "replace")
    if "json" in kind:
        try:
            return json.dumps(json.loads(text), ensure_ascii=False)
        except ValueError:
            return text
    return text


def refused(response, url):
    if response.status_code in (403, 404, 405):
        return True
    if response.status_code in (301, 302, 303):
        target = response["Location"].split("?")[0]
        return target != url.split("?")[0]
    return False


def leaked(text):
    return [marker for marker in OTHER_MARKERS if marker in text]


# ---------------------------------------------------------------- endpoints


@dataclass(frozen=True)
class Case:
    kind: str
    label: str = "-"
    which: str = "-"
    extra: str = ""

    def __str__(self):
        return "-".join(p for p in (self.kind, self.label, self.which, self.extra) if p != "-")


# Department data: the models the change log files under a department (all but the plan).
SCOPED_LABELS = {m._meta.label_lower for m in tracked_models()} - {"perfplan.plan"}
OBJECT_LABELS = sorted(SCOPED_LABELS | {"perfplan.changelogentry"})


def registered():
    return sorted(
        (model._meta.label_lower, model_admin)
        for model, model_admin in admin.site._registry.items()
    )


def department_filter_params(model, model_admin):
    """Query parameters of list filters that pick a perfplan.Department (to ask for B's)."""
    params = []
    for item in model_admin.list_filter:
        path = item[0] if isinstance(item, (list, tuple)) else item
        if not isinstance(path, str):
            continue
        try:
            last = get_fields_from_path(model, path)[-1]
        except (FieldDoesNotExist, LookupError):
            continue
        if last.is_relation and last.related_model is Department:
            params.append(f"{path}__{last.target_field.name}__exact")
    return params


def admin_cases():
    cases = []
    for label, model_admin in registered():
        model = model_admin.model
        cases.append(Case("changelist", label))
        cases.append(Case("add", label))
        if model_admin.search_fields and label in SCOPED_LABELS:
            cases.append(Case("search", label))
        for param in department_filter_params(model, model_admin):
            cases.append(Case("dept_filter", label, extra=param))
        if label in OBJECT_LABELS:
            for which in ("own", "other"):
                for kind in ("change", "history", "delete"):
                    cases.append(Case(kind, label, which))
        for field_name in model_admin.autocomplete_fields:
            cases.append(Case("autocomplete", label, extra=field_name))
        if hasattr(model_admin, "export_action") and label in SCOPED_LABELS:
            cases.append(Case("export", label))
    return cases


PLAN_CASES = [
    Case("plan_change"),
    Case("plan_tables"),
    Case("plan_export", extra="csv"),
    Case("plan_export", extra="json"),
    Case("plan_history"),
    Case("plan_import"),
    Case("import_template"),
    Case("changelog_export"),
    Case("changelog_export", which="other"),
]

# Every object URL of the user admin, for an account a plan admin manages and for two they
# may not (perfplan.people).
USER_CASES = [
    Case("user", which=target, extra=page)
    for target in ("officer", "superuser", "other_plan_admin")
    for page in ("change", "password", "history", "delete")
]

# URL parameter -> the object whose id fills it (by parameter name, or by the URL name for "pk").
PARAM_MODELS = {
    "indicator_id": "indicators.indicator",
    "result_id": "indicators.result",
    "evidence_id": "indicators.evidence",
    "department_id": "perfplan.department",
    "plan_department_id": "goals.plandepartment",
    "policy_goal_id": "goals.policygoal",
    "strategic_goal_id": "goals.strategicgoal",
    "batch_id": "perfplan.importbatch",  # a results preview, made by the department's officer
}
PK_BY_URL_NAME = (
    ("evidence", "indicators.evidence"),
    ("result", "indicators.result"),
    ("indicator", "indicators.indicator"),
    ("department", "perfplan.department"),
)


def _url_params(pattern):
    return re.findall(r"<(?:(\w+):)?(\w+)>", str(pattern.pattern))


def staff_url_cases():
    """The staff views, as they exist now (names read from indicators/urls*.py)."""
    cases = []
    for module_name, namespace in (
        ("indicators.urls", "tracking"),
        ("indicators.urls_results", "results"),
    ):
        try:
            module = __import__(module_name, fromlist=["urlpatterns"])
        except ImportError:
            continue
        for pattern in getattr(module, "urlpatterns", []):
            if not isinstance(pattern, URLPattern) or not pattern.name:
                continue
            name = f"{namespace}:{pattern.name}"
            params = _url_params(pattern)
            if not params:
                cases.append(Case("staff", name))
                continue
            if all(_param_label(name, param) or param == "period" for _conv, param in params):
                for which in ("own", "other"):
                    cases.append(Case("staff", name, which))
            else:
                cases.append(Case("staff", name, extra="unfillable"))
    return cases


def _param_label(url_name, param):
    if param in PARAM_MODELS:
        return PARAM_MODELS[param]
    if param in ("pk", "id", "object_id"):
        for word, label in PK_BY_URL_NAME:
            if word in url_name:
                return label
    return None


CASES = admin_cases() + PLAN_CASES + USER_CASES + staff_url_cases()

# Cells that fail today because of code outside the scoping base, each with what is needed.
# Strict: when the gap is closed the cell passes, the xfail turns into a failure, and the
# entry must be removed here.
KNOWN_GAPS = {}


def matrix():
    for role in ROLES:
        for case in CASES:
            gap = KNOWN_GAPS.get((role, case.kind))
            marks = [pytest.mark.xfail(strict=True, reason=gap)] if gap else []
            yield pytest.param(role, case, marks=marks, id=f"{role}-{case}")


# ---------------------------------------------------------------- the matrix


def url_for(case, world):
    """(url, label of the object it names or None); None when the case cannot be built."""
    if case.kind in ("changelist", "search", "dept_filter", "add", "change", "history", "delete"):
        return model_page_url(case, world)
    if case.kind == "autocomplete":
        app, model = case.label.split(".")
        return (
            reverse("admin:autocomplete")
            + f"?app_label={app}&model_name={model}&field_name={case.extra}&term="
        )
    if case.kind == "export":
        app, model = case.label.split(".")
        return reverse(f"admin:{app}_{model}_export")
    if case.kind == "plan_change":
        return reverse("admin:perfplan_plan_change", args=[world.plan.pk])
    if case.kind == "plan_tables":
        return reverse("admin:perfplan_plan_tables", args=[world.plan.pk])
    if case.kind == "user":
        name = "password_change" if case.extra == "password" else case.extra
        return reverse(f"admin:auth_user_{name}", args=[world.accounts[case.which].pk])
    if case.kind == "plan_export":
        suffix = "format=csv&table=hierarchy" if case.extra == "csv" else "format=json"
        return reverse("admin:perfplan_plan_export", args=[world.plan.pk]) + f"?{suffix}"
    if case.kind == "plan_history":
        return reverse("admin:perfplan_plan_history", args=[world.plan.pk])
    if case.kind == "plan_import":
        return reverse("admin:perfplan_plan_import")
    if case.kind == "import_template":
        return reverse("admin:perfplan_plan_import_template") + "?format=csv"
    if case.kind == "changelog_export":
        url = reverse("admin:perfplan_changelogentry_export")
        if case.which == "other":
            url += f"?department__id__exact={world.departments['other'].pk}"
        return url
    if case.kind == "staff":
        return staff_url(case, world)
    raise AssertionError(case)


def model_page_url(case, world):
    """A model admin's list (searched or filtered), add, change, history or delete page."""
    app, model = case.label.split(".")
    if case.kind in ("changelist", "search", "dept_filter"):
        url = reverse(f"admin:{app}_{model}_changelist")
        if case.kind == "search":
            term = SEARCH_TERMS.get(case.label, DEFAULT_SEARCH_TERM)
            url += f"?q={term}"
        if case.kind == "dept_filter":
            url += f"?{case.extra}={world.departments['other'].pk}"
        return url
    if case.kind == "add":
        return reverse(f"admin:{app}_{model}_add")
    obj = world.objects.get((case.label, case.which)) if case.which != "-" else None
    return reverse(f"admin:{app}_{model}_{case.kind}", args=[obj.pk])


def staff_url(case, world):
    if case.extra == "unfillable":
        return None
    name = case.label
    pattern_params = None
    module = __import__(
        "indicators.urls" if name.startswith("tracking:") else "indicators.urls_results",
        fromlist=["urlpatterns"],
    )
    for pattern in module.urlpatterns:
        if isinstance(pattern, URLPattern) and pattern.name == name.split(":", 1)[1]:
            pattern_params = _url_params(pattern)
    if not pattern_params:
        try:
            return reverse(name)
        except NoReverseMatch:
            return None
    kwargs = {}
    for _conv, param in pattern_params:
        if param == "period":
            kwargs[param] = world.objects[("indicators.result", case.which)].period
            continue
        label = _param_label(name, param)
        kwargs[param] = world.objects[(label, case.which)].pk
    try:
        return reverse(name, kwargs=kwargs)
    except NoReverseMatch:
        return None


@pytest.mark.parametrize("role, case", list(matrix()))
def test_scope(world, client, settings, role, case):
    settings.IMPORT_EXPORT_SKIP_ADMIN_EXPORT_UI = True
    url = url_for(case, world)
    if url is None:
        pytest.skip(f"{case}: no URL can be built for it (yet)")
    user = world.users[role]
    if user is not None:
        client.force_login(user)
    response = client.get(url)
    assert response.status_code < 500, f"{role} {url}: {response.status_code}"
    status_refused = refused(response, url)
    text = "" if status_refused else body_text(response)
    if not sees_all(role) and case.kind not in PUBLIC_PLAN_SUMMARY:
        assert not leaked(text), f"{role} {url} shows another department: {leaked(text)}"
    EXPECT[case.kind](role, case, response, status_refused, text, world, url)


# ---------------------------------------------------------------- expectations by endpoint


def expect_list(role, case, response, status_refused, text, world, url):
    if not may_view(role, case.label):
        assert status_refused, (
            f"{role} may not list {case.label}: {url} answered {response.status_code}"
        )
        return
    assert response.status_code == 200, url
    own, other = MARKERS.get(case.label, (None, None))
    if case.kind == "changelist" and own:
        # The list is filtered, not empty: what the role reaches is there.
        if reaches_a(role):
            assert own in text, f"{role} should see A's {case.label} in {url}"
        if sees_all(role):
            assert other in text, f"{role} should see B's {case.label} in {url}"
    if case.kind == "export" and reaches_a(role):
        rows = [line for line in text.splitlines() if line.strip()]
        assert len(rows) >= (3 if sees_all(role) else 2), f"{role} exported {rows} from {url}"


def expect_add(role, case, response, status_refused, text, world, url):
    if not may(role, "add", case.label):
        assert status_refused, (
            f"{role} may not add {case.label}: {url} answered {response.status_code}"
        )


def expect_object(role, case, response, status_refused, text, world, url):
    in_scope = case.which == "own" and reaches_a(role) or sees_all(role)
    action = "delete" if case.kind == "delete" else "view"
    allowed = may(role, "delete", case.label) if action == "delete" else may_view(role, case.label)
    if case.label == "perfplan.changelogentry" and case.kind == "delete":
        allowed = False  # nobody deletes log entries
    if not (allowed and in_scope):
        assert status_refused, (
            f"{role} {case.kind} {case.label} {case.which}: {url} answered {response.status_code}"
        )
        return
    assert response.status_code == 200, f"{role} {url}: {response.status_code}"
    if case.kind == "change":
        own, other = MARKERS[case.label]
        assert (own if case.which == "own" else other) in text
    if case.kind == "history" and case.label != "perfplan.changelogentry":
        assert 'id="change-history"' in text


def expect_autocomplete(role, case, response, status_refused, text, world, url):
    model_admin = next(a for label, a in registered() if label == case.label)
    remote = model_admin.model._meta.get_field(case.extra).related_model._meta.label_lower
    if not may_view(role, remote):
        assert status_refused, f"{role} autocomplete {case}: {response.status_code}"


# The plan summary (tables 가 and 나) is a public document: every role that sees plans reads
# all of it, on the plan's page, the tables page and the exports (perfplan.roles).
PUBLIC_PLAN_SUMMARY = ("plan_change", "plan_tables", "plan_export")


def expect_plan_page(role, case, response, status_refused, text, world, url):
    if not may_view(role, "perfplan.plan"):
        assert status_refused, f"{role} {url}: {response.status_code}"
        return
    if case.kind in PUBLIC_PLAN_SUMMARY:
        assert response.status_code == 200, f"{role} {url}: {response.status_code}"
    if case.kind in ("plan_tables", "plan_export"):
        assert "지표 1-" in text and "지표 0-" in text
    if case.kind == "plan_change":
        # Every department's table 가 row, and the link to the tables (which open, above).
        assert "부서000" in text and "부서001" in text
        assert reverse("admin:perfplan_plan_tables", args=[world.plan.pk]) in text


def expect_user_page(role, case, response, status_refused, text, world, url):
    """Who reaches which user admin page (the rules of perfplan.people, restated)."""
    manages = role == "plan_admin" and case.which == "officer"
    if case.extra == "delete":
        allowed = False  # nobody deletes users: deactivate
    elif case.extra == "password":
        allowed = manages
    else:  # change (read-only unless managed) and history
        allowed = may_view(role, "auth.user")
    if not allowed:
        assert status_refused, f"{role} {url}: {response.status_code}"
        return
    assert response.status_code == 200, f"{role} {url}: {response.status_code}"
    if case.extra == "change":
        assert ('name="reason"' in text) == manages, f"{role} {url}: editable?"
        assert 'name="is_superuser"' not in text and 'name="user_permissions"' not in text


def expect_plan_import(role, case, response, status_refused, text, world, url):
    if not (may(role, "add", "perfplan.plan") and may(role, "change", "perfplan.plan")):
        assert status_refused, f"{role} {url}: {response.status_code}"
    else:
        assert response.status_code == 200


def expect_template(role, case, response, status_refused, text, world, url):
    if role == "anonymous":
        assert status_refused


def expect_changelog_export(role, case, response, status_refused, text, world, url):
    if not may_view(role, "perfplan.changelogentry"):
        assert status_refused, f"{role} {url}: {response.status_code}"
        return
    assert response.status_code == 200
    assert "부서001" in text
    if case.which == "other":  # filtered by department B: nothing of A
        assert "부서000" not in text
    else:
        assert "부서000" in text


def expect_staff(role, case, response, status_refused, text, world, url):
    if role in ("anonymous", "staff_no_role"):
        assert status_refused, f"{role} {url}: {response.status_code}"
        return
    if case.which == "other" and not sees_all(role):
        assert status_refused, (
            f"{role} {url} (department B's id) answered {response.status_code} instead of a refusal"
        )


EXPECT = {
    "changelist": expect_list,
    "search": expect_list,
    "dept_filter": expect_list,
    "export": expect_list,
    "add": expect_add,
    "change": expect_object,
    "history": expect_object,
    "delete": expect_object,
    "autocomplete": expect_autocomplete,
    "plan_change": expect_plan_page,
    "user": expect_user_page,
    "plan_tables": expect_plan_page,
    "plan_export": expect_plan_page,
    "plan_history": expect_plan_page,
    "plan_import": expect_plan_import,
    "import_template": expect_template,
    "changelog_export": expect_changelog_export,
    "staff": expect_staff,
}


# ---------------------------------------------------------------- the choke points themselves


def test_every_plan_data_admin_is_scoped():
    """Every registered admin of department data derives from PlanDataAdmin."""
    from perfplan.admin_base import PlanDataAdmin

    unscoped = [
        label
        for label, model_admin in registered()
        if label in SCOPED_LABELS and not isinstance(model_admin, PlanDataAdmin)
    ]
    assert unscoped == []


def test_export_data_is_narrowed_whatever_queryset_it_gets(world, rf):
    """get_data_for_export() narrows even an unscoped queryset (a second line behind
    get_queryset, for the change-form export button and any future caller)."""
    from indicators.models import Indicator

    model_admin = admin.site._registry[Indicator]
    request = rf.get("/")
    request.user = world.users["officer_a"]
    data = model_admin.get_data_for_export(request, Indicator.objects.all())
    text = data.export("csv") if hasattr(data, "export") else str(data)
    assert "지표 0-" in text
    assert not leaked(text)


def test_fk_choices_and_filters_list_only_the_scope(world, rf):
    from perfplan.admin_base import ScopedRelatedFieldListFilter

    model_admin = admin.site._registry[PlanDepartment]
    request = rf.get("/")
    request.user = world.users["officer_a"]
    formfield = model_admin.formfield_for_foreignkey(
        PlanDepartment._meta.get_field("department"), request
    )
    names = {str(obj) for obj in formfield.queryset}
    assert names == {"부서000"}
    filters = model_admin.get_list_filter(request)
    assert ("department", ScopedRelatedFieldListFilter) in filters
    spec = ScopedRelatedFieldListFilter(
        PlanDepartment._meta.get_field("department"),
        request,
        {},
        PlanDepartment,
        model_admin,
        "department",
    )
    assert [name for _pk, name in spec.lookup_choices] == ["부서000"]
    request.user = world.users["auditor"]
    spec = ScopedRelatedFieldListFilter(
        PlanDepartment._meta.get_field("department"),
        request,
        {},
        PlanDepartment,
        model_admin,
        "department",
    )
    assert {name for _pk, name in spec.lookup_choices} == {"부서000", "부서001"}


@pytest.mark.parametrize("role", ROLES)
def test_plan_tables_link_is_shown_exactly_where_the_tables_open(world, client, role):
    """perfplan.roles.may_view_plan_tables decides the list's link, the plan page's link and
    inline (every department's table 가 row), the tables page and the exports alike."""
    user = world.users[role]
    if user is not None:
        client.force_login(user)
    tables_url = reverse("admin:perfplan_plan_tables", args=[world.plan.pk])
    opens = client.get(tables_url).status_code == 200
    assert opens == may_view(role, "perfplan.plan")
    for page in (
        reverse("admin:perfplan_plan_changelist"),
        reverse("admin:perfplan_plan_change", args=[world.plan.pk]),
    ):
        response = client.get(page)
        text = response.content.decode() if response.status_code == 200 else ""
        assert (tables_url in text) == opens, f"{role} {page}"
    for query in ("format=xlsx", "format=json", "format=csv&table=summary"):
        export = client.get(
            reverse("admin:perfplan_plan_export", args=[world.plan.pk]) + "?" + query
        )
        assert (export.status_code == 200) == opens, f"{role} {query}"


def test_officer_cannot_save_into_another_department(world, client, rf):
    """A result of A re-pointed at B's indicator: refused by the form's scoped choices, and
    by save_model() when a form lets it through."""
    from django.core.exceptions import PermissionDenied

    from indicators.models import Result

    result = world.objects[("indicators.result", "own")]
    other_indicator = world.objects[("indicators.indicator", "other")]
    client.force_login(world.users["officer_a"])
    url = reverse("admin:indicators_result_change", args=[result.pk])
    form_page = client.get(url)
    assert form_page.status_code == 200
    data = {
        key: value
        for key, value in form_page.context["adminform"].form.initial.items()
        if value is not None
    }
    data["indicator"] = other_indicator.pk
    client.post(url, data)
    assert Result.objects.get(pk=result.pk).indicator_id == result.indicator_id

    # The guard itself, on the base every plan-data admin derives from.
    from perfplan.admin_base import PlanDataAdmin

    model_admin = PlanDataAdmin(Result, admin.site)
    request = rf.post(url)
    request.user = world.users["officer_a"]
    moved = Result.objects.get(pk=result.pk)
    moved.indicator = other_indicator
    with pytest.raises(PermissionDenied):
        model_admin.save_model(request, moved, None, True)
    assert Result.objects.get(pk=result.pk).indicator_id == result.indicator_id
    # The same save of B's own result by A's officer: refused on the stored row.
    theirs = world.objects[("indicators.result", "other")]
    theirs.note = "덮어쓰기"
    with pytest.raises(PermissionDenied):
        model_admin.save_model(request, theirs, None, True)
    assert Result.objects.get(pk=theirs.pk).note == "실적메모B"


# ---------------------------------------------------------------- imports


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("which", ["own", "other"])
def test_nobody_confirms_another_users_results_preview(world, client, role, which):
    """The confirm step writes: a POST with another user's preview id is refused (404) for
    every role, plan admins included, and leaves the preview unconfirmed."""
    preview = world.objects[("perfplan.importbatch", which)]
    user = world.users[role]
    if user is not None:
        client.force_login(user)
    if user is not None and user.pk == preview.created_by_id:
        pytest.skip("the preview's own author (covered in indicators/tests/test_results_import)")
    response = client.post(reverse("results:confirm", args=[preview.pk]))
    assert refused(response, reverse("results:confirm", args=[preview.pk]))
    preview.refresh_from_db()
    assert preview.status == ImportBatch.Status.PREVIEWED
