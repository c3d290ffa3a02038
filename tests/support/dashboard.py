"""The dashboard tests' world: a live campaign with a co-partner, and an organisation with no
part in it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from pledge.accounts import service as accounts
from pledge.accounts.models import Organization
from pledge.campaigns.models import CampaignView
from tests.support.factories import make_campaign


@dataclass(frozen=True)
class World:
    """A live campaign led by `lead` with `partner` as co-partner, and `stranger`, an
    organisation with a campaign of its own and no part in the first one."""

    view: CampaignView
    lead: Organization
    partner: Organization
    stranger: Organization
    elsewhere: CampaignView

    def path(
        self, route: str, org: Organization | None = None, view: CampaignView | None = None
    ) -> str:
        org_slug = (org or self.lead).slug
        slug = (view or self.view).slug
        return {
            "home": "/dashboard",
            "org": f"/dashboard/{org_slug}",
            "statistics": f"/dashboard/{org_slug}/campaigns/{slug}/statistics",
            "export": f"/dashboard/{org_slug}/campaigns/{slug}/export.csv",
            "export_xlsx": f"/dashboard/{org_slug}/campaigns/{slug}/export.xlsx",
        }[route]


def make_world(session: Session) -> World:
    view = make_campaign(session, partners=1)
    elsewhere = make_campaign(session, partners=0)
    return World(
        view=view,
        lead=accounts.get_org_by_slug(session, view.partners[0].slug),
        partner=accounts.get_org_by_slug(session, view.partners[1].slug),
        stranger=accounts.get_org_by_slug(session, elsewhere.partners[0].slug),
        elsewhere=elsewhere,
    )
