"""The moderation tests' world: two campaigns run by different organisations and the people
who moderate them; and posting the moderation forms as one of them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session

from pledge.accounts import service as accounts
from pledge.accounts.models import Organization, Role, User
from pledge.campaigns.models import CampaignView
from pledge.deps import ModeratorContext
from pledge.hoaxes.models import HoaxCase
from tests.support.factories import make_campaign, make_user

# The CSRF token of every moderation browser's session (see ``people.sign_in``).
CSRF = "moderation-test-csrf-token-0123456789"

# The password of the moderators the browser journeys sign in as (``moderators_of``).
MODERATOR_PASSWORD = "kata-sandi-moderator-2029"

Browser = Callable[[User | None], TestClient]
Access = Callable[[User], ModeratorContext]


@dataclass
class World:
    """Campaign A is led by org_a with co-partner org_a2; campaign B belongs to org_b alone."""

    a: CampaignView
    b: CampaignView
    org_a: Organization
    org_a2: Organization
    org_b: Organization
    mod_a: User  # moderator of org_a
    mod_a2: User  # moderator of org_a2, a co-partner of campaign A: the second pair of eyes
    admin_a: User  # admin of org_a: may end others' claims
    mod_b: User  # moderator of org_b: sees campaign B only
    admin_b: User  # admin of org_b: may end claims, but only on campaign B
    plain: User  # signed in, moderates nowhere
    site_admin: User  # runs the site; moderates nowhere


def make_world(session: Session) -> World:
    a = make_campaign(session, slug="kampanye-a", title="Kampanye A", partners=1)
    b = make_campaign(session, slug="kampanye-b", title="Kampanye B", partners=0)
    org_a = session.get(Organization, a.campaign.lead_org_id)
    org_b = session.get(Organization, b.campaign.lead_org_id)
    co = next(p for p in a.partners if not p.is_lead)
    org_a2 = accounts.get_org_by_slug(session, co.slug)
    assert org_a and org_b

    def person(email: str, name: str, org: Organization | None = None, role: str = "") -> User:
        return make_user(session, email, name=name, org=org, role=role or None, password=None)

    return World(
        a=a,
        b=b,
        org_a=org_a,
        org_a2=org_a2,
        org_b=org_b,
        mod_a=person("mod-a@example.org", "Ayu", org_a, Role.MODERATOR),
        mod_a2=person("mod-a2@example.org", "Budi", org_a2, Role.MODERATOR),
        admin_a=person("admin-a@example.org", "Citra", org_a, Role.ADMIN),
        mod_b=person("mod-b@example.org", "Dewi", org_b, Role.MODERATOR),
        admin_b=person("admin-b@example.org", "Eko", org_b, Role.ADMIN),
        plain=person("plain@example.org", ""),
        site_admin=make_user(session, "root@example.org", name="", password=None, site_admin=True),
    )


def post(client: TestClient, path: str, **fields: Any) -> Any:
    """Post a moderation form as a browser signed in with ``CSRF`` does."""
    return client.post(path, data={"csrf_token": CSRF, **fields})


def case_url(case: HoaxCase | int, action: str = "") -> str:
    case_id = case if isinstance(case, int) else case.id
    return f"/mod/cases/{case_id}" + (f"/{action}" if action else "")


HOAX_FIELDS = {
    "decision": "hoax",
    "label": "SALAH",
    "public_title": "TPS dipindah ke balai desa sehari sebelum pemilu",
    "correction": "KPU memastikan TPS tidak dipindah.",
    "public_explanation": "KPU memastikan lokasi TPS tetap. Pesan berantai itu palsu.",
    "fact_check_url": "https://cekfakta.example.id/tps",
    "reason": "Dicek ke KPU setempat.",
}


def moderators_of(session: Session, view: CampaignView, *emails: str) -> None:
    """Accounts that moderate for the campaign's lead organisation, each with
    MODERATOR_PASSWORD, committed."""
    org = session.get(Organization, view.campaign.lead_org_id)
    assert org is not None
    for email in emails:
        user = accounts.create(session, email=email, password=MODERATOR_PASSWORD)
        accounts.add_member(session, user=user, org=org, role=Role.MODERATOR)
    session.commit()
