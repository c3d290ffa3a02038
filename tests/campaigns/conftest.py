"""The campaign management tests: campaigns led by the people's organisation (``lead``), and
its admin's browser (``manager``)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from pledge.accounts.models import Organization, User
from pledge.campaigns.models import CampaignView
from tests.support import factories
from tests.support.factories import MakeCampaign
from tests.support.people import Person, sign_in


@pytest.fixture
def lead(org: Organization) -> Organization:
    """The approved organisation that leads the campaigns below."""
    return org


@pytest.fixture
def admin(org_admin: Person) -> User:
    return org_admin.user


@pytest.fixture
def manager(client: TestClient, org_admin: Person) -> TestClient:
    """The client signed in as an admin of the lead organisation."""
    return sign_in(client, org_admin)


@pytest.fixture
def make_led(session: Session, lead: Organization) -> MakeCampaign:
    """A campaign led by `lead`, in the given status (a draft unless told), with pledges and
    one co-partner unless told."""

    def make(status: str = "draft", partners: int = 1, **fields: Any) -> CampaignView:
        fields.setdefault("summary", "Ringkasan.")
        fields.setdefault("body", "Cerita **kami**.")
        return factories.make_campaign(session, status, partners=partners, lead=lead, **fields)

    return make
