#!/usr/bin/env python
"""Plan-table import/export benchmark: prints figures; not a timed test.

Generates a large plan as plan-table files (hierarchy CSV, summary CSV and one xlsx workbook
holding both, written with perfplan.xlsx's writers), then measures the admin's pipeline,
each phase in a fresh subprocess so that its memory peak is its own:

  read_csv / read_xlsx   perfplan.planfiles.tables.read_plan_files on the CSV pair / on the workbook
  read_xlsx_openpyxl     the same workbook through openpyxl (the fallback reader), to compare
  read_ods               the same workbook saved as ods by LibreOffice (soffice, converted once)
  preview_new            the admin's preview request: perfplan.planfiles.sources.read_sources on the
                         upload, perfplan.planfiles.importer.import_plan(dry_run=True), and the files kept
                         in an ImportBatch for the confirm
  import_new_unlogged    the confirm below, --repeat times without the change log (no entries,
                         no signal receivers) and with it, alternately, each rolled back and
                         vacuumed: logging's cost is 1 − median(unlogged) ÷ median(logged)
                         (target ≤ 30 %); its step s is the unlogged median
  import_new             the admin's confirm request: the batch's files from the database,
                         read_sources, import_plan(batch=…): first import, everything new;
                         then, timed apart, the standings task the import queued on commit
                         (indicators.tasks.compute_standings, as the worker runs it), as after
                         import_unchanged and import_edited
  preview_unchanged /    the same files again: everything unchanged
  import_unchanged
  preview_edited /       an edited file: ~1% of the indicators changed (new target or
  import_edited          formula), removed or added, as the summary's counts follow
  export_xlsx            perfplan.planfiles.exports.plan_tables + perfplan.xlsx.write_xlsx (the
                         printable workbook, libxlsxwriter or XlsxWriter in constant memory) of the
                         imported plan; beside it each library alone writing the same cells
  export_csv             plan_tables(hierarchy) + perfplan.xlsx.write_csv
  preview_export         the exported xlsx uploaded again (preview): must change nothing

Figures per phase: wall and CPU seconds of the measured step (import_plan, or the export),
the seconds of the file read before it, rows/s, the process's peak RSS (getrusage
ru_maxrss: the whole subprocess, Django and the read included, i.e. what one admin request
needs), the peak RSS of the measured step alone (VmHWM reset through /proc/self/clear_refs,
Linux) and, in a second pass with tracemalloc on, the peak of Python allocations during the
step. tracemalloc slows Python down and adds memory of its own, so times and RSS come from
the first pass and only the tracemalloc figures from the second (--no-tracemalloc skips
it). The import's time is also split by the importer's stages (diff.load, diff.diff,
apply.apply, log.log_changes), by wrapping them in the bench process.

"rows" are the data rows of the files imported or exported: one hierarchy row per
indicator, plus the summary's department rows and its 계 row. Other work on the machine
slows the wall-clock figures (not the CPU seconds): the load average is printed with them.

PostgreSQL, full size (the targets: import ≥ 10,000 rows/s under 300 MB; xlsx export ≤ 5 s
under 200 MB):

    psql -h 127.0.0.1 -U postgres -c 'CREATE DATABASE perfplan_bench'
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/perfplan_bench
    .venv/bin/python manage.py migrate
    .venv/bin/python bench/plan_import.py --departments 250 --indicators 50000

Quick run on SQLite: without DATABASE_URL a scratch database is created and migrated in
bench/out/plan_import/, and the sizes default to 20 departments / 2,000 indicators:

    .venv/bin/python bench/plan_import.py

The plan is imported as fiscal year 2099 (--year). The script refuses to run if the
database already holds a plan for that year, unless --force (which deletes it first); it
refuses a database with unapplied migrations unless --migrate. At the end the bench plan,
its import batches and the departments it created are deleted (--keep leaves them; the
change-log entries of its imports stay, the log being append-only). The figures are printed
and written as JSON to bench/out/plan_import-<database>-<size>-<time>.json (and
…-latest.json); the generated files stay in bench/out/plan_import/files (--reuse-files
skips generating them again). --profile writes a cProfile of each step instead.
DJANGO_DEBUG defaults to 0 here, as in production (DEBUG=1 records every query).
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import io
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
WORK = OUT / "plan_import"  # generated files, the SQLite scratch database, profiles
FILES = WORK / "files"  # per size: files-<departments>x<indicators>, set by main()
BENCH_CODE_PREFIX = "BENCH-"
SQLITE_DEFAULT = f"sqlite:///{WORK / 'bench.sqlite3'}"

FULL_SIZE = {"departments": 250, "indicators": 50000}
SQLITE_SIZE = {"departments": 20, "indicators": 2000}

PHASES = (
    "read_csv",
    "read_xlsx",
    "read_xlsx_openpyxl",
    "read_ods",
    "preview_new",
    "import_new_unlogged",
    "import_new",
    "preview_unchanged",
    "import_unchanged",
    "preview_edited",
    "import_edited",
    "export_xlsx",
    "export_csv",
    "preview_export",
)
# The admin's two requests: the preview reads the upload, runs a dry run and stores the files
# in an ImportBatch; the confirm ("import") reads the batch's files from the database, reads
# them again and applies. phase: (file set, expected outcome)
PREVIEW_PHASES = {
    "preview_new": ("plan", "all_new"),
    "preview_unchanged": ("plan", "all_unchanged"),
    "preview_edited": ("edited", "some_changes"),
    "preview_export": ("export", "all_unchanged"),
}
IMPORT_PHASES = {
    "import_new_unlogged": ("preview_new", "all_new"),
    "import_new": ("preview_new", "all_new"),
    "import_unchanged": ("preview_unchanged", "all_unchanged"),
    "import_edited": ("preview_edited", "some_changes"),
}
# The first import without and with the change log, alternately, each rolled back (--repeat
# pairs): what logging costs is 1 − median(unlogged seconds) ÷ median(logged seconds).
UNLOGGED_PHASES = {"import_new_unlogged": "import_new"}
TARGETS = {
    "import_rows_per_s": 10000,
    "logging_cost_max": 0.30,
    "import_peak_mb": 300,
    "export_xlsx_s": 5,
    "export_xlsx_peak_mb": 200,
    "import_vs_bulk_create_min": 0.5,
}


# ---------------------------------------------------------------- environment


def setup_django():
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "perfplan.settings")
    os.environ.setdefault("DJANGO_DEBUG", "0")
    if os.environ["DJANGO_DEBUG"] != "1":
        os.environ.setdefault("DJANGO_SECRET_KEY", "perfplan-bench-only-not-a-secret")
    import django

    django.setup()


def _proc_status_mb(key):
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def rss_mb():
    return _proc_status_mb("VmRSS")


def hwm_mb():
    return _proc_status_mb("VmHWM")


_PEAK_BEFORE_RESETS = [0.0]


def reset_hwm():
    """Reset the peak RSS (VmHWM) so it measures one step; False where not possible. The
    peak so far is kept for process_peak_mb()."""
    _PEAK_BEFORE_RESETS[0] = max(_PEAK_BEFORE_RESETS[0], hwm_mb() or 0.0)
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


def process_peak_mb():
    """This process's peak RSS from VmHWM (Linux): unlike ru_maxrss, it does not include the
    parent's size at fork, so it checks that figure."""
    now = hwm_mb()
    return None if now is None else max(_PEAK_BEFORE_RESETS[0], now)


def maxrss_mb():
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


class Step:
    """Times one step and records its memory peaks (RSS, and tracemalloc when tracing)."""

    profiler = None  # a cProfile.Profile with --profile

    def __init__(self):
        self.seconds = None
        self.cpu_seconds = None
        self.step_peak_rss_mb = None
        self.rss_before_mb = None
        self.traced_peak_mb = None
        self.traced_before_mb = None

    def __enter__(self):
        self.rss_before_mb = rss_mb()
        self._hwm = reset_hwm()
        if tracemalloc.is_tracing():
            self.traced_before_mb = tracemalloc.get_traced_memory()[0] / 2**20
            tracemalloc.reset_peak()
        if self.profiler:
            self.profiler.enable()
        self._cpu = time.process_time()
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self._start
        self.cpu_seconds = time.process_time() - self._cpu
        if self.profiler:
            self.profiler.disable()
        if tracemalloc.is_tracing():
            self.traced_peak_mb = tracemalloc.get_traced_memory()[1] / 2**20
        self.step_peak_rss_mb = hwm_mb() if self._hwm else None
        return False

    def figures(self):
        return {
            "seconds": self.seconds,
            "cpu_seconds": self.cpu_seconds,
            "rss_before_mb": self.rss_before_mb,
            "step_peak_rss_mb": self.step_peak_rss_mb,
            "traced_before_mb": self.traced_before_mb,
            "traced_peak_mb": self.traced_peak_mb,
        }


# ---------------------------------------------------------------- generating the plan

UNITS = ("%", "건", "명", "회", "점", "개소", "km", "일", "톤", "백만원")
SUBJECTS = (
    "주민 만족도",
    "민원 처리 기간",
    "교육 참석률",
    "시설 이용률",
    "안전 점검 이행률",
    "일자리 창출",
    "탄소 배출 감축량",
    "청년 창업 지원",
    "복지 서비스 수혜율",
    "도로 정비율",
    "관광객 유치",
    "정보공개 처리율",
)
SOURCES = ("내부 행정자료", "사업 결과 보고", "만족도 조사", "통계청 KOSIS", "시스템 집계")
FREQUENCIES = ("연", "반기", "분기", "월")
AGGREGATIONS = ("최신값", "누계", "평균")
TYPES = ("결과", "산출", "과정", "투입")


def build_plan(departments, indicators, sgs_per_dept, pgs_per_sg, ups_per_pg, seed):
    """The plan as nested dicts: departments > strategic goals > policy goals > indicators."""
    rng = random.Random(seed)
    n_pgs = departments * sgs_per_dept * pgs_per_sg
    base, extra = divmod(indicators, n_pgs)
    plan, pg_number, ind_number = [], 0, 0
    for d in range(1, departments + 1):
        dept = {"name": f"벤치행정국{d:04d}", "code": f"{BENCH_CODE_PREFIX}D{d:04d}", "sgs": []}
        plan.append(dept)
        for s in range(1, sgs_per_dept + 1):
            sg = {
                "name": f"{d:04d}-{s:02d} 시민이 행복한 지역공동체 실현",
                "budget": Decimal(rng.randint(500, 900000))
                + Decimal(rng.choice((0, 0, 0, 500))) / 1000,
                "pgs": [],
            }
            dept["sgs"].append(sg)
            for p in range(1, pgs_per_sg + 1):
                pg = {"name": f"{d:04d}-{s:02d}-{p:02d} 주민 참여 확대", "inds": [], "ups": []}
                sg["pgs"].append(pg)
                count = base + (1 if pg_number < extra else 0)
                pg_number += 1
                for _i in range(count):
                    ind_number += 1
                    pg["inds"].append(make_indicator(rng, ind_number))
                for u in range(1, ups_per_pg + 1):
                    budget = Decimal(rng.randint(10, 50000))
                    pg["ups"].append(
                        {
                            "code": f"{BENCH_CODE_PREFIX}U{pg_number:06d}{u:02d}",
                            "name": f"{pg_number:06d}-{u:02d} 단위사업 운영 지원",
                            "budget": budget,
                            "prior_budget": budget - rng.randint(-500, 500),
                        }
                    )
    return plan_with_shares(plan)


def make_indicator(rng, number):
    subject = SUBJECTS[number % len(SUBJECTS)]
    kind = rng.random()
    direction = "상향" if kind < 0.8 else ("하향" if kind < 0.95 else "범위")
    baseline = Decimal(rng.randint(10, 9999)) / 10
    target = baseline + Decimal(rng.randint(-50, 200)) / 10
    return {
        "code": f"{BENCH_CODE_PREFIX}I{number:06d}",
        "name": f"{subject} 지표 {number:06d}",
        "unit": UNITS[number % len(UNITS)],
        "direction": direction,
        "type": TYPES[number % len(TYPES)],
        "formula": "(실적 ÷ 목표) × 100",
        "data_source": SOURCES[number % len(SOURCES)],
        "baseline": baseline,
        "target": target,
        "target_min": target - 5 if direction == "범위" else None,
        "target_max": target + 5 if direction == "범위" else None,
        "rationale": "최근 3년 평균 증가율 반영",
        "weight": Decimal(rng.choice(("1", "0.5", "1.5", "2"))),
        "frequency": FREQUENCIES[number % len(FREQUENCIES)],
        "aggregation": AGGREGATIONS[number % len(AGGREGATIONS)],
        "method": "목표/실적" if direction == "하향" else "",
    }


def plan_with_shares(plan):
    total = sum(sg["budget"] for dept in plan for sg in dept["sgs"]) or Decimal(1)
    for dept in plan:
        for sg in dept["sgs"]:
            sg["share"] = (sg["budget"] * 100 / total).quantize(Decimal("0.01"))
    return plan


def edit_plan(plan, seed, fraction=0.01):
    """A copy with ~fraction of the indicators edited: 70% a new target, 10% a new formula,
    10% removed, 10% added (at the end of their policy goal, as a new row)."""
    rng = random.Random(seed + 1)
    plan = copy.deepcopy(plan)
    slots = [
        (pg, index)
        for dept in plan
        for sg in dept["sgs"]
        for pg in sg["pgs"]
        for index in range(len(pg["inds"]))
    ]
    total = len(slots)
    chosen = rng.sample(slots, max(1, round(total * fraction)))
    removals, number = [], 10_000_000
    for i, (pg, index) in enumerate(chosen):
        ind = pg["inds"][index]
        bucket = i % 10
        if bucket < 7:
            ind["target"] = ind["target"] + 1
        elif bucket == 7:
            ind["formula"] = ind["formula"] + " (개정)"
        elif bucket == 8:
            removals.append((pg, ind))
        else:
            number += 1
            pg["inds"].append(make_indicator(rng, number))
    for pg, ind in removals:
        pg["inds"].remove(ind)
    return plan


def plan_tables_rows(plan):
    """(summary rows, hierarchy rows, unit-program rows) in perfplan.planfiles.tables' column order."""
    hierarchy, summary, units = [], [], []
    totals = [0, 0, 0, 0, Decimal(0), Decimal(0), Decimal(0)]
    for dept in plan:
        n_pgs = n_inds = n_ups = 0
        budget = prior = Decimal(0)
        for sg in dept["sgs"]:
            head = [dept["name"], dept["code"], sg["name"], sg["budget"], sg["share"]]
            budget += sg["budget"]
            for pg in sg["pgs"]:
                n_pgs += 1
                if not pg["inds"]:
                    hierarchy.append(head + [pg["name"], None, None] + [None] * 14)
                for ind in pg["inds"]:
                    n_inds += 1
                    hierarchy.append(
                        head
                        + [pg["name"], ind["code"], ind["name"]]
                        + [
                            ind["unit"],
                            ind["direction"],
                            ind["type"],
                            ind["formula"],
                            ind["data_source"],
                            ind["baseline"],
                            ind["target"],
                            ind["target_min"],
                            ind["target_max"],
                            ind["rationale"],
                            ind["weight"],
                            ind["frequency"],
                            ind["aggregation"],
                            ind["method"],
                        ]
                    )
                for up in pg["ups"]:
                    n_ups += 1
                    units.append(
                        [dept["name"], sg["name"], pg["name"], up["code"], up["name"]]
                        + [up["budget"], up["prior_budget"]]
                    )
        prior = (budget * Decimal("0.95")).quantize(Decimal("1"))
        row = [len(dept["sgs"]), n_pgs, n_inds, n_ups or None, budget, prior, budget - prior]
        summary.append([dept["name"], dept["code"]] + row)
        for i, value in enumerate(row):
            totals[i] += value or 0
    totals[3] = totals[3] or None
    summary.insert(0, ["계", ""] + totals)
    return summary, hierarchy, units


def write_files(plan, stem, with_units):
    """Write <stem>_hierarchy.csv, <stem>_summary.csv (and _unit_programs.csv) and
    <stem>.xlsx with the project's own writers, as the admin exports them."""
    from perfplan.planfiles.exports import plan_table
    from perfplan.xlsx import write_csv, write_xlsx

    summary, hierarchy, units = plan_tables_rows(plan)
    tables = [
        plan_table("summary", summary),
        plan_table("hierarchy", hierarchy),
    ]
    if with_units:
        tables.append(plan_table("unit_programs", units))
    csv_paths = []
    for table in tables:
        path = FILES / f"{stem}_{table.key}.csv"
        path.write_bytes(write_csv(table))
        csv_paths.append(str(path))
    xlsx = FILES / f"{stem}.xlsx"
    xlsx.write_bytes(write_xlsx(tables))
    rows = len(summary) + len(hierarchy) + (len(units) if with_units else 0)
    return {"csv": csv_paths, "xlsx": [str(xlsx)], "rows": rows}


# ---------------------------------------------------------------- one phase (subprocess)

# The importer's stages, timed by wrapping them (in the bench process only): where an
# import's time goes, as (module of perfplan.planfiles.importer, function). Names the
# importer no longer has are skipped.
IMPORTER_PARTS = (("diff", "load"), ("diff", "diff"), ("apply", "apply"), ("log", "log_changes"))


def time_parts(package, parts):
    """Wrap module-level functions of the package's modules to add up their wall and CPU
    seconds."""
    timings = {}

    def wrap(name, function):
        def timed(*args, **kwargs):
            wall, cpu = time.perf_counter(), time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                spent = timings.setdefault(name, {"seconds": 0.0, "cpu_seconds": 0.0})
                spent["seconds"] += time.perf_counter() - wall
                spent["cpu_seconds"] += time.process_time() - cpu

        return timed

    for stage, name in parts:
        module = getattr(package, stage, None)
        function = getattr(module, name, None)
        if callable(function):
            setattr(module, name, wrap(f"{stage}.{name}", function))
    return timings


@contextlib.contextmanager
def change_log_switched_off(off=True):
    """No entries (the importer's log stage does nothing) and no change-log signal receivers."""
    from django.db.models import signals

    import perfplan.planfiles.importer

    if not off:
        yield
        return

    def ours(entry):  # receivers are kept as ((dispatch_uid, sender id), receiver, …)
        uid = entry[0][0]
        return isinstance(uid, str) and uid.startswith("changelog_")

    kept = {}
    stage = perfplan.planfiles.importer.log
    log = stage.log_changes
    stage.log_changes = lambda result, plan, batch: None
    for signal in (signals.post_init, signals.post_save, signals.post_delete, signals.m2m_changed):
        with signal.lock:
            kept[signal] = signal.receivers
            signal.receivers = [entry for entry in signal.receivers if not ours(entry)]
            signal.sender_receivers_cache.clear()
    try:
        yield
    finally:
        stage.log_changes = log
        for signal, receivers in kept.items():
            with signal.lock:
                signal.receivers = receivers
                signal.sender_receivers_cache.clear()


def _load(paths):
    return [(Path(p).name, Path(p).read_bytes()) for p in paths]


def _as_ods(xlsx_path):
    """The workbook as LibreOffice saves it in ods (converted once, kept beside it)."""
    target = Path(xlsx_path).with_suffix(".ods")
    if not target.exists():
        profile = (WORK / "soffice-profile").as_uri()
        command = ["soffice", f"-env:UserInstallation={profile}", "--headless"]
        command += ["--convert-to", "ods", "--outdir", str(target.parent), str(xlsx_path)]
        subprocess.run(command, check=True, capture_output=True, timeout=600)
    return target


def _phase_read(args, manifest, out):
    from perfplan.planfiles.tables import read_plan_files

    fmt = args.phase.split("_")[1]
    if args.phase == "read_xlsx_openpyxl":  # the reader before python-calamine, to compare
        from perfplan import tabular

        tabular._read_xlsx = tabular._read_xlsx_openpyxl
    paths = [_as_ods(p) for p in manifest["plan"]["xlsx"]] if fmt == "ods" else None
    files = _load(paths or manifest["plan"][fmt])
    with Step() as step:
        data = read_plan_files(files)
    out.update(step.figures(), rows=manifest["plan"]["rows"], bytes=sum(len(c) for _n, c in files))
    out["indicators"] = sum(
        len(pg.indicators)
        for d in data.departments
        for sg in d.strategic_goals
        for pg in sg.policy_goals
    )


def _import_files(args, manifest, out):
    """The files the phase imports: an upload (a preview) or a preview's stored files."""
    from perfplan.models import ImportBatch

    if args.phase in PREVIEW_PHASES:
        which, expect = PREVIEW_PHASES[args.phase]
        entry = manifest[which]
        paths = entry["xlsx"] if which == "export" else entry[args.source]
        out["source"] = [Path(p).name for p in paths]
        return entry, expect, _load(paths), None  # the upload
    which, expect = IMPORT_PHASES[args.phase]
    entry = manifest[PREVIEW_PHASES[which][0]]
    with Step() as load_step:  # the confirm view: the files kept by the preview
        batch = ImportBatch.objects.get(pk=args.batch)
        files = [(f.name, bytes(f.content)) for f in batch.files.all()]
    out.update(load_seconds=load_step.seconds, batch=args.batch)
    return entry, expect, files, batch


def _logging_pairs(args, sources, batch, out):
    """Pairs of the same import without and with the change log, each rolled back: their
    medians give logging's cost, apart from the run-to-run noise."""
    from django.db import connection, transaction

    from perfplan.planfiles.importer import import_plan

    runs = []
    for _pair in range(args.repeat):
        for logged in (False, True):
            with change_log_switched_off(not logged), transaction.atomic():
                with Step() as step:
                    result = import_plan(
                        args.year, sources.data, batch=batch, conflicts=sources.conflicts
                    )
                transaction.set_rollback(True)
            runs.append({"logged": logged, "seconds": step.seconds})
            if connection.vendor == "postgresql":
                # Rolled-back rows stay as dead tuples (in the unique indexes too) until
                # vacuumed; the next run would have to step over them.
                with connection.cursor() as cursor:
                    cursor.execute("VACUUM")
    medians = {
        logged: statistics.median(r["seconds"] for r in runs if r["logged"] is logged)
        for logged in (False, True)
    }
    out.update(runs=runs, seconds=medians[False], logged_seconds=medians[True], repeat=args.repeat)
    return result, step


def _timed_import(args, sources, batch):
    import perfplan.planfiles.importer
    from perfplan.planfiles.importer import import_plan

    parts = time_parts(perfplan.planfiles.importer, IMPORTER_PARTS)
    with Step() as step:
        if batch is None:
            result = import_plan(args.year, sources.data, dry_run=True, conflicts=sources.conflicts)
        else:
            result = import_plan(args.year, sources.data, batch=batch, conflicts=sources.conflicts)
    return result, step, parts


def _store_preview(args, files, out):
    """What the preview view keeps for the confirm."""
    from perfplan.models import ImportBatch

    with Step() as store_step:
        stored = ImportBatch.objects.create(fiscal_year=args.year, source="bench")
        for name, content in files:
            stored.files.create(name=name, content=content, size=len(content))
    out.update(batch=str(stored.pk), store_seconds=store_step.seconds)


def _phase_import(args, manifest, out):
    from perfplan.planfiles.sources import read_sources

    entry, expect, files, batch = _import_files(args, manifest, out)
    with Step() as read_step:
        sources = read_sources(files)
    unlogged = args.phase in UNLOGGED_PHASES
    if unlogged:
        result, step = _logging_pairs(args, sources, batch, out)
        parts = {}
    else:
        result, step, parts = _timed_import(args, sources, batch)
    if result.errors:
        raise SystemExit(
            f"{args.phase}: the import failed:\n" + "\n".join(str(e) for e in result.errors[:20])
        )
    if batch is None:
        _store_preview(args, files, out)
    totals = result.totals()
    writes = totals["new"] + totals["changed"] + totals["deleted"]
    checks = {
        "all_new": totals["new"] == len(result.changes) and not result.conflicts,
        "all_unchanged": writes == 0,
        "some_changes": 0 < writes < len(result.changes),
    }
    figures = step.figures()
    if unlogged:
        figures["seconds"] = out["seconds"]  # the median, not the last run
    out.update(figures, rows=entry["rows"], bytes=sum(len(c) for _n, c in files))
    out.update(
        read_seconds=read_step.seconds,
        read_cpu_seconds=read_step.cpu_seconds,
        read_step_peak_rss_mb=read_step.step_peak_rss_mb,
        read_traced_peak_mb=read_step.traced_peak_mb,
        dry_run=batch is None,
        totals=totals,
        counts={
            level: {a: n for a, n in row.items() if n}
            for level, row in result.counts().items()
            if any(row.values())
        },
        objects=len(result.changes),
        parts=parts,
        expected=expect,
        check=checks[expect],
    )
    if not checks[expect]:
        raise SystemExit(f"{args.phase}: expected {expect}, got {totals}")
    if batch is not None and not unlogged:
        _standings_task(args, out)
    if args.phase == "import_new" and not args.trace and not args.profile:
        _same_rows_baselines(args, out)


def _standings_task(args, out):
    """What the import left to the task worker, timed apart: the task it queued on commit
    (indicators.tasks.compute_standings) run here, then taken off the queue."""
    from indicators.tasks import compute_standings
    from perfplan.models import Plan

    plan = Plan.objects.get(fiscal_year=args.year)
    with Step() as step:
        computed = compute_standings.call(plan.pk)
    out["standings_task"] = {
        "seconds": step.seconds,
        "cpu_seconds": step.cpu_seconds,
        "computed": computed,
    }
    with contextlib.suppress(ImportError, RuntimeError):  # another task backend: no queue
        from django_tasks_db.models import DBTaskResult

        queued = DBTaskResult.objects.filter(
            task_path="indicators.tasks.compute_standings", status="READY"
        )
        DBTaskResult.objects.filter(
            pk__in=[q.pk for q in queued if q.args_kwargs.get("args") == [plan.pk]]
        ).delete()


def _same_rows_baselines(args, out):
    """The baselines of the same run (bench/common.py): the imported plan's rows written
    again by Django's bulk_create and by PostgreSQL's COPY, each rolled back."""
    import common

    from perfplan.models import Plan

    plan = Plan.objects.get(fiscal_year=args.year)
    with change_log_switched_off():
        out["baseline"] = common.same_rows_baselines(
            common.plan_tables(plan), common.plan_overrides(plan)
        )


def _phase_export(args, out):
    from perfplan.models import Plan
    from perfplan.planfiles.exports import plan_tables, table_by_key
    from perfplan.xlsx import write_csv, write_xlsx

    plan = Plan.objects.get(fiscal_year=args.year)
    with Step() as step:
        if args.phase == "export_xlsx":
            tables = plan_tables(plan)
            content = write_xlsx(tables)
        else:
            tables = plan_tables(plan, keys=("hierarchy",))
            content = write_csv(table_by_key(tables, "hierarchy"))
    rows = sum(len(t.rows) for t in tables)
    target = FILES / ("export.xlsx" if args.phase == "export_xlsx" else "export_hierarchy.csv")
    target.write_bytes(content)
    out.update(step.figures(), rows=rows, bytes=len(content), file=target.name)
    if args.phase == "export_xlsx":  # in a child process: this one's peak RSS stays its own
        import multiprocessing

        from perfplan.xlsx import LIBXLSXWRITER, XLSXWRITER, xlsx_engine

        out["engine"] = xlsx_engine()
        engines = [XLSXWRITER] + ([LIBXLSXWRITER] if out["engine"] == LIBXLSXWRITER else [])
        with multiprocessing.get_context("fork").Pool(1) as pool:
            out["bare"] = {
                engine: pool.apply(_bare_library, (content, engine)) for engine in engines
            }


def _bare_library(content, engine):
    """A baseline of the xlsx export, in the same run: the library alone (XlsxWriter, or
    libxlsxwriter through perfplan.libxlsxwriter; constant memory) writing the very cells of
    the exported workbook (read back with python-calamine), with one text and one number
    format and nothing else — the library's own cost, under which no export of these cells
    can go."""
    import tempfile

    import xlsxwriter
    from django.conf import settings
    from python_calamine import CalamineWorkbook

    from perfplan import libxlsxwriter

    book = CalamineWorkbook.from_filelike(io.BytesIO(content))
    sheets = [(name, book.get_sheet_by_name(name).to_python()) for name in book.sheet_names]
    folder = tempfile.TemporaryDirectory()
    started, started_cpu = time.perf_counter(), time.process_time()
    if engine == "libxlsxwriter":
        library = libxlsxwriter.load(settings.PERFPLAN_LIBXLSXWRITER_PATH)
        workbook = libxlsxwriter.Workbook(library, Path(folder.name) / "bare.xlsx")
    else:
        workbook = xlsxwriter.Workbook(io.BytesIO(), {"constant_memory": True})
    text = workbook.add_format({"border": 1, "text_wrap": True})
    number = workbook.add_format({"border": 1, "num_format": "#,##0"})
    cells = 0
    for name, rows in sheets:
        sheet = workbook.add_worksheet(name)
        for row_number, row in enumerate(rows):
            for column, value in enumerate(row):
                if value == "" or value is None:
                    continue
                cells += 1
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    sheet.write_number(row_number, column, value, number)
                else:
                    sheet.write_string(row_number, column, str(value), text)
    workbook.close()
    figures = {
        "seconds": time.perf_counter() - started,
        "cpu_seconds": time.process_time() - started_cpu,
        "cells": cells,
    }
    folder.cleanup()
    return figures


def _write_profile(phase):
    import pstats

    stem = WORK / f"profile-{phase}"
    Step.profiler.dump_stats(f"{stem}.prof")
    with open(f"{stem}.txt", "w") as handle:
        stats = pstats.Stats(Step.profiler, stream=handle).sort_stats("tottime")
        stats.print_stats(40)
        stats.sort_stats("cumulative").print_stats(60)


def run_phase(args):
    setup_django()
    if args.phase in ("generate", "cleanup"):
        if args.phase == "generate":
            generate(args)
            seconds = 0.0
        else:
            seconds = delete_bench_plan(args.year)
        Path(args.result).write_text(json.dumps({"seconds": seconds}))
        return
    if args.trace:
        tracemalloc.start()
    if args.profile:
        import cProfile

        Step.profiler = cProfile.Profile()
    from django.db import connection

    connection.ensure_connection()
    manifest = json.loads((FILES / "manifest.json").read_text())
    out = {
        "phase": args.phase,
        "trace": args.trace,
        "rss_start_mb": rss_mb(),
        "loadavg_start": os.getloadavg()[0],
    }
    if args.phase in ("read_csv", "read_xlsx", "read_xlsx_openpyxl", "read_ods"):
        _phase_read(args, manifest, out)
    elif args.phase in PREVIEW_PHASES or args.phase in IMPORT_PHASES:
        _phase_import(args, manifest, out)
    elif args.phase in ("export_xlsx", "export_csv"):
        _phase_export(args, out)
    else:
        raise SystemExit(f"unknown phase {args.phase}")
    out["maxrss_mb"] = maxrss_mb()
    out["vmhwm_peak_mb"] = process_peak_mb()
    out["loadavg_end"] = os.getloadavg()[0]
    Path(args.result).write_text(json.dumps(out, default=str))
    if Step.profiler:
        _write_profile(args.phase)


# ---------------------------------------------------------------- the orchestrator


def spawn(phase, args, trace, batch=None, quiet=False):
    result = OUT / f".phase-{os.getpid()}.json"
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--phase",
        phase,
        "--year",
        str(args.year),
        "--source",
        args.source,
        "--result",
        str(result),
        "--files-dir",
        str(FILES),
        "--departments",
        str(args.departments),
        "--indicators",
        str(args.indicators),
        "--strategic-goals",
        str(args.strategic_goals),
        "--policy-goals",
        str(args.policy_goals),
        "--unit-programs",
        str(args.unit_programs),
        "--seed",
        str(args.seed),
        "--repeat",
        str(args.repeat),
    ]
    if trace:
        command.append("--trace")
    if batch:
        command += ["--batch", batch]
    if args.profile:
        command.append("--profile")
    label = f"{phase}{' (tracemalloc)' if trace else ''}"
    if not quiet:
        print(f"  {label} …", end="", flush=True)
    started = time.perf_counter()
    proc = subprocess.run(command, cwd=ROOT)
    if proc.returncode:
        print()
        raise SystemExit(f"phase {label} failed (exit {proc.returncode})")
    figures = json.loads(result.read_text())
    result.unlink()
    figures["wall_seconds"] = time.perf_counter() - started
    if not quiet:
        print(f" {figures['seconds']:.2f} s")
    return figures


def batch_for(phase, results):
    """The batch the preview stored, for the confirm that follows it."""
    if phase not in IMPORT_PHASES:
        return None
    preview = IMPORT_PHASES[phase][0]
    if preview not in results:
        raise SystemExit(f"{phase} needs {preview} to run before it")
    return results[preview]["batch"]


def delete_bench_plan(year):
    """Delete the bench plan, its import batches and the departments it created. Quietly:
    the change log keeps the bench's imports but not this clean-up (one entry per record)."""
    from perfplan.changelog import change_context
    from perfplan.models import Department, ImportBatch, Plan

    started = time.perf_counter()
    with change_context(quiet=True):
        Plan.objects.filter(fiscal_year=year).delete()
        ImportBatch.objects.filter(fiscal_year=year, source="bench").delete()
        Department.objects.filter(
            code__startswith=BENCH_CODE_PREFIX, plan_entries__isnull=True
        ).delete()
    return time.perf_counter() - started


def check_database(args):
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    from perfplan.models import Plan

    executor = MigrationExecutor(connection)
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if pending:
        if args.migrate:
            from django.core.management import call_command

            call_command("migrate", interactive=False, verbosity=0)
        else:
            raise SystemExit(
                f"the database has {len(pending)} unapplied migration(s): run manage.py migrate "
                "against it first (or pass --migrate)"
            )
    if Plan.objects.filter(fiscal_year=args.year).exists():
        if not args.force:
            raise SystemExit(
                f"the database already holds a plan for {args.year}; the benchmark would "
                "overwrite it. Use another --year, or --force to delete it first."
            )
        seconds = spawn("cleanup", args, trace=False, quiet=True)["seconds"]
        print(f"--force: deleted the existing {args.year} plan ({seconds:.1f} s)")


def fmt(value, spec=".2f", none="–"):
    return none if value is None else format(value, spec)


def print_report(report):
    env = report["environment"]
    size = report["size"]
    print()
    print(
        f"perfplan plan-table benchmark · {env['database']} · "
        f"{size['departments']} departments, {size['strategic_goals']} strategic goals, "
        f"{size['policy_goals']} policy goals, {size['indicators']} indicators"
        + (f", {size['unit_programs']} unit programs" if size["unit_programs"] else "")
    )
    files = report["files"]
    print(
        "files: "
        + ", ".join(f"{name} {n / 2**20:.1f} MB" for name, n in files["sizes"].items())
        + f"; import source: {report['source']}"
    )
    header = (
        f"{'phase':<17}{'rows':>7}{'read s':>8}{'step s':>8}{'cpu s':>7}{'rows/s':>8}"
        f"{'e2e r/s':>8}{'peak RSS':>9}{'step RSS':>9}{'py peak':>8}{'load':>6}  outcome"
    )
    print()
    print(header)
    print("-" * (len(header) + 24))
    for phase in report["phases"]:
        p = report["results"][phase]
        read = p.get("read_seconds")
        e2e = p["rows"] / (p["seconds"] + read) if read is not None else None
        outcome = ""
        if "totals" in p:
            t = p["totals"]
            outcome = f"new {t['new']}, changed {t['changed']}, deleted {t['deleted']}, unchanged {t['unchanged']}"
        elif "bytes" in p:
            outcome = f"{p['bytes'] / 2**20:.1f} MB"
        print(
            f"{phase:<17}{p['rows']:>7}{fmt(read, '.2f'):>8}{p['seconds']:>8.2f}"
            f"{fmt(p.get('cpu_seconds'), '.2f'):>7}{p['rows'] / p['seconds']:>8.0f}{fmt(e2e, '.0f'):>8}"
            f"{fmt(p['maxrss_mb'], '.0f'):>9}{fmt(p.get('step_peak_rss_mb'), '.0f'):>9}"
            f"{fmt(p.get('traced_peak_mb'), '.0f'):>8}{fmt(p.get('loadavg_start'), '.1f'):>6}  {outcome}"
        )
    print()
    print(
        "step s: wall seconds of the measured step (the import: perfplan.planfiles.importer.import_plan "
        "alone); cpu s: this process's CPU\nseconds in it (the database server's not included); "
        "rows/s: rows ÷ step s; e2e r/s: rows ÷ (read s + step s).\npeak RSS: the phase's "
        "whole subprocess (ru_maxrss, MB: Django and the read included); step RSS: peak RSS\n"
        "during the step (VmHWM reset before it); py peak: tracemalloc peak of Python "
        "allocations during the step\n(second pass), MB; load: 1-minute load average when the "
        f"phase started ({report['environment']['cpus']} CPUs)."
    )
    apart = [
        f"{phase} {p['maxrss_mb']:.0f} vs {p['vmhwm_peak_mb']:.0f}"
        for phase, p in report["results"].items()
        if p.get("vmhwm_peak_mb") is not None and abs(p["maxrss_mb"] - p["vmhwm_peak_mb"]) > 10
    ]
    if apart:
        print("peak RSS: ru_maxrss and VmHWM differ by more than 10 MB: " + "; ".join(apart))
    print()
    for phase in report["phases"]:
        parts = report["results"][phase].get("parts")
        if parts:
            print(
                f"{phase} by part (wall / cpu s): "
                + ", ".join(
                    f"{name} {t['seconds']:.2f} / {t['cpu_seconds']:.2f}"
                    for name, t in parts.items()
                )
            )
    import common

    for phase in report["phases"]:
        p = report["results"][phase]
        if p.get("baseline"):
            print(common.baseline_line(phase, p["seconds"], p["baseline"]["rows"], p["baseline"]))
    for phase in report["phases"]:
        task = report["results"][phase].get("standings_task")
        if task:
            print(
                f"{phase}: then the standings task (queued by the import on commit, run by "
                f"the worker, not in the import's call): {task['seconds']:.2f} s "
                f"(cpu {task['cpu_seconds']:.2f} s), {task['computed']:,} standings computed"
            )
    print(common.machine_line(report["environment"].get("machine")))
    print()
    for line in report["verdict"]:
        print(line)


def verdict(results, engine, size):
    lines = []
    if engine != "postgresql" or (size["departments"], size["indicators"]) != (
        FULL_SIZE["departments"],
        FULL_SIZE["indicators"],
    ):
        lines.append(
            "(the targets are set for PostgreSQL at 250 departments / 50,000 indicators; "
            "here they are only indicative)"
        )

    def line(ok, text):
        lines.append(f"[{'ok' if ok else 'MISSED'}] {text}")

    t = TARGETS
    for phase in IMPORT_PHASES:
        p = results.get(phase)
        if p is None or phase in UNLOGGED_PHASES:
            continue
        rate = p["rows"] / p["seconds"]
        line(
            rate >= t["import_rows_per_s"],
            f"{phase}: {rate:,.0f} rows/s (target ≥ {t['import_rows_per_s']:,})",
        )
        line(
            p["maxrss_mb"] < t["import_peak_mb"],
            f"{phase}: peak RSS {p['maxrss_mb']:.0f} MB (target < {t['import_peak_mb']} MB)",
        )
    for unlogged_phase in UNLOGGED_PHASES:
        p = results.get(unlogged_phase)
        if p is None:
            continue
        cost = 1 - p["seconds"] / p["logged_seconds"]
        line(
            cost <= t["logging_cost_max"],
            f"the change log costs {cost:.0%} of the first import's throughput "
            f"({p['rows'] / p['logged_seconds']:,.0f} vs {p['rows'] / p['seconds']:,.0f} rows/s "
            f"without it; medians of {p['repeat']} rolled-back pairs; "
            f"target ≤ {t['logging_cost_max']:.0%})",
        )
    p = results.get("import_new")
    if p and p.get("baseline"):
        speed = p["baseline"]["bulk_create_s"] / p["seconds"]
        line(
            speed >= t["import_vs_bulk_create_min"],
            f"import_new at {speed:.2f}× bulk_create's speed for the same rows "
            f"(target ≥ {t['import_vs_bulk_create_min']}×)",
        )
    p = results.get("export_xlsx")
    if p is None:
        return lines
    line(
        p["seconds"] <= t["export_xlsx_s"],
        f"export_xlsx: {p['seconds']:.2f} s (target ≤ {t['export_xlsx_s']} s)",
    )
    bare = p.get("bare") or {}
    if "cells" in bare:  # a result file of the time when XlsxWriter was the one library
        bare = {"xlsxwriter": bare}
    names = {"xlsxwriter": "XlsxWriter", "libxlsxwriter": "libxlsxwriter"}
    for engine, figures in bare.items():
        used = engine == p.get("engine", "xlsxwriter")
        lines.append(
            f"       export_xlsx: {figures['cells']:,} cells; {names[engine]} alone writing "
            f"them (the same run's baseline) {figures['seconds']:.2f} s: the export "
            f"({'written by it' if used else 'not written by it'}) at "
            f"{p['seconds'] / figures['seconds']:.2f}× its cost"
        )
    line(
        p["maxrss_mb"] < t["export_xlsx_peak_mb"],
        f"export_xlsx: peak RSS {p['maxrss_mb']:.0f} MB (target < {t['export_xlsx_peak_mb']} MB)",
    )
    return lines


def generation_params(args):
    return {
        key: getattr(args, key)
        for key in (
            "departments",
            "indicators",
            "strategic_goals",
            "policy_goals",
            "unit_programs",
            "seed",
        )
    }


def generate(args):
    """Write the plan-table files and their manifest (in a subprocess of its own, so that the
    orchestrator stays small: a child's ru_maxrss starts from its parent's size at fork)."""
    started = time.perf_counter()
    plan = build_plan(
        args.departments,
        args.indicators,
        args.strategic_goals,
        args.policy_goals,
        args.unit_programs,
        args.seed,
    )
    edited = edit_plan(plan, args.seed)
    with_units = args.unit_programs > 0
    manifest = {
        "params": generation_params(args),
        "plan": write_files(plan, "plan", with_units),
        "edited": write_files(edited, "edited", with_units),
    }
    seconds = time.perf_counter() - started
    manifest["generate_seconds"] = seconds
    manifest["export"] = {"xlsx": [str(FILES / "export.xlsx")], "rows": manifest["plan"]["rows"]}
    (FILES / "manifest.json").write_text(json.dumps(manifest))


def orchestrate(args):
    WORK.mkdir(parents=True, exist_ok=True)
    if not os.environ.get("DATABASE_URL"):
        os.environ["DATABASE_URL"] = SQLITE_DEFAULT
        args.migrate = True
    setup_django()
    from django.db import connection

    engine = connection.vendor
    defaults = FULL_SIZE if engine == "postgresql" else SQLITE_SIZE
    args.departments = args.departments or defaults["departments"]
    args.indicators = args.indicators or defaults["indicators"]
    global FILES
    FILES = WORK / f"files-{args.departments}x{args.indicators}"
    FILES.mkdir(parents=True, exist_ok=True)
    check_database(args)
    settings_dict = connection.settings_dict
    database = f"{engine} {settings_dict.get('NAME')}"
    if engine == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("show server_version")
            database += f" (PostgreSQL {cursor.fetchone()[0]})"

    manifest_path = FILES / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    if args.reuse_files and manifest.get("params") == generation_params(args):
        print(f"reusing the generated files in {FILES.relative_to(ROOT)}")
    else:
        print(
            f"generating {args.departments} departments / {args.indicators} indicators …",
            flush=True,
        )
        spawn("generate", args, trace=False, quiet=True)
        manifest = json.loads(manifest_path.read_text())
        print(f"generated in {manifest['generate_seconds']:.1f} s")
    generate_seconds = manifest["generate_seconds"]
    sizes = {
        Path(p).name: Path(p).stat().st_size
        for entry in (manifest["plan"], manifest["edited"])
        for p in entry["csv"] + entry["xlsx"]
    }
    from django.conf import settings

    too_big = [name for name, n in sizes.items() if n > settings.PERFPLAN_MAX_UPLOAD_BYTES]
    if too_big:
        raise SystemExit(
            f"{', '.join(too_big)} exceed the upload limit PERFPLAN_MAX_UPLOAD_BYTES "
            f"({settings.PERFPLAN_MAX_UPLOAD_BYTES:,} bytes); the import would refuse them"
        )
    phases = PHASES
    if args.only:
        phases = tuple(p.strip() for p in args.only.split(",") if p.strip())
        unknown = set(phases) - set(PHASES)
        if unknown:
            raise SystemExit(
                f"unknown phase(s) {', '.join(sorted(unknown))}; phases: {', '.join(PHASES)}"
            )

    report = {
        "benchmark": "plan_import",
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "environment": {
            "database": database,
            "python": platform.python_version(),
            "machine": platform.machine(),
            "cpus": os.cpu_count(),
            "loadavg_start": os.getloadavg(),
        },
        "size": {
            "departments": args.departments,
            "strategic_goals": args.departments * args.strategic_goals,
            "policy_goals": args.departments * args.strategic_goals * args.policy_goals,
            "indicators": args.indicators,
            "unit_programs": args.departments
            * args.strategic_goals
            * args.policy_goals
            * args.unit_programs,
        },
        "source": args.source,
        "year": args.year,
        "files": {"sizes": sizes, "generate_seconds": generate_seconds},
        "phases": list(phases),
        "results": {},
        "cleanup": {},
        "targets": TARGETS,
    }
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = OUT / f"plan_import-{engine}-{args.departments}x{args.indicators}-{stamp}.json"

    def save():
        text = json.dumps(report, indent=1, ensure_ascii=False, default=str) + "\n"
        path.write_text(text)
        (OUT / f"plan_import-{engine}-latest.json").write_text(text)

    results, cleanup = report["results"], report["cleanup"]
    print("pass 1: time and RSS")
    for phase in phases:
        results[phase] = spawn(phase, args, trace=False, batch=batch_for(phase, results))
        save()  # so far, should a later phase fail
    if args.profile:
        print(
            f"profiles (cProfile; its overhead inflates the times): {WORK.relative_to(ROOT)}/profile-*"
        )
    if not args.no_tracemalloc and not args.profile:
        cleanup["before_trace_pass_seconds"] = spawn("cleanup", args, trace=False, quiet=True)[
            "seconds"
        ]
        print(
            f"pass 2: tracemalloc (deleted the plan first: {cleanup['before_trace_pass_seconds']:.1f} s)"
        )
        traced_results = {}
        for phase in phases:
            traced = traced_results[phase] = spawn(
                phase, args, trace=True, batch=batch_for(phase, traced_results)
            )
            results[phase]["traced_peak_mb"] = traced["traced_peak_mb"]
            results[phase]["traced_before_mb"] = traced["traced_before_mb"]
            results[phase]["traced_read_peak_mb"] = traced.get("read_traced_peak_mb")
            results[phase]["traced_seconds"] = traced["seconds"]
            save()
    report["environment"]["loadavg_end"] = os.getloadavg()
    report["environment"]["machine"] = __import__("common").machine()
    report["verdict"] = verdict(results, engine, report["size"])
    save()
    print_report(report)
    print(f"\nwritten: {path.relative_to(ROOT)}")
    if not args.keep:
        cleanup["final_seconds"] = spawn("cleanup", args, trace=False, quiet=True)["seconds"]
        save()
        print(f"deleted the bench plan ({cleanup['final_seconds']:.1f} s; --keep leaves it)")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--departments", type=int, help="default 250 (PostgreSQL), 20 (SQLite)")
    parser.add_argument("--indicators", type=int, help="default 50000 (PostgreSQL), 2000 (SQLite)")
    parser.add_argument("--strategic-goals", type=int, default=4, help="per department")
    parser.add_argument("--policy-goals", type=int, default=5, help="per strategic goal")
    parser.add_argument(
        "--unit-programs", type=int, default=0, help="per policy goal (0: no table)"
    )
    parser.add_argument("--year", type=int, default=2099, help="fiscal year of the bench plan")
    parser.add_argument("--source", choices=("csv", "xlsx"), default="csv", help="import from")
    parser.add_argument("--seed", type=int, default=2099)
    parser.add_argument("--force", action="store_true", help="delete an existing plan of --year")
    parser.add_argument("--keep", action="store_true", help="leave the bench plan in the database")
    parser.add_argument("--migrate", action="store_true", help="apply pending migrations first")
    parser.add_argument("--no-tracemalloc", action="store_true", help="skip the tracemalloc pass")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="cProfile each measured step into bench/out/profile-<phase>.{prof,txt}; "
        "inflates the times, skips the tracemalloc pass",
    )
    parser.add_argument(
        "--reuse-files", action="store_true", help="reuse files generated with the same sizes"
    )
    parser.add_argument("--only", help="comma-separated phases to run (the others are skipped)")
    parser.add_argument(
        "--repeat", type=int, default=5, help="import_new_unlogged: pairs without/with the log"
    )
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--batch", help=argparse.SUPPRESS)
    parser.add_argument("--files-dir", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.phase:
        global FILES
        FILES = Path(args.files_dir)
        run_phase(args)
    else:
        orchestrate(args)


if __name__ == "__main__":
    main()
