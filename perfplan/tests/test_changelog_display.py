"""The change log as people read it (perfplan.changelog_display): in the list, an entry's
page, an object's history and the xlsx export, in the Korean interface: labels instead of
field names and choice codes, names instead of ids, 예 / 아니요, local times to the minute.
The stored entry keeps its raw values (its hash covers them)."""

from __future__ import annotations

import datetime
import io
import re
from decimal import Decimal

import openpyxl
import pytest
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from goals.tests.factories import make_plan
from indicators.models import Indicator, Result
from indicators.periods import period_label
from perfplan import roles
from perfplan.changelog import (
    ChainWriter,
    EntryDraft,
    change_context,
    entry_hash,
    record_many,
    seal,
)
from perfplan.changelog_display import ChangeDisplay
from perfplan.models import ChangeLogEntry, ImportBatch

pytestmark = pytest.mark.django_db

KOREAN = {"HTTP_ACCEPT_LANGUAGE": "ko"}
# 00:05 UTC is 09:05 in Seoul (settings.TIME_ZONE).
SUBMITTED_AT = datetime.datetime(2026, 3, 4, 0, 5, 7, 123456, tzinfo=datetime.UTC)
SUBMITTED_AT_LOCAL = "2026-03-04 09:05"


def ko(msgid, **values):
    """A message as the Korean interface shows it (the catalogue's, never typed here)."""
    with translation.override("ko"):
        text = translation.gettext(msgid)
    return text % values if values else text


@pytest.fixture
def plan():
    return make_plan(2030, departments=1, goals=1, policy_goals=1, indicators=1)


@pytest.fixture
def auditor(django_user_model):
    user = django_user_model.objects.create_user("auditor", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=roles.AUDITOR))
    return user


@pytest.fixture
def reviewer(django_user_model):
    return django_user_model.objects.create_user("검토자김", password="pw")


@pytest.fixture
def reviewed_result(plan, reviewer):
    """A result entered, then submitted and reviewed: two entries written by the signals."""
    indicator = Indicator.objects.in_plan(plan).get()
    with change_context(user=reviewer):
        result = Result.objects.create(indicator=indicator, period="M03", value=Decimal("1234.5"))
        result.status = "submitted"
        result.reviewed_by = reviewer
        result.submitted_at = SUBMITTED_AT
        result.edited_after_approval = True
        result.save()
    return result


def _entry_of(obj, action="update"):
    return ChangeLogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(type(obj)),
        object_id=str(obj.pk),
        action=action,
    ).latest("sequence")


def _assert_readable(text, reviewer):
    status = ko("status")
    assert f"{status}: {ko('draft (작성중)')} → {ko('submitted (제출)')}" in text
    assert f"{ko('reviewed by')}: — → {reviewer.username}" in text
    assert f"{ko('edited after approval')}: {ko('no')} → {ko('yes')}" in text
    assert f"— → {SUBMITTED_AT_LOCAL}" in text
    for raw in ("draft", "submitted", "True", "False", "+00:00", ".123456"):
        assert raw not in text, raw
    assert not re.search(rf"{ko('reviewed by')}: — → {reviewer.pk}\b", text)


def test_raw_values_stay_in_the_stored_entry(reviewed_result, reviewer):
    seal()
    entry = _entry_of(reviewed_result)
    assert entry.changes["status"] == ["draft", "submitted"]
    assert entry.changes["reviewed_by_id"] == [None, reviewer.pk]
    assert entry.changes["edited_after_approval"] == [False, True]
    assert entry.changes["submitted_at"] == [None, SUBMITTED_AT.isoformat()]
    assert entry.hash and entry.hash == entry_hash(entry)  # sealed over the raw values


def test_list_detail_and_history_show_labels_names_and_local_time(
    client, auditor, reviewed_result, reviewer
):
    client.force_login(auditor)
    entry = _entry_of(reviewed_result)
    listed = client.get(reverse("admin:perfplan_changelogentry_changelist"), **KOREAN)
    assert listed.status_code == 200
    rows = [row for row in listed.context["cl"].log_rows if row["sequence"] == entry.sequence]
    summary = rows[0]["changes"]
    assert f"{ko('status')}: {ko('draft (작성중)')} → {ko('submitted (제출)')}" in summary
    assert f"{ko('reviewed by')}: — → {reviewer.username}" in summary
    local_now = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d")
    assert local_now.fullmatch(rows[0]["timestamp"])
    assert rows[0]["timestamp"] in listed.content.decode()

    detail = client.get(
        reverse("admin:perfplan_changelogentry_change", args=[entry.sequence]), **KOREAN
    )
    assert detail.status_code == 200
    text = detail.content.decode()
    changes = text[text.index("<table><thead>") :]
    changes = changes[: changes.index("</table>")]
    assert (
        f"<td>{ko('status')}</td><td>{ko('draft (작성중)')}</td><td>{ko('submitted (제출)')}</td>"
        in changes
    )
    assert f"<td>{reviewer.username}</td>" in changes
    assert f"<td>{SUBMITTED_AT_LOCAL}</td>" in changes
    assert f"<td>{ko('yes')}</td>" in changes
    for raw in ("draft", ">submitted<", "True", "False", "+00:00", ".123456"):
        assert raw not in changes, raw
    # No import wrote this entry: no empty "import batch" line.
    assert "field-batch" not in text

    history = client.get(
        reverse("admin:indicators_result_history", args=[reviewed_result.pk]), **KOREAN
    )
    assert history.status_code == 200
    text = history.content.decode()
    table = text[text.index('id="change-log-history"') :]
    table = re.sub(r"</?strong>", "", table[: table.index("</table>")]).replace("&rarr;", "→")
    _assert_readable(table, reviewer)
    assert "1,234.5" in table
    with translation.override("ko"):
        march = str(period_label("M03"))
    assert f"{ko('period')}: — → {march}" in table and "→ M03" not in table


def test_export_shows_what_the_list_shows(client, auditor, reviewed_result, reviewer):
    client.force_login(auditor)
    entry = _entry_of(reviewed_result)
    response = client.get(reverse("admin:perfplan_changelogentry_export"), **KOREAN)
    assert response.status_code == 200
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    header, *body = workbook.worksheets[0].iter_rows(values_only=True)
    row = next(row for row in body if row[0] == entry.sequence)
    changes = row[header.index(ko("changes"))]
    _assert_readable(changes, reviewer)
    time = row[header.index(ko("time"))]
    assert time.microsecond == 0
    assert (time.hour, time.minute) == (
        (entry.timestamp + datetime.timedelta(hours=9)).hour,
        entry.timestamp.minute,
    )


def test_a_deleted_object_is_named_as_deleted(client, auditor, reviewed_result, reviewer):
    reviewer_id = reviewer.pk
    entry = _entry_of(reviewed_result)
    Result.objects.filter(pk=reviewed_result.pk).update(reviewed_by=None)
    reviewer.delete()
    client.force_login(auditor)
    detail = client.get(
        reverse("admin:perfplan_changelogentry_change", args=[entry.sequence]), **KOREAN
    )
    assert ko("deleted item #%(id)s", id=reviewer_id) in detail.content.decode()


def test_choices_and_amounts_of_an_indicator(client, auditor, plan):
    indicator = Indicator.objects.in_plan(plan).get()
    indicator.frequency = "monthly"
    indicator.save()
    indicator.frequency = "quarterly"
    indicator.annual_target = Decimal("1109.1667")
    indicator.save()
    client.force_login(auditor)
    history = client.get(reverse("admin:indicators_indicator_history", args=[indicator.pk]))
    text = history.content.decode().replace("&rarr;", "→")
    text = re.sub(r"</?strong>", "", text)
    frequency = ko("measurement frequency")
    assert f"{frequency}: {ko('monthly (월)')} → {ko('quarterly (분기)')}" in text
    assert "1,109.1667" in text
    assert "→ quarterly" not in text


def test_import_counts_groups_and_password_events_in_words(client, auditor, django_user_model):
    batch = ImportBatch.objects.create(fiscal_year=2030)
    with ChainWriter(batch=batch) as chain:
        chain.append(
            "import",
            ContentType.objects.get_for_model(ImportBatch).pk,
            str(batch.pk),
            str(batch),
            None,
            2030,
            {
                "new": [None, 1200],
                "changed": [None, 3],
                "deleted": [None, 0],
                "unchanged": [None, 7],
            },
        )
    officer = django_user_model.objects.create_user("officer", password="pw")
    with change_context(user=auditor):
        officer.groups.add(Group.objects.get(name=roles.AUDITOR))
    with change_context(user=officer):
        officer.set_password("a new secret 1234")
        officer.save()
    client.force_login(auditor)
    listed = client.get(reverse("admin:perfplan_changelogentry_changelist"), **KOREAN)
    summaries = " | ".join(row["changes"] for row in listed.context["cl"].log_rows)
    assert f"{ko('new')}: — → 1,200" in summaries
    assert f"{ko('unchanged')}: — → 7" in summaries
    assert f"— → {roles.AUDITOR}" in summaries and "['" not in summaries
    assert ko("set by its owner") in summaries
    for raw in ("new:", "changed:", "unchanged:"):
        assert raw not in summaries, raw
    # The password events' codes (perfplan.signals) never show as they are stored.
    assert not re.search(r"→ (set|reset|disabled|hash replaced)( \||;|$)", summaries)

    import_entry = ChangeLogEntry.objects.get(action="import", batch_id=batch.pk)
    detail = client.get(
        reverse("admin:perfplan_changelogentry_change", args=[import_entry.sequence]), **KOREAN
    )
    assert "field-batch" in detail.content.decode()  # shown where there is one


def _mixed_page(plan, users, start):
    """50 entries of mixed types (results, indicators, users) naming `users` by id."""
    indicator = Indicator.objects.in_plan(plan).get()
    types = {
        model: ContentType.objects.get_for_model(model)
        for model in (Result, Indicator, type(users[0]))
    }
    drafts = []
    for number in range(50):
        user = users[number % len(users)]
        kind = number % 3
        if kind == 0:
            model, changes = (
                Result,
                {"reviewed_by_id": [None, user.pk], "status": ["draft", "submitted"]},
            )
        elif kind == 1:
            model, changes = Indicator, {"policy_goal_id": [None, indicator.policy_goal_id]}
        else:
            model, changes = type(user), {"is_active": [True, False]}
        drafts.append(
            EntryDraft(
                action="update",
                content_type=types[model],
                object_id=str(start + number),
                object_repr=f"항목 {start + number}",
                changes=changes,
            )
        )
    record_many(drafts)


def test_the_list_reads_names_in_a_constant_number_of_queries(
    client, auditor, plan, django_user_model
):
    client.force_login(auditor)
    url = reverse("admin:perfplan_changelogentry_changelist")
    few = [django_user_model.objects.create_user(f"few{i}") for i in range(2)]
    _mixed_page(plan, few, 0)
    with CaptureQueriesContext(connection) as small:
        client.get(url, **KOREAN)
    many = [django_user_model.objects.create_user(f"many{i}") for i in range(17)]
    _mixed_page(plan, many, 100)
    with CaptureQueriesContext(connection) as large:
        response = client.get(url, **KOREAN)
    assert len(large.captured_queries) == len(small.captured_queries), [
        q["sql"] for q in large.captured_queries
    ]
    summaries = " ".join(row["changes"] for row in response.context["cl"].log_rows)
    assert all(user.username in summaries for user in many)


def test_an_id_that_is_no_key_reads_as_a_deleted_item(reviewer):
    entry = ChangeLogEntry(
        action="update",
        content_type_id=ContentType.objects.get_for_model(Result).pk,
        changes={"reviewed_by_id": ["abc", reviewer.pk]},
    )
    with translation.override("ko"):
        rows = ChangeDisplay([entry]).rows(entry)
    assert rows == [(ko("reviewed by"), ko("deleted item #%(id)s", id="abc"), reviewer.username)]


def test_a_raw_permission_reads_as_its_korean_name(django_user_model, auditor):
    """Django stores "Can add result"; the log shows what the role pages show (실적 추가)."""
    from django.contrib.auth.models import Permission

    officer = django_user_model.objects.create_user("officer2", password="pw")
    permission = Permission.objects.get(content_type__app_label="indicators", codename="add_result")
    with change_context(user=auditor):
        officer.user_permissions.add(permission)
    entry = ChangeLogEntry.objects.filter(object_repr=str(officer)).order_by("-sequence").first()
    with translation.override("ko"):
        text = ChangeDisplay([entry]).text(entry)
        expected = ko("add %(model)s", model=str(Result._meta.verbose_name))
    assert expected in text, text
    assert "Can add" not in text
