"""Review steps in the staff grid: 제출, 승인, 반려 and a department's whole period.

POST views (tracking:review_cells, tracking:review_period) take every step through
indicators.workflow: roles × own / other department, refusals shown as Korean messages,
a changed id in the POST never touching another department, nothing written on a refusal,
CSRF, and the grid's buttons computed without a query per row.

"Today" is fixed at 2031-04-05 (the first quarter has ended and is still open for entry).
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import reverse

from goals.tests.factories import make_plan
from indicators import workflow
from indicators.models import Result, ResultStatus
from perfplan import roles
from perfplan.models import ChangeLogEntry

from .support import YEAR, departments_of, freeze_today, indicators_of, korean, make_user
from .support import enter as support_enter
from .test_views import _count, _populate, grid

pytestmark = pytest.mark.django_db

CELLS = reverse("tracking:review_cells")
PERIOD = reverse("tracking:review_period")


# ---------------------------------------------------------------- fixtures and helpers


@pytest.fixture
def mine(plan, depts):
    return indicators_of(plan, depts[0])


@pytest.fixture
def their_officer(django_user_model, depts):
    return make_user(django_user_model, "their-officer", roles.OFFICER, [depts[1]])


def enter(user, indicator, value, period="Q1"):
    return support_enter(user, indicator, period, value=value)


def submitted(user, indicator, value=30, period="Q1"):
    result = enter(user, indicator, value, period)
    workflow.submit(user, [result])
    result.refresh_from_db()
    return result


def cell(indicator, period="Q1"):
    return f"{indicator.pk}:{period}"


def post_cells(client, step, *cells, reason=None, **extra):
    data = {"step": step, "cell": list(cells), **extra}
    if reason is not None:
        data["reason"] = reason
    return client.post(CELLS, data, follow=True)


def post_period(client, step, plan, department, period="Q1", **extra):
    data = {"step": step, "plan": plan.pk, "target": f"{department.pk}:{period}", **extra}
    return client.post(PERIOD, data, follow=True)


def shown(response):
    """The messages the redirected page shows."""
    return [str(m) for m in response.context["messages"]]


def status_of(indicator, period="Q1"):
    return Result.objects.get(indicator=indicator, period=period).status


def log(result):
    return list(
        ChangeLogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(Result), object_id=str(result.pk)
        )
        .order_by("sequence")
        .values_list("action", "username", "reason")
    )


NOT_FOUND = "A result to review does not exist or is not one you may see; nothing was changed."
NOT_THEIRS = "This department is not one whose results you may review or submit."


# ---------------------------------------------------------------- one cell: submit


def test_officer_submits_a_cell_of_their_department(client, officer, mine):
    result = enter(officer, mine[0], 30)
    client.force_login(officer)
    response = post_cells(client, "submit", cell(mine[0]))
    assert response.redirect_chain[-1][0] == reverse("tracking:my_department")
    assert shown(response) == ["실적 1건을 제출했습니다."]
    result.refresh_from_db()
    assert result.status == ResultStatus.SUBMITTED and result.submitted_at is not None
    assert log(result)[-1] == ("submit", "officer", "")


def test_officer_cannot_submit_another_departments_cell(client, officer, their_officer, theirs):
    result = enter(their_officer, theirs[0], 30)
    client.force_login(officer)
    response = post_cells(client, "submit", cell(theirs[0]))
    assert shown(response) == [korean(NOT_FOUND)]
    assert status_of(theirs[0]) == ResultStatus.DRAFT
    assert [a for a, *_rest in log(result)] == ["create"]


def test_a_changed_id_among_own_cells_changes_nothing(client, officer, their_officer, mine, theirs):
    own = enter(officer, mine[0], 30)
    enter(their_officer, theirs[0], 40)
    client.force_login(officer)
    response = post_cells(client, "submit", cell(mine[0]), cell(theirs[0]))
    assert shown(response) == [korean(NOT_FOUND)]
    assert status_of(mine[0]) == status_of(theirs[0]) == ResultStatus.DRAFT
    assert [a for a, *_rest in log(own)] == ["create"]


def test_a_result_without_a_value_is_refused_in_korean(client, officer, mine):
    result = enter(officer, mine[0], 30)
    support_enter(officer, mine[0], "Q1", value="")  # emptied again
    client.force_login(officer)
    response = post_cells(client, "submit", cell(mine[0]))
    with_label = korean("%(result)s: a result without a value cannot be submitted.") % {
        "result": result
    }
    assert shown(response) == [with_label]
    assert re.search(r"[가-힣]", with_label)
    assert status_of(mine[0]) == ResultStatus.DRAFT


def test_a_closed_period_refuses_submitting(client, officer, mine, monkeypatch):
    result = enter(officer, mine[0], 30)
    freeze_today(monkeypatch, date(YEAR, 5, 1))  # Q1's deadline (10 April) has passed
    client.force_login(officer)
    response = post_cells(client, "submit", cell(mine[0]))
    [message] = shown(response)
    assert "2031-04-10" in message and str(result) in message
    assert status_of(mine[0]) == ResultStatus.DRAFT


def test_reviewer_and_auditor_cannot_submit(client, officer, reviewer, auditor, mine):
    result = enter(officer, mine[0], 30)
    for user in (reviewer, auditor):
        client.force_login(user)
        response = post_cells(client, "submit", cell(mine[0]))
        assert shown(response) == [
            korean("%(result)s: you may not submit results of this department.")
            % {"result": result}
        ], user
    assert status_of(mine[0]) == ResultStatus.DRAFT


# ---------------------------------------------------------------- one cell: approve, return


def test_reviewer_approves_a_submitted_cell(client, officer, reviewer, mine):
    result = submitted(officer, mine[0])
    client.force_login(reviewer)
    response = post_cells(client, "approve", cell(mine[0]))
    assert shown(response) == ["실적 1건을 승인했습니다."]
    result.refresh_from_db()
    assert (result.status, result.reviewed_by) == (ResultStatus.APPROVED, reviewer)
    assert [a for a, *_rest in log(result)] == ["create", "submit", "approve"]


def test_reviewer_returns_with_a_reason_and_the_officer_sees_it(client, officer, reviewer, mine):
    result = submitted(officer, mine[0])
    client.force_login(reviewer)
    response = post_cells(client, "return", cell(mine[0]), reason="  ")
    assert shown(response) == [korean("A result is returned with a reason.")]
    assert status_of(mine[0]) == ResultStatus.SUBMITTED
    response = post_cells(client, "return", cell(mine[0]), reason="근거자료를 첨부하세요")
    assert shown(response) == ["실적 1건을 반려했습니다."]
    result.refresh_from_db()
    assert (result.status, result.return_reason) == (ResultStatus.RETURNED, "근거자료를 첨부하세요")
    assert log(result)[-1] == ("return", "reviewer", "근거자료를 첨부하세요")

    client.force_login(officer)
    _response, html = grid(client)
    assert f'id="reason-{mine[0].pk}-Q1"' in html and "근거자료를 첨부하세요" in html
    # returned with a value: the officer may submit it again from the cell
    button = re.search(rf'<button[^>]*id="submit-{mine[0].pk}-Q1"[^>]*>', html).group(0)
    assert " hidden" not in button


def test_reviewer_cannot_review_another_department(client, reviewer, their_officer, theirs):
    result = submitted(their_officer, theirs[0])
    client.force_login(reviewer)
    for step in ("approve", "return"):
        response = post_cells(client, step, cell(theirs[0]), reason="x")
        assert shown(response) == [korean(NOT_FOUND)]
    assert status_of(theirs[0]) == ResultStatus.SUBMITTED
    assert [a for a, *_rest in log(result)] == ["create", "submit"]


def test_officer_and_auditor_cannot_review(client, officer, auditor, mine):
    result = submitted(officer, mine[0])
    refusal = korean("%(result)s: you may not review results of this department.") % {
        "result": result
    }
    for user in (officer, auditor):
        client.force_login(user)
        assert shown(post_cells(client, "approve", cell(mine[0]))) == [refusal], user
        assert shown(post_cells(client, "return", cell(mine[0]), reason="x")) == [refusal], user
    assert status_of(mine[0]) == ResultStatus.SUBMITTED


def test_only_a_submitted_result_is_approved(client, officer, reviewer, mine):
    result = enter(officer, mine[0], 30)
    client.force_login(reviewer)
    response = post_cells(client, "approve", cell(mine[0]))
    expected = korean("%(result)s: only a submitted result can be approved (it is %(status)s).")
    [message] = shown(response)
    assert message.startswith(expected.split("%(status)s")[0] % {"result": result})
    assert status_of(mine[0]) == ResultStatus.DRAFT


def test_plan_admin_reviews_every_department(client, plan_admin, their_officer, theirs):
    result = submitted(their_officer, theirs[0])
    client.force_login(plan_admin)
    assert shown(post_cells(client, "approve", cell(theirs[0]))) == ["실적 1건을 승인했습니다."]
    result.refresh_from_db()
    assert result.status == ResultStatus.APPROVED


def test_unreadable_requests_change_nothing(client, officer, mine):
    enter(officer, mine[0], 30)
    client.force_login(officer)
    unreadable = korean("The request could not be read; reload the page and try again.")
    for data in (
        {"step": "unknown", "cell": cell(mine[0])},
        {"step": "submit"},
        {"step": "submit", "cell": "abc:Q1"},
        {"step": "submit", "cell": f"{mine[0].pk}"},
    ):
        assert shown(client.post(CELLS, data, follow=True)) == [unreadable], data
    assert status_of(mine[0]) == ResultStatus.DRAFT
    # reopening is a grid step too (a plan admin's, with a reason): the workflow refuses it
    refused = shown(client.post(CELLS, {"step": "reopen", "cell": cell(mine[0])}, follow=True))
    assert len(refused) == 1 and refused != [unreadable]
    assert status_of(mine[0]) == ResultStatus.DRAFT


# ---------------------------------------------------------------- a department's whole period


def test_officer_submits_the_departments_period(client, officer, plan, depts, mine):
    first = enter(officer, mine[0], 30)
    second = enter(officer, mine[1], 8)
    enter(officer, mine[0], 12, period="Q2")  # another period: left alone
    Result.objects.filter(pk=second.pk).update(status=ResultStatus.RETURNED, return_reason="x")
    client.force_login(officer)
    response = post_period(client, "submit", plan, depts[0])
    assert shown(response) == ["실적 2건을 제출했습니다."]
    assert status_of(mine[0]) == status_of(mine[1]) == ResultStatus.SUBMITTED
    assert status_of(mine[0], "Q2") == ResultStatus.DRAFT
    assert log(first)[-1][:2] == ("submit", "officer")
    # nothing left to submit: said so, nothing written
    response = post_period(client, "submit", plan, depts[0])
    assert shown(response) == [
        korean(
            "%(department)s has no draft or returned result with a value for %(period)s to submit."
        )
        % {"department": plan.departments.get(department=depts[0]).name, "period": "1분기"}
    ]


def test_sample_and_empty_results_are_not_submitted_with_the_period(
    client, officer, plan, depts, mine
):
    enter(officer, mine[0], 30)
    sample = enter(officer, mine[1], 8)
    Result.objects.filter(pk=sample.pk).update(is_sample=True)
    client.force_login(officer)
    assert shown(post_period(client, "submit", plan, depts[0])) == ["실적 1건을 제출했습니다."]
    assert status_of(mine[1]) == ResultStatus.DRAFT


def test_the_period_of_another_department_is_refused(
    client, officer, reviewer, their_officer, plan, depts, theirs
):
    enter(their_officer, theirs[0], 30)
    submitted(their_officer, theirs[1])
    for user, step in ((officer, "submit"), (reviewer, "approve")):
        client.force_login(user)
        assert shown(post_period(client, step, plan, depts[1])) == [korean(NOT_THEIRS)], user
    assert status_of(theirs[0]) == ResultStatus.DRAFT
    assert status_of(theirs[1]) == ResultStatus.SUBMITTED


def test_reviewer_approves_the_whole_period(client, officer, reviewer, plan, depts, mine, theirs):
    submitted(officer, mine[0])
    submitted(officer, mine[1], 8)
    other_period = submitted(officer, mine[0], 12, period="Q2")
    client.force_login(reviewer)
    response = post_period(client, "approve", plan, depts[0])
    assert shown(response) == ["실적 2건을 승인했습니다."]
    assert status_of(mine[0]) == status_of(mine[1]) == ResultStatus.APPROVED
    assert Result.objects.get(pk=other_period.pk).status == ResultStatus.SUBMITTED
    response = post_period(client, "approve", plan, depts[0])
    name = plan.departments.get(department=depts[0]).name
    assert shown(response) == [
        korean("No result of %(department)s for %(period)s waits for approval.")
        % {"department": name, "period": "1분기"}
    ]


def test_officer_cannot_approve_nor_reviewer_submit_the_period(
    client, officer, reviewer, plan, depts, mine
):
    enter(officer, mine[0], 30)
    submitted(officer, mine[1], 8)
    client.force_login(officer)
    [message] = shown(post_period(client, "approve", plan, depts[0]))
    assert message == korean("You may not approve results of %(department)s.") % {
        "department": depts[0]
    }
    assert re.search(r"[가-힣]", message)
    client.force_login(reviewer)
    name = plan.departments.get(department=depts[0]).name
    assert shown(post_period(client, "submit", plan, depts[0])) == [
        korean("You may not submit results of %(department)s.") % {"department": name}
    ]
    assert status_of(mine[0]) == ResultStatus.DRAFT
    assert status_of(mine[1]) == ResultStatus.SUBMITTED


def test_auditor_takes_no_step(client, officer, auditor, plan, depts, mine):
    enter(officer, mine[0], 30)
    submitted(officer, mine[1], 8)
    client.force_login(auditor)
    for step in ("submit", "approve"):
        [message] = shown(post_period(client, step, plan, depts[0]))
        assert re.search(r"[가-힣]", message), step
    assert status_of(mine[0]) == ResultStatus.DRAFT
    assert status_of(mine[1]) == ResultStatus.SUBMITTED


def test_a_closed_period_refuses_the_whole_submit(client, officer, plan, depts, mine, monkeypatch):
    enter(officer, mine[0], 30)
    enter(officer, mine[1], 8)
    freeze_today(monkeypatch, date(YEAR, 5, 1))
    client.force_login(officer)
    messages = shown(post_period(client, "submit", plan, depts[0]))
    assert len(messages) == 2 and all("2031-04-10" in m for m in messages)
    assert status_of(mine[0]) == status_of(mine[1]) == ResultStatus.DRAFT


def test_plan_admin_approves_another_departments_period(
    client, plan_admin, their_officer, plan, depts, theirs
):
    submitted(their_officer, theirs[0])
    client.force_login(plan_admin)
    assert shown(post_period(client, "approve", plan, depts[1])) == ["실적 1건을 승인했습니다."]
    assert status_of(theirs[0]) == ResultStatus.APPROVED


# ---------------------------------------------------------------- the HTTP rules


def test_review_views_are_post_only_need_login_and_csrf(client, officer, plan, depts, mine):
    enter(officer, mine[0], 30)
    response = client.post(CELLS, {"step": "submit", "cell": cell(mine[0])})
    assert response.status_code == 302 and reverse("admin:login") in response["Location"]
    client.force_login(officer)
    assert client.get(CELLS).status_code == 405
    assert client.get(PERIOD).status_code == 405
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(officer)
    assert strict.post(CELLS, {"step": "submit", "cell": cell(mine[0])}).status_code == 403
    assert strict.post(PERIOD, {"step": "submit", "plan": plan.pk}).status_code == 403
    assert status_of(mine[0]) == ResultStatus.DRAFT


def test_a_staff_user_without_a_role_is_refused(client, django_user_model, officer, mine):
    enter(officer, mine[0], 30)
    client.force_login(make_user(django_user_model, "nobody"))
    assert client.post(CELLS, {"step": "submit", "cell": cell(mine[0])}).status_code == 403
    assert status_of(mine[0]) == ResultStatus.DRAFT


def test_back_to_the_grid_with_its_filters_never_elsewhere(client, officer, mine):
    enter(officer, mine[0], 30)
    client.force_login(officer)
    url = reverse("tracking:my_department") + "?year=2031&period=Q1"
    data = {"step": "submit", "cell": cell(mine[0]), "next": url}
    assert client.post(CELLS, data)["Location"] == url
    data["next"] = "https://evil.example/"
    assert client.post(CELLS, data)["Location"] == reverse("tracking:my_department")


# ---------------------------------------------------------------- the grid's buttons


def _tag(html, element, element_id):
    match = re.search(rf'<{element}[^>]*id="{element_id}"[^>]*>', html)
    return match.group(0) if match else None


def test_the_grid_shows_each_role_its_buttons(
    client, officer, reviewer, auditor, their_officer, mine, theirs, depts
):
    enter(officer, mine[0], 30)  # draft with a value
    submitted(officer, mine[1], 8)
    submitted(their_officer, theirs[0])
    first, second = mine
    dept = depts[0].pk

    client.force_login(officer)
    _response, html = grid(client)
    assert 'id="review-submit-form"' in html and 'id="review-approve-form"' not in html
    assert " hidden" not in _tag(html, "button", f"submit-{first.pk}-Q1")
    assert " hidden" in _tag(html, "button", f"submit-{first.pk}-Q2")  # shown once a value is
    assert _tag(html, "button", f"submit-{second.pk}-Q1") is None  # submitted already
    assert " hidden" not in _tag(html, "button", f"submit-period-{dept}-Q1")
    assert " hidden" in _tag(html, "button", f"submit-period-{dept}-Q2")
    assert f'id="approve-{second.pk}-Q1"' not in html
    assert _tag(html, "span", f"state-{first.pk}-Q1") and "작성중" in html

    client.force_login(reviewer)
    _response, html = grid(client)
    assert 'id="review-approve-form"' in html and 'id="review-submit-form"' not in html
    assert _tag(html, "button", f"approve-{second.pk}-Q1")
    assert _tag(html, "textarea", f"return-reason-{second.pk}-Q1")
    assert "required" in _tag(html, "textarea", f"return-reason-{second.pk}-Q1")
    assert _tag(html, "button", f"approve-{first.pk}-Q1") is None  # a draft: nothing to review
    assert 'data-count="1"' in _tag(html, "button", f"approve-period-{dept}-Q1")
    assert f"approve-{theirs[0].pk}-Q1" not in html  # not their department
    assert 'name="csrfmiddlewaretoken"' in html

    client.force_login(auditor)
    _response, html = grid(client)
    assert "review-form" not in html and 'class="review-row' not in html


def test_the_grid_query_count_stays_constant_for_reviewers(client, django_user_model, monkeypatch):
    """The buttons come from the loaded results: 10 or 300 indicators, the same queries."""
    small = make_plan(2031, departments=1, goals=1, policy_goals=2, indicators=5)
    large = make_plan(2032, departments=10, goals=3, policy_goals=2, indicators=5)
    assert (_populate(small), _populate(large)) == (10, 300)
    departments = set(departments_of(small) + departments_of(large))
    reviewing = make_user(django_user_model, "reviewer", roles.REVIEWER, departments)
    submitting = make_user(django_user_model, "officer", roles.OFFICER, departments)
    for user in (reviewing, submitting):
        client.force_login(user)
        counts = []
        for each in (small, large):
            freeze_today(monkeypatch, date(each.fiscal_year, 1, 20))  # M01 open
            url = reverse("tracking:my_department") + f"?year={each.fiscal_year}"
            counts.append(_count(client, url))
        assert counts[0] == counts[1], user
    client.force_login(reviewing)
    html = client.get(reverse("tracking:my_department") + "?year=2032").content.decode()
    submitted_count = Result.objects.in_plan(large).filter(status=ResultStatus.SUBMITTED).count()
    assert html.count('class="review-button approve"') == submitted_count > 100
    # each department, in every frequency's table that has a submitted result of it
    assert html.count('id="approve-period-') >= 10


# ---------------------------------------------------------------- in place (the grid's script)


def test_review_steps_answer_the_grids_script_with_messages_and_rows(
    client, officer, reviewer, plan_admin, mine
):
    """Asked for JSON (grid.js), a step answers its messages and the changed rows as the
    grid renders them, instead of a redirect; the same workflow decides."""
    result = submitted(officer, mine[0])
    client.force_login(reviewer)
    answer = client.post(
        CELLS, {"step": "approve", "cell": cell(mine[0])}, HTTP_ACCEPT="application/json"
    )
    body = answer.json()
    assert answer.status_code == 200 and body["ok"] is True
    assert body["messages"] == [{"level": "success", "text": "실적 1건을 승인했습니다."}]
    assert f'<tr id="row-{mine[0].pk}"' in body["rows"]
    assert re.search(rf'id="state-{mine[0].pk}-Q1">승인', body["rows"])
    assert 'id="grid-lock-reasons"' in body["rows"]
    result.refresh_from_db()
    assert result.status == ResultStatus.APPROVED

    # a refusal is a message; the rows are still sent (as they are), nothing changes
    refused = client.post(
        CELLS, {"step": "approve", "cell": cell(mine[0])}, HTTP_ACCEPT="application/json"
    ).json()
    assert refused["ok"] is False and refused["messages"][0]["level"] == "error"

    # the plan admin reopens it in place, with a reason (the grid shows them the button)
    client.force_login(plan_admin)
    assert f'id="reopen-{mine[0].pk}-Q1"' in grid(client)[1]
    reopened = client.post(
        CELLS,
        {"step": "reopen", "cell": cell(mine[0]), "reason": "재확인"},
        HTTP_ACCEPT="application/json",
    ).json()
    assert reopened["ok"] is True
    assert re.search(rf'id="state-{mine[0].pk}-Q1">작성중', reopened["rows"])
    result.refresh_from_db()
    assert result.status == ResultStatus.DRAFT
