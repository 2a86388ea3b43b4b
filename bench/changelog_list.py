#!/usr/bin/env python
"""Change-log list benchmark: the auditor's filtered list on 1,000,000 entries. Not a test.

Fills a dedicated PostgreSQL database (perfplan_bench_log by default: created and migrated
if missing) with --entries log entries written with COPY (hash-chained as the application
chains them, so `verify_change_log` works on it too), then requests the auditor's change-log
list through Django's test client, in-process, ~50 times per filter:

  all            no filter (page 1)
  department     one department (a different one each request)
  user           one user
  action         one action
  date_range     one calendar month
  object_type    one kind of record
  combined       department + action + a month
  page_20        no filter, page 20 (OFFSET 1900)

and prints p50 / p95 / max server time per filter (the whole Django request: middleware,
session, permission checks, the queries and the template), the p95 of the request's own CPU
time and of its SQL time, the number of SQL queries per request, whether any query counted
the log, and the fewest rows a page showed. Figures are per request on this machine,
with a warm database cache (a few warm-up requests first).

Usage:

    .venv/bin/python bench/changelog_list.py                  # fill if needed, measure
    .venv/bin/python bench/changelog_list.py --requests 100
    .venv/bin/python bench/changelog_list.py --refill --entries 1000000
    .venv/bin/python bench/changelog_list.py --verify         # also time verify_change_log
    BENCH_DATABASE_URL=postgres://user@host:5432/other .venv/bin/python bench/changelog_list.py

Runs with production settings (DJANGO_DEBUG=0; a throwaway secret key; no SSL redirect,
plain static storage, as the test client speaks plain HTTP and there is no collectstatic).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse

import common

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/perfplan_bench_log"
ACTIONS = (
    ("update", 60),
    ("create", 15),
    ("submit", 8),
    ("approve", 7),
    ("return", 3),
    ("delete", 3),
    ("import", 3),
    ("reopen", 1),
)
DEPARTMENTS = 30
USERS = 60
FIELDS = ("value", "note", "annual_target", "budget", "name", "status")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=50, help="requests per filter")
    parser.add_argument("--refill", action="store_true", help="empty the log and fill again")
    parser.add_argument("--verify", action="store_true", help="also time verify_change_log")
    parser.add_argument("--seed", type=int, default=2026)
    return parser.parse_args()


def configure(database_url):
    sys.path.insert(0, str(BASE_DIR))
    os.environ["DATABASE_URL"] = database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "perfplan.settings"
    os.environ["DJANGO_DEBUG"] = "0"
    os.environ["DJANGO_SECURE_SSL_REDIRECT"] = "0"
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-" + os.urandom(32).hex())
    os.environ["DJANGO_ALLOWED_HOSTS"] = "testserver"  # the test client's host
    # Exports of any size answered in the request: the benches time the making of the file,
    # which the task worker runs through the same function for a large one (perfplan.exports).
    os.environ.setdefault("PERFPLAN_EXPORT_INLINE_ROWS", str(10**9))


def create_database(database_url):
    import psycopg

    url = urlparse(database_url)
    name = url.path.lstrip("/")
    admin_url = url._replace(path="/postgres").geturl()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
            print(f"created database {name}")


def setup_world():
    """Departments, users (one auditor) and the content types the entries refer to."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.contrib.contenttypes.models import ContentType

    from perfplan import roles
    from perfplan.changelog import change_context, tracked_models
    from perfplan.models import Department

    User = get_user_model()
    with change_context(quiet=True):  # the bench's own setup stays out of the log
        for i in range(DEPARTMENTS):
            Department.objects.get_or_create(
                code=f"BENCH{i:03d}", defaults={"name": f"실국{i:03d}"}
            )
        auditor, created = User.objects.get_or_create(
            username="bench_auditor", defaults={"is_staff": True}
        )
        auditor.groups.set([Group.objects.get(name=roles.AUDITOR)])
        for i in range(USERS):
            User.objects.get_or_create(username=f"bench_user{i:03d}", defaults={"is_staff": True})
    departments = list(
        Department.objects.filter(code__startswith="BENCH").values_list("pk", flat=True)
    )
    users = list(
        User.objects.filter(username__startswith="bench_user").values_list("pk", "username")
    )
    content_types = [ct.pk for ct in ContentType.objects.get_for_models(*tracked_models()).values()]
    return auditor, departments, users, content_types


def fill(count, departments, users, content_types, seed):
    """COPY `count` sealed entries (chain position = sequence); the head is set to the last
    one and the database sequence past it. The log's append-only triggers refuse TRUNCATE and
    a head moving back: the bench, as the database owner, switches them off meanwhile."""
    from django.db import connection

    from perfplan.changelog import GENESIS, values_hash
    from perfplan.models import ChangeLogEntry, ChangeLogHead

    rng = random.Random(seed)
    actions = [name for name, weight in ACTIONS for _ in range(weight)]
    end = datetime.now(UTC)
    start = end - timedelta(days=730)
    step = (end - start) / count
    table = ChangeLogEntry._meta.db_table
    columns = (
        "sequence, timestamp, user_id, username, request_id, ip_address, action, "
        "content_type_id, object_id, object_repr, department_id, fiscal_year, changes, "
        "reason, batch_id, prev_hash, hash, position"
    )
    head_table = ChangeLogHead._meta.db_table
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        cursor.execute(f"ALTER TABLE {head_table} DISABLE TRIGGER USER")
        cursor.execute(f"TRUNCATE {table}")
        raw = cursor.cursor
        prev_hash = GENESIS
        with raw.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for sequence in range(1, count + 1):
                user_id, username = users[min(int(rng.paretovariate(1.2)) - 1, len(users) - 1)]
                department_id = rng.choice(departments) if rng.random() > 0.05 else None
                moment = start + step * sequence
                field = rng.choice(FIELDS)
                changes = {field: [str(rng.randint(0, 999)), str(rng.randint(0, 999))]}
                row = [
                    sequence,
                    moment.isoformat(),
                    user_id,
                    username,
                    f"{rng.getrandbits(64):016x}",
                    f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
                    rng.choice(actions),
                    rng.choice(content_types),
                    str(rng.randint(1, 50_000)),
                    f"성과지표 {rng.randint(1, 50_000)}",
                    department_id,
                    2025 + (sequence * 2 // count),
                    changes,
                    "",
                    None,
                    prev_hash,
                ]
                # The application's own hash of these column values.
                prev_hash = values_hash([*row[:1], moment, *row[2:16]])
                row[12] = json.dumps(changes, ensure_ascii=False)
                row.append(prev_hash)
                row.append(sequence)  # sealed: its chain position
                copy.write_row(row)
                if sequence % 200_000 == 0:
                    print(f"  {sequence:,} entries ({time.perf_counter() - started:.0f} s)")
        cursor.execute(f"ANALYZE {table}")
        ChangeLogHead.objects.update_or_create(
            pk=1, defaults={"position": count, "hash": prev_hash}
        )
        cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'sequence'), %s)", [count])
        cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
        cursor.execute(f"ALTER TABLE {head_table} ENABLE TRIGGER USER")
    print(f"filled {count:,} entries in {time.perf_counter() - started:.1f} s")


def percentile(values, fraction):
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def measure(auditor, departments, users, content_types, requests, seed):
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    rng = random.Random(seed + 1)
    client = Client()
    client.force_login(auditor)
    base = reverse("admin:perfplan_changelogentry_changelist")
    now = datetime.now(UTC)

    def month():
        first = (now - timedelta(days=rng.randint(0, 700))).date().replace(day=1)
        following = (first + timedelta(days=32)).replace(day=1)
        return f"timestamp__gte={first}&timestamp__lt={following}"

    action_names = [name for name, _weight in ACTIONS]
    filters = {
        "all": lambda: "",
        "department": lambda: f"department__id__exact={rng.choice(departments)}",
        "user": lambda: f"user__id__exact={rng.choice(users)[0]}",
        "action": lambda: f"action__exact={rng.choice(action_names)}",
        "date_range": month,
        "object_type": lambda: f"content_type__id__exact={rng.choice(content_types)}",
        "combined": lambda: (
            f"department__id__exact={rng.choice(departments)}"
            f"&action__exact={rng.choice(action_names)}&{month()}"
        ),
        "page_20": lambda: "p=20",
    }
    for _ in range(5):  # warm-up: templates, caches
        client.get(base)
    results = {}
    for name, make_query in filters.items():
        times, cpu_times, sql_times, query_counts, counted, rows = [], [], [], [], 0, []
        for _ in range(requests):
            url = f"{base}?{make_query()}"
            with CaptureQueriesContext(connection) as queries:
                started, cpu_started = time.perf_counter(), time.thread_time()
                response = client.get(url)
                elapsed = (time.perf_counter() - started) * 1000
                cpu_times.append((time.thread_time() - cpu_started) * 1000)
            assert response.status_code == 200, (url, response.status_code)
            times.append(elapsed)
            sql_times.append(sum(float(q["time"]) for q in queries.captured_queries) * 1000)
            query_counts.append(len(queries.captured_queries))
            counted += sum(
                1
                for q in queries.captured_queries
                if "perfplan_changelogentry" in q["sql"] and "COUNT(" in q["sql"].upper()
            )
            rows.append(response.content.count(b'class="field-sequence"'))
        results[name] = {
            "p50_ms": round(statistics.median(times), 1),
            "p95_ms": round(percentile(times, 0.95), 1),
            "max_ms": round(max(times), 1),
            "cpu_p95_ms": round(percentile(cpu_times, 0.95), 1),
            "sql_p95_ms": round(percentile(sql_times, 0.95), 1),
            "queries": max(query_counts),
            "count_queries": counted,
            "rows_min": min(rows),
        }
    return results


def time_verify():
    from perfplan.changelog import verify_chain

    started = time.perf_counter()
    report = verify_chain()
    return report, time.perf_counter() - started


def open_bench_database(default_url, what):
    """BENCH_DATABASE_URL (default_url without it), PostgreSQL only: created if missing,
    Django set up on it and migrated."""
    database_url = os.environ.get("BENCH_DATABASE_URL", default_url)
    if not database_url.startswith("postgres"):
        sys.exit(f"The {what} benchmark runs on PostgreSQL (BENCH_DATABASE_URL).")
    configure(database_url)
    create_database(database_url)

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def main():
    args = parse_args()
    open_bench_database(DEFAULT_URL, "change-log")
    from django.test.utils import override_settings

    from perfplan.models import ChangeLogEntry

    auditor, departments, users, content_types = setup_world()
    present = ChangeLogEntry.objects.count()
    if args.refill or present != args.entries:
        print(f"the log holds {present:,} entries; filling {args.entries:,} …")
        fill(args.entries, departments, users, content_types, args.seed)
    else:
        print(f"the log already holds {present:,} entries (--refill to fill again)")

    plain_static = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    load_at_start = common.load_now()
    with override_settings(STORAGES=plain_static, ROOT_URLCONF=common.URLCONF):
        results = measure(auditor, departments, users, content_types, args.requests, args.seed)
        # The baseline of the same run (bench/common.py): a bare SELECT page of the log.
        from django.test import Client

        client = Client()
        client.force_login(auditor)
        baseline = common.measure_bare_page(
            client, ChangeLogEntry._meta.db_table, args.requests, random.Random(args.seed)
        )

    print()
    print(f"auditor's change-log list, {args.entries:,} entries, {args.requests} requests each")
    print(
        f"{'filter':<12} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'CPU p95':>8} "
        f"{'SQL p95':>8} {'queries':>8} {'COUNTs':>7} {'rows':>5} {'× base':>6}"
    )
    for name, figures in results.items():
        print(
            f"{name:<12} {figures['p50_ms']:>8} {figures['p95_ms']:>8} {figures['max_ms']:>8} "
            f"{figures['cpu_p95_ms']:>8} {figures['sql_p95_ms']:>8} {figures['queries']:>8} "
            f"{figures['count_queries']:>7} {figures['rows_min']:>5} "
            f"{common.ratio(figures['p95_ms'], baseline['p95_ms']):>6}"
        )
    worst = max(figures["p95_ms"] for figures in results.values())
    print(f"worst p95: {worst} ms (target ≤ 200 ms)")
    print(
        f"baseline of this run: a bare SELECT page of 20 log entries (same middleware, session "
        f"and login) p50 {baseline['p50_ms']} ms, p95 {baseline['p95_ms']} ms; "
        f"× base = p95 ÷ its p95"
    )
    print(common.machine_line(load_at_start=load_at_start))
    if args.verify:
        report, seconds = time_verify()
        print(f"verify_change_log: {report.checked:,} entries, ok={report.ok}, {seconds:.1f} s")


if __name__ == "__main__":
    main()
