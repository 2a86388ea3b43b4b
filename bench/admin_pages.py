#!/usr/bin/env python
"""Every admin page and tracking page at the seed's size and at national size. Not a test.

Issue 16: every admin changelist and change form (admin.site._registry) and every tracking
page, as the plan admin (성과관리 관리자), at two scales, each in its own PostgreSQL database
(made and filled once, then reused; --refill to fill again):

  seed       the seed plan last year and this year        perfplan_bench_admin_seed
  national   the seed last year and a generated plan of 250 departments and 10,000
             indicators this year (1,000 unit programs)   perfplan_bench_admin_national

(both with a target and a result per indicator; the same number of plans at both scales, so
that only this year's plan's size differs)

(the plans are made by the importer through goals.tests.factories, with the rows the importer
does not make added by perfplan/tests/test_admin_queries.add_tracking_rows, as the query-count
tests do). Each scale runs in a child process of its own (Django is set up on one database
per process). For each page: --requests requests after one warm-up, through Django's test
client in-process: the queries, p50/p95 server time, the request's CPU p95 and the response
size; a change form opens the model's newest row (the national plan's, at national size).

Beside them, the baseline of the same run: the bare SELECT page (bench/common.py: the same
middleware, session and login, one SELECT of 20 rows, a plain table), and each page's p95
as a multiple of it. The verdict at national size: ≤ 40 queries, p95 ≤ 300 ms, ≤ 1.5 MB, and
no more queries than at the seed's size.

Usage:

    .venv/bin/python bench/admin_pages.py                    # fill if needed, measure both
    .venv/bin/python bench/admin_pages.py --requests 20
    .venv/bin/python bench/admin_pages.py --only plan strategicgoal overview
    .venv/bin/python bench/admin_pages.py --scale national --profile admin:goals_strategicgoal_changelist
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/x  (the national database; the seed's
    name gets _seed instead of _national)

JSON: bench/out/admin_pages-<stamp>.json and admin_pages-latest.json.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import os
import pstats
import random
import statistics
import subprocess
import sys
import time
from datetime import date, datetime
from pathlib import Path

import common

BASE_DIR = Path(__file__).resolve().parent.parent
OUT = BASE_DIR / "bench" / "out"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/perfplan_bench_admin_national"
SCALES = ("seed", "national")
NATIONAL_PLAN = {
    "departments": 250,
    "goals": 2,
    "policy_goals": 2,
    "indicators": 10,
    "unit_programs": 1,
}
MAX_QUERIES = 40
MAX_P95_MS = 300
MAX_BYTES = 1.5 * 1024 * 1024


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10, help="requests per page")
    parser.add_argument("--refill", action="store_true", help="drop the plans, fill again")
    parser.add_argument("--only", nargs="+", metavar="WORD", help="pages whose name has WORD")
    parser.add_argument("--scale", choices=SCALES, help="(internal) measure one scale")
    parser.add_argument("--profile", metavar="PAGE", help="cProfile one request of PAGE")
    parser.add_argument("--json", help="(internal) where the child writes its figures")
    return parser.parse_args()


def database_url(scale):
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    if scale == "seed":
        url = url.replace("_national", "_seed") if "_national" in url else url + "_seed"
    return url


# ---------------------------------------------------------------- the data (child process)


def fill(scale, refill):
    """The scale's plans, once: returns the plan the tracking pages show (this year's)."""
    from django.db import connection

    from goals.tests.factories import load_seed, make_plan
    from perfplan.changelog import change_context
    from perfplan.models import Plan
    from perfplan.tests.test_admin_queries import add_tracking_rows

    this_year = date.today().year
    if refill:
        from perfplan.models import Department, ImportBatch

        tables = ", ".join(model._meta.db_table for model in (Plan, Department, ImportBatch))
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {tables} CASCADE")
    plan = Plan.objects.filter(fiscal_year=this_year).first()
    if plan is not None:
        return plan
    started = time.perf_counter()
    print(f"[{scale}] filling …", flush=True)
    with change_context(quiet=True):
        if not Plan.objects.filter(fiscal_year=this_year - 1).exists():
            last_year = load_seed(this_year - 1)
            add_tracking_rows(last_year, officer("bench-officer-last-year"))
        if scale == "seed":
            plan = load_seed(this_year)
        else:
            plan = make_plan(this_year, **NATIONAL_PLAN)
        add_tracking_rows(plan, officer("bench-officer-this-year"))
    with connection.cursor() as cursor:  # the planner's statistics, as autovacuum leaves them
        cursor.execute("ANALYZE")
    print(f"[{scale}] filled in {time.perf_counter() - started:.0f} s", flush=True)
    return plan


def officer(name):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from perfplan import roles

    users = get_user_model()._default_manager
    user, _created = users.get_or_create(username=name, defaults={"is_staff": True})
    user.groups.add(Group.objects.get(name=roles.OFFICER))
    return user


def plan_admin():
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from perfplan import roles

    users = get_user_model()._default_manager
    user, created = users.get_or_create(username="bench-planadmin", defaults={"is_staff": True})
    user.groups.set([Group.objects.get(name=roles.PLAN_ADMIN)])
    return user


def pages(plan):
    """name -> url: every registered admin's changelist and change form (its newest row),
    the admin's own plan pages and every tracking page (GET)."""
    from django.contrib import admin
    from django.urls import reverse

    from goals.models import PlanDepartment
    from indicators.models import Indicator

    found = {"admin:index": reverse("admin:index")}
    for model in sorted(admin.site._registry, key=lambda m: m._meta.label):
        opts = model._meta
        name = f"admin:{opts.app_label}_{opts.model_name}"
        found[f"{name}_changelist"] = reverse(f"{name}_changelist")
        newest = model._default_manager.order_by("-pk").first()
        if newest is not None:
            found[f"{name}_change"] = reverse(f"{name}_change", args=[newest.pk])
    found["admin:perfplan_plan_tables"] = reverse("admin:perfplan_plan_tables", args=[plan.pk])
    indicator = Indicator.objects.in_plan(plan).order_by("pk").last()
    # the indicator's department: one with indicators at both scales (the seed's last has none)
    department = PlanDepartment.objects.get(strategic_goals__policy_goals__indicators=indicator)
    found.update(
        {
            "tracking:home": reverse("tracking:home"),
            "tracking:my_department": reverse("tracking:my_department"),
            "tracking:my_department?page=5": reverse("tracking:my_department") + "?page=5",
            "tracking:my_department?department": reverse("tracking:my_department")
            + f"?department={department.department_id}",
            "tracking:overview": reverse("tracking:overview"),
            "tracking:overview?department": reverse("tracking:overview")
            + f"?department={department.department_id}",
            "tracking:indicator": reverse("tracking:indicator", args=[indicator.pk]),
            "tracking:cell": reverse("tracking:cell", args=[indicator.pk, "Y"]),
        }
    )
    return found


def measure_page(client, url, requests):
    from django.db import connection
    from tracking_views import QueryTimer

    client.get(url)  # warm-up: templates, content types, the page's caches
    gc.collect()
    times, cpu, sql, queries, sizes, status = [], [], [], [], [], None
    for _ in range(requests):
        timer = QueryTimer()
        with connection.execute_wrapper(timer):
            started, cpu_started = time.perf_counter(), time.thread_time()
            response = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
            cpu.append((time.thread_time() - cpu_started) * 1000)
        content = getattr(response, "content", None)
        if content is None:  # a streaming response
            content = b"".join(response.streaming_content)
        status = response.status_code
        queries.append(timer.count)
        sql.append(timer.seconds * 1000)
        sizes.append(len(content))
    return {
        "status": status,
        "queries": max(queries),
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(common.percentile(times, 0.95), 1),
        "cpu_p95_ms": round(common.percentile(cpu, 0.95), 1),
        "sql_p95_ms": round(common.percentile(sql, 0.95), 1),
        "bytes": max(sizes),
    }


def run_scale(args):
    """The child: set up Django on the scale's database, fill, measure, write JSON."""
    from changelog_list import open_bench_database

    open_bench_database(database_url(args.scale), "admin pages")
    from django.test import Client
    from django.test.utils import override_settings

    from indicators import standing
    from indicators.models import Indicator
    from perfplan.changelog import change_context

    load_at_start = common.load_now()
    plan = fill(args.scale, args.refill)
    with change_context(quiet=True):  # current standings, as refresh_standings leaves them
        standing.refresh(plan)
    client = Client()
    client.force_login(plan_admin())
    found = pages(plan)
    if args.only:
        found = {n: u for n, u in found.items() if any(w in n for w in args.only)}
    plain_static = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with override_settings(STORAGES=plain_static, ROOT_URLCONF=common.URLCONF):
        if args.profile:
            return profile(client, found[args.profile])
        base = common.measure_bare_page(
            client, Indicator._meta.db_table, max(args.requests, 20), random.Random(7)
        )
        results = {}
        for name, url in found.items():
            results[name] = {"url": url, **measure_page(client, url, args.requests)}
            print(f"  [{args.scale}] {name}: {results[name]['p95_ms']} ms", flush=True)
    document = {
        "scale": args.scale,
        "indicators": Indicator.objects.in_plan(plan).count(),
        "departments": plan.departments.count(),
        "baseline": base,
        "results": results,
        "machine": common.machine(),
        "load_at_start": load_at_start,
    }
    Path(args.json).write_text(json.dumps(document, ensure_ascii=False, indent=1))


def profile(client, url):
    client.get(url)
    profiler = cProfile.Profile()
    profiler.enable()
    response = client.get(url)
    profiler.disable()
    print(url, response.status_code, len(response.content))
    for order in ("cumulative", "tottime"):
        stream = io.StringIO()
        pstats.Stats(profiler, stream=stream).sort_stats(order).print_stats(40)
        print(stream.getvalue())


# ---------------------------------------------------------------- the report (parent process)


def verdict(seed, national):
    if national is None:
        return "not measured"
    if national["status"] == 403:
        return "n/a: 403, not the plan admin's (as intended)"
    if national["status"] == 302:
        return "n/a: a redirect"
    if national["status"] != 200:
        return f"FAIL: status {national['status']}"
    misses = []
    if national["queries"] > MAX_QUERIES:
        misses.append(f"> {MAX_QUERIES} queries")
    if seed and seed["status"] == 200 and national["queries"] > seed["queries"]:
        misses.append("queries grow")
    if national["p95_ms"] > MAX_P95_MS:
        misses.append(f"p95 > {MAX_P95_MS} ms")
    if national["bytes"] > MAX_BYTES:
        misses.append("> 1.5 MB")
    return "ok" if not misses else "FAIL: " + ", ".join(misses)


def report(by_scale):
    seed, national = by_scale.get("seed"), by_scale.get("national")
    names = list((national or seed)["results"])
    print()
    for scale, document in by_scale.items():
        base = document["baseline"]
        print(
            f"{scale}: {document['departments']:,} departments, {document['indicators']:,} "
            f"indicators in this year's plan; baseline (bare SELECT page of 20 rows) "
            f"p50 {base['p50_ms']} ms, p95 {base['p95_ms']} ms"
        )
    print(
        f"{'page':<52} {'seed q':>6} {'seed p95':>8} │ {'queries':>7} {'p50 ms':>7} "
        f"{'p95 ms':>7} {'CPU p95':>7} {'SQL p95':>7} {'× base':>6} {'KB':>7}  verdict (national)"
    )
    failures = 0
    for name in names:
        s = seed["results"].get(name) if seed else None
        n = national["results"].get(name) if national else None
        judged = verdict(s, n)
        failures += judged.startswith("FAIL")
        left = f"{s['queries']:>6} {s['p95_ms']:>8}" if s else f"{'':>6} {'':>8}"
        if n:
            times = national["baseline"]["p95_ms"]
            right = (
                f"{n['queries']:>7} {n['p50_ms']:>7} {n['p95_ms']:>7} {n['cpu_p95_ms']:>7} "
                f"{n.get('sql_p95_ms', ''):>7} "
                f"{common.ratio(n['p95_ms'], times):>6} {n['bytes'] / 1024:>7.0f}"
            )
        else:
            right = ""
        print(f"{name[:52]:<52} {left} │ {right}  {judged}")
    print(
        "CPU p95: the request's own CPU time; SQL p95: its queries' time; × base: p95 ÷ the "
        "bare SELECT page's p95 (national)"
    )
    print(
        f"{failures} of {len(names)} pages fail; the others are within ≤ {MAX_QUERIES} queries, "
        f"p95 ≤ {MAX_P95_MS} ms, ≤ 1.5 MB at national size and queries not growing"
    )
    last = (national or seed)["machine"]
    print(common.machine_line(last, (national or seed)["load_at_start"]))
    return failures


def main():
    args = parse_args()
    if args.scale:
        return run_scale(args)
    OUT.mkdir(parents=True, exist_ok=True)
    by_scale = {}
    for scale in SCALES:
        path = OUT / f"admin_pages-{scale}.part.json"
        command = [sys.executable, __file__, "--scale", scale, "--json", str(path)]
        command += ["--requests", str(args.requests)]
        command += ["--refill"] if args.refill else []
        command += ["--only", *args.only] if args.only else []
        if args.profile:
            command += ["--profile", args.profile]
        subprocess.run(command, check=True)
        if args.profile:
            continue
        by_scale[scale] = json.loads(path.read_text())
        path.unlink()
    if args.profile:
        return None
    failures = report(by_scale)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    text = json.dumps(
        {"benchmark": "admin_pages", "when": stamp, "failures": failures, **by_scale},
        ensure_ascii=False,
        indent=1,
    )
    for path in (OUT / f"admin_pages-{stamp}.json", OUT / "admin_pages-latest.json"):
        path.write_text(text + "\n")
    print(f"written: bench/out/admin_pages-{stamp}.json")
    return failures


if __name__ == "__main__":
    sys.exit(1 if main() else 0)
