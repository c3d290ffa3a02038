"""Sending a hoax report with a big screenshot from a phone on slow 3G: the button is disabled
and shows how much has gone while the picture uploads, a second tap sends nothing, and the
phone lands on the report's status page with one report stored. A refused form is shown in
place, and without JavaScript the form posts as usual."""

from __future__ import annotations

import io
import random
import re
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from pledge.hoaxes.models import HoaxReport
from tests.support.appserver import LiveServer
from tests.support.phone import OpenPhone

FORM = "form[data-report]"
SEND = f"{FORM} button[type=submit]"


def big_photo(path: Path, size: int = 1_500_000) -> Path:
    """A phone photo of about ``size`` bytes: noise does not compress."""
    rng = random.Random(7)
    width, height = 1080, 1150
    image = Image.frombytes("RGB", (width, height), rng.randbytes(width * height * 3))
    quality = 95
    while True:
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=quality)
        if buffer.tell() <= size or quality <= 50:
            break
        quality -= 5
    path.write_bytes(buffer.getvalue())
    return path


def fill(page: Page, *, picture: Path | None = None, consent: bool = True) -> None:
    page.locator("#url").fill("https://www.tiktok.com/@akun/video/7301234567890123456")
    if picture is not None:
        page.locator("#screenshot").set_input_files(picture)
    page.locator("#platform").select_option("tiktok")
    page.locator("#category").select_option("manipulated")
    if consent:
        page.locator("input[name=consent]").check()


def reports(session: Session) -> list[HoaxReport]:
    session.rollback()
    session.expire_all()
    return list(session.exec(select(HoaxReport)))


def posts_to(page: Page, path: str) -> list[str]:
    """The posts the page sends to ``path``, as they go."""
    sent: list[str] = []
    page.on(
        "request",
        lambda request: (
            sent.append(request.url)
            if request.method == "POST" and request.url.split("?")[0].endswith(path)
            else None
        ),
    )
    return sent


@pytest.mark.browser
def test_a_big_screenshot_on_slow_3g_shows_progress_and_is_sent_once(
    phone: OpenPhone,
    live_server: LiveServer,
    session: Session,
    make_campaign: Any,
    tmp_path: Path,
) -> None:
    view = make_campaign()
    url = live_server.url
    picture = big_photo(tmp_path / "layar.jpg")
    assert 1_200_000 <= picture.stat().st_size <= 1_600_000

    page = phone().new_page()
    page.goto(f"{url}/c/{view.slug}/report?lang=en")
    sent = posts_to(page, f"/c/{view.slug}/report")
    fill(page, picture=picture)
    button = page.locator(SEND)
    button.click()

    # At 400 kbit/s up, 1.5 MB takes half a minute: the button says how far it has got.
    expect(button).to_be_disabled()
    expect(button).to_have_text(re.compile(r"Sending… [1-9]\d?%"), timeout=20_000)
    expect(page.locator("[data-report-status]")).to_have_text(
        re.compile(r"(Sending your report|\d+% sent)\. Keep this page open")
    )
    page.screenshot(path=str(tmp_path / "sending.png"))
    # A second tap (on the disabled button, or a submit by the keyboard) sends nothing more.
    button.click(force=True)
    page.evaluate(f"document.querySelector({FORM!r}).requestSubmit()")

    page.wait_for_url(f"{url}/reports/**", timeout=120_000)
    code = page.locator(".tracking-code").inner_text()
    assert page.url == f"{url}/reports/{code}"
    assert sent == [f"{url}/c/{view.slug}/report"]
    stored = reports(session)
    assert [r.tracking_code for r in stored] == [code]
    assert stored[0].media_id is not None


@pytest.mark.browser
def test_a_refused_form_is_shown_in_place_and_then_sent(
    phone: OpenPhone, live_server: LiveServer, session: Session, make_campaign: Any
) -> None:
    view = make_campaign()
    url = live_server.url
    page = phone(slow_3g=False).new_page()
    page.goto(f"{url}/c/{view.slug}/report?lang=en")
    fill(page, consent=False)
    page.locator(SEND).click()

    # The form again, with its message beside the box and the values kept; focus on the alert.
    alert = page.locator("#form-errors")
    expect(alert).to_be_focused()
    expect(page.locator("#consent-error")).to_contain_text("Agree to the privacy notice")
    assert page.url == f"{url}/c/{view.slug}/report?lang=en"
    expect(page.locator("#url")).to_have_value(re.compile("tiktok.com"))
    expect(page.locator(SEND)).to_be_enabled()
    assert reports(session) == []

    page.locator("input[name=consent]").check()
    page.locator(SEND).click()
    page.wait_for_url(f"{url}/reports/**")
    assert len(reports(session)) == 1


@pytest.mark.browser
def test_a_lost_connection_lets_the_reporter_send_again(
    phone: OpenPhone, live_server: LiveServer, session: Session, make_campaign: Any
) -> None:
    view = make_campaign()
    url = live_server.url
    page = phone(slow_3g=False).new_page()
    page.goto(f"{url}/c/{view.slug}/report?lang=en")
    fill(page)
    page.route(f"{url}/c/{view.slug}/report", lambda route: route.abort("internetdisconnected"))
    page.locator(SEND).click()

    status = page.locator("[data-report-status]")
    expect(status).to_have_text(re.compile("could not be sent. Check your connection"))
    expect(page.locator(SEND)).to_be_enabled()
    expect(page.locator(SEND)).to_have_text("Send the report")
    assert reports(session) == []

    page.unroute(f"{url}/c/{view.slug}/report")
    page.locator(SEND).click()
    page.wait_for_url(f"{url}/reports/**")
    assert len(reports(session)) == 1


@pytest.mark.browser
def test_without_javascript_the_form_posts_as_usual(
    phone: OpenPhone, live_server: LiveServer, session: Session, make_campaign: Any
) -> None:
    view = make_campaign()
    url = live_server.url
    page = phone(slow_3g=False, java_script_enabled=False).new_page()
    page.goto(f"{url}/c/{view.slug}/report?lang=en")
    fill(page)
    page.locator(SEND).click()
    page.wait_for_url(f"{url}/reports/**")
    code = page.locator(".tracking-code").inner_text()
    assert [r.tracking_code for r in reports(session)] == [code]
