"""Campaigns, partners and pledges as the other domains read them (the dashboard, moderation,
the hoax pages, personal data requests and retention), and the campaign's part of a statement
that needs it in the same round trip as another domain's rows."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from pledge.accounts import service as accounts
from pledge.campaigns.models import (
    PUBLIC_STATUSES,
    Campaign,
    CampaignPartner,
    CampaignStatus,
    PartnerStatus,
    campaign_partner_table,
    campaign_table,
    pledge_table,
)

# --- campaigns ---------------------------------------------------------------------------


def get_or_none(session: Session, campaign_id: int) -> Campaign | None:
    """The campaign with this id, or None."""
    return session.get(Campaign, campaign_id)


def count_campaigns(session: Session, *, status: CampaignStatus) -> int:
    """How many campaigns are in this status."""
    return int(
        session.exec(
            select(func.count()).select_from(Campaign).where(Campaign.status == status)
        ).one()
    )


class CampaignTitle(NamedTuple):
    slug: str
    title: str


def list_titles(session: Session) -> dict[int, CampaignTitle]:
    """Every campaign's address and title, by id, whatever its status."""
    rows = session.execute(
        sa.select(campaign_table.c.id, campaign_table.c.slug, campaign_table.c.title)
    ).all()
    return {int(campaign_id): CampaignTitle(slug, title) for campaign_id, slug, title in rows}


def last_change(conn: sa.Connection) -> datetime | None:
    """When any campaign last changed (its status, title...): pages that show campaigns drawn
    before then are drawn again."""
    return conn.execute(sa.select(func.max(campaign_table.c.updated_at))).scalar()


def list_public(session: Session, *, ids: Collection[int]) -> list[Campaign]:
    """The public campaigns (live or closed) among these, by title."""
    if not ids:
        return []
    return list(
        session.exec(
            select(Campaign)
            .where(col(Campaign.id).in_(list(ids)), col(Campaign.status).in_(PUBLIC_STATUSES))
            .order_by(col(Campaign.title), col(Campaign.id))
        )
    )


def public_id(session: Session, *, slug: str) -> int | None:
    """The id of the public campaign at this address, or None."""
    return session.exec(
        select(Campaign.id).where(Campaign.slug == slug, col(Campaign.status).in_(PUBLIC_STATUSES))
    ).first()


def list_closed_before(session: Session, *, cutoff: datetime) -> list[tuple[int, str]]:
    """The id and address of the campaigns whose closing time is at or before the cutoff.

    The closing time is closed_at (set when someone closed it) or ends_at once passed,
    whichever is earlier; the earlier of two is before the cutoff when either is, and an
    ends_at before the cutoff has passed. A reopened campaign has neither (see set_status)."""
    rows = session.execute(
        sa.select(campaign_table.c.id, campaign_table.c.slug)
        .where(sa.or_(campaign_table.c.closed_at <= cutoff, campaign_table.c.ends_at <= cutoff))
        .order_by(campaign_table.c.id)
    ).all()
    return [(int(campaign_id), str(slug)) for campaign_id, slug in rows]


def list_led(session: Session, *, org_id: int) -> list[Campaign]:
    """The campaigns this organisation leads, newest first."""
    return list(
        session.exec(
            select(Campaign)
            .where(Campaign.lead_org_id == org_id)
            .order_by(col(Campaign.created_at).desc(), col(Campaign.id).desc())
        )
    )


def list_joined(session: Session, *, org_id: int) -> list[Campaign]:
    """The campaigns this organisation partners in without leading them, newest first."""
    return list(
        session.exec(
            select(Campaign)
            .join(CampaignPartner, col(CampaignPartner.campaign_id) == Campaign.id)
            .where(
                CampaignPartner.org_id == org_id,
                CampaignPartner.status == PartnerStatus.ACTIVE,
                Campaign.lead_org_id != org_id,
            )
            .order_by(col(Campaign.created_at).desc(), col(Campaign.id).desc())
        )
    )


def list_partnered(session: Session, *, org_ids: Collection[int]) -> list[Campaign]:
    """The campaigns in which one of these organisations is a partner (the lead is one too),
    by title."""
    return list(
        session.exec(
            select(Campaign)
            .where(col(Campaign.id).in_(select_partnered_campaign_ids(org_ids)))
            .order_by(col(Campaign.title), col(Campaign.id))
        )
    )


# --- partners ----------------------------------------------------------------------------


def has_partner(session: Session, *, campaign_id: int, org_ids: Collection[int]) -> bool:
    """Whether one of these organisations is a partner of the campaign (invited and departed
    organisations are not)."""
    partner = campaign_partner_table
    found = session.execute(
        sa.select(partner.c.id).where(
            partner.c.campaign_id == campaign_id,
            partner.c.org_id.in_(org_ids),
            partner.c.status == PartnerStatus.ACTIVE.value,
        )
    ).first()
    return found is not None


def get_partner_names(session: Session, *, partner_ids: Collection[int]) -> dict[int, str]:
    """The name of the organisation behind each of these campaign partners, by partner id."""
    if not partner_ids:
        return {}
    partner = campaign_partner_table
    rows = session.execute(
        accounts.select_with_org_name(partner.c.id, org_id=partner.c.org_id).where(
            partner.c.id.in_(partner_ids)
        )
    ).all()
    return {int(partner_id): str(name) for partner_id, name in rows}


# --- the campaign's part of another domain's statement -----------------------------------


def select_partnered_campaign_ids(org_ids: Collection[int]) -> sa.Select[tuple[int]]:
    """A subquery: the ids of the campaigns in which one of these organisations is a partner
    (the lead is one too), for a statement that keeps only their rows."""
    partner = campaign_partner_table
    return sa.select(partner.c.campaign_id).where(
        partner.c.org_id.in_(org_ids), partner.c.status == PartnerStatus.ACTIVE.value
    )


def select_campaign_ids(*, statuses: Collection[CampaignStatus]) -> sa.Select[tuple[int]]:
    """A subquery: the ids of the campaigns in one of these statuses."""
    return sa.select(campaign_table.c.id).where(campaign_table.c.status.in_(list(statuses)))


def select_with_campaign(
    entity: Any, *where: Any, campaign_id: Any, statuses: Collection[CampaignStatus]
) -> Any:
    """SELECT the caller's entity and, on each row, the Campaign its `campaign_id` column
    names: the rows meeting the caller's conditions whose campaign is in one of these
    statuses, in one round trip for a page that shows both."""
    return (
        select(entity, Campaign)
        .join(Campaign, col(Campaign.id) == campaign_id)
        .where(*where, col(Campaign.status).in_(list(statuses)))
    )


def select_with_pledge_text(column: Any, *, pledge_id: Any) -> sa.Select[Any]:
    """SELECT the caller's column and, on each row, the text of the pledge its `pledge_id`
    column names, in the campaign's order of pledges. The caller adds its own conditions."""
    return (
        sa.select(column, pledge_table.c.text)
        .join(pledge_table, pledge_table.c.id == pledge_id)
        .order_by(pledge_table.c.position, pledge_table.c.id)
    )
