"""Every tracking rule (indicators.tracking): achievement, aggregation, year to date, status, forecast, summaries."""

from datetime import date
from decimal import Decimal as D

import pytest
from django.utils import translation

from goals.models import PlanDepartment
from goals.tests.factories import make_plan
from indicators.models import Indicator, PeriodTarget, Result
from indicators.periods import get_period, periods_for
from indicators.tracking.rows import (
    tracking_rows,
)
from indicators.tracking.rules import (
    ACHIEVED,
    BEHIND,
    CAUTION,
    FORECAST_METHOD_TEXT,
    LOWER_IS_BETTER_CAP,
    MISSING,
    NO_DATA,
    STATUS_LABELS,
    STATUSES,
    achievement_rate,
    aggregate,
    bucket_of,
    forecast,
    period_target,
    status_for,
    ytd_range,
    ytd_target,
)
from indicators.tracking.summaries import (
    at_risk_rows,
    group_by,
    summarize,
)


def ind(**kwargs):
    """An unsaved indicator: the rules need only its definition."""
    kwargs.setdefault("name", "지표")
    return Indicator(**kwargs)


# ---------------------------------------------------------------- achievement: higher


@pytest.mark.parametrize(
    "target, actual, rate",
    [
        (100, 90, D("90.00")),
        (100, 100, D("100.00")),
        (100, 150, D("150.00")),  # over-achievement is not capped for higher-is-better
        (3, 1, D("33.33")),
        (3, 2, D("66.67")),  # rounded half up to 2 decimals
        (D("0.5"), D("0.25"), D("50.00")),
        (100, 0, D("0.00")),
        (100, -20, D("0.00")),  # worse than nothing scores 0, never negative
        (-3, -3, D("100.00")),  # negative target: "at most a 3 % fall"
        (-3, -1, D("166.67")),  # a smaller fall is better
        (-3, -6, D("0.00")),  # twice the allowed fall
        (-4, -5, D("75.00")),
        (0, 0, D("100.00")),  # a zero target is met by anything at or above it
        (0, 7, D("100.00")),
        (0, -1, D("0.00")),
    ],
)
def test_higher_is_better(target, actual, rate):
    assert achievement_rate("higher", target, actual) == rate


def test_missing_values_are_no_data_never_zero():
    for direction in ("higher", "lower", "range"):
        assert achievement_rate(direction, 100, None, target_min=1, target_max=2) is None
    assert achievement_rate("higher", None, 5) is None
    assert achievement_rate("lower", None, 5) is None
    assert achievement_rate("range", None, 5) is None  # no bounds, no target
    assert achievement_rate("higher", "", 5) is None


def test_blank_direction_is_higher_and_floats_are_read_exactly():
    assert achievement_rate("", 100, 80) == D("80.00")
    assert achievement_rate("higher", 0.3, 0.1) == D("33.33")
    assert achievement_rate("higher", 3, 1.1) == D("36.67")


# ---------------------------------------------------------------- achievement: lower


@pytest.mark.parametrize(
    "target, actual, ratio, complement",
    [
        (5, 5, D("100.00"), D("100.00")),
        (5, 4, D("125.00"), D("120.00")),
        (5, 10, D("50.00"), D("0.00")),
        (5, 6, D("83.33"), D("80.00")),
        (5, 15, D("33.33"), D("0.00")),  # complement floored at 0
        (5, 2, D("200.00"), D("160.00")),  # ratio capped at 200
        (5, 1, D("200.00"), D("180.00")),
        (5, 0, LOWER_IS_BETTER_CAP, LOWER_IS_BETTER_CAP),  # a perfect 0: both give 200
        (5, -1, LOWER_IS_BETTER_CAP, LOWER_IS_BETTER_CAP),
        (0, 0, D("100.00"), D("100.00")),  # zero target met exactly
        (0, -2, D("100.00"), D("100.00")),
        (0, 3, D("0.00"), D("0.00")),  # no partial credit against a zero target
        (-5, -5, D("100.00"), D("100.00")),  # negative target: complement for both
        (-5, -7, D("140.00"), D("140.00")),  # a larger fall is better
        (-5, -3, D("60.00"), D("60.00")),
    ],
)
def test_lower_is_better_both_methods(target, actual, ratio, complement):
    assert achievement_rate("lower", target, actual) == ratio  # "ratio" is the default
    assert achievement_rate("lower", target, actual, method="ratio") == ratio
    assert achievement_rate("lower", target, actual, method="complement") == complement


def test_lower_is_better_never_exceeds_the_cap():
    for actual in (D("0.001"), D("0.5"), 1):
        assert achievement_rate("lower", 100, actual) == LOWER_IS_BETTER_CAP
    assert achievement_rate("lower", 100, -50, method="complement") == LOWER_IS_BETTER_CAP


# ---------------------------------------------------------------- achievement: range


@pytest.mark.parametrize(
    "low, high, actual, rate",
    [
        (80, 90, 85, D("100.00")),
        (80, 90, 80, D("100.00")),  # bounds included
        (80, 90, 90, D("100.00")),
        (80, 90, 60, D("75.00")),  # below: actual ÷ min
        (80, 90, 99, D("90.00")),  # above: (2 − actual ÷ max)
        (80, 90, 200, D("0.00")),
        (80, 90, -5, D("0.00")),
        (90, 80, 85, D("100.00")),  # reversed bounds are swapped
        (90, 80, 60, D("75.00")),
        (0, 10, -5, D("50.00")),  # a zero bound: the width is the scale
        (-10, 0, 5, D("50.00")),
        (-10, -5, -12, D("80.00")),  # negative bounds scale by their size
        (0, 0, 0, D("100.00")),
        (0, 0, 1, D("0.00")),  # zero-width range at 0: nothing to scale by
        (80, None, 60, D("75.00")),  # one-sided ranges
        (80, None, 1000, D("100.00")),
        (None, 90, 99, D("90.00")),
        (None, 90, 0, D("100.00")),
    ],
)
def test_range(low, high, actual, rate):
    assert achievement_rate("range", None, actual, target_min=low, target_max=high) == rate


def test_range_without_bounds_uses_the_target_as_a_point():
    assert achievement_rate("range", 50, 50) == D("100.00")
    assert achievement_rate("range", 50, 40) == D("80.00")


# ---------------------------------------------------------------- aggregation


def test_aggregations():
    values = [D(3), None, D(5), D("4.5")]
    assert aggregate(values, "sum") == D("12.5")
    assert aggregate(values, "latest") == D("4.5")
    assert aggregate(values, "average") == D("4.1667")  # None is skipped, not counted as 0
    assert aggregate([D(1), D(2), None], "latest") == D(2)  # last value given
    assert aggregate(values, "") == D("4.5")  # blank: latest, never an inflating sum
    for aggregation in ("sum", "latest", "average"):
        assert aggregate([], aggregation) is None
        assert aggregate([None, None], aggregation) is None
    assert aggregate([D(-2), D(2)], "sum") == 0
    assert aggregate([D(0)], "average") == 0


# ---------------------------------------------------------------- year to date


@pytest.mark.parametrize(
    "frequency, key, expected",
    [
        ("quarterly", "Q1", D(30)),
        ("quarterly", "Q3", D(90)),
        ("quarterly", "Q4", D(120)),
        ("monthly", "M01", D(10)),
        ("monthly", "M06", D(60)),
        ("half_yearly", "H1", D(60)),
        ("yearly", "Y", D(120)),
        ("", "Y", D(120)),
    ],
)
def test_ytd_target_sum_pro_rata(frequency, key, expected):
    indicator = ind(frequency=frequency, aggregation="sum", annual_target=D(120))
    assert ytd_target(indicator, {}, get_period(frequency, 2026, key)) == expected


def test_ytd_target_sum_pro_rata_is_exact_at_year_end():
    indicator = ind(frequency="quarterly", aggregation="sum", annual_target=D(100))
    assert ytd_target(indicator, {}, get_period("quarterly", 2026, "Q1")) == D("25")
    indicator.frequency = "monthly"
    assert ytd_target(indicator, {}, get_period("monthly", 2026, "M01")) == D("8.3333")
    assert ytd_target(indicator, {}, get_period("monthly", 2026, "M12")) == D(100)


def test_ytd_target_with_period_targets():
    indicator = ind(frequency="quarterly", aggregation="sum", annual_target=D(100))
    targets = {"Q1": D(10), "Q2": D(20), "Q3": D(30), "Q4": D(40)}
    q = {k: get_period("quarterly", 2026, k) for k in targets}
    assert ytd_target(indicator, targets, q["Q1"]) == D(10)
    assert ytd_target(indicator, targets, q["Q3"]) == D(60)
    # a period without its own target takes its pro rata share
    assert ytd_target(indicator, {"Q1": D(10)}, q["Q2"]) == D(35)
    indicator.annual_target = None
    assert ytd_target(indicator, targets, q["Q2"]) == D(30)  # complete period targets suffice
    assert ytd_target(indicator, {"Q1": D(10)}, q["Q2"]) is None  # a share of nothing
    indicator.aggregation = "latest"
    indicator.annual_target = D(80)
    assert ytd_target(indicator, targets, q["Q2"]) == D(20)
    assert ytd_target(indicator, {}, q["Q2"]) == D(80)
    assert ytd_target(indicator, {"Q1": D(10)}, q["Q2"]) == D(80)
    indicator.aggregation = "average"
    assert ytd_target(indicator, {}, q["Q3"]) == D(80)
    assert ytd_target(indicator, targets, q["Q3"]) == D(20)  # mean of 10, 20, 30
    assert ytd_target(indicator, {"Q1": D(20)}, q["Q2"]) == D(50)  # mean of 20 and 80
    assert ytd_target(indicator, targets, None) is None


def test_period_target_of_one_period():
    indicator = ind(frequency="quarterly", aggregation="sum", annual_target=D(100))
    q2 = get_period("quarterly", 2026, "Q2")
    assert period_target(indicator, {}, q2) == D(25)
    assert period_target(indicator, {"Q2": D(7)}, q2) == D(7)
    indicator.aggregation = "latest"
    assert period_target(indicator, {}, q2) == D(100)
    indicator.annual_target = None
    assert period_target(indicator, {}, q2) is None


def test_ytd_range_is_pro_rata_for_a_running_total_only():
    indicator = ind(
        direction="range",
        frequency="quarterly",
        aggregation="sum",
        target_min=D(80),
        target_max=D(120),
    )
    q1 = get_period("quarterly", 2026, "Q1")
    assert ytd_range(indicator, q1) == (D(20), D(30))
    indicator.aggregation = "latest"
    assert ytd_range(indicator, q1) == (D(80), D(120))


# ---------------------------------------------------------------- status


def test_status_thresholds_and_precedence():
    assert status_for(D(100), achieved=100, caution=90, missing_due=False) == ACHIEVED
    assert status_for(D("99.99"), achieved=100, caution=90, missing_due=False) == CAUTION
    assert status_for(D(90), achieved=100, caution=90, missing_due=False) == CAUTION
    assert status_for(D("89.99"), achieved=100, caution=90, missing_due=False) == BEHIND
    assert status_for(None, achieved=100, caution=90, missing_due=False) == NO_DATA
    # a missing due period wins over any rate: somebody has to enter it
    assert status_for(D(150), achieved=100, caution=90, missing_due=True) == MISSING
    assert status_for(None, achieved=100, caution=90, missing_due=True) == MISSING
    # thresholds are the plan's
    assert status_for(D(96), achieved=95, caution=80, missing_due=False) == ACHIEVED
    assert status_for(D(85), achieved=95, caution=80, missing_due=False) == CAUTION
    assert status_for(D(79), achieved=D("95.5"), caution=D("80"), missing_due=False) == BEHIND


def test_status_labels_in_both_languages():
    assert set(STATUS_LABELS) == set(STATUSES)
    with translation.override("en"):
        assert [str(STATUS_LABELS[s]) for s in STATUSES] == [
            "achieved",
            "caution",
            "behind",
            "missing",
            "no data",
        ]


# ---------------------------------------------------------------- forecast


TODAY = date(2026, 7, 15)


def test_forecast_sum_run_rate():
    indicator = ind(frequency="quarterly", aggregation="sum", annual_target=D(100))
    result = forecast(indicator, {"Q1": D(20), "Q2": D(30)}, 2026, TODAY)
    assert result.projected == D(100)  # 50 in two quarters → 100 in four
    assert result.rate == D("100.00") and not result.at_risk
    assert result.method == "sum" and result.periods_used == 2
    result = forecast(indicator, {"Q1": D(20), "Q2": D(20)}, 2026, TODAY)
    assert result.projected == D(80) and result.at_risk
    # a gap is unknown, not zero: the run rate is over the periods entered
    result = forecast(indicator, {"Q2": D(25)}, 2026, TODAY)
    assert result.projected == D(100) and not result.at_risk


def test_forecast_latest_linear_trend():
    indicator = ind(frequency="quarterly", aggregation="latest", annual_target=D(90))
    result = forecast(indicator, {"Q1": D(60), "Q2": D(70)}, 2026, TODAY)
    assert result.projected == D(90)  # +10 a quarter → 90 in Q4
    assert not result.at_risk
    result = forecast(indicator, {"Q1": D(60), "Q2": D(65)}, 2026, TODAY)
    assert result.projected == D(75) and result.at_risk
    # least squares through 61, 69, 81: slope 10, mean 70.33 at Q2 → Q4 = 70.33 + 2 × 10
    result = forecast(indicator, {"Q1": D(61), "Q2": D(69), "Q3": D(81)}, 2026, date(2026, 10, 2))
    assert result.projected == D("90.33")
    # one value: that value
    assert forecast(indicator, {"Q1": D(95)}, 2026, TODAY).projected == D(95)
    # the last period entered: its value is the year-end value
    final = forecast(
        indicator, {"Q1": D(10), "Q2": D(20), "Q3": D(30), "Q4": D(35)}, 2026, date(2027, 1, 5)
    )
    assert final.projected == D(35)


def test_forecast_average_is_the_mean_so_far():
    indicator = ind(frequency="monthly", aggregation="average", annual_target=D(80))
    result = forecast(indicator, {"M01": D(70), "M02": D(80), "M03": D(84)}, 2026, TODAY)
    assert result.projected == D("78.00") and result.at_risk


def test_forecast_is_direction_aware():
    lower = ind(frequency="quarterly", aggregation="sum", direction="lower", annual_target=D(100))
    assert forecast(lower, {"Q1": D(20), "Q2": D(20)}, 2026, TODAY).at_risk is False
    assert forecast(lower, {"Q1": D(40), "Q2": D(30)}, 2026, TODAY).at_risk is True
    ranged = ind(
        frequency="quarterly",
        aggregation="latest",
        direction="range",
        target_min=D(80),
        target_max=D(90),
    )
    assert forecast(ranged, {"Q1": D(85)}, 2026, TODAY).at_risk is False
    assert forecast(ranged, {"Q1": D(95)}, 2026, TODAY).at_risk is True
    assert forecast(ranged, {"Q1": D(70), "Q2": D(75)}, 2026, TODAY).projected == D(85)


def test_forecast_without_values_or_target():
    indicator = ind(frequency="quarterly", aggregation="sum", annual_target=D(100))
    empty = forecast(indicator, {}, 2026, TODAY)
    assert (empty.projected, empty.at_risk, empty.rate) == (None, False, None)
    indicator.annual_target = None
    no_target = forecast(indicator, {"Q1": D(5)}, 2026, TODAY)
    assert no_target.projected == D(20) and not no_target.at_risk and no_target.rate is None


def test_forecast_ignores_periods_not_begun():
    indicator = ind(frequency="quarterly", aggregation="sum", annual_target=D(100))
    result = forecast(indicator, {"Q1": D(25), "Q4": D(1000)}, 2026, date(2026, 4, 10))
    assert result.projected == D(100) and result.periods_used == 1


def test_forecast_threshold_and_method_text():
    indicator = ind(frequency="yearly", aggregation="latest", annual_target=D(100))
    assert not forecast(indicator, {"Y": D(96)}, 2026, TODAY, threshold=95).at_risk
    assert forecast(indicator, {"Y": D(96)}, 2026, TODAY).at_risk
    with translation.override("en"):
        assert "least squares" in str(forecast(indicator, {"Y": 1}, 2026, TODAY).method_text)
        assert set(FORECAST_METHOD_TEXT) == {"sum", "latest", "average"}


# ---------------------------------------------------------------- tracking rows (database)


@pytest.fixture
def plan(db):
    plan = make_plan(2026, departments=2, goals=1, policy_goals=1, indicators=2)
    return plan


def _indicators(plan):
    return list(
        Indicator.objects.in_plan(plan).order_by(
            f"{Indicator.scope.to(PlanDepartment)}__position", "position"
        )
    )


def _define(indicator, **values):
    for key, value in values.items():
        setattr(indicator, key, value)
    indicator.save()


def _results(indicator, **values):
    for key, value in values.items():
        Result.objects.create(indicator=indicator, period=key, value=value)


def test_tracking_rows_statuses_cells_and_ytd(plan):
    a, b, c, d = _indicators(plan)
    _define(a, frequency="quarterly", aggregation="sum", annual_target=D(100))
    _results(a, Q1=D(25), Q2=D(30))  # 55 vs 50: achieved
    _define(b, frequency="quarterly", aggregation="latest", annual_target=D(80))
    _results(b, Q1=D(70), Q2=D(74))  # 92.5 %: caution
    _define(c, frequency="quarterly", aggregation="average", direction="lower", annual_target=5)
    _results(c, Q1=D(8))  # 62.5 %, and Q2 missing
    _define(d, frequency="yearly", annual_target=D(10))  # nothing due yet
    rows = tracking_rows(Indicator.objects.all(), plan, date(2026, 7, 15))
    by_name = {row.indicator.pk: row for row in rows}
    ra, rb, rc, rd = (by_name[i.pk] for i in (a, b, c, d))

    assert [c.period.key for c in ra.cells] == ["Q1", "Q2", "Q3", "Q4"]
    assert [c.is_due for c in ra.cells] == [True, True, False, False]
    assert [c.value for c in ra.cells] == [D(25), D(30), None, None]
    assert [c.target for c in ra.cells] == [D(25), D(50), D(75), D(100)]
    assert ra.cells[0].result.value == D(25) and ra.cells[2].result is None
    assert (ra.ytd_actual, ra.ytd_target, ra.rate, ra.status) == (
        D(55),
        D(50),
        D("110.00"),
        ACHIEVED,
    )
    assert ra.department.name == "부서000" and ra.strategic_goal.name.startswith("전략목표")
    assert ra.policy_goal.strategic_goal == ra.strategic_goal
    assert ra.last_update is not None and ra.forecast.projected == D(110)

    assert (rb.ytd_actual, rb.ytd_target, rb.rate, rb.status) == (
        D(74),
        D(80),
        D("92.50"),
        CAUTION,
    )
    assert rc.status == MISSING and rc.rate == D("62.50")  # the rate of what is entered
    assert [str(p) for p in rc.missing_periods] == ["Q2"]
    assert (rd.status, rd.rate, rd.upto, rd.ytd_target) == (NO_DATA, None, None, None)
    assert (rd.due_count, rd.entered_due_count) == (0, 0)
    assert not any(r.has_sample for r in rows)


def test_tracking_rows_use_the_plan_thresholds(plan):
    a = _indicators(plan)[0]
    _define(a, frequency="yearly", annual_target=D(100))
    _results(a, Y=D(96))
    after = date(2027, 1, 5)
    assert tracking_rows(Indicator.objects.all(), plan, after)[0].status == CAUTION
    plan.threshold_achieved = D(95)
    plan.threshold_caution = D(80)
    rows = tracking_rows(Indicator.objects.all(), plan, after)
    assert rows[0].status == ACHIEVED
    assert rows[0].forecast.at_risk is False  # projected 96 ≥ the plan's 95


def test_tracking_rows_with_period_targets_and_samples(plan):
    a = _indicators(plan)[0]
    _define(a, frequency="half_yearly", aggregation="sum", annual_target=D(100))
    PeriodTarget.objects.create(indicator=a, period="H1", target=D(30))
    Result.objects.create(indicator=a, period="H1", value=D(27), is_sample=True)
    row = tracking_rows(Indicator.objects.filter(pk=a.pk), plan, date(2026, 8, 1))[0]
    assert row.cells[0].target == D(30) and row.cells[1].target == D(80)
    assert row.cells[1].period_target == D(50)
    assert row.rate == D("90.00") and row.status == CAUTION
    assert row.has_sample


def test_tracking_rows_result_without_value_is_missing(plan):
    a = _indicators(plan)[0]
    _define(a, frequency="quarterly", aggregation="sum", annual_target=D(100))
    Result.objects.create(indicator=a, period="Q1", value=None, note="집계 중")
    row = tracking_rows(Indicator.objects.filter(pk=a.pk), plan, date(2026, 4, 2))[0]
    assert row.cells[0].result is not None and row.cells[0].value is None
    assert row.status == MISSING and row.ytd_actual is None and row.ytd_target == D(25)


def test_tracking_rows_only_for_the_given_plan(plan):
    other = make_plan(2027, departments=1, goals=1, policy_goals=1, indicators=3)
    assert len(tracking_rows(Indicator.objects.all(), plan, date(2026, 5, 1))) == 4
    assert len(tracking_rows(Indicator.objects.all(), other, date(2026, 5, 1))) == 3


def test_tracking_rows_range_indicator(plan):
    a = _indicators(plan)[0]
    _define(
        a,
        direction="range",
        frequency="quarterly",
        aggregation="sum",
        target_min=D(80),
        target_max=D(120),
    )
    _results(a, Q1=D(10))  # YTD range 20..30 → 10 ÷ 20 = 50 %
    row = tracking_rows(Indicator.objects.filter(pk=a.pk), plan, date(2026, 4, 2))[0]
    assert (row.ytd_target_min, row.ytd_target_max) == (D(20), D(30))
    assert row.rate == D("50.00") and row.status == BEHIND


def test_summary_counts_buckets_completeness_and_groups(plan):
    a, b, c, d = _indicators(plan)
    _define(a, frequency="quarterly", aggregation="sum", annual_target=D(100))
    _results(a, Q1=D(25), Q2=D(30))  # 110 %
    _define(b, frequency="quarterly", aggregation="latest", annual_target=D(100))
    _results(b, Q1=D(40), Q2=D(45))  # 45 %
    _define(c, frequency="quarterly", aggregation="latest", annual_target=D(100))
    _results(c, Q1=D(60))  # 60 %, Q2 missing
    _define(d, frequency="quarterly", aggregation="latest", annual_target=D(100))
    rows = tracking_rows(Indicator.objects.all(), plan, date(2026, 7, 15))
    summary = summarize(rows)
    assert summary["total"] == 4
    assert summary["by_status"] == {
        ACHIEVED: 1,
        CAUTION: 0,
        BEHIND: 1,
        MISSING: 2,
        NO_DATA: 0,
    }
    assert {b["key"]: b["count"] for b in summary["buckets"]} == {
        "lt50": 1,
        "50_70": 1,
        "70_90": 0,
        "90_100": 0,
        "ge100": 1,
    }
    assert summary["rated"] == 3
    assert summary["completeness"] == {"due": 8, "entered": 5, "percent": D("62.50")}
    assert summary["at_risk"] == 2  # b (45 → 55 trend) and c (60) miss 100; a does not
    assert [r.indicator.pk for r in at_risk_rows(rows)] == [b.pk, c.pk]

    groups = group_by(rows, "department")
    assert [g.key.name for g in groups] == ["부서000", "부서001"]
    assert [len(g.rows) for g in groups] == [2, 2]
    assert groups[0].summary["by_status"][ACHIEVED] == 1
    assert groups[1].summary["completeness"]["entered"] == 1
    assert len(group_by(rows, "strategic_goal")) == 2
    assert len(group_by(rows, lambda row: row.status)) == 3


def test_summary_of_nothing():
    summary = summarize([])
    assert summary["total"] == 0 and summary["completeness"]["percent"] is None
    assert all(v == 0 for v in summary["by_status"].values())


@pytest.mark.parametrize(
    "rate, key",
    [
        (None, None),
        (D("0"), "lt50"),
        (D("49.99"), "lt50"),
        (D("50"), "50_70"),
        (D("70"), "70_90"),
        (D("89.99"), "70_90"),
        (D("90"), "90_100"),
        (D("99.99"), "90_100"),
        (D("100"), "ge100"),
        (D("250"), "ge100"),
    ],
)
def test_buckets(rate, key):
    assert bucket_of(rate) == key


def test_periods_for_cells_match_frequency(plan):
    a = _indicators(plan)[0]
    _define(a, frequency="monthly", aggregation="sum", annual_target=D(12))
    row = tracking_rows(Indicator.objects.filter(pk=a.pk), plan, date(2026, 3, 15))[0]
    assert [c.period for c in row.cells] == periods_for("monthly", 2026)
    assert row.due_count == 2 and row.status == MISSING
