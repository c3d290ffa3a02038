"""Supporters found by their contact for a personal data request, and anonymised by retention.

Reads here serve pledge.privacy, which shows, copies and erases what they find; the erasure
itself withdraws each supporter as they could themselves (``withdraw``).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from pledge.campaigns import service as campaigns
from pledge.db import writing
from pledge.supporters.models import signature_table, supporter_table

BATCH = 1000


def list_by_digest(
    session: Session, *, digest: str, campaign_ids: Collection[int]
) -> Sequence[sa.Row[Any]]:
    """Every supporter row with this contact digest in these campaigns, oldest first."""
    if not campaign_ids:
        return []
    # Supporters are indexed by (campaign, digest): naming every campaign lets the database
    # look the digest up in that index instead of reading the whole table.
    return session.execute(
        sa.select(supporter_table)
        .where(
            supporter_table.c.campaign_id.in_(list(campaign_ids)),
            supporter_table.c.contact_digest == digest,
        )
        .order_by(supporter_table.c.created_at, supporter_table.c.id)
    ).all()


def list_signed_pledge_texts(
    session: Session, *, supporter_ids: Collection[int]
) -> dict[int, list[str]]:
    """The text of each pledge these supporters signed, in the campaign's order, by
    supporter id."""
    pledges: dict[int, list[str]] = {}
    statement = campaigns.select_with_pledge_text(
        signature_table.c.supporter_id, pledge_id=signature_table.c.pledge_id
    ).where(signature_table.c.supporter_id.in_(supporter_ids))
    for supporter_id, text in session.execute(statement):
        pledges.setdefault(supporter_id, []).append(text)
    return pledges


def count_invited(session: Session, *, supporter_ids: Collection[int]) -> dict[int, int]:
    """How many supporters signed through each of these supporters' invite links."""
    rows = session.execute(
        sa.select(supporter_table.c.invited_by_id, sa.func.count())
        .where(supporter_table.c.invited_by_id.in_(supporter_ids))
        .group_by(supporter_table.c.invited_by_id)
    ).all()
    return {int(inviter): int(n) for inviter, n in rows}


# --- retention ---------------------------------------------------------------------------


def _placeholder(dialect: str) -> Any:
    """A random stand-in for the contact digest, drawn per row by the database: unique (so the
    (campaign, digest) constraint holds) and unrelated to the person, so that the same person
    signing again later is a new supporter."""
    if dialect == "postgresql":
        seed = (
            sa.cast(sa.func.random(), sa.Text)
            + sa.cast(sa.func.clock_timestamp(), sa.Text)
            + sa.cast(supporter_table.c.id, sa.Text)
        )
        return sa.literal("anon:", sa.String) + sa.func.md5(seed)
    return sa.literal("anon:", sa.String) + sa.func.lower(sa.func.hex(sa.func.randomblob(16)))


def anonymise(session: Session, *, campaign_id: int, now: datetime, batch: int = BATCH) -> int:
    """Remove the personal data of a campaign's supporters, a batch per write transaction;
    how many this call anonymised.

    Each batch's UPDATE only matches rows not yet done, so a run can stop and start again
    anywhere and two runs never process a row twice. The name, the contact and where the
    signature came from (network, email domain) go; province, age band, signatures, referral
    and invite links stay, and the tallies are not touched: every count and statistic reads
    the same afterwards."""
    placeholder = _placeholder(session.get_bind().dialect.name)
    done, after = 0, 0
    while True:
        with writing(session):
            ids = list(
                session.execute(
                    sa.select(supporter_table.c.id)
                    .where(
                        supporter_table.c.campaign_id == campaign_id,
                        supporter_table.c.anonymised_at.is_(None),
                        supporter_table.c.id > after,
                    )
                    .order_by(supporter_table.c.id)
                    .limit(batch)
                ).scalars()
            )
            if not ids:
                break
            result = session.execute(
                sa.update(supporter_table)
                # Re-checked here: a row another run got to first is left alone.
                .where(supporter_table.c.id.in_(ids), supporter_table.c.anonymised_at.is_(None))
                .values(
                    display_name="",
                    contact_encrypted=None,
                    contact_digest=placeholder,
                    show_name=False,
                    network=None,
                    email_domain=None,
                    anonymised_at=now,
                )
            )
            done += int(result.rowcount)  # type: ignore[attr-defined]
        after = ids[-1]
    return done
