"""`make demo` run again, publishing with a confirmation page, Korean 403/404 in the admin.

Issue 13, item 7 and the error pages of item 4.
"""

from decimal import Decimal
from html.parser import HTMLParser
from io import StringIO

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import translation
from django.views.defaults import permission_denied

from goals.amendments import amend, publish
from goals.tests.factories import load_seed
from indicators.models import Indicator, Result
from indicators.tests.support import make_user
from perfplan.management.commands.load_demo import DEMO_PASSWORD, DEMO_USERS
from perfplan.models import ChangeLogEntry, Plan
from perfplan.roles import OFFICER

pytestmark = pytest.mark.django_db
YEAR = 2026


class Page(HTMLParser):
    """The elements of a page by id: their attributes and text (what a test needs)."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}

    def __init__(self, response):
        super().__init__()
        self.attrs, self.text, self.tags, self._open = {}, {}, [], []
        self.feed(response.content.decode())

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if tag in self.VOID:
            return
        self._open.append((tag, attrs.get("id")))
        if attrs.get("id"):
            self.attrs[attrs["id"]], self.text[attrs["id"]] = attrs, ""

    def handle_endtag(self, tag):
        while self._open:
            if self._open.pop()[0] == tag:
                break

    def handle_data(self, data):
        for _tag, element_id in self._open:
            if element_id:
                self.text[element_id] += data

    def first(self, tag):
        return next((attrs for name, attrs in self.tags if name == tag), None)


def load_demo(*args):
    out = StringIO()
    call_command("load_demo", "--year", str(YEAR), *args, stdout=out)
    return out.getvalue()


def snapshot():
    """Everything the demo writes, and the log's length: equal means nothing was changed."""
    User = get_user_model()
    return (
        list(Plan.objects.values_list("pk", "published_at", "version", "title")),
        list(
            Indicator.objects.order_by("pk").values_list(
                "pk", "annual_target", "original_annual_target", "is_sample", "version"
            )
        ),
        list(Result.objects.order_by("pk").values_list("pk", "value", "status")),
        list(User._default_manager.order_by("pk").values_list("username", "password")),
        sorted(User._default_manager.values_list("username", "department_assignments__department")),
        ChangeLogEntry.objects.count(),
    )


def planadmin():
    return get_user_model()._default_manager.get(username="planadmin")


def test_a_second_run_leaves_a_published_and_edited_demo_as_it_is():
    load_demo()
    first = snapshot()
    plan = Plan.objects.get(fiscal_year=YEAR)
    seed_target_of = dict(Indicator.objects.values_list("pk", "annual_target"))
    indicator = Indicator.objects.in_plan(plan).order_by("pk").first()
    publish(planadmin(), plan)
    amend(planadmin(), indicator, "annual_target", Decimal("4321"), "revised by the council")
    officer = get_user_model()._default_manager.get(username="officer")
    officer.set_password("changed-by-the-officer")
    officer.save()
    edited = snapshot()
    assert edited != first

    out = load_demo()  # no CommandError: `make demo` goes on to runserver

    assert snapshot() == edited
    indicator.refresh_from_db()
    assert indicator.annual_target == Decimal("4321")
    assert indicator.original_annual_target == seed_target_of[indicator.pk]
    assert "demo-reset" in out and DEMO_PASSWORD in out
    for username, *_rest in DEMO_USERS:
        assert username in out  # the logins are printed every time


def test_a_second_run_keeps_the_edits_of_an_unpublished_demo():
    load_demo()
    plan = Plan.objects.get(fiscal_year=YEAR)  # the demo year (the sample year is published)
    indicator = Indicator.objects.in_plan(plan).order_by("pk").first()
    amend(planadmin(), indicator, "annual_target", Decimal("77"))
    result = Result.objects.filter(indicator__in=Indicator.objects.in_plan(plan)).first()
    result.delete()
    edited = snapshot()
    load_demo()
    assert snapshot() == edited


def test_reset_restores_the_seed():
    load_demo()
    seed = snapshot()
    plan = Plan.objects.get(fiscal_year=YEAR)
    indicator = Indicator.objects.in_plan(plan).order_by("pk").first()
    publish(planadmin(), plan)
    amend(planadmin(), indicator, "annual_target", Decimal("4321"), "revised")
    officer = get_user_model()._default_manager.get(username="officer")
    officer.set_password("changed")
    officer.save()
    officer.department_assignments.all().delete()

    out = load_demo("--reset")

    plan = Plan.objects.get(fiscal_year=YEAR)
    assert plan.published_at is None
    names = lambda rows: [row[1:] for row in rows]  # noqa: E731 (new rows, new keys)
    after = snapshot()
    assert names(after[1]) == names(seed[1])  # the sample definitions, unamended
    assert names(after[2]) == names(seed[2])  # the sample results
    assert [u for u, _p in after[3]] == [u for u, _p in seed[3]]
    officer.refresh_from_db()
    assert officer.check_password(DEMO_PASSWORD)
    departments = set(officer.department_assignments.values_list("department__name", flat=True))
    assert departments == {"복지환경국", "보건소"}
    assert DEMO_PASSWORD in out
    # the deletions are in the change log under the reset's reason
    assert ChangeLogEntry.objects.filter(action="delete", content_type__model="plan").exists()


def test_a_plan_not_loaded_by_the_demo_is_never_touched():
    load_seed(YEAR)  # a real import (source "command"/"admin", not the demo)
    before = snapshot()
    load_demo()
    assert snapshot() == before
    assert not get_user_model()._default_manager.filter(username="officer").exists()
    with pytest.raises(CommandError):
        load_demo("--reset")
    assert snapshot() == before


# ---------------------------------------------------------------- publishing asks first


def publish_action(client, plan, **extra):
    return client.post(
        reverse("admin:perfplan_plan_changelist"),
        {"action": "publish_selected", ACTION_CHECKBOX_NAME: [plan.pk], **extra},
        HTTP_ACCEPT_LANGUAGE="ko",
    )


def test_publishing_asks_for_confirmation_first(client, plan_admin_user):
    plan = Plan.objects.create(fiscal_year=YEAR, title="시험 성과계획서")
    client.force_login(plan_admin_user)

    asked = publish_action(client, plan)

    assert asked.status_code == 200
    assert asked.templates[0].name == "admin/perfplan/plan/publish_confirmation.html"
    plan.refresh_from_db()
    assert plan.published_at is None  # nothing published without the confirmation
    html = asked.content.decode()
    assert 'name="post" value="yes"' in html and "시험 성과계획서" in html
    assert 'id="publish-consequences"' in html

    done = publish_action(client, plan, post="yes")

    assert done.status_code == 302
    plan.refresh_from_db()
    assert plan.published_at is not None
    entry = ChangeLogEntry.objects.filter(content_type__model="plan", action="update").last()
    assert entry is not None and "published_at" in entry.changes


def test_the_confirmation_names_what_changes_and_what_is_already_published(client, plan_admin_user):
    fresh = Plan.objects.create(fiscal_year=YEAR, title="새 계획")
    old = Plan.objects.create(fiscal_year=YEAR - 1, title="지난 계획")
    publish(plan_admin_user, old)
    client.force_login(plan_admin_user)
    response = client.post(
        reverse("admin:perfplan_plan_changelist"),
        {"action": "publish_selected", ACTION_CHECKBOX_NAME: [fresh.pk, old.pk]},
    )
    page = Page(response)
    assert page.text["plans-to-publish"].strip() == str(fresh)
    assert str(old) in page.text["plans-already-published"]
    consequences = page.text["publish-consequences"]
    with translation.override("ko"):
        for msgid in (
            "A change of an indicator's target or of a budget then needs a reason for the "
            "amendment.",
            "The published value is kept beside the new one (original and revised), and the "
            "change log records who changed it, when and why.",
        ):
            assert translation.gettext(msgid) in consequences
    # confirming publishes the new plan; the published one stays as it was
    published_on = Plan.objects.get(pk=old.pk).published_at
    publish_action(client, fresh, post="yes")
    assert Plan.objects.get(pk=fresh.pk).published_at is not None
    assert Plan.objects.get(pk=old.pk).published_at == published_on


def test_an_officer_cannot_publish(client, django_user_model):
    plan = Plan.objects.create(fiscal_year=YEAR)
    client.force_login(make_user(django_user_model, "officer-x", OFFICER))
    publish_action(client, plan, post="yes")
    plan.refresh_from_db()
    assert plan.published_at is None


# ---------------------------------------------------------------- 403 and 404 in Korean


def korean(msgid):
    with translation.override("ko"):
        return translation.gettext(msgid)


def test_an_officer_gets_a_korean_403_inside_the_admin_with_a_way_back(client, django_user_model):
    client.force_login(make_user(django_user_model, "officer-y", OFFICER))
    came_from = "http://testserver" + reverse("admin:index") + "?from=here"
    response = client.get(
        reverse("admin:perfplan_plan_import"), HTTP_REFERER=came_from, HTTP_ACCEPT_LANGUAGE="ko"
    )
    assert response.status_code == 403
    page = Page(response)
    assert page.first("html")["lang"] == "ko"
    assert "site-name" in page.attrs  # inside the admin frame (admin/base_site.html)
    assert "user-tools" in page.attrs  # signed in: the logout link stays
    assert page.text["error-title"].strip() == korean("Access denied (403)")
    assert page.text["error-message"].strip() == korean(
        "Your account may not open this page. If your work needs it, ask a plan administrator "
        "for the role or the department."
    )
    assert page.attrs["error-back"]["href"] == reverse("admin:index") + "?from=here"


def test_a_foreign_referer_is_not_offered_as_the_way_back(client, django_user_model):
    client.force_login(make_user(django_user_model, "officer-z", OFFICER))
    response = client.get(
        reverse("admin:perfplan_plan_import"), HTTP_REFERER="https://evil.example/x"
    )
    assert Page(response).attrs["error-back"]["href"] == reverse("admin:index")


def test_a_reason_given_with_the_refusal_is_shown(rf, django_user_model):
    request = rf.get("/admin/somewhere/")
    request.user = django_user_model.objects.create_user("staffer", is_staff=True)
    with translation.override("ko"):
        response = permission_denied(request, PermissionDenied("다른 실국의 실적입니다."))
    assert Page(response).text["error-reason"].strip() == "다른 실국의 실적입니다."


def test_not_signed_in_the_pages_are_plain(client):
    missing = client.get("/nowhere/", HTTP_ACCEPT_LANGUAGE="ko")
    assert missing.status_code == 404
    page = Page(missing)
    assert "site-name" not in page.attrs and page.first("link") is None  # self-contained
    assert page.text["error-title"].strip() == korean("Page not found (404)")
    assert page.attrs["error-back"]["href"] == "/"


def test_a_staff_404_is_inside_the_admin(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("staff404", is_staff=True))
    response = client.get("/admin/perfplan/plan/987654/tables/", HTTP_ACCEPT_LANGUAGE="ko")
    assert response.status_code == 404
    page = Page(response)
    assert "site-name" in page.attrs and "error-message" in page.attrs
    assert page.attrs["error-back"]["href"] == reverse("admin:index")


def test_everything_the_demo_prints_is_korean_first():
    """Issue 13: no "Superuser created successfully." — only logins, commands and the
    password are in Latin letters."""
    import re

    from perfplan.tests.korean import korean_catalogue

    allowed = {"perfplan", "demo", "make", "reset", "manage", "py", "load_demo"}
    allowed |= {username for username, *_rest in DEMO_USERS}
    with korean_catalogue():  # the Korean pending a merge counts
        outputs = (load_demo(), load_demo())
    for out in outputs:
        words = set(re.findall(r"[A-Za-z][A-Za-z_]*", out))
        assert words <= allowed, sorted(words - allowed)
