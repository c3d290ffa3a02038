"""Where a picture came from, in real browsers: a supporter reports an AI-generated picture
carrying Content Credentials from a phone; a moderator on a desktop reads the provenance
panel, attaches the original of a manipulated photo and proposes a verdict that quotes the
credentials and shows the pair; a second moderator publishes it, and a phone shows the pair
on the verdict's page."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session

from tests.support import difference_files as pictures
from tests.support import provenance_files as files
from tests.support.appserver import LiveServer
from tests.support.factories import make_report
from tests.support.moderation import MODERATOR_PASSWORD, moderators_of
from tests.support.phone import OpenPhone

DESKTOP = {"viewport": {"width": 1280, "height": 900}}


def desktop_moderator(browser: Any, url: str, email: str) -> Page:
    page: Page = browser.new_context(**DESKTOP).new_page()
    page.goto(f"{url}/login?lang=en")
    page.locator("#email").fill(email)
    page.locator("#password").fill(MODERATOR_PASSWORD)
    page.locator("form button[type=submit]").click()
    page.wait_for_url(f"{url}/mod")
    return page


def report_from_a_phone(phone: OpenPhone, url: str, slug: str, picture: Path) -> None:
    reporter = phone().new_page()
    reporter.goto(f"{url}/c/{slug}/report?lang=en")
    with reporter.expect_file_chooser() as chooser:
        reporter.locator("#screenshot").click()
    chooser.value.set_files(picture)
    reporter.locator("#platform").select_option("instagram")
    reporter.locator("#category").select_option("ai_generated")
    reporter.locator("#description").fill("Foto kandidat di acara yang tidak pernah ada.")
    reporter.locator("input[name=consent]").check()
    reporter.locator("form[enctype='multipart/form-data'] button[type=submit]").click()
    reporter.wait_for_url(f"{url}/reports/**")


@pytest.mark.browser
def test_provenance_and_the_original_from_report_to_published_pair(
    browser: Any,
    phone: OpenPhone,
    live_server: LiveServer,
    session: Session,
    make_campaign: Any,
    tmp_path: Path,
) -> None:
    view = make_campaign(title="Pemilu Damai")
    moderators_of(session, view, "mod1@contoh.id", "mod2@contoh.id")
    url = live_server.url
    signed = tmp_path / "kandidat.jpg"
    signed.write_bytes(files.signed_jpeg(size=(1200, 900)))
    report_from_a_phone(phone, url, view.slug, signed)
    # A manipulated photo reported too; its original is found later by a moderator.
    photo = pictures.photo(31, (1400, 1050))
    fake = pictures.reshared(pictures.pasted(photo, (620, 380, 840, 560), (120, 90))).data
    manipulated = make_report(session, view, image=fake, url="https://example.org/palsu")
    original = tmp_path / "asli.jpg"
    original.write_bytes(pictures.stored(photo))

    first = desktop_moderator(browser, url, "mod1@contoh.id")
    first.goto(f"{url}/mod")
    # The phone's report, from the queue: the case that is not the manipulated photo's.
    first.locator(
        f"main a[href^='/mod/cases/']:not([href='/mod/cases/{manipulated.case_id}'])"
    ).first.click()
    first.wait_for_url(re.compile(r".*/mod/cases/\d+$"))
    panel = first.locator("#provenance")
    expect(panel.locator("#provenance-1 .badge")).to_have_text(
        "Content Credentials, signed and valid"
    )
    expect(panel.locator("#provenance-suggestion")).to_contain_text("BUATAN AI")
    panel.screenshot(path=str(tmp_path / "provenance-panel.png"))

    first.goto(f"{url}/mod/cases/{manipulated.case_id}")
    first.get_by_role("button", name="Claim this case").click()
    with first.expect_file_chooser() as chooser:
        first.locator("#original-original").click()
    chooser.value.set_files(original)
    with first.expect_navigation():
        first.get_by_role("button", name="Attach and compare").click()
    first.screenshot(path=str(tmp_path / "case-page.png"), full_page=True)
    expect(first.locator("#done")).to_be_visible()
    expect(first.locator("#original-summary")).to_contain_text("1 part of the case's picture")
    overlay = first.locator("#original-overlay")
    overlay.scroll_into_view_if_needed()
    expect(overlay).to_have_js_property("complete", True)
    assert overlay.evaluate("img => img.naturalWidth") > 0
    first.locator("#original").screenshot(path=str(tmp_path / "original-section.png"))

    first.locator("#form-hoax summary").click()
    first.locator("#hoax-label").select_option("DIMANIPULASI")
    first.locator("#hoax-public_title").fill("Foto kandidat berpelukan dengan koruptor")
    first.locator("#hoax-correction").fill("Foto aslinya tidak memuat orang itu.")
    first.locator("#hoax-public_explanation").fill("Satu orang ditempelkan ke foto lama.")
    first.locator("#hoax-show_original").check()
    first.locator("#hoax-reason").fill("Foto asli ditemukan lewat pencarian gambar.")
    first.locator("#form-hoax button[type=submit]").click()
    first.locator("#own-proposal, #claim-to-approve").first.wait_for()

    second = desktop_moderator(browser, url, "mod2@contoh.id")
    second.goto(f"{url}/mod/cases/{manipulated.case_id}")
    second.get_by_role("button", name="Claim this case").click()
    expect(second.locator("#original-public")).to_be_visible()
    second.locator("#approve-reason").fill("Perbandingannya jelas.")
    with second.expect_navigation():
        second.get_by_role("button", name="Approve and publish").click()

    # The case page on a moderator's phone, in Indonesian: nothing scrolls sideways.
    on_phone = phone(slow_3g=False).new_page()
    on_phone.goto(f"{url}/login?lang=id")
    on_phone.locator("#email").fill("mod1@contoh.id")
    on_phone.locator("#password").fill(MODERATOR_PASSWORD)
    on_phone.locator("form button[type=submit]").click()
    on_phone.wait_for_url(f"{url}/mod")
    on_phone.goto(f"{url}/mod/cases/{manipulated.case_id}")
    expect(on_phone.locator("#original-title")).to_have_text("Foto asli")
    assert on_phone.evaluate("document.documentElement.scrollWidth") <= 360
    on_phone.screenshot(path=str(tmp_path / "case-on-a-phone.png"), full_page=True)

    reader = phone().new_page()
    reader.goto(f"{url}/hoaxes/{manipulated.case_id}?lang=en")
    pair = reader.locator("#original-pair")
    pair.scroll_into_view_if_needed()
    for image in pair.locator("img").all():
        image.scroll_into_view_if_needed()
        # Two pictures of at most 720 px on slow 3G: seconds each.
        expect(image).to_have_js_property("complete", True, timeout=30_000)
        assert image.evaluate("img => img.naturalWidth") > 0
    assert reader.evaluate("document.documentElement.scrollWidth") <= 360
    pair.screenshot(path=str(tmp_path / "public-pair.png"))
    print("screenshots:", sorted(str(p) for p in tmp_path.glob("*.png")))
