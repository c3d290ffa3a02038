"""Supporters on phones on a slow 3G network: one signs two pledges in Indonesian, confirms by
sending the WhatsApp message the page shows and sees the count go up, signs again with the same
number written another way and is counted once, then withdraws and sees the count go down;
another switches to English, signs there and confirms with the code from her email."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page
from sqlmodel import Session

from tests.support.appserver import LiveServer
from tests.support.pages import digits
from tests.support.phone import OpenPhone
from tests.support.signing import confirm_on_phone, fill_contact, last_email_to


def fill_in(page: Page, *, pledges: tuple[str, ...], name: str, contact: str) -> None:
    """The sign-up form as a thumb fills it: pledges, name, contact, province, two ticks."""
    for slug in pledges:
        page.locator(f"input[name=pledges][value={slug}]").check()
    page.locator("#name").fill(name)
    fill_contact(page, contact)
    page.locator("#province").select_option("ID-JT")
    page.locator("input[name=age_ok]").check()
    page.locator("input[name=consent]").check()


@pytest.mark.browser
def test_sign_two_pledges_on_a_phone(
    phone: OpenPhone, live_server: LiveServer, make_campaign, sign, session: Session
) -> None:
    view = make_campaign(title="Suara Anak Muda")
    sign(view, contact="teman@contoh.id")  # someone signed before
    campaign_url = f"{live_server.url}/c/{view.slug}"
    with phone(locale="id-ID") as supporter:
        page = supporter.new_page()
        third_party: list[str] = []
        page.on(
            "request",
            lambda request: (
                third_party.append(request.url)
                if not request.url.startswith(live_server.url)
                else None
            ),
        )
        count = page.locator(".tally strong.count")

        page.goto(campaign_url)
        assert page.locator("html").get_attribute("lang") == "id"
        assert page.locator("h1").inner_text() == "Suara Anak Muda"
        before = digits(count.inner_text())
        assert before == 1

        # The form fits the phone's width: nothing scrolls sideways.
        assert page.evaluate("document.documentElement.scrollWidth") <= 360

        page.locator("input[name=pledges][value=tolak-politik-uang]").check()
        page.locator("input[name=pledges][value=lawan-hoaks]").check()
        page.get_by_label("Namamu", exact=True).fill("Rina Putri")
        page.locator("#contact").fill("0812-3456-7890")
        page.locator("#province").select_option("ID-JT")
        page.locator("input[name=age_ok]").check()
        page.locator("input[name=consent]").check()
        page.locator("form button[type=submit]").tap()

        # The page asks her to send a WhatsApp message with a code from her number; she does,
        # and taps through to her own page.
        page.wait_for_url(f"{campaign_url}/confirm*")
        assert page.locator(".code-text strong").inner_text().strip()
        confirm_on_phone(page, session, "0812-3456-7890")
        page.wait_for_url(f"{campaign_url}/thanks/**")
        assert "Rina" in page.locator("h1").inner_text()
        assert "#" not in page.locator(".number").inner_text()
        assert digits(page.locator(".thanks [data-count]").inner_text()) == before + 1
        signed = page.locator(".signed li").all_inner_texts()
        assert signed == ["Janji tolak-politik-uang", "Janji lawan-hoaks"]
        whatsapp = page.locator("a.whatsapp").get_attribute("href") or ""
        assert whatsapp.startswith("https://wa.me/?text=")

        page.goto(campaign_url)
        assert digits(count.inner_text()) == before + 1

        # Later she signs again, writing the same number the international way: she is told she
        # had signed already, and nobody is counted twice.
        fill_in(
            page,
            pledges=("tolak-politik-uang", "lawan-hoaks"),
            name="Rina",
            contact="+62 812 3456 7890",
        )
        page.locator("form button[type=submit]").tap()
        confirm_on_phone(page, session, "+62 812 3456 7890")
        page.wait_for_url(f"{campaign_url}/thanks/**")
        assert (
            page.locator(".number")
            .inner_text()
            .startswith("Janji-janji ini sudah pernah kamu ikuti. Kamu tetap dihitung")
        )
        assert digits(page.locator(".thanks [data-count]").inner_text()) == before + 1
        assert page.locator(".signed li").all_inner_texts() == signed
        page.goto(campaign_url)
        assert digits(count.inner_text()) == before + 1
        assert page.locator(".tally [data-pledge=lawan-hoaks]").inner_text() == "1"

        # She changes her mind: the link on her thank-you page takes her signature back.
        page.go_back()
        page.get_by_role("link", name="Tarik dukunganku").tap()
        assert page.locator("h1").inner_text() == "Tarik dukunganmu"
        page.get_by_role("button", name="Tarik dukungan dan hapus dataku").tap()
        page.wait_for_url(f"{campaign_url}/withdrawn")
        assert page.locator("h1").inner_text() == "Dukunganmu sudah ditarik"
        page.get_by_role("link", name="Kembali ke kampanye").tap()
        page.wait_for_url(campaign_url)
        assert digits(count.inner_text()) == before
        assert page.locator(".tally [data-pledge=lawan-hoaks]").inner_text() == "0"
        assert third_party == []


@pytest.mark.browser
def test_sign_in_english_after_switching_language(
    phone: OpenPhone, live_server: LiveServer, make_campaign, session: Session
) -> None:
    view = make_campaign(title="Suara Anak Muda")
    page = phone(locale="en-US").new_page()
    campaign_url = f"{live_server.url}/c/{view.slug}"

    # Indonesian first, whatever the phone's own language; the switch is in the page header.
    page.goto(campaign_url)
    assert page.locator("html").get_attribute("lang") == "id"
    page.locator("nav.lang").get_by_role("link", name="English").tap()
    page.wait_for_url(f"{campaign_url}?lang=en")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("form button[type=submit]").inner_text() == "Sign the pledge"
    assert page.locator("nav.lang [aria-current]").inner_text() == "English"

    # The choice is remembered: the same address without ?lang stays in English.
    page.goto(campaign_url)
    assert page.locator("html").get_attribute("lang") == "en"
    page.get_by_label("Your name", exact=True).wait_for()
    fill_in(page, pledges=("gunakan-hak-pilih",), name="Budi Santoso", contact="budi@contoh.id")
    page.locator("form button[type=submit]").tap()

    # The page asks for the code sent to the address; it comes in the email, in English too.
    page.wait_for_url(f"{campaign_url}/confirm*")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text() == "Almost done: check your email"
    assert last_email_to(session, "budi@contoh.id").subject == (
        "Confirm your signature: Suara Anak Muda"
    )
    confirm_on_phone(page, session, "budi@contoh.id")
    page.wait_for_url(f"{campaign_url}/thanks/**")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text() == "Thank you, Budi!"
    assert page.locator(".number").inner_text() == (
        "Your signature is counted: you are the first supporter of Suara Anak Muda."
    )
    assert page.locator(".signed li").all_inner_texts() == ["Janji gunakan-hak-pilih"]
    assert page.get_by_role("link", name="Withdraw my signature").is_visible()
