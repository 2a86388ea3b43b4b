#!/usr/bin/env python
"""Concurrency benchmark: officers saving through the grid while a plan admin imports the plan.

Not a test; run by hand, bounded in time and requests, on 127.0.0.1 only, stops by itself.

PostgreSQL only, in a database of its own (perfplan_bench_concurrency by default, or
BENCH_DATABASE_URL): created if missing and migrated. It builds a plan of last year (every
month has ended) of --officers departments × --indicators-per-department monthly indicators,
an officer (담당자) per department with a password, a plan admin (성과관리 관리자), entry kept
open by an EntryException per department and month, and the standings computed.

Then it starts gunicorn (--workers, default 4, sync workers, production settings:
DJANGO_DEBUG=0, plain static files) on a free port of 127.0.0.1, and every officer logs in
through the admin login page and opens his grid (my/?year=…) for the CSRF token and the
cells' versions. Two runs follow, each with the same officers:

  baseline   every officer saves --saves values, one cell a request, through the grid's save
             endpoint (JSON, the version each cell was loaded at, an idempotency key), a
             think time of about --think seconds between saves
  imports    the same, while the plan admin imports the plan --imports times in a row
             (perfplan.planfiles.importer.import_plan in a process of its own, every indicator
             rewritten: a long transaction that writes the whole plan and its change-log
             entries); officers go on saving until the imports are done (--saves at least);
             verify_change_log runs --verify times during the writes

For each run it prints saves/s, p50/p95/p99 of a save (client time: queueing in gunicorn
included), 500s, refusals (ok: false), deadlocks (pg_stat_database.deadlocks of the bench
database, and "deadlock detected" in gunicorn's stderr), the longest lock waits seen by a
sampler polling pg_locks every --sample-ms (on the change log — a waiting statement that
names a change-log table —, on standings, on anything), the 1-minute load average, and the
import times, and the figures of the saves that overlapped the imports. Then the verdict
against issue 10's targets: p95 of the saves during the imports ≤ 1.5 × the baseline's,
0 deadlocks, 0 errors (500s, refusals, import failures), verify clean.

The whole run is bounded by --max-seconds per run; gunicorn is stopped at the end (also on
Ctrl-C). Gunicorn's stderr goes to bench/out/concurrency-gunicorn.log, the figures to
bench/out/concurrency-latest.json.

Usage:

    .venv/bin/python bench/concurrency.py
    .venv/bin/python bench/concurrency.py --think 0.5 --saves 30   # saturate the workers
    .venv/bin/python bench/concurrency.py --fresh    # a new database: a short change log
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/other .venv/bin/python bench/concurrency.py
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import multiprocessing
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import date
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlencode, urlparse

import common

# The sibling benchmark's setup: environment, database creation, percentile.
from changelog_list import configure, create_database, percentile

BASE_DIR = Path(__file__).resolve().parent.parent
OUT = BASE_DIR / "bench" / "out"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/perfplan_bench_concurrency"
PASSWORD = "bench-concurrency-only-9f3c"  # a scratch database's users
TARGET_P95_RATIO = 1.5
GOALS, POLICY_GOALS = 2, 5  # per department; indicators per policy goal follow
MONTHS = [f"M{m:02d}" for m in range(1, 13)]
SETTINGS_MODULE = "bench_concurrency_settings"
SETTINGS_TEXT = """# Written by bench/concurrency.py: production settings, static files without a manifest
# (the bench does not run collectstatic).
import warnings

from perfplan.settings import *  # noqa: F403

warnings.filterwarnings("ignore", message="No directory at")  # WhiteNoise: no STATIC_ROOT
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
"""


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--officers", type=int, default=20, help="one per department")
    parser.add_argument("--indicators-per-department", type=int, default=100)
    parser.add_argument("--imports", type=int, default=10)
    parser.add_argument("--saves", type=int, default=15, help="per officer and run, at least")
    parser.add_argument("--think", type=float, default=3.0, help="seconds between saves (±50%%)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument("--verify", type=int, default=3, help="verify_change_log runs")
    parser.add_argument("--sample-ms", type=int, default=20, help="lock-wait sampling period")
    parser.add_argument("--max-seconds", type=int, default=300, help="bound of one run")
    parser.add_argument("--seed", type=int, default=10)
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="drop the bench database first (the change log of earlier runs makes every "
        "verify_change_log run longer)",
    )
    return parser.parse_args()


# ---------------------------------------------------------------- the scratch plan


def plan_data(args, round_=0):
    """The plan as the plan admin imports it; round_ > 0 rewrites every indicator's target."""
    from goals.tests.factories import synthetic_plan

    per_goal = max(1, args.indicators_per_department // (GOALS * POLICY_GOALS))
    data = synthetic_plan(
        departments=args.officers, goals=GOALS, policy_goals=POLICY_GOALS, indicators=per_goal
    )
    for dept in data.departments:
        dept.name = f"동시성실국{dept.name[-3:]}"
        for sg in dept.strategic_goals:
            for pg in sg.policy_goals:
                for indicator in pg.indicators:
                    indicator.attributes = {"annual_target": Decimal(1200 + round_)}
    return data


def build(args, year):
    """The plan of `year`, its officers and plan admin, open entry, computed standings."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from goals.models import PlanDepartment
    from indicators import standing
    from indicators.models import EntryException, Indicator, Result
    from perfplan import roles
    from perfplan.changelog import change_context, seal
    from perfplan.models import DepartmentAssignment, Plan
    from perfplan.planfiles.importer import import_plan

    User = get_user_model()
    with change_context(quiet=True):  # the bench's own setup stays out of the log
        old = Plan.objects.filter(fiscal_year=year).first()
        if old is not None:  # a previous run's plan
            Result.objects.in_plan(old).delete()
            old.delete()
        admin, _created = User.objects.get_or_create(
            username="bench-planadmin", defaults={"is_staff": True}
        )
        admin.groups.add(Group.objects.get(name=roles.PLAN_ADMIN))
    result = import_plan(year, plan_data(args), user=admin, source="bench")
    assert result.ok, result.errors[:5]
    plan = result.plan
    indicators = Indicator.objects.in_plan(plan)
    with change_context(quiet=True):
        indicators.update(frequency="monthly", aggregation="sum")
        officers = []
        officer_group = Group.objects.get(name=roles.OFFICER)
        departments = PlanDepartment.objects.filter(plan=plan).order_by("position")
        for n, pd in enumerate(departments):
            EntryException.objects.bulk_create(
                EntryException(
                    plan=plan,
                    department_id=pd.department_id,
                    period=month,
                    open_until=date(year + 2, 12, 31),
                    reason="bench",
                )
                for month in MONTHS
            )
            officer, created = User.objects.get_or_create(
                username=f"bench-officer-{n:02d}", defaults={"is_staff": True}
            )
            if created:
                officer.set_password(PASSWORD)
                officer.save()
            officer.groups.add(officer_group)
            DepartmentAssignment.objects.get_or_create(user=officer, department=pd.department)
            officers.append(officer.username)
    standing.refresh(plan)
    seal()
    return admin, officers


# ---------------------------------------------------------------- gunicorn


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(args, database_url, port, log):
    settings_dir = Path(tempfile.mkdtemp(prefix="perfplan-bench-"))
    (settings_dir / f"{SETTINGS_MODULE}.py").write_text(SETTINGS_TEXT)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(settings_dir), str(BASE_DIR)]),
        "DJANGO_SETTINGS_MODULE": SETTINGS_MODULE,
        "DATABASE_URL": database_url,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
    }
    command = [
        str(Path(sys.executable).with_name("gunicorn")),
        "perfplan.wsgi:application",
        f"--workers={args.workers}",
        f"--bind=127.0.0.1:{port}",
        "--timeout=120",
        "--graceful-timeout=10",
        f"--chdir={BASE_DIR}",
    ]
    process = subprocess.Popen(command, env=env, stdout=log, stderr=log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"gunicorn ended at start (see {log.name})")
        try:
            status, _headers, _body = Browser(port).request("GET", "/admin/login/")
            if status == 200:
                return process
        except OSError:
            pass
        time.sleep(0.3)
    stop(process)
    sys.exit("gunicorn did not answer within 60 s")


def stop(process):
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


# ---------------------------------------------------------------- officers


class Browser:
    """A browser's cookies over plain HTTP to 127.0.0.1 (the Secure flag of production's
    cookies is ignored: there is no TLS on the loopback)."""

    def __init__(self, port):
        self.port = port
        self.cookies = {}

    def request(self, method, path, body=None, headers=None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        sent = dict(headers or {})
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            data = response.read()
        finally:
            connection.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _sep, value = header.split(";", 1)[0].partition("=")
            self.cookies[name.strip()] = value.strip()
        return response.status, response.headers, data


TOKEN = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')
CELL = re.compile(rb'<input class="cell-input"[^>]*>', re.S)
ATTRIBUTE = re.compile(rb'data-(indicator|period|version)="([^"]*)"')


class Officer:
    def __init__(self, username, port, year, rng):
        self.username = username
        self.browser = Browser(port)
        self.year = year
        self.rng = rng
        self.token = ""
        self.cells = []  # [indicator, period, version]

    def log_in(self):
        status, _headers, page = self.browser.request("GET", "/admin/login/")
        token = TOKEN.search(page).group(1).decode()
        form = urlencode(
            {
                "username": self.username,
                "password": PASSWORD,
                "csrfmiddlewaretoken": token,
                "next": "/admin/",
            }
        )
        status, _headers, _body = self.browser.request(
            "POST",
            "/admin/login/",
            form,
            {"Content-Type": "application/x-www-form-urlencoded"},
        )
        if status != 302:
            raise RuntimeError(f"{self.username}: login answered {status}")
        status, _headers, page = self.browser.request(
            "GET", f"/admin/tracking/my/?year={self.year}"
        )
        if status != 200:
            raise RuntimeError(f"{self.username}: the grid answered {status}")
        self.token = TOKEN.search(page).group(1).decode()
        for tag in CELL.findall(page):
            if b" readonly" in tag:
                continue
            found = {k.decode(): v.decode() for k, v in ATTRIBUTE.findall(tag)}
            self.cells.append([int(found["indicator"]), found["period"], int(found["version"])])
        if not self.cells:
            raise RuntimeError(f"{self.username}: no editable cell in the grid")
        self.rng.shuffle(self.cells)

    def save(self, run, n):
        cell = self.cells[n % len(self.cells)]
        value = self.rng.randint(1, 999)
        body = json.dumps(
            {
                "cells": [
                    {
                        "indicator": cell[0],
                        "period": cell[1],
                        "value": str(value),
                        "version": cell[2],
                    }
                ]
            }
        )
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "X-Requested-With": "fetch",
            "X-CSRFToken": self.token,
            "X-Idempotency-Key": uuid.uuid4().hex,
        }
        began, start = time.time(), time.perf_counter()
        try:
            status, _headers, data = self.browser.request(
                "POST", "/admin/tracking/save/", body, headers
            )
        except OSError as exc:
            run.record(began, time.perf_counter() - start, 0, f"{type(exc).__name__}: {exc}")
            return
        elapsed = time.perf_counter() - start
        error = ""
        try:
            answer = json.loads(data)
        except ValueError:
            answer = {}
            error = f"not JSON ({status})"
        if status == 200 and answer.get("ok"):
            cell[2] = answer["cells"][0]["version"]
        elif not error:
            error = str(answer.get("error") or (answer.get("cells") or [{}])[0].get("error"))
            version = (answer.get("cells") or [{}])[0].get("version")
            if version is not None:
                cell[2] = version  # refused as stale: go on from the version there is
        run.record(began, elapsed, status, error)


class Run:
    def __init__(self, name):
        self.name = name
        self.lock = threading.Lock()
        self.times = []
        self.spans = []  # (wall-clock start, end) of each save
        self.statuses = {}
        self.errors = {}
        # saved; refused (the application said no: ok false, 4xx); server errors (5xx);
        # lost (no answer at all)
        self.counts = {"saved": 0, "refused": 0, "server_errors": 0, "lost": 0}
        self.started = self.ended = 0.0

    def record(self, began, elapsed, status, error):
        if not error:
            kind = "saved"
        elif status == 0:
            kind = "lost"
        elif status >= 500:
            kind = "server_errors"
        else:
            kind = "refused"
        with self.lock:
            self.times.append(elapsed)
            self.spans.append((began, began + elapsed))
            self.statuses[status] = self.statuses.get(status, 0) + 1
            self.counts[kind] += 1
            if error:
                key = f"{status}: {error[:120]}"
                self.errors[key] = self.errors.get(key, 0) + 1


def officers_save(officers, run, args, keep_going):
    """Every officer saves --saves values at least, and on while keep_going() says so."""
    deadline = time.monotonic() + args.max_seconds

    def work(officer):
        n = 0
        while time.monotonic() < deadline and (n < args.saves or keep_going()):
            officer.save(run, n)
            n += 1
            time.sleep(args.think * officer.rng.uniform(0.5, 1.5))

    threads = [threading.Thread(target=work, args=(o,), daemon=True) for o in officers]
    run.started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    run.ended = time.perf_counter()


# ---------------------------------------------------------------- observers


class LockSampler(threading.Thread):
    """Polls pg_locks for waiting lock requests of the bench database: the longest wait on
    the change log (the waiting statement names a change-log table), on standings, on any."""

    def __init__(self, database_url, period):
        super().__init__(daemon=True)
        self.url, self.period = database_url, period
        self.stopping = threading.Event()
        self.longest = {"log": 0.0, "standing": 0.0, "any": 0.0}
        self.examples = {}

    def run(self):
        import psycopg

        name = urlparse(self.url).path.lstrip("/")
        sql = (
            "SELECT EXTRACT(EPOCH FROM now() - l.waitstart), a.query "
            "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE NOT l.granted AND l.waitstart IS NOT NULL AND a.datname = %s"
        )
        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self.stopping.wait(self.period):
                for seconds, query in conn.execute(sql, [name]).fetchall():
                    kinds = ["any"]
                    text = (query or "").lower()
                    if "changelog" in text:
                        kinds.append("log")
                    if "indicatorstanding" in text or "standinginputchange" in text:
                        kinds.append("standing")
                    for kind in kinds:
                        if float(seconds) > self.longest[kind]:
                            self.longest[kind] = float(seconds)
                            self.examples[kind] = " ".join(text.split())[:160]

    def reset(self):
        self.longest = {k: 0.0 for k in self.longest}
        self.examples = {}


def drop_database(database_url):
    import psycopg

    url = urlparse(database_url)
    name = url.path.lstrip("/")
    with psycopg.connect(url._replace(path="/postgres").geturl(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def deadlocks(database_url):
    import psycopg

    name = urlparse(database_url).path.lstrip("/")
    with psycopg.connect(database_url, autocommit=True) as conn:
        return conn.execute(
            "SELECT deadlocks FROM pg_stat_database WHERE datname = %s", [name]
        ).fetchone()[0]


def verify_now():
    """verify_change_log as cron runs it: (clean, what it said)."""
    from django.core.management import call_command
    from django.core.management.base import CommandError

    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("verify_change_log", stdout=out, stderr=err)
        clean = True
    except CommandError as exc:
        err.write(str(exc))
        clean = False
    said = " ".join((out.getvalue() + " " + err.getvalue()).split())
    return clean, said[:300]


# ---------------------------------------------------------------- the runs


def importer(args, year, admin_pk, queue):
    """The plan admin imports the plan --imports times, every indicator rewritten each time;
    verify_change_log runs --verify times in between. A process of its own (as an import in a
    server's worker would be): its CPU does not hold the officers' clients back."""
    import django

    django.setup()
    from django.contrib.auth import get_user_model

    from perfplan.planfiles.importer import import_plan

    admin = get_user_model().objects.get(pk=admin_pk)
    figures = {"imports": [], "import_failures": [], "verify": [], "window": [time.time(), 0]}
    verify_after = {round((k + 1) * args.imports / (args.verify + 1)) for k in range(args.verify)}
    try:
        for n in range(1, args.imports + 1):
            data = plan_data(args, n)
            start = time.perf_counter()
            try:
                result = import_plan(year, data, user=admin, source="bench", reason="bench")
                failed = None if result.ok else "; ".join(str(e) for e in result.errors[:3])
            except Exception as exc:  # a deadlock or another database error: counted
                failed = f"{type(exc).__name__}: {exc}"
            figures["imports"].append(time.perf_counter() - start)
            if failed:
                figures["import_failures"].append(failed[:300])
            if n in verify_after:
                figures["verify"].append(verify_now())
    finally:
        figures["window"][1] = time.time()
        queue.put(figures)


def during(run, window):
    """The figures of the saves that overlapped the imports' window."""
    if not window:
        return {}
    first, last = window
    times = sorted(
        t
        for t, (began, ended) in zip(run.times, run.spans, strict=True)
        if began < last and ended > first
    )
    if not times:
        return {}
    return {
        "during_imports_saves": len(times),
        "during_imports_seconds": round(last - first, 1),
        "during_imports_p50_ms": round(percentile(times, 0.50) * 1000, 1),
        "during_imports_p95_ms": round(percentile(times, 0.95) * 1000, 1),
        "during_imports_p99_ms": round(percentile(times, 0.99) * 1000, 1),
    }


def measure(name, officers, args, database_url, sampler, gunicorn_log, year=None, admin=None):
    figures = {"imports": [], "import_failures": [], "verify": []}
    run = Run(name)
    before = deadlocks(database_url)
    log_before = gunicorn_log.stat().st_size
    sampler.reset()
    if admin is None:
        officers_save(officers, run, args, keep_going=lambda: False)
    else:
        spawn = multiprocessing.get_context("spawn")
        queue = spawn.Queue()
        process = spawn.Process(target=importer, args=(args, year, admin.pk, queue))
        process.start()
        officers_save(officers, run, args, keep_going=process.is_alive)
        try:
            figures = queue.get(timeout=args.max_seconds)
        finally:
            process.join(30)
            if process.is_alive():
                process.terminate()
    with gunicorn_log.open("rb") as log:
        log.seek(log_before)
        logged = log.read().decode(errors="replace")
    times = sorted(run.times)
    wall = run.ended - run.started
    return {
        "run": name,
        "saves": len(times),
        **run.counts,
        "seconds": round(wall, 2),
        "saves_per_s": round(len(times) / wall, 1) if wall else 0,
        "p50_ms": round(percentile(times, 0.50) * 1000, 1),
        "p95_ms": round(percentile(times, 0.95) * 1000, 1),
        "p99_ms": round(percentile(times, 0.99) * 1000, 1),
        **during(run, figures.get("window")),
        "max_ms": round(times[-1] * 1000, 1),
        "statuses": {str(k): v for k, v in sorted(run.statuses.items())},
        "errors": run.errors,
        "deadlocks_pg": deadlocks(database_url) - before,
        "deadlocks_logged": logged.count("deadlock detected"),
        "tracebacks_logged": logged.count("Traceback (most recent call last)"),
        "longest_wait_ms": {k: round(v * 1000, 1) for k, v in sampler.longest.items()},
        "longest_wait_on": dict(sampler.examples),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "imports_s": [round(t, 2) for t in figures["imports"]],
        "import_failures": figures["import_failures"],
        "verify": figures["verify"],
    }


def report(baseline, loaded):
    print()
    print(
        f"{'run':<10} {'saves':>6} {'saves/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
        f"{'max ms':>8} {'5xx':>5} {'refused':>7} {'deadlk':>6} {'log wait':>9} "
        f"{'std wait':>9} {'any wait':>9} {'load':>5}"
    )
    for r in (baseline, loaded):
        waits = r["longest_wait_ms"]
        print(
            f"{r['run']:<10} {r['saves']:>6} {r['saves_per_s']:>8} {r['p50_ms']:>8} "
            f"{r['p95_ms']:>8} {r['p99_ms']:>8} {r['max_ms']:>8} {r['server_errors'] + r['lost']:>5} "
            f"{r['refused']:>7} {r['deadlocks_pg'] + r['deadlocks_logged']:>6} "
            f"{waits['log']:>9} {waits['standing']:>9} {waits['any']:>9} "
            f"{r['load_average_1m']:>5}"
        )
    for r in (baseline, loaded):
        for error, count in r["errors"].items():
            print(f"  {r['run']}: {count} × {error}")
        for kind, query in r["longest_wait_on"].items():
            print(f"  {r['run']}: longest wait ({kind}): {query}")
    imports = loaded["imports_s"]
    if imports:
        print(
            f"imports: {len(imports)} in {sum(imports):.1f} s "
            f"(each {min(imports):.2f}–{max(imports):.2f} s); failures: "
            f"{len(loaded['import_failures'])}"
        )
    if loaded.get("during_imports_saves"):
        print(
            f"saves while the importer ran ({loaded['during_imports_seconds']} s): "
            f"{loaded['during_imports_saves']}, p50 {loaded['during_imports_p50_ms']} ms, "
            f"p95 {loaded['during_imports_p95_ms']} ms, p99 {loaded['during_imports_p99_ms']} ms"
        )
    for failure in loaded["import_failures"]:
        print(f"  import failed: {failure}")
    for clean, said in loaded["verify"]:
        print(f"verify_change_log during the writes: {'clean' if clean else 'BROKEN'} — {said}")
    # The saves that overlapped the imports (when the imports end before the officers do,
    # the run's later saves had nothing to wait on).
    p95 = loaded.get("during_imports_p95_ms") or loaded["p95_ms"]
    ratio = p95 / baseline["p95_ms"] if baseline["p95_ms"] else float("inf")
    dead = sum(r["deadlocks_pg"] + r["deadlocks_logged"] for r in (baseline, loaded))
    errors = sum(r["server_errors"] + r["lost"] + r["refused"] for r in (baseline, loaded))
    errors += len(loaded["import_failures"])
    verified = bool(loaded["verify"]) and all(clean for clean, _said in loaded["verify"])
    checks = {
        f"p95 during the imports / baseline = {ratio:.2f} (≤ {TARGET_P95_RATIO})": ratio
        <= TARGET_P95_RATIO,
        f"deadlocks = {dead} (0)": dead == 0,
        f"errors (500s, refusals, failed imports) = {errors} (0)": errors == 0,
        f"verify_change_log clean during the writes ({len(loaded['verify'])} runs)": verified,
    }
    for text, ok in checks.items():
        print(f"{'PASS' if ok else 'FAIL'}  {text}")
    print(common.machine_line())
    return ratio, checks


def main():
    args = parse_args()
    database_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    if not database_url.startswith("postgres"):
        sys.exit("The concurrency benchmark runs on PostgreSQL (BENCH_DATABASE_URL).")
    configure(database_url)
    if args.fresh:
        drop_database(database_url)
    create_database(database_url)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    call_command("migrate", verbosity=0)
    year = date.today().year - 1  # every month has ended
    print(
        f"building the {year} plan: {args.officers} departments × "
        f"{args.indicators_per_department} indicators, {args.officers} officers …"
    )
    admin, usernames = build(args, year)
    connections.close_all()

    OUT.mkdir(parents=True, exist_ok=True)
    gunicorn_log = OUT / "concurrency-gunicorn.log"
    port = free_port()
    with gunicorn_log.open("wb") as log:
        process = start_gunicorn(args, database_url, port, log)
        sampler = LockSampler(database_url, args.sample_ms / 1000)
        sampler.start()
        try:
            rng = random.Random(args.seed)
            officers = [Officer(u, port, year, random.Random(rng.random())) for u in usernames]
            logins = [threading.Thread(target=o.log_in) for o in officers]
            for thread in logins:
                thread.start()
            for thread in logins:
                thread.join()
            missing = [o.username for o in officers if not o.token]
            if missing:
                sys.exit(f"could not log in: {missing} (see {gunicorn_log})")
            print(
                f"gunicorn: {args.workers} workers on 127.0.0.1:{port}; "
                f"{len(officers)} officers logged in"
            )
            print(f"baseline: {len(officers)} officers × {args.saves} saves …")
            baseline = measure("baseline", officers, args, database_url, sampler, gunicorn_log)
            print(f"imports: the same while the plan is imported {args.imports} times …")
            loaded = measure(
                "imports", officers, args, database_url, sampler, gunicorn_log, year, admin
            )
        finally:
            sampler.stopping.set()
            stop(process)
    ratio, checks = report(baseline, loaded)
    figures = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "args": vars(args),
        "cpus": os.cpu_count(),
        "plan": {"year": year, "indicators": args.officers * args.indicators_per_department},
        "baseline": baseline,
        "imports": loaded,
        "p95_ratio": round(ratio, 2),
        "checks": checks,
    }
    (OUT / "concurrency-latest.json").write_text(json.dumps(figures, ensure_ascii=False, indent=1))
    print(f"figures: {OUT / 'concurrency-latest.json'}; gunicorn's stderr: {gunicorn_log}")


if __name__ == "__main__":
    main()
