#!/usr/bin/env python
"""Change-log write and seal benchmark: prints figures; not a timed test.

Appends --entries entries the way an import does (one ChainWriter, binary COPY on
PostgreSQL), commits them, then seals them (perfplan.changelog.seal, 5,000 per transaction)
and verifies the whole log, --repeat times, printing for each step the median wall and
CPU seconds (this process's; the database server's not included) and entries per second.
The append is what an import pays inside its transaction (the committer's own after-commit
sealer is switched off here); sealing runs after its commit, timed on its own.

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/perfplan_bench
    .venv/bin/python manage.py migrate
    .venv/bin/python bench/changelog_seal.py --entries 56251

The entries stay in the log (it is append-only): use a scratch database.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import common

BASE_DIR = Path(__file__).resolve().parent.parent


def setup_django():
    sys.path.insert(0, str(BASE_DIR))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "perfplan.settings")
    import django

    django.setup()


def timed(function):
    wall, cpu = time.perf_counter(), time.process_time()
    result = function()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def entries(count, content_type_id):
    """Entries shaped like a plan import's: a new record with its fields."""
    for number in range(count):
        yield (
            "create",
            content_type_id,
            str(1_000_000 + number),
            f"성과지표 {number} 주민 만족도 조사 결과",
            1 + number % 250,
            2099,
            {
                "name": [None, f"성과지표 {number} 주민 만족도 조사 결과"],
                "annual_target": [None, str(50 + number % 40)],
                "unit": [None, "%"],
                "direction": [None, "up"],
                "formula": [None, "만족 응답자 수 ÷ 전체 응답자 수 × 100"],
            },
            "",
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=56_251)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    setup_django()

    from django.contrib.contenttypes.models import ContentType
    from django.db import connection, transaction

    from perfplan import changelog
    from perfplan.models import Department

    content_type_id = ContentType.objects.get_for_model(Department).pk
    sealing = hasattr(changelog, "seal")  # (so that it also runs on the code before the sealer)
    if sealing:
        changelog.seal()  # whatever was left unsealed before
        # Sealed below, on its own: not by the committer's after-commit sealer.
        changelog.seal_after_commit = lambda written: None
    figures = {"append": [], "seal": [], "verify": []}
    baselines = {"update": [], "select": []}
    load_at_start = common.load_now()
    for _run in range(args.repeat):

        def append():
            with transaction.atomic(), changelog.ChainWriter() as chain:
                chain.extend(entries(args.entries, content_type_id))
            return chain.count

        _count, wall, cpu = timed(append)
        figures["append"].append((wall, cpu, args.entries))
        if sealing:
            report, wall, cpu = timed(changelog.seal)
            figures["seal"].append((wall, cpu, report.sealed))
        report, wall, cpu = timed(changelog.verify_chain)
        assert report.ok, report.problem
        figures["verify"].append((wall, cpu, report.checked))
        # The baselines of the same run: the appended rows' hash rewritten by one UPDATE
        # (what sealing does row by row), rolled back; the whole log read by a bare SELECT.
        _n, wall, cpu = timed(lambda: update_last(args.entries))
        baselines["update"].append((wall, cpu, args.entries))
        checked, wall, cpu = timed(select_all)
        baselines["select"].append((wall, cpu, checked))

    print(
        f"change log · {connection.vendor} {connection.settings_dict['NAME']} · "
        f"{args.entries:,} entries × {args.repeat} · load {os.getloadavg()[0]:.1f}"
    )
    print(f"{'step':8} {'wall s':>8} {'cpu s':>8} {'entries/s':>11}  (medians)")
    for step, runs in figures.items():
        if not runs:
            continue
        wall = statistics.median(run[0] for run in runs)
        cpu = statistics.median(run[1] for run in runs)
        count = statistics.median(run[2] for run in runs)
        print(f"{step:8} {wall:8.2f} {cpu:8.2f} {count / wall:11,.0f}")
    medians = {
        name: statistics.median(run[0] for run in runs) for name, runs in figures.items() if runs
    }
    update = statistics.median(run[0] for run in baselines["update"])
    select = statistics.median(run[0] for run in baselines["select"])
    print(
        f"baselines of the same run: one UPDATE of the appended entries' hash {update:.2f} s, "
        f"a bare SELECT of the whole log {select:.2f} s"
    )
    if "seal" in medians:
        print(f"seal ÷ that UPDATE: {common.ratio(medians['seal'], update)}×")
    print(f"verify ÷ that SELECT: {common.ratio(medians['verify'], select)}×")
    print(common.machine_line(load_at_start=load_at_start))


def update_last(count):
    """One UPDATE of the last `count` entries' hash (rolled back)."""
    from django.db import connection, transaction

    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE perfplan_changelogentry SET hash = md5(hash) WHERE sequence > "
                "(SELECT MAX(sequence) FROM perfplan_changelogentry) - %s",
                [count],
            )
        transaction.set_rollback(True)


def select_all():
    """Every entry read by a bare SELECT, as verify reads them: the rows fetched."""
    from django.db import connection, transaction

    rows = 0
    with transaction.atomic(), connection.chunked_cursor() as cursor:
        cursor.execute("SELECT * FROM perfplan_changelogentry ORDER BY sequence")
        while chunk := cursor.fetchmany(5000):
            rows += len(chunk)
    return rows


if __name__ == "__main__":
    main()
