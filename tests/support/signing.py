"""Signing as a supporter does it to the end: the form, then the confirmation by the email's
code or link, or by the WhatsApp message with the code the waiting page shows."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session

from pledge import contacts
from pledge.campaigns.models import CampaignView
from pledge.mail import outbox_message_table
from pledge.supporters import service as supporters
from pledge.supporters.models import Signing
from tests.support.forms import form_data, sign_form
from tests.support.mailbox import text_of
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
    def codes(self) -> list[str]:
        """The 6-digit codes in the text, never digits that happen to be in a link."""
        text = re.sub(r"https?://\S+", " ", self.body)
        return re.findall(r"(?<!\d)(\d{6})(?!\d)", text)

    @property
    def code(self) -> str:
        assert len(self.codes) == 1, self.body
        return self.codes[0]

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
        sa.select(
            outbox_message_table.c.id, outbox_message_table.c.subject, outbox_message_table.c.body
        )
        .where(outbox_message_table.c.to == address)
        .order_by(outbox_message_table.c.id)
    ).all()
    # The connection goes back to the pool, which a server in this process may share, before
    # the browser carries on.
    session.rollback()
    return [Emailed(subject, text_of(id_, body)) for id_, subject, body in rows]


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
    answer = supporters.receive_whatsapp(session, sender=e164.lstrip("+"), text=text)
    session.rollback()  # nothing held open while the browser carries on
    return answer


def confirm_in_browser(
    client: TestClient, session: Session, view: CampaignView | str, contact: str
) -> Any:
    """After signing in this client (a TestClient, or an httpx client of a real server):
    confirm as the signer does (the emailed code typed on the waiting page, or the WhatsApp
    message sent), and open the supporter's own page. The answer that lands there (303) is
    returned. Someone who signed twice at once has two emails: the newest code is typed
    first, and the other's if this page refuses it (it belongs to the other signing). An
    email that asks nothing to confirm (its signer had signed those pledges already) carries
    their private link instead: it is opened, and that answer (200) returned.
    ``view``: the campaign, or its slug."""
    slug = view if isinstance(view, str) else view.slug
    waiting = client.get(f"/c/{slug}/confirm")
    assert waiting.status_code == 200, waiting.text[:800]
    if "@" in contact:
        emails = emails_to(session, contacts.normalise_contact(contact))
        assert emails, f"no email to {contact}"
        if not emails[-1].codes:
            return client.get(emails[-1].private_path)
        for email in reversed(emails):
            if not email.codes:
                continue
            typed = type_code(client, slug, email.code)
            if typed.status_code != 422:
                break
        return typed
    answer = send_whatsapp(session, number=contact, text=whatsapp_text(waiting))
    assert answer.confirmed is not None, answer
    return client.get(f"/c/{slug}/thanks")


def type_code(client: Any, slug: str, code: str) -> Any:
    """Type a code on the waiting page and send it, as the signer does."""
    token = csrf_token(client, f"/c/{slug}/confirm")
    return client.post(f"/c/{slug}/confirm", data={"code": code, "csrf_token": token})


def own_session(client: TestClient) -> Session:
    """A session on the database of the app this browser talks to."""
    app: Any = client.app
    return Session(app.state.engine, expire_on_commit=False)


def confirm_landing(
    client: TestClient, view: CampaignView, contact: str, session: Session | None = None
) -> str:
    """After signing in this browser: confirm as the signer does, and the address (path and
    query) of the supporter's own page they land on. An email that asks nothing to confirm
    (its signer had signed those pledges already) carries their private link: they open it."""
    if session is None:
        with own_session(client) as own:
            return confirm_landing(client, view, contact, own)
    answer = confirm_in_browser(client, session, view, contact)
    if answer.status_code == 200:  # the private link from an email that asked nothing
        return str(answer.request.url.path)
    assert answer.status_code == 303, answer.text[:800]
    return str(answer.headers["location"])


def sign_and_confirm(
    client: TestClient, session: Session, view: CampaignView, **fields: Any
) -> Any:
    """Sign in the browser and confirm: the redirect to the supporter's own page (303)."""
    posted = post_sign(client, view, **fields)
    assert posted.status_code == 303, posted.text[:1500]
    assert posted.headers["location"] == f"/c/{view.slug}/confirm"
    contact = fields.get("contact", form_data()["contact"])
    return confirm_in_browser(client, session, view, contact)


def added_slugs(view: CampaignView, confirmed: supporters.Confirmed) -> tuple[str, ...]:
    """The pledges a confirmation added, by slug, in the campaign's order."""
    return tuple(p.slug for p in view.pledges if p.id in confirmed.added)


def links_of(view: CampaignView, base: str = "http://testserver") -> supporters.SignerLinks:
    """Where the links in the messages to the campaign's signers point, as the site makes
    them."""
    return supporters.SignerLinks(
        confirm=f"{base}/c/{view.slug}/confirm/", private=f"{base}/c/{view.slug}/thanks/"
    )


def sign_by_email(session: Session, view: CampaignView, contact: str, **fields: Any) -> Emailed:
    """Sign through the service as the form does, with an email address (``sign_form``
    fields), and the email it sends: its link and code confirm the signing."""
    signing = supporters.sign(
        session, view=view, form=sign_form(contact=contact, **fields), links=links_of(view)
    )
    assert signing.emailed, "no email was sent"
    return last_email_to(session, contacts.normalise_contact(contact))


def confirm_on_phone(page: Any, session: Session, contact: str) -> float:
    """In a real browser (a Playwright page) that has just sent the sign-up form: on the page
    that waits for the confirmation, type the emailed code and press the button, or send the
    WhatsApp message the page shows from the number and tap "I have sent it", as the signer
    does. The moment the confirmation was sent (``time.monotonic()``); the browser is then on
    its way to the supporter's own page."""
    page.wait_for_url(lambda url: urlsplit(url).path.endswith("/confirm"))
    check = page.locator("section.waiting")
    if "@" in contact:
        code = last_email_to(session, contacts.normalise_contact(contact)).code
        page.locator("#code").fill(code)
        sent = time.monotonic()
        check.locator("form button[type=submit]").tap()
        return sent
    text = check.locator(".code-text strong").inner_text()
    sent = time.monotonic()
    answer = send_whatsapp(session, number=contact, text=text)
    assert answer.confirmed is not None, answer
    check.locator("a[href$='/thanks']").tap()
    return sent


def fill_contact(page: Any, contact: str) -> None:
    """In a real browser, on a campaign page: give the contact as a signer does, choosing
    WhatsApp or email first where the form asks (the chosen field alone shows)."""
    email = "@" in contact
    choice = page.locator(f"label[for=contact-kind-{'email' if email else 'whatsapp'}]")
    if choice.count():
        choice.tap()
        page.locator("#contact_email" if email else "#contact").fill(contact)
    else:
        page.locator("#contact").fill(contact)
