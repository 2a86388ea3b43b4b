"""The report's texts go through the rules of results (indicators.workflow's Rules): a table
of steps by status, role and scope run through the texts' service and the text page; versions;
separation of duties; scoping; the change log; a final report locks them."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from indicators import workflow
from indicators.models import ResultStatus
from indicators.tests.support import departments_of, indicators_of, make_user, tracking_plan
from perfplan import roles
from perfplan.locking import ConcurrentEditError
from perfplan.models import ChangeLogEntry
from perfplan.scoping import restrict
from reports import texts
from reports.models import ResultsReport, ResultText

pytestmark = pytest.mark.django_db

DRAFT, SUBMITTED, APPROVED, RETURNED = (
    ResultStatus.DRAFT,
    ResultStatus.SUBMITTED,
    ResultStatus.APPROVED,
    ResultStatus.RETURNED,
)
NONE = "no text"
ALLOWED, REFUSED = "allowed", "refused"

# (status before, who, action, condition, expected): the rows of
# indicators/tests/test_rules_every_way_in.py that apply to a text (no period: no deadline).
RULES = [
    (NONE, "officer", "edit", "", ALLOWED),
    (DRAFT, "officer", "edit", "", ALLOWED),
    (RETURNED, "officer", "edit", "", ALLOWED),
    (SUBMITTED, "officer", "edit", "", REFUSED),
    (APPROVED, "officer", "edit", "", REFUSED),
    (DRAFT, "plan_admin", "edit", "", ALLOWED),
    (SUBMITTED, "plan_admin", "edit", "", REFUSED),
    (DRAFT, "reviewer", "edit", "", REFUSED),
    (DRAFT, "auditor", "edit", "", REFUSED),
    (DRAFT, "other_officer", "edit", "", REFUSED),
    (NONE, "other_officer", "edit", "", REFUSED),
    (DRAFT, "officer", "edit", "no version", REFUSED),
    (DRAFT, "officer", "edit", "stale", REFUSED),
    (DRAFT, "officer", "submit", "", ALLOWED),
    (RETURNED, "officer", "submit", "", ALLOWED),
    (SUBMITTED, "officer", "submit", "", REFUSED),
    (DRAFT, "officer", "submit", "empty", REFUSED),
    (DRAFT, "other_officer", "submit", "", REFUSED),
    (DRAFT, "reviewer", "submit", "", REFUSED),
    (SUBMITTED, "reviewer", "approve", "", ALLOWED),
    (SUBMITTED, "reviewer", "return", "", ALLOWED),
    (DRAFT, "reviewer", "approve", "", REFUSED),
    (SUBMITTED, "officer", "approve", "", REFUSED),
    (SUBMITTED, "other_reviewer", "approve", "", REFUSED),
    (SUBMITTED, "auditor", "approve", "", REFUSED),
    (SUBMITTED, "both", "approve", "", REFUSED),  # wrote and submitted it themselves
    (SUBMITTED, "both", "return", "", REFUSED),
    (SUBMITTED, "both", "approve", "self-review on", ALLOWED),
    (SUBMITTED, "plan_admin", "approve", "", ALLOWED),
    (SUBMITTED, "reviewer", "return", "no reason", REFUSED),
    (APPROVED, "plan_admin", "reopen", "", ALLOWED),
    (APPROVED, "reviewer", "reopen", "", REFUSED),
    (DRAFT, "plan_admin", "reopen", "", REFUSED),
    (DRAFT, "officer", "edit", "final", REFUSED),
    (SUBMITTED, "reviewer", "approve", "final", REFUSED),
]
WAYS = ("service", "page")


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


class World:
    def __init__(self, django_user_model):
        self.plan = tracking_plan()
        a, b = departments_of(self.plan)
        self.indicator = indicators_of(self.plan, a)[0]
        self.theirs = indicators_of(self.plan, b)[0]
        u = django_user_model
        self.users = {
            "officer": make_user(u, "officer", roles.OFFICER, [a]),
            "other_officer": make_user(u, "officer_b", roles.OFFICER, [b]),
            "reviewer": make_user(u, "reviewer", roles.REVIEWER, [a]),
            "other_reviewer": make_user(u, "reviewer_b", roles.REVIEWER, [b]),
            "plan_admin": make_user(u, "planadmin", roles.PLAN_ADMIN),
            "auditor": make_user(u, "auditor", roles.AUDITOR),
            "both": make_user(u, "both", roles.OFFICER, [a]),
        }
        self.users["both"].groups.add(*self.users["reviewer"].groups.all())

    def prepare(self, status, who, condition):
        writer = self.users["both" if who == "both" else "officer"]
        reviewer = self.users["reviewer"]
        text = None
        if status != NONE:
            content = "" if condition == "empty" else "목표 미달"
            text = texts.save_text(
                writer,
                self.indicator,
                shortfall_reason=content,
                improvement_plan=content,
                expected_version=0,
            )
            if status in (SUBMITTED, APPROVED, RETURNED):
                texts.submit(writer, [text])
            if status == APPROVED:
                texts.approve(reviewer, [text])
            if status == RETURNED:
                texts.return_texts(reviewer, [text], "보완하세요")
            text = ResultText.objects.get(pk=text.pk)
        if condition == "self-review on":
            self.plan.allow_self_review = True
            self.plan.save()
        if condition == "final":
            ResultsReport.objects.create(plan=self.plan, is_final=True)
        return text


@pytest.fixture
def world(django_user_model):
    return World(django_user_model)


def _version(text, condition):
    if condition == "no version":
        return None
    current = text.version if text is not None else 0
    if condition == "stale" and text is not None:
        ResultText.objects.filter(pk=text.pk).update(version=text.version + 1)
    return current


def _by_service(world, who, action, text, condition):
    user = world.users[who]
    reason = "" if condition == "no reason" else "사유"
    try:
        if action == "edit":
            texts.save_text(
                user,
                world.indicator,
                shortfall_reason="새 사유",
                improvement_plan="새 방안",
                expected_version=_version(text, condition),
            )
        elif action == "submit":
            texts.submit(user, [text])
        elif action == "approve":
            texts.approve(user, [text])
        elif action == "return":
            texts.return_texts(user, [text], reason)
        elif action == "reopen":
            texts.reopen(user, [text], reason)
    except (workflow.WorkflowError, ConcurrentEditError):
        return REFUSED
    return ALLOWED


def _by_page(world, who, action, text, condition):
    client = Client()
    client.force_login(world.users[who])
    url = reverse("reports:text", args=[world.indicator.pk])
    data = {"action": "save" if action == "edit" else action}
    version = _version(text, condition)
    if version is not None:
        data["version"] = version
    data.update(shortfall_reason="새 사유", improvement_plan="새 방안")
    data["reason"] = "" if condition == "no reason" else "사유"
    before = _state(world)
    response = client.post(url, data)
    if response.status_code in (403, 404):
        return REFUSED
    return ALLOWED if _state(world) != before else REFUSED


def _state(world):
    return list(
        ResultText.objects.filter(indicator=world.indicator).values_list(
            "status", "shortfall_reason", "version"
        )
    )


@pytest.mark.parametrize("way", WAYS)
@pytest.mark.parametrize(("status", "who", "action", "condition", "expected"), RULES)
def test_text_rules(world, way, status, who, action, condition, expected):
    text = world.prepare(status, who, condition)
    run = _by_service if way == "service" else _by_page
    assert run(world, who, action, text, condition) == expected


def test_steps_are_logged_and_auditors_see_them(world):
    officer, reviewer = world.users["officer"], world.users["reviewer"]
    text = texts.save_text(
        officer, world.indicator, shortfall_reason="사유", improvement_plan="", expected_version=0
    )
    text = texts.save_text(
        officer,
        world.indicator,
        shortfall_reason="사유 보완",
        improvement_plan="방안",
        expected_version=text.version,
    )
    texts.submit(officer, [text])
    texts.return_texts(reviewer, [text], "근거를 더 쓰세요")
    entries = ChangeLogEntry.objects.filter(
        content_type__app_label="reports", object_id=str(text.pk)
    ).order_by("sequence")
    assert [e.action for e in entries] == ["create", "update", "submit", "return"]
    assert entries.last().reason == "근거를 더 쓰세요"
    assert entries[1].changes["shortfall_reason"] == ["사유", "사유 보완"]
    auditor = world.users["auditor"]
    assert restrict(ChangeLogEntry.objects.filter(pk__in=entries), auditor).count() == 4
    assert restrict(ResultText.objects.all(), auditor).count() == 1
    # the officer of the other department sees neither the text nor its page
    other = world.users["other_officer"]
    assert not restrict(ResultText.objects.all(), other).exists()
    client = Client()
    client.force_login(other)
    assert client.get(reverse("reports:text", args=[world.indicator.pk])).status_code == 404


def test_officer_writes_only_their_departments_texts(world):
    officer = world.users["officer"]
    with pytest.raises(workflow.WorkflowError):
        texts.save_text(
            officer, world.theirs, shortfall_reason="x", improvement_plan="", expected_version=0
        )
    assert not ResultText.objects.filter(indicator=world.theirs).exists()


def test_a_stale_copy_is_refused_showing_the_newer_text(world):
    officer = world.users["officer"]
    text = texts.save_text(
        officer, world.indicator, shortfall_reason="처음", improvement_plan="", expected_version=0
    )
    texts.save_text(
        officer, world.indicator, shortfall_reason="둘째", improvement_plan="", expected_version=1
    )
    with pytest.raises(ConcurrentEditError) as caught:
        texts.save_text(
            officer,
            world.indicator,
            shortfall_reason="셋째",
            improvement_plan="",
            expected_version=text.version,
        )
    assert caught.value.current.shortfall_reason == "둘째"
