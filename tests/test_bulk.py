"""Rows added in one statement: an insert of a JSON array of rows on PostgreSQL, the driver's
own executemany on SQLite, with the same rows stored either way."""

from __future__ import annotations

import contextlib
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from pledge import bulk
from pledge.campaigns.models import CampaignView
from pledge.mail import outbox_message_table
from pledge.supporters.models import SupporterState, supporter_table
from tests.support.exchanges import round_trips

MakeCampaign = Callable[..., CampaignView]
AWKWARD = 'tab\there, new\nline, back\\slash, "quotes", \\N, émoji 🗳️, and a comma,'


def _outbox(n: int, **extra: Any) -> dict[str, Any]:
    return {
        "channel": "email",
        "to": f"person{n}@example.com",
        "subject": f"{AWKWARD} {n}",
        "body": "" if n % 2 else AWKWARD * 20,
        "created_at": datetime(2026, 12, 7, 9, 30, n, 123456, tzinfo=UTC),
        "attempts": n,
        **extra,
    }


def _rows_by_call(monkeypatch: pytest.MonkeyPatch, path: str) -> list[int]:
    """How many rows went through ``bulk``'s function of that name, call by call."""
    seen: list[int] = []
    real = getattr(bulk, path)

    def counted(conn: sa.Connection, table: sa.Table, names: Any, rows: Any, *more: Any) -> Any:
        seen.append(len(rows))
        return real(conn, table, names, rows, *more)

    monkeypatch.setattr(bulk, path, counted)
    return seen


@pytest.fixture
def copies(engine: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many rows went in as one JSON array (PostgreSQL), call by call."""
    return _rows_by_call(monkeypatch, "_insert_json")


@pytest.fixture
def on_driver(engine: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many rows went straight to SQLite's driver, call by call."""
    return _rows_by_call(monkeypatch, "_insert_on_sqlite")


def test_rows_are_stored_as_an_insert_stores_them_whatever_they_hold(
    engine: sa.Engine, session: Session, copies: list[int]
) -> None:
    rows = [_outbox(n) for n in range(5)]
    with engine.begin() as conn:
        bulk.insert_rows(conn, outbox_message_table, rows)

    table = outbox_message_table
    stored = session.execute(
        sa.select(
            table.c.to, table.c.subject, table.c.body, table.c.created_at, table.c.attempts
        ).order_by(table.c.id)
    ).all()
    assert [tuple(row) for row in stored] == [
        (
            f"person{n}@example.com",
            f"{AWKWARD} {n}",
            "" if n % 2 else AWKWARD * 20,
            datetime(2026, 12, 7, 9, 30, n, 123456, tzinfo=UTC),
            n,
        )
        for n in range(5)
    ]
    assert copies == ([5] if engine.dialect.name == "postgresql" else [])


def test_an_enum_a_flag_and_empty_values_are_stored_as_their_columns_take_them(
    engine: sa.Engine, session: Session, make_campaign: MakeCampaign, copies: list[int]
) -> None:
    campaign = make_campaign()
    now = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    rows = [
        {
            "campaign_id": campaign.id,
            "contact_digest": f"{n:064x}",
            "token": f"token-{n}",
            "display_name": AWKWARD[:80],
            "province": "ID-JK",
            "age_band": None,
            "show_name": n == 0,
            "invite_code": f"inv{n}",
            "number": n,
            "locale": "id",
            "created_at": now,
            "state": SupporterState.COUNTED if n == 0 else SupporterState.SUSPECT,
        }
        for n in range(2)
    ]
    with engine.begin() as conn:
        bulk.insert_rows(conn, supporter_table, rows)

    session.commit()  # a snapshot taken when the campaign was made ends
    stored = session.execute(
        sa.select(
            supporter_table.c.display_name,
            supporter_table.c.age_band,
            supporter_table.c.show_name,
            supporter_table.c.state,
            supporter_table.c.created_at,
        ).order_by(supporter_table.c.number)
    ).all()
    assert [tuple(row) for row in stored] == [
        (AWKWARD[:80], None, True, SupporterState.COUNTED, now),
        (AWKWARD[:80], None, False, SupporterState.SUSPECT, now),
    ]
    # Stored as the enum's value, as every other query of the column reads it.
    raw = session.execute(sa.text("SELECT state FROM supporter ORDER BY number")).scalars()
    assert list(raw) == ["counted", "suspect"]
    assert copies == ([2] if engine.dialect.name == "postgresql" else [])


def test_a_single_row_and_a_row_without_its_defaults_are_inserted_and_get_them(
    engine: sa.Engine, session: Session, copies: list[int]
) -> None:
    lacking = [{"to": f"d{n}@example.com", "subject": "s", "body": "b"} for n in range(3)]
    with engine.begin() as conn:
        bulk.insert_rows(conn, outbox_message_table, [_outbox(1)])
        bulk.insert_rows(conn, outbox_message_table, lacking)
        bulk.insert_rows(conn, outbox_message_table, [])

    table = outbox_message_table
    stored = session.execute(
        sa.select(table.c.to, table.c.channel, table.c.attempts, table.c.created_at).order_by(
            table.c.id
        )
    ).all()
    assert [row.to for row in stored] == ["person1@example.com"] + [
        f"d{n}@example.com" for n in range(3)
    ]
    assert all(row.channel == "email" and row.created_at is not None for row in stored[1:])
    assert [row.attempts for row in stored] == [1, 0, 0, 0]
    assert copies == []  # one row, then rows the defaults must be filled in for


def test_a_row_the_database_refuses_raises_sqlalchemys_error_and_leaves_nothing_of_the_batch(
    engine: sa.Engine, session: Session
) -> None:
    with engine.begin() as conn:
        bulk.insert_rows(conn, outbox_message_table, [_outbox(0, id=1), _outbox(1, id=2)])

    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn, conn.begin_nested():
        bulk.insert_rows(
            conn, outbox_message_table, [_outbox(2, id=3), _outbox(3, id=2), _outbox(4, id=4)]
        )

    with engine.begin() as conn:
        savepoint = conn.begin_nested()
        with pytest.raises(sa.exc.IntegrityError):
            bulk.insert_rows(conn, outbox_message_table, [_outbox(5, id=5), _outbox(6, id=1)])
        savepoint.rollback()
        # The transaction goes on after its savepoint is rolled back, as write_batch needs.
        bulk.insert_rows(conn, outbox_message_table, [_outbox(7, id=7), _outbox(8, id=8)])

    ids = (
        session.execute(sa.select(outbox_message_table.c.id).order_by(outbox_message_table.c.id))
        .scalars()
        .all()
    )
    assert ids == [1, 2, 7, 8]


@pytest.mark.postgres_only  # SQLite takes a longer string; PostgreSQL refuses it
def test_an_error_tells_what_was_refused_but_never_what_the_row_held(engine: sa.Engine) -> None:
    secret = "Siti Rahasia " * 30  # longer than the column takes
    with pytest.raises(sa.exc.DataError) as refused, engine.begin() as conn:
        bulk.insert_rows(conn, outbox_message_table, [_outbox(0), _outbox(1, subject=secret)])
    told = str(refused.value)
    assert "value too long for type character varying(200)" in told and "Siti" not in told
    assert "Siti" not in "".join(traceback.format_exception(refused.value))
    assert refused.value.orig.sqlstate == "22001"  # string data right truncation

    with engine.begin() as conn:
        bulk.insert_rows(conn, outbox_message_table, [_outbox(0, id=9), _outbox(1, id=10)])
    with pytest.raises(sa.exc.IntegrityError) as again, engine.begin() as conn:
        bulk.insert_rows(conn, outbox_message_table, [_outbox(2, id=11), _outbox(3, id=9)])
    assert "pk_outbox_message" in str(again.value) and "(id)=(9)" not in str(again.value)


def test_the_columns_asked_for_come_back_for_every_row_inserted(
    engine: sa.Engine, session: Session, copies: list[int]
) -> None:
    with engine.begin() as conn:
        many = bulk.insert_rows(
            conn, outbox_message_table, [_outbox(n) for n in range(4)], returning=("id", "to")
        )
        one = bulk.insert_rows(conn, outbox_message_table, [_outbox(9)], returning=("id", "to"))
        nothing = bulk.insert_rows(conn, outbox_message_table, [], returning=("id",))

    table = outbox_message_table
    stored = session.execute(sa.select(table.c.id, table.c.to).order_by(table.c.id)).all()
    assert sorted(tuple(row) for row in [*many, *one]) == [tuple(row) for row in stored]
    assert sorted(row[1] for row in many) == [f"person{n}@example.com" for n in range(4)]
    assert nothing == []
    assert copies == ([4] if engine.dialect.name == "postgresql" else [])


@pytest.mark.sqlite_only
def test_on_sqlite_rows_go_to_the_driver_inside_the_transaction_and_leave_with_its_rollback(
    engine: sa.Engine, session: Session, on_driver: list[int]
) -> None:
    with engine.connect() as conn:
        conn.begin()
        bulk.insert_rows(conn, outbox_message_table, [_outbox(n) for n in range(3)])
        got = bulk.insert_rows(conn, outbox_message_table, [_outbox(7)], returning=("id", "to"))
        assert [row[1] for row in got] == ["person7@example.com"]
        inside = conn.execute(sa.select(sa.func.count()).select_from(outbox_message_table))
        assert inside.scalar_one() == 4
        conn.rollback()
        # Not begun yet: SQLAlchemy's own insert, which begins the transaction first.
        bulk.insert_rows(conn, outbox_message_table, [_outbox(8), _outbox(9)])
        conn.rollback()

    assert on_driver == [3, 1]
    stored = session.execute(sa.select(sa.func.count()).select_from(outbox_message_table))
    assert stored.scalar_one() == 0


def test_a_batch_larger_than_one_statement_takes_is_stored_whole_and_comes_back_whole(
    engine: sa.Engine, session: Session
) -> None:
    rows = [_outbox(n % 60, to=f"many{n}@example.com") for n in range(150)]
    with engine.begin() as conn:
        back = bulk.insert_rows(conn, outbox_message_table, rows, returning=("id", "to"))
        bulk.insert_rows(conn, outbox_message_table, [_outbox(n) for n in range(3)])

    table = outbox_message_table
    stored = session.execute(sa.select(table.c.id, table.c.to).order_by(table.c.id)).all()
    assert len(stored) == 153
    assert sorted(tuple(row) for row in back) == [tuple(row) for row in stored[:150]]
    assert sorted(row[1] for row in back) == sorted(f"many{n}@example.com" for n in range(150))


def test_rows_are_grouped_in_powers_of_two_up_to_the_largest() -> None:
    assert list(bulk._groups(23, 64)) == [16, 4, 2, 1]
    assert list(bulk._groups(150, 64)) == [64, 64, 16, 4, 2]
    assert list(bulk._groups(150, 50)) == [32] * 4 + [16, 4, 2]
    assert list(bulk._groups(1, 1)) == [1]
    assert list(bulk._groups(0, 64)) == []


# --- statements sent together -------------------------------------------------------------


def _supporters(campaign: CampaignView, *states: SupporterState) -> list[dict[str, Any]]:
    return [
        {
            "campaign_id": campaign.id,
            "contact_digest": f"{n:064x}",
            "token": f"token-{n}",
            "display_name": f"Orang {n}",
            "province": "ID-JK",
            "show_name": False,
            "invite_code": f"inv{n}",
            "locale": "id",
            "created_at": datetime(2026, 12, 7, 9, n, tzinfo=UTC),
            "state": state,
        }
        for n, state in enumerate(states)
    ]


def test_reads_sent_together_each_come_back_with_their_rows_as_sqlalchemy_reads_them(
    engine: sa.Engine, make_campaign: MakeCampaign
) -> None:
    campaign = make_campaign()
    with engine.begin() as conn:
        bulk.insert_rows(
            conn,
            supporter_table,
            _supporters(campaign, SupporterState.COUNTED, SupporterState.PENDING),
        )
    table = supporter_table
    of_campaign = table.c.campaign_id == campaign.id
    queries = [
        (
            sa.select(table.c.token, table.c.state, table.c.created_at)
            .where(of_campaign)
            .order_by(table.c.token),
            {},
        ),
        (sa.select(table.c.id).where(table.c.token == sa.bindparam("token")), {"token": "none"}),
        (
            sa.select(sa.func.count()).where(of_campaign, table.c.state == sa.bindparam("s")),
            {"s": SupporterState.PENDING},
        ),
    ]

    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            with round_trips(conn) as exchanged:
                answers = bulk.read_together(conn, queries)
            assert exchanged == [2]  # the transaction's BEGIN, then the three queries
            with round_trips(conn) as exchanged:
                assert bulk.read_together(conn, queries) == answers
            assert exchanged == [1]  # in a transaction begun already
        else:
            answers = bulk.read_together(conn, queries)

    assert answers == [
        [
            ("token-0", SupporterState.COUNTED, datetime(2026, 12, 7, 9, 0, tzinfo=UTC)),
            ("token-1", SupporterState.PENDING, datetime(2026, 12, 7, 9, 1, tzinfo=UTC)),
        ],
        [],
        [(1,)],
    ]


@pytest.mark.postgres_only  # SQLite runs the queries one by one, as they come
def test_a_read_sent_together_that_fails_raises_sqlalchemys_error_and_the_rest_are_not_run(
    engine: sa.Engine, session: Session
) -> None:
    with engine.connect() as conn:
        with pytest.raises(sa.exc.DataError) as refused:
            bulk.read_together(
                conn,
                [
                    (sa.select(sa.func.pg_advisory_xact_lock(7, 7)), {}),
                    (
                        sa.select(sa.literal(1) / sa.bindparam("none", type_=sa.Integer)),
                        {"none": 0},
                    ),
                    (sa.select(sa.func.pg_advisory_xact_lock(8, 8)), {}),
                ],
            )
        assert refused.value.orig.sqlstate == "22012"  # division by zero
        conn.rollback()
        # The connection goes on after the rollback; the lock before the error went with it.
        held = sa.text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")
        assert conn.execute(held).scalar_one() == 0
        assert bulk.read_together(conn, [(sa.select(sa.literal(5)), {})]) == [[(5,)]]


def test_the_writes_of_a_pipelined_block_are_stored_and_answered_in_one_round_trip(
    engine: sa.Engine, session: Session
) -> None:
    on_postgresql = engine.dialect.name == "postgresql"
    with engine.begin() as conn:
        bulk.insert_rows(conn, outbox_message_table, [_outbox(0)])  # BEGIN, and a first write
        counting = round_trips(conn) if on_postgresql else contextlib.nullcontext([])
        with counting as exchanged, bulk.pipelined(conn):
            bulk.insert_rows(conn, outbox_message_table, [_outbox(1)])
            bulk.insert_rows(conn, outbox_message_table, [_outbox(2), _outbox(3)])
            lacking = {"to": "d@example.com", "subject": "s", "body": "b"}
            bulk.insert_rows(conn, outbox_message_table, [lacking])
        assert exchanged == ([1] if on_postgresql else [])

    table = outbox_message_table
    stored = session.execute(sa.select(table.c.to, table.c.attempts).order_by(table.c.id)).all()
    assert [tuple(row) for row in stored] == [
        ("person0@example.com", 0),
        ("person1@example.com", 1),
        ("person2@example.com", 2),
        ("person3@example.com", 3),
        ("d@example.com", 0),  # its default filled in
    ]


@pytest.mark.postgres_only  # elsewhere the block's statements run, and fail, one by one
def test_a_write_of_a_pipelined_block_that_fails_is_raised_at_its_end_without_the_rows_values(
    engine: sa.Engine, session: Session
) -> None:
    with engine.begin() as conn:
        bulk.insert_rows(conn, outbox_message_table, [_outbox(0, id=1)])

    with engine.begin() as conn:
        savepoint = conn.begin_nested()
        with pytest.raises(sa.exc.IntegrityError) as refused, bulk.pipelined(conn):
            bulk.insert_rows(conn, outbox_message_table, [_outbox(1, id=2)])
            bulk.insert_rows(conn, outbox_message_table, [_outbox(2, id=1, subject="Siti")])
            bulk.insert_rows(conn, outbox_message_table, [_outbox(3, id=3)])  # never run
        savepoint.rollback()
        # The transaction goes on after its savepoint is rolled back, as write_batch needs.
        bulk.insert_rows(conn, outbox_message_table, [_outbox(4, id=4)])

    assert "pk_outbox_message" in str(refused.value)
    assert "(id)=(1)" not in str(refused.value) and "Siti" not in str(refused.value)
    ids = session.execute(sa.select(outbox_message_table.c.id).order_by(outbox_message_table.c.id))
    assert ids.scalars().all() == [1, 4]
