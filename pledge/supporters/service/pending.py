"""Signatures waiting for their confirmation, over the days: email reminders (at most two, two
days apart), and the deletion, with their personal data, of those never confirmed.

Both run from `pledge retention run`. Each batch is one short write transaction whose
statements only match rows not yet done, so a run can stop and start again anywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from pledge import mail
from pledge.campaigns import service as campaigns
from pledge.config import get_settings
from pledge.db import utcnow, writing
from pledge.security import FieldCipher, hash_token, random_token
from pledge.supporters.models import (
    OUTSIDE_KEYS,
    ConfirmationChannel,
    SupporterState,
    confirmation_table,
    supporter_table,
)
from pledge.supporters.service.known import lock_campaign
from pledge.supporters.service.messages import SignerLinks, reminder_email
from pledge.supporters.service.secrets import code_digest, new_code
from pledge.supporters.service.tallies import add_to_tallies, invalidate_counts

# The first message and at most two reminders, two days apart.
MESSAGES_MAX = 3
REMIND_AFTER = timedelta(days=2)
BATCH = 500
# The states whose unconfirmed signatures are deleted once they are PLEDGE_PENDING_DAYS old:
# an invalidated one could only come back as pending, and would be deleted then.
UNCONFIRMED_DELETED = (*OUTSIDE_KEYS, SupporterState.INVALIDATED)


@dataclass(frozen=True, slots=True)
class PendingReport:
    reminded: int = 0  # reminders queued by this run
    deleted: int = 0  # pending signatures deleted, never confirmed


def remind(
    session: Session, *, links_for: Callable[[str], SignerLinks], now: datetime | None = None
) -> int:
    """Queue a reminder for each pending email signature whose last message is two days old,
    up to two reminders; how many were queued. Each reminder is a new link and code (the
    earlier ones keep working until the signature expires)."""
    now = now or utcnow()
    titles = campaigns.list_titles(session)
    reminded = 0
    while True:
        with writing(session):
            due = _due_reminders(session, now=now)
            for row in due:
                slug, title = titles[row.campaign_id]
                _remind_one(session, row, links=links_for(slug), title=title, now=now)
            reminded += len(due)
        if len(due) < BATCH:
            return reminded


def _due_reminders(session: Session, *, now: datetime) -> list[Any]:
    """The newest email confirmation of each pending supporter that is due a reminder."""
    return list(
        session.execute(
            sa.select(
                confirmation_table.c.id,
                confirmation_table.c.supporter_id,
                confirmation_table.c.pledge_ids,
                confirmation_table.c.contact_encrypted,
                confirmation_table.c.messages,
                confirmation_table.c.locale,
                confirmation_table.c.expires_at,
                supporter_table.c.campaign_id,
            )
            .join(supporter_table, supporter_table.c.id == confirmation_table.c.supporter_id)
            .where(
                supporter_table.c.state == SupporterState.PENDING,
                confirmation_table.c.channel == ConfirmationChannel.EMAIL.value,
                confirmation_table.c.confirmed_at.is_(None),
                # Only the newest message of a signing keeps the contact for the next one.
                confirmation_table.c.contact_encrypted.is_not(None),
                confirmation_table.c.messages.between(1, MESSAGES_MAX - 1),
                confirmation_table.c.last_message_at <= now - REMIND_AFTER,
                confirmation_table.c.expires_at > now,
            )
            .order_by(confirmation_table.c.id)
            .limit(BATCH)
        ).all()
    )


def _remind_one(
    session: Session, row: Any, *, links: SignerLinks, title: str, now: datetime
) -> None:
    """One reminder: a new confirmation that carries the contact on, and its email."""
    contact = FieldCipher(get_settings().secret_key).decrypt(row.contact_encrypted)
    session.execute(
        sa.update(confirmation_table)
        .where(confirmation_table.c.id == row.id)
        .values(contact_encrypted=None)
    )
    if contact is None:  # encrypted under another secret key: nothing can be sent
        return
    secret, code = random_token(18), new_code()
    link_digest = hash_token(secret)
    session.execute(
        sa.insert(confirmation_table).values(
            supporter_id=row.supporter_id,
            channel=ConfirmationChannel.EMAIL.value,
            pledge_ids=row.pledge_ids,
            link_digest=link_digest,
            code_digest=code_digest(link_digest, code),
            wrong_codes=0,
            contact_encrypted=row.contact_encrypted,
            messages=row.messages + 1,
            last_message_at=now,
            locale=row.locale,
            created_at=now,
            expires_at=row.expires_at,
        )
    )
    subject, body = reminder_email(links, locale=row.locale, title=title, secret=secret, code=code)
    mail.queue_rows(session.connection(), [mail.outbox_row(to=contact, subject=subject, body=body)])


def delete_expired(session: Session, *, now: datetime | None = None) -> int:
    """Delete the signatures never confirmed (pending, held as suspect, or invalidated) that
    are older than PLEDGE_PENDING_DAYS, with their personal data and confirmations, and take
    them off their counts; how many were deleted. The unused confirmations of confirmed
    supporters that expired are deleted too."""
    now = now or utcnow()
    cutoff = now - timedelta(days=get_settings().pending_days)
    deleted = 0
    for state in UNCONFIRMED_DELETED:
        while True:
            with writing(session):
                rows = session.execute(
                    sa.select(supporter_table.c.id, supporter_table.c.campaign_id)
                    .where(
                        supporter_table.c.state == state,
                        supporter_table.c.created_at < cutoff,
                        supporter_table.c.confirmed_at.is_(None),
                    )
                    .order_by(supporter_table.c.id)
                    .limit(BATCH)
                ).all()
                deleted += _delete_unconfirmed(session, rows, state=state, now=now)
            if len(rows) < BATCH:
                break
    with writing(session):
        session.execute(
            sa.delete(confirmation_table).where(
                confirmation_table.c.confirmed_at.is_(None), confirmation_table.c.expires_at < now
            )
        )
    return deleted


def _delete_unconfirmed(
    session: Session, rows: Sequence[Any], *, state: SupporterState, now: datetime
) -> int:
    """Delete these supporters if they are still unconfirmed and in this state (one may have
    confirmed since they were read), with their confirmations (the foreign key cascades), and
    lower each campaign's counter of that state by the rows removed."""
    by_campaign: dict[int, list[int]] = {}
    for supporter_id, campaign_id in rows:
        by_campaign.setdefault(campaign_id, []).append(supporter_id)
    deleted = 0
    for campaign_id, ids in sorted(by_campaign.items()):
        lock_campaign(session.connection(), campaign_id)
        removed = int(
            session.execute(
                sa.delete(supporter_table).where(
                    supporter_table.c.id.in_(ids),
                    supporter_table.c.state == state,
                    supporter_table.c.confirmed_at.is_(None),
                )
            ).rowcount  # type: ignore[attr-defined]
        )
        if removed and state in OUTSIDE_KEYS:
            add_to_tallies(
                session.connection(),
                [(campaign_id, OUTSIDE_KEYS[state], None, None, -removed)],
                now=now,
            )
            invalidate_counts(campaign_id)
        deleted += removed
    return deleted
