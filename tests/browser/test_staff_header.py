"""The staff menu on a phone: "Sign out" (Keluar) reads like the links beside it, and every
item of the menu is a finger-sized target."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import Session

from pledge.accounts import service as accounts
from pledge.accounts.models import Role
from tests.support.appserver import LiveServer
from tests.support.phone import OpenPhone

PASSWORD = "kata-sandi-moderator-2029"
STYLE = """() => [...document.querySelectorAll('nav.staff a, nav.staff button')].map(e => {
  const s = getComputedStyle(e), r = e.getBoundingClientRect();
  return {text: e.textContent.trim(), tag: e.tagName, fontSize: s.fontSize,
          lineHeight: s.lineHeight, fontWeight: s.fontWeight, fontFamily: s.fontFamily,
          padding: s.padding, height: r.height}})"""


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["id", "en"])
def test_sign_out_reads_like_the_links_beside_it(
    phone: OpenPhone, live_server: LiveServer, session: Session, make_org: Any, lang: str
) -> None:
    org = make_org(slug="cek-fakta", name="Cek Fakta")
    user = accounts.create(session, email="ayu@cekfakta.id", password=PASSWORD)
    accounts.add_member(session, user=user, org=org, role=Role.ADMIN)
    session.commit()

    with phone(slow_3g=False) as staff:
        page = staff.new_page()
        page.goto(f"{live_server.url}/login?lang={lang}")
        page.locator("#email").fill("ayu@cekfakta.id")
        page.locator("#password").fill(PASSWORD)
        page.locator("form button[type=submit]").click()
        page.wait_for_url(f"{live_server.url}/dashboard/cek-fakta")
        items = page.evaluate(STYLE)

    [sign_out] = [item for item in items if item["tag"] == "BUTTON"]
    links = [item for item in items if item["tag"] == "A"]
    assert sign_out["text"] == {"id": "Keluar", "en": "Sign out"}[lang]
    assert len(links) >= 2
    looks = ("fontSize", "lineHeight", "fontWeight", "fontFamily", "padding")
    for link in links:
        assert {k: sign_out[k] for k in looks} == {k: link[k] for k in looks}, link["text"]
    # A finger's width (44 CSS px) for every item, the links as much as the button.
    assert all(item["height"] >= 44 for item in items), items
