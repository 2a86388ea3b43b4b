#!/usr/bin/env python
"""Results report benchmark: the report of a national plan (성과보고서, reports.report).

Not a test. Fills a dedicated PostgreSQL database (perfplan_bench_report by default: created
and migrated if missing) with bench/tracking_views.py's generator — --departments ×
--indicators monthly indicators per plan (250 × 40 = 10,000), for last year (closed: 12
monthly results each, about 120,000) and this year — and writes the sample texts of last
year's report (reports.samples: a text for every indicator, approved; the report marked
final). Then, as the plan admin through Django's test client, it times:

  page        GET /admin/reports/?year=<last year>: the whole plan's report page
              (--requests times; target ≤ 5 s)
  department  GET /admin/reports/?year=…&department=…: one department's report
  xlsx        GET /admin/reports/export/?year=…: the whole plan as xlsx (reported)
  pdf         GET /admin/reports/pdf/?year=…: the whole plan's server-side PDF with
              WeasyPrint (--pdf-requests times; target ≤ 60 s); its pages are counted
              with pdfinfo where installed

and prints each case's server time (min / median / max), the process's own CPU time (the
machine is shared: wall time grows with the load, CPU time much less), queries, size and the
process's peak memory. --pdf-departments N times the PDF of the first N departments instead
(the whole plan's takes minutes and gigabytes with WeasyPrint; see README). JSON goes to
bench/out/results_report-<stamp>.json and bench/out/results_report-latest.json.

Usage:

    .venv/bin/python bench/results_report.py                  # fill if needed, measure
    .venv/bin/python bench/results_report.py --refill
    .venv/bin/python bench/results_report.py --only page xlsx
    BENCH_DATABASE_URL=postgres://user@host:5432/other .venv/bin/python bench/results_report.py

Runs with production settings (DJANGO_DEBUG=0, as bench/tracking_views.py does).
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
from datetime import date, datetime
from pathlib import Path

from changelog_list import open_bench_database

BASE_DIR = Path(__file__).resolve().parent.parent
OUT = BASE_DIR / "bench" / "out"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/perfplan_bench_report"
TARGETS = {"page": 5.0, "pdf": 60.0}  # seconds
CASES = ("page", "department", "xlsx", "pdf")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--departments", type=int, default=250)
    parser.add_argument("--indicators", type=int, default=40, help="per department")
    parser.add_argument("--requests", type=int, default=3, help="per page case")
    parser.add_argument("--pdf-requests", type=int, default=1)
    parser.add_argument(
        "--pdf-departments",
        type=int,
        metavar="N",
        help="the PDF of the first N departments only (built and rendered as the view does), "
        "for a figure that scales without the whole plan's time and memory",
    )
    parser.add_argument("--refill", action="store_true", help="delete the plans and fill again")
    parser.add_argument("--only", nargs="+", choices=CASES, metavar="CASE")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    args.years = 2  # last year (the report's, closed) and this one
    return args


def fill_if_needed(args):
    from tracking_views import ensure_departments, ensure_users, fill

    from indicators.models import Result
    from perfplan.changelog import change_context
    from perfplan.models import Plan
    from reports.samples import write_sample_texts

    with change_context(quiet=True):  # the bench's own setup stays out of the log
        departments = ensure_departments(args.departments)
        admin, officers, reviewers = ensure_users(departments)
    filled = None
    if args.refill or Plan.objects.count() != args.years or not Result.objects.exists():
        print(f"filling {args.years} plans of {args.departments * args.indicators:,} indicators …")
        _counts, filled = fill(args, departments, officers, reviewers)
    plan = Plan.objects.get(fiscal_year=date.today().year - 1)
    started = time.perf_counter()
    with change_context(quiet=True):
        written = write_sample_texts(plan)
    if written:
        print(f"sample texts: {written:,} in {time.perf_counter() - started:.1f} s")
    return admin, plan, filled


def timed(get, count):
    """`get()` (a response) `count` times: wall and own CPU time, queries, size, peak RSS."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    seconds, cpu, queries, size, body = [], [], 0, 0, b""
    for _ in range(count):
        with CaptureQueriesContext(connection) as captured:
            started, started_cpu = time.perf_counter(), time.process_time()
            response = get()
            body = b"".join(response.streaming_content) if response.streaming else response.content
            seconds.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)
        if response.status_code != 200:
            sys.exit(f"the request answered {response.status_code}")
        queries, size = len(captured), len(body)
    return {
        "min_s": round(min(seconds), 2),
        "median_s": round(statistics.median(seconds), 2),
        "max_s": round(max(seconds), 2),
        "cpu_median_s": round(statistics.median(cpu), 2),
        "queries": queries,
        "bytes": size,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
    }, body


def partial_pdf(plan, user, departments):
    """The PDF of the plan's first `departments` departments, as the PDF view makes it."""
    from django.http import HttpResponse

    from reports.report import build_report
    from reports.views import report_pdf

    report = build_report(plan, user)
    report.departments = report.departments[:departments]
    return HttpResponse(report_pdf(None, report), content_type="application/pdf")


def pdf_pages(data):
    if not shutil.which("pdfinfo"):
        return None
    info = subprocess.run(["pdfinfo", "-"], input=data, capture_output=True, check=False)
    for line in info.stdout.decode("utf-8", "replace").splitlines():
        if line.startswith("Pages:"):
            return int(line.split()[1])
    return None


def main():
    args = parse_args()
    open_bench_database(DEFAULT_URL, "results report")
    from django.db import connection
    from django.test import Client
    from django.test.utils import override_settings
    from django.urls import reverse

    from goals.models import PlanDepartment
    from indicators.models import Indicator
    from reports import pdf

    admin, plan, filled = fill_if_needed(args)
    indicators = Indicator.objects.in_plan(plan).count()
    department = PlanDepartment.objects.filter(plan=plan).order_by("position").first()
    year = {"year": plan.fiscal_year}
    cases = {
        "page": (reverse("reports:report"), year, args.requests),
        "department": (
            reverse("reports:report"),
            {**year, "department": department.pk},
            args.requests,
        ),
        "xlsx": (reverse("reports:export"), year, args.requests),
        "pdf": (reverse("reports:pdf"), year, args.pdf_requests),
    }
    unavailable = pdf.unavailable_reason()
    plain_static = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    client = Client()
    client.force_login(admin)
    results = {}
    with override_settings(STORAGES=plain_static):
        client.get(reverse("reports:report"), {**year, "department": department.pk})  # warm up
        for name, (url, params, count) in cases.items():
            if args.only and name not in args.only:
                continue
            if name == "pdf" and unavailable:
                print(f"pdf: skipped ({unavailable})")
                continue
            if name == "pdf" and args.pdf_departments:
                shown = args.pdf_departments
                figures, body = timed(lambda n=shown: partial_pdf(plan, admin, n), count)
                figures["departments"] = shown
            else:
                figures, body = timed(lambda u=url, p=params: client.get(u, p), count)
            if name == "pdf":
                figures["pages"] = pdf_pages(body)
            results[name] = figures

    print()
    print(
        f"results report of {plan.fiscal_year}: {indicators:,} indicators, "
        f"{PlanDepartment.objects.filter(plan=plan).count()} departments "
        f"({connection.vendor}){f'; filled in {filled:.0f} s' if filled else ''}"
    )
    print(
        f"{'case':<11} {'min s':>7} {'median s':>9} {'max s':>7} {'CPU s':>7} {'queries':>8} "
        f"{'MB':>7} {'RSS MB':>7}  verdict"
    )
    for name, f in results.items():
        target = TARGETS.get(name)
        verdict = (
            ("ok" if f["max_s"] <= target else f"MISSES {target:.0f} s") if target else "(reported)"
        )
        pages = f" ({f['pages']:,} pages)" if f.get("pages") else ""
        if f.get("departments"):
            pages += f" of the first {f['departments']} departments"
            verdict = "(part of the plan)"
        print(
            f"{name:<11} {f['min_s']:>7} {f['median_s']:>9} {f['max_s']:>7} "
            f"{f['cpu_median_s']:>7} {f['queries']:>8} {f['bytes'] / 1e6:>7.1f} "
            f"{f['peak_rss_mb']:>7}  {verdict}{pages}"
        )
    OUT.mkdir(parents=True, exist_ok=True)
    document = {
        "benchmark": "results_report",
        "when": datetime.now().astimezone().isoformat(timespec="seconds"),
        "environment": {
            "database": f"{connection.vendor} {connection.settings_dict.get('NAME')}",
            "python": platform.python_version(),
        },
        "size": {"indicators": indicators, "fiscal_year": plan.fiscal_year},
        "targets_s": TARGETS,
        "results": results,
    }
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    text = json.dumps(document, ensure_ascii=False, indent=2)
    (OUT / f"results_report-{stamp}.json").write_text(text, encoding="utf-8")
    (OUT / "results_report-latest.json").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
