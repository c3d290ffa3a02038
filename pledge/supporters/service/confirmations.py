"""Confirmations written in batches: a group commit's many, or a single one, in one write
transaction with a handful of statements whatever their number. Each confirms once; the
counters move in the same transaction, exactly once however often and however concurrently
a signing is confirmed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from pledge.bulk import insert_rows
from pledge.supporters.models import (
    PENDING,
    TOTAL,
    SignOutcome,
    SupporterState,
    confirmation_table,
    partner_key,
    pledge_key,
    signature_table,
    supporter_table,
)
from pledge.supporters.service.known import lock_campaign
from pledge.supporters.service.tallies import add_to_tallies, invalidate_counts


@dataclass(frozen=True, slots=True)
class ConfirmJob:
    """One confirmation to write: the signing's link digest, and the campaign it must belong
    to (None: whichever)."""

    campaign_id: int | None
    link_digest: str
    now: datetime


@dataclass(frozen=True, slots=True)
class Confirmed:
    """A confirmed signing: what it did, and the supporter's own page's secret."""

    campaign_id: int
    outcome: SignOutcome  # NEW: now counted; ADDED: pledges added; UNCHANGED: nothing to do
    token: str
    added: tuple[int, ...]  # the pledges this confirmation added
    locale: str


class Refused(Exception):
    """A confirmation refused, not yet in words: a group commit writes its batch outside the
    requests (and their language), so the caller says why, in its reader's language.
    ``reason``: "not a link" (none of this campaign's), "withdrawn" or "expired"."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# The columns a confirmation is decided by: its own, and its supporter's.
COLUMNS = (
    confirmation_table.c.id,
    confirmation_table.c.channel,
    confirmation_table.c.pledge_ids,
    confirmation_table.c.link_digest,
    confirmation_table.c.code_digest,
    confirmation_table.c.wrong_codes,
    confirmation_table.c.locale,
    confirmation_table.c.expires_at,
    confirmation_table.c.confirmed_at,
    confirmation_table.c.outcome,
    confirmation_table.c.added_ids,
    supporter_table.c.id.label("supporter_id"),
    supporter_table.c.campaign_id,
    supporter_table.c.token,
    supporter_table.c.referrer_id,
    supporter_table.c.confirmed_at.label("supporter_confirmed_at"),
    supporter_table.c.state,
)
JOINED = confirmation_table.join(
    supporter_table, supporter_table.c.id == confirmation_table.c.supporter_id
)
_DIGESTS: sa.BindParameter[list[str]] = sa.bindparam("digests", expanding=True)
_ROWS = (
    sa.select(*COLUMNS).select_from(JOINED).where(confirmation_table.c.link_digest.in_(_DIGESTS))
)
_CAMPAIGNS = (
    sa.select(supporter_table.c.campaign_id)
    .select_from(JOINED)
    .where(confirmation_table.c.link_digest.in_(_DIGESTS))
)
_SIGNED = sa.select(signature_table.c.supporter_id, signature_table.c.pledge_id).where(
    signature_table.c.supporter_id.in_(sa.bindparam("supporters", expanding=True))
)
_LAST_NUMBER = sa.select(sa.func.coalesce(sa.func.max(supporter_table.c.number), 0)).where(
    supporter_table.c.campaign_id == sa.bindparam("campaign_id")
)
_CLAIM = (
    sa.update(confirmation_table)
    .where(confirmation_table.c.id == sa.bindparam("row_id"))
    .values(
        confirmed_at=sa.bindparam("at"),
        contact_encrypted=None,
        outcome=sa.bindparam("done"),
        added_ids=sa.bindparam("added"),
    )
)
_COUNT = (
    sa.update(supporter_table)
    .where(supporter_table.c.id == sa.bindparam("row_id"))
    .values(
        confirmed_at=sa.bindparam("at"), number=sa.bindparam("place"), state=SupporterState.COUNTED
    )
)
_CONFIRM = (
    sa.update(supporter_table)
    .where(supporter_table.c.id == sa.bindparam("row_id"))
    .values(confirmed_at=sa.bindparam("at"))
)


@dataclass
class _Signer:
    """A supporter as the confirmations of a batch leave them."""

    confirmed: bool
    state: SupporterState
    signed: set[int]
    place: int | None = None  # given by this batch
    confirmed_at: datetime | None = None  # by this batch


@dataclass
class _Batch:
    """What the confirmations of one transaction share, written together at the end."""

    conn: sa.Connection
    rows: dict[str, Any]  # the rows of COLUMNS, by link digest
    signed: dict[int, set[int]]  # the pledges each supporter had signed
    signers: dict[int, _Signer] = field(default_factory=dict)
    claimed: dict[int, dict[str, Any]] = field(default_factory=dict)  # by confirmation id
    signatures: list[dict[str, Any]] = field(default_factory=list)
    changes: list[tuple[int, str, int | None, int | None, int]] = field(default_factory=list)
    last_place: dict[int, int] = field(default_factory=dict)

    def signer(self, row: sa.Row[Any]) -> _Signer:
        if row.supporter_id not in self.signers:
            self.signers[row.supporter_id] = _Signer(
                confirmed=row.supporter_confirmed_at is not None,
                state=SupporterState(row.state),
                signed=set(self.signed.get(row.supporter_id, ())),
            )
        return self.signers[row.supporter_id]

    def next_place(self, campaign_id: int) -> int:
        if campaign_id not in self.last_place:
            last = self.conn.execute(_LAST_NUMBER, {"campaign_id": campaign_id}).scalar_one()
            self.last_place[campaign_id] = int(last)
        self.last_place[campaign_id] += 1
        return self.last_place[campaign_id]


def write(session: Session, jobs: Sequence[ConfirmJob]) -> list[Confirmed | Refused]:
    """Confirmations in the open write transaction: each job's result, or why it was refused.
    On PostgreSQL the campaigns are locked first, in order, as a batch of signings locks them,
    then the rows read."""
    conn = session.connection()
    digests = sorted({job.link_digest for job in jobs})
    if conn.dialect.name == "postgresql":
        for campaign_id in sorted(set(conn.execute(_CAMPAIGNS, {"digests": digests}).scalars())):
            lock_campaign(conn, campaign_id)
    rows = {row.link_digest: row for row in conn.execute(_ROWS, {"digests": digests})}
    signed: dict[int, set[int]] = {}
    if rows:
        wanted = sorted({row.supporter_id for row in rows.values()})
        for supporter_id, pledge_id in conn.execute(_SIGNED, {"supporters": wanted}):
            signed.setdefault(supporter_id, set()).add(pledge_id)
    batch = _Batch(conn, rows, signed)
    results: list[Confirmed | Refused] = []
    for job in jobs:
        try:
            results.append(_confirm_one(job, batch))
        except Refused as refused:
            results.append(refused)
    _write(batch, now=max(job.now for job in jobs))
    return results


def counts_changed(jobs: Sequence[ConfirmJob]) -> None:
    for campaign_id in {job.campaign_id for job in jobs}:
        invalidate_counts(campaign_id)


def _confirm_one(job: ConfirmJob, batch: _Batch) -> Confirmed:
    row = batch.rows.get(job.link_digest)
    if job.campaign_id is not None and (row is None or row.campaign_id != job.campaign_id):
        raise Refused("not a link")  # withdrawn since, or never one of this campaign's
    if row is None:
        raise Refused("withdrawn")
    if row.confirmed_at is not None or row.id in batch.claimed:
        # Confirmed before (or earlier in this batch): nothing more to do.
        return Confirmed(row.campaign_id, SignOutcome.UNCHANGED, row.token, (), row.locale)
    if row.expires_at < job.now:
        raise Refused("expired")
    outcome, added = _apply(row, job.now, batch)
    batch.claimed[row.id] = {
        "row_id": row.id,
        "at": job.now,
        "done": outcome.value,
        "added": ",".join(map(str, added)),
    }
    return Confirmed(row.campaign_id, outcome, row.token, added, row.locale)


def _apply(row: sa.Row[Any], now: datetime, batch: _Batch) -> tuple[SignOutcome, tuple[int, ...]]:
    """What a confirmation does: confirm the supporter (a pending one enters the count, with
    the next place in the campaign; a suspect or invalidated one stays out), add the pledges
    it ticked that are not signed yet, and move the counters of a supporter in the count."""
    signer = batch.signer(row)
    was_in_count = signer.state == SupporterState.COUNTED
    changes: list[tuple[str, int | None, int | None, int]] = []
    outcome = SignOutcome.UNCHANGED
    if not signer.confirmed:
        signer.confirmed, signer.confirmed_at = True, now
        if signer.state == SupporterState.PENDING:
            signer.state, signer.place = SupporterState.COUNTED, batch.next_place(row.campaign_id)
            changes += [(PENDING, None, None, -1), (TOTAL, None, None, 1)]
            if row.referrer_id is not None:
                changes.append((partner_key(row.referrer_id), None, row.referrer_id, 1))
        if not was_in_count:
            # Counted just now, or held for review (or taken off the count) and confirmed:
            # told the same as any other new supporter.
            outcome = SignOutcome.NEW
    wanted = {int(pid) for pid in row.pledge_ids.split(",") if pid}
    added = tuple(sorted(wanted - signer.signed))
    if added:
        signer.signed.update(added)
        batch.signatures += [
            {"supporter_id": row.supporter_id, "pledge_id": pid, "created_at": now} for pid in added
        ]
        if signer.state == SupporterState.COUNTED:
            changes += [(pledge_key(pid), pid, None, 1) for pid in added]
        if outcome == SignOutcome.UNCHANGED:
            outcome = SignOutcome.ADDED
    batch.changes += [
        (row.campaign_id, key, pledge, partner, delta) for key, pledge, partner, delta in changes
    ]
    return outcome, added


def _write(batch: _Batch, *, now: datetime) -> None:
    """The batch's changes: a statement for each kind, whatever their number."""
    conn = batch.conn
    if batch.claimed:
        conn.execute(_CLAIM, list(batch.claimed.values()))
    counted = [
        {"row_id": supporter_id, "at": s.confirmed_at, "place": s.place}
        for supporter_id, s in batch.signers.items()
        if s.place is not None
    ]
    if counted:
        conn.execute(_COUNT, counted)
    confirmed = [
        {"row_id": supporter_id, "at": s.confirmed_at}
        for supporter_id, s in batch.signers.items()
        if s.place is None and s.confirmed_at is not None
    ]
    if confirmed:
        conn.execute(_CONFIRM, confirmed)
    if batch.signatures:
        insert_rows(conn, signature_table, batch.signatures)
    add_to_tallies(conn, batch.changes, now=now)
