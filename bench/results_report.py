#!/usr/bin/env python
"""Results report benchmark: the report of a national plan (성과보고서, reports.report).

Not a test. Fills a dedicated PostgreSQL database (perfplan_bench_report by default: created
and migrated if missing) with bench/tracking_views.py's generator — --departments ×
--indicators monthly indicators per plan (250 × 40 = 10,000), for last year (closed: 12
monthly results each, about 120,000) and this year — and writes the sample texts of last
year's report (reports.samples: a text for every indicator, approved; the report marked
final). Then, as the plan admin through Django's test client, it times:

  page        GET /admin/reports/?year=<last year>: the report page, a page of departments
              (reports.report.PAGE_INDICATORS) with every summary (target ≤ 5 s)
  page_all    GET …&page=all: the whole plan on one page, for printing (reported)
  department  GET …&department=…: one department's report
  xlsx        GET /admin/reports/export/?year=…: the whole plan as xlsx (reported)
  pdf_make    the task worker's making of the whole plan's PDF (reports.published:
              parts rendered in --workers processes, joined; run in this process as the
              ImmediateBackend runs it; target ≤ 60 s), its CPU time with the processes'
              and their peak memory; pages counted with pdfinfo where installed
  pdf         GET /admin/reports/pdf/?year=…: the stored file served

and prints each case's server time (min / median / max), the process's own CPU time (the
machine is shared: wall time grows with the load, CPU time much less), queries, size and
peak memory, with the bare SELECT page of the same run (bench/common.py) as the baseline
and each case's median as a multiple of it, the machine and the load at start and end.
--pdf-departments N makes the PDF of the first N departments only. JSON goes to
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
TARGETS = {"page": 5.0, "pdf_make": 60.0, "pdf": 60.0}  # seconds
CASES = ("page", "page_all", "department", "xlsx", "pdf_make", "pdf")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--departments", type=int, default=250)
    parser.add_argument("--indicators", type=int, default=40, help="per department")
    parser.add_argument("--requests", type=int, default=3, help="per page case")
    parser.add_argument("--pdf-requests", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2, help="processes making the PDF")
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
    """`get()` (a response or bytes) `count` times: wall and CPU time (this process and the
    processes it waited for), queries, size, peak RSS (this process; the children's)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    seconds, cpu, queries, size, body = [], [], 0, 0, b""
    for _ in range(count):
        with CaptureQueriesContext(connection) as captured:
            started, started_cpu = time.perf_counter(), _cpu()
            response = get()
            if isinstance(response, bytes):
                body = response
            else:
                if response.status_code != 200:
                    sys.exit(f"the request answered {response.status_code}")
                body = (
                    b"".join(response.streaming_content) if response.streaming else response.content
                )
            seconds.append(time.perf_counter() - started)
            cpu.append(_cpu() - started_cpu)
        queries, size = len(captured), len(body)
    return {
        "min_s": round(min(seconds), 2),
        "median_s": round(statistics.median(seconds), 2),
        "max_s": round(max(seconds), 2),
        "cpu_median_s": round(statistics.median(cpu), 2),
        "queries": queries,
        "bytes": size,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
        "children_peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024,
    }, body


def _cpu():
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def make_pdf(plan, user, departments, workers):
    """The whole plan's PDF as the task worker makes it (reports.published), stored; or the
    first `departments` departments' (not stored)."""
    from django.test.utils import override_settings

    from reports import published
    from reports.report import build_report

    if departments:
        report = build_report(plan, user)
        report.departments = report.departments[:departments]
        return published.document_pdf(report, workers=workers)[0]
    immediate = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    with override_settings(TASKS=immediate, PERFPLAN_REPORT_PDF_WORKERS=workers):
        record = published.queue_report_pdf(plan, user)
    if record.state != record.State.DONE:
        sys.exit(f"the PDF was not made ({record.state})")
    return bytes(record.content)


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
    import common
    from django.db import connection
    from django.test import Client
    from django.test.utils import override_settings
    from django.urls import reverse

    from goals.models import PlanDepartment
    from indicators.models import Indicator
    from reports import pdf

    load_at_start = common.load_now()
    admin, plan, filled = fill_if_needed(args)
    from indicators import standing
    from perfplan.changelog import change_context

    with change_context(quiet=True):  # current standings, as refresh_standings leaves them
        standing.refresh(plan)
    indicators = Indicator.objects.in_plan(plan).count()
    department = PlanDepartment.objects.filter(plan=plan).order_by("position").first()
    year = {"year": plan.fiscal_year}
    page = reverse("reports:report")
    cases = {
        "page": lambda: client.get(page, year),
        "page_all": lambda: client.get(page, {**year, "page": "all"}),
        "department": lambda: client.get(page, {**year, "department": department.pk}),
        "xlsx": lambda: client.get(reverse("reports:export"), year),
        "pdf_make": lambda: make_pdf(plan, admin, args.pdf_departments, args.workers),
        "pdf": lambda: client.get(reverse("reports:pdf"), year),
    }
    counts = {"pdf_make": args.pdf_requests, "pdf": args.pdf_requests}
    unavailable = pdf.unavailable_reason()
    plain_static = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    client = Client()
    client.force_login(admin)
    results = {}
    with override_settings(STORAGES=plain_static, ROOT_URLCONF=common.URLCONF):
        client.get(page, {**year, "department": department.pk})  # warm up
        base = common.measure_bare_page(client, Indicator._meta.db_table, 20)
        for name, get in cases.items():
            if args.only and name not in args.only:
                continue
            if name.startswith("pdf") and unavailable:
                print(f"{name}: skipped ({unavailable})")
                continue
            if name == "pdf" and args.pdf_departments:
                continue  # nothing stored of a part of the plan
            figures, body = timed(get, counts.get(name, args.requests))
            if name.startswith("pdf"):
                figures["pages"] = pdf_pages(body)
            if name == "pdf_make" and args.pdf_departments:
                figures["departments"] = args.pdf_departments
            results[name] = figures
            print(f"  {name}: {figures['median_s']} s", flush=True)

    print()
    print(
        f"results report of {plan.fiscal_year}: {indicators:,} indicators, "
        f"{PlanDepartment.objects.filter(plan=plan).count()} departments "
        f"({connection.vendor}){f'; filled in {filled:.0f} s' if filled else ''}"
    )
    base_s = base["p50_ms"] / 1000
    print(f"baseline: the bare SELECT page, p50 {base['p50_ms']} ms (same run)")
    print(
        f"{'case':<11} {'min s':>7} {'median s':>9} {'max s':>7} {'× base':>8} {'CPU s':>7} "
        f"{'queries':>8} {'MB':>7} {'RSS MB':>7}  verdict"
    )
    for name, f in results.items():
        target = TARGETS.get(name)
        verdict = (
            ("ok" if f["max_s"] <= target else f"MISSES {target:.0f} s") if target else "(reported)"
        )
        rss = f["peak_rss_mb"]
        if name == "pdf_make":
            rss = f"{rss}+{f['children_peak_rss_mb']}"  # this process + the largest worker
        pages = f" ({f['pages']:,} pages)" if f.get("pages") else ""
        if f.get("departments"):
            pages += f" of the first {f['departments']} departments"
            verdict = "(part of the plan)"
        print(
            f"{name:<11} {f['min_s']:>7} {f['median_s']:>9} {f['max_s']:>7} "
            f"{common.ratio(f['median_s'], base_s):>8} {f['cpu_median_s']:>7} {f['queries']:>8} "
            f"{f['bytes'] / 1e6:>7.1f} {rss:>7}  {verdict}{pages}"
        )
    print(common.machine_line(None, load_at_start))
    OUT.mkdir(parents=True, exist_ok=True)
    document = {
        "benchmark": "results_report",
        "when": datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": common.machine(),
        "load_at_start": load_at_start,
        "environment": {
            "database": f"{connection.vendor} {connection.settings_dict.get('NAME')}",
            "python": platform.python_version(),
        },
        "size": {"indicators": indicators, "fiscal_year": plan.fiscal_year},
        "targets_s": TARGETS,
        "baseline": base,
        "workers": args.workers,
        "results": results,
    }
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    text = json.dumps(document, ensure_ascii=False, indent=2)
    (OUT / f"results_report-{stamp}.json").write_text(text, encoding="utf-8")
    (OUT / "results_report-latest.json").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
