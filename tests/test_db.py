"""The database layer's shared machinery: reads that concurrent requests share, and the WAL
kept short while signatures pour in."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from pledge import db
from pledge.campaigns.models import CampaignView
from pledge.sharedreads import SharedReads
from pledge.supporters import service as supporters
from tests.support.aio import run_async
from tests.support.forms import sign_form

MakeCampaign = Callable[..., CampaignView]


# --- shared reads ----------------------------------------------------------------------


def test_concurrent_reads_of_one_key_read_once_and_all_get_the_result() -> None:
    reads = SharedReads()
    calls: list[str] = []
    gate = threading.Event()

    def read(key: str) -> str:
        calls.append(key)
        gate.wait(60)
        return f"value of {key}"

    async def main() -> list[str]:
        waiting = [asyncio.ensure_future(reads.read("k", read, "k")) for _ in range(20)]
        await asyncio.sleep(0.05)
        gate.set()
        return await asyncio.gather(*waiting)

    assert run_async(main) == ["value of k"] * 20
    assert calls == ["k"]


def test_reads_of_other_keys_and_later_reads_are_their_own() -> None:
    reads = SharedReads()
    calls: list[str] = []

    def read(key: str) -> str:
        calls.append(key)
        return key.upper()

    async def main() -> list[str]:
        together = await asyncio.gather(reads.read("a", read, "a"), reads.read("b", read, "b"))
        later = await reads.read("a", read, "a")
        return [*together, later]

    assert run_async(main) == ["A", "B", "A"]
    assert sorted(calls) == ["a", "a", "b"]


def test_an_error_reaches_every_reader_and_the_next_read_tries_again() -> None:
    reads = SharedReads()
    attempts = []

    def read() -> str:
        attempts.append(1)
        if len(attempts) == 1:
            raise LookupError("not there yet")
        return "there"

    async def main() -> tuple[list[object], str]:
        first = await asyncio.gather(
            *(reads.read("k", read) for _ in range(3)), return_exceptions=True
        )
        return first, await reads.read("k", read)

    first, second = run_async(main)
    assert [type(e) for e in first] == [LookupError] * 3
    assert second == "there"


def test_a_reader_that_goes_away_does_not_cancel_the_read_for_the_others() -> None:
    reads = SharedReads()
    gate = threading.Event()

    def read() -> str:
        gate.wait(60)
        return "done"

    async def main() -> str:
        leaving = asyncio.ensure_future(reads.read("k", read))
        staying = asyncio.ensure_future(reads.read("k", read))
        await asyncio.sleep(0.02)
        leaving.cancel()
        gate.set()
        return await staying

    assert run_async(main) == "done"


# --- the WAL -----------------------------------------------------------------------------


def wal_size(engine: sa.Engine) -> int:
    database = engine.url.database
    assert database
    wal = Path(f"{database}-wal")
    return wal.stat().st_size if wal.exists() else 0


@pytest.mark.sqlite_only
def test_checkpoints_start_the_wal_over_while_signatures_keep_coming(
    engine: sa.Engine,
    make_campaign: MakeCampaign,
    session: Session,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A checkpoint after every batch, in its thread, while the next batches are written.
    monkeypatch.setattr(db, "CHECKPOINT_SECONDS", 0.0)
    monkeypatch.setattr(db, "RESTART_FRAMES", 64)
    view = make_campaign()
    session.commit()  # no reader holds older pages (and the view is not expired)
    queue = supporters.signing_queue(engine)
    sizes: list[int] = []

    async def sign_without_pause() -> None:
        for round_ in range(30):
            await asyncio.gather(
                *(
                    supporters.sign_soon(
                        queue, view=view, form=sign_form(contact=f"o{round_}-{n}@example.com")
                    )
                    for n in range(20)
                )
            )
            sizes.append(wal_size(engine))

    run_async(sign_without_pause)

    assert queue.batches >= 30
    # The WAL is started over again and again: it stays near the size of a few batches
    # instead of holding all 600 signatures.
    assert max(sizes[10:]) <= 3 * max(sizes[:10]), sizes


@pytest.mark.sqlite_only
def test_a_checkpoint_does_not_wait_for_a_reader_of_older_pages(
    engine: sa.Engine,
    make_campaign: MakeCampaign,
    session: Session,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(db, "RESTART_FRAMES", 1)
    view = make_campaign()
    supporters.sign(session, view=view, form=sign_form(contact="a@example.com"))
    with engine.connect() as reader:
        reader.exec_driver_sql("SELECT count(*) FROM supporter").scalar()  # holds a snapshot
        supporters.sign(session, view=view, form=sign_form(contact="b@example.com"))
        started = time.monotonic()
        db.checkpoint(engine)
        waited = time.monotonic() - started
        reader.rollback()

    # CHECKPOINT_WAIT_MS (50 ms) and the copying, not the 30 s of a writer's busy timeout; the
    # bound leaves room for a loaded machine's disk.
    assert waited < 10


@pytest.mark.sqlite_only
def test_every_commit_is_followed_by_a_checkpoint_that_flushes_it(
    engine: sa.Engine, make_campaign: MakeCampaign, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With synchronous=NORMAL, what a power cut may lose is what no checkpoint flushed yet."""
    monkeypatch.setattr(db, "CHECKPOINT_SECONDS", 0.05)
    real = db.checkpoint
    checkpoints: list[float] = []
    finished: list[float] = []
    commits: list[float] = []

    def timed(engine: sa.Engine) -> None:
        checkpoints.append(time.monotonic())
        time.sleep(0.1)  # a slow disk: the next commits arrive while it runs
        real(engine)
        finished.append(time.monotonic())

    def last_one_checkpointed() -> bool:
        done = bool(finished) and len(finished) == len(checkpoints)
        return done and checkpoints[-1] >= commits[-1]

    monkeypatch.setattr(db, "checkpoint", timed)
    view = make_campaign()
    queue = supporters.signing_queue(engine)
    queue.committed = lambda jobs: commits.append(time.monotonic())

    async def main() -> None:
        for n in range(8):
            await supporters.sign_soon(
                queue, view=view, form=sign_form(contact=f"o{n}@example.com")
            )
            await asyncio.sleep(0.005)
        # The last one's checkpoint, waited for with a deadline a loaded machine meets.
        deadline = time.monotonic() + 30
        while not last_one_checkpointed():
            assert time.monotonic() < deadline, "no checkpoint after the last commit"
            await asyncio.sleep(0.01)

    run_async(main)

    assert len(commits) == 8
    assert checkpoints and checkpoints[-1] >= commits[-1]
    # Every commit has a checkpoint that began after it, never more than one pending at once.
    assert all(any(c >= t for c in checkpoints) for t in commits)
    assert len(checkpoints) < len(commits)


# --- group commits ------------------------------------------------------------------------


def _recording_queue(engine: sa.Engine, sizes: list[int]) -> db.GroupCommit[int, int]:
    def write(_session: Session, jobs: Sequence[int]) -> list[int]:
        sizes.append(len(jobs))
        return [job * 2 for job in jobs]

    return db.GroupCommit(engine, write)


def test_a_batch_waits_a_few_turns_for_jobs_that_keep_arriving_and_no_longer(
    engine: sa.Engine,
) -> None:
    """Requests whose bodies arrive a moment after the first join its batch, so a loaded
    process writes fewer, larger transactions; a steady stream still gets its first batch
    written after a few turns of the loop."""
    sizes: list[int] = []
    queue = _recording_queue(engine, sizes)

    async def submit_after(job: int, turns: int) -> int:
        for _ in range(turns):
            await asyncio.sleep(0)
        return await queue.submit(job)

    async def one_a_turn() -> list[int]:
        return await asyncio.gather(*(submit_after(n, n) for n in range(12)))

    assert run_async(one_a_turn) == [n * 2 for n in range(12)]
    assert sum(sizes) == 12
    # Without waiting, the first job would be written alone; with it, the jobs of the next
    # turns join, and only as many as GATHER_TURNS turns bring.
    assert 3 <= sizes[0] <= db.GATHER_TURNS + 2
    assert len(sizes) >= 2


def test_a_job_alone_is_written_at_once(engine: sa.Engine) -> None:
    sizes: list[int] = []
    queue = _recording_queue(engine, sizes)

    async def alone() -> tuple[int, float]:
        started = time.monotonic()
        result = await queue.submit(21)
        return result, time.monotonic() - started

    result, took = run_async(alone)
    assert (result, sizes) == (42, [1])
    assert took < 5


@pytest.mark.postgres_only
def test_batches_that_follow_one_another_keep_their_connection_and_give_it_back_once_idle(
    engine: sa.Engine,
) -> None:
    """On PostgreSQL the batches are written in a thread. While jobs wait, the next batch is
    written on the connection the last one used, without a checkout from the pool (and its
    ping, a round trip); once none waits, the pool has it back."""
    checkouts: list[object] = []
    used: list[object] = []

    def write(session: Session, jobs: Sequence[int]) -> list[int]:
        used.append(session.connection().connection.dbapi_connection)
        return [job * 2 for job in jobs]

    def checked_out(dbapi_connection: object, *_args: object) -> None:
        checkouts.append(dbapi_connection)

    queue = db.GroupCommit(engine, write, max_batch=2)

    async def burst() -> list[int]:
        return await asyncio.gather(*(queue.submit(n) for n in range(10)))

    sa.event.listen(engine, "checkout", checked_out)
    try:
        assert run_async(burst) == [n * 2 for n in range(10)]
    finally:
        sa.event.remove(engine, "checkout", checked_out)
    assert queue.batches == 5
    assert len(checkouts) == 1
    assert all(connection is checkouts[0] for connection in used)
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
