"""The people in the tests, by what they may do, and signing a browser in as one of them.

Everyone works for the organisation a test is about (``org``: Lembaga Pemilu Bersih) except
the site administrator and the outsider:

- Citra (``org_admin``) runs the organisation: campaigns, members, statistics.
- Ayu (``moderator``) works its hoax queue; Budi (``second_moderator``) too: the second pair
  of eyes a verdict needs before it is published.
- Root (``site_admin``) runs the site and belongs to no organisation.
- Eko (``outsider``) is signed in as the admin of another organisation, Organisasi Tetangga.

Each one is a fixture of the name above, declared here once: tests/conftest.py loads this
module as a plugin. ``sign_in(client, person)`` gives a browser their session.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlmodel import Session

from pledge.accounts.models import Membership, Organization, Role, User
from pledge.config import get_settings
from pledge.web import SESSION_COOKIE
from tests.support.factories import PASSWORD, MakeUser, make_membership, make_org, make_user
from tests.support.pages import csrf_token


@dataclass(frozen=True)
class Person:
    """A user with the organisation they work for and their membership of it (none for the
    site administrator), and the password they sign in with."""

    user: User
    org: Organization | None = None
    membership: Membership | None = None
    password: str | None = PASSWORD

    @property
    def id(self) -> int:
        assert self.user.id is not None
        return self.user.id

    @property
    def email(self) -> str:
        return self.user.email


def make_person(
    session: Session,
    email: str,
    name: str,
    *,
    org: Organization | None = None,
    role: Role | str = Role.ADMIN,
    site_admin: bool = False,
) -> Person:
    """Someone with a password, a member of ``org`` in ``role`` when it is given."""
    user = make_user(session, email, name=name, site_admin=site_admin)
    membership = None
    if org is not None:
        membership = make_membership(session, user=user, org=org, role=role)
    return Person(user=user, org=org, membership=membership)


# --- the cast: a fixture each, made in the test's database when a test asks for one -------


@pytest.fixture
def org(session: Session) -> Organization:
    """The organisation the test is about, which the org admin and the moderators work for."""
    return make_org(session, "lembaga-pemilu", "Lembaga Pemilu Bersih")


@pytest.fixture
def org_admin(session: Session, org: Organization) -> Person:
    return make_person(session, "admin@lembaga.example.org", "Citra", org=org, role=Role.ADMIN)


@pytest.fixture
def moderator(session: Session, org: Organization) -> Person:
    return make_person(session, "ayu@lembaga.example.org", "Ayu", org=org, role=Role.MODERATOR)


@pytest.fixture
def second_moderator(session: Session, org: Organization) -> Person:
    return make_person(session, "budi@lembaga.example.org", "Budi", org=org, role=Role.MODERATOR)


@pytest.fixture
def site_admin(session: Session) -> Person:
    return make_person(session, "root@example.org", "Root", site_admin=True)


@pytest.fixture
def outsider(session: Session) -> Person:
    other = make_org(session, "organisasi-tetangga", "Organisasi Tetangga")
    return make_person(session, "eko@tetangga.example.org", "Eko", org=other, role=Role.ADMIN)


AsUser = Callable[..., TestClient]


@pytest.fixture
def as_user(client: TestClient, make_user: MakeUser) -> AsUser:
    """The client signed in as a new user with a role in an organisation (or none):
    ``as_user(org, Role.MODERATOR)``, ``as_user(None, site_admin=True)``."""

    def become(org: Organization | None = None, role: str = "admin", **fields: Any) -> TestClient:
        return sign_in(client, make_user(org=org, role=role, **fields))

    return become


# --- signing in ----------------------------------------------------------------------


def login(client: TestClient, email: str, password: str = PASSWORD, next: str = "") -> Any:
    """Post the /login form once, as a browser would, and answer what the app answered."""
    data = {"email": email, "password": password, "csrf_token": csrf_token(client, "/login")}
    if next:
        data["next"] = next
    return client.post("/login", data=data)


def session_cookie(user: User | None, csrf: str, *, signed_at: float | None = None) -> str:
    """The session cookie a browser holds after signing in as the user (no user: a visitor's
    session, holding only its CSRF token); ``signed_at`` makes an old one."""
    data: dict[str, Any] = {"csrf": csrf}
    if user is not None:
        data |= {"uid": user.id, "sv": user.session_version, "sid": secrets.token_urlsafe(16)}
    serializer = URLSafeTimedSerializer(get_settings().secret_key, salt="session")
    if signed_at is not None:
        moment = int(signed_at)

        class Then(TimestampSigner):
            def get_timestamp(self) -> int:
                return moment

        serializer.signer = Then  # type: ignore[assignment]
    return serializer.dumps(data)


def sign_in(
    client: TestClient,
    who: Person | User | None,
    *,
    password: str | None = None,
    csrf: str | None = None,
) -> TestClient:
    """Sign the browser in as the person, ending the session it had (its language stays).

    Through the real /login form; or, with ``csrf``, by giving it the session cookie it would
    then hold, with that CSRF token: for tests about other pages that post many forms (the
    form itself is tested in tests/accounts, and is rate limited). ``who=None`` with ``csrf``
    is a visitor's session."""
    user = who.user if isinstance(who, Person) else who
    client.cookies.delete(SESSION_COOKIE)
    if csrf is not None:
        client.cookies.set(SESSION_COOKIE, session_cookie(user, csrf))
        return client
    assert user is not None, "only a session cookie makes a visitor: give a csrf token"
    if password is None:
        password = who.password if isinstance(who, Person) and who.password else PASSWORD
    response = login(client, user.email, password)
    assert response.status_code == 303, response.text[:500]
    return client
