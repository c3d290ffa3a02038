"""A person's data request lists the WhatsApp replies sent to their number, as it lists the
emails sent to their address."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlmodel import Session

from pledge import whatsapp
from pledge.campaigns.models import CampaignView
from pledge.privacy import findings
from pledge.supporters import by_whatsapp
from pledge.supporters import service as supporters
from tests.support.signing import post_sign, whatsapp_text

RINA = "0812 3456 7890"


def links(slug: str) -> supporters.SignerLinks:
    return supporters.SignerLinks(
        confirm=f"http://testserver/c/{slug}/confirm/",
        private=f"http://testserver/c/{slug}/thanks/",
    )


def test_the_replies_to_a_number_are_found_by_its_data_request(
    client: TestClient, session: Session, make_campaign: Callable[..., CampaignView]
) -> None:
    view = make_campaign()
    post_sign(client, view, contact=RINA)
    text = whatsapp_text(client.get(f"/c/{view.slug}/confirm"))
    session.rollback()
    message = whatsapp.Incoming(id="wamid.test-1", sender="6281234567890", text=text)
    by_whatsapp.receive(session, messages=[message], links=links)

    found = findings.find(session, contact="+6281234567890")

    assert len(found.messages) == 1
    assert len(found.supporters) == 1
