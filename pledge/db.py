"""Database engine, schema naming convention, sessions and write transactions."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import Depends, Request
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlmodel import Session, SQLModel
from starlette.concurrency import run_in_threadpool

from pledge.config import Settings

# Stable constraint names, so that migrations can refer to them on every database.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = SQLModel.metadata


def enum_column(enum: type[StrEnum], length: int = 16) -> sa.Enum:
    """A StrEnum stored as its values in a VARCHAR: no database enum type to migrate."""
    return sa.Enum(
        enum,
        native_enum=False,
        length=length,
        values_callable=lambda members: [member.value for member in members],
    )


def utcnow() -> datetime:
    return datetime.now(UTC)


def create_db_engine(settings: Settings) -> Engine:
    url = make_url(settings.database_url)
    if url.get_backend_name() != "sqlite":
        return create_engine(
            url,
            pool_pre_ping=True,  # a connection the server dropped is replaced, not used
            pool_size=10,
            max_overflow=20,
            pool_recycle=1800,
            pool_timeout=10,
            hide_parameters=True,  # errors and logs never show names or contacts
        )

    synchronous = settings.sqlite_synchronous.upper()
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": 30},
        pool_size=20,
        max_overflow=20,
        hide_parameters=True,
    )

    @event.listens_for(engine, "connect")
    def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy emit BEGIN itself, so that writers can ask for BEGIN IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _sqlite_begin(conn: Any) -> None:
        # A writer takes the write lock up front: a deferred transaction that
        # upgrades from read to write can fail with SQLITE_BUSY instead of waiting.
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


async def get_session(request: Request) -> AsyncIterator[Session]:
    """A session for the request. Opening one does no I/O, so this runs on the event loop
    instead of costing a trip through the thread pool; closing one that still holds a
    transaction (a rollback on the database) goes to the thread pool."""
    session = Session(request.app.state.engine, expire_on_commit=False)
    try:
        yield session
    finally:
        if session.in_transaction():
            await run_in_threadpool(session.close)
        else:
            session.close()


SessionDep = Annotated[Session, Depends(get_session)]


# SQLite has one writer at a time. The threads of one process queue for it here, in order,
# instead of each asking SQLite and sleeping in its busy handler (1, 2, 5, 10... ms) between
# tries: under load that sleeping, not the writing, would set the pace.
_sqlite_writer = threading.RLock()
# The largest row id: an INTEGER column on PostgreSQL. A larger number from an address or a form
# finds nothing, and must never reach the database, which would refuse it with an error.
ID_MAX = 2**31 - 1
WRITER_WAIT_SECONDS = 30.0  # as long as SQLite's own busy timeout


@contextmanager
def _sqlite_write_turn() -> Iterator[None]:
    if not _sqlite_writer.acquire(timeout=WRITER_WAIT_SECONDS):
        raise sa.exc.TimeoutError("waited too long for the database's write lock")
    try:
        yield
    finally:
        _sqlite_writer.release()


@contextmanager
def writing(session: Session) -> Iterator[Session]:
    """One short write transaction: BEGIN IMMEDIATE on SQLite, committed on success."""
    if session.in_transaction():
        # End any read snapshot first, so the write lock is taken at BEGIN.
        session.commit()
    turn = _sqlite_write_turn() if session.get_bind().dialect.name == "sqlite" else nullcontext()
    with turn:
        session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
        try:
            yield session
        except BaseException:
            session.rollback()
            raise
        session.commit()


def ping(engine: Engine) -> bool:
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except Exception:
        return False
    return True
