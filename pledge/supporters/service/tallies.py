"""Counting: the sharded tallies, the counts read from them and kept per process, and the
recount that repairs them."""

from __future__ import annotations

import operator
import random
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from pledge.cache import Cache
from pledge.campaigns import service as campaigns
from pledge.config import get_settings
from pledge.db import utcnow, writing
from pledge.supporters.models import (
    PENDING,
    SUSPECT,
    TOTAL,
    Counts,
    SupporterState,
    partner_key,
    pledge_key,
    signature_table,
    supporter_table,
    tally_table,
)

# --- adding to the counters ----------------------------------------------------------


def _tally_upsert(dialect: str) -> Any:
    insert: Any = postgresql.insert if dialect == "postgresql" else sqlite.insert
    # Inline: nothing read back, so that the upsert can join a pipeline (pledge.bulk).
    stmt = insert(tally_table).inline()
    return stmt.on_conflict_do_update(
        index_elements=["campaign_id", "key", "shard"],
        set_={
            "value": tally_table.c.value + stmt.excluded.value,
            "updated_at": stmt.excluded.updated_at,
        },
    )


_TALLY_UPSERT = {dialect: _tally_upsert(dialect) for dialect in ("sqlite", "postgresql")}


def bump(
    session: Session,
    *,
    campaign_id: int,
    changes: Iterable[tuple[str, int | None, int | None]],
    delta: int,
) -> None:
    """Add delta to each of a campaign's counters."""
    add_to_tallies(
        session.connection(),
        [
            (campaign_id, key, pledge_id, partner_id, delta)
            for key, pledge_id, partner_id in changes
        ],
        now=utcnow(),
    )


def add_to_tallies(
    conn: sa.Connection,
    changes: Iterable[tuple[int, str, int | None, int | None, int]],
    *,
    now: datetime,
) -> None:
    """Add to one random shard of each counter, in one statement: the changes to one counter
    summed, the counters in one order (sorted), so that two PostgreSQL writers never wait for
    each other in a circle."""
    summed: dict[tuple[int, str], tuple[int | None, int | None, int]] = {}
    for campaign_id, key, pledge_id, partner_id, delta in changes:
        before = summed.get((campaign_id, key), (pledge_id, partner_id, 0))[2]
        summed[campaign_id, key] = (pledge_id, partner_id, before + delta)
    if not summed:
        return
    shards = get_settings().shards
    rows = [
        {
            "campaign_id": campaign_id,
            "key": key,
            "pledge_id": pledge_id,
            "partner_id": partner_id,
            "shard": random.randrange(shards),  # noqa: S311 - spreads writers, not a secret
            "value": delta,
            "updated_at": now,
        }
        for (campaign_id, key), (pledge_id, partner_id, delta) in sorted(summed.items())
        if delta
    ]
    if not rows:
        return
    conn.execute(_TALLY_UPSERT[conn.dialect.name], rows)


# --- counts --------------------------------------------------------------------------

# Counts per campaign, read from the tallies at most once per interval per process. Unbounded:
# one entry per campaign, and a read takes no lock.
_counts: Cache[int, Counts] = Cache("supporters.counts", size=None)


def invalidate_counts(campaign_id: int | None = None) -> None:
    if campaign_id is None:
        _counts.clear()
    else:
        _counts.pop(campaign_id)


def read_counts(session: Session, *, campaign_id: int) -> Counts:
    """The counts straight from the tallies."""
    return read_counts_of(session, campaign_ids=[campaign_id])[campaign_id]


def read_counts_of(session: Session, *, campaign_ids: Iterable[int]) -> dict[int, Counts]:
    """The counts of several campaigns straight from the tallies, in one query."""
    ids = list(campaign_ids)
    rows = session.execute(
        sa.select(
            tally_table.c.campaign_id,
            tally_table.c.key,
            sa.func.sum(tally_table.c.value),
            sa.func.max(tally_table.c.updated_at),
        )
        .where(tally_table.c.campaign_id.in_(ids))
        .group_by(tally_table.c.campaign_id, tally_table.c.key)
    ).all()
    by_campaign: dict[int, dict[str, int]] = {campaign_id: {} for campaign_id in ids}
    changed_at: dict[int, Any] = {}
    for campaign_id, key, value, changed in rows:
        by_campaign[campaign_id][key] = int(value or 0)
        if changed is not None and (
            campaign_id not in changed_at or changed > changed_at[campaign_id]
        ):
            changed_at[campaign_id] = changed
    return {
        campaign_id: Counts(
            total=by_key.get(TOTAL, 0), by_key=by_key, changed_at=changed_at.get(campaign_id)
        )
        for campaign_id, by_key in by_campaign.items()
    }


def cached_counts(campaign_id: int) -> Counts | None:
    """The counts this process read less than PLEDGE_TALLY_CACHE_SECONDS ago, if any."""
    return _counts.get(campaign_id, get_settings().tally_cache_seconds)


def remember_counts(campaign_id: int, counts: Counts) -> Counts:
    """Keep counts just read, so that pages and embeds in this process serve them; the
    object kept (an equal one kept before, if any) is returned, so that the pages and bodies
    drawn from it stay valid."""
    return _counts.put(campaign_id, counts, same=operator.eq)


def get_counts(session: Session, *, campaign_id: int) -> Counts:
    """The counts as this process last read them, at most a second or so old."""
    counts = _counts.get(campaign_id, get_settings().tally_cache_seconds)
    if counts is None:
        counts = remember_counts(campaign_id, read_counts(session, campaign_id=campaign_id))
    return counts


# --- reconciling ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TallyFix:
    campaign: str
    key: str
    was: int
    now: int


def true_counts(session: Session, *, campaign_id: int) -> dict[str, int]:
    """The counts recomputed from the supporter and signature rows: the supporters in the count
    and their signatures, and the pending and suspect ones apart."""
    state = supporter_table.c.state
    counted = state == SupporterState.COUNTED
    by_state = dict(
        session.execute(
            sa.select(state, sa.func.count())
            .where(supporter_table.c.campaign_id == campaign_id)
            .group_by(state)
        ).all()
    )
    counts: dict[str, int] = {TOTAL: int(by_state.get(SupporterState.COUNTED, 0))}
    for key, kept in ((PENDING, SupporterState.PENDING), (SUSPECT, SupporterState.SUSPECT)):
        if by_state.get(kept):
            counts[key] = int(by_state[kept])
    per_pledge = session.execute(
        sa.select(signature_table.c.pledge_id, sa.func.count())
        .join(supporter_table, supporter_table.c.id == signature_table.c.supporter_id)
        .where(supporter_table.c.campaign_id == campaign_id, counted)
        .group_by(signature_table.c.pledge_id)
    ).all()
    counts.update({pledge_key(pid): n for pid, n in per_pledge})
    per_partner = session.execute(
        sa.select(supporter_table.c.referrer_id, sa.func.count())
        .where(
            supporter_table.c.campaign_id == campaign_id,
            supporter_table.c.referrer_id.is_not(None),
            counted,
        )
        .group_by(supporter_table.c.referrer_id)
    ).all()
    counts.update({partner_key(pid): n for pid, n in per_partner})
    return counts


def reconcile(session: Session) -> list[TallyFix]:
    """Recount every campaign from its signatures and repair the tallies that disagree."""
    fixes: list[TallyFix] = []
    for campaign_id, slug in campaigns.list_slugs(session):
        with writing(session):
            if session.get_bind().dialect.name == "postgresql":
                # Wait for signers in flight, and hold new ones back while recounting.
                session.execute(sa.text("LOCK TABLE tally IN SHARE ROW EXCLUSIVE MODE"))
            truth = true_counts(session, campaign_id=campaign_id)
            stored = read_counts(session, campaign_id=campaign_id).by_key
            wrong = [
                TallyFix(slug, key, stored.get(key, 0), truth.get(key, 0))
                for key in sorted(set(truth) | set(stored))
                if truth.get(key, 0) != stored.get(key, 0)
            ]
            if wrong:
                _replace_tallies(session, campaign_id=campaign_id, truth=truth)
                fixes.extend(wrong)
        invalidate_counts(campaign_id)
    return fixes


def _replace_tallies(session: Session, *, campaign_id: int, truth: dict[str, int]) -> None:
    """Put the true counts in place of a campaign's tallies, one shard each."""
    session.execute(sa.delete(tally_table).where(tally_table.c.campaign_id == campaign_id))
    now = utcnow()
    rows = []
    for key, value in truth.items():
        kind, _sep, ident = key.partition(":")
        rows.append(
            {
                "campaign_id": campaign_id,
                "key": key,
                "pledge_id": int(ident) if kind == "pledge" else None,
                "partner_id": int(ident) if kind == "partner" else None,
                "shard": 0,
                "value": value,
                "updated_at": now,
            }
        )
    if rows:
        session.execute(sa.insert(tally_table), rows)
