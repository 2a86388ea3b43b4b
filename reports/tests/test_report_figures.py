"""The report's figures are the tracking services' for every indicator of the seed plan
with sample results (a closed year): target, year-end actual (by its aggregation), rate,
status and the periods' values; goal summaries and budget shares as the overview counts."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from goals.tests.factories import load_seed
from indicators import standing
from indicators.demo import add_sample_data
from indicators.formats import annual_target_text
from indicators.models import Aggregation, Indicator, IndicatorStanding
from indicators.tracking.rows import tracking_rows
from indicators.tracking.rules import HUNDRED, STATUSES, rounded
from indicators.tracking.summaries import group_by
from indicators.views.overview import plan_shares
from reports.report import build_report

pytestmark = pytest.mark.django_db

YEAR = 2025
AFTER_YEAR = date(YEAR + 1, 1, 20)  # the year is closed: every period is due


@pytest.fixture
def seed_report(plan_admin_user):
    plan = load_seed(YEAR)
    add_sample_data(plan, today=AFTER_YEAR)
    return plan, build_report(plan, plan_admin_user, today=AFTER_YEAR)


def _year_end(values, aggregation):
    values = [v for v in values if v is not None]
    if not values:
        return None
    if aggregation == Aggregation.SUM:
        return sum(values, Decimal(0))
    if aggregation == Aggregation.AVERAGE:
        return rounded(sum(values, Decimal(0)) / len(values), Decimal("0.0001"))
    return values[-1]


def test_every_indicator_has_the_tracking_figures(seed_report):
    plan, report = seed_report
    expected = {
        r.indicator.pk: r for r in tracking_rows(Indicator.objects.in_plan(plan), plan, AFTER_YEAR)
    }
    standing.ensure(plan, today=AFTER_YEAR)
    stored = {s.pk: s for s in IndicatorStanding.objects.filter(plan=plan)}
    lines = report.lines
    assert len(lines) == len(expected) == 168
    assert report.closed
    statuses = set()
    for line in lines:
        row, want = line.row, expected[line.indicator.pk]
        assert (row.ytd_actual, row.ytd_target, row.rate, row.status) == (
            want.ytd_actual,
            want.ytd_target,
            want.rate,
            want.status,
        ), line.indicator.name
        # the overview's stored standing says the same
        assert (row.status, row.rate) == (
            stored[line.indicator.pk].status,
            stored[line.indicator.pk].rate,
        )
        # the trend: each period's value; the year-end value follows the aggregation
        assert [c.value for c in row.cells] == [c.value for c in want.cells]
        assert row.ytd_actual == _year_end([c.value for c in row.cells], line.aggregation)
        assert line.target_text == annual_target_text(line.indicator)
        statuses.add(row.status)
    assert {"achieved", "caution", "behind", "missing"} <= statuses


def test_goal_summaries_and_budget_shares(seed_report):
    plan, report = seed_report
    rows = tracking_rows(Indicator.objects.in_plan(plan), plan, AFTER_YEAR)
    by_goal = {g.key.pk: g.summary for g in group_by(rows, "strategic_goal")}
    by_policy = {g.key.pk: g.summary for g in group_by(rows, "policy_goal")}
    goal_ids = [sg.goal.pk for d in report.departments for sg in d.strategic_goals]
    shares, budgets, _dept_shares, _dept_budgets = plan_shares(plan, goal_ids)
    checked = 0
    for department in report.departments:
        for sg in department.strategic_goals:
            assert sg.share == shares[sg.goal.pk] and sg.budget == budgets[sg.goal.pk]
            if sg.goal.pk in by_goal:
                want = by_goal[sg.goal.pk]
                assert sg.summary.total == want["total"]
                assert [sg.summary.tally.by_status[s] for s in STATUSES] == [
                    want["by_status"][s] for s in STATUSES
                ]
                checked += 1
            for pg in sg.policy_goals:
                if pg.goal.pk in by_policy:
                    assert pg.summary.total == by_policy[pg.goal.pk]["total"]
    assert checked == len(by_goal) > 5
    # the seed's shares are the plan's own: they add up to 100 %
    total = sum((s for s in shares.values() if s is not None), Decimal(0))
    assert abs(total - HUNDRED) < 1
    # mean rate: of the indicators that have one
    rated = [line.row.rate for line in report.lines if line.row.rate is not None]
    assert report.summary.mean_rate == rounded(sum(rated, Decimal(0)) / len(rated))


def test_the_page_shows_the_figures(seed_report, client, plan_admin_user):
    plan, report = seed_report
    client.force_login(plan_admin_user)
    from django.urls import reverse

    from indicators.tests.support import freeze_today  # noqa: F401 (documented helper)

    response = client.get(reverse("reports:report"), {"year": YEAR})
    assert response.status_code == 200
    html = response.content.decode()
    for section in report.departments:
        assert section.department.name in html
    line = next(line for line in report.lines if line.row.rate is not None)
    assert line.rate_text in html
