"""Rows added to a table in one statement, as group commits add a batch's signatures.

On PostgreSQL they go in by ``COPY ... FROM STDIN``: against an insert per row (psycopg's
pipelined executemany), the client does less than half the work for each row and the server
far less. Elsewhere, and for a single row, they are inserted by executemany.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

# What PostgreSQL quotes of a row it refused: the key's value ("DETAIL:  Key (token)=(...)
# already exists.") and the column's ("CONTEXT:  COPY supporter, line 3, column
# display_name: "..."), of which the row's number is kept.
_ROW_VALUES = (
    (re.compile(r"\nDETAIL:[^\n]*"), ""),
    (re.compile(r"(COPY [^,\n]+, line \d+)[^\n]*"), r"\1"),
)
# Fewer rows than this are inserted: COPY's own exchange costs about what a row does.
COPY_FROM_ROWS = 2


def insert_rows(conn: sa.Connection, table: sa.Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Add the rows to the table inside the connection's transaction. Every row names the
    same columns. A row that leaves out a column with a default is inserted by executemany,
    which fills it in; a database error is raised as SQLAlchemy's, as an insert's would be."""
    if not rows:
        return
    names = tuple(rows[0])
    if (
        conn.dialect.name != "postgresql"
        or len(rows) < COPY_FROM_ROWS
        or _defaults_left_out(table, names)
    ):
        conn.execute(sa.insert(table), list(rows))
        return
    _copy(conn, table, names, rows)


# The same few tables and column lists come back batch after batch: each is worked out once.
@functools.lru_cache(maxsize=64)
def _defaults_left_out(table: sa.Table, names: tuple[str, ...]) -> bool:
    named = set(names)
    return any(column.default is not None and column.name not in named for column in table.c)


@functools.lru_cache(maxsize=64)
def _copy_plan(
    dialect: sa.Dialect, table: sa.Table, names: tuple[str, ...]
) -> tuple[str, list[Any]]:
    """The COPY statement for these columns, and what SQLAlchemy does to each column's value
    before it reaches the driver (an enum's member to its stored value, a time to UTC...)."""
    quote = dialect.identifier_preparer
    statement = (
        f"COPY {quote.format_table(table)} ({', '.join(quote.quote(name) for name in names)}) "
        "FROM STDIN"
    )
    return statement, [table.c[name].type.bind_processor(dialect) for name in names]


def _copy(
    conn: sa.Connection, table: sa.Table, names: Sequence[str], rows: Sequence[Mapping[str, Any]]
) -> None:
    import psycopg  # only where PostgreSQL is the database

    statement, processors = _copy_plan(conn.dialect, table, tuple(names))
    dbapi = conn.connection.dbapi_connection
    assert isinstance(dbapi, psycopg.Connection)
    try:
        with dbapi.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                values = [row[name] for name in names]
                copy.write_row(
                    [
                        value if process is None else process(value)
                        for process, value in zip(processors, values, strict=True)
                    ]
                )
    except psycopg.Error as error:
        # A name, a contact's digest, a private token: no log may hold them. The error keeps
        # its class, and with it its SQLSTATE.
        told = str(error)
        for pattern, replacement in _ROW_VALUES:
            told = pattern.sub(replacement, told)
        bare = type(error)(told)
        raise sa.exc.DBAPIError.instance(
            statement, None, bare, psycopg.Error, hide_parameters=True, dialect=conn.dialect
        ) from None
