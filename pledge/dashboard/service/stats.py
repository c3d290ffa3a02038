"""A campaign's statistics page: the live tallies beside the latest recount of its supporters.

Counts come from the tallies (pledge.supporters.service.read_counts); the breakdowns that
describe people come from a recount kept a while per process (`recounting.recounts`), of the
supporters who had signed by midnight WIB, small groups folded and every count rounded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from pledge.accounts.models import Organization
from pledge.campaigns.models import CampaignView, PartnerView
from pledge.dashboard.service import recounting
from pledge.dashboard.service.breakdowns import (
    WIB,
    Breakdown,
    Bucket,
    over_time,
    parse_days,
    protect,
)
from pledge.dashboard.service.orgs import OrgCampaign, campaign_for_org
from pledge.db import utcnow
from pledge.i18n import gettext as _
from pledge.supporters import service as supporters
from pledge.supporters.models import Counts


@dataclass(frozen=True, slots=True)
class Statistics:
    campaign: OrgCampaign
    pledges: list[Bucket]
    partners: list[Bucket]  # referrals per partner, then the supporters with no referral
    provinces: Breakdown  # folded and rounded
    age_bands: Breakdown  # folded and rounded
    people_until: datetime  # in WIB: the breakdowns count who signed before this midnight
    days: int
    per_day: list[Bucket]
    per_hour: list[Bucket]
    opted_in: int  # supporters who asked this organisation for news
    generated_at: datetime  # in WIB

    @property
    def view(self) -> CampaignView:
        return self.campaign.view

    @property
    def counts(self) -> Counts:
        return self.campaign.counts


def statistics(
    session: Session,
    *,
    org: Organization,
    slug: str,
    days: str | None = None,
    now: datetime | None = None,
) -> Statistics:
    """A campaign's numbers, for an organisation that leads it or partners in it."""
    window = parse_days(days)
    found = campaign_for_org(session, org=org, slug=slug)
    view, counts = found.view, found.counts
    pledges = [Bucket(key=p.slug, label=p.text, count=counts.pledge(p.id)) for p in view.pledges]
    partners = [Bucket(key=p.slug, label=p.name, count=counts.partner(p.id)) for p in view.partners]
    referred = sum(bucket.count for bucket in partners)
    partners.append(
        Bucket(key="", label=_("No partner's link"), count=max(counts.total - referred, 0))
    )
    now_wib = (now or utcnow()).astimezone(WIB)
    recount = recounting.recounts.get(session, campaign_id=view.id, total=counts.total, now=now_wib)
    # The hours since the recount are not in it yet: the charts end where it was made.
    per_day, per_hour = over_time(recount.hourly, days=window, now=recount.made_at)
    return Statistics(
        campaign=found,
        pledges=pledges,
        partners=partners,
        provinces=protect(recount.provinces),
        age_bands=protect(recount.age_bands),
        people_until=recount.people_until,
        days=window,
        per_day=per_day,
        per_hour=per_hour,
        opted_in=count_opted_in(session, partner=found.partner),
        generated_at=recount.made_at,
    )


def count_opted_in(session: Session, *, partner: PartnerView | None) -> int:
    if partner is None:
        return 0
    return supporters.count_opted_in(session, partner_id=partner.id)
