"""A supporter found by the secret of their own links, and withdrawing: the signatures, the
counts and the personal data removed together."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session, select

from pledge.campaigns.models import Campaign
from pledge.db import writing
from pledge.errors import NotFound
from pledge.i18n import gettext as _
from pledge.supporters.models import (
    TOTAL,
    Signature,
    Supporter,
    partner_key,
    pledge_key,
    signature_table,
    supporter_table,
)
from pledge.supporters.service.tallies import bump, invalidate_counts


def get_by_token(session: Session, *, campaign: Campaign, token: str) -> Supporter:
    supporter = None
    if 10 <= len(token) <= 32:
        supporter = session.exec(
            select(Supporter).where(Supporter.token == token, Supporter.campaign_id == campaign.id)
        ).first()
    if supporter is None:
        raise NotFound(_("We could not find this signature. It may have been withdrawn already."))
    return supporter


def signed_pledge_ids(session: Session, *, supporter_id: int) -> set[int]:
    return set(
        session.exec(select(Signature.pledge_id).where(Signature.supporter_id == supporter_id))
    )


def withdraw(session: Session, *, campaign: Campaign, token: str) -> None:
    """Remove a supporter: their signatures, their counts and their personal data."""
    with writing(session):
        supporter = get_by_token(session, campaign=campaign, token=token)
        pledge_ids = signed_pledge_ids(session, supporter_id=supporter.id or 0)
        changes: list[tuple[str, int | None, int | None]] = [(TOTAL, None, None)]
        changes += [(pledge_key(pid), pid, None) for pid in sorted(pledge_ids)]
        if supporter.referrer_id is not None:
            changes.append((partner_key(supporter.referrer_id), None, supporter.referrer_id))
        session.execute(
            sa.delete(signature_table).where(signature_table.c.supporter_id == supporter.id)
        )
        session.execute(sa.delete(supporter_table).where(supporter_table.c.id == supporter.id))
        bump(session, campaign_id=campaign.id or 0, changes=changes, delta=-1)
    invalidate_counts(campaign.id)
