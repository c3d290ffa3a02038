"""A co-partner's invitation links to the site's public address, never to the address a
request's Host header names."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlmodel import Session

from pledge.accounts.models import Organization
from tests.support.db import outbox
from tests.support.factories import MakeCampaign
from tests.support.pages import csrf_token
from tests.support.settings import UseSettings

PUBLIC_URL = "https://suara.example.org"


def test_a_co_partners_invitation_links_to_the_public_url_whatever_the_host_header(
    manager: TestClient,
    session: Session,
    lead: Organization,
    make_led: MakeCampaign,
    use_settings: UseSettings,
) -> None:
    view = make_led(status="live", partners=0)
    base = f"/dashboard/{lead.slug}/campaigns/{view.slug}"
    token = csrf_token(manager, f"{base}/edit")
    # After the page: production's session cookie is Secure, which this http client keeps.
    use_settings(env="production", public_url=PUBLIC_URL)

    response = manager.post(
        f"{base}/partners",
        data={
            "kind": "invite",
            "name": "Komunitas Cek Fakta Bandung",
            "email": "ketua@cekfakta.example.org",
            "csrf_token": token,
        },
        headers={"host": "evil.example"},
    )

    assert response.status_code == 303, response.text[:800]
    [message] = [m for m in outbox(session) if m.to == "ketua@cekfakta.example.org"]
    links = re.findall(r"https?://\S+", message.body)
    assert links, message.body
    assert all(link.startswith(f"{PUBLIC_URL}/invite/") for link in links), links
    assert "evil.example" not in message.body
