"""Signatures written in group commits: many signatures in one transaction, each counted
exactly as if it had been written alone."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from pledge import db
from pledge.campaigns.models import CampaignView
from pledge.supporters import service as supporters
from pledge.supporters.models import Signing, SignOutcome, Supporter, Tally
from pledge.supporters.service import signing as signing_service
from pledge.supporters.service.signing import Written
from tests.support.aio import run_async
from tests.support.exchanges import round_trips
from tests.support.forms import sign_form
from tests.support.signing import confirm_signing

MakeCampaign = Callable[..., CampaignView]
P1, P2, P3 = "tolak-politik-uang", "gunakan-hak-pilih", "lawan-hoaks"


def run_together(
    queue: db.GroupCommit[Any, Any], view: CampaignView, forms: Sequence[Any]
) -> list[Any]:
    """Sign every form at once on one event loop, as concurrent requests do; each result is
    a Signing or the exception its signer got."""

    async def main() -> list[Any]:
        return await asyncio.gather(
            *(supporters.sign_soon(queue, view=view, form=form) for form in forms),
            return_exceptions=True,
        )

    return run_async(main)


def stored(session: Session, view: CampaignView) -> tuple[int, dict[str, int]]:
    session.rollback()  # what is committed now, not an older snapshot
    supporters_n = session.execute(
        sa.select(sa.func.count()).where(Supporter.__table__.c.campaign_id == view.id)  # type: ignore[attr-defined]
    ).scalar_one()
    tally_t = Tally.__table__  # type: ignore[attr-defined]
    rows = session.execute(
        sa.select(tally_t.c.key, sa.func.sum(tally_t.c.value))
        .where(tally_t.c.campaign_id == view.id)
        .group_by(tally_t.c.key)
    ).all()
    return supporters_n, {key: int(value) for key, value in rows}


def confirm_each(session: Session, done: Sequence[Signing | Written], jobs: Sequence[Any]) -> None:
    """Every signer confirms the signing they made, in order (``jobs``: what each signed,
    a PendingSigning, when ``done`` are the batch's raw results)."""
    for n, result in enumerate(done):
        if isinstance(result, Signing):
            confirm_signing(session, result)
        else:
            session.rollback()
            supporters.confirm(session, link_digest=jobs[n].ticket.link_digest)


def counted(tallies: dict[str, int]) -> dict[str, int]:
    """The counters that are not zero: a recount names no key it finds nothing for."""
    return {key: value for key, value in tallies.items() if value}


def test_signatures_that_arrive_together_share_a_transaction_and_are_each_counted(
    engine: sa.Engine, make_campaign: MakeCampaign, session: Session
) -> None:
    view = make_campaign()
    queue = supporters.signing_queue(engine)
    forms = [sign_form(contact=f"orang{n}@example.com", pledges=(P1, P3)) for n in range(60)]

    results = run_together(queue, view, forms)

    assert all(isinstance(r, Signing) and r.outcome == SignOutcome.NEW for r in results)
    assert queue.batches < 10  # not one transaction each
    assert len({r.supporter.token for r in results}) == 60
    assert stored(session, view) == (60, {"pending": 60})  # each waits for its confirmation
    assert supporters.true_counts(session, campaign_id=view.id) == {"total": 0, "pending": 60}

    confirm_each(session, results, forms)

    assert stored(session, view) == (
        60,
        {
            "pending": 0,
            "total": 60,
            f"pledge:{view.pledge_by_slug(P1).id}": 60,
            f"pledge:{view.pledge_by_slug(P3).id}": 60,
        },  # type: ignore[union-attr]
    )
    assert supporters.true_counts(session, campaign_id=view.id) == counted(stored(session, view)[1])


def test_one_person_twice_in_one_batch_is_one_supporter_with_both_choices(
    engine: sa.Engine, make_campaign: MakeCampaign, session: Session
) -> None:
    view = make_campaign()
    queue = supporters.signing_queue(engine)
    forms = [
        sign_form(contact="0812 3456 7890", pledges=(P1,)),
        sign_form(contact="+62 812-3456-7890", pledges=(P1, P2)),
        sign_form(contact="+6281234567890", pledges=(P2,)),
    ]

    first, second, third = run_together(queue, view, forms)

    assert queue.batches == 1
    # The person is still pending when the second and third signings are written, so each
    # of them carries the pledges it ticked to its own confirmation.
    assert (first.outcome, second.outcome, third.outcome) == (
        SignOutcome.NEW,
        SignOutcome.ADDED,
        SignOutcome.ADDED,
    )
    assert first.supporter.token == second.supporter.token == third.supporter.token
    assert stored(session, view) == (1, {"pending": 1})
    confirmations = [confirm_signing(session, s) for s in (first, second, third)]
    assert [c.outcome for c in confirmations] == [
        SignOutcome.NEW,
        SignOutcome.ADDED,
        SignOutcome.UNCHANGED,
    ]
    assert [c.added for c in confirmations] == [
        (view.pledge_by_slug(P1).id,),  # type: ignore[union-attr]
        (view.pledge_by_slug(P2).id,),  # type: ignore[union-attr]
        (),
    ]
    total, tallies = stored(session, view)
    assert total == 1
    assert tallies["total"] == 1
    assert tallies[f"pledge:{view.pledge_by_slug(P1).id}"] == 1  # type: ignore[union-attr]
    assert tallies[f"pledge:{view.pledge_by_slug(P2).id}"] == 1  # type: ignore[union-attr]


@pytest.mark.parametrize("at_once", [False, True], ids=["on-confirmation", "counted-at-once"])
def test_a_batch_numbers_its_new_supporters_after_those_already_stored(
    engine: sa.Engine, make_campaign: MakeCampaign, session: Session, at_once: bool
) -> None:
    """A place is given when a signature is counted: on its confirmation, or by the batch
    itself where the campaign counts signatures before they are confirmed."""
    view = make_campaign(counts_unconfirmed=at_once)
    first = supporters.sign(session, view=view, form=sign_form(contact="pertama@example.com"))
    if not at_once:
        confirm_signing(session, first)
    queue = supporters.signing_queue(engine)

    forms = [sign_form(contact=f"orang{n}@example.com") for n in range(5)]
    results = run_together(queue, view, forms)
    if not at_once:
        confirm_each(session, results, forms)

    session.rollback()
    numbers = (
        session.execute(
            sa.select(Supporter.__table__.c.number)  # type: ignore[attr-defined]
            .where(Supporter.__table__.c.campaign_id == view.id)  # type: ignore[attr-defined]
            .order_by(Supporter.__table__.c.number)  # type: ignore[attr-defined]
        )
        .scalars()
        .all()
    )
    assert numbers == [1, 2, 3, 4, 5, 6]


def test_signatures_of_two_campaigns_in_one_batch_count_for_their_own(
    engine: sa.Engine, make_campaign: MakeCampaign, session: Session
) -> None:
    one, other = make_campaign(), make_campaign()
    queue = supporters.signing_queue(engine)

    async def main() -> list[Signing]:
        return await asyncio.gather(
            supporters.sign_soon(queue, view=one, form=sign_form(contact="a@example.com")),
            supporters.sign_soon(queue, view=other, form=sign_form(contact="a@example.com")),
            supporters.sign_soon(queue, view=other, form=sign_form(contact="b@example.com")),
        )

    results = run_async(main)

    assert queue.batches == 1
    assert [r.outcome for r in results] == [SignOutcome.NEW] * 3  # one person, two campaigns
    assert stored(session, one)[0] == 1
    assert stored(session, other)[0] == 2


def test_a_signature_that_fails_fails_alone_and_the_rest_of_its_batch_is_kept(
    engine: sa.Engine,
    make_campaign: MakeCampaign,
    session: Session,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    view = make_campaign()
    real = signing_service._write_signings

    def write(session: Session, jobs: Sequence[supporters.PendingSigning]) -> list[Any]:
        if any(job.clean.display_name == "Boom" for job in jobs):
            raise ValueError("a bug that one signature sets off")
        return real(session, jobs)

    queue = db.GroupCommit(engine, write, committed=signing_service._counts_changed)
    forms = [
        sign_form(contact="satu@example.com"),
        sign_form(contact="dua@example.com", name="Boom"),
        sign_form(contact="tiga@example.com"),
    ]

    first, failed, third = run_together(queue, view, forms)

    assert isinstance(failed, ValueError)
    assert first.outcome == third.outcome == SignOutcome.NEW
    assert stored(session, view) == (2, {"pending": 2})
    confirm_each(session, [first, third], forms)
    assert stored(session, view)[0] == 2
    assert stored(session, view)[1]["total"] == 2


def test_a_batch_takes_a_savepoint_only_once_one_of_its_jobs_has_failed(
    engine: sa.Engine, make_campaign: MakeCampaign, session: Session
) -> None:
    """Almost every batch commits at its first try, which takes no savepoint (on PostgreSQL,
    two round trips and a subtransaction). A batch whose first try fails is rolled back
    whole and written again, each try in a savepoint, so that only the job at fault fails."""
    view = make_campaign()
    real = signing_service._write_signings
    tries: list[int] = []
    savepoints: list[str] = []

    def write(session: Session, jobs: Sequence[supporters.PendingSigning]) -> list[Any]:
        tries.append(len(jobs))
        written = real(session, jobs)
        if any(job.clean.display_name == "Boom" for job in jobs):
            raise ValueError("a bug that one signature sets off, once it is written")
        return written

    def savepoint(_conn: sa.Connection, name: str) -> None:
        savepoints.append(name)

    def prepared(*names: str) -> list[supporters.PendingSigning]:
        return [
            signing_service.prepare(
                view, sign_form(contact=f"{name.lower()}@example.com", name=name)
            )
            for name in names
        ]

    sa.event.listen(engine, "savepoint", savepoint)
    try:
        calm = db.commit_batch(session, prepared("Satu", "Dua", "Tiga"), write)
        assert (tries, savepoints) == ([3], [])
        tries.clear()
        first, failed, third = db.commit_batch(session, prepared("Empat", "Boom", "Lima"), write)
    finally:
        sa.event.remove(engine, "savepoint", savepoint)

    assert all(isinstance(r, Written) and r.outcome == SignOutcome.NEW for r in calm)
    # The first try, the whole batch in a savepoint, then each job in one of its own.
    assert tries == [3, 3, 1, 1, 1]
    assert len(savepoints) == 4
    assert isinstance(failed, ValueError)
    assert first.outcome == third.outcome == SignOutcome.NEW
    assert stored(session, view) == (5, {"pending": 5})


@pytest.mark.postgres_only  # SQLite is a file of this process: no round trips
def test_a_batch_of_new_signers_is_five_round_trips_to_postgresql_whatever_its_size(
    engine: sa.Engine, make_campaign: MakeCampaign, session: Session
) -> None:
    """Under load a round trip costs the writer's thread more than its statement does (it
    waits for the server, then for the interpreter): BEGIN; the campaign's lock with the
    look-up of its signers; the new supporters; their confirmations, emails and counters
    together; COMMIT."""
    view = make_campaign()
    for size in (1, 3, 40):
        jobs = [
            signing_service.prepare(view, sign_form(contact=f"s{size}n{n}@example.com"))
            for n in range(size)
        ]
        with (
            engine.connect() as conn,
            round_trips(conn) as exchanged,
            Session(bind=conn, expire_on_commit=False) as batch,
        ):
            results = db.commit_batch(batch, jobs, signing_service._write_signings)
        assert all(isinstance(r, Written) and r.outcome == SignOutcome.NEW for r in results)
        assert exchanged == [5], size
    assert stored(session, view) == (44, {"pending": 44})


def test_a_database_that_fails_the_commit_fails_every_signature_of_the_batch(
    engine: sa.Engine, make_campaign: MakeCampaign, session: Session
) -> None:
    view = make_campaign()
    real = signing_service._write_signings

    def write(session: Session, jobs: Sequence[supporters.PendingSigning]) -> list[Any]:
        real(session, jobs)
        raise sa.exc.OperationalError("COMMIT", {}, Exception("disk I/O error"))

    queue = db.GroupCommit(engine, write)
    results = run_together(queue, view, [sign_form(contact=f"o{n}@example.com") for n in range(4)])

    assert all(isinstance(r, sa.exc.OperationalError) for r in results)
    assert stored(session, view) == (0, {})  # nothing half-written


class Deadlock(Exception):
    sqlstate = "40P01"  # what PostgreSQL's driver reports when it broke a deadlock


def test_a_batch_the_database_rolled_back_to_break_a_deadlock_is_written_again(
    engine: sa.Engine, make_campaign: MakeCampaign, session: Session
) -> None:
    view = make_campaign()
    real = signing_service._write_signings
    tries = []

    def write(session: Session, jobs: Sequence[supporters.PendingSigning]) -> list[Any]:
        tries.append(len(jobs))
        written = real(session, jobs)
        if len(tries) == 1:
            raise sa.exc.OperationalError("INSERT", {}, Deadlock("deadlock detected"))
        return written

    jobs = [signing_service.prepare(view, sign_form(contact=f"o{n}@example.com")) for n in range(4)]
    results = db.commit_batch(session, jobs, write)

    assert tries == [4, 4]  # the whole batch, twice
    assert all(isinstance(r, Written) and r.outcome == SignOutcome.NEW for r in results)
    assert stored(session, view) == (4, {"pending": 4})
    confirm_each(session, results, jobs)
    assert stored(session, view)[0] == 4
    assert stored(session, view)[1]["total"] == 4


def test_a_database_that_keeps_choosing_the_batch_fails_it_after_a_few_tries(
    engine: sa.Engine, make_campaign: MakeCampaign, session: Session
) -> None:
    view = make_campaign()
    tries = []

    def write(session: Session, jobs: Sequence[supporters.PendingSigning]) -> list[Any]:
        tries.append(len(jobs))
        raise sa.exc.OperationalError("INSERT", {}, Deadlock("deadlock detected"))

    jobs = [signing_service.prepare(view, sign_form(contact=f"o{n}@example.com")) for n in range(3)]
    results = db.commit_batch(session, jobs, write)

    assert tries == [3] * db.RETRIES
    assert all(isinstance(r, sa.exc.OperationalError) for r in results)
    assert stored(session, view) == (0, {})


def test_writers_of_one_campaign_at_once_give_each_signer_one_place_and_never_fail(
    engine: sa.Engine, make_campaign: MakeCampaign, session: Session
) -> None:
    """Two processes' batches at the same moment, as behind several servers on PostgreSQL:
    batches that meet the same new signers in opposite orders, and batches of different
    signers that both ask for the next places; then the signers' confirmations, two at a
    time in the same way, which is when the places are given."""
    view = make_campaign()
    rounds, people = 6, 40
    failures: list[Any] = []

    def batch(r: int, who: range) -> list[Any]:
        # Each request prepares its own signing, with its own confirmation's secrets.
        return [
            signing_service.prepare(view, sign_form(contact=f"r{r}p{n}@example.com")) for n in who
        ]

    def confirm_all(own: Session, jobs: list[Any]) -> list[Any]:
        done: list[Any] = []
        for job in jobs:
            try:
                done.append(supporters.confirm(own, link_digest=job.ticket.link_digest))
            except Exception as error:  # every failure is reported below
                done.append(error)
        return done

    for r in range(rounds):
        if r % 2:
            pair = (batch(r, range(people // 2)), batch(r, range(people // 2, people)))
        else:
            pair = (batch(r, range(people)), batch(r, range(people))[::-1])
        for step in (signing_service.commit_signings, confirm_all):
            start = threading.Barrier(2)

            def write(jobs: list[Any], start: threading.Barrier = start, step: Any = step) -> None:
                with Session(engine, expire_on_commit=False) as own:
                    start.wait()
                    results = step(own, jobs)
                failures.extend(r for r in results if isinstance(r, Exception))

            threads = [threading.Thread(target=write, args=(jobs,)) for jobs in pair]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(60)

    assert failures == []
    session.rollback()
    numbers = (
        session.execute(
            sa.select(Supporter.__table__.c.number)  # type: ignore[attr-defined]
            .where(Supporter.__table__.c.campaign_id == view.id)  # type: ignore[attr-defined]
            .order_by(Supporter.__table__.c.number)  # type: ignore[attr-defined]
        )
        .scalars()
        .all()
    )
    assert numbers == list(range(1, rounds * people + 1))  # one place each, none given twice
    assert stored(session, view)[0] == rounds * people
    assert stored(session, view)[1]["total"] == rounds * people
    assert stored(session, view)[1]["pending"] == 0


def test_a_signer_who_goes_away_is_still_counted(
    engine: sa.Engine, make_campaign: MakeCampaign, session: Session
) -> None:
    view = make_campaign()
    queue = supporters.signing_queue(engine)

    async def main() -> None:
        leaving = asyncio.ensure_future(
            supporters.sign_soon(queue, view=view, form=sign_form(contact="pergi@example.com"))
        )
        staying = asyncio.ensure_future(
            supporters.sign_soon(queue, view=view, form=sign_form(contact="tinggal@example.com"))
        )
        await asyncio.sleep(0)  # both are queued
        leaving.cancel()
        await staying

    run_async(main)

    assert stored(session, view)[0] == 2


@pytest.mark.sqlite_only
def test_while_another_writer_holds_the_database_the_event_loop_keeps_serving(
    engine: sa.Engine, make_campaign: MakeCampaign, session: Session
) -> None:
    view = make_campaign()
    queue = supporters.signing_queue(engine)
    held, release = threading.Event(), threading.Event()

    def other_writer() -> None:
        # Another process's writer, as SQLite sees it: a connection holding the write lock.
        with engine.connect() as conn:
            conn.execution_options(sqlite_begin="IMMEDIATE").begin()
            held.set()
            release.wait(60)
            conn.rollback()

    thread = threading.Thread(target=other_writer)
    thread.start()
    assert held.wait(60)

    async def main() -> tuple[Signing, int]:
        signing = asyncio.ensure_future(
            supporters.sign_soon(queue, view=view, form=sign_form(contact="sabar@example.com"))
        )
        ticks = 0
        for _ in range(20):  # the loop turns while the signature waits for the lock
            await asyncio.sleep(0.01)
            ticks += 1
        assert not signing.done()
        release.set()
        return await asyncio.wait_for(signing, 60), ticks

    signing, ticks = run_async(main)
    thread.join(60)

    assert ticks == 20
    assert signing.outcome == SignOutcome.NEW
    assert stored(session, view)[0] == 1


@pytest.mark.sqlite_only
def test_a_write_lock_held_too_long_fails_the_batch_instead_of_waiting_for_ever(
    engine: sa.Engine,
    make_campaign: MakeCampaign,
    session: Session,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    view = make_campaign()
    monkeypatch.setattr(db, "WRITER_WAIT_SECONDS", 0.2)
    queue = supporters.signing_queue(engine)
    with engine.connect() as conn:
        conn.execution_options(sqlite_begin="IMMEDIATE").begin()
        started = time.monotonic()
        (result,) = run_together(queue, view, [sign_form(contact="lama@example.com")])
        waited = time.monotonic() - started
        conn.rollback()

    assert isinstance(result, sa.exc.TimeoutError)
    assert 0.2 <= waited < 15  # its own wait, well short of SQLite's busy timeout (30 s)
    assert stored(session, view)[0] == 0


def _writer_of(queue: db.GroupCommit[Any, Any]) -> Any:
    """The DB-API connection SQLite's batches are written on, once one was written."""
    assert queue._connection is not None
    writer = queue._connection.connection.dbapi_connection
    assert writer is not None
    return writer


@pytest.mark.sqlite_only
def test_the_writers_own_connection_settings_stay_off_the_pool(
    engine: sa.Engine, make_campaign: MakeCampaign
) -> None:
    view = make_campaign()
    queue = supporters.signing_queue(engine)
    run_together(queue, view, [sign_form(contact="x@example.com")])

    # The writer's own: no busy wait, no checkpoint at commit, a larger page cache.
    writer = _writer_of(queue)
    assert [
        writer.execute(f"PRAGMA {name}").fetchone()[0]
        for name in ("busy_timeout", "wal_autocheckpoint", "cache_size")
    ] == [0, 0, -db.WRITER_CACHE_KIB]
    # Every pooled connection still waits for a busy database, checkpoints by itself, and
    # keeps SQLite's default cache.
    conns = [engine.connect() for _ in range(3)]
    try:
        for conn in conns:
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == db.BUSY_TIMEOUT_MS
            assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 1000
            assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == -2000
    finally:
        for conn in conns:
            conn.close()


@pytest.mark.sqlite_only
def test_a_write_lock_refused_for_another_reason_than_busy_fails_the_batch_and_frees_the_writer(
    engine: sa.Engine, make_campaign: MakeCampaign, session: Session
) -> None:
    """SQLite refusing BEGIN IMMEDIATE for a reason other than another writer (here a
    database it may not write) is no reason to ask again: the batch fails at once with
    SQLAlchemy's error, and the process's writer lock is free for the next batch."""
    view = make_campaign()
    queue = supporters.signing_queue(engine)
    run_together(queue, view, [sign_form(contact="satu@example.com")])
    writer = _writer_of(queue)
    writer.execute("PRAGMA query_only=ON")  # BEGIN IMMEDIATE: SQLITE_READONLY, not busy
    started = time.monotonic()
    (refused,) = run_together(queue, view, [sign_form(contact="dua@example.com")])
    waited = time.monotonic() - started

    assert isinstance(refused, sa.exc.OperationalError)
    assert "readonly" in str(refused.orig)
    assert waited < db.WRITER_WAIT_SECONDS  # not asked again until the deadline
    assert db._sqlite_writer.acquire(blocking=False)
    db._sqlite_writer.release()

    writer.execute("PRAGMA query_only=OFF")
    (signed,) = run_together(queue, view, [sign_form(contact="tiga@example.com")])
    assert isinstance(signed, Signing), signed
    assert stored(session, view)[0] == 2
