"""Moderation fixtures: the world of tests/support/moderation.py, what the Moderator dependency
hands a route, and browsers in English signed in as each person."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from pledge.accounts.models import User
from pledge.deps import ModeratorContext, moderator_access
from tests.support.moderation import CSRF, Access, Browser, World, make_world
from tests.support.people import sign_in


@pytest.fixture
def world(session: Session) -> World:
    return make_world(session)


@pytest.fixture
def access(session: Session) -> Access:
    """What the Moderator dependency hands a route, for calling the service directly."""

    def make(user: User) -> ModeratorContext:
        return moderator_access(user, session)

    return make


@pytest.fixture
def browser(new_client: Callable[..., TestClient]) -> Browser:
    """A browser in English, signed in as the user (or anonymous with None), with the session
    cookie it would hold after signing in: the login form is tested elsewhere, and is rate
    limited."""

    def open_as(user: User | None) -> TestClient:
        client = new_client(lang="en")
        return sign_in(client, user, csrf=CSRF) if user is not None else client

    return open_as
