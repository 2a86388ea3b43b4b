"""The change log: what an admin save records, tamper detection, the read-only admin, the
history pages, the xlsx export, and a list that never counts the log."""

from __future__ import annotations

import io
from decimal import Decimal

import openpyxl
import pytest
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from budgets.models import UnitProgram
from goals.models import PlanDepartment
from goals.tests.factories import make_plan
from perfplan import roles
from perfplan.admin_changelog import ChangeLogEntryAdmin
from perfplan.changelog import (
    ChainWriter,
    EntryDraft,
    change_context,
    entry_hash,
    record_many,
    seal,
    verify_chain,
)
from perfplan.models import (
    ChangeLogEntry,
    ChangeLogHead,
    Department,
    DepartmentAssignment,
    ImportBatch,
)

pytestmark = pytest.mark.django_db

TABLE = ChangeLogEntry._meta.db_table
PER_PAGE = ChangeLogEntryAdmin.list_per_page
on_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the append-only trigger exists on PostgreSQL only (migration 0004); on SQLite "
    "the log is protected by the application alone",
)


def make_user(django_user_model, name, role=None, superuser=False, departments=()):
    user = django_user_model.objects.create_user(
        name, password="pw", is_staff=True, is_superuser=superuser
    )
    if role:
        user.groups.add(Group.objects.get(name=role))
    for department in departments:
        DepartmentAssignment.objects.create(user=user, department=department)
    return user


@pytest.fixture
def plan():
    return make_plan(2030, departments=2, goals=1, policy_goals=1, indicators=1, unit_programs=1)


@pytest.fixture
def plan_admin(django_user_model):
    return make_user(django_user_model, "planadmin", roles.PLAN_ADMIN)


@pytest.fixture
def auditor(django_user_model):
    return make_user(django_user_model, "auditor", roles.AUDITOR)


def form_data(response):
    """The POST data of an admin change form as rendered (main form and inlines)."""
    data = {}

    def add_form(form):
        for name in form.fields:
            bound = form[name]
            value = bound.value()
            if value is None:
                continue
            if isinstance(value, bool):
                if value:
                    data[bound.html_name] = "on"
                continue
            data[bound.html_name] = (
                [str(v) for v in value] if isinstance(value, (list, tuple)) else str(value)
            )

    add_form(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        add_form(formset.management_form)
        for form in formset.forms:
            add_form(form)
    return data


def sealed_entries():
    """Seal what the test wrote (on_commit never runs inside a test's transaction); the
    entries in chain order."""
    seal()
    return list(ChangeLogEntry.objects.filter(position__isnull=False).order_by("position"))


def tamper(sql, params):
    """Run an UPDATE/DELETE on the log as an attacker with database access would.

    On PostgreSQL the triggers refuse it; the attacker (a superuser) disables them first. Inside the test's transaction, so everything is rolled back afterwards.
    """
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER USER")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute(f"ALTER TABLE {TABLE} ENABLE TRIGGER USER")


# ---------------------------------------------------------------- what a save records


def test_admin_save_logs_old_and_new_with_user_ip_and_request_id(client, plan, plan_admin):
    unit = UnitProgram.objects.in_plan(plan)
    unit = unit.order_by("pk").first()
    assert unit.budget == Decimal("10")
    client.force_login(plan_admin)
    url = reverse("admin:budgets_unitprogram_change", args=[unit.pk])
    data = form_data(client.get(url))
    data["budget"] = "250"
    response = client.post(url, data, REMOTE_ADDR="10.1.2.3", HTTP_X_REQUEST_ID="req-test-123")
    assert response.status_code == 302, getattr(response, "context", None) and [
        form.errors for form in [response.context["adminform"].form]
    ]
    unit.refresh_from_db()
    assert unit.budget == Decimal("250")
    entry = ChangeLogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(UnitProgram), object_id=str(unit.pk)
    ).latest("sequence")
    assert entry.action == "update"
    assert entry.changes["budget"] == ["10", "250"]
    assert entry.user_id == plan_admin.pk and entry.username == "planadmin"
    assert entry.ip_address == "10.1.2.3"
    assert entry.request_id == "req-test-123"
    assert entry.department_id == unit.policy_goal.strategic_goal.plan_department.department_id
    assert response.headers["X-Request-ID"] == "req-test-123"
    assert verify_chain().ok

    # …and the object's history page shows it, old → new.
    history = client.get(reverse("admin:budgets_unitprogram_history", args=[unit.pk]))
    assert history.status_code == 200
    text = history.content.decode()
    assert 'id="change-log-history"' in text
    assert "10 &rarr; 250" in text
    assert "req-test-123" in text and "10.1.2.3" in text


def test_history_is_scoped_to_the_users_departments(client, plan, django_user_model):
    pd_a, pd_b = plan.departments.order_by("position")
    officer = make_user(django_user_model, "officer", roles.OFFICER, departments=[pd_a.department])
    unit = UnitProgram.objects.under(PlanDepartment, pd_a).first()
    ct = ContentType.objects.get_for_model(UnitProgram)
    # An entry filed under B for A's unit program (as if it had moved from B): not shown.
    record_many(
        [
            EntryDraft(
                action="update",
                content_type=ct,
                object_id=str(unit.pk),
                object_repr="B 시절의 기록",
                department_id=pd_b.department_id,
                changes={"name": ["B 시절", "지금"]},
            )
        ]
    )
    client.force_login(officer)
    text = client.get(reverse("admin:budgets_unitprogram_history", args=[unit.pk])).content
    text = text.decode()
    assert 'id="change-log-history"' in text  # A's own entries (the import's) are there
    assert "B 시절" not in text


# ---------------------------------------------------------------- tampering


def test_deferred_fields_are_not_loaded_to_be_remembered(plan):
    """Records read with .only()/.defer() cost one query, not one per deferred field and
    row (which also recursed); a save of such a record logs what changed."""
    from indicators.models import Indicator

    with CaptureQueriesContext(connection) as queries:
        indicators = list(Indicator.objects.only("name", "position"))
    assert len(queries) == 1 and indicators
    indicator = indicators[0]
    indicator.name = "이름 변경"
    indicator.save()
    entry = ChangeLogEntry.objects.order_by("-sequence").first()
    assert entry.action == "update" and entry.object_id == str(indicator.pk)
    assert entry.changes["name"][1] == "이름 변경" and "unit" not in entry.changes
    assert verify_chain().ok


def test_verify_change_log_passes_on_an_intact_chain(plan):
    out = io.StringIO()
    call_command("verify_change_log", stdout=out)
    unsealed = ChangeLogEntry.objects.count()
    assert unsealed > 10
    assert f"{unsealed} entries" in out.getvalue() or f"{unsealed}건" in out.getvalue()
    checked = len(sealed_entries())
    assert checked == unsealed
    out = io.StringIO()
    call_command("verify_change_log", stdout=out)
    assert str(checked) in out.getvalue()


def test_verify_change_log_finds_an_altered_entry(plan):
    target = sealed_entries()[5]
    tamper(f"UPDATE {TABLE} SET object_repr = %s WHERE sequence = %s", ["조작됨", target.pk])
    with pytest.raises(CommandError) as raised:
        call_command("verify_change_log")
    assert raised.value.returncode == 1
    assert f"#{target.position}" in str(raised.value)
    report = verify_chain()
    assert report.broken_at == target.position == 6 and report.checked == 5


def test_verify_change_log_finds_a_changed_hash_link(plan):
    """Rewriting an entry's content *and* its hash breaks the next entry's link."""
    entry = sealed_entries()[3]
    entry.object_repr = "조작됨"
    new_hash = entry_hash(entry)
    tamper(
        f"UPDATE {TABLE} SET object_repr = %s, hash = %s WHERE sequence = %s",
        ["조작됨", new_hash, entry.sequence],
    )
    report = verify_chain()
    assert report.broken_at == entry.position + 1
    with pytest.raises(CommandError):
        call_command("verify_change_log")


def test_verify_change_log_finds_a_deleted_entry(plan):
    target = sealed_entries()[7]
    tamper(f"DELETE FROM {TABLE} WHERE sequence = %s", [target.pk])
    with pytest.raises(CommandError) as raised:
        call_command("verify_change_log")
    assert raised.value.returncode == 1
    assert f"#{target.position}" in str(raised.value)


def test_verify_change_log_finds_removed_last_entries(plan):
    last = sealed_entries()[-1]
    tamper(f"DELETE FROM {TABLE} WHERE sequence = %s", [last.pk])
    report = verify_chain()
    assert not report.ok and report.broken_at == last.position
    with pytest.raises(CommandError):
        call_command("verify_change_log")


AWKWARD_TEXT = [
    '따옴표 "와" 역슬래시 \\ 탭\t줄\n바꿈\r',
    "\u2028 \u2029 😀 ㎡ · ×",
    "",
]


def test_streamed_entries_hash_as_verify_recomputes_them(plan, plan_admin):
    """ChainWriter builds each hashed text piece by piece; verify_chain rebuilds it from the
    stored row. Awkward text (quotes, backslashes, control characters, emoji), empty and
    missing values, an IP, a request id and an import batch must give the same hash."""
    batch = ImportBatch.objects.create(fiscal_year=2030, source="upload")
    department = plan.departments.first().department
    department_type = ContentType.objects.get_for_model(Department).pk
    with change_context(user=plan_admin, ip_address="2001:db8::7", request_id="req-ÿ-1"):
        with ChainWriter(batch=batch, reason="기본 사유") as chain:
            for number, text in enumerate(AWKWARD_TEXT):
                chain.append(
                    "update",
                    department_type,
                    number,  # not a str: stored and hashed as its text
                    text,
                    department.pk,
                    2030,
                    {text or "빈 키": [None, text], "값": ["1.50", "-0"], "수": [1, None]},
                    reason=text,
                )
            chain.append("import", changes={})
    assert chain.count == len(AWKWARD_TEXT) + 1
    seal()
    written = list(ChangeLogEntry.objects.order_by("-sequence")[: chain.count])[::-1]
    for entry in written:
        assert entry.hash == entry_hash(entry)
        assert entry.batch_id == batch.pk and entry.username == "planadmin"
        assert entry.ip_address == "2001:db8::7" and entry.request_id == "req-ÿ-1"
    assert [e.object_repr for e in written[:-1]] == AWKWARD_TEXT
    assert [e.object_id for e in written[:-1]] == ["0", "1", "2"]
    assert written[-1].reason == "기본 사유" and written[0].reason == AWKWARD_TEXT[0]
    assert written[1].changes["값"] == ["1.50", "-0"]
    assert verify_chain().ok


@pytest.mark.parametrize(
    "text",
    [
        "0",
        "-0",
        "0.0",
        "-0.00",
        "1",
        "100",
        "2.50",
        "243.8",
        "1E+2",
        "1.0E-7",
        "0.0000001",
        "-12345678901234567890.1230",
        "NaN",
        "Infinity",
        "-Infinity",
        "5E+3",
        "0E-5",
    ],
)
def test_plain_decimal_text_is_the_normalised_fixed_point_text(text):
    from perfplan.changelog import plain

    value = Decimal(text)
    expected = format(value.normalize(), "f") if value.is_finite() else str(value)
    assert plain(value) == expected


def test_canonical_json_is_the_json_modules_sorted_compact_text():
    """Entries written before orjson was used must still verify: same text for the same data,
    and the json module takes what orjson refuses."""
    import json

    from perfplan.changelog import canonical_json

    stdlib = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    awkward = "".join(chr(c) for c in range(0, 0x250)) + "\u2028\u2029가😀\ufeff"
    samples = [
        {"z": [None, awkward], "a": [True, False], "가": [1, -2], "Z": [[], ["x", "y"]]},
        [1, "2026-11-27T14:00:00+00:00", None, "req", {"b": 1, "a": {"d": 2, "c": 3}}],
        {"big": [None, 2**70]},  # beyond 64 bits: orjson refuses, json writes it
        {1: "non-str key"},
    ]
    for sample in samples:
        assert canonical_json(sample) == stdlib.encode(sample)


def test_a_query_inside_the_writer_is_refused_not_left_waiting(plan):
    """On PostgreSQL the entries stream through one COPY: a query in between would wait
    forever, so the writer refuses it at once (on SQLite too, to catch it in every test)."""
    before = ChangeLogEntry.objects.count()
    with pytest.raises(RuntimeError, match="no query may run"):
        with ChainWriter() as chain:
            chain.append("create", object_id="1")
            Department.objects.count()
    assert ChangeLogEntry.objects.count() == before
    assert verify_chain().ok


def test_a_failure_inside_the_writer_leaves_neither_entries_nor_a_moved_head(plan):
    seal()
    head = ChangeLogHead.objects.get(pk=1)
    before = ChangeLogEntry.objects.count()
    with pytest.raises(RuntimeError):
        with ChainWriter() as chain:
            for number in range(3):
                chain.append("create", object_id=str(number), changes={"n": [None, number]})
            raise RuntimeError("중단")
    assert ChangeLogEntry.objects.count() == before
    assert seal().sealed == 0
    assert ChangeLogHead.objects.get(pk=1).position == head.position
    assert verify_chain().ok
    # and the chain goes on from the same head
    assert record_many([EntryDraft(action="create", object_id="9")]) == 1
    assert seal().sealed == 1
    assert ChangeLogHead.objects.get(pk=1).position == head.position + 1
    assert verify_chain().ok


@on_postgres
def test_postgres_refuses_update_and_delete_of_entries(plan):
    entry = sealed_entries()[0]
    for sql, params in (
        (f"UPDATE {TABLE} SET object_repr = %s WHERE sequence = %s", ["조작됨", entry.pk]),
        (f"DELETE FROM {TABLE} WHERE sequence = %s", [entry.pk]),
    ):
        with pytest.raises(DatabaseError, match="append-only"):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(sql, params)
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic():
            ChangeLogEntry.objects.filter(pk=entry.pk).update(reason="조작")
    assert verify_chain().ok


# ---------------------------------------------------------------- the read-only admin


@pytest.mark.parametrize("who", ["auditor", "plan_admin", "superuser"])
def test_nobody_adds_edits_or_deletes_entries_in_the_admin(client, plan, django_user_model, who):
    user = {
        "auditor": lambda: make_user(django_user_model, "a", roles.AUDITOR),
        "plan_admin": lambda: make_user(django_user_model, "p", roles.PLAN_ADMIN),
        "superuser": lambda: make_user(django_user_model, "s", superuser=True),
    }[who]()
    client.force_login(user)
    entry = sealed_entries()[0]
    before = (entry.object_repr, entry.changes, entry.hash)
    change_url = reverse("admin:perfplan_changelogentry_change", args=[entry.pk])

    page = client.get(change_url)
    assert page.status_code == 200
    text = page.content.decode()
    assert 'name="_save"' not in text and 'name="_continue"' not in text
    assert entry.hash in text  # the detail shows the entry, read-only

    posted = client.post(change_url, {"object_repr": "조작됨", "reason": "조작"})
    assert posted.status_code == 403
    assert client.get(reverse("admin:perfplan_changelogentry_add")).status_code == 403
    assert client.post(reverse("admin:perfplan_changelogentry_add"), {}).status_code == 403
    delete_url = reverse("admin:perfplan_changelogentry_delete", args=[entry.pk])
    assert client.get(delete_url).status_code == 403
    assert client.post(delete_url, {"post": "yes"}).status_code == 403
    listing = client.get(reverse("admin:perfplan_changelogentry_changelist"))
    assert listing.status_code == 200
    assert "delete_selected" not in listing.content.decode()
    bulk = client.post(
        reverse("admin:perfplan_changelogentry_changelist"),
        {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"},
    )
    assert bulk.status_code in (200, 302, 403)
    entry.refresh_from_db()
    assert (entry.object_repr, entry.changes, entry.hash) == before
    assert ChangeLogEntry.objects.filter(pk=entry.pk).exists()
    assert verify_chain().ok


def test_officers_do_not_see_the_log(client, plan, django_user_model):
    officer = make_user(django_user_model, "officer", roles.OFFICER)
    client.force_login(officer)
    assert client.get(reverse("admin:perfplan_changelogentry_changelist")).status_code == 403
    assert client.get(reverse("admin:perfplan_changelogentry_export")).status_code == 403


# ---------------------------------------------------------------- the list on a large log


def _fill(count, departments, users):
    ct = ContentType.objects.get_for_model(Department)
    drafts = [
        EntryDraft(
            action=("update", "create", "approve")[i % 3],
            content_type=ct,
            object_id=str(i),
            object_repr=f"항목 {i}",
            department_id=departments[i % len(departments)].pk,
            fiscal_year=2030,
            changes={"name": [f"old {i}", f"new {i}"]},
        )
        for i in range(count)
    ]
    # Entries by several users, as the middleware would file them.
    from perfplan.changelog import change_context

    per_user = len(drafts) // len(users) + 1
    for index, user in enumerate(users):
        with change_context(user=user, ip_address="10.0.0.1", request_id=f"r{index}"):
            record_many(drafts[index * per_user : (index + 1) * per_user])


LIST_FILTERS = [
    "",
    "department__id__exact={dept}",
    "user__id__exact={user}",
    "action__exact=update",
    "content_type__id__exact={ct}",
    "timestamp__gte={today}&timestamp__lt={tomorrow}",
    "department__id__exact={dept}&timestamp__gte={today}&timestamp__lt={tomorrow}",
    "department__id__exact={dept}&action__exact=update&user__id__exact={user}",
    "q=항목 1",
]


def _list_queries(client, query):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("admin:perfplan_changelogentry_changelist") + "?" + query)
    assert response.status_code == 200, response.get("Location")
    return response, [q["sql"] for q in queries.captured_queries]


@pytest.mark.parametrize("filters", LIST_FILTERS)
def test_log_list_never_counts_and_its_queries_do_not_grow(client, auditor, filters):
    import datetime

    from django.utils import timezone

    departments = [Department.objects.create(name=f"부서{i}") for i in range(3)]
    users = [auditor]
    client.force_login(auditor)
    today = timezone.localdate()
    values = {
        "dept": departments[0].pk,
        "user": auditor.pk,
        "ct": ContentType.objects.get_for_model(Department).pk,
        "today": today.isoformat(),
        "tomorrow": (today + datetime.timedelta(days=1)).isoformat(),
    }
    query = filters.format(**values)
    _fill(30, departments, users)
    small_response, small = _list_queries(client, query)
    _fill(600, departments, users)
    large_response, large = _list_queries(client, query)
    assert len(small) == len(large), (small, large)
    log_queries = [sql for sql in large if TABLE in sql]
    assert log_queries, "the list did not read the log"
    counting = [sql for sql in log_queries if "COUNT(" in sql.upper()]
    assert counting == [], counting
    assert any(f"LIMIT {PER_PAGE + 1}" in sql for sql in log_queries)  # one more: is there a next?
    rows = large_response.context["cl"].result_list
    assert 0 < len(rows) <= PER_PAGE
    assert len(small) <= 12, small
    sequences = [entry.sequence for entry in rows]
    assert sequences == sorted(sequences, reverse=True)  # newest first, whatever the order key


def test_log_list_pages_forward_and_back_without_counting(client, auditor):
    departments = [Department.objects.create(name="부서")]
    _fill(PER_PAGE * 2 + PER_PAGE // 2, departments, [auditor])
    client.force_login(auditor)
    url = reverse("admin:perfplan_changelogentry_changelist")
    total = ChangeLogEntry.objects.count()  # those, and the department's own creation
    assert PER_PAGE * 2 < total < PER_PAGE * 3
    first = client.get(url)
    cl = first.context["cl"]
    assert len(cl.result_list) == PER_PAGE and cl.page.has_next() and not cl.page.has_previous()
    assert 'rel="next"' in first.content.decode()
    third = client.get(url + "?p=3")
    cl = third.context["cl"]
    assert len(cl.result_list) == total - 2 * PER_PAGE
    assert not cl.page.has_next() and cl.page.has_previous()
    oldest = ChangeLogEntry.objects.order_by("sequence").values_list("sequence", flat=True)[0]
    assert cl.result_list[-1].sequence == oldest
    assert 'rel="prev"' in third.content.decode() and 'rel="next"' not in third.content.decode()
    assert client.get(url + "?p=9").status_code == 302  # past the end: Django's ?e=1
    # "Show all" would load the whole log: not offered, not honoured.
    shown = client.get(url + "?all=")
    assert len(shown.context["cl"].result_list) == PER_PAGE


def test_log_list_filters_and_search(client, plan, auditor, django_user_model):
    pd_a, pd_b = plan.departments.order_by("position")
    client.force_login(auditor)
    url = reverse("admin:perfplan_changelogentry_changelist")
    response = client.get(url + f"?department__id__exact={pd_b.department_id}")
    rows = list(response.context["cl"].result_list)
    assert rows and all(entry.department_id == pd_b.department_id for entry in rows)
    # Filter choices come from the small tables and list both departments.
    text = response.content.decode()
    assert "부서000" in text and "부서001" in text
    response = client.get(url + "?q=부서001")
    rows = list(response.context["cl"].result_list)
    assert rows and all("부서001" in entry.object_repr for entry in rows)
    response = client.get(url + "?timestamp__gte=2000-01-01&timestamp__lt=2000-01-02")
    assert response.status_code == 200 and list(response.context["cl"].result_list) == []


# ---------------------------------------------------------------- export


def test_log_export_is_filtered_formula_escaped_xlsx(client, plan, auditor):
    pd_a, pd_b = plan.departments.order_by("position")
    ct = ContentType.objects.get_for_model(Department)
    record_many(
        [
            EntryDraft(
                action="update",
                content_type=ct,
                object_id="1",
                object_repr='=HYPERLINK("http://evil.example","x")',
                department_id=pd_b.department_id,
                changes={"name": ["+1", "@SUM(A1)"]},
            )
        ]
    )
    client.force_login(auditor)
    response = client.get(
        reverse("admin:perfplan_changelogentry_export")
        + f"?department__id__exact={pd_b.department_id}"
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert response.streaming
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    header, body = rows[0], rows[1:]
    department_column = header.index("실국") if "실국" in header else 7
    assert body and {row[department_column] for row in body} == {"부서001"}
    evil = next(row for row in body if row[6] and "HYPERLINK" in row[6])
    assert evil[6].startswith("'=")
    assert not any(
        isinstance(cell, str) and cell[:1] in ("=", "+", "-", "@") for row in body for cell in row
    )
