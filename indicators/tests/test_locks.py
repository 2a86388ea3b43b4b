"""Periods close for entry after their deadline; a plan admin's exception reopens one."""

from datetime import date, timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import translation

from goals.models import PlanDepartment
from goals.tests.factories import make_plan
from indicators.locks import LockError, entry_deadline, entry_open, open_exception
from indicators.models import EntryException, Frequency, Indicator, Result, ResultStatus
from indicators.tests.support import enter, make_user
from indicators.workflow import WorkflowError, approve, return_result, submit
from perfplan import roles
from perfplan.models import ChangeLogEntry, Department

YEAR = 2030
# Q1 2030 ends on 31 March; with the default 10 days its entry deadline is 10 April.
Q1_DEADLINE = date(2030, 4, 10)
BEFORE, ON, AFTER = Q1_DEADLINE - timedelta(days=5), Q1_DEADLINE, Q1_DEADLINE + timedelta(days=1)


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


# ---------------------------------------------------------------- dates


@pytest.mark.django_db
def test_entry_deadline_is_the_period_end_plus_the_plans_days():
    plan = make_plan(YEAR, departments=1, goals=1, policy_goals=1, indicators=1)
    assert entry_deadline(plan, "Q1") == Q1_DEADLINE
    assert entry_deadline(plan, "Y") == date(2031, 1, 10)  # into the next year
    plan.entry_deadline_days = 0
    assert entry_deadline(plan, "M02") == date(2030, 2, 28)


# ---------------------------------------------------------------- open or closed


class World:
    def __init__(self, django_user_model):
        self.plan = make_plan(YEAR, departments=2, goals=1, policy_goals=1, indicators=1)
        pds = list(self.plan.departments.order_by("position"))
        self.dept_a, self.dept_b = pds[0].department, pds[1].department
        self.ind_a = Indicator.objects.under(PlanDepartment, pds[0]).get()
        self.ind_b = Indicator.objects.under(PlanDepartment, pds[1]).get()
        Indicator.objects.update(frequency=Frequency.QUARTERLY)
        self.ind_a.refresh_from_db()
        self.ind_b.refresh_from_db()
        u = django_user_model
        self.officer = make_user(u, "officer_a", roles.OFFICER, [self.dept_a])
        self.officer_b = make_user(u, "officer_b", roles.OFFICER, [self.dept_b])
        self.reviewer = make_user(u, "reviewer_a", roles.REVIEWER, [self.dept_a])
        self.plan_admin = make_user(u, "planadmin", roles.PLAN_ADMIN)
        self.auditor = make_user(u, "auditor", roles.AUDITOR)


@pytest.fixture
def w(db, django_user_model):
    return World(django_user_model)


def test_entry_is_open_until_the_end_of_the_deadline_day(w):
    assert entry_open(w.plan, w.dept_a.pk, "Q1", today=BEFORE)
    assert entry_open(w.plan, w.dept_a.pk, "Q1", today=ON)
    assert not entry_open(w.plan, w.dept_a.pk, "Q1", today=AFTER)
    assert entry_open(w.plan, w.dept_a.pk, "Q2", today=AFTER)  # Q2's deadline is later


def test_an_exception_opens_one_department_only(w):
    open_exception(
        w.plan_admin, w.plan, w.dept_a, "Q1", AFTER + timedelta(days=7), "전산 장애", AFTER
    )
    assert entry_open(w.plan, w.dept_a.pk, "Q1", today=AFTER)
    assert not entry_open(w.plan, w.dept_b.pk, "Q1", today=AFTER)
    assert not entry_open(w.plan, w.dept_a.pk, "Q2", today=date(2030, 7, 20))  # other period


def test_an_exception_holds_through_its_last_day_then_expires(w):
    until = AFTER + timedelta(days=3)
    open_exception(w.plan_admin, w.plan, w.dept_a, "Q1", until, "자료 지연", AFTER)
    assert entry_open(w.plan, w.dept_a.pk, "Q1", today=until)
    assert not entry_open(w.plan, w.dept_a.pk, "Q1", today=until + timedelta(days=1))


def test_an_exception_of_another_plan_does_not_count(w):
    other = make_plan(YEAR + 1, departments=1, goals=1, policy_goals=1, indicators=1)
    # The same department identity may be in both plans; use the other plan's own.
    department = other.departments.get().department
    open_exception(w.plan_admin, other, department, "Q1", date(2031, 12, 31), "다른 해", AFTER)
    assert not entry_open(w.plan, department.pk, "Q1", today=AFTER)


# ---------------------------------------------------------------- opening exceptions


def log_of(exception):
    return ChangeLogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(EntryException),
        object_id=str(exception.pk),
    ).order_by("sequence")


def test_plan_admin_opens_an_exception_and_it_is_logged_as_a_lock(w):
    until = AFTER + timedelta(days=7)
    exception = open_exception(w.plan_admin, w.plan, w.dept_a, "Q1", until, " 전산 장애 ", AFTER)
    stored = EntryException.objects.get(pk=exception.pk)
    assert (stored.department, stored.period, stored.open_until) == (w.dept_a, "Q1", until)
    assert stored.reason == "전산 장애" and stored.created_by == w.plan_admin
    entries = list(log_of(exception))
    assert [e.action for e in entries] == ["lock"]
    assert entries[0].reason == "전산 장애" and entries[0].department_id == w.dept_a.pk
    assert entries[0].changes["open_until"] == [None, until.isoformat()]


def test_opening_it_again_changes_the_same_exception(w):
    first = open_exception(w.plan_admin, w.plan, w.dept_a, "Q1", AFTER, "1차", AFTER)
    later = AFTER + timedelta(days=10)
    second = open_exception(w.plan_admin, w.plan, w.dept_a, "Q1", later, "연장", AFTER)
    assert second.pk == first.pk and EntryException.objects.count() == 1
    assert EntryException.objects.get().open_until == later
    entries = log_of(first).filter(action="lock")
    assert entries.count() == 2
    assert entries.order_by("-sequence").first().changes["open_until"] == [
        AFTER.isoformat(),
        later.isoformat(),
    ]


@pytest.mark.parametrize("who", ["officer", "reviewer", "auditor"])
def test_only_plan_admins_open_exceptions(w, who):
    with pytest.raises(LockError, match="Only a plan admin"):
        open_exception(getattr(w, who), w.plan, w.dept_a, "Q1", AFTER, "이유", AFTER)
    assert not EntryException.objects.exists()


@pytest.mark.parametrize(
    ("period", "until", "reason", "message"),
    [
        ("Q1", AFTER, "", "needs a reason"),
        ("Q1", AFTER, "   ", "needs a reason"),
        ("Q1", AFTER - timedelta(days=1), "이유", "cannot end in the past"),
        ("Q1", None, "이유", "needs the date"),
        ("Q9", AFTER, "이유", "is not a period"),
    ],
)
def test_an_exception_needs_a_reason_a_future_date_and_a_period(w, period, until, reason, message):
    with pytest.raises(LockError, match=message):
        open_exception(w.plan_admin, w.plan, w.dept_a, period, until, reason, AFTER)
    assert not EntryException.objects.exists()


def test_an_exception_is_for_a_department_of_the_plan(w):
    stranger = Department.objects.create(name="없는 부서")
    with pytest.raises(LockError, match="is not a department of"):
        open_exception(w.plan_admin, w.plan, stranger, "Q1", AFTER, "이유", AFTER)


# ---------------------------------------------------------------- the workflow and the lock


def test_after_the_deadline_entry_and_submission_are_refused(w):
    result = enter(w.officer, w.ind_a, "Q1", value="1", today=ON)
    with pytest.raises(WorkflowError, match="entry is closed") as caught:
        enter(w.officer, w.ind_a, "Q1", value="2", today=AFTER)
    assert "2030-04-10" in caught.value.message
    with pytest.raises(WorkflowError, match="entry is closed"):
        submit(w.officer, [result], today=AFTER)
    with pytest.raises(WorkflowError, match="entry is closed"):  # creating one, too
        enter(w.officer_b, w.ind_b, "Q1", value="2", today=AFTER)
    with pytest.raises(WorkflowError, match="entry is closed"):  # plan admins, too
        enter(w.plan_admin, w.ind_a, "Q1", value="3", today=AFTER)
    stored = Result.objects.get(pk=result.pk)
    assert stored.value == 1 and stored.status == ResultStatus.DRAFT


def test_review_is_not_entry_it_goes_on_after_the_deadline(w):
    result = enter(w.officer, w.ind_a, "Q1", value="1", today=ON)
    submit(w.officer, [result], today=ON)
    approve(w.reviewer, [result], today=AFTER)
    assert Result.objects.get(pk=result.pk).status == ResultStatus.APPROVED


def test_an_exception_reopens_entry_for_its_department_until_it_expires(w):
    result = enter(w.officer, w.ind_a, "Q1", value="1", today=ON)
    submit(w.officer, [result], today=ON)
    return_result(w.reviewer, result, "수정 필요", today=AFTER)
    with pytest.raises(WorkflowError, match="entry is closed"):
        enter(w.officer, w.ind_a, "Q1", value="2", today=AFTER)
    until = AFTER + timedelta(days=2)
    open_exception(w.plan_admin, w.plan, w.dept_a, "Q1", until, "반려 후 보완", AFTER)
    enter(w.officer, w.ind_a, "Q1", value="2", today=until)
    with pytest.raises(WorkflowError, match="entry is closed"):  # not for department B
        enter(w.officer_b, w.ind_b, "Q1", value="2", today=until)
    with pytest.raises(WorkflowError, match="entry is closed"):  # expired
        enter(w.officer, w.ind_a, "Q1", value="3", today=until + timedelta(days=1))
    with pytest.raises(WorkflowError, match="entry is closed"):
        submit(w.officer, [result], today=until + timedelta(days=1))
    submit(w.officer, [result], today=until)
    stored = Result.objects.get(pk=result.pk)
    assert stored.status == ResultStatus.SUBMITTED and stored.value == 2


# ---------------------------------------------------------------- admin


def test_admin_adds_an_exception_through_open_exception(client, w):
    client.force_login(w.plan_admin)
    until = date.today() + timedelta(days=3)
    response = client.post(
        reverse("admin:indicators_entryexception_add"),
        {
            "plan": w.plan.pk,
            "department": w.dept_a.pk,
            "period": "Q1",
            "open_until": until.isoformat(),
            "reason": "전산 장애",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    exception = EntryException.objects.get()
    assert exception.created_by == w.plan_admin and exception.open_until == until
    assert log_of(exception).filter(action="lock").count() == 1
    response = client.get(reverse("admin:indicators_entryexception_changelist"))
    assert response.status_code == 200 and "전산 장애" in response.content.decode()


def test_admin_refuses_an_exception_without_a_reason(client, w):
    client.force_login(w.plan_admin)
    response = client.post(
        reverse("admin:indicators_entryexception_add"),
        {
            "plan": w.plan.pk,
            "department": w.dept_a.pk,
            "period": "Q1",
            "open_until": (date.today() + timedelta(days=3)).isoformat(),
            "reason": "",
        },
    )
    assert response.status_code == 200
    assert not EntryException.objects.exists()


def test_officers_cannot_open_exceptions_in_the_admin(client, w):
    client.force_login(w.officer)
    response = client.get(reverse("admin:indicators_entryexception_add"))
    assert response.status_code == 403
