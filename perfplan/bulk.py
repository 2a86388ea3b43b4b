"""Bulk writes: many rows in a few statements, without a model instance or a signal per row.

For the importers, which write thousands of rows in one transaction: QuerySet.bulk_create
builds an instance per row (its __init__ and post_init cost more than the insert), and
bulk_update writes a CASE WHEN per row and field, growing with the square of the batch.

* insert(): rows of values, multi-row INSERT statements; COPY on PostgreSQL for large
  batches. No ids come back.
* create_objects(): model instances, their primary keys set (bulk_create; on PostgreSQL
  a large list goes in with COPY, its ids drawn from the table's sequence first).
* update() and update_objects(): PostgreSQL joins the new values (UPDATE … FROM a VALUES
  list, or a temporary table filled by COPY for large batches); SQLite runs one statement
  per row in the driver (executemany), its fastest way.

The private Django calls these need (connection.ops, Model._meta, a field's preparation of
values for the database, the driver's cursor) are in this module only. Nothing here sends
signals or writes the change log: the caller logs what it wrote.
"""

from __future__ import annotations

import sqlite3
from decimal import Decimal

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, router, transaction
from django.db.models import NOT_PROVIDED, AutoField

BATCH = 2000  # rows per statement at most
COPY_THRESHOLD = 500  # PostgreSQL: from this many rows on, COPY instead of a statement
COPY_MIN_OBJECTS = 1000  # create_objects: fewer new instances go in with bulk_create


def max_params(connection):
    """How many parameters one statement may have on `connection`.

    Django says 999 for SQLite, the limit of old builds; the library's own limit (32,766
    and more since SQLite 3.32) lets far larger statements through.
    """
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        return connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    return connection.features.max_query_params or 65535


def rows_per_statement(connection, columns):
    return max(1, min(BATCH, max_params(connection) // max(1, columns)))


def _fields(model, attnames):
    by_attname = {f.attname: f for f in model._meta.concrete_fields}
    return [by_attname[name] for name in attnames]


def _prepared(fields, rows, connection):
    """The rows' values as the database takes them (field by field, as save() prepares)."""
    prepares = [f.get_db_prep_save for f in fields]
    return [
        [prepare(value, connection) for prepare, value in zip(prepares, row, strict=True)]
        for row in rows
    ]


def insert(model, attnames, rows, *, defaults=None, using=DEFAULT_DB_ALIAS):
    """Insert `rows` (each the values of the fields `attnames`, in that order) as new rows of
    `model`. Every other column but the primary key gets what saving `model(**defaults)`
    would store: the fields' defaults, the time for auto_now(_add) fields. No ids come back
    (COPY and executemany cannot return them everywhere)."""
    connection = connections[using]
    meta = model._meta
    quote = connection.ops.quote_name
    given = _fields(model, attnames)
    others = [f for f in meta.concrete_fields if not f.primary_key and f.attname not in attnames]
    template = model(**(defaults or {}))
    # pre_save: what save() would store (auto_now and auto_now_add fields get the time).
    constant = [f.get_db_prep_save(f.pre_save(template, True), connection) for f in others]
    columns = ", ".join(quote(f.column) for f in (*given, *others))
    table = quote(meta.db_table)
    params = [values + constant for values in _prepared(given, rows, connection)]
    if not params:
        return 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and len(params) >= COPY_THRESHOLD:
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in params:
                    copy.write_row(row)
            return len(params)
        width = len(given) + len(others)
        placeholders = f"({', '.join(['%s'] * width)})"
        step = rows_per_statement(connection, width)
        for start in range(0, len(params), step):
            chunk = params[start : start + step]
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES {', '.join([placeholders] * len(chunk))}",
                [value for row in chunk for value in row],
            )
    return len(params)


def update(model, attnames, rows, *, constants=None, increment=(), using=DEFAULT_DB_ALIAS):
    """Update existing rows of `model`: each of `rows` is (primary key, the values of the
    fields `attnames` in that order). `constants` ({attname: value}) are set on every row;
    each field of `increment` (e.g. a version) is raised by one. Returns the rows given."""
    connection = connections[using]
    meta = model._meta
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    pk = meta.pk
    given = _fields(model, attnames)
    constants = constants or {}
    fixed = _fields(model, list(constants))
    fixed_values = [
        f.get_db_prep_save(value, connection)
        for f, value in zip(fixed, constants.values(), strict=True)
    ]
    params = _prepared([pk, *given], rows, connection)
    if not params:
        return 0
    raised = [quote(f.column) for f in _fields(model, list(increment))]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            _update_from(cursor, connection, meta, given, params, fixed, fixed_values, raised)
        else:
            sets = [f"{quote(f.column)} = %s" for f in (*given, *fixed)]
            sets += [f"{column} = {column} + 1" for column in raised]
            sql = f"UPDATE {table} SET {', '.join(sets)} WHERE {quote(pk.column)} = %s"
            statements = [(*row[1:], *fixed_values, row[0]) for row in params]
            for start in range(0, len(statements), BATCH):
                cursor.executemany(sql, statements[start : start + BATCH])
    return len(params)


def _update_from(cursor, connection, meta, given, params, fixed, fixed_values, raised):
    """PostgreSQL: UPDATE … FROM the new values, joined on the primary key."""
    quote = connection.ops.quote_name
    table, pk = quote(meta.db_table), meta.pk
    names = [quote(f"v_{f.column}") for f in (pk, *given)]
    sets = [f"{quote(f.column)} = v.{name}" for f, name in zip(given, names[1:], strict=True)]
    sets += [f"{quote(f.column)} = %s" for f in fixed]
    sets += [f"{column} = {table}.{column} + 1" for column in raised]
    head = f"UPDATE {table} SET {', '.join(sets)} FROM "
    where = f" WHERE {table}.{quote(pk.column)} = v.{names[0]}"
    fields = (pk, *given)
    if len(params) >= COPY_THRESHOLD:
        temp = quote(f"{meta.db_table}_bulk_update")
        columns = ", ".join(
            f"{name} {f.cast_db_type(connection)}" for name, f in zip(names, fields, strict=True)
        )
        cursor.execute(f"CREATE TEMPORARY TABLE {temp} ({columns}) ON COMMIT DROP")
        with cursor.cursor.copy(f"COPY {temp} ({', '.join(names)}) FROM STDIN") as copy:
            for row in params:
                copy.write_row(row)
        cursor.execute(f"{head}{temp} AS v{where}", fixed_values)
        cursor.execute(f"DROP TABLE {temp}")
        return
    casts = ", ".join(f"%s::{f.cast_db_type(connection)}" for f in fields)
    step = rows_per_statement(connection, len(fields))
    for start in range(0, len(params), step):
        chunk = params[start : start + step]
        values = ", ".join([f"({casts})"] * len(chunk))
        cursor.execute(
            f"{head}(VALUES {values}) AS v({', '.join(names)}){where}",
            [*fixed_values, *(value for row in chunk for value in row)],
        )


def update_objects(model, objects, field_names):
    """update() of model instances: their values of `field_names` (names or attnames)."""
    meta = model._meta
    attnames = [meta.get_field(name).attname for name in field_names]
    rows = [(obj.pk, *(getattr(obj, name) for name in attnames)) for obj in objects]
    return update(model, attnames, rows, using=router.db_for_write(model))


# Values a field would store unchanged (get_db_prep_save is then skipped); others go through it.
_STORED_AS_IS = {
    "CharField": (str,),
    "TextField": (str,),
    "SmallIntegerField": (int,),
    "IntegerField": (int,),
    "BigIntegerField": (int,),
    "PositiveSmallIntegerField": (int,),
    "PositiveIntegerField": (int,),
    "PositiveBigIntegerField": (int,),
    "AutoField": (int,),
    "BigAutoField": (int,),
    "DecimalField": (Decimal,),
    "BooleanField": (bool,),
}


class _NoCopy(Exception):
    pass


def create_objects(model, objects):
    """model.objects.bulk_create(objects, batch_size=BATCH), the objects' primary keys set.

    On PostgreSQL a large list goes in with COPY instead, two to three times faster: the
    primary keys are drawn from the table's sequence first, in the objects' order, as
    INSERT … RETURNING would have. Should COPY not fit (an expression for a value, a model
    with parents or database defaults) or fail, bulk_create runs instead, so a refusal reads
    exactly as it would have. No signals, as bulk_create.
    """
    connection = connections[router.db_for_write(model)]
    meta = model._meta
    if (
        connection.vendor != "postgresql"
        or len(objects) < COPY_MIN_OBJECTS
        or meta.parents
        or list(meta.db_returning_fields) != [meta.pk]
        or not isinstance(meta.pk, AutoField)
        or any(f.generated or f.db_default is not NOT_PROVIDED for f in meta.concrete_fields)
        or any(obj._is_pk_set() for obj in objects)
    ):
        model.objects.bulk_create(objects, batch_size=BATCH)
        return
    for obj in objects:
        obj._prepare_related_fields_for_save(operation_name="bulk_create")
    fields = [f for f in meta.concrete_fields if f is not meta.pk]
    as_is = [
        _STORED_AS_IS.get((f.target_field if f.is_relation else f).get_internal_type(), ())
        for f in fields
    ]
    try:
        rows = [_copy_row(obj, fields, as_is, connection) for obj in objects]
    except _NoCopy:
        model.objects.bulk_create(objects, batch_size=BATCH)
        return
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in (meta.pk, *fields))
    try:
        with transaction.atomic(using=connection.alias), connection.wrap_database_errors:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s) "
                    "ORDER BY 1",
                    [meta.db_table, meta.pk.column, len(objects)],
                )
                ids = [row[0] for row in cursor.fetchall()]
                sql = f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN"
                with cursor.cursor.copy(sql) as copy:
                    for pk, row in zip(ids, rows, strict=True):
                        copy.write_row((pk, *row))
    except DatabaseError:
        model.objects.bulk_create(objects, batch_size=BATCH)
        return
    for obj, pk in zip(objects, ids, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = connection.alias


def _copy_row(obj, fields, as_is, connection):
    row = []
    for f, types in zip(fields, as_is, strict=True):
        value = f.pre_save(obj, True)
        kind = type(value)
        if value is None or (kind in types and (kind is not Decimal or value.is_finite())):
            row.append(value)
        elif hasattr(value, "resolve_expression"):
            raise _NoCopy
        else:
            row.append(f.get_db_prep_save(value, connection))
    return row
