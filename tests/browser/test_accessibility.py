"""Accessibility in a real browser on a phone: axe-core finds no serious or critical problem on
any page (public, partner dashboard, moderation, site administration, errors, the widget), and
people who use only a keyboard can sign, report a hoax and moderate a case, seeing at every
step where the focus is."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlmodel import Session

from pledge.accounts.models import User
from pledge.campaigns.models import CampaignView
from pledge.hoaxes.models import CaseStatus, HoaxCase
from pledge.supporters import service as supporters
from pledge.web import SESSION_COOKIE
from tests.support import IN_CI
from tests.support.appserver import LiveServer
from tests.support.people import session_cookie
from tests.support.signing import last_email_to
from tests.test_markup import CSRF, pages, screenshot_bytes, seed_site

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}
BLOCKING = ("serious", "critical")


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.exists():
        message = f"axe-core is not installed at {AXE} (npm ci installs it)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return AXE.read_text(encoding="utf-8")


# axe runs on the page as served. add_script_tag(path=...) would insert the file's text as an
# inline <script>, which the site's Content-Security-Policy (script-src 'self') rightly blocks;
# an init script is run by the browser itself through the DevTools protocol, outside the CSP,
# so no context needs bypass_csp. It also puts axe into every frame, so that axe checks the
# widget previewed in an iframe on the dashboard's embed page too.
START_AXE = "() => { window.__axe = axe.run(document, {resultTypes: ['violations']}); }"
AXE_RESULT = "async () => (await window.__axe).violations"
AT_ONCE = 2  # pages checked side by side in each context: axe waits on the renderer


def axe_context(browser: Any, axe_source: str, url: str, user: User | None = None) -> Any:
    context = browser.new_context(**PHONE)
    context.add_init_script(axe_source)
    if user is not None:
        context.add_cookies(
            [{"name": SESSION_COOKIE, "value": session_cookie(user, CSRF), "url": url}]
        )
    return context


def axe_problems(page: Any) -> list[str]:
    """The serious and critical violations axe found on the page, one line each, with the
    rule, its impact and the elements (the first six)."""
    return [
        f"{page.url}: {v['id']} ({v['impact']}): {v['help']} at "
        + "; ".join(" ".join(node["target"]) for node in v["nodes"][:6])
        for v in page.evaluate(AXE_RESULT)
        if v["impact"] in BLOCKING
    ]


def check_with_axe(page: Any) -> list[str]:
    page.evaluate(START_AXE)
    return axe_problems(page)


@pytest.mark.browser
def test_every_page_passes_axe(
    browser: Any,
    live_server: LiveServer,
    session: Session,
    make_campaign: Callable[..., CampaignView],
    axe_source: str,
) -> None:
    site = seed_site(session, make_campaign)
    users = {"admin": site.admin, "moderator": site.moderator, "site_admin": site.site_admin}
    problems: list[str] = []
    checked = 0
    for role, paths in pages(site).items():
        context = axe_context(browser, axe_source, live_server.url, users.get(role))
        try:
            tabs = [context.new_page() for _ in range(min(AT_ONCE, len(paths)))]
            for first in range(0, len(paths), len(tabs)):
                batch = list(zip(tabs, paths[first : first + len(tabs)], strict=False))
                for tab, path in batch:
                    tab.goto(f"{live_server.url}{path}")
                    tab.evaluate(START_AXE)
                for tab, _ in batch:
                    problems += axe_problems(tab)
                    checked += 1
        finally:
            context.close()
    assert checked == sum(len(paths) for paths in pages(site).values())
    assert not problems, f"{len(problems)} serious or critical problems:\n" + "\n".join(problems)


# --- keyboard only -------------------------------------------------------------------

# Each focusable element's look before anyone focuses it, taken as every page loads (an init
# script runs through the DevTools protocol, outside the page's CSP).
SNAPSHOT = """
document.addEventListener("DOMContentLoaded", () => {
  window.__unfocused = new WeakMap();
  const focusable = "a[href], button, input, select, textarea, summary, [tabindex]";
  for (const el of document.querySelectorAll(focusable)) {
    const s = getComputedStyle(el);
    window.__unfocused.set(el, [s.outlineStyle, s.outlineWidth, s.outlineColor, s.boxShadow]);
  }
});
"""

# Where the focus is, whether it shows (an outline or a shadow that the element does not have
# unfocused), and whether it is on screen.
FOCUS = """
(selector) => {
  const el = document.activeElement;
  const what = el ? el.outerHTML.slice(0, 160) : "nothing";
  if (!el || el === document.body) return {ok: false, matches: false, what, why: "body"};
  const s = getComputedStyle(el);
  const now = [s.outlineStyle, s.outlineWidth, s.outlineColor, s.boxShadow];
  const before = window.__unfocused && window.__unfocused.get(el);
  const outline = s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0;
  const shadow = s.boxShadow !== "none";
  const changed = !!before && before.join("|") !== now.join("|");
  const r = el.getBoundingClientRect();
  const onScreen = r.width > 0 && r.height > 0 && r.bottom > 0 && r.right > 0
    && r.top < innerHeight && r.left < innerWidth;
  return {
    ok: (outline || shadow) && changed && onScreen,
    matches: el.matches(selector),
    what,
    why: `outline ${now.slice(0, 3).join(" ")}, shadow ${now[3]}, unfocused ${before},`
      + ` on screen ${onScreen}`,
  };
}
"""


def tab_to(page: Any, selector: str, limit: int = 80) -> None:
    """Press Tab until the element is focused, checking that every element the focus passes
    shows it."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        state = page.evaluate(FOCUS, selector)
        assert state["ok"], f"the focus is not visible on {state['what']}: {state['why']}"
        if state["matches"]:
            return
    raise AssertionError(f"{selector} is not reached with Tab on {page.url}")


def press_and_wait(page: Any, key: str) -> None:
    with page.expect_navigation():
        page.keyboard.press(key)


@pytest.fixture
def keyboard_context(
    browser: Any, live_server: LiveServer, axe_source: str
) -> Iterator[Callable[..., Any]]:
    opened: list[Any] = []

    def open_as(user: User | None = None) -> Any:
        context = axe_context(browser, axe_source, live_server.url, user)
        context.add_init_script(SNAPSHOT)
        opened.append(context)
        return context.new_page()

    yield open_as
    for context in opened:
        context.close()


@pytest.mark.browser
def test_sign_and_report_with_the_keyboard_only(
    live_server: LiveServer,
    session: Session,
    make_campaign: Callable[..., CampaignView],
    keyboard_context: Callable[..., Any],
    axe_source: str,
    tmp_path: Path,
) -> None:
    view = make_campaign(slug="suara-muda", title="Suara Muda", partners=1)
    page = keyboard_context()
    page.goto(f"{live_server.url}/c/{view.slug}?lang=en")

    # Sent half filled: the form comes back with its messages, which axe checks too.
    tab_to(page, "#name")
    page.keyboard.type("Sari Papan Ketik")
    tab_to(page, "form button[type=submit]")
    press_and_wait(page, "Enter")
    assert page.locator("p.error").count() >= 3
    assert page.locator("#name").input_value() == "Sari Papan Ketik"
    assert not (problems := check_with_axe(page)), "\n".join(problems)

    tab_to(page, "input[name=pledges][value=tolak-politik-uang]")
    page.keyboard.press("Space")
    tab_to(page, "input[name=pledges][value=lawan-hoaks]")
    page.keyboard.press("Space")
    # WhatsApp is chosen first: the arrow key moves the choice to email, whose field shows.
    tab_to(page, "#contact-kind-whatsapp")
    page.keyboard.press("ArrowRight")
    assert page.locator("#contact-kind-email").is_checked()
    assert not page.locator("#contact").is_visible()
    tab_to(page, "#contact_email")
    page.keyboard.type("sari.keyboard@example.com")
    tab_to(page, "#province")
    page.keyboard.type("Jawa Barat")
    assert page.locator("#province").input_value() == "ID-JB"
    for name in ("age_ok", "consent"):
        tab_to(page, f"input[name={name}]")
        page.keyboard.press("Space")
    tab_to(page, "form button[type=submit]")
    press_and_wait(page, "Enter")
    # The page that waits for the confirmation: the code from the email, typed in its field.
    assert urlsplit(page.url).path == f"/c/{view.slug}/confirm"
    assert not (problems := check_with_axe(page)), "\n".join(problems)
    assert supporters.get_counts(session, campaign_id=view.id).total == 0
    tab_to(page, "#code")
    page.keyboard.type(last_email_to(session, "sari.keyboard@example.com").code)
    tab_to(page, "form.code-form button[type=submit]")
    press_and_wait(page, "Enter")
    assert "/thanks/" in page.url
    signed = page.locator("main").inner_text()
    assert "Janji tolak-politik-uang" in signed and "Janji lawan-hoaks" in signed
    assert "Janji gunakan-hak-pilih" not in signed
    assert supporters.get_counts(session, campaign_id=view.id).total == 1

    page.goto(f"{live_server.url}/c/{view.slug}/report?lang=en")
    tab_to(page, "#url")
    page.keyboard.type("facebook.com/groups/pemilu/posts/42")
    tab_to(page, "#screenshot")
    # The file picker is the phone's own window: the file is handed to the focused input.
    picture = tmp_path / "layar.png"
    picture.write_bytes(screenshot_bytes(7))
    page.locator("#screenshot").set_input_files(picture)
    tab_to(page, "#platform")
    page.keyboard.type("Facebook")
    assert page.locator("#platform").input_value() == "facebook"
    tab_to(page, "#category")
    page.keyboard.type("Money")
    assert page.locator("#category").input_value() == "money_politics"
    tab_to(page, "#description")
    page.keyboard.type("Foto bagi-bagi uang, sepertinya palsu.")
    tab_to(page, "input[name=consent]")
    page.keyboard.press("Space")
    tab_to(page, "form button[type=submit]")
    press_and_wait(page, "Enter")
    assert "/reports/" in page.url, page.locator("main").inner_text()
    text = page.locator("main").inner_text()
    assert "facebook.com/groups/pemilu/posts/42" in text
    assert "Attached" in text


@pytest.mark.browser
def test_moderate_with_the_keyboard_only(
    live_server: LiveServer,
    session: Session,
    make_campaign: Callable[..., CampaignView],
    keyboard_context: Callable[..., Any],
) -> None:
    site = seed_site(session, make_campaign)
    page = keyboard_context(site.moderator)
    page.goto(f"{live_server.url}/mod/cases/{site.case_new}?lang=en")
    tab_to(page, "#form-claim button")
    press_and_wait(page, "Enter")
    assert "You hold this case" in page.locator("#holder").inner_text()

    tab_to(page, "#form-hoax summary")
    page.keyboard.press("Enter")
    assert page.locator("#form-hoax").get_attribute("open") is not None
    tab_to(page, "#hoax-label")
    page.keyboard.type("SALAH")
    assert page.locator("#hoax-label").input_value() == "SALAH"
    tab_to(page, "#hoax-public_title")
    page.keyboard.type("Kotak suara dibakar di TPS")
    tab_to(page, "#hoax-correction")
    page.keyboard.type("Kotak suara tidak dibakar.")
    tab_to(page, "#hoax-public_explanation")
    page.keyboard.type("Foto itu dari 2019, bukan dari TPS mana pun.")
    tab_to(page, "#hoax-reason")
    page.keyboard.type("Sumber asli ditemukan lewat pencarian gambar.")
    tab_to(page, "#form-hoax button[type=submit]")
    press_and_wait(page, "Enter")
    assert page.locator("#proposed-title").inner_text().strip('“”"') == "Kotak suara dibakar di TPS"
    session.rollback()  # a fresh snapshot: the server wrote the decision
    case = session.get(HoaxCase, site.case_new)
    assert case is not None
    session.refresh(case)
    assert case.status == CaseStatus.AWAITING_APPROVAL
    assert case.label == "SALAH"
