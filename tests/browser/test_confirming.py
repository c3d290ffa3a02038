"""Confirming a signature on a phone, by both channels and in both languages: the emailed code
typed on the waiting page, the emailed link's one button, and the WhatsApp message sent from
the number that signed; and a stranger who types a signer's contact sees the same page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page
from sqlmodel import Session

from pledge.campaigns.models import CampaignView
from tests.support.appserver import LiveServer
from tests.support.pages import digits
from tests.support.phone import OpenPhone
from tests.support.signing import fill_contact, last_email_to, send_whatsapp


def fill_in(page: Page, *, name: str, contact: str) -> None:
    page.locator("input[name=pledges][value=tolak-politik-uang]").check()
    page.locator("#name").fill(name)
    fill_contact(page, contact)
    page.locator("#province").select_option("ID-JB")
    page.locator("input[name=age_ok]").check()
    page.locator("input[name=consent]").check()
    page.locator("form[action*='/sign'] button[type=submit]").tap()


def waiting_text(page: Page) -> str:
    """What the waiting page says, without the code that differs on every signing."""
    return page.locator("section.waiting h1").inner_text()


@pytest.mark.browser
def test_by_the_emailed_code_in_english_and_the_emailed_link_in_indonesian(
    phone: OpenPhone,
    live_server: LiveServer,
    session: Session,
    make_campaign: Callable[..., CampaignView],
) -> None:
    view = make_campaign(title="Suara Anak Muda")
    campaign_url = f"{live_server.url}/c/{view.slug}"
    with phone(locale="en-US", slow_3g=False) as supporter:
        page = supporter.new_page()
        page.goto(f"{campaign_url}?lang=en")
        fill_in(page, name="Rina Putri", contact="rina@contoh.id")
        page.wait_for_url(f"{campaign_url}/confirm*")
        assert waiting_text(page) == "Almost done: check your email"
        assert page.evaluate("document.documentElement.scrollWidth") <= 360

        page.locator("#code").fill("000000")
        page.locator("form.code-form button[type=submit]").tap()
        assert "not right" in page.locator("#code-error").inner_text()

        code = last_email_to(session, "rina@contoh.id").code
        page.locator("#code").fill(f"{code[:3]} {code[3:]}")
        page.locator("form.code-form button[type=submit]").tap()
        page.wait_for_url(f"{campaign_url}/thanks/**")
        # The first to sign is told so; no order number ("#1") that withdrawals would falsify.
        assert "you are the first supporter" in page.locator(".number").inner_text()

    with phone(locale="id-ID", slow_3g=False) as supporter:
        page = supporter.new_page()
        page.goto(campaign_url)
        fill_in(page, name="Budi", contact="budi@contoh.id")
        page.wait_for_url(f"{campaign_url}/confirm*")
        assert waiting_text(page) == "Hampir selesai: cek email-mu"

        # Opened from the email, on another phone: one button, and nothing happens before it.
        link = last_email_to(session, "budi@contoh.id").confirm_path
    with phone(locale="id-ID", slow_3g=False) as inbox:
        page = inbox.new_page()
        page.goto(f"{live_server.url}{link}")
        assert page.locator("h1").inner_text() == "Konfirmasi dukunganmu"
        page.goto(campaign_url)
        assert digits(page.locator(".tally strong.count").inner_text()) == 1
        page.goto(f"{live_server.url}{link}")
        page.get_by_role("button", name="Konfirmasi dukunganku").tap()
        page.wait_for_url(f"{campaign_url}/thanks/**")
        assert digits(page.locator(".number [data-count]").inner_text()) == 2


@pytest.mark.browser
def test_by_whatsapp_in_indonesian_and_a_stranger_sees_the_same_page(
    phone: OpenPhone,
    live_server: LiveServer,
    session: Session,
    make_campaign: Callable[..., CampaignView],
    use_settings: Any,
) -> None:
    use_settings(whatsapp_number="+62 811 0000 2029")
    view = make_campaign(title="Suara Anak Muda")
    campaign_url = f"{live_server.url}/c/{view.slug}"
    with phone(locale="id-ID") as supporter:
        page = supporter.new_page()
        page.goto(campaign_url)
        fill_in(page, name="Sari", contact="0812-3456-7890")
        page.wait_for_url(f"{campaign_url}/confirm*")
        assert waiting_text(page) == "Hampir selesai: konfirmasi lewat WhatsApp"
        button = page.get_by_role("link", name="Konfirmasi lewat WhatsApp")
        assert (button.get_attribute("href") or "").startswith("https://wa.me/6281100002029?text=")
        text = page.locator(".code-text strong").inner_text()

        # Not sent yet: the page says so.
        page.get_by_role("link", name="Sudah kukirim").tap()
        assert "Belum terkonfirmasi" in page.locator(".notice").inner_text()

        assert send_whatsapp(session, number="0812 3456 7890", text=text).confirmed is not None
        page.get_by_role("link", name="Sudah kukirim").tap()
        page.wait_for_url(f"{campaign_url}/thanks/**")
        assert "Sari" in page.locator("h1").inner_text()

    # Someone who knows her number signs with it: the same page, and nothing of hers.
    with phone(locale="id-ID", slow_3g=False) as stranger:
        page = stranger.new_page()
        page.goto(campaign_url)
        fill_in(page, name="Orang Lain", contact="+62 812 3456 7890")
        page.wait_for_url(f"{campaign_url}/confirm*")
        assert waiting_text(page) == "Hampir selesai: konfirmasi lewat WhatsApp"
        assert "Sari" not in page.content()
        page.get_by_role("link", name="Sudah kukirim").tap()
        assert "/thanks/" not in page.url
