"""From a supporter's hoax report to a published verdict, in a real browser on phones on a slow
3G network: the reporter sends a link and a screenshot from the phone's file picker and lands on
the report's status page, one moderator claims the case and proposes a verdict, a second approves
it, and it appears in the public gallery and on the reporter's status page, whose link leads to
the verdict's own page."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import Page, expect
from sqlmodel import Session

from tests.support.appserver import LiveServer
from tests.support.moderation import MODERATOR_PASSWORD, moderators_of
from tests.support.phone import OpenPhone


def screenshot(path: Path) -> Path:
    image = Image.new("RGB", (720, 1280), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((40, 200, 680, 700), fill="navy")
    draw.text((60, 760), "Kandidat X membagikan uang!", fill="black")
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=80)
    path.write_bytes(buffer.getvalue())
    return path


def signed_in(phone: OpenPhone, url: str, email: str) -> Page:
    page = phone().new_page()
    page.goto(f"{url}/login?lang=en")
    page.locator("#email").fill(email)
    page.locator("#password").fill(MODERATOR_PASSWORD)
    page.locator("form button[type=submit]").click()
    page.wait_for_url(f"{url}/mod")  # a moderator starts at the queue
    return page


@pytest.mark.browser
def test_report_to_published_verdict(
    phone: OpenPhone,
    live_server: LiveServer,
    session: Session,
    make_campaign: Any,
    tmp_path: Path,
) -> None:
    view = make_campaign(title="Pemilu Damai")
    moderators_of(session, view, "mod1@contoh.id", "mod2@contoh.id")
    url = live_server.url

    reporter = phone().new_page()
    reporter.goto(f"{url}/c/{view.slug}?lang=en")
    reporter.locator(".report-link a").click()
    reporter.locator("#url").fill(
        "https://www.facebook.com/groups/relawanpemilubersih/posts/1234567890123456?fbclid=IwAR0abcdefghijklmnopqrstu"
    )
    with reporter.expect_file_chooser() as chooser:
        reporter.locator("#screenshot").click()
    chooser.value.set_files(screenshot(tmp_path / "tangkapan.jpg"))
    reporter.locator("#platform").select_option("facebook")
    reporter.locator("#category").select_option("money_politics")
    reporter.locator("#description").fill("Foto kandidat bagi-bagi uang, sepertinya palsu.")
    reporter.locator("input[name=consent]").check()
    reporter.locator("form[enctype='multipart/form-data'] button[type=submit]").click()
    reporter.wait_for_url(f"{url}/reports/**")
    status_url = reporter.url
    report_text = reporter.locator("main").inner_text()
    assert "facebook.com/groups/relawanpemilubersih" in report_text
    assert "Attached" in report_text
    # The status page is the report's own: its code is in the address to bookmark.
    code = reporter.locator(".tracking-code").inner_text()
    assert status_url == f"{url}/reports/{code}"
    assert reporter.locator(".status").get_attribute("data-status") == "new"
    assert reporter.locator(".status-text strong").inner_text() == "Being reviewed."

    first = signed_in(phone, url, "mod1@contoh.id")
    first.goto(f"{url}/mod")
    first.locator("main a[href^='/mod/cases/']").first.click()
    # The case page, loaded: a click only starts the navigation.
    first.wait_for_url(re.compile(r".*/mod/cases/\d+$"))
    first.wait_for_load_state()
    case_url = first.url
    # Long links wrap: nothing on the case page scrolls sideways on a phone.
    assert first.evaluate("document.documentElement.scrollWidth") <= 360
    first.get_by_role("button", name="Claim this case").click()
    first.locator("#form-hoax summary").click()
    first.locator("#hoax-label").select_option("SALAH")
    first.locator("#hoax-public_title").fill("Foto kandidat membagikan uang")
    first.locator("#hoax-correction").fill("Foto itu rekayasa dari foto lama.")
    first.locator("#hoax-public_explanation").fill("Foto ini hasil suntingan dari foto lama.")
    first.locator("#hoax-reason").fill("Sumber asli ditemukan lewat pencarian gambar.")
    first.locator("#form-hoax button[type=submit]").click()
    first.locator("#own-proposal, #claim-to-approve").first.wait_for()

    # Until a second moderator approves, the reporter reads that a verdict is being checked.
    reporter.reload()
    assert reporter.locator(".status").get_attribute("data-status") == "awaiting_approval"
    assert "SALAH" not in reporter.locator("main").inner_text()

    second = signed_in(phone, url, "mod2@contoh.id")
    second.goto(case_url)
    second.get_by_role("button", name="Claim this case").click()
    second.locator("#approve-reason").fill("Sudah saya periksa: benar hasil suntingan.")
    with second.expect_navigation():
        second.get_by_role("button", name="Approve and publish").click()

    # The verdict in the public gallery, seen from the reporter's phone.
    title = "Foto kandidat membagikan uang"
    reporter.goto(f"{url}/hoaxes?lang=en")
    in_gallery = reporter.get_by_role("link", name=title)
    expect(in_gallery).to_be_visible()
    verdict_path = in_gallery.get_attribute("href")
    assert verdict_path is not None and verdict_path.startswith("/hoaxes/")

    # And on the reporter's status page, with a link to the verdict's page to share.
    reporter.goto(status_url)
    assert reporter.locator(".status").get_attribute("data-status") == "published"
    box = reporter.locator(".verdict-box")
    assert "SALAH" in box.inner_text()
    assert box.locator("h3 .claim-text").inner_text().strip('“”"') == title
    assert "Foto itu rekayasa dari foto lama." in box.locator(".fact").inner_text()
    box.get_by_role("link", name="See the verdict page to share it").tap()
    reporter.wait_for_url(f"{url}{verdict_path}")
    assert reporter.locator("h1 .claim-text").inner_text().strip('“”"') == title
    data = json.loads(reporter.locator("script[type='application/ld+json']").inner_text())
    assert data["@type"] == "ClaimReview"
    assert data["reviewRating"]["alternateName"] == "SALAH"
    image = reporter.locator("main img").first
    source = image.get_attribute("src") or ""
    assert source.split("?")[0].endswith("/image.jpg")  # ?lang=en: its words are English
    # The stamped picture loads when scrolled to (it is lazy), on the phone's slow network.
    image.scroll_into_view_if_needed()
    expect(image).to_have_js_property("complete", True)
    assert image.evaluate("img => img.naturalWidth") > 0
    picture = reporter.request.get(f"{url}{source}")
    assert picture.status == 200
    assert picture.headers["content-type"] == "image/jpeg"
