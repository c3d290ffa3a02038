"""The game's fixtures: the moderation world (two campaigns, their moderators), browsers in
English signed in as one of them (``staff``), English visitors, and a phone for the journey
in a real browser."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from pledge.accounts.models import User
from tests.support.appserver import LiveServer
from tests.support.moderation import CSRF, World, make_world
from tests.support.people import sign_in
from tests.support.phone import PHONE, Phone


@pytest.fixture
def client_lang() -> str:
    """The game's tests read its English words (the Indonesian ones come with translation)."""
    return "en"


@pytest.fixture
def world(session: Session) -> World:
    return make_world(session)


@pytest.fixture
def staff(new_client: Callable[..., TestClient]) -> Callable[[User | None], TestClient]:
    """A browser in English signed in as the user (anonymous with None), with the session
    cookie it would hold after signing in."""

    def open_as(user: User | None) -> TestClient:
        client = new_client(lang="en")
        return sign_in(client, user, csrf=CSRF) if user is not None else client

    return open_as


@pytest.fixture
def phone(browser: Any, live_server: LiveServer) -> Iterator[Callable[..., Phone]]:
    """A fresh 360 × 740 phone on the live server (as tests/browser's), closed before it stops."""
    opened: list[Phone] = []

    def open_phone(*, slow_3g: bool = True, **options: Any) -> Phone:
        opened.append(Phone(browser.new_context(**PHONE, **options), slow_3g=slow_3g))
        return opened[-1]

    yield open_phone
    for each in opened:
        each.close()
