#!/usr/bin/env python
"""Roll-forward and plan comparison benchmark: prints figures; not a timed test.

Builds a scratch plan (fiscal year --year, default 2096) of about --indicators yearly
running-total indicators in --departments departments, each with its full-year result, then
measures, in this process:

  preview       rollover.services.preview_roll: year-end values, the diff, the stored preview
  confirm       the stored preview confirmed: every record written and logged (one transaction)
  reroll        the same roll again: everything matched, nothing written
  compare       the comparison of the two years (rollover.compare.compare_plans), its queries
  compare_xlsx  the comparison's xlsx (perfplan.xlsx)

Scratch databases only (the change log is append-only, so the bench's entries stay):
without DATABASE_URL a SQLite file bench/out/roll_bench.sqlite3 is created and migrated. On
PostgreSQL use a database of its own:

    psql -h 127.0.0.1 -U postgres -c 'CREATE DATABASE perfplan_roll_bench'
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/perfplan_roll_bench \\
        .venv/bin/python bench/roll_plan.py --migrate

The plans of --year and the year after are deleted first if the database has them. Results
are printed and written as JSON to bench/out/roll_plan-<engine>-latest.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import common

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
SQLITE_DEFAULT = f"sqlite:///{OUT / 'roll_bench.sqlite3'}"


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


def _remove(year):
    from indicators.models import Result
    from perfplan.changelog import change_context
    from perfplan.models import Plan

    old = Plan.objects.filter(fiscal_year=year).first()
    if old is not None:  # a previous run's scratch plan: removed without a log entry per row
        with change_context(quiet=True):
            Result.objects.in_plan(old).delete()
            old.delete()


def build(year, departments, indicators):
    """The scratch plan with a full-year result per indicator, and a superuser."""
    from decimal import Decimal

    from django.contrib.auth import get_user_model

    from goals.tests.factories import synthetic_plan
    from indicators.models import Indicator, Result, ResultStatus
    from perfplan.planfiles.importer import import_plan

    _remove(year + 1)
    _remove(year)
    policy_goals = 10
    per_goal = max(1, indicators // departments // (2 * policy_goals))
    data = synthetic_plan(
        departments=departments, goals=2, policy_goals=policy_goals, indicators=per_goal
    )
    for dept in data.departments:
        dept.name = f"벤치이월국{dept.name[-3:]}"
    result = import_plan(year, data, source="bench")
    assert result.ok, result.errors[:5]
    plan = result.plan
    queryset = Indicator.objects.in_plan(plan)
    queryset.update(frequency="yearly", aggregation="sum", annual_target=Decimal(100))
    Result.objects.bulk_create(
        (
            Result(indicator_id=pk, period="Y", value=Decimal(90 + pk % 20))
            for pk in queryset.values_list("pk", flat=True)
        ),
        batch_size=2000,
    )
    Result.objects.filter(indicator__in=queryset).update(status=ResultStatus.APPROVED)
    user, _created = get_user_model().objects.get_or_create(
        username="bench-roll", defaults={"is_superuser": True, "is_staff": True}
    )
    return plan, user, queryset.count()


def timed(run):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        start = time.perf_counter()
        value = run()
        seconds = time.perf_counter() - start
    return value, round(seconds, 2), len(queries)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--year", type=int, default=2096)
    parser.add_argument("--departments", type=int, default=50)
    parser.add_argument("--indicators", type=int, default=10_000)
    parser.add_argument("--migrate", action="store_true")
    args = parser.parse_args()
    setup_django(args.migrate)
    load_at_start = common.load_now()

    from perfplan import imports
    from perfplan.models import Plan
    from perfplan.xlsx import write_xlsx
    from rollover.compare import compare_plans, comparison_tables
    from rollover.services import preview_roll, roll_plan

    plan, user, count = build(args.year, args.departments, args.indicators)
    to_year = args.year + 1
    figures = {"indicators": count}
    preview, figures["preview_s"], figures["preview_queries"] = timed(
        lambda: preview_roll(plan, to_year, "baseline+5%", user)
    )
    assert preview.ok, preview.errors[:5]
    figures["records"] = preview.totals()["new"]
    confirmed, figures["confirm_s"], figures["confirm_queries"] = timed(
        lambda: imports.confirm(preview.batch, user=user)
    )
    assert confirmed.ok, confirmed.errors[:5]
    again, figures["reroll_s"], figures["reroll_queries"] = timed(
        lambda: roll_plan(plan, to_year, "baseline+5%", user)
    )
    assert not again.has_writes
    new_plan = Plan.objects.get(fiscal_year=to_year)
    comparison, figures["compare_s"], figures["compare_queries"] = timed(
        lambda: compare_plans(plan, new_plan)
    )
    figures["compare_rows"] = len(comparison.indicators) + len(comparison.budgets)
    _data, figures["compare_xlsx_s"], _queries = timed(
        lambda: write_xlsx(comparison_tables(comparison))
    )
    figures["records_per_s"] = round(figures["records"] / max(figures["confirm_s"], 1e-9))
    machine = common.machine()
    print(common.machine_line(machine, load_at_start))
    for key, value in figures.items():
        print(f"{key:>18}: {value}")
    engine = (machine.get("database") or "db").split()[0].lower()
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"roll_plan-{engine}-latest.json"
    path.write_text(json.dumps({"machine": machine, "figures": figures}, indent=2))
    print(f"written: {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
