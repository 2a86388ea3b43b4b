"""Issue 5 end to end: the seed's PDF text through the import pipeline equals fixtures/."""

import io
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.urls import reverse

from goals.tests.factories import load_seed, seed_files
from indicators.models import Indicator
from perfplan.models import Plan
from perfplan.planfiles.exports import plan_tables, table_by_key
from perfplan.planfiles.importer import import_plan
from perfplan.planfiles.plan_text import parse_plan_text
from perfplan.planfiles.tables import read_plan_files
from perfplan.tabular import name_key

pytestmark = pytest.mark.django_db
SEED_TEXT = Path(settings.BASE_DIR) / "fixtures" / "source" / "000_b531d227c4430c07.txt"


def squeezed(table):
    return [[name_key(str(c)) if c is not None else "" for c in row] for row in table.rows]


def test_the_text_imports_exactly_the_plan_fixtures_hold(tmp_path):
    call_command("import_plan_text", str(SEED_TEXT), "--year", "2026", stdout=io.StringIO())
    from_text = plan_tables(Plan.objects.get(fiscal_year=2026))
    import_plan(2027, read_plan_files(seed_files()))
    from_fixtures = plan_tables(Plan.objects.get(fiscal_year=2027))
    for key in ("summary", "hierarchy"):
        assert squeezed(table_by_key(from_text, key)) == squeezed(table_by_key(from_fixtures, key))
    # Re-importing the fixtures over the text's plan: nothing changes (spacing aside).
    result = import_plan(2026, read_plan_files(seed_files()))
    assert result.ok and not result.has_writes


def test_text_after_fixtures_changes_nothing_and_reports_the_conflict():
    load_seed()
    parsed = parse_plan_text(SEED_TEXT.read_bytes(), SEED_TEXT.name)
    result = import_plan(2026, parsed.plan, conflicts=parsed.conflicts)
    assert result.ok and not result.has_writes
    assert len(result.conflicts) == 1 and "경제문화국" in result.conflicts[0]


def test_command_dry_run_writes_nothing_and_refuses_non_plans(tmp_path):
    out = io.StringIO()
    call_command("import_plan_text", str(SEED_TEXT), "--year", "2026", "--dry-run", stdout=out)
    assert Plan.objects.count() == 0
    assert "경제문화국" in out.getvalue()
    # The reconstructions that needed a guess, with their lines, as in the admin's preview.
    assert "1047–1050" in out.getvalue() and "549–551" in out.getvalue()
    junk = tmp_path / "memo.txt"
    junk.write_text("회의록\n오늘은 날씨가 맑았다.\n", encoding="utf-8")
    with pytest.raises(CommandError):
        call_command("import_plan_text", str(junk), "--year", "2026")
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    with pytest.raises(CommandError):
        call_command("import_plan_text", str(empty), "--year", "2026")
    assert Plan.objects.count() == 0


def test_admin_previews_the_reconstructed_tables_then_imports(client, django_user_model):
    from django.contrib.auth.models import Group

    from perfplan import roles

    user = django_user_model.objects.create_user("pa", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=roles.PLAN_ADMIN))
    client.force_login(user)
    upload = io.BytesIO(SEED_TEXT.read_bytes().decode("utf-8").encode("cp949"))
    upload.name = "성과계획서.txt"
    response = client.post(
        reverse("admin:perfplan_plan_import"), {"fiscal_year": 2026, "files": [upload]}
    )
    assert response.status_code == 200
    assert response.context["source_kind"] == "text"
    html = response.content.decode()
    assert 'id="import-conflicts"' in html and "경제문화국" in html
    # The reconstructions that needed a guess are listed to check, each with its lines.
    warnings = html.split('id="import-warnings"')[1].split("</div>")[0]
    for lines in ("67", "141", "549–551", "1047–1050"):
        assert f"{lines}" in warnings
    assert "출산장려 환경조성" in warnings and "“여”" in warnings
    recon = response.context["file_reconciliation"]
    assert {(d["department"], d["field"]) for d in recon.discrepancies()} == {
        ("경제문화국", "indicators"),
        ("보건소", "change"),
        ("계", "indicators"),
        ("계", "budget"),
    }
    assert Plan.objects.count() == 0
    batch = response.context["batch"]
    client.post(reverse("admin:perfplan_plan_import_confirm", args=[batch.pk]))
    assert Indicator.objects.count() == 168


def test_admin_refuses_a_random_text_with_a_korean_message(client, django_user_model):
    from django.contrib.auth.models import Group

    from perfplan import roles

    user = django_user_model.objects.create_user("pa", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=roles.PLAN_ADMIN))
    client.force_login(user)
    upload = io.BytesIO("아무 문서\n".encode())
    upload.name = "memo.txt"
    response = client.post(
        reverse("admin:perfplan_plan_import"), {"fiscal_year": 2026, "files": [upload]}
    )
    assert response.context["errors"]
    assert "memo.txt" in str(response.context["errors"][0])
    assert Plan.objects.count() == 0
