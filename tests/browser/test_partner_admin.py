"""A partner admin runs a campaign from a phone on a slow 3G network: sign in, create, add
pledges, go live, invite a co-partner, copy the embed snippets for the partner's own website,
read the statistics and take home the supporters who asked for news."""

from __future__ import annotations

import csv
import io
from html import escape
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlmodel import Session

from pledge.accounts import service as accounts
from pledge.accounts.models import Role
from pledge.campaigns import service as campaigns
from pledge.supporters import service as supporters
from tests.support.appserver import LiveServer
from tests.support.forms import sign_form
from tests.support.phone import OpenPhone
from tests.support.signing import confirm_signing

PASSWORD = "kata-sandi-mitra-2029"


@pytest.mark.browser
def test_partner_admin_runs_a_campaign(
    phone: OpenPhone, live_server: LiveServer, session: Session, make_org: Any
) -> None:
    org = make_org(slug="lembaga-muda", name="Lembaga Muda")
    admin = accounts.create(session, email="admin@lembaga.id", password=PASSWORD)
    accounts.add_member(session, user=admin, org=org, role=Role.ADMIN)
    session.commit()

    url = live_server.url
    with phone(accept_downloads=True) as admin_phone:
        page = admin_phone.new_page()
        page.goto(f"{url}/login?lang=en")
        page.locator("#email").fill("admin@lembaga.id")
        page.locator("#password").fill(PASSWORD)
        page.locator("form button[type=submit]").click()
        page.wait_for_url(f"{url}/dashboard/lembaga-muda")

        page.locator("a.new-campaign").click()
        page.locator("#title").fill("Pemilih Muda Bersuara")
        page.locator("#summary").fill("Janji anak muda untuk pemilu yang bersih.")
        page.locator("#body").fill("Ayo **bersuara**.")
        page.locator("#goal").fill("5000")
        page.get_by_role("button", name="Create the draft").click()
        page.wait_for_url("**/campaigns/pemilih-muda-bersuara/edit?*")

        for text in ("Saya menolak politik uang.", "Saya akan memilih."):
            page.locator("#new-pledge-text").fill(text)
            with page.expect_navigation():
                page.get_by_role("button", name="Add the pledge").click()
        assert page.locator(".manage-pledges > li").count() == 2

        page.get_by_role("button", name="Put the campaign live").click()
        page.get_by_role("button", name="Close the campaign").wait_for()
        session.rollback()
        view = campaigns.get_view(session, slug="pemilih-muda-bersuara")
        assert view.campaign.status == "live"

        page.locator("#partner-name").fill("Komunitas Cek Fakta")
        page.locator("#partner-email").fill("ketua@cekfakta.id")
        page.get_by_role("button", name="Invite and add").click()
        invited = page.locator(".manage-partners > li").nth(1)
        invited.wait_for()
        # Invited, not a partner yet: no link until its first admin accepts.
        assert invited.locator(".partner-status").get_attribute("data-status") == "invited"
        assert page.locator(".manage-partners input.referral-link").count() == 1
        session.rollback()  # see what the server committed
        ally = accounts.get_org_by_name_or_none(session, "Komunitas Cek Fakta")
        assert ally is not None
        ketua = accounts.create(session, email="ketua@cekfakta.id")
        accounts.add_member(session, user=ketua, org=ally, role=Role.ADMIN)
        [(partner_id, _campaign)] = [
            (p.id, c) for p, c in campaigns.list_invitations(session, org_id=ally.id or 0)
        ]
        campaigns.answer_invitation(
            session, org=ally, partner_id=partner_id or 0, accept=True, actor=ketua
        )
        page.reload()
        links = page.locator(".manage-partners input.referral-link")
        assert links.count() == 2
        assert all("?ref=" in (link.input_value()) for link in links.all())
        campaigns.forget_views()
        view = campaigns.get_view(session, slug="pemilih-muda-bersuara")
        assert {p.name for p in view.partners} == {"Lembaga Muda", "Komunitas Cek Fakta"}

        # Supporters sign and confirm; one asks the lead organisation for news.
        rina = supporters.sign(session, view=view, form=sign_form(pledges=(view.pledges[0].slug,)))
        budi = supporters.sign(
            session,
            view=view,
            form=sign_form(
                contact="0812 1111 2222",
                name="Budi",
                pledges=(view.pledges[1].slug,),
                updates_org="lembaga-muda",
            ),
        )
        for signing in (rina, budi):
            confirm_signing(session, signing)

        page.goto(f"{url}/c/pemilih-muda-bersuara")
        assert page.locator("h1").inner_text() == "Pemilih Muda Bersuara"

        # The snippets for the organisation's website: an English counter on dark colours,
        # copied with the page's own button and pasted back from the phone's clipboard.
        admin_phone.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=url)
        page.goto(f"{url}/dashboard/lembaga-muda")
        page.locator("a.embed").first.tap()
        page.wait_for_url(f"{url}/dashboard/lembaga-muda/campaigns/pemilih-muda-bersuara/embed")
        page.locator("input[name=language][value=en]").check()
        page.locator("input[name=theme][value=dark]").check()
        page.get_by_role("button", name="Update the snippets").tap()
        page.wait_for_url("**/embed?*theme=dark*")
        # Everyone's count, whose button credits the organisation with its referral code.
        ours = view.partner_by_slug("lembaga-muda")
        assert ours is not None
        widget_url = (
            f"{url}/embed/pemilih-muda-bersuara?lang=en&theme=dark&ref={ours.referral_code}"
        )
        snippet = (
            f'<iframe src="{escape(widget_url)}" title="Pemilih Muda Bersuara" width="320" '
            'height="230" style="border:0;max-width:100%" loading="lazy"></iframe>'
        )
        assert page.locator("#code-iframe").input_value() == snippet
        copy = page.locator("button[data-copy=code-iframe]")
        expect(copy).to_be_visible()  # the script has put the button in
        expect(copy).to_have_text("Copy")
        copy.tap()
        expect(page.locator("#code-iframe-copied")).to_have_text("Copied")
        assert page.evaluate("navigator.clipboard.readText()") == snippet

        badge = page.locator("#code-badge").input_value()
        assert f'<img src="{url}/embed/pemilih-muda-bersuara.svg?lang=en"' in badge
        page.locator("button[data-copy=code-badge]").tap()
        expect(page.locator("#code-badge-copied")).to_have_text("Copied")
        assert page.evaluate("navigator.clipboard.readText()") == badge
        # What was copied works: the widget it frames shows the campaign's count.
        page.goto(widget_url)
        assert page.locator("html").get_attribute("class") == "theme-dark"
        assert page.locator(".count").inner_text() == "2"
        assert page.locator(".label").inner_text() == "supporters"

        page.goto(f"{url}/dashboard/lembaga-muda")
        page.locator("a.statistics").first.click()
        page.wait_for_url("**/statistics")
        expect(page.locator("svg[role=img]").nth(1)).to_be_attached()
        assert "2" in page.locator("main").inner_text()

        page.goto(f"{url}/dashboard/lembaga-muda")
        with page.expect_download() as download:
            page.locator("a.export").first.click()
        text = download.value.path().read_text(encoding="utf-8-sig")
        rows = list(csv.reader(io.StringIO(text)))
        assert len(rows) == 2  # the header and the one supporter who asked for news
        assert "'+6281211112222" in rows[1]
