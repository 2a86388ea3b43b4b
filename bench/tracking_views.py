#!/usr/bin/env python
"""Tracking views benchmark: the department grid and the plan overview at national scale.

Not a test. Fills a dedicated PostgreSQL database (perfplan_bench_views by default: created
and migrated if missing) once with --years plans (the fiscal years up to this one), each of
--departments departments × --indicators monthly indicators (3 strategic goals with budgets,
10 policy goals and 20 unit programs per department) and their results: 12 monthly results
per indicator and year for the years that have ended, the months due so far for this year,
in a realistic mix of states (mostly approved; some submitted, returned and draft; a few
months missing, more in lagging departments; a tenth of the indicators with per-month
targets). 250 × 40 × 5 gives 50,000 indicators and about 560,000 results. Results and period
targets are written with COPY, the hierarchy with bulk_create, inside
change_context(quiet=True): no change-log entry for bench data.

Users, with the project's role groups and department assignments (so scoping is real): one
officer (담당자) and one reviewer (부서 승인자) per department, and a plan admin
(성과관리 관리자) with no department.

Then it requests, through Django's test client in-process, each case after a few warm-up
requests (a different department or goal each request where the case says so):

  grid_officer      my/ as an officer: his own department (a different officer each request)
  grid_reviewer     my/ as a reviewer: his own department, with the review buttons
  grid_filtered     my/?period=Mxx&status=… as an officer (a period and a status filter)
  grid_admin_dept   my/?department=… as the plan admin (a department chosen in the filter)
  grid_admin_all    my/?page=… as the plan admin: the whole plan, one page of departments
  overview_dept     overview/?department=… as the plan admin
  overview_goal     overview/?strategic_goal=… as the plan admin
  overview_plan     overview/ as the plan admin: the whole plan of this year (10,000
                    indicators; target p95 ≤ 80 ms)               (--plan-requests times)
  overview_written  the same, each request right after a write to the plan's standings (a
                    StandingRevision appended before it, outside the timing), so the counts
                    kept from them (indicators.standing.kept_rows) are read again
                                                                  (--plan-requests times)
  overview_last_yr  overview/?year=<last year>: a whole plan and a whole year of results
                                                                  (--plan-requests times)
  export_grid       my/export/?format=xlsx as an officer         (--export-requests times)
  export_overview   overview/export/?format=xlsx as the plan admin (--export-requests times)
  standings         not a request: every standing of this year's plan computed from scratch
                    (indicators.standing), what the first overview of a month does unless
                    refresh_standings ran ahead; in a transaction rolled back afterwards

The overview counts the indicators' stored standings; before the cases they are made
current, as refresh_standings leaves them. What it counts is kept while they are unchanged:
overview_plan measures that (after the warm-up requests), overview_written the request
after a write.

The others run --requests times. It prints p50 / p95 / max server time per case (the whole
Django request: middleware, session, permission checks, the queries and the template or the
file), the p95 of the request's own CPU time and of its SQL time (connection.execute_wrapper),
the SQL queries per request, the indicator rows shown (department rows for the whole-plan
overview), the page's size, the full garbage collections that fell inside a timed request
(how many, the longest pause: they are server time too), and the verdict against the
target: p95 ≤ 100 ms for the grid and the overview (the exports are reported, not judged).
Figures are per request on this machine with a warm database cache; the garbage of the
setup and of the previous case is collected before each case. JSON goes to
bench/out/tracking_views-<stamp>.json and bench/out/tracking_views-latest.json.

Usage:

    .venv/bin/python bench/tracking_views.py                   # fill if needed, measure
    .venv/bin/python bench/tracking_views.py --requests 100
    .venv/bin/python bench/tracking_views.py --only grid_officer overview_dept
    .venv/bin/python bench/tracking_views.py --refill          # empty the plans, fill again
    .venv/bin/python bench/tracking_views.py --profile grid_officer   # cProfile one request
    .venv/bin/python bench/tracking_views.py --gc-threshold 0  # what if: no collector pauses
    .venv/bin/python bench/tracking_views.py --no-gc-tuning    # what if: Python's GC defaults
    BENCH_DATABASE_URL=postgres://user@host:5432/other .venv/bin/python bench/tracking_views.py

Runs with production settings (DJANGO_DEBUG=0; a throwaway secret key; no SSL redirect,
plain static storage, as the test client speaks plain HTTP and there is no collectstatic).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import os
import platform
import pstats
import random
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

# The sibling benchmark's setup: environment, database creation, percentile.
import common
from changelog_list import open_bench_database, percentile

BASE_DIR = Path(__file__).resolve().parent.parent
OUT = BASE_DIR / "bench" / "out"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/perfplan_bench_views"
TARGET_MS = 100
# issue 16: the whole-plan overview with margin, on a 2-core machine
CASE_TARGETS_MS = {"overview_plan": 80}
JUDGED = ("view", "plan")  # kinds of case held to TARGET_MS; exports are reported only
CODE_PREFIX = "BV"  # department codes of the bench: BV000…
STRATEGIC_GOALS = 3  # per department
POLICY_GOALS = (3, 3, 4)  # per strategic goal: 10 per department
UNIT_PROGRAMS = 2  # per policy goal
STATES_PAST = (  # a month of an ended year: (status, weight); None = not entered
    ("approved", 905),
    ("submitted", 25),
    ("returned", 15),
    ("draft", 25),
    (None, 30),
)
STATES_RECENT = (  # the last two months that have ended, this year
    ("approved", 50),
    ("submitted", 28),
    ("returned", 5),
    ("draft", 10),
    (None, 7),
)
STATES_OPEN = (  # the month still being entered
    ("approved", 0),
    ("submitted", 10),
    ("returned", 0),
    ("draft", 35),
    (None, 55),
)
RETURN_REASONS = (
    "증빙자료를 첨부해 주세요.",
    "전월 대비 증감 사유를 비고에 적어 주세요.",
    "산식과 다른 값입니다. 다시 확인해 주세요.",
)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--departments", type=int, default=250)
    parser.add_argument("--indicators", type=int, default=40, help="per department")
    parser.add_argument("--years", type=int, default=5, help="plans: the years up to this one")
    parser.add_argument("--requests", type=int, default=50, help="requests per case")
    parser.add_argument(
        "--plan-requests", type=int, default=5, help="per whole-plan overview case (slow)"
    )
    parser.add_argument("--export-requests", type=int, default=5, help="per export case")
    parser.add_argument("--warmup", type=int, default=3, help="warm-up requests per view case")
    parser.add_argument("--refill", action="store_true", help="delete the plans and fill again")
    parser.add_argument("--only", nargs="+", metavar="CASE", help="measure these cases only")
    parser.add_argument("--profile", metavar="CASE", help="cProfile one request of CASE")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--no-gc-tuning",
        dest="gc_tuning",
        action="store_false",
        help="what if the app server kept Python's collector settings (perfplan/wsgi.py "
        "tunes them as perfplan.runtime says; the bench does after its own setup)",
    )
    parser.add_argument(
        "--gc-threshold",
        type=int,
        metavar="N",
        help="what if the collector's first threshold were N (served: "
        "perfplan.runtime.YOUNG_THRESHOLD; Python's default 700; 0: no automatic "
        "collection, to see the figures without the collector's pauses)",
    )
    return parser.parse_args()


# ---------------------------------------------------------------- the data


def weighted(rng, choices):
    total = sum(weight for _value, weight in choices)
    pick = rng.uniform(0, total)
    for value, weight in choices:
        pick -= weight
        if pick <= 0:
            return value
    return choices[-1][0]


def ensure_users(departments):
    """One officer and one reviewer per department, and a plan admin (idempotent)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from perfplan import roles
    from perfplan.models import DepartmentAssignment

    User = get_user_model()
    groups = {name: Group.objects.get(name=name) for name in roles.ROLES}
    wanted = ["bench_admin"] + [
        f"bench_{kind}_{n:03d}" for n in range(len(departments)) for kind in ("officer", "reviewer")
    ]
    existing = set(User.objects.filter(username__in=wanted).values_list("username", flat=True))
    User.objects.bulk_create(
        [User(username=name, is_staff=True) for name in wanted if name not in existing],
        batch_size=1000,
    )
    users = {u.username: u for u in User.objects.filter(username__in=wanted)}
    admin = users["bench_admin"]
    admin.groups.set([groups[roles.PLAN_ADMIN]])
    officers, reviewers = {}, {}
    memberships = []
    assignments = []
    Membership = User.groups.through
    for n, department_id in enumerate(departments):
        for kind, group, into in (
            ("officer", roles.OFFICER, officers),
            ("reviewer", roles.REVIEWER, reviewers),
        ):
            user = users[f"bench_{kind}_{n:03d}"]
            into[department_id] = user
            memberships.append(Membership(user_id=user.pk, group_id=groups[group].pk))
            assignments.append(DepartmentAssignment(user=user, department_id=department_id))
    Membership.objects.bulk_create(memberships, ignore_conflicts=True, batch_size=2000)
    DepartmentAssignment.objects.bulk_create(assignments, ignore_conflicts=True, batch_size=2000)
    return admin, officers, reviewers


def ensure_departments(count):
    from perfplan.models import Department

    existing = set(
        Department.objects.filter(code__startswith=CODE_PREFIX).values_list("code", flat=True)
    )
    Department.objects.bulk_create(
        [
            Department(code=f"{CODE_PREFIX}{n:03d}", name=f"벤치실국{n:03d}")
            for n in range(count)
            if f"{CODE_PREFIX}{n:03d}" not in existing
        ]
    )
    return list(
        Department.objects.filter(code__startswith=CODE_PREFIX)
        .order_by("code")
        .values_list("pk", flat=True)[:count]
    )


def indicator_definition(rng, d, n):
    """A plausible monthly indicator: a count (running total), a rate, a score, a lower-is-better
    count or a range; the same kinds for a department's n-th indicator every year."""
    kind = (d * 7 + n * 3) % 20
    definition = {"frequency": "monthly", "weight": Decimal(rng.choice((5, 10, 15, 20)))}
    if kind < 8:  # a count over the year: 건수, 명, 회
        target = Decimal(rng.choice((120, 240, 600, 1200, 3600, 12000)))
        definition.update(unit=rng.choice(("건", "명", "회")), direction="higher")
        definition.update(aggregation="sum", annual_target=target, indicator_type="output")
    elif kind < 14:  # a rate in %
        target = Decimal(rng.randint(700, 980)) / 10
        definition.update(unit="%", direction="higher", aggregation="latest")
        definition.update(annual_target=target, indicator_type="outcome")
    elif kind < 16:  # a satisfaction score, averaged
        target = Decimal(rng.randint(780, 920)) / 10
        definition.update(unit="점", direction="higher", aggregation="average")
        definition.update(annual_target=target, indicator_type="outcome")
    elif kind < 19:  # lower is better: accidents, complaints (running total)
        target = Decimal(rng.choice((24, 60, 120, 360)))
        method = "complement" if kind == 18 else "ratio"
        definition.update(unit="건", direction="lower", lower_is_better_method=method)
        definition.update(aggregation="sum", annual_target=target, indicator_type="outcome")
    else:  # a range: a reserve kept within 100–110 %
        definition.update(unit="%", direction="range", aggregation="latest")
        definition.update(target_min=Decimal(100), target_max=Decimal(110))
        definition.update(annual_target=None, indicator_type="input")
    definition["baseline"] = (
        None if definition["annual_target"] is None else definition["annual_target"] * 9 / 10
    )
    return definition


def monthly_values(rng, indicator, performance):
    """Twelve values of one indicator-year, at `performance` × its target (direction-aware)."""
    target = indicator["annual_target"]
    aggregation = indicator["aggregation"]
    values = []
    for month in range(1, 13):
        noise = rng.uniform(0.85, 1.15)
        if indicator["direction"] == "range":
            value = 105 * performance * rng.uniform(0.97, 1.03)
        elif aggregation == "sum":
            share = float(target) / 12
            if indicator["direction"] == "lower":
                value = share / performance * noise
            else:
                value = share * performance * noise
        else:  # latest or average: a level that improves through the year
            ramp = 0.92 + 0.08 * month / 12
            value = float(target) * performance * ramp * rng.uniform(0.98, 1.02)
        values.append(Decimal(f"{max(value, 0):.1f}"))
    return values


def performance_of(rng, lagging):
    """How well an indicator does this year: achieved, caution or behind, as plans do."""
    roll = rng.random()
    if lagging:
        roll *= 0.7
    if roll < 0.22:
        return rng.uniform(0.55, 0.88)  # behind
    if roll < 0.40:
        return rng.uniform(0.90, 0.995)  # caution
    return rng.uniform(1.0, 1.15)  # achieved


def fill(args, departments, officers, reviewers):
    """The plans, their hierarchy, indicators, period targets and results."""
    from django.db import connection, transaction

    from budgets.models import UnitProgram
    from goals.models import PlanDepartment, PolicyGoal, StrategicGoal
    from indicators import standing
    from indicators.models import Indicator
    from perfplan.changelog import change_context
    from perfplan.models import Plan

    rng = random.Random(args.seed)
    today = date.today()
    years = list(range(today.year - args.years + 1, today.year + 1))
    started = time.perf_counter()
    counts = dict.fromkeys(
        ("plans", "departments", "strategic_goals", "policy_goals", "unit_programs"), 0
    )
    counts.update(indicators=0, period_targets=0, results=0)
    with change_context(quiet=True), transaction.atomic():
        with connection.cursor() as cursor:  # a dedicated database: every plan goes
            cursor.execute(
                "TRUNCATE indicators_evidence, indicators_result, indicators_periodtarget, "
                "indicators_entryexception, indicators_indicatorstanding, "
                "indicators_indicator, budgets_unitprogram, "
                "goals_policygoal, goals_strategicgoal, goals_plandepartment, perfplan_plan "
                "CASCADE"  # and whatever the later apps keep under a plan (reports, …)
            )
        lagging = set(rng.sample(departments, max(1, len(departments) // 12)))
        definitions = {}  # (department index, indicator index) -> definition, kept over years
        results_rows = []  # (indicator id, definition, year, lagging, department id)
        target_rows = []
        for year in years:
            plan = Plan.objects.create(
                fiscal_year=year,
                title=f"{year}년도 성과계획서 (벤치)",
                published_at=datetime(year - 1, 12, 20, tzinfo=UTC),
            )
            counts["plans"] += 1
            plan_departments = PlanDepartment.objects.bulk_create(
                [
                    PlanDepartment(
                        plan=plan, department_id=dept, name=f"벤치실국{d:03d}", position=d
                    )
                    for d, dept in enumerate(departments)
                ]
            )
            counts["departments"] += len(plan_departments)
            goals = StrategicGoal.objects.bulk_create(
                [
                    StrategicGoal(
                        plan_department=pd,
                        name=f"전략목표 {d + 1}-{g + 1}",
                        budget=Decimal(rng.randint(2_000, 400_000)),
                        position=g,
                    )
                    for d, pd in enumerate(plan_departments)
                    for g in range(STRATEGIC_GOALS)
                ],
                batch_size=2000,
            )
            counts["strategic_goals"] += len(goals)
            policy_goals = PolicyGoal.objects.bulk_create(
                [
                    PolicyGoal(
                        strategic_goal=goal,
                        name=f"정책사업목표 {goal.name[5:]}-{p + 1}",
                        position=p,
                    )
                    for goal in goals
                    for p in range(POLICY_GOALS[goal.position % len(POLICY_GOALS)])
                ],
                batch_size=2000,
            )
            counts["policy_goals"] += len(policy_goals)
            units = UnitProgram.objects.bulk_create(
                [
                    UnitProgram(
                        policy_goal=pg,
                        name=f"단위사업 {pg.name[7:]}-{u + 1}",
                        budget=Decimal(rng.randint(500, 80_000)),
                        prior_budget=Decimal(rng.randint(500, 80_000)),
                        position=u,
                    )
                    for pg in policy_goals
                    for u in range(UNIT_PROGRAMS)
                ],
                batch_size=5000,
            )
            counts["unit_programs"] += len(units)
            by_department = {}
            for pg in policy_goals:
                by_department.setdefault(pg.strategic_goal.plan_department_id, []).append(pg)
            indicators = []
            owners = []
            for d, pd in enumerate(plan_departments):
                pgs = by_department[pd.pk]
                for n in range(args.indicators):
                    key = (d, n)
                    if key not in definitions:
                        definitions[key] = indicator_definition(rng, d, n)
                    definition = dict(definitions[key])
                    if definition["annual_target"] is not None:  # targets move a little
                        definition["annual_target"] = (
                            definition["annual_target"] * Decimal(1 + (year - years[0]) * 0.03)
                        ).quantize(Decimal("0.1"))
                    pg = pgs[n * len(pgs) // args.indicators]
                    indicators.append(
                        Indicator(
                            policy_goal=pg,
                            code=f"{d + 1:03d}-{n + 1:02d}",
                            name=f"성과지표 {d + 1:03d}-{n + 1:02d}",
                            position=n,
                            original_annual_target=definition["annual_target"],
                            **definition,
                        )
                    )
                    owners.append((pd.department_id, pd.department_id in lagging, definition))
            Indicator.objects.bulk_create(indicators, batch_size=5000)
            standing.link_plan(plan)  # as the plan import does: each indicator's standing row
            counts["indicators"] += len(indicators)
            for indicator, (department_id, is_lagging, definition) in zip(
                indicators, owners, strict=True
            ):
                results_rows.append((indicator.pk, definition, year, is_lagging, department_id))
                if rng.random() < 0.1 and definition["annual_target"] is not None:
                    target_rows.append((indicator.pk, definition))
            print(
                f"  {year}: {len(indicators):,} indicators ({time.perf_counter() - started:.0f} s)"
            )
        counts["period_targets"] = copy_period_targets(connection, target_rows, rng)
        counts["results"] = copy_results(
            connection, results_rows, rng, today, officers, reviewers, started
        )
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # the planner's statistics of every table filled
    seconds = time.perf_counter() - started
    print(f"filled {counts['results']:,} results in {seconds:.1f} s")
    return counts, round(seconds, 1)


def copy_period_targets(connection, rows, rng):
    written = 0
    with connection.cursor() as cursor:
        with cursor.cursor.copy(
            "COPY indicators_periodtarget (indicator_id, period, target) FROM STDIN"
        ) as copy:
            for indicator_id, definition in rows:
                annual = definition["annual_target"]
                for month in range(1, 13):
                    if definition["aggregation"] == "sum":  # seasonal shares of the year
                        target = annual / 12 * Decimal(f"{rng.uniform(0.7, 1.3):.2f}")
                    else:  # a level to reach step by step
                        target = annual * Decimal(f"{0.9 + 0.1 * month / 12:.4f}")
                    copy.write_row((indicator_id, f"M{month:02d}", target.quantize(Decimal("0.1"))))
                    written += 1
    return written


def copy_results(connection, rows, rng, today, officers, reviewers, started):
    """COPY each indicator-year's monthly results: the months that have begun, in a mix of
    states; this year's open month partly entered, later months not at all."""
    columns = (
        "indicator_id, period, value, note, status, return_reason, edited_after_approval, "
        "is_sample, entered_by_id, updated_at, submitted_at, reviewed_by_id, reviewed_at, version"
    )
    written = 0
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY indicators_result ({columns}) FROM STDIN") as copy:
            for number, (indicator_id, definition, year, lagging, department_id) in enumerate(rows):
                values = monthly_values(rng, definition, performance_of(rng, lagging))
                officer = officers[department_id].pk
                reviewer = reviewers[department_id].pk
                neglected = lagging and rng.random() < 0.25  # an indicator nobody keeps up
                for month in range(1, 13):
                    start = date(year, month, 1)
                    end = (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
                    if start > today:
                        break
                    if end >= today:
                        states = STATES_OPEN
                    elif year == today.year and (today - end).days < 62:
                        states = STATES_RECENT
                    else:
                        states = STATES_PAST
                    status = weighted(rng, states)
                    if status is None or (neglected and rng.random() < 0.4):
                        continue
                    value = values[month - 1]
                    if status == "draft" and rng.random() < 0.03:
                        value = None  # a note saved before the value
                    entered = datetime.combine(
                        min(end + timedelta(days=rng.randint(1, 9)), today), datetime.min.time()
                    ).replace(tzinfo=UTC) + timedelta(minutes=rng.randint(540, 1080))
                    submitted = reviewed = reviewed_by = None
                    reason = ""
                    if status in ("submitted", "approved", "returned"):
                        submitted = entered + timedelta(hours=rng.randint(1, 48))
                    if status in ("approved", "returned"):
                        reviewed = submitted + timedelta(hours=rng.randint(2, 120))
                        reviewed_by = reviewer
                    if status == "returned":
                        reason = rng.choice(RETURN_REASONS)
                    updated = reviewed or submitted or entered
                    copy.write_row(
                        (
                            indicator_id,
                            f"M{month:02d}",
                            value,
                            "",
                            status,
                            reason,
                            False,
                            False,
                            officer,
                            updated,
                            submitted,
                            reviewed_by,
                            reviewed,
                            1 + (status != "draft") + (reviewed is not None),
                        )
                    )
                    written += 1
                if number and number % 10_000 == 0:
                    print(f"  {written:,} results ({time.perf_counter() - started:.0f} s)")
    return written


def data_size():
    from django.db.models import Count

    from budgets.models import UnitProgram
    from goals.models import PlanDepartment, PolicyGoal, StrategicGoal
    from indicators.models import Indicator, PeriodTarget, Result
    from perfplan.models import Plan

    by_status = dict(Result.objects.values_list("status").annotate(n=Count("id")).order_by())
    return {
        "plans": Plan.objects.count(),
        "departments": PlanDepartment.objects.count(),
        "strategic_goals": StrategicGoal.objects.count(),
        "policy_goals": PolicyGoal.objects.count(),
        "unit_programs": UnitProgram.objects.count(),
        "indicators": Indicator.objects.count(),
        "period_targets": PeriodTarget.objects.count(),
        "results": sum(by_status.values()),
        "results_by_status": by_status,
    }


# ---------------------------------------------------------------- the requests


class QueryTimer:
    """Counts the request's SQL statements and adds up their time (execute_wrapper)."""

    def __init__(self):
        self.count = 0
        self.seconds = 0.0

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started
            self.count += 1


def written(plan):
    """A write to `plan`'s standings, as a computation's batch records it (outside the
    timing): what the overview kept of them is not used by the next request."""
    from indicators import standing

    standing.revised([plan.pk])


def cases(admin, officers, reviewers, plan, last_plan, rng):
    """name -> (kind, make a (user, url) for one request)."""
    from django.urls import reverse

    from goals.models import StrategicGoal
    from indicators.tracking.rules import STATUSES

    grid = reverse("tracking:my_department")
    overview = reverse("tracking:overview")
    departments = list(officers)
    goals = list(
        StrategicGoal.objects.filter(plan_department__plan=plan).values_list("pk", flat=True)
    )
    months = [f"M{m:02d}" for m in range(1, 13)]

    def dept():
        return rng.choice(departments)

    return {
        "grid_officer": ("view", lambda: (officers[dept()], grid)),
        "grid_reviewer": ("view", lambda: (reviewers[dept()], grid)),
        "grid_filtered": (
            "view",
            lambda: (
                officers[dept()],
                f"{grid}?period={rng.choice(months)}&status={rng.choice(STATUSES)}",
            ),
        ),
        "grid_admin_dept": ("view", lambda: (admin, f"{grid}?department={dept()}")),
        # the whole plan a page of departments at a time (indicators.views.grid.GRID_PAGE_ROWS)
        "grid_admin_all": (
            "view",
            lambda: (admin, f"{grid}?page={rng.randint(1, len(departments))}"),
        ),
        "overview_dept": ("view", lambda: (admin, f"{overview}?department={dept()}")),
        "overview_goal": (
            "view",
            lambda: (admin, f"{overview}?strategic_goal={rng.choice(goals)}"),
        ),
        "overview_plan": ("plan", lambda: (admin, overview)),
        # each request right after a write to the plan's standings (a computation's batch,
        # appended before the request): the overview's kept counts are read again
        "overview_written": ("plan", lambda: (written(plan), (admin, overview))[1]),
        "overview_last_yr": ("plan", lambda: (admin, f"{overview}?year={last_plan.fiscal_year}")),
        "export_grid": (
            "export",
            lambda: (officers[dept()], reverse("tracking:my_department_export") + "?format=xlsx"),
        ),
        "export_overview": (
            "export",
            lambda: (admin, reverse("tracking:overview_export") + "?format=xlsx"),
        ),
    }


class Clients:
    """One test client per role, logged in as the user a request needs (outside the timing).

    Not one client per user: 500 clients would double the process's heap, and with it the
    cost of each full garbage collection, beyond what an app server process carries.
    """

    def __init__(self):
        self.clients = {}

    def __call__(self, user):
        from django.test import Client

        role = user.username.rsplit("_", 1)[0]  # bench_officer_007 → bench_officer
        client, logged_in = self.clients.get(role, (None, None))
        if client is None:
            client = Client()
        if logged_in != user.pk:
            client.force_login(user)
        self.clients[role] = (client, user.pk)
        return client


class FullCollections:
    """The pauses of the garbage collector's full (generation 2) collections (gc.callbacks)."""

    def __init__(self):
        self.pauses = []
        self.started = None

    def __call__(self, phase, info):
        if info["generation"] != 2:
            return
        if phase == "start":
            self.started = time.perf_counter()
        elif self.started is not None:
            self.pauses.append((time.perf_counter() - self.started) * 1000)
            self.started = None

    def __enter__(self):
        gc.callbacks.append(self)
        return self

    def __exit__(self, *exc):
        gc.callbacks.remove(self)


def shown_rows(response):
    if response.get("Content-Disposition"):
        return None
    content = response.content
    return content.count(b" data-row ") or content.count(b"<tr data-department=")


def measure(case_list, count, warmup, clients):
    from django.db import connection

    results = {}
    for name, (kind, make) in case_list.items():
        for _ in range(warmup):
            user, url = make()
            clients(user).get(url)
        # Each case pays for its own garbage, not for the previous case's (a whole-plan
        # overview leaves millions of objects for the next full collection).
        gc.collect()
        times, cpu_times, sql_times, query_counts, rows, sizes = [], [], [], [], [], []
        gc_pauses = []
        for _ in range(count):
            user, url = make()
            client = clients(user)
            timer = QueryTimer()
            with connection.execute_wrapper(timer), FullCollections() as collections:
                started, cpu_started = time.perf_counter(), time.thread_time()
                response = client.get(url)
                elapsed = (time.perf_counter() - started) * 1000
                cpu_times.append((time.thread_time() - cpu_started) * 1000)
            gc_pauses += collections.pauses
            assert response.status_code == 200, (url, response.status_code)
            times.append(elapsed)
            sql_times.append(timer.seconds * 1000)
            query_counts.append(timer.count)
            rows.append(shown_rows(response))
            sizes.append(len(response.content))
        shown = [r for r in rows if r is not None]
        results[name] = {
            "kind": kind,
            "requests": count,
            "p50_ms": round(statistics.median(times), 1),
            "p95_ms": round(percentile(times, 0.95), 1),
            "max_ms": round(max(times), 1),
            "cpu_p95_ms": round(percentile(cpu_times, 0.95), 1),
            "sql_p95_ms": round(percentile(sql_times, 0.95), 1),
            "queries": max(query_counts),
            "queries_min": min(query_counts),
            "rows_max": max(shown) if shown else None,
            "kb_p50": round(statistics.median(sizes) / 1024, 1),
            # full garbage collections that fell inside a timed request, and the longest
            "full_gc": len(gc_pauses),
            "full_gc_max_ms": round(max(gc_pauses), 1) if gc_pauses else None,
        }
        figures = results[name]
        print(f"  {name}: p95 {figures['p95_ms']} ms", flush=True)
    return results


def profile(case_list, name, clients):
    kind, make = case_list[name]
    user, url = make()
    client = clients(user)
    client.get(url)  # warm
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    response = client.get(url)
    profiler.disable()
    print(f"{name} {url}: {response.status_code}, {(time.perf_counter() - started) * 1000:.0f} ms")
    for order in ("cumulative", "tottime"):
        stream = io.StringIO()
        pstats.Stats(profiler, stream=stream).sort_stats(order).print_stats(
            os.environ.get("BENCH_PROFILE_FILTER", ""),
            int(os.environ.get("BENCH_PROFILE_LINES", "30")),
        )
        print(stream.getvalue())


STANDINGS = "standings"  # the pseudo-case: a whole plan's standings computed from scratch


def measure_standings(plan):
    """Seconds to compute every standing of `plan` (what the first overview of a month, or
    refresh_standings, does), in a transaction rolled back afterwards."""
    from django.db import transaction

    from indicators import standing
    from indicators.models import IndicatorStanding

    class Rollback(Exception):
        pass

    figures = {}
    try:
        with transaction.atomic():
            IndicatorStanding.objects.filter(plan=plan).update(as_of=None)
            gc.collect()
            started = time.perf_counter()
            figures["computed"] = standing.ensure(plan)
            figures["seconds"] = round(time.perf_counter() - started, 2)
            raise Rollback
    except Rollback:
        pass
    figures["per_second"] = round(figures["computed"] / figures["seconds"])
    return figures


def report(results, size, fill_seconds, args):
    print()
    print(
        f"tracking views: {size['plans']} plans, {size['departments']:,} plan departments, "
        f"{size['indicators']:,} indicators, {size['results']:,} results; "
        f"{args.requests} requests per view, {args.plan_requests} per whole-plan overview, "
        f"{args.export_requests} per export"
    )
    print(
        f"{'case':<17} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'CPU p95':>8} "
        f"{'SQL p95':>8} {'queries':>8} {'rows':>6} {'KB':>7} {'full GC':>10} {'× base':>6}  verdict"
    )
    base_p95 = args.baseline["p95_ms"]
    for name, f in results.items():
        if f["kind"] in JUDGED:
            target = CASE_TARGETS_MS.get(name, TARGET_MS)
            verdict = "ok" if f["p95_ms"] <= target else f"MISSES {target} ms"
        else:
            verdict = "(export, not judged)"
        queries = (
            str(f["queries"])
            if f["queries"] == f["queries_min"]
            else f"{f['queries_min']}–{f['queries']}"
        )
        rows = f["rows_max"] if f["rows_max"] is not None else ""
        full_gc = f"{f['full_gc']}× ≤{f['full_gc_max_ms']:.0f}" if f["full_gc"] else "–"
        print(
            f"{name:<17} {f['p50_ms']:>8} {f['p95_ms']:>8} {f['max_ms']:>8} {f['cpu_p95_ms']:>8} "
            f"{f['sql_p95_ms']:>8} {queries:>8} {rows:>6} {f['kb_p50']:>7} {full_gc:>10} "
            f"{common.ratio(f['p95_ms'], base_p95):>6}  {verdict}"
        )
        f["p95_over_baseline"] = common.ratio(f["p95_ms"], base_p95)
    print(
        f"baseline of this run: a bare SELECT page (20 indicator rows, same middleware, session "
        f"and login) p50 {args.baseline['p50_ms']} ms, p95 {base_p95} ms; × base = p95 ÷ its p95"
    )
    if STANDINGS in args.measured_standings:
        f = args.measured_standings[STANDINGS]
        print(
            f"standings of this year's plan computed from scratch (the month's first overview, "
            f"or refresh_standings ahead of it): {f['computed']:,} in {f['seconds']} s "
            f"({f['per_second']:,}/s)"
        )
    views = [f["p95_ms"] for f in results.values() if f["kind"] in JUDGED]
    worst = max(views) if views else None
    if worst is not None:
        print(
            f"worst p95 of the views: {worst} ms (target ≤ {TARGET_MS} ms: "
            f"{'met' if worst <= TARGET_MS else 'MISSED'})"
        )
    print(common.machine_line(load_at_start=args.load_at_start))
    print(
        "(CPU = this request's own; full GC = requests that ran a full garbage collection, "
        "its longest pause in ms)"
    )
    if not args.gc_tuning or args.gc_threshold is not None:
        print(
            f"garbage collector as a what-if: tuned={args.gc_tuning}, "
            f"thresholds={gc.get_threshold()} (as served: perfplan.runtime)"
        )
    else:
        print(
            f"garbage collector as served (perfplan/wsgi.py, perfplan.runtime; here after "
            f"the bench's setup): frozen, thresholds {gc.get_threshold()}"
        )
    return worst


def main():
    args = parse_args()
    open_bench_database(DEFAULT_URL, "tracking views")
    from django.db import connection
    from django.test.utils import override_settings

    from indicators import standing
    from indicators.models import Result
    from perfplan.changelog import change_context
    from perfplan.models import Plan
    from perfplan.runtime import tune_garbage_collector

    with change_context(quiet=True):  # the bench's own setup stays out of the log
        departments = ensure_departments(args.departments)
        admin, officers, reviewers = ensure_users(departments)
    expected_plans = args.years
    present = Plan.objects.count()
    fill_seconds = None
    if args.refill or present != expected_plans or not Result.objects.exists():
        print(f"{present} plans present; filling {args.years} years …")
        _counts, fill_seconds = fill(args, departments, officers, reviewers)
    else:
        print(f"the database holds {present} plans already (--refill to fill again)")
    size = data_size()
    plans = list(Plan.objects.order_by("-fiscal_year"))
    plan = next((p for p in plans if p.fiscal_year == date.today().year), plans[0])
    last_plan = next((p for p in plans if p.fiscal_year < plan.fiscal_year), plan)
    rng = random.Random(args.seed + 1)
    case_list = cases(admin, officers, reviewers, plan, last_plan, rng)
    with change_context(quiet=True):  # current standings, as refresh_standings leaves them
        for each in (plan, last_plan):
            standing.refresh(each)
    args.measured_standings = {}
    if not args.only or STANDINGS in args.only:
        args.measured_standings[STANDINGS] = measure_standings(plan)
    if args.only:
        unknown = set(args.only) - set(case_list) - {STANDINGS}
        if unknown:
            sys.exit(
                f"unknown case(s): {', '.join(sorted(unknown))}; known: {', '.join(case_list)}"
            )
        case_list = {name: case_list[name] for name in args.only if name in case_list}

    plain_static = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    clients = Clients()
    gc.collect()  # an app server process starts without the setup's garbage
    if args.gc_tuning:
        tune_garbage_collector()  # as perfplan/wsgi.py does once the app is loaded
    if args.gc_threshold is not None:
        gc.set_threshold(args.gc_threshold, *gc.get_threshold()[1:])
    load_at_start = common.load_now()
    with override_settings(STORAGES=plain_static, ROOT_URLCONF=common.URLCONF):
        if args.profile:
            if args.profile not in case_list:
                sys.exit(f"unknown case {args.profile}; known: {', '.join(case_list)}")
            profile(case_list, args.profile, clients)
            return
        results = {}
        for name, case in case_list.items():
            count = {"view": args.requests, "plan": args.plan_requests}.get(
                case[0], args.export_requests
            )
            warmup = args.warmup if case[0] == "view" else 1
            results.update(measure({name: case}, count, warmup, clients))
        # The baseline of the same run: a bare SELECT page through the same middleware,
        # session and login (bench/common.py); each case's p95 is quoted as a multiple of it.
        gc.collect()
        args.baseline = common.measure_bare_page(
            clients(admin), "indicators_indicator", args.requests, random.Random(args.seed)
        )
    args.load_at_start = load_at_start

    worst = report(results, size, fill_seconds, args)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    document = {
        "benchmark": "tracking_views",
        "when": datetime.now().astimezone().isoformat(timespec="seconds"),
        "environment": {
            "database": f"{connection.vendor} {connection.settings_dict.get('NAME')}",
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load_average": [round(x, 2) for x in os.getloadavg()],
            "load_at_start": args.load_at_start,
            "machine": common.machine(),
        },
        "baseline": args.baseline,
        "size": size,
        "fill_seconds": fill_seconds,
        "plan_year": plan.fiscal_year,
        "requests": args.requests,
        "plan_requests": args.plan_requests,
        "export_requests": args.export_requests,
        "target_p95_ms": TARGET_MS,
        "gc": {"tuned": args.gc_tuning, "threshold": list(gc.get_threshold())},
        "results": results,
        "standings": args.measured_standings.get(STANDINGS),
        "worst_view_p95_ms": worst,
        "meets_target": worst is not None and worst <= TARGET_MS,
    }
    OUT.mkdir(parents=True, exist_ok=True)
    text = json.dumps(document, indent=1, ensure_ascii=False, default=str) + "\n"
    for path in (OUT / f"tracking_views-{stamp}.json", OUT / "tracking_views-latest.json"):
        path.write_text(text)
    print(f"written: {(OUT / f'tracking_views-{stamp}.json').relative_to(BASE_DIR)}")


if __name__ == "__main__":
    main()
