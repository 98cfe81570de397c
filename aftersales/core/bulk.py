"""Write many changed rows in one statement.

Django's ``bulk_update`` builds a ``CASE WHEN pk = … THEN …`` expression for every row and field,
which costs milliseconds per row in Python. ``bulk_update_rows`` sends

    WITH v(pk, a, b) AS (VALUES (…), (…)) UPDATE t SET a = v.a, b = v.b FROM v WHERE t.id = v.pk

which PostgreSQL and SQLite (3.33+) both run; values go through each field's own database
preparation, so Decimals, times and JSON are stored exactly as ``save()`` stores them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import connections, router
from django.db.models import JSONField, Model
from django.db.models.expressions import DatabaseDefault, Value

SQLITE_MAX_PARAMETERS = 32_000
# Fewer rows than this are inserted by one statement (COPY costs an extra round trip or two).
COPY_FROM_ROWS = 20


def bulk_update_rows(model: type[Model], objects: Sequence[Model], fields: Iterable[str]) -> None:
    if not objects:
        return
    connection = connections[router.db_for_write(model)]
    meta = model._meta
    columns = [meta.get_field(name) for name in fields]
    primary_key = meta.pk
    quote = connection.ops.quote_name
    postgres = connection.vendor == "postgresql"

    def placeholder(field) -> str:
        # PostgreSQL infers VALUES column types from the first row; cast so NULLs and text work.
        return f"%s::{field.db_type(connection)}" if postgres else "%s"

    row = "(" + ", ".join(placeholder(f) for f in [primary_key, *columns]) + ")"
    names = ", ".join(quote(name) for name in ["_pk", *[f.column for f in columns]])
    table = quote(meta.db_table)
    assignments = ", ".join(f"{quote(f.column)} = v.{quote(f.column)}" for f in columns)
    chunk = max(1, SQLITE_MAX_PARAMETERS // (len(columns) + 1))
    with connection.cursor() as cursor:
        for start in range(0, len(objects), chunk):
            part = objects[start : start + chunk]
            params: list = []
            for obj in part:
                params.append(primary_key.get_db_prep_save(obj.pk, connection))
                params.extend(
                    f.get_db_prep_save(getattr(obj, f.attname), connection) for f in columns
                )
            cursor.execute(
                f"WITH v({names}) AS (VALUES {', '.join([row] * len(part))}) "
                f"UPDATE {table} SET {assignments} FROM v "
                f"WHERE {table}.{quote(primary_key.column)} = v.{quote('_pk')}",
                params,
            )


def bulk_insert_rows(
    model: type[Model],
    objects: Sequence[Model],
    fields: Iterable[str] | None = None,
    *,
    with_ids: bool = False,
) -> None:
    """Insert rows: COPY on PostgreSQL (no statement of thousands of placeholders to build and
    parse), ``bulk_create`` elsewhere. ``fields``: the columns to write (default: every concrete
    column but an automatic primary key). ``with_ids``: the objects get their ids (on PostgreSQL
    taken from the table's sequence first, in one query, and written by the COPY)."""
    if not objects:
        return
    meta = model._meta
    if fields is None:
        fields = [f.name for f in meta.concrete_fields if f is not meta.pk]
    fields = list(fields)
    connection = connections[router.db_for_write(model)]
    if connection.vendor != "postgresql" or len(objects) < COPY_FROM_ROWS:
        model.objects.bulk_create(objects)  # a few rows: one INSERT … RETURNING
        return
    if with_ids:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [meta.db_table, meta.pk.column, len(objects)],
            )
            for obj, (new_id,) in zip(objects, cursor.fetchall(), strict=True):
                obj.pk = new_id
        fields = [meta.pk.name, *fields]
    columns = [meta.get_field(name) for name in fields]
    quote = connection.ops.quote_name
    names = ", ".join(quote(f.column) for f in columns)
    # psycopg adapts plain values itself; only JSON needs Django's preparation.
    prepared = [isinstance(f, JSONField) for f in columns]
    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg's cursor: Django's wrapper has no copy()
        with raw.copy(f"COPY {quote(meta.db_table)} ({names}) FROM STDIN") as copy:
            for obj in objects:
                copy.write_row(
                    [
                        f.get_db_prep_save(getattr(obj, f.attname), connection)
                        if prep
                        else getattr(obj, f.attname)
                        for f, prep in zip(columns, prepared, strict=True)
                    ]
                )
    if with_ids:
        for obj in objects:
            obj._state.adding, obj._state.db = False, connection.alias


def bulk_insert_new(model: type[Model], objects: Sequence[Model], fields: Iterable[str]) -> list:
    """Insert the rows that break no unique constraint, skip the others, and return the ids of
    those inserted (in no particular order). PostgreSQL: one ``INSERT … SELECT FROM unnest(…)
    ON CONFLICT DO NOTHING RETURNING id`` (an array per column, so the statement does not grow
    with the rows); SQLite: ``INSERT … VALUES … ON CONFLICT DO NOTHING RETURNING id``."""
    if not objects:
        return []
    connection = connections[router.db_for_write(model)]
    meta = model._meta
    columns = [meta.get_field(name) for name in fields]
    quote = connection.ops.quote_name
    insert = f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in columns)})"
    returning = f"ON CONFLICT DO NOTHING RETURNING {quote(meta.pk.column)}"
    inserted: list = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            arrays = ", ".join(f"%s::{f.db_type(connection)}[]" for f in columns)
            params = [
                [f.get_db_prep_save(getattr(obj, f.attname), connection) for obj in objects]
                for f in columns
            ]
            cursor.execute(f"{insert} SELECT * FROM unnest({arrays}) {returning}", params)
            return [row[0] for row in cursor.fetchall()]
        row = "(" + ", ".join(["%s"] * len(columns)) + ")"
        chunk = max(1, SQLITE_MAX_PARAMETERS // len(columns))
        for start in range(0, len(objects), chunk):
            part = objects[start : start + chunk]
            params = [
                f.get_db_prep_save(getattr(obj, f.attname), connection)
                for obj in part
                for f in columns
            ]
            cursor.execute(f"{insert} VALUES {', '.join([row] * len(part))} {returning}", params)
            inserted += [found[0] for found in cursor.fetchall()]
    return inserted


def can_insert_together(model: type[Model]) -> bool:
    """Whether ``insert_together`` writes in one statement on ``model``'s database."""
    return connections[router.db_for_write(model)].vendor == "postgresql"


def take_id(obj: Model) -> None:
    """Give a new row its id from its table's sequence before it is written (PostgreSQL), so
    that rows written with it can name it."""
    meta = obj._meta
    connection = connections[router.db_for_write(type(obj))]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s))", [meta.db_table, meta.pk.column]
        )
        obj.pk = cursor.fetchone()[0]


# ``insert_together``'s statement and columns per shape (the models, their rows' counts, and
# whether each group's ids are given): building them cost more than binding the values.
_TOGETHER: dict[tuple, tuple[str, list[list]]] = {}


def _together_statement(connection, groups: list[list[Model]]) -> tuple[str, list[list]]:
    shape = (
        connection.alias,
        tuple((type(objects[0]), len(objects), objects[0].pk is None) for objects in groups),
    )
    found = _TOGETHER.get(shape)
    if found is not None:
        return found
    quote = connection.ops.quote_name
    parts, selects, columns_of = [], [], []
    for index, objects in enumerate(groups):
        meta = objects[0]._meta
        columns = [f for f in meta.concrete_fields if not (f.primary_key and objects[0].pk is None)]
        row = "(" + ", ".join(["%s"] * len(columns)) + ")"
        names = ", ".join(quote(f.column) for f in columns)
        parts.append(
            f"t{index} AS (INSERT INTO {quote(meta.db_table)} ({names}) "
            f"VALUES {', '.join([row] * len(objects))} RETURNING {quote(meta.pk.column)} AS id)"
        )
        selects.append(f"(SELECT array_agg(id) FROM t{index})")
        columns_of.append(columns)
    found = (f"WITH {', '.join(parts)} SELECT {', '.join(selects)}", columns_of)
    _TOGETHER[shape] = found
    return found


def insert_together(groups: Sequence[Sequence[Model]]) -> None:
    """Insert new rows of several tables in one statement on PostgreSQL: one data-modifying
    ``WITH`` part per group (the rows of one model), their ids read back in the order given, as
    ``bulk_create`` reads them. A row's foreign keys must be known already (``take_id`` first
    for a row the others name; the database checks the keys at commit, as Django declares them).
    Values are prepared as ``save()`` prepares them (``auto_now`` included); a column left to
    its database default is written with that default's value."""
    groups = [list(group) for group in groups if group]
    if not groups:
        return
    connection = connections[router.db_for_write(type(groups[0][0]))]
    sql, columns_of = _together_statement(connection, groups)
    params = []
    for objects, columns in zip(groups, columns_of, strict=True):
        for obj in objects:
            for field in columns:
                value = field.pre_save(obj, True)
                if isinstance(value, DatabaseDefault):
                    if not isinstance(field.db_default, Value):
                        raise TypeError(f"{field} has a database default that is not a value")
                    value = field.db_default.value
                    setattr(obj, field.attname, value)
                params.append(field.get_db_prep_save(value, connection))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        id_lists = cursor.fetchone()
    for objects, ids in zip(groups, id_lists, strict=True):
        for obj, new_id in zip(objects, ids, strict=True):
            obj.pk = new_id
            obj._state.adding, obj._state.db = False, connection.alias
