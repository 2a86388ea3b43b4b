"""The review story in a real browser, against the live server, and the auditor's view of it.

An officer enters a quarter's value in the grid and submits it; the department's reviewer
returns it with a reason; the officer sees the reason, fixes the value and submits again;
the reviewer approves the department's whole period; an auditor opens the change log, filters
it to results, searches for the indicator and finds the whole story, in order, with who did
each step (and the reason of the return), as the database has it.

Nothing is frozen: the plan is this year's, and the period is the quarter we are in (a period
is open for entry until its deadline after its end, see indicators.locks). Assertions are on
element ids, attributes and the database; the change log's action names are compared in the
page's own language.
"""

from __future__ import annotations

import os
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import timezone, translation

from goals.tests.factories import make_plan
from indicators import locks
from indicators.models import Indicator, Result, ResultStatus
from perfplan import roles
from perfplan.models import ChangeLogEntry, DepartmentAssignment

from .support import departments_of, indicators_of

PASSWORD = "review-browser-test-1"
REASON = "증빙자료와 실적값이 다릅니다. 2분기 누계로 다시 입력하세요."


@pytest.fixture
def story(transactional_db, django_user_model):
    roles.sync_role_groups(Group, Permission)  # a transactional test may start without them
    today = timezone.localdate()
    plan = make_plan(today.year, departments=2, goals=1, policy_goals=1, indicators=1)
    ours, theirs = departments_of(plan)
    [indicator] = indicators_of(plan, ours)
    Indicator.objects.filter(pk=indicator.pk).update(
        frequency="quarterly", aggregation="sum", annual_target=Decimal(100), unit="건"
    )
    period = f"Q{(today.month - 1) // 3 + 1}"  # the quarter we are in: open for entry
    assert locks.entry_open(plan, ours.pk, period, today)

    def user(name, role, departments=()):
        account = django_user_model.objects.create_user(name, password=PASSWORD, is_staff=True)
        account.groups.add(Group.objects.get(name=role))
        for department in departments:
            DepartmentAssignment.objects.create(user=account, department=department)
        return account

    return {
        "plan": plan,
        "department": ours,
        "indicator": indicator,
        "period": period,
        "officer": user("officer", roles.OFFICER, [ours]),
        "reviewer": user("reviewer", roles.REVIEWER, [ours]),
        "auditor": user("auditor", roles.AUDITOR),
        "theirs": indicators_of(plan, theirs),
    }


def open_grid(tab, live_server):
    tab.goto(f"{live_server.url}{reverse('tracking:my_department')}")
    tab.wait_for_selector("#tracking-grid")


def result_of(story):
    return Result.objects.get(indicator=story["indicator"], period=story["period"])


@pytest.mark.browser
def test_submit_return_resubmit_approve_and_the_auditors_change_log(
    page, browser, live_server, admin_login, story
):
    from playwright.sync_api import expect

    indicator, period = story["indicator"], story["period"]
    key = f"{indicator.pk}-{period}"
    department = story["department"].pk
    contexts = []

    def new_tab(username):
        context = browser.new_context(locale="ko-KR")
        context.set_default_timeout(int(os.environ.get("PERFPLAN_BROWSER_TIMEOUT_MS", "20000")))
        contexts.append(context)
        tab = context.new_page()
        admin_login(tab, username, PASSWORD)
        return tab

    try:
        # ---- the officer enters a value and submits the department's period
        admin_login(page, "officer", PASSWORD)
        open_grid(page, live_server)
        assert page.locator(f"#row-{story['theirs'][0].pk}").count() == 0
        expect(page.locator(f"#submit-{key}")).to_be_hidden()  # nothing to submit yet
        expect(page.locator(f"#approve-{key}")).to_have_count(0)  # officers do not approve
        page.click(f"#cell-{key}")
        page.keyboard.type("42")
        page.keyboard.press("Enter")
        expect(page.locator(f"#cell-{key}")).to_have_attribute("data-saved", "42")
        expect(page.locator(f"#submit-{key}")).to_be_visible()  # shown once a value is saved
        # review steps happen in place (the grid's script posts them; no page load)
        page.click(f"#submit-period-{department}-{period}")
        expect(page.locator(f"#state-{key}")).to_have_class("cell-state submitted")
        expect(page.locator(f"#cell-{key}")).to_have_attribute("readonly", "")
        expect(page.locator("#grid-notice .success")).to_have_count(1)
        assert result_of(story).status == ResultStatus.SUBMITTED

        # ---- the reviewer returns it: a reason is required
        reviewer = new_tab("reviewer")
        open_grid(reviewer, live_server)
        expect(reviewer.locator(f"#approve-{key}")).to_be_visible()
        expect(reviewer.locator(f"#submit-{key}")).to_have_count(0)  # reviewers do not submit
        reviewer.click(f"#return-{key} summary")
        reviewer.click(f"#return-submit-{key}")  # empty: the browser keeps the form
        assert result_of(story).status == ResultStatus.SUBMITTED
        reviewer.fill(f"#return-reason-{key}", REASON)
        reviewer.click(f"#return-submit-{key}")
        expect(reviewer.locator(f"#state-{key}")).to_have_class("cell-state returned")
        returned = result_of(story)
        assert (returned.status, returned.return_reason) == (ResultStatus.RETURNED, REASON)

        # ---- the officer sees why, fixes the value and submits again from the cell
        page.reload()
        page.wait_for_selector("#tracking-grid")
        expect(page.locator(f"#reason-{key}")).to_contain_text(REASON)
        expect(page.locator(f"#state-{key}")).to_have_attribute("title", REASON)
        expect(page.locator(f"#cell-{key}")).not_to_have_attribute("readonly", "")
        page.click(f"#cell-{key}")
        page.keyboard.type("45")
        # pressed at once: the grid saves the typed value first, then submits
        page.click(f"#submit-{key}")
        expect(page.locator(f"#state-{key}")).to_have_class("cell-state submitted")
        expect(page.locator(f"#cell-{key}")).to_have_value("45")
        resubmitted = result_of(story)
        assert (resubmitted.status, resubmitted.value) == (ResultStatus.SUBMITTED, 45)
        assert resubmitted.return_reason == ""

        # ---- the reviewer approves the department's whole period
        reviewer.reload()
        reviewer.wait_for_selector("#tracking-grid")
        expect(reviewer.locator(f"#reason-{key}")).to_have_count(0)
        button = reviewer.locator(f"#approve-period-{department}-{period}")
        expect(button).to_have_attribute("data-count", "1")
        button.click()
        expect(reviewer.locator(f"#state-{key}")).to_have_class("cell-state approved")
        expect(reviewer.locator(f"#approve-{key}")).to_have_count(0)
        approved = result_of(story)
        assert (approved.status, approved.reviewed_by) == (ResultStatus.APPROVED, story["reviewer"])

        # ---- the auditor finds the whole story in the change log
        auditor = new_tab("auditor")
        result_type = ContentType.objects.get_for_model(Result)
        auditor.goto(
            f"{live_server.url}{reverse('admin:perfplan_changelogentry_changelist')}"
            f"?content_type__id__exact={result_type.pk}"
        )
        auditor.fill("#searchbar", indicator.name)
        with auditor.expect_navigation():
            auditor.press("#searchbar", "Enter")
        rows = auditor.locator("#result_list tbody tr")
        expect(rows).to_have_count(6)
        language = auditor.locator("html").get_attribute("lang") or "ko"
        with translation.override(language):
            labels = {str(label): value for value, label in ChangeLogEntry.Action.choices}
        newest_first = [
            (
                labels.get(row.locator(".field-action").inner_text().strip()),
                row.locator(".field-username").inner_text().strip(),
                row.locator(".field-object_link").inner_text().strip(),
            )
            for row in rows.all()
        ]
        story_told = [
            ("create", "officer"),
            ("submit", "officer"),
            ("return", "reviewer"),
            ("update", "officer"),
            ("submit", "officer"),
            ("approve", "reviewer"),
        ]
        assert [(a, u) for a, u, _o in reversed(newest_first)] == story_told
        assert {o for _a, _u, o in newest_first} == {str(approved)}

        # the return's own page carries the reason
        with auditor.expect_navigation():
            rows.nth(3).locator(".field-sequence a").click()
        expect(auditor.locator(".field-reason")).to_contain_text(REASON)

        # ---- and so does the database, in sequence order
        entries = list(
            ChangeLogEntry.objects.filter(
                content_type=result_type, object_id=str(approved.pk)
            ).order_by("sequence")
        )
        assert [(e.action, e.username) for e in entries] == story_told
        assert [e.user_id for e in entries] == [
            story[name].pk
            for name in ("officer", "officer", "reviewer", "officer", "officer", "reviewer")
        ]
        assert [e.reason for e in entries] == ["", "", REASON, "", "", ""]
        assert {e.department_id for e in entries} == {story["department"].pk}
        update = entries[3]
        assert "value" in update.changes and "42" in str(update.changes["value"])
        assert "45" in str(update.changes["value"])
        times = [e.timestamp for e in entries]
        assert times == sorted(times)
    finally:
        for context in contexts:
            context.close()
