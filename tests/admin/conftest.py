"""The site-admin tests read the English wording, mostly as the site administrator."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.support.people import Person, sign_in


@pytest.fixture
def client_lang() -> str:
    return "en"


@pytest.fixture
def admin_client(client: TestClient, site_admin: Person) -> TestClient:
    """The main test client, signed in as the site administrator."""
    return sign_in(client, site_admin)
