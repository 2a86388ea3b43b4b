"""send_reminders: officers before a deadline, reviewers what waits for them, officers their
returned results; each reminder once, scoped to the person's departments, safe under two
runs at the same time (PostgreSQL); the admin home's to-do list per role."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from indicators import workflow
from indicators.models import Result
from indicators.tests.support import (
    TODAY,
    YEAR,
    departments_of,
    enter,
    freeze_today,
    indicators_of,
    make_user,
    tracking_plan,
)
from perfplan import roles
from reminders.models import Reminder
from reminders.services import send_reminders
from reminders.todo import todo_items


@pytest.fixture
def today(monkeypatch):
    freeze_today(monkeypatch, TODAY)  # 5 April: Q1's entry deadline, 10 April, is 5 days away
    return TODAY


@pytest.fixture
def plan(today):
    return tracking_plan()


@pytest.fixture
def depts(plan):
    return departments_of(plan)


def _person(django_user_model, name, role, departments):
    user = make_user(django_user_model, name, role, departments)
    user.email = f"{name}@example.go.kr"
    user.save()
    return user


@pytest.fixture
def officer(django_user_model, depts):
    return _person(django_user_model, "officer", roles.OFFICER, [depts[0]])


@pytest.fixture
def other_officer(django_user_model, depts):
    return _person(django_user_model, "other", roles.OFFICER, [depts[1]])


@pytest.fixture
def reviewer(django_user_model, depts):
    return _person(django_user_model, "reviewer", roles.REVIEWER, [depts[0]])


def _messages_to(user):
    return [m for m in mail.outbox if m.to == [user.email]]


@pytest.mark.django_db
def test_officers_are_reminded_once_of_their_own_departments(
    plan, depts, officer, other_officer, today
):
    mine, theirs = indicators_of(plan, depts[0]), indicators_of(plan, depts[1])
    enter(officer, mine[0], "Q1", value="30")  # entered, not submitted: still reminded
    report = send_reminders(today)
    assert report.sent == 2
    [message] = _messages_to(officer)
    for indicator in mine:
        assert indicator.name in message.body
    for indicator in theirs:
        assert indicator.name not in message.body
    [other] = _messages_to(other_officer)
    assert theirs[0].name in other.body and mine[0].name not in other.body
    assert Reminder.objects.filter(user=officer, period="Q1", kind="enter").count() == 1

    mail.outbox.clear()
    again = send_reminders(today)
    assert again.sent == 0 and again.already == 2 and mail.outbox == []
    call_command("send_reminders", "--date", today.isoformat())
    assert mail.outbox == []


@pytest.mark.django_db
def test_no_reminder_before_the_plans_window_or_for_submitted_results(plan, depts, officer, today):
    plan.reminder_days = 2  # 10 April is 5 days away: not yet
    plan.save()
    assert send_reminders(today).sent == 0
    plan.reminder_days = 5
    plan.save()
    mine = indicators_of(plan, depts[0])
    for indicator in mine:
        enter(officer, indicator, "Q1", value="25")
    workflow.submit(officer, Result.objects.filter(indicator__in=mine))
    assert send_reminders(today).sent == 0  # everything submitted


@pytest.mark.django_db
def test_reviewers_hear_what_waits_and_officers_what_was_returned(
    plan, depts, officer, reviewer, today
):
    mine = indicators_of(plan, depts[0])
    for indicator in mine:
        enter(officer, indicator, "Q1", value="25")
    workflow.submit(officer, Result.objects.filter(indicator__in=mine))
    send_reminders(today)
    [review] = _messages_to(reviewer)
    assert mine[0].name in review.body and mine[1].name in review.body
    assert not _messages_to(officer)  # everything of theirs is submitted

    mail.outbox.clear()
    returned = Result.objects.get(indicator=mine[0], period="Q1")
    workflow.return_result(reviewer, returned, "증빙이 빠졌습니다")
    send_reminders(today)
    [notice] = _messages_to(officer)
    assert "증빙이 빠졌습니다" in notice.body and mine[0].name in notice.body
    assert not _messages_to(reviewer)  # the review reminder of Q1 was sent already
    mail.outbox.clear()
    send_reminders(today)
    assert mail.outbox == []

    # corrected, submitted and returned again: a new notice (a new version of the result)
    enter(officer, mine[0], "Q1", value="26")
    workflow.submit(officer, Result.objects.filter(pk=returned.pk))
    workflow.return_result(reviewer, Result.objects.get(pk=returned.pk), "다시 확인하세요")
    send_reminders(today)
    [second] = _messages_to(officer)
    assert "다시 확인하세요" in second.body


@pytest.mark.django_db
def test_people_without_an_address_are_reported(plan, depts, django_user_model, today):
    make_user(django_user_model, "noaddress", roles.OFFICER, [depts[0]])
    report = send_reminders(today)
    assert report.without_email == ["noaddress"] and mail.outbox == []
    assert not Reminder.objects.exists()  # nothing was sent, so nothing is recorded


@pytest.mark.django_db
def test_a_failed_send_records_nothing(plan, officer, today, monkeypatch):
    def refuse(self, fail_silently=False):
        raise OSError("SMTP down")

    monkeypatch.setattr("django.core.mail.EmailMessage.send", refuse)
    with pytest.raises(OSError):
        send_reminders(today)
    assert not Reminder.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_send_each_reminder_once(plan, officer, other_officer, today):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL (SQLite writes one at a time)")
    barrier = threading.Barrier(2)
    errors = []

    def run():
        try:
            barrier.wait(timeout=10)
            send_reminders(today)
        except Exception as exc:  # reported below, with the thread's error
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert len(_messages_to(officer)) == 1 and len(_messages_to(other_officer)) == 1
    assert Reminder.objects.count() == 2


# ---------------------------------------------------------------- the to-do list


@pytest.mark.django_db
def test_todo_list_per_role(plan, depts, officer, reviewer, django_user_model, monkeypatch):
    freeze_today(monkeypatch, date(YEAR, 4, 8))  # Q1 ended, its entry still open
    mine = indicators_of(plan, depts[0])
    enter(officer, mine[0], "Q1", value="25")
    items = todo_items(officer, date(YEAR, 4, 8))
    kinds = {(item.kind, item.count) for item in items}
    assert ("enter", len(mine) - 1) in kinds and ("submit", 1) in kinds
    assert all("period=Q1" in item.url for item in items)
    assert todo_items(reviewer, date(YEAR, 4, 8)) == []  # nothing submitted yet

    workflow.submit(officer, Result.objects.filter(indicator=mine[0]))
    [review] = todo_items(reviewer, date(YEAR, 4, 8))
    assert (review.kind, review.count) == ("review", 1)

    auditor = make_user(django_user_model, "auditor", roles.AUDITOR)
    assert todo_items(auditor, date(YEAR, 4, 8)) == []


@pytest.mark.django_db
def test_admin_home_shows_the_todo_list(client, plan, depts, officer, other_officer, monkeypatch):
    freeze_today(monkeypatch, date(YEAR, 4, 8))
    client.force_login(officer)
    page = client.get(reverse("admin:index"))
    assert page.status_code == 200
    assert 'id="todo-module"' in page.text and 'class="todo-enter"' in page.text
    assert reverse("tracking:my_department") in page.text
    # scoped: the other department's officer has their own list, not this one's count
    mine = indicators_of(plan, depts[0])
    for indicator in mine:
        enter(officer, indicator, "Q1", value="25")
    workflow.submit(officer, Result.objects.filter(indicator__in=mine))
    assert 'id="todo-module"' not in client.get(reverse("admin:index")).text
    client.force_login(other_officer)
    assert 'class="todo-enter"' in client.get(reverse("admin:index")).text


@pytest.mark.django_db
def test_admin_home_queries_do_not_grow_with_the_indicators(
    client, plan, depts, officer, monkeypatch
):
    from decimal import Decimal

    from django.test.utils import CaptureQueriesContext

    from indicators.models import EntryException, Indicator

    freeze_today(monkeypatch, date(YEAR, 11, 20))  # Q1–Q3 past their deadlines, Q4 not ended
    EntryException.objects.create(  # Q2 kept open for the department: its entries are due
        plan=plan, department=depts[0], period="Q2", open_until=date(YEAR, 12, 31), reason="."
    )
    client.force_login(officer)

    def measured():
        client.get(reverse("admin:index"))  # the session and content types, cached after it
        with CaptureQueriesContext(connection) as queries:
            page = client.get(reverse("admin:index"))
        assert page.status_code == 200 and 'class="todo-enter"' in page.text
        return len(queries)

    small = measured()
    policy_goal = indicators_of(plan, depts[0])[0].policy_goal
    for number in range(30):
        indicator = Indicator.objects.create(
            policy_goal=policy_goal,
            name=f"추가 지표 {number}",
            frequency="quarterly",
            aggregation="sum",
            annual_target=Decimal(100),
        )
        Result.objects.create(indicator=indicator, period="Q1", value=5)
    assert measured() == small
