#!/usr/bin/env python
"""API benchmark: the list endpoints of /api/ at national scale.

Not a test. Uses the tracking views' bench database (perfplan_bench_views: 5 plans × 250
departments × 40 monthly indicators, about 560,000 results; bench/tracking_views.py fills
it, and so does this script when it is empty) and adds a change log of --log-entries entries
(bench/changelog_list.py's filler) when it holds fewer. Then, through Django's test client
in-process with an API token in the Authorization header (authentication, throttle, scoping,
filter set, cursor page and JSON: the whole request), each case --requests times after a
few warm-up requests, a different department or cursor position each request:

  plans              /api/plans/                            the plan admin
  departments        /api/departments/                      an officer (their own)
  strategic_goals    /api/strategic-goals/?year=&department= the plan admin
  policy_goals       /api/policy-goals/?year=               the plan admin (first page)
  indicators         /api/indicators/?year=                 the plan admin (first page)
  indicators_dept    /api/indicators/?department=           the plan admin (the screens' filter)
  indicators_officer /api/indicators/                       an officer (their scope)
  period_targets     /api/period-targets/?year=             the plan admin
  results            /api/results/?year=                    the plan admin (first page)
  results_deep       /api/results/?cursor=…                 the plan admin, a page anywhere
  results_officer    /api/results/?year=&status=approved    an officer (their department)
  results_officer_all /api/results/                         an officer: every year of theirs
  change_log         /api/change-log/                       an auditor (first page)
  change_log_dept    /api/change-log/?department=           an auditor
  change_log_deep    /api/change-log/?cursor=…              an auditor, a page anywhere

Pages of 100 rows. It prints p50 / p95 / max server time, the p95 of the request's own CPU
time and of its time in SQL (on a loaded machine the rest is waiting for a core), the
queries per request (the least and the most: constant means equal), and beside each the
baseline: the p95 of a bare SELECT of the same page size on the same table
(`SELECT * … WHERE id > %s ORDER BY id LIMIT 100`, through the same connection), with the
ratio; and the load average. Target: p95 ≤ 100 ms per list. JSON goes to bench/out/api-<stamp>.json and bench/out/api-latest.json.

Usage:

    .venv/bin/python bench/api.py                  # fill what is missing, then measure
    .venv/bin/python bench/api.py --requests 100 --only results results_deep
    BENCH_DATABASE_URL=postgres://user@host:5432/other .venv/bin/python bench/api.py
"""

from __future__ import annotations

import argparse
import base64
import gc
import json
import os
import platform
import random
import statistics
import sys
import time
from datetime import date, datetime
from pathlib import Path
from urllib.parse import urlencode

import changelog_list
import tracking_views
from changelog_list import open_bench_database, percentile

BASE_DIR = Path(__file__).resolve().parent.parent
OUT = BASE_DIR / "bench" / "out"
TARGET_MS = 100
PAGE = 100


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=50, help="requests per case")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--log-entries", type=int, default=1_000_000)
    parser.add_argument("--only", nargs="+", metavar="CASE")
    parser.add_argument("--seed", type=int, default=2026)
    # the tracking bench's plans, when they must be filled
    parser.add_argument("--departments", type=int, default=250)
    parser.add_argument("--indicators", type=int, default=40)
    parser.add_argument("--years", type=int, default=5)
    return parser.parse_args()


def ensure_data(args):
    from django.contrib.contenttypes.models import ContentType

    from indicators.models import Result
    from perfplan.changelog import change_context, tracked_models
    from perfplan.models import ChangeLogEntry, Plan

    with change_context(quiet=True):
        departments = tracking_views.ensure_departments(args.departments)
        admin, officers, reviewers = tracking_views.ensure_users(departments)
    if Plan.objects.count() != args.years or not Result.objects.exists():
        print(f"filling {args.years} plans (bench/tracking_views.py's filler) …", flush=True)
        from django.db import connection

        # Its TRUNCATE of the plan tables predates tables that refer to indicators from the
        # apps above (reports): CASCADE empties those too, in this dedicated database.
        with connection.execute_wrapper(truncate_cascading):
            tracking_views.fill(args, departments, officers, reviewers)
    if ChangeLogEntry.objects.count() < args.log_entries:
        print(f"filling a change log of {args.log_entries:,} entries …", flush=True)
        _auditor, log_departments, users, _types = changelog_list.setup_world()
        # Entries filed under the plans' own departments too, so a department filter reads them.
        content_types = [
            ct.pk for ct in ContentType.objects.get_for_models(*tracked_models()).values()
        ]
        changelog_list.fill(
            args.log_entries, log_departments + departments, users, content_types, args.seed
        )
    return departments, admin, officers


def truncate_cascading(execute, sql, params, many, context):
    if sql.lstrip().upper().startswith("TRUNCATE") and "CASCADE" not in sql.upper():
        sql = f"{sql} CASCADE"
    return execute(sql, params, many, context)


def auditor():
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from perfplan import roles

    user, _created = get_user_model().objects.get_or_create(
        username="bench_api_auditor", defaults={"is_staff": True}
    )
    user.groups.set([Group.objects.get(name=roles.AUDITOR)])
    return user


def cursor_at(position):
    """A cursor (DRF's encoding: the position in the ordering key) at `position`."""
    return base64.b64encode(urlencode({"p": str(position)}).encode()).decode()


def cases(departments, admin, officers, log_auditor, rng):
    """name -> (table of the baseline, make a (user, url) for one request)."""
    from django.db.models import Max, Min

    from indicators.models import Indicator
    from perfplan.models import ChangeLogEntry, Plan

    year = Plan.objects.filter(fiscal_year__lte=date.today().year).order_by("-fiscal_year")[0]
    year = year.fiscal_year
    indicators = Indicator.objects.aggregate(low=Min("id"), high=Max("id"))
    log = ChangeLogEntry.objects.aggregate(low=Min("sequence"), high=Max("sequence"))
    log_departments = list(
        ChangeLogEntry.objects.order_by().values_list("department_id", flat=True).distinct()[:300]
    )
    log_departments = [d for d in log_departments if d is not None]

    def dept():
        return rng.choice(departments)

    return {
        "plans": ("perfplan_plan", lambda: (admin, "/api/plans/")),
        "departments": ("goals_department", lambda: (officers[dept()], "/api/departments/")),
        "strategic_goals": (
            "goals_strategicgoal",
            lambda: (admin, f"/api/strategic-goals/?year={year}&department={dept()}"),
        ),
        "policy_goals": ("goals_policygoal", lambda: (admin, f"/api/policy-goals/?year={year}")),
        "indicators": ("indicators_indicator", lambda: (admin, f"/api/indicators/?year={year}")),
        "indicators_dept": (
            "indicators_indicator",
            lambda: (admin, f"/api/indicators/?year={year}&department={dept()}"),
        ),
        "indicators_officer": (
            "indicators_indicator",
            lambda: (officers[dept()], "/api/indicators/"),
        ),
        "period_targets": (
            "indicators_periodtarget",
            lambda: (admin, f"/api/period-targets/?year={year}"),
        ),
        "results": ("indicators_result", lambda: (admin, f"/api/results/?year={year}")),
        "results_deep": (
            "indicators_result",
            lambda: (
                admin,
                # results are in the order of their indicator (and period)
                "/api/results/?cursor="
                + cursor_at(rng.randint(indicators["low"], indicators["high"])),
            ),
        ),
        "results_officer": (
            "indicators_result",
            lambda: (officers[dept()], f"/api/results/?year={year}&status=approved"),
        ),
        "results_officer_all": ("indicators_result", lambda: (officers[dept()], "/api/results/")),
        "change_log": ("perfplan_changelogentry", lambda: (log_auditor, "/api/change-log/")),
        "change_log_dept": (
            "perfplan_changelogentry",
            lambda: (log_auditor, f"/api/change-log/?department={rng.choice(log_departments)}"),
        ),
        "change_log_deep": (
            "perfplan_changelogentry",
            lambda: (
                log_auditor,
                "/api/change-log/?cursor=" + cursor_at(rng.randint(log["low"], log["high"])),
            ),
        ),
    }


class Clients:
    """One client per user with a token of theirs (made once, outside the timing)."""

    def __init__(self):
        self.clients = {}

    def __call__(self, user):
        from django.test import Client

        from api.tokens import create_token

        if user.pk not in self.clients:
            _api_token, text = create_token(None, user, "bench")
            self.clients[user.pk] = Client(headers={"Authorization": f"Token {text}"})
        return self.clients[user.pk]


def baseline(table, count, rng):
    """p95 of a bare SELECT of a page of the same table, in ms."""
    from django.db import connection

    key = "sequence" if table == "perfplan_changelogentry" else "id"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT MIN({key}), MAX({key}) FROM {table}")
        low, high = cursor.fetchone()
        times = []
        for _ in range(count):
            started = time.perf_counter()
            cursor.execute(
                f"SELECT * FROM {table} WHERE {key} > %s ORDER BY {key} LIMIT {PAGE}",
                [rng.randint(low or 0, high or 0)],
            )
            cursor.fetchall()
            times.append((time.perf_counter() - started) * 1000)
    return percentile(times, 0.95)


def measure(case_list, args, clients, rng):
    from django.db import connection

    results = {}
    for name, (table, make) in case_list.items():
        for _ in range(args.warmup):
            user, url = make()
            clients(user).get(url)
        gc.collect()
        times, cpu_times, sql_times, counts, rows = [], [], [], [], []
        for _ in range(args.requests):
            user, url = make()
            client = clients(user)
            timer = tracking_views.QueryTimer()
            with connection.execute_wrapper(timer):
                started, cpu_started = time.perf_counter(), time.thread_time()
                response = client.get(url)
                times.append((time.perf_counter() - started) * 1000)
                cpu_times.append((time.thread_time() - cpu_started) * 1000)
            sql_times.append(timer.seconds * 1000)
            assert response.status_code == 200, (url, response.status_code, response.content)
            counts.append(timer.count)
            rows.append(len(response.json()["results"]))
        base = baseline(table, args.requests, rng)
        p95 = percentile(times, 0.95)
        results[name] = {
            "p50_ms": round(statistics.median(times), 1),
            "p95_ms": round(p95, 1),
            "max_ms": round(max(times), 1),
            # this process's CPU time and the time waiting for the database: on a loaded
            # machine the server time is mostly waiting for a core
            "cpu_p95_ms": round(percentile(cpu_times, 0.95), 1),
            "sql_p95_ms": round(percentile(sql_times, 0.95), 1),
            "queries_min": min(counts),
            "queries_max": max(counts),
            "rows_max": max(rows),
            "baseline_p95_ms": round(base, 2),
            "ratio": round(p95 / base, 1) if base else None,
        }
        print(f"  {name}: p95 {p95:.1f} ms, queries {min(counts)}–{max(counts)}", flush=True)
    return results


def report(results, size, load):
    print()
    print(
        f"API list endpoints: {size['results']:,} results, {size['indicators']:,} indicators, "
        f"{size['log_entries']:,} change-log entries; load average {load}"
    )
    print(
        f"{'case':<20}{'p50':>8}{'p95':>8}{'max':>8}{'cpu p95':>9}{'sql p95':>9}"
        f"{'queries':>9}{'rows':>6}"
        f"{'bare SELECT p95':>17}{'ratio':>7}  target"
    )
    for name, r in results.items():
        queries = f"{r['queries_min']}" + (
            "" if r["queries_min"] == r["queries_max"] else f"–{r['queries_max']}"
        )
        verdict = "ok" if r["p95_ms"] <= TARGET_MS else "MISSED"
        print(
            f"{name:<20}{r['p50_ms']:>8}{r['p95_ms']:>8}{r['max_ms']:>8}"
            f"{r['cpu_p95_ms']:>9}{r['sql_p95_ms']:>9}{queries:>9}"
            f"{r['rows_max']:>6}{r['baseline_p95_ms']:>17}{r['ratio']:>7}  {verdict}"
        )


def main():
    args = parse_args()
    # The throttle stays on (its cache is part of a request), high enough for the bench.
    os.environ["PERFPLAN_API_RATE"] = "1000000/min"
    open_bench_database(tracking_views.DEFAULT_URL, "API")
    from django.db import connection
    from django.test.utils import override_settings

    from perfplan.models import ChangeLogEntry
    from perfplan.runtime import tune_garbage_collector

    departments, admin, officers = ensure_data(args)
    log_auditor = auditor()
    size = tracking_views.data_size()
    size["log_entries"] = ChangeLogEntry.objects.count()
    rng = random.Random(args.seed + 3)
    case_list = cases(departments, admin, officers, log_auditor, rng)
    if args.only:
        unknown = set(args.only) - set(case_list)
        if unknown:
            sys.exit(
                f"unknown case(s): {', '.join(sorted(unknown))}; known: {', '.join(case_list)}"
            )
        case_list = {name: case_list[name] for name in args.only}
    clients = Clients()
    gc.collect()
    tune_garbage_collector()  # as perfplan/wsgi.py does
    plain_static = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with override_settings(STORAGES=plain_static):
        results = measure(case_list, args, clients, rng)
    load = [round(x, 2) for x in os.getloadavg()]
    report(results, size, load)
    worst = max(r["p95_ms"] for r in results.values())
    document = {
        "benchmark": "api",
        "when": datetime.now().astimezone().isoformat(timespec="seconds"),
        "environment": {
            "database": f"{connection.vendor} {connection.settings_dict.get('NAME')}",
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load_average": load,
        },
        "size": size,
        "requests": args.requests,
        "page_size": PAGE,
        "target_p95_ms": TARGET_MS,
        "results": results,
        "worst_p95_ms": worst,
        "meets_target": worst <= TARGET_MS,
        "constant_queries": all(r["queries_min"] == r["queries_max"] for r in results.values()),
    }
    OUT.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    text = json.dumps(document, indent=1, ensure_ascii=False, default=str) + "\n"
    for path in (OUT / f"api-{stamp}.json", OUT / "api-latest.json"):
        path.write_text(text)
    print(f"written: {(OUT / f'api-{stamp}.json').relative_to(BASE_DIR)}")


if __name__ == "__main__":
    main()
