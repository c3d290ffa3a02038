"""A supporter on a phone opens the campaign, signs two pledges and sees the count go up."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import LiveServer, digits

PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}


@pytest.mark.browser
def test_sign_two_pledges_on_a_phone(
    browser: Any, live_server: LiveServer, make_campaign, sign
) -> None:
    view = make_campaign(title="Suara Anak Muda")
    sign(view, contact="teman@contoh.id")  # someone signed before
    context = browser.new_context(**PHONE, locale="id-ID")
    page = context.new_page()
    third_party: list[str] = []
    page.on(
        "request",
        lambda request: (
            third_party.append(request.url) if not request.url.startswith(live_server.url) else None
        ),
    )
    try:
        page.goto(f"{live_server.url}/c/{view.slug}")
        assert page.locator("html").get_attribute("lang") == "id"
        assert page.locator("h1").inner_text() == "Suara Anak Muda"
        before = digits(page.locator(".tally strong.count").inner_text())
        assert before == 1

        # The form fits the phone's width: nothing scrolls sideways.
        assert page.evaluate("document.documentElement.scrollWidth") <= 360

        page.locator("input[name=pledges][value=tolak-politik-uang]").check()
        page.locator("input[name=pledges][value=lawan-hoaks]").check()
        page.get_by_label("Namamu", exact=True).fill("Rina Putri")
        page.locator("#contact").fill("0812 3456 7890")
        page.locator("#province").select_option("ID-JT")
        page.locator("input[name=age_ok]").check()
        page.locator("input[name=consent]").check()
        page.locator("form button[type=submit]").tap()

        page.wait_for_url(f"{live_server.url}/c/{view.slug}/thanks/**")
        assert "Rina" in page.locator("h1").inner_text()
        assert "#2" in page.locator(".number").inner_text()
        assert digits(page.locator(".thanks [data-count]").inner_text()) == before + 1
        signed = page.locator(".signed li").all_inner_texts()
        assert signed == ["Janji tolak-politik-uang", "Janji lawan-hoaks"]
        whatsapp = page.locator("a.whatsapp").get_attribute("href") or ""
        assert whatsapp.startswith("https://wa.me/?text=")

        page.goto(f"{live_server.url}/c/{view.slug}")
        assert digits(page.locator(".tally strong.count").inner_text()) == before + 1
        assert third_party == []
    finally:
        context.close()
