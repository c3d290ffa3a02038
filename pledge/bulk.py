"""Rows added to a table in one statement, as group commits add a batch's signatures.

On PostgreSQL they go in as one ``INSERT ... SELECT ... FROM json_populate_recordset(...)``:
the rows travel as one JSON array, written by the standard library's C encoder and read by
PostgreSQL as rows of the table's own type. That is one round trip whatever the number of
rows, where COPY takes two (its start, then its data) and an insert per row one each; under
load each round trip waits for a turn on a busy CPU, and a batch of signatures makes them while
it holds its campaign's lock. It can return the new rows' ids (RETURNING), which COPY cannot.
Measured against COPY on batches of 15 signatures: the app's CPU per signature written about
15 % lower, PostgreSQL's about 25 % lower. Elsewhere, and for a single row, the rows are
inserted by executemany.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

# What PostgreSQL quotes of a row it refused: the key's value ("DETAIL:  Key (token)=(...)
# already exists."). No log may hold a name, a contact's digest or a private token.
_ROW_VALUES = re.compile(r"\nDETAIL:[^\n]*")
# Fewer rows than this are inserted by executemany: its statement is cached and simpler.
JSON_FROM_ROWS = 2


def insert_rows(
    conn: sa.Connection,
    table: sa.Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    returning: Sequence[str] = (),
) -> Sequence[Sequence[Any]]:
    """Add the rows to the table inside the connection's transaction. Every row names the
    same columns. A row that leaves out a column with a default is inserted by executemany,
    which fills it in; a database error is raised as SQLAlchemy's, as an insert's would be.

    The columns named in ``returning`` are returned for every row inserted, in no promised
    order: the caller matches them to its rows by a unique key among them."""
    if not rows:
        return []
    names = tuple(rows[0])
    if (
        conn.dialect.name != "postgresql"
        or len(rows) < JSON_FROM_ROWS
        or _defaults_left_out(table, names)
    ):
        statement = sa.insert(table)
        if returning:
            return conn.execute(statement.returning(*(table.c[n] for n in returning)), rows).all()
        conn.execute(statement, list(rows))
        return []
    return _insert_json(conn, table, names, rows, tuple(returning))


# The same few tables and column lists come back batch after batch: each is worked out once.
@functools.lru_cache(maxsize=64)
def _defaults_left_out(table: sa.Table, names: tuple[str, ...]) -> bool:
    named = set(names)
    return any(column.default is not None and column.name not in named for column in table.c)


@functools.lru_cache(maxsize=64)
def _json_plan(
    dialect: sa.Dialect, table: sa.Table, names: tuple[str, ...], returning: tuple[str, ...]
) -> tuple[str, list[tuple[str, Any]]]:
    """The statement for these columns, compiled once, and what SQLAlchemy does to a column's
    value before it reaches the driver (an enum's member to its stored value, a time to UTC)."""
    # Each row of the JSON array read as a row of the table's type, its columns typed as the
    # table's: a value too long or of the wrong kind is refused as an insert's would be.
    row_type: sa.ColumnClause[Any] = sa.literal_column(
        f"NULL::{dialect.identifier_preparer.format_table(table)}"
    )
    records = sa.func.json_populate_recordset(row_type, sa.bindparam("rows")).table_valued(*names)
    chosen = sa.select(*(records.c[name] for name in names))
    statement = sa.insert(table).from_select(names, chosen, include_defaults=False)
    if returning:
        statement = statement.returning(*(table.c[name] for name in returning))
    processors = [(name, table.c[name].type.bind_processor(dialect)) for name in names]
    return str(statement.compile(dialect=dialect)), [
        (name, process) for name, process in processors if process is not None
    ]


def _json_value(value: Any) -> Any:
    """A time as ISO 8601 with its offset, which PostgreSQL reads exactly."""
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not stored by insert_rows")


def _insert_json(
    conn: sa.Connection,
    table: sa.Table,
    names: Sequence[str],
    rows: Sequence[Mapping[str, Any]],
    returning: tuple[str, ...],
) -> list[tuple[Any, ...]]:
    import psycopg  # only where PostgreSQL is the database

    statement, processors = _json_plan(conn.dialect, table, tuple(names), returning)
    if processors:
        processed = [dict(row) for row in rows]
        for row in processed:
            for name, process in processors:
                if row[name] is not None:
                    row[name] = process(row[name])
        rows = processed
    payload = json.dumps(rows, default=_json_value, separators=(",", ":"))
    dbapi = conn.connection.dbapi_connection
    assert isinstance(dbapi, psycopg.Connection)
    try:
        with dbapi.cursor() as cursor:
            cursor.execute(statement, {"rows": payload})
            return cursor.fetchall() if returning else []
    except psycopg.Error as error:
        # The error keeps its class, and with it its SQLSTATE, but none of the row's values.
        bare = type(error)(_ROW_VALUES.sub("", str(error)))
        raise sa.exc.DBAPIError.instance(
            statement, None, bare, psycopg.Error, hide_parameters=True, dialect=conn.dialect
        ) from None
