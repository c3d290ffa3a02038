"""Signed-in people for the dashboard tests: users with a role in an organisation."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from pledge.accounts import service as accounts
from pledge.accounts.models import Organization, Role, User
from pledge.campaigns.models import CampaignView
from tests.conftest import csrf_token

PASSWORD = "a long enough password"

MakeUser = Callable[..., User]
Login = Callable[[TestClient, User], TestClient]


@pytest.fixture
def make_user(session: Session) -> MakeUser:
    counter = iter(range(1, 10_000))

    def make(
        org: Organization | None = None,
        role: Role | str = Role.ADMIN,
        *,
        site_admin: bool = False,
        email: str | None = None,
    ) -> User:
        user = accounts.create(
            session,
            email=email or f"user{next(counter)}@example.org",
            password=PASSWORD,
            display_name="Staf",
            is_site_admin=site_admin,
        )
        if org is not None:
            accounts.add_member(session, user=user, org=org, role=Role(role))
        session.commit()
        return user

    return make


@pytest.fixture
def login() -> Login:
    """Sign the client in as the user, through the real /login form."""

    def do(client: TestClient, user: User) -> TestClient:
        client.cookies.clear()
        client.cookies.set("lang", "en")  # text checks read the English wording
        token = csrf_token(client, "/login")
        response = client.post(
            "/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token}
        )
        assert response.status_code == 303, response.text[:500]
        return client

    return do


@pytest.fixture
def as_user(client: TestClient, make_user: MakeUser, login: Login) -> Callable[..., TestClient]:
    """The client signed in as a new user with the given role (or a site admin)."""

    def do(
        org: Organization | None = None, role: Role | str = Role.ADMIN, **kwargs: Any
    ) -> TestClient:
        return login(client, make_user(org, role, **kwargs))

    return do


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
        }[route]


@pytest.fixture
def world(session: Session, make_campaign: Callable[..., CampaignView]) -> World:
    view = make_campaign(partners=1)
    elsewhere = make_campaign(partners=0)
    return World(
        view=view,
        lead=accounts.get_org_by_slug(session, view.partners[0].slug),
        partner=accounts.get_org_by_slug(session, view.partners[1].slug),
        stranger=accounts.get_org_by_slug(session, elsewhere.partners[0].slug),
        elsewhere=elsewhere,
    )
