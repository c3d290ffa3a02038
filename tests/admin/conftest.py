"""People for the site-admin tests: accounts with passwords, and clients signed in as them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from pledge.accounts import service as accounts
from pledge.accounts.models import Organization, Role, User
from tests.conftest import csrf_token

PASSWORD = "correct horse battery staple"


@dataclass
class Person:
    user: User
    client: TestClient

    @property
    def id(self) -> int:
        assert self.user.id is not None
        return self.user.id


MakeUser = Callable[..., User]
SignIn = Callable[[User], TestClient]


@pytest.fixture
def make_user(session: Session) -> MakeUser:
    counter = iter(range(1, 10_000))

    def make(
        email: str | None = None,
        *,
        site_admin: bool = False,
        org: Organization | None = None,
        role: Role = Role.ADMIN,
        display_name: str = "",
    ) -> User:
        user = accounts.create(
            session,
            email=email or f"person{next(counter)}@example.org",
            password=PASSWORD,
            is_site_admin=site_admin,
            display_name=display_name,
        )
        if org is not None:
            accounts.add_member(session, user=user, org=org, role=role)
        session.commit()
        return user

    return make


def sign_in(client: TestClient, user: User) -> TestClient:
    """Post the /login form as a browser would."""
    token = csrf_token(client, "/login")
    response = client.post(
        "/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 303, response.text[:500]
    return client


@pytest.fixture
def new_client(app: FastAPI) -> Iterator[Callable[[], TestClient]]:
    """More browsers: each has its own cookies."""
    opened: list[TestClient] = []

    def open_client() -> TestClient:
        client = TestClient(app, base_url="http://testserver", follow_redirects=False)
        client.__enter__()
        client.cookies.set("lang", "en")
        opened.append(client)
        return client

    yield open_client
    for client in opened:
        client.__exit__(None, None, None)


@pytest.fixture
def site_admin(make_user: MakeUser, client: TestClient) -> Person:
    """A site administrator, signed in on the main test client."""
    user = make_user("root@example.org", site_admin=True, display_name="Root")
    client.cookies.set("lang", "en")  # the assertions read the English messages
    return Person(user=user, client=sign_in(client, user))


@pytest.fixture
def admin_client(site_admin: Person) -> TestClient:
    return site_admin.client


MakeOrg = Callable[..., Organization]


@pytest.fixture
def make_pending_org(session: Session) -> MakeOrg:
    """An organisation waiting for approval (the shared make_org always makes approved ones)."""
    counter = iter(range(1, 10_000))

    def make(slug: str | None = None, name: str | None = None) -> Organization:
        n = next(counter)
        org = accounts.create_org(
            session, slug=slug or f"pending-{n}", name=name or f"Menunggu {n}", verified=False
        )
        session.commit()
        return org

    return make
