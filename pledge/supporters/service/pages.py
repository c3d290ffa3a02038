"""What the public pages show of a campaign's supporters: the campaign page's counts, newest
supporters and partner leaderboard; the list of campaigns with their counts; and a
supporter's own thank-you page."""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlmodel import Session

from pledge.cache import Cache
from pledge.campaigns.models import CampaignView, PartnerView
from pledge.supporters.models import Counts, Supporter, SupporterState, supporter_table
from pledge.supporters.service.form import first_name
from pledge.supporters.service.invalidation import Note, public_notes
from pledge.supporters.service.names import PublicSupporter, list_recent_public
from pledge.supporters.service.tallies import cached_counts, get_counts, read_counts
from pledge.supporters.service.withdrawal import get_by_token, signed_pledge_ids


def leaderboard(view: CampaignView, counts: Counts) -> list[tuple[PartnerView, int]]:
    """The partners with the supporters each brought in, most first, ties by name."""
    return sorted(
        ((partner, counts.partner(partner.id)) for partner in view.partners),
        key=lambda ranked: (-ranked[1], ranked[0].name.lower()),
    )


@dataclass(frozen=True, slots=True)
class CampaignPage:
    counts: Counts
    recent: list[PublicSupporter]
    partners: list[tuple[PartnerView, int]]
    # Signatures an administrator took off the count, and why: the page says so.
    invalidations: list[Note] = field(default_factory=list)


# The last page built per campaign, with the view and counts it was built from: while both
# are the ones this process holds, nobody new has signed, and the page stays as it is.
# Unbounded: one entry per campaign, and a read takes no lock.
_pages: Cache[int, tuple[CampaignView, CampaignPage]] = Cache(
    "supporters.campaign_pages", size=None
)


def cached_campaign_page(view: CampaignView) -> CampaignPage | None:
    """The campaign page's data as this process last built it, if its counts are still
    current; no I/O."""
    counts = cached_counts(view.id)
    built = _pages.get(view.id)
    if counts is not None and built is not None and built[0] is view and built[1].counts is counts:
        return built[1]
    return None


def campaign_page(session: Session, *, view: CampaignView) -> CampaignPage:
    counts = get_counts(session, campaign_id=view.id)
    built = _pages.get(view.id)
    if built is not None and built[0] is view and built[1].counts is counts:
        return built[1]
    page = CampaignPage(
        counts=counts,
        recent=list_recent_public(session, campaign_id=view.id),
        partners=leaderboard(view, counts),
        # Read with the page, that is when the counts changed: an invalidation's batches and
        # a restore's move them.
        invalidations=public_notes(session, campaign_id=view.id),
    )
    _pages.put(view.id, (view, page))
    return page


def forget_page(campaign_id: int) -> None:
    """Build the campaign page's data again at its next visit in this process."""
    _pages.pop(campaign_id)


def list_with_counts(
    session: Session, *, views: list[CampaignView]
) -> list[tuple[CampaignView, Counts]]:
    return [(view, get_counts(session, campaign_id=view.id)) for view in views]


@dataclass(frozen=True, slots=True)
class ThankYou:
    supporter: Supporter
    first_name: str
    signed: list[str]  # texts of every pledge this supporter has signed
    counts: Counts
    referral_code: str | None
    friends: int  # supporters who signed through this supporter's personal invite link


def thank_you(session: Session, *, view: CampaignView, token: str) -> ThankYou:
    supporter = get_by_token(session, campaign=view.campaign, token=token)
    signed = signed_pledge_ids(session, supporter_id=supporter.id or 0)
    referrer = next((p for p in view.partners if p.id == supporter.referrer_id), None)
    return ThankYou(
        supporter=supporter,
        first_name=first_name(supporter.display_name),
        signed=[p.text for p in view.pledges if p.id in signed],
        # Straight from the tallies: the supporter must see their own signature counted.
        counts=read_counts(session, campaign_id=view.id),
        referral_code=referrer.referral_code if referrer else None,
        friends=count_friends(session, supporter_id=supporter.id or 0),
    )


def count_friends(session: Session, *, supporter_id: int) -> int:
    return int(
        session.execute(
            sa.select(sa.func.count()).where(
                supporter_table.c.invited_by_id == supporter_id,
                supporter_table.c.state == SupporterState.COUNTED,
            )
        ).scalar_one()
    )
