"""Pages laid out for the phones they are read on, with content as long as real content gets:
a seven-digit count, a five-digit pledge count, a 120-character title, long names and
organisation names, and every error of a form shown.

At 320 and 360 px wide (and 1280 px for some), each page is checked for:

- nothing wider than the screen: no element's right edge past the viewport, unless it sits
  inside an element that scrolls or clips sideways on purpose (``overflow-x: auto``, as the
  table wrappers do);
- no number or badge broken across lines: the text of a count (a text node holding only a
  number of two or more digits, "12.345", or an email address of up to 32 characters, which
  fits any phone) or of a badge or label (``.badge``,
  ``.verdict-label``) lies on one line: its client rects all share one top;
- tap targets of at least 44x44 CSS px on phones: buttons, links styled as buttons,
  text inputs, selects, text areas and file inputs by their own box; a checkbox or radio
  button by the box of its label, which takes the tap for it. Links that are text are not
  targets here: inline links in running text are exempt, as WCAG 2.5.8 allows (its "inline"
  exception), and so is a button styled as a text link (``button.link``), which reads as one;
- nothing overlapping: no two interactive elements (links, buttons, fields), neither inside
  the other, have boxes that intersect (by each line box of an inline link);
- every ``<img>`` with width and height attributes, so that nothing moves while it loads.

One browser, one page per width, reused from page to page.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page
from sqlmodel import Session

from pledge.accounts.models import Organization, Role
from pledge.audit import AuditAction, record
from pledge.campaigns.models import CampaignView
from pledge.supporters import service as supporters
from tests.support.appserver import LiveServer
from tests.support.factories import make_org, make_report
from tests.support.forms import sign_form
from tests.support.people import Person, make_person

pytestmark = pytest.mark.browser

TITLE = (
    "Suarakan Cintamu untuk Indonesia: Tolak Politik Uang, Datang ke TPS, dan Lawan Hoaks "
    "Bersama Anak Muda dari Sabang"
)
LONG_ORG = "Perkumpulan Sekolah Demokrasi dan Pendidikan Pemilih Pemula Nusantara Raya"
LONG_NAME = "Kusumawardhaniningtyasputri Maharani"
LONG_MODERATOR = "Moderator Demo Bernama Sangat Panjang Sekali"
CLAIM = (
    "Beredar pesan berantai yang menyebut pemilih wajib membawa fotokopi KTP yang dilegalisir "
    "kelurahan dan pas foto berwarna ke TPS"
)
PHONES = (320, 360)

# Everything a page does wrong, as lines of text; empty when the page is right.
CHECKS = """(phone) => {
  const problems = [];
  const width = document.documentElement.clientWidth;
  const name = e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
    + (typeof e.className === 'string' && e.className ? '.' + e.className.trim().split(/\\s+/).join('.') : '')
    + ' "' + (e.innerText || e.value || e.getAttribute('aria-label') || '').trim().slice(0, 30) + '"';
  // Drawn: not in a closed <details> (laid out, but not shown), nor hidden, nor empty.
  const shown = e => { const r = e.getBoundingClientRect();
    return e.checkVisibility({visibilityProperty: true}) && r.width > 0 && r.height > 0; };
  // Hidden on purpose: the honeypot, the skip link until focused.
  const offscreen = e => e.closest('.hp, .skip, [hidden]');
  const clipped = e => { for (let p = e.parentElement; p && p !== document.body; p = p.parentElement) {
      if (/(auto|scroll|hidden|clip)/.test(getComputedStyle(p).overflowX)) return true; }
    return false; };

  // 1. Nothing wider than the screen.
  if (document.documentElement.scrollWidth > width)
    problems.push(`the page scrolls sideways: ${document.documentElement.scrollWidth}px on ${width}px`);
  for (const e of document.querySelectorAll('body *')) {
    if (!shown(e) || offscreen(e) || clipped(e)) continue;
    const right = e.getBoundingClientRect().right;
    if (right > width + 1) problems.push(`wider than the screen (${Math.round(right)}px): ${name(e)}`);
  }

  // 2. Numbers and badges on one line.
  const oneLine = (node, owner) => {
    const range = document.createRange(); range.selectNodeContents(node);
    const tops = [...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top));
    if (tops.length && Math.max(...tops) - Math.min(...tops) > 2)
      problems.push(`broken across lines: ${name(owner)}`);
  };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let t = walker.nextNode(); t; t = walker.nextNode()) {
    const text = t.textContent.trim();
    const parent = t.parentElement;
    const short_email = text.length <= 32 && /^[^\\s@]+@[^\\s@]+$/.test(text);
    if ((short_email || /^[#+-]?\\d[\\d.,]*\\d%?$/.test(text)) && shown(parent) && !offscreen(parent)
        && !parent.closest('script, style, textarea, option, progress')) oneLine(t, parent);
  }
  for (const e of document.querySelectorAll('.badge, .verdict-label'))
    if (shown(e)) oneLine(e, e);

  // 3. Tap targets of 44x44 px on a phone.
  if (phone) {
    const targets = 'button:not(.link), a.button, input:not([type=hidden]):not([type=checkbox]):not([type=radio]), select, textarea';
    for (const e of document.querySelectorAll(targets)) {
      if (!shown(e) || offscreen(e)) continue;
      const r = e.getBoundingClientRect();
      if (r.width < 44 - 0.5 || r.height < 44 - 0.5)
        problems.push(`tap target ${Math.round(r.width)}x${Math.round(r.height)}px: ${name(e)}`);
    }
    for (const e of document.querySelectorAll('input[type=checkbox], input[type=radio]')) {
      if (!shown(e) || offscreen(e)) continue;
      const label = e.closest('label') || (e.id && document.querySelector(`label[for="${e.id}"]`));
      const r = (label || e).getBoundingClientRect();
      if (r.width < 44 - 0.5 || r.height < 44 - 0.5)
        problems.push(`tap target ${Math.round(r.width)}x${Math.round(r.height)}px: ${name(label || e)}`);
    }
  }

  // 4. No two interactive elements overlapping.
  const interactive = [...document.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea, summary')]
    .filter(e => shown(e) && !offscreen(e));
  const boxes = interactive.map(e => [...e.getClientRects()].filter(r => r.width > 0 && r.height > 0));
  for (let i = 0; i < interactive.length; i++) for (let j = i + 1; j < interactive.length; j++) {
    const a = interactive[i], b = interactive[j];
    if (a.contains(b) || b.contains(a)) continue;
    const hit = boxes[i].some(p => boxes[j].some(q =>
      Math.min(p.right, q.right) - Math.max(p.left, q.left) > 1
      && Math.min(p.bottom, q.bottom) - Math.max(p.top, q.top) > 1));
    if (hit) problems.push(`overlapping: ${name(a)} and ${name(b)}`);
  }

  // 5. Pictures that keep their place while they load.
  for (const img of document.querySelectorAll('img'))
    if (!img.hasAttribute('width') || !img.hasAttribute('height'))
      problems.push(`img without width and height: ${img.getAttribute('src')}`);
  return [...new Set(problems)];
}"""


class Screens:
    """One page per width in one browser context, reused for each address checked."""

    def __init__(self, browser: Any, url: str) -> None:
        self.url = url
        self.context = browser.new_context(viewport={"width": 360, "height": 740})
        self.pages: dict[int, Page] = {}
        self.problems: list[str] = []

    def at(self, width: int) -> Page:
        if width not in self.pages:
            self.pages[width] = self.context.new_page()
            self.pages[width].set_viewport_size({"width": width, "height": 740})
        return self.pages[width]

    def check(self, name: str, page: Page, width: int) -> None:
        for problem in page.evaluate(CHECKS, width < 800):
            self.problems.append(f"{name} at {width}px: {problem}")

    def visit(self, name: str, path: str, widths: tuple[int, ...] = PHONES) -> None:
        for width in widths:
            page = self.at(width)
            page.goto(f"{self.url}{path}")
            self.check(name, page, width)

    def send(
        self,
        name: str,
        path: str,
        form: str,
        fill: Callable[[Page], None],
        widths: tuple[int, ...] = PHONES,
    ) -> None:
        """Open the page, fill its form as ``fill`` does, send it, and check the refused form
        that comes back (drawn in place by the report form's script, or as a new page)."""
        for width in widths:
            page = self.at(width)
            page.goto(f"{self.url}{path}")
            fill(page)
            page.locator(f"{form} button[type=submit]").first.click()
            page.locator("#form-errors").wait_for()
            page.wait_for_load_state()
            self.check(name, page, width)

    def sign_in(self, person: Person) -> None:
        """Sign in through the login form, ending the session the browser had."""
        self.context.clear_cookies()
        page = self.at(360)
        page.goto(f"{self.url}/login?lang=en")
        page.locator("#email").fill(person.email)
        page.locator("#password").fill(person.password or "")
        with page.expect_navigation():
            page.locator("form:has(#password) button[type=submit]").click()

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def screens(browser: Any, live_server: LiveServer) -> Iterator[Screens]:
    opened = Screens(browser, live_server.url)
    yield opened
    opened.close()


def set_counts(session: Session, view: CampaignView, **values: int) -> None:
    """Counters as a big campaign has them: ``total=1234567``, ``pledge_1=12345`` (its n-th
    pledge), written into the tallies as the service reads them."""
    pledge_ids = [pledge.id for pledge in view.pledges]
    for key, value in values.items():
        name = "total" if key == "total" else f"pledge:{pledge_ids[int(key.split('_')[1]) - 1]}"
        session.execute(
            sa.text("UPDATE tally SET value = :v WHERE campaign_id = :c AND key = :k"),
            {"v": value, "c": view.id, "k": name},
        )
    session.commit()


@pytest.fixture
def big_campaign(session: Session, make_campaign: Any) -> tuple[CampaignView, str]:
    """A live campaign led by an organisation with a long name, a long-named supporter shown
    on it, counts of 1.234.567 in all and 12.345 and 68 on two pledges; and the supporter's
    thank-you token."""
    lead = make_org(session, "lembaga-pemilu", "Lembaga Pemilu Bersih")
    view = make_campaign(title=TITLE, lead=lead, goal=2_000_000, partners=0)
    from tests.support.factories import make_partner

    make_partner(session, view.campaign, make_org(session, "sekolah-demokrasi", LONG_ORG))
    pledges = tuple(pledge.slug for pledge in view.pledges)
    signing = supporters.sign(
        session, view=view, form=sign_form(name=LONG_NAME, show_name="on", pledges=pledges)
    )
    assert signing.ticket is not None
    token = supporters.confirm(session, link_digest=signing.ticket.link_digest).token
    set_counts(session, view, total=1_234_567, pledge_1=12_345, pledge_2=68)
    return view, token


def bad_sign(page: Page) -> None:
    page.locator("#name").fill("R")
    page.locator("#contact").fill("0812-ABC")


def bad_report(page: Page) -> None:
    page.locator("#url").fill("bukan link ://")


def nothing(page: Page) -> None:
    """Send the form as it is."""


def test_public_pages_fit_a_phone(
    screens: Screens,
    session: Session,
    big_campaign: tuple[CampaignView, str],
    publish: Any,
    make_case: Any,
) -> None:
    view, token = big_campaign
    c = f"/c/{view.slug}"
    report = make_report(session, view, description="Pesan berantai tentang KTP di TPS.")
    published = make_case(view, status="published", public_title=CLAIM, reports=12_345)

    screens.visit("campaign", f"{c}?lang=en", widths=(320, 360, 1280))
    screens.visit("campaign (id)", c)
    screens.send("sign errors", c, "form[action*='/sign']", nothing)
    screens.send("sign bad values", f"{c}?lang=en", "form[action*='/sign']", bad_sign)
    screens.visit("thanks", f"{c}/thanks/{token}")
    screens.visit("report form", f"{c}/report")
    screens.send("report errors", f"{c}/report?lang=en", "form[action$='/report']", nothing)
    screens.send("report bad values", f"{c}/report", "form[action$='/report']", bad_report)
    screens.visit("report status", f"/reports/{report.tracking_code}")
    screens.visit("gallery", "/hoaxes?lang=en")
    screens.visit("verdict", f"/hoaxes/{published.id}", widths=(320, 360, 1280))
    screens.visit("transparency", "/transparansi?lang=en")
    screens.visit("API reference", "/api/docs")
    assert not screens.problems, "\n".join(screens.problems)


def test_staff_pages_fit_a_phone(
    screens: Screens, session: Session, big_campaign: tuple[CampaignView, str], make_case: Any
) -> None:
    view, _ = big_campaign
    lead = session.get(Organization, view.campaign.lead_org_id)
    assert lead is not None
    admin = make_person(session, "admin@lembaga.example.org", LONG_NAME, org=lead)
    moderator = make_person(
        session, "ayu@lembaga.example.org", LONG_MODERATOR, org=lead, role=Role.MODERATOR
    )
    case = make_case(view, reports=12_345, description=CLAIM)
    # Its history, as a long-named moderator leaves it: long words in narrow columns.
    for action in (AuditAction.CASE_ESCALATE, AuditAction.CASE_ESCALATION_OUTCOME):
        record(
            session,
            actor_id=moderator.id,
            action=action,
            subject=f"case:{case.id}",
            reason="Sumber asli: https://contoh.example.org/berita/2026/12/kotak-suara",
        )
    session.commit()

    screens.sign_in(moderator)
    screens.visit("moderator case", f"/mod/cases/{case.id}?lang=id", widths=(320, 360, 1280))
    screens.visit("moderator queue", "/mod")
    screens.sign_in(admin)
    screens.visit("dashboard", f"/dashboard/{lead.slug}")
    screens.sign_in(make_person(session, "root@example.org", LONG_MODERATOR, site_admin=True))
    screens.visit("users", "/admin/users?lang=id")
    screens.visit(
        "statistics",
        f"/dashboard/{lead.slug}/campaigns/{view.slug}/statistics",
        widths=(320, 360, 1280),
    )
    assert not screens.problems, "\n".join(screens.problems)
