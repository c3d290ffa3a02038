"""The sign form and the thank-you page as a thumb meets them on a 360 × 740 phone: the way to
the form from the first screen, the keyboard each contact field opens, a refused form that
takes the focus and leads to each field, and the share buttons on the first screen."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page
from sqlmodel import Session

from tests.support.appserver import LiveServer
from tests.support.phone import OpenPhone
from tests.support.signing import confirm_on_phone, fill_contact

SCREEN_HEIGHT = 740


def top_of(page: Page, selector: str) -> float:
    return float(page.evaluate(f"document.querySelector({selector!r}).getBoundingClientRect().top"))


@pytest.mark.browser
def test_the_first_screen_leads_to_the_form_and_each_contact_opens_its_keyboard(
    phone: OpenPhone, live_server: LiveServer, make_campaign
) -> None:
    view = make_campaign(
        title="Suara Anak Muda Menolak Politik Uang di Pemilu 2029",
        summary="Berjanji bareng ribuan anak muda: tolak politik uang, gunakan hak pilihmu, "
        "dan lawan hoaks soal pemilu.",
    )
    with phone(locale="id-ID", slow_3g=False) as supporter:
        page = supporter.new_page()
        page.goto(f"{live_server.url}/c/{view.slug}")

        jump = page.locator("p.jump a")
        assert jump.inner_text() == "Ikut berjanji"
        assert jump.bounding_box()["y"] + jump.bounding_box()["height"] <= SCREEN_HEIGHT
        assert top_of(page, "#sign") > SCREEN_HEIGHT  # the form itself starts further down
        jump.tap()
        page.wait_for_function("location.hash === '#sign'")
        assert 0 <= top_of(page, "#sign") < 10

        # WhatsApp first: the phone keypad. Email: its own field, with the email keyboard.
        assert page.locator("#contact").get_attribute("type") == "tel"
        assert page.locator("#contact").is_visible()
        assert not page.locator("#contact_email").is_visible()
        page.locator("label[for=contact-kind-email]").tap()
        assert page.locator("#contact_email").is_visible()
        assert page.locator("#contact_email").get_attribute("type") == "email"
        assert not page.locator("#contact").is_visible()


@pytest.mark.browser
def test_a_refused_form_takes_the_focus_and_each_message_leads_to_its_field(
    phone: OpenPhone, live_server: LiveServer, make_campaign
) -> None:
    view = make_campaign()
    with phone(locale="id-ID", slow_3g=False) as supporter:
        page = supporter.new_page()
        page.goto(f"{live_server.url}/c/{view.slug}")
        page.locator("#contact").fill("0812-345")
        page.locator("form[action*='/sign'] button[type=submit]").tap()
        page.locator("#form-errors").wait_for()

        # The summary has the focus and is on the screen.
        assert page.evaluate("document.activeElement.id") == "form-errors"
        assert 0 <= top_of(page, "#form-errors") < SCREEN_HEIGHT
        links = page.locator("#form-errors li a")
        texts = links.all_inner_texts()
        assert "Nomor HP itu terlalu pendek" in " ".join(texts)
        # The consent box, far below, is one tap away.
        page.locator("#form-errors a[href='#consent']").tap()
        page.wait_for_function("location.hash === '#consent'")
        assert 0 <= top_of(page, "#consent") < SCREEN_HEIGHT


@pytest.mark.browser
def test_the_thank_you_page_shows_the_share_buttons_on_the_first_screen_at_one_height(
    phone: OpenPhone, live_server: LiveServer, make_campaign, sign, session: Session
) -> None:
    view = make_campaign(title="Suara Anak Muda Menolak Politik Uang di Pemilu 2029")
    sign(view, contact="teman@contoh.id")
    with phone(locale="id-ID", slow_3g=False) as supporter:
        page = supporter.new_page()
        page.goto(f"{live_server.url}/c/{view.slug}")
        page.locator("input[name=pledges]").first.check()
        page.locator("#name").fill("Rina Putri")
        fill_contact(page, "0812-3456-7890")
        page.locator("#province").select_option("ID-JT")
        page.locator("input[name=age_ok]").check()
        page.locator("input[name=consent]").check()
        page.locator("form[action*='/sign'] button[type=submit]").tap()
        confirm_on_phone(page, session, "0812-3456-7890")
        page.wait_for_url("**/thanks/**")

        number = page.locator(".number").inner_text()
        assert "kamu salah satu dari 2 pendukung" in number
        assert "#" not in number and "ke-" not in number
        buttons = page.locator("ul.share-links a.button")
        boxes = [buttons.nth(i).bounding_box() for i in range(buttons.count())]
        assert len(boxes) == 4
        assert len({round(box["height"]) for box in boxes}) == 1, boxes
        assert all(box["y"] + box["height"] <= SCREEN_HEIGHT for box in boxes), boxes
        copy = page.locator("#share-url").bounding_box()
        assert copy is not None and copy["width"] >= 0.7 * 360
