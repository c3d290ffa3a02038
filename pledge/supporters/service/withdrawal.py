"""A supporter found by the secret of their own links, and withdrawing: the signatures, the
counts and the personal data removed together."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session, col, select

from pledge.campaigns.models import Campaign
from pledge.db import writing
from pledge.errors import NotFound
from pledge.i18n import gettext as _
from pledge.supporters.models import (
    OUTSIDE_KEYS,
    TOTAL,
    Signature,
    Supporter,
    SupporterState,
    confirmation_table,
    partner_key,
    pledge_key,
    signature_table,
    supporter_table,
)
from pledge.supporters.service.known import lock_campaign
from pledge.supporters.service.tallies import bump, invalidate_counts


def get_by_token(session: Session, *, campaign: Campaign, token: str) -> Supporter:
    """The supporter whose own link this is; NotFound for a wrong token and for a signature
    not confirmed yet (its link was never sent)."""
    supporter = None
    if 10 <= len(token) <= 32:
        supporter = session.exec(
            select(Supporter).where(
                Supporter.token == token,
                Supporter.campaign_id == campaign.id,
                # Its link is sent once confirmed, or at once where the campaign counts
                # unconfirmed signatures.
                sa.or_(
                    col(Supporter.confirmed_at).is_not(None),
                    col(Supporter.state) == SupporterState.COUNTED,
                ),
            )
        ).first()
    if supporter is None:
        raise NotFound(_("We could not find this signature. It may have been withdrawn already."))
    return supporter


def signed_pledge_ids(session: Session, *, supporter_id: int) -> set[int]:
    return set(
        session.exec(select(Signature.pledge_id).where(Signature.supporter_id == supporter_id))
    )


def withdraw(session: Session, *, campaign: Campaign, token: str) -> None:
    """Remove a supporter: their signatures, their counts and their personal data. The counts
    move only when this call removed the row: the same link sent many times at once lowers
    them once."""
    with writing(session):
        supporter = get_by_token(session, campaign=campaign, token=token)
        remove(session, supporter=supporter)
    invalidate_counts(campaign.id)


def remove(session: Session, *, supporter: Supporter) -> bool:
    """Delete a supporter with their signatures and confirmations, and take them off the
    counts, inside the caller's write transaction; False when another transaction removed
    them first."""
    lock_campaign(session.connection(), supporter.campaign_id)
    # The state as it is under the lock: an invalidation or a review may have moved the
    # supporter in or out of the count since the row was read.
    state = session.execute(
        sa.select(supporter_table.c.state).where(supporter_table.c.id == supporter.id)
    ).scalar_one_or_none()
    pledge_ids = signed_pledge_ids(session, supporter_id=supporter.id or 0)
    removed = session.execute(
        sa.delete(supporter_table).where(supporter_table.c.id == supporter.id)
    ).rowcount  # type: ignore[attr-defined]
    if removed != 1 or state is None:
        # Someone else's withdrawal (or retention) got there first, and counted it.
        return False
    session.execute(
        sa.delete(signature_table).where(signature_table.c.supporter_id == supporter.id)
    )
    session.execute(
        sa.delete(confirmation_table).where(confirmation_table.c.supporter_id == supporter.id)
    )
    changes: list[tuple[str, int | None, int | None]] = []
    if state == SupporterState.COUNTED:
        changes = [(TOTAL, None, None)]
        changes += [(pledge_key(pid), pid, None) for pid in sorted(pledge_ids)]
        if supporter.referrer_id is not None:
            changes.append((partner_key(supporter.referrer_id), None, supporter.referrer_id))
    elif state in OUTSIDE_KEYS:
        changes = [(OUTSIDE_KEYS[SupporterState(state)], None, None)]
    bump(session, campaign_id=supporter.campaign_id, changes=changes, delta=-1)
    return True
