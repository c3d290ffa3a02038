"""Signing as a supporter does it to the end: the form, then the confirmation by the email's
code or link, or by the WhatsApp message with the code the waiting page shows."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session

from pledge import contacts
from pledge.campaigns.models import CampaignView
from pledge.mail import outbox_message_table
from pledge.supporters import service as supporters
from pledge.supporters.models import Signing
from tests.support.forms import form_data
from tests.support.pages import csrf_token, html


def confirm_signing(session: Session, signing: Signing) -> supporters.Confirmed:
    """Confirm a signing made through the service, as its signer would."""
    assert signing.ticket is not None, "the honeypot caught this one: nothing to confirm"
    session.rollback()  # a fresh snapshot: the signing may have been written elsewhere
    return supporters.confirm(session, link_digest=signing.ticket.link_digest)


@dataclass(frozen=True)
class Emailed:
    """The newest message sent to an address: its subject and body, and what it carries."""

    subject: str
    body: str

    @property
    def code(self) -> str:
        found = re.search(r"(?<!\d)(\d{6})(?!\d)", self.body)
        assert found, self.body
        return found.group(1)

    @property
    def confirm_path(self) -> str:
        found = re.search(r"https?://[^/\s]+(/c/[^/\s]+/confirm/[A-Za-z0-9_-]+)", self.body)
        assert found, self.body
        return found.group(1)

    @property
    def private_path(self) -> str:
        found = re.search(r"https?://[^/\s]+(/c/[^/\s]+/thanks/[A-Za-z0-9_-]+)", self.body)
        assert found, self.body
        return found.group(1)


def emails_to(session: Session, address: str) -> list[Emailed]:
    """Every message queued for an address, oldest first."""
    session.rollback()
    rows = session.execute(
        sa.select(outbox_message_table.c.subject, outbox_message_table.c.body)
        .where(outbox_message_table.c.to == address)
        .order_by(outbox_message_table.c.id)
    ).all()
    return [Emailed(subject, body) for subject, body in rows]


def last_email_to(session: Session, address: str) -> Emailed:
    found = emails_to(session, address)
    assert found, f"no email to {address}"
    return found[-1]


def post_sign(client: TestClient, view: CampaignView, **fields: Any) -> Any:
    """Open the campaign page (for the CSRF token) and post the sign form as a browser does."""
    token = csrf_token(client, f"/c/{view.slug}")
    return client.post(f"/c/{view.slug}/sign", data={**form_data(**fields), "csrf_token": token})


def whatsapp_text(page: Any) -> str:
    """The message the waiting page asks a phone signer to send."""
    found = html(page).select_one(".code-text strong")
    assert found is not None, page.text[:2000]
    return found.get_text()


def send_whatsapp(session: Session, *, number: str, text: str) -> supporters.WhatsAppAnswer:
    """A WhatsApp message from a number, as the webhook hands it over."""
    session.rollback()
    e164 = contacts.normalise_contact(number)
    return supporters.receive_whatsapp(session, sender=e164.lstrip("+"), text=text)


def confirm_in_browser(
    client: TestClient, session: Session, view: CampaignView, contact: str
) -> Any:
    """After signing in this client: confirm as the signer does (the emailed code typed on the
    waiting page, or the WhatsApp message sent), and open the supporter's own page. The
    answer that lands there (303) is returned."""
    waiting = client.get(f"/c/{view.slug}/confirm")
    assert waiting.status_code == 200, waiting.text[:800]
    if "@" in contact:
        code = last_email_to(session, contacts.normalise_contact(contact)).code
        token = csrf_token(client, f"/c/{view.slug}/confirm")
        return client.post(f"/c/{view.slug}/confirm", data={"code": code, "csrf_token": token})
    answer = send_whatsapp(session, number=contact, text=whatsapp_text(waiting))
    assert answer.confirmed is not None, answer
    return client.get(f"/c/{view.slug}/thanks")


def sign_and_confirm(
    client: TestClient, session: Session, view: CampaignView, **fields: Any
) -> Any:
    """Sign in the browser and confirm: the redirect to the supporter's own page (303)."""
    posted = post_sign(client, view, **fields)
    assert posted.status_code == 303, posted.text[:1500]
    assert posted.headers["location"] == f"/c/{view.slug}/confirm"
    contact = fields.get("contact", form_data()["contact"])
    return confirm_in_browser(client, session, view, contact)
