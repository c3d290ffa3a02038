"""Every query and rule about campaigns, their pledges and their partner organisations."""

from __future__ import annotations

import re
import secrets
from datetime import datetime

from sqlmodel import Session, col, select

from pledge.accounts.models import Organization
from pledge.campaigns.models import (
    PUBLIC_STATUSES,
    SIGNABLE_STATUSES,
    Campaign,
    CampaignPartner,
    CampaignStatus,
    CampaignView,
    PartnerView,
    Pledge,
)
from pledge.db import utcnow
from pledge.errors import Conflict, Invalid, NotFound
from pledge.i18n import gettext as _

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# Referral codes are typed by hand and read aloud: no 0/O or 1/l/I.
REFERRAL_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"

# Which status may follow which.
TRANSITIONS: dict[CampaignStatus, frozenset[CampaignStatus]] = {
    CampaignStatus.DRAFT: frozenset({CampaignStatus.LIVE}),
    CampaignStatus.LIVE: frozenset({CampaignStatus.CLOSED}),
    CampaignStatus.CLOSED: frozenset({CampaignStatus.LIVE}),
}


def new_referral_code() -> str:
    return "".join(secrets.choice(REFERRAL_ALPHABET) for _ in range(8))


def get_by_slug(session: Session, slug: str) -> Campaign:
    campaign = session.exec(select(Campaign).where(Campaign.slug == slug)).first()
    if campaign is None:
        raise NotFound(_("We could not find that campaign."))
    return campaign


def get_view(session: Session, *, slug: str, public: bool = True) -> CampaignView:
    """A campaign with its pledges and partners; drafts are not public."""
    campaign = get_by_slug(session, slug)
    if public and campaign.status not in PUBLIC_STATUSES:
        raise NotFound(_("We could not find that campaign."))
    return _view(session, campaign)


def _view(session: Session, campaign: Campaign) -> CampaignView:
    pledges = list(
        session.exec(
            select(Pledge)
            .where(Pledge.campaign_id == campaign.id)
            .order_by(col(Pledge.position), col(Pledge.id))
        )
    )
    rows = session.exec(
        select(CampaignPartner, Organization)
        .join(Organization, col(Organization.id) == CampaignPartner.org_id)
        .where(CampaignPartner.campaign_id == campaign.id)
        .order_by(col(CampaignPartner.id))
    )
    partners = [
        PartnerView(
            id=partner.id or 0,
            slug=org.slug,
            name=org.name,
            website=org.website,
            referral_code=partner.referral_code,
            is_lead=org.id == campaign.lead_org_id,
        )
        for partner, org in rows
    ]
    partners.sort(key=lambda p: (not p.is_lead, p.name.lower()))
    return CampaignView(campaign=campaign, pledges=pledges, partners=partners)


def list_views(
    session: Session, *, statuses: frozenset[CampaignStatus] = PUBLIC_STATUSES
) -> list[CampaignView]:
    campaigns = session.exec(
        select(Campaign)
        .where(col(Campaign.status).in_(list(statuses)))
        .order_by(col(Campaign.status).desc(), col(Campaign.created_at).desc())
    )
    return [_view(session, campaign) for campaign in campaigns]


def create(
    session: Session,
    *,
    slug: str,
    title: str,
    lead_org: Organization,
    summary: str = "",
    body: str = "",
    goal: int = 1000,
    locale: str = "id",
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    referral_code: str | None = None,
) -> Campaign:
    """A draft campaign led by an organisation, which is its first partner."""
    if not SLUG_RE.fullmatch(slug) or len(slug) > 64:
        raise Invalid({"slug": _("Use lower-case letters, digits and dashes only.")})
    if session.exec(select(Campaign).where(Campaign.slug == slug)).first():
        raise Conflict(_("A campaign with this address already exists."))
    campaign = Campaign(
        slug=slug,
        title=title,
        summary=summary,
        body=body,
        lead_org_id=lead_org.id or 0,
        goal=goal,
        locale=locale,
        starts_at=starts_at,
        ends_at=ends_at,
    )
    session.add(campaign)
    session.flush()
    add_partner(session, campaign=campaign, org=lead_org, referral_code=referral_code)
    return campaign


def add_pledge(session: Session, *, campaign: Campaign, slug: str, text: str) -> Pledge:
    if not SLUG_RE.fullmatch(slug) or len(slug) > 64:
        raise Invalid({"slug": _("Use lower-case letters, digits and dashes only.")})
    existing = session.exec(
        select(Pledge).where(Pledge.campaign_id == campaign.id, Pledge.slug == slug)
    ).first()
    if existing:
        raise Conflict(_("This campaign already has a pledge with that address."))
    position = len(session.exec(select(Pledge.id).where(Pledge.campaign_id == campaign.id)).all())
    pledge = Pledge(campaign_id=campaign.id or 0, slug=slug, text=text, position=position)
    session.add(pledge)
    session.flush()
    return pledge


def add_partner(
    session: Session, *, campaign: Campaign, org: Organization, referral_code: str | None = None
) -> CampaignPartner:
    existing = session.exec(
        select(CampaignPartner).where(
            CampaignPartner.campaign_id == campaign.id, CampaignPartner.org_id == org.id
        )
    ).first()
    if existing:
        return existing
    partner = CampaignPartner(
        campaign_id=campaign.id or 0,
        org_id=org.id or 0,
        referral_code=referral_code or new_referral_code(),
    )
    session.add(partner)
    session.flush()
    return partner


def is_signable(campaign: Campaign, now: datetime | None = None) -> bool:
    """Live, started, and not past its end date."""
    now = now or utcnow()
    return (
        campaign.status in SIGNABLE_STATUSES
        and (campaign.starts_at is None or campaign.starts_at <= now)
        and (campaign.ends_at is None or now < campaign.ends_at)
    )


def set_status(session: Session, *, campaign: Campaign, status: CampaignStatus) -> Campaign:
    """Move a campaign to another status, refusing the moves that make no sense."""
    if status == campaign.status:
        return campaign
    if status not in TRANSITIONS[campaign.status]:
        raise Invalid(
            {"status": _("A campaign cannot move from this status to that one.")},
        )
    now = utcnow()
    if status == CampaignStatus.LIVE:
        reopening = campaign.status == CampaignStatus.CLOSED
        if reopening and campaign.ends_at is not None and campaign.ends_at <= now:
            campaign.ends_at = None  # the end date set by closing would refuse everyone
        has_pledges = session.exec(
            select(Pledge.id).where(Pledge.campaign_id == campaign.id)
        ).first()
        if not has_pledges:
            raise Invalid({"status": _("Add at least one pledge before going live.")})
        if campaign.starts_at is None:
            campaign.starts_at = now
    if status == CampaignStatus.CLOSED:
        campaign.ends_at = min(campaign.ends_at, now) if campaign.ends_at else now
    campaign.status = status
    campaign.updated_at = now
    session.add(campaign)
    session.flush()
    return campaign
