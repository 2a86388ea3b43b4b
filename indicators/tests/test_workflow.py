"""The review workflow of results: every step allowed and refused, by role and by state."""

import ast
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from goals.models import PlanDepartment
from goals.tests.factories import make_plan
from indicators.models import Frequency, Indicator, Result, ResultStatus
from indicators.tests.support import enter, make_user
from indicators.workflow import (
    WorkflowError,
    allowed_actions,
    approve,
    bulk_approve,
    reopen,
    return_result,
    save_result,
    submit,
)
from perfplan import roles
from perfplan.locking import LOADED_VERSION_FIELD, ConcurrentEditError
from perfplan.models import ChangeLogEntry
from perfplan.tests.korean import korean_catalogue, untranslated

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    """Messages are matched by their English msgids, whatever locale/ko translates."""
    with translation.override("en"):
        yield


# A plan year whose periods are all still open for entry today.
YEAR = date.today().year + 1
DRAFT, SUBMITTED, APPROVED, RETURNED = (
    ResultStatus.DRAFT,
    ResultStatus.SUBMITTED,
    ResultStatus.APPROVED,
    ResultStatus.RETURNED,
)


class World:
    """Two departments (A, B) with two indicators each, and one user per role."""

    def __init__(self, django_user_model, year=YEAR, indicators=2):
        self.plan = make_plan(year, departments=2, goals=1, policy_goals=1, indicators=indicators)
        pds = list(self.plan.departments.order_by("position"))
        self.dept_a, self.dept_b = pds[0].department, pds[1].department
        self.ind_a = list(
            Indicator.objects.under(PlanDepartment, pds[0]).order_by("position", "id")
        )
        self.ind_b = list(
            Indicator.objects.under(PlanDepartment, pds[1]).order_by("position", "id")
        )
        u = django_user_model
        self.officer = make_user(u, "officer_a", roles.OFFICER, [self.dept_a])
        self.officer_b = make_user(u, "officer_b", roles.OFFICER, [self.dept_b])
        self.reviewer = make_user(u, "reviewer_a", roles.REVIEWER, [self.dept_a])
        self.reviewer_b = make_user(u, "reviewer_b", roles.REVIEWER, [self.dept_b])
        self.plan_admin = make_user(u, "planadmin", roles.PLAN_ADMIN)
        self.auditor = make_user(u, "auditor", roles.AUDITOR)

    def result(self, status=DRAFT, indicator=None, period="Y", value="10"):
        """A result of department A in `status`, reached through the workflow itself."""
        indicator = indicator or self.ind_a[0]
        result = enter(self.officer, indicator, period, value=value)
        if status in (SUBMITTED, APPROVED, RETURNED):
            submit(self.officer, [result])
        if status == APPROVED:
            approve(self.reviewer, [result])
        if status == RETURNED:
            return_result(self.reviewer, result, "근거 자료를 보완하세요")
        return Result.objects.get(pk=result.pk)


@pytest.fixture
def w(django_user_model):
    return World(django_user_model)


def log_entries(result, action=None):
    entries = ChangeLogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Result), object_id=str(result.pk)
    )
    if action:
        entries = entries.filter(action=action)
    return list(entries.order_by("sequence"))


# ---------------------------------------------------------------- entering


def test_officer_enters_a_draft_of_their_department(w):
    result = enter(w.officer, w.ind_a[0], "Y", value="1,234.5", note="1차 입력")
    stored = Result.objects.get(pk=result.pk)
    assert stored.status == DRAFT and stored.value == Decimal("1234.5")
    assert stored.entered_by == w.officer and stored.version == 1 and stored.note == "1차 입력"
    [entry] = log_entries(stored)
    assert entry.action == "create" and entry.username == "officer_a"


def test_saving_unchanged_values_writes_nothing(w):
    result = enter(w.officer, w.ind_a[0], "Y", value="5")
    again = enter(w.officer, w.ind_a[0], "Y", value=Decimal("5.0000"), note="")
    assert again.pk == result.pk and Result.objects.get(pk=result.pk).version == 1
    assert len(log_entries(result)) == 1


def test_editing_a_draft_bumps_the_version_and_logs_old_and_new(w):
    result = enter(w.officer, w.ind_a[0], "Y", value="5")
    save_result(w.officer, w.ind_a[0], "Y", value="6", expected_version=1)
    stored = Result.objects.get(pk=result.pk)
    assert (stored.value, stored.version) == (Decimal("6"), 2)
    entry = log_entries(result)[-1]
    assert entry.action == "update" and entry.changes["value"] == ["5", "6"]


@pytest.mark.parametrize("who", ["officer_b", "reviewer", "auditor"])
def test_entering_is_refused_outside_the_officers_departments(w, who):
    user = {"officer_b": w.officer_b, "reviewer": w.reviewer, "auditor": w.auditor}[who]
    with pytest.raises(WorkflowError, match="may not enter results"):
        enter(user, w.ind_a[0], "Y", value="1")
    assert not Result.objects.exists()


def test_editing_someone_elses_department_result_is_refused(w):
    result = w.result()
    with pytest.raises(WorkflowError, match="may not enter results"):
        enter(w.officer_b, w.ind_a[0], "Y", value="2")
    assert Result.objects.get(pk=result.pk).value == Decimal("10")


def test_submitted_results_cannot_be_edited_until_returned(w):
    result = w.result(SUBMITTED)
    for user in (w.officer, w.plan_admin):
        with pytest.raises(WorkflowError, match="submitted and waits for review"):
            enter(user, w.ind_a[0], "Y", value="11")
    assert Result.objects.get(pk=result.pk).value == Decimal("10")


def test_approved_results_are_locked_even_for_plan_admins(w):
    result = w.result(APPROVED)
    for user in (w.officer, w.plan_admin):
        with pytest.raises(WorkflowError, match="approved and locked"):
            enter(user, w.ind_a[0], "Y", value="11")
    assert Result.objects.get(pk=result.pk).value == Decimal("10")


def test_stale_expected_version_is_refused_with_the_newer_value(w):
    result = w.result()
    save_result(w.officer, w.ind_a[0], "Y", value="77", expected_version=1)
    with pytest.raises(ConcurrentEditError) as caught:
        save_result(w.officer, w.ind_a[0], "Y", value="88", expected_version=1)
    assert caught.value.current.value == Decimal("77") and "77" in caught.value.message
    assert Result.objects.get(pk=result.pk).value == Decimal("77")
    with pytest.raises(ConcurrentEditError):  # "there was no result yet", but there is
        save_result(w.officer, w.ind_a[0], "Y", value="88", expected_version=0)


@pytest.mark.parametrize(
    ("frequency", "period", "ok"),
    [
        (Frequency.MONTHLY, "M03", True),
        (Frequency.MONTHLY, "Q1", False),
        (Frequency.QUARTERLY, "Q4", True),
        (Frequency.HALF_YEARLY, "H2", True),
        (Frequency.YEARLY, "M01", False),
        ("", "Y", True),  # a blank frequency is yearly
        ("", "Q1", False),
        (Frequency.MONTHLY, "M13", False),
    ],
)
def test_the_period_must_be_one_of_the_indicators(w, frequency, period, ok):
    indicator = w.ind_a[0]
    indicator.frequency = frequency
    indicator.save()
    if ok:
        assert enter(w.officer, indicator, period, value="1").period == period
    else:
        with pytest.raises(WorkflowError, match="not one of its periods"):
            enter(w.officer, indicator, period, value="1")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("abc", "is not a number"),
        ("1.23456", "decimal places"),
        ("12345678901234567", "too large"),
    ],
)
def test_bad_values_are_refused(w, value, message):
    with pytest.raises(WorkflowError, match=message):
        enter(w.officer, w.ind_a[0], "Y", value=value)
    assert not Result.objects.exists()


# ---------------------------------------------------------------- submit


def test_officer_submits_a_draft(w):
    result = w.result()
    [done] = submit(w.officer, [result])
    stored = Result.objects.get(pk=result.pk)
    assert stored.status == SUBMITTED and stored.submitted_at is not None
    assert stored.version == done.version == 2
    [entry] = log_entries(result, "submit")
    assert entry.changes["status"] == ["draft", "submitted"] and entry.username == "officer_a"


@pytest.mark.parametrize("who", ["officer_b", "reviewer", "auditor"])
def test_submit_is_refused_by_role_and_department(w, who):
    result = w.result()
    user = {"officer_b": w.officer_b, "reviewer": w.reviewer, "auditor": w.auditor}[who]
    with pytest.raises(WorkflowError, match="may not submit"):
        submit(user, [result])
    assert Result.objects.get(pk=result.pk).status == DRAFT


@pytest.mark.parametrize("status", [SUBMITTED, APPROVED])
def test_submit_is_refused_from_the_wrong_state(w, status):
    result = w.result(status)
    with pytest.raises(WorkflowError, match="only a draft or returned result can be submitted"):
        submit(w.officer, [result])
    assert Result.objects.get(pk=result.pk).status == status


def test_a_result_without_a_value_cannot_be_submitted(w):
    result = enter(w.officer, w.ind_a[0], "Y", value=None, note="아직 집계 중")
    with pytest.raises(WorkflowError, match="without a value"):
        submit(w.officer, [result])


def test_a_batch_is_all_or_nothing_and_names_every_refusal(w):
    fine = w.result(indicator=w.ind_a[0])
    done = w.result(SUBMITTED, indicator=w.ind_a[1])
    with pytest.raises(WorkflowError) as caught:
        submit(w.officer, [fine, done])
    assert len(caught.value.messages) == 1 and str(done) in caught.value.messages[0]
    assert Result.objects.get(pk=fine.pk).status == DRAFT  # nothing was submitted


# ---------------------------------------------------------------- approve / return


def test_reviewer_approves_a_submitted_result(w):
    result = w.result(SUBMITTED)
    approve(w.reviewer, [result])
    stored = Result.objects.get(pk=result.pk)
    assert stored.status == APPROVED and stored.reviewed_by == w.reviewer
    assert stored.reviewed_at is not None
    [entry] = log_entries(result, "approve")
    assert entry.username == "reviewer_a"


@pytest.mark.parametrize("who", ["officer", "reviewer_b", "auditor"])
def test_approve_and_return_are_refused_by_role_and_department(w, who):
    result = w.result(SUBMITTED)
    user = {"officer": w.officer, "reviewer_b": w.reviewer_b, "auditor": w.auditor}[who]
    with pytest.raises(WorkflowError, match="may not review"):
        approve(user, [result])
    with pytest.raises(WorkflowError, match="may not review"):
        return_result(user, result, "이유")
    assert Result.objects.get(pk=result.pk).status == SUBMITTED


@pytest.mark.parametrize("status", [DRAFT, RETURNED, APPROVED])
def test_approve_and_return_need_a_submitted_result(w, status):
    result = w.result(status)
    with pytest.raises(WorkflowError, match="only a submitted result can be approved"):
        approve(w.reviewer, [result])
    with pytest.raises(WorkflowError, match="only a submitted result can be returned"):
        return_result(w.reviewer, result, "이유")
    assert Result.objects.get(pk=result.pk).status == status


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_return_needs_a_reason(w, reason):
    result = w.result(SUBMITTED)
    with pytest.raises(WorkflowError, match="returned with a reason"):
        return_result(w.reviewer, result, reason)
    assert Result.objects.get(pk=result.pk).status == SUBMITTED


def test_returned_then_edited_then_resubmitted(w):
    result = w.result(SUBMITTED)
    return_result(w.reviewer, result, "근거 자료를 보완하세요")
    stored = Result.objects.get(pk=result.pk)
    assert stored.status == RETURNED and stored.return_reason == "근거 자료를 보완하세요"
    [entry] = log_entries(result, "return")
    assert entry.reason == "근거 자료를 보완하세요"
    enter(w.officer, w.ind_a[0], "Y", value="12")
    stored = Result.objects.get(pk=result.pk)
    assert stored.status == RETURNED and stored.value == Decimal("12")  # edited, still returned
    submit(w.officer, [stored])
    stored = Result.objects.get(pk=result.pk)
    assert stored.status == SUBMITTED and stored.return_reason == ""
    assert not stored.edited_after_approval


# ---------------------------------------------------------------- reopen


def test_plan_admin_reopens_with_a_reason_and_an_edit_after_approval_shows(w):
    result = w.result(APPROVED)
    reopen(w.plan_admin, result, "감사 지적으로 재검토")
    stored = Result.objects.get(pk=result.pk)
    assert stored.status == DRAFT and not stored.edited_after_approval
    [entry] = log_entries(result, "reopen")
    assert entry.reason == "감사 지적으로 재검토" and entry.username == "planadmin"
    enter(w.officer, w.ind_a[0], "Y", value="10", note="비고만 고침")
    assert not Result.objects.get(pk=result.pk).edited_after_approval  # the value is the same
    enter(w.officer, w.ind_a[0], "Y", value="9.5", note="비고만 고침")
    stored = Result.objects.get(pk=result.pk)
    assert stored.edited_after_approval and stored.value == Decimal("9.5")
    submit(w.officer, [stored])
    approve(w.reviewer, [stored])
    assert Result.objects.get(pk=result.pk).edited_after_approval  # stays visible


def test_a_draft_never_approved_is_not_marked_as_edited_after_approval(w):
    result = w.result(RETURNED)
    enter(w.officer, w.ind_a[0], "Y", value="99")
    assert not Result.objects.get(pk=result.pk).edited_after_approval


@pytest.mark.parametrize("who", ["officer", "reviewer", "auditor"])
def test_only_plan_admins_reopen(w, who):
    result = w.result(APPROVED)
    user = {"officer": w.officer, "reviewer": w.reviewer, "auditor": w.auditor}[who]
    with pytest.raises(WorkflowError, match="only a plan admin can reopen"):
        reopen(user, result, "이유")
    assert Result.objects.get(pk=result.pk).status == APPROVED


def test_reopen_needs_a_reason_and_an_approved_result(w):
    approved = w.result(APPROVED)
    with pytest.raises(WorkflowError, match="needs a reason"):
        reopen(w.plan_admin, approved, " ")
    submitted = w.result(SUBMITTED, indicator=w.ind_a[1])
    with pytest.raises(WorkflowError, match="only an approved result can be reopened"):
        reopen(w.plan_admin, submitted, "이유")
    assert Result.objects.get(pk=approved.pk).status == APPROVED
    assert Result.objects.get(pk=submitted.pk).status == SUBMITTED


def test_plan_admin_may_take_every_step_in_any_department(w):
    # Separation of duties: the admin reviews a result someone else entered and submitted.
    admin = w.plan_admin
    result = enter(w.officer_b, w.ind_b[0], "Y", value="3")
    submit(w.officer_b, [result])
    return_result(admin, result, "다시")
    enter(admin, w.ind_b[0], "Y", value="4")
    submit(admin, [result])
    with pytest.raises(WorkflowError, match="separation of duties"):
        approve(admin, [result])  # they entered and submitted it themselves
    assert Result.objects.get(pk=result.pk).status == SUBMITTED
    w.plan.allow_self_review = True  # a one-person department's plan
    w.plan.save()
    approve(admin, [result])
    reopen(admin, result, "재개")
    assert Result.objects.get(pk=result.pk).status == DRAFT


# ---------------------------------------------------------------- bulk approve


def test_bulk_approve_approves_a_departments_submitted_results_of_one_period(w):
    for indicator in w.ind_a:
        indicator.frequency = Frequency.QUARTERLY
        indicator.save()
    q1 = [w.result(SUBMITTED, indicator=i, period="Q1") for i in w.ind_a]
    draft_q1 = Result.objects.get(pk=q1[1].pk)
    Result.objects.filter(pk=draft_q1.pk).update(status=DRAFT)  # one not submitted
    q2 = w.result(SUBMITTED, indicator=w.ind_a[0], period="Q2")
    w.ind_b[0].frequency = Frequency.QUARTERLY
    w.ind_b[0].save()
    other_department = enter(w.officer_b, w.ind_b[0], "Q1", value="1")
    submit(w.officer_b, [other_department])

    # A plan admin sees every department: the department, not the scope, limits it.
    assert bulk_approve(w.plan_admin, w.plan, w.dept_a, "Q1") == 1
    assert Result.objects.get(pk=q1[0].pk).status == APPROVED
    assert Result.objects.get(pk=draft_q1.pk).status == DRAFT
    assert Result.objects.get(pk=q2.pk).status == SUBMITTED
    assert Result.objects.get(pk=other_department.pk).status == SUBMITTED
    assert len(log_entries(q1[0], "approve")) == 1
    assert bulk_approve(w.reviewer, w.plan, w.dept_a, "Q1") == 0  # nothing left
    Result.objects.filter(pk=draft_q1.pk).update(status=SUBMITTED)
    assert bulk_approve(w.reviewer, w.plan, w.dept_a, "Q1") == 1
    assert Result.objects.get(pk=draft_q1.pk).reviewed_by == w.reviewer


@pytest.mark.parametrize("who", ["reviewer_b", "officer", "auditor"])
def test_bulk_approve_is_refused_outside_the_reviewers_departments(w, who):
    result = w.result(SUBMITTED)
    user = {"reviewer_b": w.reviewer_b, "officer": w.officer, "auditor": w.auditor}[who]
    with pytest.raises(WorkflowError, match="may not approve results of"):
        bulk_approve(user, w.plan, w.dept_a, "Y")
    assert Result.objects.get(pk=result.pk).status == SUBMITTED


# ---------------------------------------------------------------- allowed actions


@pytest.mark.parametrize(
    ("status", "who", "expected"),
    [
        (DRAFT, "officer", {"edit", "submit"}),
        (DRAFT, "reviewer", set()),
        (DRAFT, "plan_admin", {"edit", "submit"}),
        (SUBMITTED, "officer", set()),
        (SUBMITTED, "reviewer", {"approve", "return"}),
        (SUBMITTED, "reviewer_b", set()),
        (SUBMITTED, "plan_admin", {"approve", "return"}),
        (RETURNED, "officer", {"edit", "submit"}),
        (RETURNED, "reviewer", set()),
        (APPROVED, "officer", set()),
        (APPROVED, "reviewer", set()),
        (APPROVED, "plan_admin", {"reopen"}),
        (APPROVED, "auditor", set()),
        (SUBMITTED, "auditor", set()),
    ],
)
def test_allowed_actions(w, status, who, expected):
    result = w.result(status)
    assert allowed_actions(getattr(w, who), result) == expected


# ---------------------------------------------------------------- admin


def test_result_list_has_no_per_row_queries(client, w):
    client.force_login(w.plan_admin)
    url = reverse("admin:indicators_result_changelist") + "?all="
    w.result(indicator=w.ind_a[0])
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    big = make_plan(YEAR + 1, departments=5, goals=1, policy_goals=2, indicators=3)
    for indicator in Indicator.objects.in_plan(big):
        enter(w.plan_admin, indicator, "Y", value="1")
    with CaptureQueriesContext(connection) as large:
        response = client.get(url)
    assert response.context["cl"].result_count == 31
    assert len(small) == len(large)


def test_result_list_shows_only_the_officers_departments(client, w):
    mine = w.result(indicator=w.ind_a[0])
    theirs = enter(w.officer_b, w.ind_b[0], "Y", value="1")
    client.force_login(w.officer)
    response = client.get(reverse("admin:indicators_result_changelist"))
    shown = {r.pk for r in response.context["cl"].result_list}
    assert shown == {mine.pk} and theirs.pk not in shown


def post_action(client, action, results, **extra):
    return client.post(
        reverse("admin:indicators_result_changelist"),
        {"action": action, "_selected_action": [r.pk for r in results], **extra},
        follow=False,
    )


def test_admin_actions_submit_and_approve(client, w):
    a = w.result(indicator=w.ind_a[0])
    b = w.result(SUBMITTED, indicator=w.ind_a[1])
    client.force_login(w.officer)
    response = post_action(client, "submit_selected", [a, b])
    assert response.status_code == 302
    assert Result.objects.get(pk=a.pk).status == SUBMITTED  # b was skipped, with a warning
    client.force_login(w.reviewer)
    post_action(client, "approve_selected", [a, b])
    assert {r.status for r in Result.objects.filter(pk__in=[a.pk, b.pk])} == {APPROVED}


def test_admin_return_asks_for_a_reason_first(client, w):
    result = w.result(SUBMITTED)
    client.force_login(w.reviewer)
    response = post_action(client, "return_selected", [result])
    assert response.status_code == 200 and 'id="reason-action-form"' in response.content.decode()
    assert Result.objects.get(pk=result.pk).status == SUBMITTED
    response = post_action(client, "return_selected", [result], confirm_reason="yes", reason="")
    assert response.status_code == 200 and response.context["form"].errors
    assert Result.objects.get(pk=result.pk).status == SUBMITTED
    response = post_action(
        client, "return_selected", [result], confirm_reason="yes", reason="수치 확인 필요"
    )
    assert response.status_code == 302
    stored = Result.objects.get(pk=result.pk)
    assert stored.status == RETURNED and stored.return_reason == "수치 확인 필요"


def test_admin_reopen_is_offered_to_plan_admins_only(client, w):
    result = w.result(APPROVED)
    client.force_login(w.reviewer)
    page = client.get(reverse("admin:indicators_result_changelist"))
    assert "reopen_selected" not in page.content.decode()
    assert "approve_selected" in page.content.decode()
    client.force_login(w.plan_admin)
    post_action(client, "reopen_selected", [result], confirm_reason="yes", reason="재검토")
    assert Result.objects.get(pk=result.pk).status == DRAFT


def test_admin_approve_whole_period(client, w):
    results = [w.result(SUBMITTED, indicator=i) for i in w.ind_a]
    client.force_login(w.reviewer)
    post_action(client, "approve_whole_period", results[:1])
    assert {r.status for r in Result.objects.all()} == {APPROVED}


def test_admin_value_is_saved_through_the_workflow(client, w):
    result = w.result()
    client.force_login(w.officer)
    url = reverse("admin:indicators_result_change", args=[result.pk])
    page = client.get(url)
    assert f'name="{LOADED_VERSION_FIELD}" value="1"' in page.content.decode()
    data = {"value": "42", "note": "관리 화면에서", LOADED_VERSION_FIELD: "1"}
    assert client.post(url, data).status_code == 302
    stored = Result.objects.get(pk=result.pk)
    assert (stored.value, stored.version, stored.entered_by) == (Decimal("42"), 2, w.officer)
    # The same form again, now stale: refused with the newer value, nothing written.
    data["value"] = "43"
    response = client.post(url, data)
    assert response.status_code == 200
    assert "42" in " ".join(response.context["adminform"].form.non_field_errors())
    assert Result.objects.get(pk=result.pk).value == Decimal("42")


def test_admin_add_result_goes_through_the_workflow(client, w):
    client.force_login(w.officer)
    url = reverse("admin:indicators_result_add")
    response = client.post(url, {"indicator": w.ind_a[0].pk, "period": "Y", "value": "7"})
    assert response.status_code == 302
    stored = Result.objects.get(indicator=w.ind_a[0], period="Y")
    assert stored.entered_by == w.officer and stored.status == DRAFT
    response = client.post(url, {"indicator": w.ind_b[0].pk, "period": "Y", "value": "7"})
    assert response.status_code == 200  # another department's indicator is not a choice
    assert not Result.objects.filter(indicator=w.ind_b[0]).exists()


def test_admin_approved_value_is_read_only(client, w):
    result = w.result(APPROVED)
    client.force_login(w.officer)
    url = reverse("admin:indicators_result_change", args=[result.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert "value" not in page.context["adminform"].form.fields
    client.post(url, {"value": "1", LOADED_VERSION_FIELD: str(result.version)})
    assert Result.objects.get(pk=result.pk).value == Decimal("10")


# ---------------------------------------------------------------- messages


MESSAGE_MODULES = ("perfplan/locking.py", "indicators/locks.py", "indicators/workflow.py")
MESSAGE_MODULES += ("goals/amendments.py", "indicators/admin.py")
GETTEXT_NAMES = {"_", "gettext", "gettext_lazy", "ngettext"}
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def module_msgids(path):
    tree = ast.parse((Path(settings.BASE_DIR) / path).read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in GETTEXT_NAMES
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            yield node.args[0].value


def test_every_workflow_message_reads_in_korean_with_the_same_placeholders():
    """Each refusal of the workflow, locks and amendments, as people read it: the one
    catalogue's Korean (with what is pending a merge)."""
    found = {m for path in MESSAGE_MODULES for m in module_msgids(path)}
    assert len(found) > 30
    with korean_catalogue():
        assert not untranslated(found)
