"""Accounts fixtures: people with passwords and roles, signing them in, reading the outbox."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from pledge.accounts import service as accounts
from pledge.accounts.models import Organization, Role, User
from pledge.audit import AuditEvent
from pledge.config import Settings, get_settings
from pledge.mail import OutboxMessage
from tests.conftest import csrf_token

PASSWORD = "kata-sandi-yang-panjang"


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """The app in English, as after a visit with ?lang=en."""
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as client:
        client.cookies.set("lang", "en")
        yield client


@pytest.fixture
def other_client(app: FastAPI) -> Iterator[TestClient]:
    """A second browser, for a second session of the same person."""
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as client:
        client.cookies.set("lang", "en")
        yield client


@pytest.fixture
def anonymous(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as client:
        client.cookies.set("lang", "en")
        yield client


UseSettings = Callable[..., Settings]


@pytest.fixture
def use_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[UseSettings]:
    """Change settings through the environment, as an operator would, for one test."""

    def apply(**values: str) -> Settings:
        for name, value in values.items():
            monkeypatch.setenv(f"PLEDGE_{name.upper()}", value)
        get_settings.cache_clear()
        return get_settings()

    yield apply
    monkeypatch.undo()
    get_settings.cache_clear()


MakeUser = Callable[..., User]


@pytest.fixture
def make_user(session: Session) -> MakeUser:
    counter = iter(range(1, 10_000))

    def make(
        email: str | None = None,
        *,
        org: Organization | None = None,
        role: Role | str | None = None,
        password: str | None = PASSWORD,
        site_admin: bool = False,
        active: bool = True,
        name: str = "",
    ) -> User:
        n = next(counter)
        user = accounts.create(
            session,
            email=email or f"orang{n}@example.org",
            password=password,
            display_name=name or f"Orang {n}",
            is_site_admin=site_admin,
        )
        user.is_active = active
        session.add(user)
        if org is not None:
            accounts.add_member(session, user=user, org=org, role=Role(role or Role.ADMIN))
        session.commit()
        return user

    return make


def login(client: TestClient, email: str, password: str = PASSWORD, next: str = "") -> Any:
    data = {"email": email, "password": password, "csrf_token": csrf_token(client, "/login")}
    if next:
        data["next"] = next
    return client.post("/login", data=data)


def signed_in(client: TestClient, user: User, password: str = PASSWORD) -> TestClient:
    response = login(client, user.email, password)
    assert response.status_code == 303, response.text[:300]
    return client


def post_form(client: TestClient, form_page: str, action: str, **fields: Any) -> Any:
    """Post a form the way a browser does: open its page first for the CSRF token."""
    return client.post(action, data={"csrf_token": csrf_token(client, form_page), **fields})


def fresh(session: Session) -> Session:
    """End the test's read transaction (a snapshot, on SQLite in WAL mode) and forget loaded
    rows, so that what the app has written since is seen."""
    session.commit()
    session.expire_all()
    return session


def outbox(session: Session) -> list[OutboxMessage]:
    fresh(session)
    return list(session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))))


def link_in(message: OutboxMessage, path: str) -> str:
    """The path of the link in an email that starts with ``path`` (like /invite/)."""
    found = re.search(r"https?://[^/\s]+(" + re.escape(path) + r"[A-Za-z0-9_\-]+)", message.body)
    assert found, message.body
    return found.group(1)


def audit_actions(session: Session, subject: str | None = None) -> list[str]:
    fresh(session)
    query = select(AuditEvent).order_by(col(AuditEvent.id))
    if subject is not None:
        query = query.where(AuditEvent.subject == subject)
    return [event.action for event in session.exec(query)]
