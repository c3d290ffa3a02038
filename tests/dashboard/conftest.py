"""The dashboard tests read the English wording, in the world of tests/support/dashboard.py."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from tests.support.dashboard import World, make_world


@pytest.fixture
def client_lang() -> str:
    return "en"


@pytest.fixture
def world(session: Session) -> World:
    return make_world(session)
