"""Building the public counts of a campaign from its cached tallies."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from pledge.campaigns import service as campaigns
from pledge.campaigns.models import CampaignView, PartnerView
from pledge.embeds.models import CampaignCounts, PartnerCount, PledgeCount
from pledge.errors import NotFound
from pledge.i18n import gettext as _
from pledge.supporters import service as supporters
from pledge.supporters.models import Counts


def counts_of(view: CampaignView, counts: Counts, url: str) -> CampaignCounts:
    return CampaignCounts(
        slug=view.slug,
        title=view.campaign.title,
        status=view.campaign.status.value,
        supporters=counts.total,
        goal=view.campaign.goal,
        pledges=[
            PledgeCount(slug=p.slug, text=p.text, supporters=counts.pledge(p.id))
            for p in view.pledges
        ],
        partners=sorted(
            (
                PartnerCount(slug=p.slug, name=p.name, supporters=counts.partner(p.id))
                for p in view.partners
            ),
            key=lambda partner: (-partner.supporters, partner.name.lower()),
        ),
        url=url,
        updated_at=counts.changed_at or view.campaign.updated_at,
    )


def get_campaign(session: Session, *, slug: str, base_url: str) -> CampaignCounts:
    view = campaigns.get_view(session, slug=slug)
    counts = supporters.get_counts(session, campaign_id=view.id)
    return counts_of(view, counts, f"{base_url}/c/{view.slug}")


def list_campaigns(session: Session, *, base_url: str) -> list[CampaignCounts]:
    views = campaigns.list_views(session)
    return [
        counts_of(view, counts, f"{base_url}/c/{view.slug}")
        for view, counts in supporters.list_with_counts(session, views=views)
    ]


# --- the widget, the badge and the share card -------------------------------------------


@dataclass(frozen=True, slots=True)
class Counter:
    """One campaign's count as a partner site shows it: in total, or through one partner."""

    view: CampaignView
    count: int
    partner: PartnerView | None

    @property
    def title(self) -> str:
        return self.view.campaign.title

    @property
    def goal(self) -> int:
        return self.view.campaign.goal


def get_counter(session: Session, *, slug: str, partner: str | None = None) -> Counter:
    """The public campaign's count; with ``partner`` (an organisation's short name), only
    the supporters that partner referred. An unknown partner is NotFound."""
    view = campaigns.get_view(session, slug=slug)
    counts = supporters.get_counts(session, campaign_id=view.id)
    if partner is None:
        return Counter(view=view, count=counts.total, partner=None)
    found = view.partner_by_slug(partner)
    if found is None:
        raise NotFound(_("This organisation is not a partner of this campaign."))
    return Counter(view=view, count=counts.partner(found.id), partner=found)
