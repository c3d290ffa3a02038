"""On PostgreSQL, batches of signatures that give no places share their campaign's lock and
write side by side; whoever changes what the campaign's supporters are (a confirmation, a
review, a withdrawal) and a batch that gives places hold it alone."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from pledge.campaigns.models import CampaignView
from pledge.supporters.models import confirmation_table
from pledge.supporters.service import known
from pledge.supporters.service import signing as signing_service
from tests.support.forms import sign_form
from tests.support.signing import sign_by_email

pytestmark = pytest.mark.postgres_only  # SQLite has one writer: it takes no lock of its own

MakeCampaign = Callable[..., CampaignView]
NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
LOCK_NOT_AVAILABLE = "55P03"


def _jobs(view: CampaignView, *contacts: str) -> list[signing_service.PendingSigning]:
    return [signing_service.prepare(view, sign_form(contact=contact)) for contact in contacts]


def _held(conn: sa.Connection) -> list[str]:
    """The advisory locks this connection holds, by mode."""
    return list(
        conn.execute(
            sa.text(
                "SELECT mode FROM pg_locks WHERE locktype = 'advisory' "
                "AND pid = pg_backend_pid() AND granted"
            )
        ).scalars()
    )


def _impatient(conn: sa.Connection) -> sa.Connection:
    """The connection, which from now on gives up a lock it waited for 200 ms."""
    conn.exec_driver_sql("SET lock_timeout = '200ms'")
    conn.commit()
    return conn


def test_batches_that_give_no_places_write_side_by_side_and_exclude_the_campaigns_changes(
    engine: sa.Engine, make_campaign: MakeCampaign
) -> None:
    view = make_campaign()  # counts a signature once it is confirmed: places come then
    with engine.connect() as first, engine.connect() as second, engine.connect() as other:
        with first.begin():
            known.look_up(first, _jobs(view, "satu@example.com"), now=NOW)
            assert _held(first) == ["ShareLock"]
            with _impatient(second).begin():
                # Not held back by the first batch, which has not committed.
                known.look_up(second, _jobs(view, "dua@example.com"), now=NOW)
                assert _held(second) == ["ShareLock"]
            # A confirmation or a withdrawal waits for the batches.
            with pytest.raises(sa.exc.OperationalError) as waited, _impatient(other).begin():
                known.lock_campaign(other, view.id)
            assert waited.value.orig.sqlstate == LOCK_NOT_AVAILABLE  # type: ignore[union-attr]
        with other.begin():
            known.lock_campaign(other, view.id)
            assert _held(other) == ["ExclusiveLock"]
            # And a batch waits for it.
            with pytest.raises(sa.exc.OperationalError) as held_back, _impatient(second).begin():
                known.look_up(second, _jobs(view, "tiga@example.com"), now=NOW)
            assert held_back.value.orig.sqlstate == LOCK_NOT_AVAILABLE  # type: ignore[union-attr]


def test_a_batch_that_gives_places_holds_the_campaigns_lock_alone(
    engine: sa.Engine, make_campaign: MakeCampaign
) -> None:
    view = make_campaign(counts_unconfirmed=True)  # counted at once, each with a place
    with engine.connect() as first, engine.connect() as second:
        with first.begin():
            known.look_up(first, _jobs(view, "satu@example.com"), now=NOW)
            assert _held(first) == ["ExclusiveLock"]
            with pytest.raises(sa.exc.OperationalError) as waited, _impatient(second).begin():
                known.look_up(second, _jobs(view, "dua@example.com"), now=NOW)
            assert waited.value.orig.sqlstate == LOCK_NOT_AVAILABLE  # type: ignore[union-attr]
        with second.begin():
            known.look_up(second, _jobs(view, "dua@example.com"), now=NOW)
            assert _held(second) == ["ExclusiveLock"]


def test_each_campaign_of_a_batch_is_locked_as_its_own_signatures_need(
    engine: sa.Engine, make_campaign: MakeCampaign
) -> None:
    confirmed_first = make_campaign(slug="confirmed-first")
    at_once = make_campaign(slug="at-once", counts_unconfirmed=True)
    jobs = _jobs(confirmed_first, "satu@example.com") + _jobs(at_once, "dua@example.com")
    with engine.connect() as conn, conn.begin():
        known.look_up(conn, jobs, now=NOW)
        modes = conn.execute(
            sa.text(
                "SELECT objid, mode FROM pg_locks WHERE locktype = 'advisory' "
                "AND pid = pg_backend_pid() ORDER BY objid"
            )
        ).all()
    assert [tuple(row) for row in modes] == sorted(
        [(confirmed_first.id, "ShareLock"), (at_once.id, "ExclusiveLock")]
    )


def _message_again(conn: sa.Connection, supporter_id: int) -> None:
    """A second message to the supporter, as a batch that signed them again would add."""
    sent = (
        conn.execute(
            sa.select(confirmation_table).where(confirmation_table.c.supporter_id == supporter_id)
        )
        .mappings()
        .first()
    )
    assert sent is not None
    again = {**sent, "link_digest": "another-link"}
    del again["id"]
    conn.execute(sa.insert(confirmation_table), again)


def test_batches_side_by_side_that_meet_one_known_signer_read_each_others_messages(
    engine: sa.Engine, make_campaign: MakeCampaign
) -> None:
    """A signer may be messaged MESSAGES_PER_DAY times a day. Two batches that share the
    campaign's lock and both sign someone known must not each count the messages as they were
    before either: the second waits for the first's commit, then counts its message too."""
    view = make_campaign()
    with Session(engine) as session:
        sign_by_email(session, view, "satu@example.com")  # known, and messaged once today
    now = datetime.now(UTC)
    with engine.connect() as first, engine.connect() as second, engine.connect() as third:
        with first.begin():
            seen = known.look_up(first, _jobs(view, "satu@example.com"), now=now)
            (entry,) = seen[view.id].known.values()
            assert entry.messaged == 1
            with pytest.raises(sa.exc.OperationalError) as waited, _impatient(second).begin():
                known.look_up(second, _jobs(view, "satu@example.com"), now=now)
            assert waited.value.orig.sqlstate == LOCK_NOT_AVAILABLE  # type: ignore[union-attr]
            # Another signer of the campaign is not held back.
            with _impatient(third).begin():
                others = known.look_up(third, _jobs(view, "dua@example.com"), now=now)
                assert others[view.id].known == {}
            assert entry.id is not None
            _message_again(first, entry.id)
        with second.begin():
            after = known.look_up(second, _jobs(view, "satu@example.com"), now=now)
    (again,) = after[view.id].known.values()
    assert (again.id, again.messaged) == (entry.id, 2)
