"""The public pages show the published seed plan and its approved results, and nothing
else: no draft, submitted or returned result, no unpublished plan; the cache is dropped
when a result is approved; the admin still needs a login."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

import pytest
from django.urls import reverse

from goals.models import PlanDepartment, StrategicGoal
from goals.tests.factories import load_seed
from indicators import workflow
from indicators.models import Indicator, Result, ResultStatus
from public import cache as public_cache
from public.opendata import DATASETS

from .conftest import YEAR, publish

pytestmark = pytest.mark.django_db

FORMATS = ("csv", "cp949", "json")


def get_text(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def every_public_text(client, plan):
    """The plan page, every department page and every file, as text."""
    year = plan.fiscal_year
    texts = [get_text(client, reverse("public:plan", args=[year]))]
    for department in PlanDepartment.objects.filter(plan=plan):
        texts.append(get_text(client, reverse("public:department", args=[year, department.pk])))
    for key in DATASETS:
        for fmt in FORMATS:
            body = client.get(reverse("public:download", args=[year, key, fmt])).content
            texts.append(body.decode("cp949" if fmt == "cp949" else "utf-8-sig"))
    return texts


def read_csv(body, encoding):
    return list(csv.reader(io.StringIO(body.decode(encoding))))


def test_the_list_and_the_plan_page_show_the_seed_plan(client, seed_plan):
    listing = get_text(client, reverse("public:plans"))
    assert str(seed_plan) in listing
    page = get_text(client, reverse("public:plan", args=[YEAR]))
    assert '<html lang="ko">' in page
    for department in PlanDepartment.objects.filter(plan=seed_plan):
        assert department.name in page
    for goal in StrategicGoal.objects.filter(plan_department__plan=seed_plan):
        assert goal.name in page
    for indicator in Indicator.objects.in_plan(seed_plan):
        assert indicator.name in page
    assert "448,151" in page  # table 가's 계 row, as declared
    assert "예시 데이터" in page  # the sample results are marked


def test_results_shown_are_exactly_the_approved_ones(client, seed_plan):
    statuses = set(Result.objects.values_list("status", flat=True))
    assert {ResultStatus.APPROVED, ResultStatus.DRAFT} <= statuses  # the sample has both
    approved = {
        (indicator_id, period, value.normalize())
        for indicator_id, period, value in Result.objects.filter(
            status=ResultStatus.APPROVED, value__isnull=False
        ).values_list("indicator_id", "period", "value")
    }
    body = client.get(reverse("public:download", args=[YEAR, "results", "csv"])).content
    rows = read_csv(body, "utf-8-sig")
    header = rows[0]
    at = {name: header.index(name) for name in ("지표번호", "기간코드", "실적")}
    shown = {
        (int(row[at["지표번호"]]), row[at["기간코드"]], Decimal(row[at["실적"]]).normalize())
        for row in rows[1:]
    }
    assert shown == approved
    assert len(shown) > 100


def test_a_draft_or_submitted_result_never_appears(client, seed_plan):
    indicator = Indicator.objects.in_plan(seed_plan).order_by("pk").first()
    Result.objects.filter(indicator=indicator).delete()
    Result.objects.create(
        indicator=indicator, period="Q1", value=Decimal("987654.321"), status=ResultStatus.DRAFT
    )
    Result.objects.create(
        indicator=indicator,
        period="Q2",
        value=Decimal("876543.21"),
        status=ResultStatus.SUBMITTED,
    )
    Result.objects.create(
        indicator=indicator, period="Q3", value=Decimal("765432.1"), status=ResultStatus.RETURNED
    )
    texts = every_public_text(client, seed_plan)
    assert any(indicator.name in text for text in texts)
    for text in texts:
        for figure in ("987654", "987,654", "876543", "876,543", "765432", "765,432"):
            assert figure not in text
    # its row says there is no approved value
    body = client.get(reverse("public:download", args=[YEAR, "indicators", "json"])).content
    record = next(r for r in json.loads(body)["records"] if r["지표번호"] == indicator.pk)
    assert record["실적"] is None and record["달성률"] is None


def test_an_unpublished_plan_is_not_found(client, seed_plan):
    draft = load_seed(YEAR + 1)
    department = PlanDepartment.objects.filter(plan=draft).first()
    for url in (
        reverse("public:plan", args=[YEAR + 1]),
        reverse("public:department", args=[YEAR + 1, department.pk]),
        reverse("public:download", args=[YEAR + 1, "indicators", "csv"]),
        reverse("public:download", args=[YEAR + 1, "summary", "json"]),
    ):
        assert client.get(url).status_code == 404, url
    assert str(draft) not in get_text(client, reverse("public:plans"))
    # a department of the published plan is not found under another plan's year
    other = PlanDepartment.objects.filter(plan=seed_plan).first()
    assert client.get(reverse("public:department", args=[YEAR + 1, other.pk])).status_code == 404
    # once published, it is there
    publish(draft)
    public_cache.bump(public_cache.PLAN_LIST)
    assert client.get(reverse("public:plan", args=[YEAR + 1])).status_code == 200


def test_the_cache_answers_without_the_database(client, seed_plan, django_assert_num_queries):
    department = PlanDepartment.objects.filter(plan=seed_plan).first()
    urls = [
        reverse("public:plans"),
        reverse("public:plan", args=[YEAR]),
        reverse("public:department", args=[YEAR, department.pk]),
        reverse("public:download", args=[YEAR, "indicators", "cp949"]),
        reverse("public:dictionary"),
    ]
    first = [client.get(url).content for url in urls]
    with django_assert_num_queries(0):
        again = [client.get(url).content for url in urls]
    assert again == first


def test_approving_a_result_drops_the_cached_pages(
    client, seed_plan, plan_admin_user, django_capture_on_commit_callbacks
):
    submitted = (
        Result.objects.filter(
            indicator__in=Indicator.objects.in_plan(seed_plan),
            status=ResultStatus.SUBMITTED,
            value__isnull=False,
        )
        .order_by("pk")
        .first()
    )
    assert submitted is not None
    submitted.value = Decimal("4321.5")
    Result.objects.filter(pk=submitted.pk).update(value=submitted.value, submitted_by=None)
    url = reverse("public:download", args=[YEAR, "results", "json"])

    def shown():
        records = json.loads(client.get(url).content)["records"]
        return [
            r
            for r in records
            if r["지표번호"] == submitted.indicator_id and r["기간코드"] == submitted.period
        ]

    assert shown() == []
    with django_capture_on_commit_callbacks(execute=True):
        workflow.approve(plan_admin_user, [submitted.pk])
    assert [r["실적"] for r in shown()] == [4321.5]
    # and reopened, it is gone again
    with django_capture_on_commit_callbacks(execute=True):
        workflow.reopen_results(plan_admin_user, [submitted.pk], "다시 확인")
    assert shown() == []


def test_anonymous_users_reach_only_the_public_pages(client, seed_plan):
    department = PlanDepartment.objects.filter(plan=seed_plan).first()
    for url in (
        "/admin/",
        reverse("admin:perfplan_plan_changelist"),
        reverse("admin:indicators_result_changelist"),
        reverse("admin:perfplan_changelogentry_changelist"),
        "/admin/tracking/",
        "/admin/results/",
        "/admin/reports/",
    ):
        response = client.get(url)
        assert response.status_code in (302, 403), url
        if response.status_code == 302:
            assert "/login/" in response["Location"], url
    assert client.get(reverse("public:department", args=[YEAR, department.pk])).status_code == 200


def test_the_change_log_never_shows(client, seed_plan):
    from perfplan.models import ChangeLogEntry

    assert ChangeLogEntry.objects.exists()
    reasons = {r for r in ChangeLogEntry.objects.values_list("reason", flat=True) if len(r) > 8}
    for text in every_public_text(client, seed_plan):
        assert "change log" not in text.lower()
        assert not any(reason in text for reason in reasons)


def test_the_final_reports_approved_texts_only(client, seed_plan):
    from reports.models import ResultsReport, ResultText

    first, second = Indicator.objects.in_plan(seed_plan).order_by("pk")[:2]
    ResultText.objects.create(
        indicator=first, shortfall_reason="승인된 미달성 사유 문장", status=ResultStatus.APPROVED
    )
    ResultText.objects.create(
        indicator=second, shortfall_reason="작성중인 미달성 사유 문장", status=ResultStatus.DRAFT
    )
    department = first.policy_goal.strategic_goal.plan_department
    url = reverse("public:department", args=[YEAR, department.pk])
    plan_url = reverse("public:plan", args=[YEAR])
    page = get_text(client, url)
    assert "승인된 미달성 사유 문장" not in page  # the report is not final
    assert 'id="report"' not in get_text(client, plan_url)
    ResultsReport.objects.create(plan=seed_plan, is_final=True)
    public_cache.bump(YEAR)
    page = get_text(client, url)
    assert "승인된 미달성 사유 문장" in page
    assert "작성중인 미달성 사유 문장" not in page
    assert 'id="report"' in get_text(client, plan_url)


def test_each_language_has_its_own_cached_copy(client, seed_plan, django_assert_num_queries):
    url = reverse("public:plan", args=[YEAR])
    korean = get_text(client, url)
    switched = client.get(reverse("public:language", args=["en"]) + "?next=" + url)
    assert switched.status_code == 302 and switched["Location"] == url
    english = get_text(client, url)
    assert '<html lang="ko">' in korean and '<html lang="en">' in english
    assert "Skip to content" in english
    with django_assert_num_queries(0):
        assert get_text(client, url) == english
    client.cookies.pop("django_language")
    with django_assert_num_queries(0):
        assert get_text(client, url) == korean
    # the language link never sends a reader elsewhere
    away = client.get(reverse("public:language", args=["ko"]) + "?next=https://example.com/")
    assert away["Location"] == "/public/"
    assert client.get(reverse("public:language", args=["fr"])).status_code == 404
