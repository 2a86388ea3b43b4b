#!/usr/bin/env python
"""Results import benchmark: prints figures; not a timed test. Target ≥ 10,000 rows/s.

Builds a scratch plan (fiscal year --year, default 2098) of --indicators monthly indicators
in --departments departments, writes a results CSV of one row per indicator and month
(indicators × 12 rows) and an xlsx of the same rows, then measures, in this process:

  read_csv        indicators.results_import.read_results_files on the CSV
  read_xlsx       the same on the xlsx
  preview_new     import_results dry run: every row new (the admin's preview step)
  import_new      applied: bulk_create + one change-log entry per result (and the batch's)
  import_same     the same file again, applied: every row unchanged, nothing written
  import_changed  every value edited, applied: bulk_update + one log entry per result

Each import phase reads the file first (its time is given apart) and counts its queries.
The importing user is a superuser, entry is kept open by an EntryException per department
and month (so the deadline check runs as in production), and "today" is the plan's
20 December.

Scratch databases only (the change log is append-only, so the bench's entries stay):
without DATABASE_URL a SQLite file bench/out/results_bench.sqlite3 is created and migrated.
On PostgreSQL use a database of its own:

    psql -h 127.0.0.1 -U postgres -c 'CREATE DATABASE perfplan_results_bench'
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/perfplan_results_bench \\
        .venv/bin/python bench/results_import.py --migrate

The plan of --year is deleted first if the scratch database has one. Results are printed and
written as JSON to bench/out/results_import-<engine>-latest.json.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

import common

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
SQLITE_DEFAULT = f"sqlite:///{OUT / 'results_bench.sqlite3'}"
TARGET_ROWS_PER_S = 10_000


def setup_django(migrate):
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "perfplan.settings")
    os.environ.setdefault("DJANGO_DEBUG", "0")
    os.environ.setdefault("DJANGO_SECRET_KEY", "perfplan-bench-only-not-a-secret")
    if not os.environ.get("DATABASE_URL"):
        OUT.mkdir(parents=True, exist_ok=True)
        os.environ["DATABASE_URL"] = SQLITE_DEFAULT
        migrate = True
    import django

    django.setup()
    if migrate:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)


def build(year, departments, indicators):
    """The scratch plan, its monthly definitions, a superuser and open entry."""
    from django.contrib.auth import get_user_model

    from goals.models import PlanDepartment
    from goals.tests.factories import synthetic_plan
    from indicators.models import EntryException, Indicator, Result
    from perfplan.changelog import change_context
    from perfplan.models import Plan
    from perfplan.planfiles.importer import import_plan

    old = Plan.objects.filter(fiscal_year=year).first()
    if old is not None:  # a previous run's scratch plan: removed without a log entry per row
        with change_context(quiet=True):
            Result.objects.in_plan(old).delete()
            old.delete()
    per_department = max(1, indicators // departments)
    policy_goals = 10
    per_goal = max(1, per_department // (2 * policy_goals))
    data = synthetic_plan(
        departments=departments, goals=2, policy_goals=policy_goals, indicators=per_goal
    )
    for dept in data.departments:
        dept.name = f"벤치실적국{dept.name[-3:]}"
    result = import_plan(year, data, source="bench")
    assert result.ok, result.errors[:5]
    plan = result.plan
    queryset = Indicator.objects.in_plan(plan)
    queryset.update(frequency="monthly", aggregation="sum", annual_target=Decimal(1200))
    for pd in PlanDepartment.objects.filter(plan=plan):
        EntryException.objects.bulk_create(
            EntryException(
                plan=plan,
                department_id=pd.department_id,
                period=f"M{m:02d}",
                open_until=date(year + 1, 12, 31),
                reason="bench",
            )
            for m in range(1, 13)
        )
    User = get_user_model()
    user, _created = User.objects.get_or_create(
        username="bench-results", defaults={"is_superuser": True, "is_staff": True}
    )
    rows = list(
        queryset.order_by("pk").values_list(f"{Indicator.scope.to(PlanDepartment)}__name", "name")
    )
    return plan, user, rows


def write_files(rows, bump=0):
    import openpyxl

    from goals.tests.factories import csv_bytes

    header = ["실국명", "성과지표명", "기간", "실적", "비고"]
    body = [
        [dept, name, f"{m}월", str(90 + (n + m + bump) % 20), ""]
        for n, (dept, name) in enumerate(rows)
        for m in range(1, 13)
    ]
    csv_data = csv_bytes([header, *body])
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("실적")
    sheet.append(header)
    for row in body:
        sheet.append([row[0], row[1], row[2], int(row[3]), None])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return csv_data, buffer.getvalue(), len(body)


def measure(label, func, rows):
    from django.db import connection, reset_queries

    connection.force_debug_cursor = True
    reset_queries()
    started = time.perf_counter()
    value = func()
    seconds = time.perf_counter() - started
    queries = len(connection.queries)
    connection.force_debug_cursor = False
    reset_queries()
    figures = {
        "seconds": round(seconds, 3),
        "rows": rows,
        "rows_per_s": round(rows / seconds) if seconds else None,
        "queries": queries,
    }
    print(
        f"  {label:<15} {seconds:8.2f} s  {figures['rows_per_s'] or 0:>9,} rows/s  "
        f"{queries:>5} queries"
    )
    return figures, value


def same_rows_baselines(plan):
    """The baselines of the same run: the plan's results, as the first import wrote them,
    written again by bulk_create and by COPY (the originals deleted first; rolled back)."""
    from django.db import connection

    from indicators.models import Result

    results = Result.objects.filter(
        indicator__policy_goal__strategic_goal__plan_department__plan=plan
    )

    def delete_originals():
        ids, params = results.values("id").query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM indicators_result WHERE id IN ({ids})", params)

    return common.same_rows_baselines([(Result, results)], prepare=delete_originals)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--departments", type=int, default=10)
    parser.add_argument("--indicators", type=int, default=2000, help="monthly: ×12 rows")
    parser.add_argument("--year", type=int, default=2098)
    parser.add_argument("--migrate", action="store_true", help="apply migrations first")
    args = parser.parse_args(argv)
    setup_django(args.migrate)

    from django.db import connection

    from indicators.results_import import import_results, read_results_files

    database = f"{connection.vendor} {connection.settings_dict.get('NAME')}"
    print(f"results import benchmark on {database}")
    load_at_start = common.load_now()
    started = time.perf_counter()
    plan, user, names = build(args.year, args.departments, args.indicators)
    csv_data, xlsx_data, n_rows = write_files(names)
    changed_csv, _xlsx, _n = write_files(names, bump=7)
    print(
        f"built {len(names):,} monthly indicators in {args.departments} departments, "
        f"{n_rows:,} rows ({len(csv_data):,} bytes CSV, {len(xlsx_data):,} bytes xlsx) "
        f"in {time.perf_counter() - started:.1f} s"
    )
    today = date(args.year, 12, 20)
    results = {}

    def read(data, name):
        rows, errors = read_results_files([(name, data)], year=args.year)
        assert not errors, errors[:5]
        return rows

    results["read_csv"], rows = measure("read_csv", lambda: read(csv_data, "r.csv"), n_rows)
    results["read_xlsx"], _ = measure("read_xlsx", lambda: read(xlsx_data, "r.xlsx"), n_rows)

    def run(data, dry_run, expect):
        rows = read(data, "r.csv")

        def step():
            result = import_results(
                args.year, rows, user=user, dry_run=dry_run, today=today, files=[("r.csv", data)]
            )
            assert result.ok, [str(e) for e in result.errors[:5]]
            totals = result.totals()
            assert totals[expect] == n_rows, totals
            return totals

        return step

    for phase, data, dry_run, expect in (
        ("preview_new", csv_data, True, "new"),
        ("import_new", csv_data, False, "new"),
        ("import_same", csv_data, False, "unchanged"),
        ("import_changed", changed_csv, False, "changed"),
    ):
        read_started = time.perf_counter()
        step = run(data, dry_run, expect)
        read_seconds = time.perf_counter() - read_started
        results[phase], totals = measure(phase, step, n_rows)
        results[phase]["read_seconds"] = round(read_seconds, 3)
        results[phase]["totals"] = totals
        whole = read_seconds + results[phase]["seconds"]
        results[phase]["rows_per_s_with_read"] = round(n_rows / whole)
        if phase == "import_new":
            results[phase]["baseline"] = same_rows_baselines(plan)
            print(
                "  "
                + common.baseline_line(
                    phase, results[phase]["seconds"], n_rows, results[phase]["baseline"]
                )
            )

    report = {
        "benchmark": "results_import",
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "environment": {
            "database": database,
            "python": platform.python_version(),
            "machine": platform.machine(),
            "cpus": os.cpu_count(),
            "machine_figures": common.machine(),
            "load_at_start": load_at_start,
        },
        "size": {"departments": args.departments, "indicators": len(names), "rows": n_rows},
        "results": results,
        "target_rows_per_s": TARGET_ROWS_PER_S,
    }
    slowest = min(
        results[p]["rows_per_s_with_read"]
        for p in ("preview_new", "import_new", "import_same", "import_changed")
    )
    report["verdict"] = {
        "slowest_rows_per_s_with_read": slowest,
        "meets_target": slowest >= TARGET_ROWS_PER_S,
    }
    print(
        f"slowest import phase, read included: {slowest:,} rows/s "
        f"({'meets' if slowest >= TARGET_ROWS_PER_S else 'misses'} the {TARGET_ROWS_PER_S:,} target)"
    )
    print(common.machine_line(load_at_start=load_at_start))
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"results_import-{connection.vendor}-latest.json"
    path.write_text(json.dumps(report, indent=1, ensure_ascii=False, default=str) + "\n")
    print(f"written: {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
