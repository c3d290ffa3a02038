"""People and campaigns for the campaign management tests: a lead organisation, its admin
signed in through the real /login form, and campaigns that organisation leads.

Only new fixture names: test_pages.py and test_service.py keep using the root conftest's."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from pledge.accounts import service as accounts
from pledge.accounts.models import Organization, Role, User
from pledge.campaigns import service as campaigns
from pledge.campaigns.models import CampaignStatus, CampaignView
from tests.conftest import csrf_token

PASSWORD = "a long enough password"

MakeUser = Callable[..., User]
SignIn = Callable[[User], TestClient]
MakeLed = Callable[..., CampaignView]


@pytest.fixture
def make_user(session: Session) -> MakeUser:
    counter = iter(range(1, 10_000))

    def make(
        org: Organization | None = None,
        role: Role = Role.ADMIN,
        *,
        site_admin: bool = False,
        email: str | None = None,
    ) -> User:
        user = accounts.create(
            session,
            email=email or f"staf{next(counter)}@example.org",
            password=PASSWORD,
            display_name="Staf",
            is_site_admin=site_admin,
        )
        if org is not None:
            accounts.add_member(session, user=user, org=org, role=role)
        session.commit()
        return user

    return make


@pytest.fixture
def sign_in(client: TestClient) -> SignIn:
    """Sign the client in as the user, through the real /login form."""

    def do(user: User) -> TestClient:
        client.cookies.clear()
        token = csrf_token(client, "/login")
        response = client.post(
            "/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token}
        )
        assert response.status_code == 303, response.text[:500]
        return client

    return do


@pytest.fixture
def visitor(app: FastAPI) -> Iterator[TestClient]:
    """A second browser, never signed in: what the public sees."""
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as other:
        yield other


@pytest.fixture
def lead(make_org: Callable[..., Organization]) -> Organization:
    """An approved organisation that leads the campaigns below."""
    return make_org(slug="lembaga-pemilu", name="Lembaga Pemilu Bersih")


@pytest.fixture
def admin(make_user: MakeUser, lead: Organization) -> User:
    return make_user(lead, Role.ADMIN, email="admin@lembaga.example.org")


@pytest.fixture
def manager(sign_in: SignIn, admin: User) -> TestClient:
    """The client signed in as an admin of the lead organisation."""
    return sign_in(admin)


@pytest.fixture
def make_led(
    session: Session, lead: Organization, make_org: Callable[..., Organization]
) -> MakeLed:
    """A campaign led by `lead`, in the given status, with pledges and co-partners."""
    counter = iter(range(1, 10_000))

    def make(
        status: str = "draft",
        slug: str | None = None,
        pledges: tuple[str, ...] = ("tolak-politik-uang", "gunakan-hak-pilih", "lawan-hoaks"),
        partners: int = 1,
        **fields: Any,
    ) -> CampaignView:
        n = next(counter)
        campaign = campaigns.create(
            session,
            slug=slug or f"kampanye-kita-{n}",
            title=fields.pop("title", f"Kampanye Kita {n}"),
            summary=fields.pop("summary", "Ringkasan."),
            body=fields.pop("body", "Cerita **kami**."),
            lead_org=lead,
            **fields,
        )
        for pledge_slug in pledges:
            campaigns.add_pledge(
                session, campaign=campaign, slug=pledge_slug, text=f"Janji {pledge_slug}"
            )
        for _ in range(partners):
            campaigns.add_partner(session, campaign=campaign, org=make_org())
        if status in ("live", "closed"):
            campaigns.set_status(session, campaign=campaign, status=CampaignStatus.LIVE)
        if status == "closed":
            campaigns.set_status(session, campaign=campaign, status=CampaignStatus.CLOSED)
        session.commit()
        return campaigns.get_view(session, slug=campaign.slug, public=False)

    return make
