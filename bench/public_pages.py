#!/usr/bin/env python
"""Public pages benchmark: the public plan page answered from the cache (target p95 ≤ 20 ms).

Not a test. Fills a dedicated PostgreSQL database (perfplan_bench_public by default: created
and migrated if missing) once with two published plans: the seed plan with its sample
results (last year) and, unless --no-national, a synthetic plan of --departments ×
--indicators indicators (250 × 40 = 10,000, national scale) with an approved yearly result
each (this year). Then, through Django's test client in-process, anonymous as the public:

  plan_warm        /public/<year>/ from the cache (judged: p95 ≤ 20 ms)
  department_warm  /public/<year>/departments/<id>/ from the cache (a different department
                   each request, all visited once before)
  csv_warm         /public/<year>/data/indicators.csv from the cache
  plan_cold        /public/<year>/ with the cache emptied before each request: what a
                   first visit after a publication or an approval costs (reported)
  bare_select      the baseline (bench/common.py): a bare SELECT page through the same
                   middleware as a signed-in user; the ratio is each case's p95 over its

Prints p50 / p95 / max, queries per request and size, the ratio to the baseline, and the
machine with its load average (bench/common.py). JSON goes to
bench/out/public_pages-latest.json. The cache is Django's configured one (local memory by
default; a shared cache adds its round trip).

Usage:

    .venv/bin/python bench/public_pages.py                    # fill if needed, measure
    .venv/bin/python bench/public_pages.py --requests 500 --no-national
    .venv/bin/python bench/public_pages.py --refill
    BENCH_DATABASE_URL=postgres://user@host:5432/other .venv/bin/python bench/public_pages.py
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

from changelog_list import open_bench_database
from common import (
    URLCONF,
    load_now,
    machine,
    machine_line,
    measure_bare_page,
    percentile,
    ratio,
)

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
OUT = BASE_DIR / "bench" / "out"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/perfplan_bench_public"
TARGET_MS = 20.0


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--departments", type=int, default=250)
    parser.add_argument("--indicators", type=int, default=40, help="per department")
    parser.add_argument("--no-national", action="store_true", help="the seed plan only")
    parser.add_argument("--requests", type=int, default=200, help="per warm case")
    parser.add_argument("--cold-requests", type=int, default=3)
    parser.add_argument("--refill", action="store_true")
    return parser.parse_args()


def _publish(plan):
    from django.utils import timezone

    from perfplan.models import Plan

    Plan.objects.filter(pk=plan.pk).update(published_at=timezone.now())
    plan.refresh_from_db()
    return plan


def fill(args):
    """(seed plan, national plan or None), published; filled when missing."""
    from goals.tests.factories import load_seed, synthetic_plan
    from indicators.demo import add_sample_data
    from indicators.models import Indicator, Result, ResultStatus
    from perfplan.changelog import change_context
    from perfplan.models import Plan
    from perfplan.planfiles.importer import import_plan

    this_year = date.today().year
    seed_year, national_year = this_year - 1, this_year
    if args.refill:
        with change_context(quiet=True):
            Plan.objects.all().delete()
    with change_context(quiet=True):
        seed = Plan.objects.filter(fiscal_year=seed_year).first()
        if seed is None:
            print("loading the seed plan with sample results …")
            seed = load_seed(seed_year)
            add_sample_data(seed, today=date(seed_year + 1, 1, 20))
        seed = _publish(seed)
        if args.no_national:
            return seed, None
        national = Plan.objects.filter(fiscal_year=national_year).first()
        if national is None:
            size = args.departments * args.indicators
            print(f"importing a national plan of {size:,} indicators …")
            data = synthetic_plan(
                departments=args.departments,
                goals=2,
                policy_goals=4,
                indicators=max(args.indicators // 8, 1),
                unit_programs=1,
            )
            result = import_plan(national_year, data)
            assert result.ok, result.errors
            national = result.plan
            indicators = list(Indicator.objects.in_plan(national).values_list("pk", flat=True))
            Indicator.objects.filter(pk__in=indicators).update(
                annual_target=Decimal(100), frequency="yearly", aggregation="latest"
            )
            Result.objects.bulk_create(
                (
                    Result(
                        indicator_id=pk,
                        period="Y",
                        value=Decimal(80 + pk % 40),
                        status=ResultStatus.APPROVED,
                    )
                    for pk in indicators
                ),
                batch_size=2000,
            )
        return seed, _publish(national)


def timed(client, urls, count, before=None):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times, queries, size = [], 0, 0
    for index in range(count):
        url = urls[index % len(urls)]
        if before:
            before()
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            sys.exit(f"{url} answered {response.status_code}")
        queries, size = max(queries, len(captured)), len(response.content)
    return {
        "requests": count,
        "p50_ms": round(statistics.median(times), 2),
        "p95_ms": round(percentile(times, 0.95), 2),
        "max_ms": round(max(times), 2),
        "queries": queries,
        "bytes": size,
    }


def measure_plan(client, plan, args):
    from django.core.cache import cache
    from django.urls import reverse

    from goals.models import PlanDepartment

    year = plan.fiscal_year
    plan_url = reverse("public:plan", args=[year])
    departments = list(
        PlanDepartment.objects.filter(plan=plan).order_by("position").values_list("pk", flat=True)
    )
    department_urls = [reverse("public:department", args=[year, pk]) for pk in departments]
    csv_url = reverse("public:download", args=[year, "indicators", "csv"])
    rng = random.Random(1)
    rng.shuffle(department_urls)
    cases = {}
    cases["plan_cold"] = timed(client, [plan_url], args.cold_requests, before=cache.clear)
    for url in [plan_url, csv_url, *department_urls]:  # every page visited once
        client.get(url)
    cases["plan_warm"] = timed(client, [plan_url], args.requests)
    cases["department_warm"] = timed(client, department_urls, args.requests)
    cases["csv_warm"] = timed(client, [csv_url], max(args.requests // 4, 10))
    return cases


def main():
    args = parse_args()
    open_bench_database(DEFAULT_URL, "public pages")
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.test.utils import override_settings

    from indicators.models import Indicator

    load_at_start = load_now()
    seed, national = fill(args)
    user, _created = get_user_model().objects.get_or_create(
        username="bench-public-baseline", defaults={"is_staff": True}
    )
    signed_in = Client()
    signed_in.force_login(user)
    results = {}
    plain_static = {  # no collectstatic here: plain static storage, as the other benches
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with override_settings(ROOT_URLCONF=URLCONF, STORAGES=plain_static):
        baseline = measure_bare_page(signed_in, "indicators_indicator", args.requests)
        for plan in filter(None, (seed, national)):
            size = Indicator.objects.in_plan(plan).count()
            results[f"{plan.fiscal_year} ({size:,} indicators)"] = measure_plan(
                Client(), plan, args
            )
    print()
    print(f"baseline bare_select: p50 {baseline['p50_ms']} ms, p95 {baseline['p95_ms']} ms")
    header = f"{'plan / case':<40} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>9} {'queries':>8}"
    print(header + f" {'KB':>7} {'p95/base':>9}  verdict")
    verdicts = []
    for plan_name, cases in results.items():
        for name, figures in cases.items():
            verdict = ""
            if name == "plan_warm":
                ok = figures["p95_ms"] <= TARGET_MS
                verdicts.append(ok)
                verdict = f"{'OK' if ok else 'OVER'} (≤ {TARGET_MS:g} ms)"
            figures["ratio_to_baseline"] = ratio(figures["p95_ms"], baseline["p95_ms"])
            print(
                f"{plan_name + ' ' + name:<40} {figures['p50_ms']:>8} {figures['p95_ms']:>8} "
                f"{figures['max_ms']:>9} {figures['queries']:>8} "
                f"{figures['bytes'] // 1024:>7} {figures['ratio_to_baseline']:>9}  {verdict}"
            )
    figures = machine()
    print(machine_line(figures, load_at_start))
    OUT.mkdir(exist_ok=True)
    (OUT / "public_pages-latest.json").write_text(
        json.dumps(
            {"machine": figures, "baseline": baseline, "results": results},
            ensure_ascii=False,
            indent=2,
        ),
        encoding="utf-8",
    )
    return 0 if all(verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
