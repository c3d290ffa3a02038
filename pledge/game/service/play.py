"""Playing: a new game's pictures drawn at random, real and fake balanced where the campaign
has both; an answer counted once, in the transaction that adds it to the counts."""

from __future__ import annotations

import random
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from pledge.db import utcnow, writing
from pledge.game.models import game_answer_table, game_count_table, game_item_table
from pledge.game.service.items import Item, Kind
from pledge.game.service.tokens import MAX_AGE_SECONDS, PICTURES_MAX, Answer, GameState

# Fewer pictures than this is no game: the start page says it is not ready yet.
PICTURES_MIN = 3
# Answers older than a token may live can never be sent again: deleted, this many at a time,
# when a game starts.
PRUNED_AT_ONCE = 500


def is_ready(items: Sequence[Item]) -> bool:
    return len(items) >= PICTURES_MIN


def pictures_in_a_game(items: Sequence[Item]) -> int:
    return min(PICTURES_MAX, len(items))


def choose_order(items: Sequence[Item], rng: random.Random | None = None) -> list[Item]:
    """A game's pictures, in the order they are shown: as many real as fake where the campaign
    has enough of both, the rest of whichever it has more of; shuffled."""
    rng = rng or random.SystemRandom()
    fakes = [item for item in items if item.kind == Kind.FAKE]
    reals = [item for item in items if item.kind == Kind.REAL]
    size = pictures_in_a_game(items)
    real_count = min(len(reals), size // 2)
    fake_count = min(len(fakes), size - real_count)
    real_count = min(len(reals), size - fake_count)
    chosen = rng.sample(fakes, fake_count) + rng.sample(reals, real_count)
    rng.shuffle(chosen)
    return chosen


def new_game(
    items: Sequence[Item], *, campaign_id: int, invite: str = "", rng: random.Random | None = None
) -> GameState:
    """A new game of these pictures (is_ready first), with a random id of its own."""
    order = tuple(item.key for item in choose_order(items, rng))
    return GameState(campaign_id, secrets.token_urlsafe(12), order, 0, invite=invite)


def is_right(item: Item, answer: Answer) -> bool:
    return (answer == Answer.FAKE) == (item.kind == Kind.FAKE)


# --- counting an answer -------------------------------------------------------------------


def _once(dialect: str) -> Any:
    t = game_answer_table
    if dialect == "postgresql":
        # The new row's id, or no row when the picture of that game had its answer already
        # (psycopg counts no row of an insert that returns its key: -1).
        stmt = postgresql.insert(t).on_conflict_do_nothing(index_elements=["game_id", "position"])
        return stmt.returning(t.c.id)
    return sqlite.insert(t).on_conflict_do_nothing(index_elements=["game_id", "position"])


def _added(conn: sa.Connection, row: dict[str, Any]) -> bool:
    """Add the answer unless that picture of that game has one: whether it was added."""
    result = conn.execute(_ONCE[conn.dialect.name], row)
    if conn.dialect.name == "postgresql":
        return result.first() is not None
    return result.rowcount == 1


def _count_upsert(dialect: str) -> Any:
    insert: Any = postgresql.insert if dialect == "postgresql" else sqlite.insert
    t = game_count_table
    stmt = insert(t)
    return stmt.on_conflict_do_update(
        index_elements=["campaign_id"],
        set_={
            "started": t.c.started + stmt.excluded.started,
            "finished": t.c.finished + stmt.excluded.finished,
        },
    )


_ONCE = {dialect: _once(dialect) for dialect in ("sqlite", "postgresql")}
_COUNT = {dialect: _count_upsert(dialect) for dialect in ("sqlite", "postgresql")}


def answer(
    session: Session, *, state: GameState, item: Item, said: Answer, now: datetime | None = None
) -> GameState:
    """Count the answer to the current picture, once per game and picture, and give the state
    after it. The same picture answered again (a double tap, a form sent again, the back
    button) changes nothing: its state is the one the first answer gave, whatever was said
    the second time, so no score rises by answering twice."""
    now = now or utcnow()
    right = is_right(item, said)
    a = game_answer_table
    with writing(session):
        conn = session.connection()
        row = {
            "game_id": state.game_id,
            "position": state.position,
            "answer": said.value,
            "right": right,
            "created_at": now,
        }
        if _added(conn, row):
            _add_to_counts(conn, state=state, item=item, right=right, now=now)
        else:
            first = conn.execute(
                sa.select(a.c.answer, a.c.right).where(
                    a.c.game_id == state.game_id, a.c.position == state.position
                )
            ).one()
            said, right = Answer(first.answer), bool(first.right)
    return state.after(said.value, right)


def _add_to_counts(
    conn: sa.Connection, *, state: GameState, item: Item, right: bool, now: datetime
) -> None:
    """Add the answer to its picture's counts and, on its game's first and last picture, to
    the campaign's games started and finished: each an increment in SQL, so that answers at
    the same moment all count."""
    t = game_item_table
    shown, fooled = (
        (t.c.fake_shown, t.c.fake_fooled) if item.fake else (t.c.real_shown, t.c.real_fooled)
    )
    conn.execute(
        sa.update(t)
        .where(t.c.case_id == item.case_id)
        .values({shown: shown + 1, fooled: fooled + (0 if right else 1)})
    )
    started = int(state.answered == 0)
    finished = int(state.position == len(state.order) - 1)
    if started or finished:
        conn.execute(
            _COUNT[conn.dialect.name],
            [{"campaign_id": state.campaign_id, "started": started, "finished": finished}],
        )
    if started:
        prune(conn, now=now)


def prune(conn: sa.Connection, *, now: datetime) -> int:
    """Delete answers older than any token that could send them again (a bounded batch)."""
    a = game_answer_table
    cutoff = now - timedelta(seconds=MAX_AGE_SECONDS + 3600)
    old = sa.select(a.c.id).where(a.c.created_at < cutoff).order_by(a.c.id).limit(PRUNED_AT_ONCE)
    return int(conn.execute(sa.delete(a).where(a.c.id.in_(old))).rowcount or 0)
