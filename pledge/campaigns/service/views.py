"""Reading campaigns: a campaign with its pledges and partners as the public pages need it,
kept for a moment per process, and its story rendered from Markdown.

Every public request needs the campaign with its pledges and partners: three queries. A
process keeps each public view for PLEDGE_CAMPAIGN_CACHE_SECONDS. A change committed through
this process (a campaign, pledge, partner or organisation saved) empties the cache at once;
another process sees it when its copy expires.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import sqlalchemy as sa
from markdown_it import MarkdownIt
from sqlalchemy import event
from sqlmodel import Session, col, select

from pledge.accounts import service as accounts
from pledge.accounts.models import Organization
from pledge.cache import Cache
from pledge.campaigns.models import (
    PUBLIC_STATUSES,
    Campaign,
    CampaignPartner,
    CampaignStatus,
    CampaignView,
    PartnerStatus,
    PartnerView,
    Pledge,
    campaign_table,
)
from pledge.config import get_settings
from pledge.db import utcnow
from pledge.errors import NotFound
from pledge.i18n import gettext as _

# CommonMark with raw HTML off: partner text can never inject markup or script.
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})


def render_markdown(text: str) -> str:
    return _markdown.render(text)


def get_by_slug(session: Session, slug: str) -> Campaign:
    # PostgreSQL refuses a NUL in any text it is sent; no slug holds one.
    if "\x00" in slug:
        raise NotFound(_("We could not find that campaign."))
    campaign = session.exec(select(Campaign).where(Campaign.slug == slug)).first()
    if campaign is None:
        raise NotFound(_("We could not find that campaign."))
    return campaign


def get_view(session: Session, *, slug: str, public: bool = True) -> CampaignView:
    """A campaign with its pledges and partners; drafts are not public."""
    campaign = get_by_slug(session, slug)
    if public and campaign.status not in PUBLIC_STATUSES:
        raise NotFound(_("We could not find that campaign."))
    return view_of(session, campaign)


def view_of(session: Session, campaign: Campaign) -> CampaignView:
    """The campaign with its pledges in their order and its partners (the organisations that
    accepted), the lead first."""
    pledges = list(
        session.exec(
            select(Pledge)
            .where(Pledge.campaign_id == campaign.id)
            .order_by(col(Pledge.position), col(Pledge.id))
        )
    )
    partners = partner_views(session, campaign, statuses=(PartnerStatus.ACTIVE,))
    return CampaignView(campaign=campaign, pledges=pledges, partners=partners)


def partner_views(
    session: Session, campaign: Campaign, *, statuses: Collection[PartnerStatus]
) -> list[PartnerView]:
    """The campaign's partner organisations in these statuses, the lead first, then by name."""
    rows = session.exec(
        accounts.select_with_org(CampaignPartner, org_id=CampaignPartner.org_id)
        .where(
            CampaignPartner.campaign_id == campaign.id,
            col(CampaignPartner.status).in_(list(statuses)),
        )
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
            status=partner.status,
        )
        for partner, org in rows
    ]
    partners.sort(key=lambda p: (not p.is_lead, p.name.lower()))
    return partners


def list_views(
    session: Session, *, statuses: frozenset[CampaignStatus] = PUBLIC_STATUSES
) -> list[CampaignView]:
    campaigns = session.exec(
        select(Campaign)
        .where(col(Campaign.status).in_(list(statuses)))
        .order_by(col(Campaign.status).desc(), col(Campaign.created_at).desc())
    )
    return [view_of(session, campaign) for campaign in campaigns]


def list_slugs(session: Session) -> list[tuple[int, str]]:
    """Every campaign's id and address, whatever its status."""
    rows = session.execute(sa.select(campaign_table.c.id, campaign_table.c.slug)).all()
    return [(campaign_id, slug) for campaign_id, slug in rows]


# --- public campaigns, kept for a moment per process ------------------------------------

_CACHED_TYPES = (Campaign, Pledge, CampaignPartner, Organization)

# Unbounded: only public campaigns that exist are kept, and a read takes no lock.
_views: Cache[str, CampaignView] = Cache("campaigns.views", size=None)


def _same_view(kept: CampaignView, read: CampaignView) -> bool:
    """The same campaign, pledges and partners, column by column: the view kept stays, so
    that the pages and bodies drawn from it stay valid."""
    return (
        kept.campaign.model_dump() == read.campaign.model_dump()
        and [p.model_dump() for p in kept.pledges] == [p.model_dump() for p in read.pledges]
        and kept.partners == read.partners
    )


def forget_views() -> None:
    _views.clear()


def cached_public_view(slug: str) -> CampaignView | None:
    max_age = get_settings().campaign_cache_seconds
    return _views.get(slug, max_age) if max_age > 0 else None


def get_public_view(session: Session, *, slug: str) -> CampaignView:
    """A public campaign as get_view gives it, from this process's cache when fresh."""
    max_age = get_settings().campaign_cache_seconds
    view = _views.get(slug, max_age) if max_age > 0 else None
    if view is None:
        view = get_view(session, slug=slug, public=True)
        if max_age > 0:
            view = _views.put(slug, view, same=_same_view)
    return view


def note_public_change(session: Session, campaign: Campaign) -> None:
    """Something a campaign's public pages show changed outside its own rows (a supporter's
    name hidden or shown): once the caller commits, every process reads the campaign again
    within campaign_cache_seconds, and builds its page anew."""
    campaign.updated_at = utcnow()
    session.add(campaign)


@event.listens_for(Session, "before_flush")
def _note_campaign_changes(session: Session, _context: Any, _instances: Any) -> None:
    changed = (*session.new, *session.dirty, *session.deleted)
    if any(isinstance(obj, _CACHED_TYPES) for obj in changed):
        session.info["campaigns_changed"] = True


@event.listens_for(Session, "after_commit")
def _forget_changed_campaigns(session: Session) -> None:
    if session.info.pop("campaigns_changed", False):
        _views.clear()


@event.listens_for(Session, "after_rollback")
def _keep_views_after_rollback(session: Session) -> None:
    session.info.pop("campaigns_changed", None)
