"""An organisation's campaigns as its dashboard lists them: those it leads and those it joined."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session

from pledge.accounts import service as accounts
from pledge.accounts.models import Organization, User
from pledge.accounts.service import OrgRole
from pledge.campaigns import service as campaigns
from pledge.campaigns.models import PUBLIC_STATUSES, Campaign, CampaignView, PartnerView
from pledge.errors import NotFound
from pledge.i18n import gettext as _
from pledge.supporters import service as supporters
from pledge.supporters.models import Counts


def home(session: Session, *, user: User) -> list[OrgRole]:
    """The organisations the user belongs to, with their role in each."""
    return accounts.list_memberships(session, user_id=user.id or 0)


@dataclass(frozen=True, slots=True)
class OrgCampaign:
    """A campaign as one organisation sees it: led by it, or joined as a partner."""

    view: CampaignView
    counts: Counts
    partner: PartnerView | None  # the organisation's own partner row in this campaign

    @property
    def is_public(self) -> bool:
        return self.view.campaign.status in PUBLIC_STATUSES

    @property
    def referrals(self) -> int:
        return self.counts.partner(self.partner.id) if self.partner else 0


@dataclass(frozen=True, slots=True)
class OrgHome:
    org: Organization
    led: list[OrgCampaign]
    partnered: list[OrgCampaign]
    # Campaigns that asked the organisation to partner: (its partner row's id, the campaign,
    # the lead organisation's name).
    invitations: list[tuple[int, Campaign, str]] = field(default_factory=list)


def org_home(session: Session, *, org: Organization) -> OrgHome:
    """The campaigns an organisation leads and the ones it partners in, with their counts."""
    led = campaigns.list_led(session, org_id=org.id or 0)
    partnered = campaigns.list_joined(session, org_id=org.id or 0)
    invited = campaigns.list_invitations(session, org_id=org.id or 0)
    return OrgHome(
        org=org,
        led=[_org_campaign(session, org=org, campaign=c) for c in led],
        partnered=[_org_campaign(session, org=org, campaign=c) for c in partnered],
        invitations=[(p.id or 0, c, _org_name(session, c.lead_org_id)) for p, c in invited],
    )


def _org_name(session: Session, org_id: int) -> str:
    found = accounts.get_org_or_none(session, org_id)
    return found.name if found else ""


def _org_campaign(session: Session, *, org: Organization, campaign: Campaign) -> OrgCampaign:
    view = campaigns.get_view(session, slug=campaign.slug, public=False)
    return OrgCampaign(
        view=view,
        counts=supporters.read_counts(session, campaign_id=view.id),
        partner=view.partner_by_slug(org.slug),
    )


def campaign_for_org(session: Session, *, org: Organization, slug: str) -> OrgCampaign:
    """A campaign the organisation leads or partners in; any other is not found for it."""
    try:
        view = campaigns.get_view(session, slug=slug, public=False)
    except NotFound:
        raise NotFound(_("We could not find that campaign.")) from None
    partner = view.partner_by_slug(org.slug)
    if partner is None and view.campaign.lead_org_id != org.id:
        raise NotFound(_("We could not find that campaign among your organisation's campaigns."))
    return OrgCampaign(
        view=view,
        counts=supporters.read_counts(session, campaign_id=view.id),
        partner=partner,
    )
