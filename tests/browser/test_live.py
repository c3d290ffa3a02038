"""Live counts in a real browser: within seconds and without a reload, a signature shows up on
another phone's campaign page and thank-you page, and in the widgets on a partner's website
(shown beside its badge) when its visitor signs in another tab, once its signer confirms it. The journeys run on phones on a
slow 3G network; the checks of formatting, of pages without JavaScript and of the watch itself
on a fast one."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from bs4 import BeautifulSoup
from playwright.sync_api import ConsoleMessage, FrameLocator, Page, Response, expect
from sqlmodel import Session

from pledge.campaigns.models import CampaignView
from pledge.supporters.models import Tally
from tests.support.appserver import LiveServer
from tests.support.pages import digits
from tests.support.phone import OpenPhone, Phone
from tests.support.signing import confirm_on_phone, fill_contact

LIVE_WITHIN = 3.0  # seconds from confirming on one phone to the new count on another
TIMEOUT_MS = int(LIVE_WITHIN * 1000)

# Chromium reports each CSP violation as an event on the document; the console message
# that goes with it is checked as well, but the event says which directive was broken.
RECORD_CSP_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(event.violatedDirective + " " + event.blockedURI);
});
"""

MakeCampaign = Callable[..., CampaignView]
Sign = Callable[..., Any]


class Watched:
    """A page with everything that went wrong in it or in its frames: console errors and
    messages about the Content Security Policy, uncaught exceptions, CSP violation events;
    how often any of its frames navigated, and the responses it received."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.problems: list[str] = []
        self.navigations = 0
        self.responses: list[Response] = []
        page.add_init_script(RECORD_CSP_VIOLATIONS)
        page.on("response", lambda response: self.responses.append(response))
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"uncaught: {error}"))
        page.on("framenavigated", self._navigated)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error" or "Content Security Policy" in message.text:
            where = message.location.get("url", "")
            self.problems.append(f"console {message.type}: {message.text} ({where})")

    def _navigated(self, frame: Any) -> None:
        self.navigations += 1

    def goto(self, url: str) -> None:
        # Returns once the page and its frames have loaded: the deferred script has run.
        self.page.goto(url)

    def assert_clean(self) -> None:
        violations = [
            found
            for frame in self.page.frames
            for found in frame.evaluate("window.__cspViolations || []")
        ]
        assert self.problems + violations == []


@pytest.fixture
def partner_site(live_server: LiveServer) -> Iterator[str]:
    """A partner's website on another origin (localhost, another loopback port). Its page
    ``/?all=<path>`` frames that path of the app in an iframe ``#all``, as the snippet does;
    a path to a badge (``.svg``) is shown as an image ``#all`` instead."""

    def embedded(name: str, path: str) -> str:
        src = escape(live_server.url + path)
        if urlsplit(path).path.endswith(".svg"):
            return f'<p><img id="{escape(name)}" src="{src}" alt="Kampanye" height="20"></p>'
        return f'<iframe id="{escape(name)}" src="{src}" width="320" height="180"></iframe>'

    class PartnerPage(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            frames = "".join(
                embedded(name, path) for name, path in parse_qsl(urlsplit(self.path).query)
            )
            body = (
                '<!doctype html><html lang="en"><head><meta charset="utf-8">'
                '<link rel="icon" href="data:,"><title>Mitra</title></head>'
                f"<body><h1>Our campaign</h1>{frames}</body></html>"
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), PartnerPage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def open_partner_site(context: Phone, site: str, widgets: dict[str, str]) -> Watched:
    """The partner's page with one widget (or badge) per id, loaded with its frames."""
    page = Watched(context.new_page())
    page.goto(f"{site}/?{urlencode(widgets)}")
    return page


def sign_on_page(
    page: Page, url: str | None, session: Session, *, pledges: tuple[str, ...], contact: str
) -> float:
    """Open the campaign page (unless it is open already), fill in and send the real form,
    then confirm on the page that waits for it (the emailed code typed, or the WhatsApp
    message sent); the time the confirmation was sent, when the signature is counted.
    Returns as soon as the thank-you page starts to arrive: on a slow network the rest of
    that page takes its time, and other phones need not wait for it."""
    if url is not None:
        page.goto(url)
    for slug in pledges:
        page.locator(f"input[name=pledges][value={slug}]").check()
    page.locator("#name").fill("Dewi Lestari")
    fill_contact(page, contact)
    page.locator("#province").select_option("ID-JB")
    page.locator("input[name=age_ok]").check()
    page.locator("input[name=consent]").check()
    page.locator("form button[type=submit]").tap()
    pressed = confirm_on_phone(page, session, contact)
    page.wait_for_url("**/thanks/**", wait_until="commit")
    return pressed


def add_to_tallies(session: Session, view: CampaignView, counts: dict[str, int]) -> None:
    """A campaign that already has many supporters: one more shard row per counter."""
    for key, value in counts.items():
        pledge_id = int(key.split(":")[1]) if key.startswith("pledge:") else None
        session.add(Tally(campaign_id=view.id, key=key, pledge_id=pledge_id, shard=99, value=value))
    session.commit()


# --- the campaign page --------------------------------------------------------------------


@pytest.mark.browser
def test_campaign_page_counts_go_up_while_it_is_open(
    phone: OpenPhone,
    live_server: LiveServer,
    make_campaign: MakeCampaign,
    sign: Sign,
    session: Session,
) -> None:
    view = make_campaign(title="Suara Anak Muda", goal=10, partners=2)
    sign(view, contact="teman@contoh.id", pledges=("tolak-politik-uang",))
    inviting = next(p for p in view.partners if not p.is_lead)
    url = f"{live_server.url}/c/{view.slug}"

    with phone(locale="id-ID") as watching, phone(locale="id-ID") as signing:
        page = Watched(watching.new_page())
        page.goto(url)
        total = page.page.locator(".tally strong.count")
        pledge = {p.slug: page.page.locator(f".tally [data-pledge={p.slug}]") for p in view.pledges}
        bar = page.page.locator(".tally progress")
        brought = {
            p.slug: page.page.locator(f".leaderboard strong[data-partner={p.slug}]")
            for p in view.partners
        }
        assert total.inner_text() == "1"
        assert [pledge[p.slug].inner_text() for p in view.pledges] == ["1", "0", "0"]
        assert bar.evaluate("bar => bar.value") == 1
        assert {slug: n.inner_text() for slug, n in brought.items()} == dict.fromkeys(brought, "0")
        # Anything kept in the document survives only if the page is never reloaded.
        page.page.evaluate("window.openedOnce = true")
        navigations = page.navigations

        pressed = sign_on_page(
            signing.new_page(),
            f"{url}?ref={inviting.referral_code}",
            session,
            pledges=("tolak-politik-uang", "lawan-hoaks"),
            contact="0813 2222 3333",
        )

        expect(total).to_have_text("2", timeout=TIMEOUT_MS)
        took = time.monotonic() - pressed
        expect(pledge["tolak-politik-uang"]).to_have_text("2", timeout=TIMEOUT_MS)
        expect(pledge["lawan-hoaks"]).to_have_text("1", timeout=TIMEOUT_MS)
        expect(bar).to_have_js_property("value", 2, timeout=TIMEOUT_MS)
        assert took < LIVE_WITHIN, f"the count changed {took:.2f} s after the signature"
        expect(brought[inviting.slug]).to_have_text("1", timeout=TIMEOUT_MS)
        # The same event left the pledge nobody signed and the other partners as they were.
        assert pledge["gunakan-hak-pilih"].inner_text() == "0"
        assert [n.inner_text() for slug, n in brought.items() if slug != inviting.slug] == [
            "0",
            "0",
        ]
        assert page.page.locator(".tally .goal").inner_text().startswith("2 ")

        assert page.page.url == url
        assert page.navigations == navigations
        assert page.page.evaluate("window.openedOnce") is True
        page.assert_clean()


# --- the widget ---------------------------------------------------------------------------


@pytest.mark.browser
def test_widgets_on_a_partner_site_follow_the_campaign_and_the_partner_live(
    phone: OpenPhone,
    live_server: LiveServer,
    partner_site: str,
    make_campaign: MakeCampaign,
    sign: Sign,
    session: Session,
) -> None:
    view = make_campaign(title="Pemilih Cerdas", goal=10, partners=2)
    partner = next(p for p in view.partners if not p.is_lead)
    sign(view, contact="pertama@contoh.id", ref=partner.referral_code)
    widget = f"/embed/{view.slug}"
    badge = f"/embed/{view.slug}.svg?lang=en"

    with phone() as visitor:
        site = open_partner_site(
            visitor,
            partner_site,
            {
                "all": f"{widget}?lang=en",
                "ours": f"{widget}?partner={partner.slug}&lang=en",
                "badge": badge,
            },
        )
        frames: dict[str, FrameLocator] = {
            name: site.page.frame_locator(f"iframe#{name}") for name in ("all", "ours")
        }
        for frame in frames.values():
            expect(frame.locator(".count")).to_have_text("1")
            expect(frame.locator(".label")).to_have_text("supporter")
            expect(frame.locator("progress")).to_have_js_property("value", 1)
        assert frames["ours"].locator(".via").inner_text().endswith(partner.name)

        # The badge beside the widgets: drawn on the partner's page, saying the same count.
        image = site.page.locator("img#badge")
        expect(image).to_have_js_property("complete", True)
        drawn = image.evaluate("img => [img.naturalWidth, img.naturalHeight]")
        assert drawn[0] > 60 and drawn[1] == 20, drawn
        shown = image.bounding_box()
        assert shown is not None
        assert (shown["width"], shown["height"]) == pytest.approx((drawn[0], 20), abs=0.5)
        sent = next(r for r in site.responses if r.url == live_server.url + badge)
        assert sent.status == 200
        assert sent.headers["content-type"].startswith("image/svg+xml")
        svg = BeautifulSoup(sent.text(), "html.parser").svg
        assert svg is not None and svg.get("aria-label") == "Pemilih Cerdas: 1 supporter"
        assert [text.get_text() for text in svg.find_all("text")] == ["supporter", "1"]
        navigations = site.navigations

        # The visitor taps the partner's widget: the campaign opens in another tab, crediting
        # the partner, and she signs there while the partner's page stays open.
        with site.page.expect_popup() as opened:
            frames["ours"].locator("a.sign").tap()
        tab = opened.value
        tab.wait_for_url(f"{live_server.url}/c/{view.slug}?ref={partner.referral_code}")
        assert tab.locator("h1").inner_text() == "Pemilih Cerdas"
        pressed = sign_on_page(
            tab,
            None,
            session,
            pledges=("gunakan-hak-pilih", "lawan-hoaks"),
            contact="kedua@contoh.id",
        )

        for name, frame in frames.items():
            expect(frame.locator(".count")).to_have_text("2", timeout=TIMEOUT_MS)
            took = time.monotonic() - pressed
            assert took < LIVE_WITHIN, f"the {name} widget changed {took:.2f} s after signing"
            expect(frame.locator(".label")).to_have_text("supporters", timeout=TIMEOUT_MS)
            expect(frame.locator("progress")).to_have_js_property("value", 2, timeout=TIMEOUT_MS)
        assert site.navigations == navigations
        site.assert_clean()


# --- numbers as the reader's language writes them -----------------------------------------


@pytest.mark.browser
def test_live_numbers_keep_the_server_formatting_of_each_language(
    phone: OpenPhone,
    live_server: LiveServer,
    partner_site: str,
    session: Session,
    make_campaign: MakeCampaign,
    sign: Sign,
) -> None:
    view = make_campaign(title="Sejuta Suara", goal=5000)
    first = view.pledges[0]
    add_to_tallies(session, view, {"total": 1233, f"pledge:{first.id}": 1233})
    sign(view, contact="lama@contoh.id", pledges=(first.slug,))
    campaign_url = f"{live_server.url}/c/{view.slug}"
    widget_path = f"/embed/{view.slug}?lang=en"

    with phone(locale="id-ID", slow_3g=False) as watching, phone(slow_3g=False) as signing:
        page = Watched(watching.new_page())
        page.goto(campaign_url)
        site = open_partner_site(watching, partner_site, {"en": widget_path})
        total = page.page.locator(".tally strong.count")
        pledge = page.page.locator(f".tally [data-pledge={first.slug}]")
        in_widget = site.page.frame_locator("iframe#en").locator(".count")
        assert page.page.locator("html").get_attribute("lang") == "id"
        assert total.inner_text() == "1.234"
        assert pledge.inner_text() == "1.234"
        expect(in_widget).to_have_text("1,234")

        sign_on_page(
            signing.new_page(), campaign_url, session, pledges=(first.slug,), contact="baru@x.id"
        )

        expect(total).to_have_text("1.235", timeout=TIMEOUT_MS)
        expect(pledge).to_have_text("1.235", timeout=TIMEOUT_MS)
        expect(page.page.locator(".tally .goal [data-count]")).to_have_text("1.235")
        expect(in_widget).to_have_text("1,235", timeout=TIMEOUT_MS)

        page.assert_clean()
        site.assert_clean()

        # Character for character what the server writes, seen where no script can rewrite it.
        with phone(java_script_enabled=False, slow_3g=False) as server_only:
            fresh = server_only.new_page()
            fresh.goto(campaign_url)
            assert fresh.locator(".tally strong.count").inner_text() == total.inner_text()
            assert fresh.locator(f".tally [data-pledge={first.slug}]").inner_text() == (
                pledge.inner_text()
            )
            fresh.goto(f"{live_server.url}{widget_path}")
            assert fresh.locator(".count").inner_text() == in_widget.inner_text()


# --- without JavaScript -------------------------------------------------------------------


@pytest.mark.browser
def test_without_javascript_the_page_shows_the_count_and_the_form_works(
    phone: OpenPhone,
    live_server: LiveServer,
    make_campaign: MakeCampaign,
    sign: Sign,
    session: Session,
) -> None:
    view = make_campaign(title="Tanpa Skrip")
    sign(view, contact="a@contoh.id")
    sign(view, contact="b@contoh.id")
    url = f"{live_server.url}/c/{view.slug}"

    with phone(java_script_enabled=False, slow_3g=False) as no_script:
        page = no_script.new_page()
        streams: list[str] = []
        page.on("request", lambda r: streams.append(r.url) if "/events" in r.url else None)
        page.goto(url)
        assert digits(page.locator(".tally strong.count").inner_text()) == 2
        assert page.locator(".tally [data-pledge=tolak-politik-uang]").inner_text() == "2"
        assert page.locator(".tally progress").get_attribute("value") == "2"

        # The code form works without a script too.
        sign_on_page(
            page, url, session, pledges=("tolak-politik-uang", "lawan-hoaks"), contact="c@x.id"
        )
        assert "Dewi" in page.locator("h1").inner_text()
        assert digits(page.locator(".thanks [data-count]").inner_text()) == 3
        assert page.locator(".signed li").all_inner_texts() == [
            "Janji tolak-politik-uang",
            "Janji lawan-hoaks",
        ]
        page.goto(url)
        assert digits(page.locator(".tally strong.count").inner_text()) == 3
        assert page.locator(".tally [data-pledge=lawan-hoaks]").inner_text() == "1"
        assert streams == []


# --- the thank-you page -------------------------------------------------------------------


@pytest.mark.browser
def test_thank_you_page_count_goes_up_when_a_friend_signs(
    phone: OpenPhone,
    live_server: LiveServer,
    make_campaign: MakeCampaign,
    sign: Sign,
    session: Session,
) -> None:
    view = make_campaign(title="Ajak Teman")
    sign(view, contact="awal@contoh.id")
    url = f"{live_server.url}/c/{view.slug}"

    with phone(locale="id-ID") as first, phone(locale="id-ID") as friend:
        page = Watched(first.new_page())
        sign_on_page(
            page.page, url, session, pledges=("tolak-politik-uang",), contact="saya@contoh.id"
        )
        thanks_url = page.page.url
        count = page.page.locator(".thanks [data-count]")
        assert count.inner_text() == "2"
        navigations = page.navigations

        pressed = sign_on_page(
            friend.new_page(),
            url,
            session,
            pledges=("gunakan-hak-pilih",),
            contact="teman@contoh.id",
        )

        expect(count).to_have_text("3", timeout=TIMEOUT_MS)
        took = time.monotonic() - pressed
        assert took < LIVE_WITHIN, f"the count changed {took:.2f} s after the friend signed"
        assert page.page.url == thanks_url
        assert page.navigations == navigations
        page.assert_clean()


# --- the watch itself ---------------------------------------------------------------------


@pytest.mark.browser
def test_the_watch_notices_a_script_the_policy_blocks(
    phone: OpenPhone, live_server: LiveServer, partner_site: str, make_campaign: MakeCampaign
) -> None:
    """The checks above would catch an inline script, on the page or in a partner's frame."""
    view = make_campaign()
    inject = (
        "document.body.appendChild(Object.assign(document.createElement('script'),"
        " {textContent: 'window.injected = true'}))"
    )
    with phone(slow_3g=False) as context:
        page = Watched(context.new_page())
        page.goto(f"{live_server.url}/c/{view.slug}")
        site = open_partner_site(context, partner_site, {"all": f"/embed/{view.slug}"})
        page.assert_clean()
        site.assert_clean()

        page.page.evaluate(inject)
        widget = site.page.frames[1]
        widget.evaluate(inject)

        for watched, frame in ((page, page.page.main_frame), (site, widget)):
            with pytest.raises(AssertionError, match="Content Security Policy"):
                watched.assert_clean()
            assert "script-src-elem" in str(frame.evaluate("window.__cspViolations"))
            assert frame.evaluate("window.injected") is None
