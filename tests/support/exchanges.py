"""How many times a connection waited for PostgreSQL's answer: its round trips."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator

import sqlalchemy as sa


@contextlib.contextmanager
def round_trips(conn: sa.Connection) -> Iterator[list[int]]:
    """Within the block, libpq's trace of the connection's messages: once the block ends, the
    list holds how many times the server said it was ready for the next query (once at the
    end of each exchange, a round trip). PostgreSQL only."""
    counted: list[int] = []
    pgconn = conn.connection.dbapi_connection.pgconn  # type: ignore[union-attr]
    from psycopg import pq

    with tempfile.TemporaryFile("w+") as trace:
        pgconn.trace(trace.fileno())
        pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE)
        try:
            yield counted
        finally:
            pgconn.untrace()
        trace.seek(0)
        counted.append(
            sum(1 for line in trace if line.startswith("B\t") and "\tReadyForQuery" in line)
        )
