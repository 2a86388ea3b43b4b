"""What every benchmark prints beside its own figures, so that a reader can reproduce them.

Issue 16 item 4: a figure is only worth quoting with

  - the machine it was measured on (cores, RAM, CPU model, Python, database) and the load
    average before and after (other work on a shared machine slows every wall time);
  - a baseline measured in the same run on the same data, and the ratio to it, so that a
    faster or busier machine moves both alike:
      * views: a bare SELECT page — a request through the same middleware, session and
        login as the page, whose view runs one SELECT of a page of rows and writes them as
        a plain HTML table (`bare_page_url`, served by this module's URLconf);
      * imports: Django's bulk_create of the same rows, and PostgreSQL's COPY of them
        (`same_rows_baselines`), each in a transaction rolled back afterwards.

Not a test; imported by the scripts in bench/ (they run with bench/ on sys.path).
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from pathlib import Path

# ---------------------------------------------------------------- the machine


def _meminfo_gb():
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def _cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _database():
    """The database Django is set up on, with its server version (None before setup)."""
    try:
        from django.db import connection

        connection.ensure_connection()
    except Exception:  # Django not set up: the bench prints the machine without it
        return None
    if connection.vendor == "postgresql":
        version = connection.cursor().connection.info.server_version
        return f"PostgreSQL {version // 10000}.{version % 10000}"
    if connection.vendor == "sqlite":
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version}"
    return connection.vendor


def machine():
    """The machine and its load now: a dict for the JSON, `machine_line` for the print."""
    return {
        "cores": os.cpu_count(),
        "ram_gb": _meminfo_gb(),
        "cpu": _cpu_model(),
        "python": platform.python_version(),
        "database": _database(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def machine_line(figures=None, load_at_start=None):
    """One line: 'machine: 2 cores, 23.4 GB RAM (CPU …), Python …, PostgreSQL …; load …'."""
    figures = figures or machine()
    load = figures["load_average"]
    line = (
        f"machine: {figures['cores']} cores, {figures['ram_gb']} GB RAM ({figures['cpu']}), "
        f"Python {figures['python']}"
    )
    if figures.get("database"):
        line += f", {figures['database']}"
    line += f"; load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1/5/15 min)"
    if load_at_start is not None:
        line += f", {load_at_start[0]:.1f} at the start"
    if load[0] > (figures["cores"] or 1) / 2 + 0.5:
        line += " — a loaded machine: wall times include waiting for a CPU; compare ratios"
    return line


def load_now():
    return [round(x, 2) for x in os.getloadavg()]


def percentile(values, fraction):
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def ratio(value, base):
    return round(value / base, 2) if base else None


# ---------------------------------------------------------------- views: the bare SELECT page

BARE_PAGE_ROWS = 20


def bare_select_page(request):
    """One SELECT of a page of rows, written as a plain HTML table: what any page costs at
    least (the request's middleware, session, login, one query and a response)."""
    from django.contrib.auth.decorators import login_required
    from django.db import connection
    from django.http import HttpResponse
    from django.utils.html import escape

    @login_required
    def view(request):
        table = request.GET.get("table", "auth_user")
        key = _keys().get(table)
        if key is None:
            return HttpResponse(status=400)
        after = int(request.GET.get("after", "0"))
        with connection.cursor() as cursor:
            quoted = connection.ops.quote_name(table)
            cursor.execute(
                f"SELECT * FROM {quoted} WHERE {key} > %s ORDER BY {key} LIMIT {BARE_PAGE_ROWS}",
                [after],
            )
            rows = cursor.fetchall()
        body = "".join(
            "<tr>" + "".join(f"<td>{escape(value)}</td>" for value in row) + "</tr>" for row in rows
        )
        return HttpResponse(f"<!doctype html><title>bare</title><table>{body}</table>")

    return view(request)


def _keys():
    """{table: its integer primary key column} of the project's models."""
    from django.apps import apps

    return {
        model._meta.db_table: model._meta.pk.column
        for model in apps.get_models()
        if model._meta.pk.get_internal_type() in ("AutoField", "BigAutoField", "BigIntegerField")
    }


def _urlpatterns():
    from django.urls import include, path

    return [
        path("__bench__/bare/", bare_select_page, name="bench_bare_page"),
        path("", include(os.environ.get("BENCH_ROOT_URLCONF", "perfplan.urls"))),
    ]


def __getattr__(name):  # this module is the bench's URLconf: ROOT_URLCONF="common"
    if name == "urlpatterns":
        return _urlpatterns()
    raise AttributeError(name)


URLCONF = "common"  # override_settings(ROOT_URLCONF=common.URLCONF) while measuring


def bare_page_url(table, after=0):
    return f"/__bench__/bare/?table={table}&after={after}"


def measure_bare_page(client, table, requests, rng=None, warmup=3):
    """p50/p95 (ms) of the bare SELECT page of `table` through `client` (logged in), with
    the same number of requests as the page it is the baseline of. Needs
    override_settings(ROOT_URLCONF=URLCONF)."""
    import random

    from django.db import connection

    rng = rng or random.Random(1)
    key = _keys()[table]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX({key}), 0) FROM {connection.ops.quote_name(table)}")
        (high,) = cursor.fetchone()
    for _ in range(warmup):
        client.get(bare_page_url(table))
    times = []
    for _ in range(requests):
        url = bare_page_url(table, rng.randint(0, max(high - BARE_PAGE_ROWS, 0)))
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return {
        "table": table,
        "requests": requests,
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(percentile(times, 0.95), 1),
    }


# ---------------------------------------------------------------- imports: the same rows


class _Rollback(Exception):
    pass


def _rows(model, queryset):
    fields = [field for field in model._meta.concrete_fields]
    return fields, list(queryset.values_list(*[field.attname for field in fields]))


def _remap(fields, row, mapping, overrides):
    values = list(row)
    for index, field in enumerate(fields):
        if field.primary_key:
            continue
        if field.attname in overrides:
            values[index] = overrides[field.attname]
        elif field.is_relation and values[index] is not None:
            values[index] = mapping.get(field.related_model, {}).get(values[index], values[index])
    return values


def _timed_rolled_back(write, prepare=None):
    from django.db import transaction

    seconds = None
    try:
        with transaction.atomic():
            if prepare is not None:  # e.g. the rows' originals deleted (unique keys)
                prepare()
            started = time.perf_counter()
            write()
            seconds = time.perf_counter() - started
            raise _Rollback
    except _Rollback:
        pass
    return seconds


def bulk_create_seconds(tables, overrides=None, batch_size=2000, prepare=None):
    """Seconds for Django's bulk_create to write the rows of `tables` again ([(model,
    queryset)], parents first; foreign keys among them point at the new rows; `overrides`
    {model: {attname: value}} for the unique columns, e.g. the plan's fiscal year; or
    `prepare`, run in the transaction before the clock starts, deletes the originals), in a
    transaction rolled back afterwards."""
    overrides = overrides or {}
    loaded = [(model, *_rows(model, queryset)) for model, queryset in tables]

    def write():
        mapping = {}
        for model, fields, rows in loaded:
            pk_index = next(i for i, f in enumerate(fields) if f.primary_key)
            objects = []
            for row in rows:
                values = _remap(fields, row, mapping, overrides.get(model, {}))
                values[pk_index] = None
                objects.append(model(**{f.attname: v for f, v in zip(fields, values, strict=True)}))
            model._base_manager.bulk_create(objects, batch_size=batch_size)
            mapping[model] = {row[pk_index]: obj.pk for row, obj in zip(rows, objects, strict=True)}

    return _timed_rolled_back(write, prepare)


def copy_seconds(tables, overrides=None, prepare=None):
    """Seconds for PostgreSQL's COPY to write the same rows (ids given past the table's
    largest, as COPY does not return the new ones), rolled back afterwards; None on SQLite."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    from psycopg.types.json import Jsonb

    overrides = overrides or {}
    loaded = [(model, *_rows(model, queryset)) for model, queryset in tables]

    def write():
        mapping = {}
        with connection.cursor() as cursor:
            raw = cursor.cursor
            for model, fields, rows in loaded:
                table = connection.ops.quote_name(model._meta.db_table)
                cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")
                (next_id,) = cursor.fetchone()
                pk_index = next(i for i, f in enumerate(fields) if f.primary_key)
                json_columns = [
                    i for i, f in enumerate(fields) if f.get_internal_type() == "JSONField"
                ]
                columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
                new_ids = {}
                with raw.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for row in rows:
                        next_id += 1
                        values = _remap(fields, row, mapping, overrides.get(model, {}))
                        new_ids[row[pk_index]] = next_id
                        values[pk_index] = next_id
                        for i in json_columns:
                            values[i] = Jsonb(values[i])
                        copy.write_row(values)
                mapping[model] = new_ids

    return _timed_rolled_back(write, prepare)


def same_rows_baselines(tables, overrides=None, prepare=None):
    """{'rows', 'bulk_create_s', 'copy_s'}: the baselines of an import of these rows."""
    return {
        "rows": sum(queryset.count() for _model, queryset in tables),
        "bulk_create_s": round(bulk_create_seconds(tables, overrides, prepare=prepare), 3),
        "copy_s": (lambda s: round(s, 3) if s is not None else None)(
            copy_seconds(tables, overrides, prepare=prepare)
        ),
    }


def plan_tables(plan):
    """The rows a plan import writes from its files, parents first, for same_rows_baselines:
    the plan, its departments, strategic goals, policy goals, indicators and unit programs
    (the departments themselves exist already after the first import)."""
    from budgets.models import UnitProgram
    from goals.models import PlanDepartment, PolicyGoal, StrategicGoal
    from indicators.models import Indicator
    from perfplan.models import Plan

    return [
        (Plan, Plan.objects.filter(pk=plan.pk)),
        (PlanDepartment, PlanDepartment.objects.filter(plan=plan)),
        (StrategicGoal, StrategicGoal.objects.filter(plan_department__plan=plan)),
        (PolicyGoal, PolicyGoal.objects.filter(strategic_goal__plan_department__plan=plan)),
        (
            Indicator,
            Indicator.objects.filter(policy_goal__strategic_goal__plan_department__plan=plan),
        ),
        (
            UnitProgram,
            UnitProgram.objects.filter(policy_goal__strategic_goal__plan_department__plan=plan),
        ),
    ]


def plan_overrides(plan):
    """A free fiscal year for the copy of `plan` (the year is unique)."""
    from perfplan.models import Plan

    free = max(Plan.objects.values_list("fiscal_year", flat=True)) + 1
    return {Plan: {"fiscal_year": free}}


def baseline_line(label, seconds, rows, base):
    """'import_new: 3.40 s; the same 56,251 rows by bulk_create 2.75 s, by COPY 1.20 s: the
    import at 0.81× bulk_create's speed, 0.35× COPY's'."""
    text = f"{label}: {seconds:.2f} s; the same {rows:,} rows by bulk_create {base['bulk_create_s']:.2f} s"
    if base.get("copy_s"):
        text += f", by COPY {base['copy_s']:.2f} s"
    text += f": the import at {base['bulk_create_s'] / seconds:.2f}× bulk_create's speed"
    if base.get("copy_s"):
        text += f", {base['copy_s'] / seconds:.2f}× COPY's"
    return text
