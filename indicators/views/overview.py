"""The plan overview: counts by status and achievement, departments and strategic goals with
their budget shares, and the indicators at risk (from stored standings)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.template.response import TemplateResponse
from django.utils.translation import gettext as _

from goals.models import PlanDepartment, StrategicGoal
from perfplan.money import budget_shares
from perfplan.scoping import restrict

from ..formats import annual_target_text, fmt_figure, fmt_rate
from ..models import Indicator, IndicatorStanding
from .screen import build_screen, page_context


def _bucket_bars(summary):
    total = sum(b["count"] for b in summary["buckets"]) or 1
    return [
        {**b, "width": round(b["count"] * 100 / total, 1), "index": i}
        for i, b in enumerate(summary["buckets"])
    ]


def plan_shares(plan, goal_ids):
    """Budget shares (비중 %) of strategic goals and departments, over the whole plan.

    A share is the plan's own figure (as on the plan page): the denominator is the sum of
    every strategic goal's budget; goal figures are returned for `goal_ids` only (the goals
    shown, already scoped).
    """
    goals = list(
        StrategicGoal.objects.filter(plan_department__plan=plan).values_list(
            "pk", "plan_department_id", "budget"
        )
    )
    goal_shares = budget_shares({pk: budget for pk, _d, budget in goals})
    by_department = {}
    for _pk, department_id, budget in goals:
        if budget is not None:
            by_department[department_id] = by_department.get(department_id, Decimal(0)) + budget
    shown = set(goal_ids)
    return (
        {pk: s for pk, s in goal_shares.items() if pk in shown},
        {pk: budget for pk, _d, budget in goals if pk in shown},
        budget_shares(by_department),
        by_department,
    )


# At-risk indicators listed on the overview page (a whole plan can have thousands).
AT_RISK_SHOWN = 100


@dataclass
class AtRiskIndicator:
    """What the at-risk list shows of an indicator."""

    pk: int
    name: str
    direction: str
    annual_target: Decimal | None
    target_min: Decimal | None
    target_max: Decimal | None
    unit: str = ""


def at_risk_items(indicator_ids):
    """The at-risk list's lines for these indicators (worst first, as given)."""
    from ..tracking.rules import FORECAST_METHOD_TEXT

    fields = ("name", "direction", "annual_target", "target_min", "target_max", "unit")
    figures = ("projected", "forecast_rate", "forecast_method", "has_sample")
    found = {
        row[0]: row
        for row in Indicator.objects.filter(pk__in=indicator_ids)
        .order_by()
        .values_list(
            "pk",
            *fields,
            f"{Indicator.scope.to(PlanDepartment)}__name",
            *(f"standing__{f}" for f in figures),
        )
    }
    items = []
    for pk in indicator_ids:
        (_pk, name, direction, target, low, high, unit, department, projected, rate, method,
         sample) = found[pk]  # fmt: skip
        indicator = AtRiskIndicator(pk, name, direction, target, low, high, unit)
        items.append(
            {
                "indicator": indicator,
                "department_name": department,
                "is_sample": sample,
                "projected_value": projected,
                "rate_value": rate,
                "projected": fmt_figure(indicator, projected),
                "rate": fmt_rate(rate),
                "target": annual_target_text(indicator),
                "method": FORECAST_METHOD_TEXT.get(method, ""),
            }
        )
    return items


def overview_data(screen, user, *, all_at_risk=False):
    """The overview's figures, counted from the indicators' standings (indicators.overview):
    a fixed number of queries and nothing computed per result, whatever the plan's size.

    The page lists the 100 worst at risk and, up to LONG_LIST, the strategic goals and the
    indicators whose last ended period has no value (beyond, their number per department,
    which the department's own overview names); the exports (all_at_risk) list everything."""
    from ..overview import LONG_LIST, plan_overview
    from ..tracking.rules import FORECAST_METHOD_TEXT

    if screen.plan is None:
        return None
    standings = restrict(IndicatorStanding.objects.in_plan(screen.plan), user)
    narrowed = screen.filterset.narrows_indicators()
    if narrowed:  # the shown indicators
        standings = standings.filter(indicator__in=screen.indicators)
    overview = plan_overview(
        screen.plan,
        standings,
        screen.today,
        status=screen.filterset.status_value,
        at_risk_limit=None if all_at_risk else AT_RISK_SHOWN,
        goal_limit=None if all_at_risk else LONG_LIST,
        missing_limit=None if all_at_risk else LONG_LIST,
        # the whole plan (or the user's departments) read again only after a write; a
        # narrower choice is counted each time (it may search the goals' names)
        keep=not narrowed,
    )
    goals = overview.goals or []
    goal_shares, goal_budgets, dept_shares, dept_budgets = plan_shares(
        screen.plan, [line.key.pk for line in goals]
    )
    for lines, shares, budgets in (
        (overview.departments, dept_shares, dept_budgets),
        (goals, goal_shares, goal_budgets),
    ):
        for line in lines:
            line.share, line.budget = shares.get(line.key.pk), budgets.get(line.key.pk)
    summary = overview.total.summary()
    methods = overview.methods or list(FORECAST_METHOD_TEXT)
    return {
        # The worst first, as many as a page can hold; the exports list them all.
        "at_risk_shown": AT_RISK_SHOWN,
        "at_risk_more": summary["at_risk"] - len(overview.at_risk),
        "summary": summary,
        "buckets": _bucket_bars(summary),
        "completeness_text": fmt_rate(summary["completeness"]["percent"]),
        "departments": overview.departments,
        "goals": overview.goals,
        "goal_count": overview.goal_count,
        "long_list": LONG_LIST,
        "missing_unlisted": any(
            line.missing_count and not line.missing_last for line in overview.departments
        ),
        "at_risk": at_risk_items(overview.at_risk),
        "method_texts": [FORECAST_METHOD_TEXT[m] for m in methods],
        "has_sample": overview.has_sample,
    }


def overview_view(request):
    screen = build_screen(request, with_rows=False)
    data = overview_data(screen, request.user)
    context = page_context(
        request,
        _("Plan overview"),
        screen=screen,
        data=data,
        tab="overview",
        export_query=screen.query_string(),
        has_sample=bool(data and data["has_sample"]),
    )
    return TemplateResponse(request, "indicators/overview.html", context)
