"""Signatures held for review: the suspects of a campaign listed for its administrators, and
counted after all ("count them"), with their counters moved in the same transaction. The other
way out, invalidating them, is an invalidation (``invalidation``) of the suspects picked."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from pledge import audit
from pledge.audit import AuditAction
from pledge.campaigns.models import CampaignView
from pledge.config import get_settings
from pledge.db import utcnow, writing
from pledge.supporters.models import SupporterState, supporter_table
from pledge.supporters.service.invalidation import move_counts, subject
from pledge.supporters.service.known import lock_campaign
from pledge.supporters.service.matching import Filter, conditions, describe
from pledge.supporters.service.tallies import invalidate_counts

PAGE_SIZE = 50
RELEASE = AuditAction.SUPPORTERS_RELEASE


@dataclass(frozen=True, slots=True)
class Suspect:
    """A signature held for review, as the console lists it."""

    id: int
    name: str
    network: str | None
    email_domain: str | None
    referrer_id: int | None
    created_at: datetime
    confirmed: bool


@dataclass(frozen=True, slots=True)
class Suspects:
    items: list[Suspect]
    total: int
    page: int
    pages: int


def list_suspects(session: Session, *, campaign_id: int, found: Filter, page: int = 1) -> Suspects:
    """A page of the suspects a filter matches, newest first, and how many match."""
    held = replace(found, suspects_only=True)
    where = conditions(session, campaign_id=campaign_id, found=held)
    total = int(session.execute(sa.select(sa.func.count()).where(*where)).scalar_one())
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, page), pages)
    table = supporter_table.c
    rows = session.execute(
        sa.select(
            table.id,
            table.display_name,
            table.network,
            table.email_domain,
            table.referrer_id,
            table.created_at,
            table.confirmed_at,
        )
        .where(*where)
        .order_by(table.id.desc())
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    ).all()
    items = [
        Suspect(
            id=row.id,
            name=row.display_name,
            network=row.network,
            email_domain=row.email_domain,
            referrer_id=row.referrer_id,
            created_at=row.created_at,
            confirmed=row.confirmed_at is not None,
        )
        for row in rows
    ]
    return Suspects(items=items, total=total, page=page, pages=pages)


def release(
    session: Session,
    *,
    view: CampaignView,
    found: Filter,
    reason: str,
    actor_id: int | None,
    batch: int | None = None,
) -> int:
    """Count the suspects a filter matches after all, a batch per transaction: a confirmed
    one (or any, where the campaign counts unconfirmed signatures) enters the count with the
    next place, an unconfirmed one waits for its confirmation again. How many were released;
    the audit event is written with the first batch."""
    held = replace(found, suspects_only=True)
    size = batch or get_settings().invalidation_batch
    released, cursor = 0, 0
    where: list[Any] | None = None
    while True:
        with writing(session):
            lock_campaign(session.connection(), view.id)
            if where is None:
                where = conditions(session, campaign_id=view.id, found=held)
                audit.record(
                    session,
                    actor_id=actor_id,
                    action=RELEASE,
                    subject=subject(view.id),
                    reason=reason,
                    data={"filter": describe(held)},
                )
            rows = session.execute(
                sa.select(
                    supporter_table.c.id,
                    supporter_table.c.confirmed_at,
                    supporter_table.c.referrer_id,
                )
                .where(*where, supporter_table.c.id > cursor)
                .order_by(supporter_table.c.id)
                .limit(size)
            ).all()
            if rows:
                _release_rows(session, view, rows)
                cursor = rows[-1].id
        released += len(rows)
        invalidate_counts(view.id)
        if len(rows) < size:
            return released


@dataclass(frozen=True, slots=True)
class _Moving:
    id: int
    state: SupporterState
    referrer_id: int | None


def _release_rows(session: Session, view: CampaignView, rows: Sequence[Any]) -> None:
    """Move these suspects to the count or back to waiting, and their counters with them."""
    conn = session.connection()
    counts_now = view.campaign.counts_unconfirmed
    counted = [row for row in rows if row.confirmed_at is not None or counts_now]
    waiting = [row.id for row in rows if not (row.confirmed_at is not None or counts_now)]
    if waiting:
        conn.execute(
            sa.update(supporter_table)
            .where(supporter_table.c.id.in_(waiting))
            .values(state=SupporterState.PENDING)
        )
    if counted:
        last = conn.execute(
            sa.select(sa.func.coalesce(sa.func.max(supporter_table.c.number), 0)).where(
                supporter_table.c.campaign_id == view.id
            )
        ).scalar_one()
        conn.execute(
            sa.update(supporter_table)
            .where(supporter_table.c.id == sa.bindparam("supporter_id"))
            .values(state=SupporterState.COUNTED, number=sa.bindparam("place")),
            [
                {"supporter_id": row.id, "place": place}
                for place, row in enumerate(counted, start=int(last) + 1)
            ],
        )
    now = utcnow()
    leaving = [_Moving(row.id, SupporterState.SUSPECT, row.referrer_id) for row in rows]
    entering = [_Moving(row.id, SupporterState.COUNTED, row.referrer_id) for row in counted]
    entering += [_Moving(i, SupporterState.PENDING, None) for i in waiting]
    move_counts(conn, view.id, leaving, delta=-1, now=now)
    move_counts(conn, view.id, entering, delta=1, now=now)
