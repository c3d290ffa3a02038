"""The signers of a batch of signings that a campaign knows already, and what they have
signed: read once per campaign of a batch, under the campaign's signing lock.

Signers are looked up by their contact digests alone, and inviters by their invite codes alone,
on the unique indexes those lead, and the rows of other campaigns are left out here. With the
campaign in the query, PostgreSQL weighs the indexes that start with the campaign against
them, and for a campaign its statistics do not know yet (a new deployment, a new campaign gone
viral before autovacuum looks again) it takes one of those: every batch then reads all of the
campaign's rows, and the writes slow down as the campaign grows, when it grows fastest.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from pledge.bulk import read_together
from pledge.supporters.models import (
    SupporterState,
    confirmation_table,
    signature_table,
    supporter_table,
)
from pledge.supporters.service.form import CleanSignature


class Signer(Protocol):
    """What a look-up needs of a signing of the batch (signing.PendingSigning)."""

    @property
    def campaign_id(self) -> int: ...
    @property
    def digest(self) -> str: ...
    @property
    def legacy_digest(self) -> str | None: ...
    @property
    def counted_at_once(self) -> bool: ...
    @property
    def clean(self) -> CleanSignature: ...


def _by_keys(columns: Sequence[Any], key: Any, name: str) -> dict[str, sa.Select[Any]]:
    """A statement per database for the rows whose ``key`` is in the list bound as ``name``:
    an IN list on SQLite; on PostgreSQL one array (one statement to prepare, whatever the
    list's length), each of its keys looked up by the key's index.

    PostgreSQL would otherwise choose its plan by the table's statistics: a table that was
    small when the statement was first prepared (a new site, a fresh restore) is read whole,
    and a prepared statement keeps that plan while the table grows, until the next ANALYZE.
    A batch read 14,000 rows to find 16. Here each key is a lateral subquery on its own, kept
    apart from the join by ``OFFSET 0`` so the planner cannot merge it into a hash join over
    the whole table: the only plan left is one index search per key."""
    wanted = (
        sa.func.unnest(sa.bindparam(name, type_=postgresql.ARRAY(sa.String)))
        .table_valued("key")
        .render_derived(name="wanted")
    )
    one_key = (
        sa.select(*columns)
        .where(key == wanted.c.key)
        .offset(sa.literal_column("0"))
        .lateral("found")
    )
    return {
        "sqlite": sa.select(*columns).where(key.in_(sa.bindparam(name, expanding=True))),
        "postgresql": sa.select(*one_key.c).select_from(wanted).join(one_key, sa.true()),
    }


# The statements of the signing path, built once: SQLAlchemy compiles each of them once per
# process and then only binds the values. Each is run once per batch, whatever its size.
_FIND_SUPPORTERS = _by_keys(
    (
        supporter_table.c.contact_digest,
        supporter_table.c.id,
        supporter_table.c.token,
        supporter_table.c.state,
        supporter_table.c.campaign_id,
    ),
    supporter_table.c.contact_digest,
    "digests",
)
_INVITERS = _by_keys(
    (
        supporter_table.c.invite_code,
        supporter_table.c.id,
        supporter_table.c.campaign_id,
        supporter_table.c.state,
    ),
    supporter_table.c.invite_code,
    "codes",
)
_SIGNED_BY = sa.select(signature_table.c.supporter_id, signature_table.c.pledge_id).where(
    signature_table.c.supporter_id.in_(sa.bindparam("supporter_ids", expanding=True))
)
_MESSAGED_SINCE = (
    sa.select(confirmation_table.c.supporter_id, sa.func.count())
    .where(
        confirmation_table.c.supporter_id.in_(sa.bindparam("supporter_ids", expanding=True)),
        confirmation_table.c.created_at >= sa.bindparam("since"),
        confirmation_table.c.messages > 0,
    )
    .group_by(confirmation_table.c.supporter_id)
)
# On PostgreSQL, batches that share their campaign's lock may meet the same known signer: each
# holds the signer's row from its look-up until it commits, so that the second reads the
# signatures and the messages of the first (a signer is messaged MESSAGES_PER_DAY times at
# most, however many processes write). In one order, never waiting in a circle; FOR NO KEY
# UPDATE, which the key share of a foreign key check (a confirmation added) does not wait for.
_HOLD_SIGNERS = (
    sa.select(supporter_table.c.id)
    .where(supporter_table.c.id.in_(sa.bindparam("supporter_ids", expanding=True)))
    .order_by(supporter_table.c.id)
    .with_for_update(key_share=True)
)
_LAST_NUMBER = sa.select(sa.func.coalesce(sa.func.max(supporter_table.c.number), 0)).where(
    supporter_table.c.campaign_id == sa.bindparam("campaign_id")
)
# PostgreSQL's advisory lock on a campaign's signing, held until the transaction ends: the
# first key names the lock's kind ("sign" in ASCII), the second is the campaign. Shared, it is
# held by any number of signing batches at once, and by nobody while it is held alone.
_LOCK_KEYS = (sa.literal(0x7369676E), sa.bindparam("campaign_id", type_=sa.Integer))
SIGNING_LOCK = sa.select(sa.func.pg_advisory_xact_lock(*_LOCK_KEYS))
SIGNING_LOCK_SHARED = sa.select(sa.func.pg_advisory_xact_lock_shared(*_LOCK_KEYS))


def find_supporters(
    conn: sa.Connection, campaign_id: int, digests: Iterable[str]
) -> list[tuple[str, int, str, SupporterState]]:
    """The campaign's supporters with these contact digests: (digest, id, token, state)."""
    query = _FIND_SUPPORTERS[conn.dialect.name]
    (found,) = read_together(conn, [(query, {"digests": sorted(digests)})])
    return _of_campaign(found, campaign_id)


def _of_campaign(
    found: Iterable[Sequence[Any]], campaign_id: int
) -> list[tuple[str, int, str, SupporterState]]:
    return [
        (digest, supporter_id, token, state)
        for digest, supporter_id, token, state, of_campaign in found
        if of_campaign == campaign_id
    ]


def lock_campaign(conn: sa.Connection, campaign_id: int, *, shared: bool = False) -> bool:
    """On PostgreSQL, one writer of a campaign's supporters at a time across processes, until
    the transaction ends: places are given once each, and what a confirmation, a review or a
    withdrawal reads of the campaign's supporters stays true until it commits. SQLite has one
    writer anyway (whose transaction began with the write lock). True when a lock was waited
    for: what was read before it may have changed.

    ``shared``: for a batch of signatures that gives no places, which only adds supporters and
    their confirmations. Such batches write side by side; each still waits for any holder of
    the whole lock, and it for them. Two of them that add the same new signer meet on the
    unique key: the second waits for the first to commit, fails, and is written again, then
    finding the signer known (``pledge.db.write_batch``)."""
    if conn.dialect.name == "postgresql":
        conn.execute(SIGNING_LOCK_SHARED if shared else SIGNING_LOCK, {"campaign_id": campaign_id})
        return True
    return False


class Known:
    """A supporter met in this batch: found in the database, or about to be inserted."""

    __slots__ = ("counted", "id", "messaged", "signed", "token")

    def __init__(self, supporter_id: int | None, token: str, *, counted: bool) -> None:
        self.id = supporter_id
        self.token = token
        self.counted = counted
        self.signed: set[int] = set()
        self.messaged = 0  # messages sent about signings in the last day


@dataclass(slots=True)
class KnownInCampaign:
    """What the database holds already for one campaign of a batch."""

    known: dict[str, Known]  # by contact digest; the batch's new supporters join them
    inviters: dict[str, int]  # supporter id by invite code
    last_number: int  # the last place given in the campaign; 0 when nobody is counted at once
    rekeyed: list[dict[str, Any]]  # supporters found by their old digest, given the new one


def look_up(
    conn: sa.Connection, jobs: Sequence[Signer], *, now: datetime
) -> dict[int, KnownInCampaign]:
    """Per campaign of the batch: the signers already known and what they signed, the
    inviters named, and the last place given when someone is counted at once.

    What every batch reads (each campaign's lock, its signers, its inviters, its last place)
    is read in one round trip on PostgreSQL; what a known signer has signed and been sent,
    in another when there is one."""
    by_campaign: dict[int, list[Signer]] = {}
    for job in sorted(jobs, key=lambda job: job.campaign_id):
        by_campaign.setdefault(job.campaign_id, []).append(job)
    asked = {
        campaign_id: _reads(conn.dialect.name, campaign_id, mine)
        for campaign_id, mine in by_campaign.items()
    }
    answers = iter(
        read_together(conn, [read for reads in asked.values() for read in reads.values()])
    )
    found: dict[int, KnownInCampaign] = {}
    for campaign_id, mine in by_campaign.items():
        answered = {name: next(answers) for name in asked[campaign_id]}
        rekeyed: list[dict[str, Any]] = []
        rows = _of_campaign(answered["signers"], campaign_id)
        known = _known_signers(conn, mine, rows, now=now, rekeyed=rekeyed)
        inviters = _inviters(answered.get("inviters", ()), campaign_id)
        last_number = int(answered["last"][0][0]) if "last" in answered else 0
        found[campaign_id] = KnownInCampaign(known, inviters, last_number, rekeyed)
    return found


def _reads(
    dialect: str, campaign_id: int, mine: Sequence[Signer]
) -> dict[str, tuple[sa.Select[Any], dict[str, Any]]]:
    """What a batch reads of one campaign, in order: on PostgreSQL its signing lock first."""
    reads: dict[str, tuple[sa.Select[Any], dict[str, Any]]] = {}
    at_once = any(job.counted_at_once for job in mine)
    if dialect == "postgresql":
        # Places are given only where signatures count at once: elsewhere batches of the
        # campaign share its lock.
        lock = SIGNING_LOCK if at_once else SIGNING_LOCK_SHARED
        reads["lock"] = (lock, {"campaign_id": campaign_id})
    digests = {job.digest for job in mine} | {
        job.legacy_digest for job in mine if job.legacy_digest
    }
    reads["signers"] = (_FIND_SUPPORTERS[dialect], {"digests": sorted(digests)})
    codes = sorted({job.clean.invite for job in mine if job.clean.invite})
    if codes:
        reads["inviters"] = (_INVITERS[dialect], {"codes": codes})
    if at_once:
        reads["last"] = (_LAST_NUMBER, {"campaign_id": campaign_id})
    return reads


def _known_signers(
    conn: sa.Connection,
    mine: Sequence[Signer],
    rows: Iterable[tuple[str, int, str, SupporterState]],
    *,
    now: datetime,
    rekeyed: list[dict[str, Any]],
) -> dict[str, Known]:
    """The campaign's supporters among these signers (``rows``, found by their digests), by
    digest, with the pledges each has signed already and the messages each was sent in the
    last day."""
    known: dict[str, Known] = {}
    legacy = {job.legacy_digest: job.digest for job in mine if job.legacy_digest}
    found_legacy: dict[str, Known] = {}
    for digest, supporter_id, token, state in rows:
        entry = Known(supporter_id, token, counted=state == SupporterState.COUNTED)
        if digest in legacy:
            found_legacy[legacy[digest]] = entry
        else:
            known[digest] = entry
    for digest, entry in found_legacy.items():
        if digest not in known:
            # Someone who signed before contacts were folded, whose contact was not kept: found
            # by the old digest, and recognised by the new one from now on.
            known[digest] = entry
            rekeyed.append({"supporter_id": entry.id, "digest": digest})
    by_id = {entry.id: entry for entry in known.values() if entry.id is not None}
    if by_id:
        ids = {"supporter_ids": sorted(by_id)}
        if conn.dialect.name == "postgresql":
            conn.execute(_HOLD_SIGNERS, ids).all()
        for supporter_id, pledge_id in conn.execute(_SIGNED_BY, ids):
            by_id[supporter_id].signed.add(pledge_id)
        since = now - timedelta(days=1)
        for supporter_id, messaged in conn.execute(_MESSAGED_SINCE, {**ids, "since": since}):
            by_id[supporter_id].messaged = int(messaged)
    return known


def _inviters(named: Iterable[Sequence[Any]], campaign_id: int) -> dict[str, int]:
    """The counted supporters of the campaign among those found by invite code, by code."""
    return {
        code: inviter_id
        for code, inviter_id, of_campaign, state in named
        if of_campaign == campaign_id and state == SupporterState.COUNTED
    }
