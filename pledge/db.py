"""Database engine, schema naming convention, sessions and write transactions."""

from __future__ import annotations

import asyncio
import contextvars
import logging
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Generic, TypeVar

import anyio.to_thread
import sqlalchemy as sa
from fastapi import Depends, Request
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlmodel import Session, SQLModel

from pledge.config import Settings
from pledge.sqlitefile import keep_private

log = logging.getLogger(__name__)

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


def table(model: type[SQLModel]) -> sa.Table:
    """The Core table behind a model. Each models module declares its handles once with it
    (``supporter_table = table(Supporter)``) for the statements that run on hot paths and the
    set-based updates; see CONTRIBUTING.md for when to use which."""
    found = model.__table__  # type: ignore[attr-defined]
    assert isinstance(found, sa.Table)
    return found


# How long a writer in a thread waits for SQLite's write lock before it gives up.
BUSY_TIMEOUT_MS = 30_000
# The group commit's SQLite writer begins its transactions on the driver's connection itself
# (GroupCommit._take_write_lock); SQLAlchemy's begin then only checks that one is open.
BEGUN_ON_DRIVER = "begun on the driver"


def create_db_engine(settings: Settings) -> Engine:
    url = make_url(settings.database_url)
    if url.get_backend_name() != "sqlite":
        return create_engine(
            url,
            pool_pre_ping=True,  # a connection the server dropped is replaced, not used
            # As many connections as the thread pool has threads (anyio's 40): a request in a
            # thread never waits for a connection that another thread, waiting for its
            # campaign's lock, holds.
            pool_size=10,
            max_overflow=30,
            pool_recycle=1800,
            # As long as a SQLite writer waits for its lock: under a burst, the writers of a
            # campaign queue for its lock holding their connections, and a page that needs
            # one waits its turn rather than failing.
            pool_timeout=BUSY_TIMEOUT_MS / 1000,
            hide_parameters=True,  # errors and logs never show names or contacts
        )

    synchronous = settings.sqlite_synchronous.upper()
    if url.database and url.database != ":memory:" and not url.database.startswith("file:"):
        keep_private(Path(url.database))
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
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _sqlite_begin(conn: Any) -> None:
        # A writer takes the write lock up front: a deferred transaction that
        # upgrades from read to write can fail with SQLITE_BUSY instead of waiting.
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        if mode == BEGUN_ON_DRIVER:
            if not conn.connection.dbapi_connection.in_transaction:
                raise RuntimeError("the driver's connection was to hold a transaction already")
            return
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


# Sessions that still hold a connection are closed on threads of their own. Closed on the
# request thread pool, they would queue behind the requests waiting there for a connection,
# which only those closes give back: under a burst every request would wait until it timed out.
_closing = ThreadPoolExecutor(max_workers=4, thread_name_prefix="pledge-session-close")


async def get_session(request: Request) -> AsyncIterator[Session]:
    """A session for the request. Opening one does no I/O, so this runs on the event loop
    instead of costing a trip through the thread pool; closing one that still holds a
    transaction (a rollback on the database) goes to a thread of ``_closing``. It is closed
    as soon as the route returns (``scope="function"``), not once its answer has been sent:
    under load a slow client would otherwise keep a pooled connection, and the requests
    behind it would wait for one until they failed."""
    session = Session(request.app.state.engine, expire_on_commit=False)
    try:
        yield session
    finally:
        if session.in_transaction():
            await asyncio.get_running_loop().run_in_executor(_closing, session.close)
        else:
            session.close()


SessionDep = Annotated[Session, Depends(get_session, scope="function")]


# SQLite has one writer at a time. The threads of one process queue for it here, in order,
# instead of each asking SQLite and sleeping in its busy handler (1, 2, 5, 10... ms) between
# tries: under load that sleeping, not the writing, would set the pace.
_sqlite_writer = threading.RLock()
# Set while the event loop's group commit waits for the write lock: the threads' writers (a
# confirmation, a withdrawal) then let it go first, for a moment, so that a stream of them
# never keeps a batch of signatures waiting until it times out.
_loop_waiting = threading.Event()
# How long a thread's writer steps aside for the loop at most.
YIELD_TO_LOOP_SECONDS = 0.05
# The largest row id: an INTEGER column on PostgreSQL. A larger number from an address or a form
# finds nothing, and must never reach the database, which would refuse it with an error.
ID_MAX = 2**31 - 1
WRITER_WAIT_SECONDS = BUSY_TIMEOUT_MS / 1000  # as long as SQLite's own busy timeout


@contextmanager
def _sqlite_write_turn() -> Iterator[None]:
    if _loop_waiting.is_set():
        stop = time.monotonic() + YIELD_TO_LOOP_SECONDS
        while _loop_waiting.is_set() and time.monotonic() < stop:
            time.sleep(LOCK_POLL_SECONDS)
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


# --- group commit ------------------------------------------------------------------------

Job = TypeVar("Job")
Result = TypeVar("Result")
# Writes a batch of jobs inside an open write transaction, one result per job, in order: an
# exception for a job refused, which its request raises.
BatchWriter = Callable[[Session, Sequence[Job]], Sequence[Result | Exception]]
# What makes a whole batch fail however it is cut: the database itself is not answering.
_WHOLE_BATCH_ERRORS: tuple[type[Exception], ...] = (
    sa.exc.OperationalError,
    sa.exc.InterfaceError,
    sa.exc.TimeoutError,
    sa.exc.DisconnectionError,
)
RETRIES = 3
# At most this many turns of the event loop a batch waits for more jobs while they keep coming.
# Under load a batch then holds about twice as many jobs: half the transactions, and fewer
# pages written per signature.
GATHER_TURNS = 3
# How often the event loop asks again for SQLite's write lock while another process holds it.
LOCK_POLL_SECONDS = 0.0005
# At most this long after a commit of the event loop's writer, a checkpoint flushes the WAL
# to disk and copies it back into the database file (a thread does it).
CHECKPOINT_SECONDS = 0.5
# A WAL longer than this (frames of a page each, 16 MB) is started over at the next checkpoint.
RESTART_FRAMES = 4096
# How long that restart waits for other writers and for readers of older pages.
CHECKPOINT_WAIT_MS = 50
# The pages the event loop's writer keeps (KiB; SQLite's default is 2,000 KiB). A batch adds
# each new supporter to indexes of random keys (the contact's digest, the private token, the
# invite code): on a campaign of a million supporters that is a different page of each index
# for every row. With 2 MB the inner pages of those indexes did not stay in memory and were
# read again from the file. Filled only as far as the database is large: a small one never
# uses it.
WRITER_CACHE_KIB = 16384


def write_batch(
    session: Session, jobs: Sequence[Job], write: BatchWriter[Job, Result]
) -> list[Result | Exception]:
    """The jobs written inside the session's open write transaction, each try in a savepoint.

    A unique key that another transaction took first fails the try; it is tried again, and
    the next try sees the other transaction's row. Any other failure of a batch of several is
    tried again job by job, so that only the job at fault fails. A database that does not
    answer fails them all: that error is raised.
    """
    failure: Exception | None = None
    for _attempt in range(RETRIES):
        try:
            with session.begin_nested():
                return list(write(session, jobs))
        except _WHOLE_BATCH_ERRORS:
            raise
        except sa.exc.IntegrityError as error:
            failure = error
        except Exception as error:
            failure = error
            break
    assert failure is not None
    if len(jobs) == 1:
        return [failure]
    return [result for job in jobs for result in write_batch(session, [job], write)]


def commit_batch(
    session: Session, jobs: Sequence[Job], write: BatchWriter[Job, Result]
) -> list[Result | Exception]:
    """The jobs written in one write transaction (``writing``) and committed once: a result
    or an exception per job, in order. Blocks while another writer holds the database; a
    transaction PostgreSQL rolled back to break a deadlock is written again.

    The batch is first written without a savepoint, which on PostgreSQL is two round trips
    and a subtransaction more: almost every batch commits at the first try. One that fails
    is rolled back whole and written again by ``write_batch``, each try in a savepoint."""
    failure: Exception | None = None
    in_savepoints = False
    attempts = 0
    while attempts < RETRIES:
        try:
            with writing(session):
                if in_savepoints:
                    return write_batch(session, jobs, write)
                return list(write(session, jobs))
        except _WHOLE_BATCH_ERRORS as error:
            session.rollback()
            failure, attempts = error, attempts + 1
            if not _start_over(error):
                break
        except Exception:
            if in_savepoints:
                raise
            in_savepoints = True  # a job was refused, or another writer took a key first
    assert failure is not None
    return [failure] * len(jobs)


def _start_over(error: Exception) -> bool:
    """PostgreSQL chose this transaction to roll back (a deadlock, a serialization failure):
    nothing of it was written, and the same transaction tried again succeeds."""
    return str(getattr(getattr(error, "orig", None), "sqlstate", "") or "").startswith("40")


_BUSY_CODES = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
_Batch = list[tuple[Job, "asyncio.Future[Result]"]]


def _settle(batch: _Batch[Job, Result], results: Sequence[Result | Exception]) -> None:
    """Each request of a written batch gets its job's result, or its exception."""
    for (_job, future), result in zip(batch, results, strict=True):
        if future.done():  # the request was cancelled; its job is written
            continue
        if isinstance(result, BaseException):
            future.set_exception(result)
        else:
            future.set_result(result)


class GroupCommit(Generic[Job, Result]):
    """Writes that requests queue on the event loop, committed together.

    While one batch is being written, the jobs that arrive wait for the next one: under load,
    many requests share one transaction and one commit, and the process takes the database's
    write lock once per batch instead of once per request. A request is answered only after
    the commit that holds its job, so nothing acknowledged can be lost.

    On SQLite the batches are written on the event loop itself, on a connection kept for
    them: a batch of a hundred signatures is a few milliseconds of local work, less than
    handing it to a thread would cost in lock traffic with the loop. The loop never waits for
    the write lock: while another process (or a thread of this one) holds it, the batch asks
    again every LOCK_POLL_SECONDS and the loop serves other requests meanwhile. That
    connection does not copy the WAL back into the database file at commit
    (``wal_autocheckpoint=0``, a disk flush); a thread does it every CHECKPOINT_SECONDS.
    On PostgreSQL, whose every statement is a network round trip, batches go to the thread
    pool, and the next batch is begun there as soon as one is committed, before that one's
    requests are answered.
    """

    def __init__(
        self,
        engine: Engine,
        write: BatchWriter[Job, Result],
        *,
        committed: Callable[[Sequence[Job]], None] | None = None,
        max_batch: int = 128,
    ) -> None:
        self.engine = engine
        self.write = write
        self.committed = committed
        self.max_batch = max_batch
        self.on_loop = engine.dialect.name == "sqlite"
        self.batches = 0  # written so far, for tests and the curious
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pending: list[tuple[Job, asyncio.Future[Result]]] = []
        self._draining: asyncio.Task[None] | None = None
        self._connection: sa.Connection | None = None  # SQLite's, on the loop
        self._kept: sa.Connection | None = None  # PostgreSQL's, between batches in a thread
        self._kept_lock = threading.Lock()  # taken by the thread, or by the loop at the end
        self._configured: object = None  # the DB-API connection the pragmas were set on
        self._checkpointed_at = 0.0
        self._checkpointing: asyncio.Task[None] | None = None
        self._uncheckpointed = False

    async def submit(self, job: Job) -> Result:
        """The job's result once its batch is committed; its exception if it failed."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            # A new event loop (a test's, or a restarted server's): nothing of the old one
            # can be waited for here.
            self._loop, self._pending, self._draining = loop, [], None
            self._checkpointing = None
        future: asyncio.Future[Result] = loop.create_future()
        self._pending.append((job, future))
        if self._draining is None:
            # A context of its own: the batch outlives the request that started it.
            self._draining = loop.create_task(
                self._drain(), name="group-commit", context=contextvars.Context()
            )
        return await future

    async def _drain(self) -> None:
        batch: _Batch[Job, Result] = []  # being written
        done: _Batch[Job, Result] = []  # written, its requests not answered yet
        writing: Awaitable[list[Result | Exception]] | None = None
        try:
            while self._pending or writing is not None:
                if writing is None:
                    await self._gather()
                    batch, writing = self._take()
                results = await writing
                done, batch, writing = batch, [], None
                self.batches += 1
                if self.committed is not None:
                    self.committed([job for job, _future in done])
                if self._pending and not self.on_loop:
                    # The thread writes the next batch while this one's requests are
                    # answered, instead of waiting for them.
                    batch, writing = self._take()
                _settle(done, results)
                done = []
                if self._pending and writing is None:
                    await asyncio.sleep(0)  # the requests that wait get a turn first
        except BaseException as error:
            # The loop is shutting down, or writing failed in a way no job caused: nobody
            # may be left waiting.
            for _job, future in [*done, *batch, *self._pending]:
                if future.done():
                    continue
                if isinstance(error, asyncio.CancelledError):
                    future.cancel()
                else:
                    future.set_exception(error)
            self._pending = []
            raise
        finally:
            self._draining = None
            kept = self._take_kept()
            if kept is not None:  # idle: its last batch was committed
                kept.close()

    def _take(self) -> tuple[_Batch[Job, Result], Awaitable[list[Result | Exception]]]:
        """The next batch, and its writing: begun at once in the thread pool, on the loop
        once awaited."""
        batch = self._pending[: self.max_batch]
        del self._pending[: self.max_batch]
        jobs = [job for job, _future in batch]
        if self.on_loop:
            return batch, self._write_on_loop(jobs)
        return batch, asyncio.ensure_future(anyio.to_thread.run_sync(self._write_in_thread, jobs))

    async def _gather(self) -> None:
        """Give the loop a few more turns while jobs keep arriving, before a batch is taken:
        the requests whose bodies came in meanwhile join this batch instead of waiting for the
        next one. A turn is the loop's pass over what is ready, a few dozen microseconds; a
        job alone waits for one turn."""
        for _turn in range(GATHER_TURNS):
            waiting = len(self._pending)
            if waiting >= self.max_batch:
                return
            await asyncio.sleep(0)
            if len(self._pending) == waiting:
                return

    def _write_in_thread(self, jobs: list[Job]) -> list[Result | Exception]:
        """The batch written on the connection the last one used, while batches follow one
        another: no pool checkout and no ping (a round trip) each time. Once no job waits, it
        goes back to the pool, and the next batch takes one the pool has checked."""
        conn = self._take_kept() or self.engine.connect()
        try:
            with Session(bind=conn, expire_on_commit=False) as session:
                results = commit_batch(session, jobs, self.write)
        except BaseException:
            conn.close()
            raise
        if self._pending and not conn.invalidated:
            self._kept = conn
        else:
            conn.close()
        return results

    def _take_kept(self) -> sa.Connection | None:
        with self._kept_lock:  # never the same connection for two
            kept, self._kept = self._kept, None
        return kept

    async def _write_on_loop(self, jobs: list[Job]) -> list[Result | Exception]:
        session = Session(bind=self._writer_connection(), expire_on_commit=False)
        try:
            deadline = time.monotonic() + WRITER_WAIT_SECONDS
            try:
                while not self._take_write_lock(session):
                    if not _loop_waiting.is_set():  # set once a wait: it takes a lock
                        _loop_waiting.set()
                    if time.monotonic() > deadline:
                        raise sa.exc.TimeoutError("waited too long for the database's write lock")
                    await asyncio.sleep(LOCK_POLL_SECONDS)
            finally:
                if _loop_waiting.is_set():
                    _loop_waiting.clear()
            try:
                results = write_batch(session, jobs, self.write)
                session.commit()
            except BaseException:
                session.rollback()
                raise
            finally:
                _sqlite_writer.release()
        except _WHOLE_BATCH_ERRORS as error:
            return [error] * len(jobs)
        finally:
            session.close()
        self._checkpoint_soon()
        return results

    def _take_write_lock(self, session: Session) -> bool:
        """This process's writer lock and SQLite's (BEGIN IMMEDIATE) without waiting for
        either: True when both are held, False when someone else has one of them. While
        another process writes, this is tried every LOCK_POLL_SECONDS: the BEGIN goes straight
        to the driver, whose refusal costs a few microseconds, where SQLAlchemy's transaction
        and the error it makes of a refusal cost some tens."""
        if not _sqlite_writer.acquire(blocking=False):
            return False
        assert self._connection is not None  # the session's, from _writer_connection
        dbapi = self._connection.connection.dbapi_connection
        assert dbapi is not None
        try:
            dbapi.execute("BEGIN IMMEDIATE")  # refused at once while the lock is taken
        except sqlite3.OperationalError as error:
            _sqlite_writer.release()
            if getattr(error, "sqlite_errorcode", None) in _BUSY_CODES:
                return False
            raise sa.exc.OperationalError("BEGIN IMMEDIATE", None, error) from error
        except BaseException:
            _sqlite_writer.release()
            raise
        try:
            session.connection()  # SQLAlchemy's transaction, on the one just begun
        except BaseException:
            dbapi.rollback()
            _sqlite_writer.release()
            raise
        return True

    def _writer_connection(self) -> sa.Connection:
        if self._connection is None or self._connection.invalidated or self._connection.closed:
            conn = self.engine.connect().execution_options(sqlite_begin=BEGUN_ON_DRIVER)
            # Out of the pool for good: with the pragmas below it must never serve anyone else.
            conn.detach()
            self._connection, self._configured = conn, None
        dbapi = self._connection.connection.dbapi_connection
        if dbapi is not self._configured:
            # Never wait in SQLite's busy handler (the loop would stop), never flush the WAL
            # at commit (a thread does it), and keep more pages than a pooled connection.
            assert dbapi is not None
            dbapi.execute("PRAGMA busy_timeout=0")
            dbapi.execute("PRAGMA wal_autocheckpoint=0")
            dbapi.execute(f"PRAGMA cache_size=-{WRITER_CACHE_KIB}")
            self._configured = dbapi
        return self._connection

    def _checkpoint_soon(self) -> None:
        """A checkpoint at most CHECKPOINT_SECONDS after this commit. It flushes the WAL to
        disk, so that with ``synchronous=NORMAL`` a power cut loses at most about that much,
        and it keeps the WAL short. One runs at a time; commits made while one waits are in
        it, and a commit made while one runs is followed by another."""
        self._uncheckpointed = True
        if self._checkpointing is None:
            self._checkpointing = asyncio.get_running_loop().create_task(
                self._checkpoints(), name="wal-checkpoint", context=contextvars.Context()
            )

    async def _checkpoints(self) -> None:
        try:
            while self._uncheckpointed:
                wait = CHECKPOINT_SECONDS - (time.monotonic() - self._checkpointed_at)
                if wait > 0:
                    await asyncio.sleep(wait)
                self._uncheckpointed = False
                self._checkpointed_at = time.monotonic()
                try:
                    await anyio.to_thread.run_sync(checkpoint, self.engine)
                except Exception as error:  # the next commit asks for another one
                    log.warning("WAL checkpoint failed: %s", error)
        finally:
            self._checkpointing = None


def checkpoint(engine: Engine) -> None:
    """Copy what the WAL holds back into the database file (PASSIVE: beside the writers,
    waiting for nobody).

    SQLite starts the WAL over only once all of it is copied, which a checkpoint beside
    writers that keep appending may never see: the WAL would grow without end. Once it is
    longer than RESTART_FRAMES, the checkpoint holds writers back while it copies the rest
    and starts the WAL over (RESTART): this process's by its writer lock, the others' by
    SQLite's. It waits at most CHECKPOINT_WAIT_MS for them and for readers of older pages,
    and else leaves the restart to the next checkpoint."""
    with engine.connect() as conn:
        _busy, frames, _copied = conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").one()
    if frames < RESTART_FRAMES:
        return
    with _sqlite_write_turn(), engine.connect() as conn:
        dbapi = conn.connection.dbapi_connection
        assert dbapi is not None
        dbapi.execute(f"PRAGMA busy_timeout={CHECKPOINT_WAIT_MS}")
        try:
            dbapi.execute("PRAGMA wal_checkpoint(RESTART)").fetchall()
        finally:
            dbapi.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")


def ping(engine: Engine) -> bool:
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except Exception:
        return False
    return True
