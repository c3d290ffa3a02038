"""The dashboard pages and the export, read as a browser gets them, and who may open them."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
from bs4 import BeautifulSoup, Tag
from fastapi.testclient import TestClient
from sqlmodel import Session

from pledge.accounts.models import Role
from pledge.audit import list_events
from pledge.supporters.models import Supporter
from tests.support.dashboard import World
from tests.support.factories import MakeUser
from tests.support.pages import digits, html
from tests.support.people import sign_in

Sign = Callable[..., Any]
AsUser = Callable[..., TestClient]

supporter_t = Supporter.__table__  # type: ignore[attr-defined]


def one(soup: BeautifulSoup | Tag, selector: str) -> Tag:
    found = soup.select_one(selector)
    assert found is not None, f"nothing matches {selector!r}"
    return found


def hrefs(soup: BeautifulSoup | Tag) -> set[str]:
    return {str(a["href"]) for a in soup.select("a[href]")}


def table_numbers(table: Tag) -> dict[str, int]:
    return {
        str(row["data-key"]): digits(one(row, "td").get_text()) for row in table.select("tbody tr")
    }


# --- who may open what ---------------------------------------------------------------

PERSONAS = ("anonymous", "moderator", "other_admin", "admin", "site_admin")
EXPECTED = {
    # persona: (organisation home, statistics, export)
    "anonymous": (303, 303, 303),
    "moderator": (200, 403, 403),
    "other_admin": (403, 403, 403),
    "admin": (200, 200, 200),
    "site_admin": (200, 200, 403),
}


def become(persona: str, world: World, as_user: AsUser, client: TestClient) -> TestClient:
    if persona == "anonymous":
        return client
    if persona == "moderator":
        return as_user(world.lead, Role.MODERATOR)
    if persona == "other_admin":
        return as_user(world.stranger, Role.ADMIN)
    if persona == "admin":
        return as_user(world.lead, Role.ADMIN)
    return as_user(None, site_admin=True)


@pytest.mark.parametrize("persona", PERSONAS)
def test_permissions_per_route(
    persona: str, world: World, as_user: AsUser, client: TestClient
) -> None:
    browser = become(persona, world, as_user, client)
    for route, expected in zip(("org", "statistics", "export"), EXPECTED[persona], strict=True):
        path = world.path(route)
        response = browser.get(path)
        assert response.status_code == expected, (route, response.text[:300])
        if expected == 303:
            target = urlsplit(response.headers["location"])
            assert target.path == "/login"
            assert parse_qs(target.query)["next"] == [path]
        if expected == 403:
            assert one(html(response), ".detail").get_text(strip=True)


def test_the_dashboard_home_asks_anonymous_visitors_to_sign_in(client: TestClient) -> None:
    response = client.get("/dashboard")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")


@pytest.mark.parametrize("route", ["statistics", "export", "export_xlsx"])
def test_a_campaign_the_organisation_has_no_part_in_is_not_found(
    route: str, world: World, as_user: AsUser
) -> None:
    browser = as_user(world.stranger, Role.ADMIN)
    assert browser.get(world.path(route, org=world.stranger)).status_code == 404
    browser = as_user(world.lead, Role.ADMIN)
    assert browser.get(world.path(route, view=world.elsewhere)).status_code == 404
    missing = world.path(route).replace(world.view.slug, "no-such-campaign")
    assert browser.get(missing).status_code == 404


def test_an_unknown_organisation_is_not_found(as_user: AsUser) -> None:
    browser = as_user(None, site_admin=True)
    assert browser.get("/dashboard/no-such-org").status_code == 404


# --- the dashboard's home ------------------------------------------------------------


def test_one_organisation_goes_straight_to_it(world: World, as_user: AsUser) -> None:
    response = as_user(world.lead, Role.MODERATOR).get("/dashboard")
    assert response.status_code == 303
    assert response.headers["location"] == f"/dashboard/{world.lead.slug}"


def test_several_organisations_are_listed_with_the_role_in_each(
    world: World, make_user: MakeUser, client: TestClient, session: Session
) -> None:
    from pledge.accounts import service as accounts

    user = make_user(org=world.lead, role=Role.ADMIN)
    accounts.add_member(session, user=user, org=world.partner, role=Role.MODERATOR)
    world.partner.verified = False
    session.add(world.partner)
    session.commit()
    page = html(sign_in(client, user).get("/dashboard"))
    lead_card = one(page, f"#org-{world.lead.slug}")
    partner_card = one(page, f"#org-{world.partner.slug}")
    assert one(lead_card, "a")["href"] == f"/dashboard/{world.lead.slug}"
    assert one(lead_card, ".role").get_text(strip=True) == "Admin"
    assert one(partner_card, ".role").get_text(strip=True) == "Moderator"
    assert partner_card.select_one(".pending") is not None
    assert lead_card.select_one(".pending") is None
    assert "/admin" not in hrefs(page)


def test_without_an_organisation_the_page_says_to_ask_for_an_invitation(
    as_user: AsUser,
) -> None:
    response = as_user(None).get("/dashboard")
    assert response.status_code == 200
    text = one(html(response), ".no-orgs").get_text(" ", strip=True)
    assert "invite you" in text
    assert "/admin" not in hrefs(html(response))


def test_a_site_admin_sees_the_way_to_site_administration(
    world: World, make_user: MakeUser, client: TestClient
) -> None:
    page = html(sign_in(client, make_user(org=world.lead, site_admin=True)).get("/dashboard"))
    assert one(page, ".site-admin a")["href"] == "/admin"
    assert page.select_one(".no-orgs") is None
    # Two places to go, so no redirect: the organisation is listed.
    assert one(page, f"#org-{world.lead.slug} a")["href"] == f"/dashboard/{world.lead.slug}"


# --- an organisation's page ----------------------------------------------------------


def campaign_links(page: BeautifulSoup, card_id: str) -> dict[str, str]:
    card = one(page, f"#{card_id}")
    return {str(a["class"][0]): str(a["href"]) for a in card.select(".links a[class]")}


def test_an_admin_sees_every_link(world: World, as_user: AsUser, sign: Sign) -> None:
    page = html(as_user(world.lead, Role.ADMIN).get(world.path("org")))
    slug, org = world.view.slug, world.lead.slug
    assert campaign_links(page, f"led-{slug}") == {
        "edit": f"/dashboard/{org}/campaigns/{slug}/edit",
        "public": f"/c/{slug}",
        "statistics": f"/dashboard/{org}/campaigns/{slug}/statistics",
        "export": f"/dashboard/{org}/campaigns/{slug}/export.csv",
        "export-xlsx": f"/dashboard/{org}/campaigns/{slug}/export.xlsx",
        "embed": f"/dashboard/{org}/campaigns/{slug}/embed",
        "abuse": f"/dashboard/{org}/campaigns/{slug}/abuse",
        "names": f"/dashboard/{org}/campaigns/{slug}/names",
    }
    assert one(page, "a.new-campaign")["href"] == f"/dashboard/{org}/campaigns/new"
    assert one(page, "a.members")["href"] == f"/dashboard/{org}/members"
    assert one(page, "a.profile")["href"] == f"/dashboard/{org}/profile"


def test_a_moderator_sees_the_campaigns_without_management_links(
    world: World, as_user: AsUser
) -> None:
    page = html(as_user(world.lead, Role.MODERATOR).get(world.path("org")))
    assert campaign_links(page, f"led-{world.view.slug}") == {
        "public": f"/c/{world.view.slug}",
        "embed": f"/dashboard/{world.lead.slug}/campaigns/{world.view.slug}/embed",
        # Moderators hide or show the names the campaign page lists.
        "names": f"/dashboard/{world.lead.slug}/campaigns/{world.view.slug}/names",
    }
    for selector in ("a.new-campaign", "a.members", "a.profile"):
        assert page.select_one(selector) is None


def test_a_site_admin_sees_statistics_but_no_editing_or_export(
    world: World, as_user: AsUser
) -> None:
    page = html(as_user(None, site_admin=True).get(world.path("org")))
    assert set(campaign_links(page, f"led-{world.view.slug}")) == {
        "public",
        "statistics",
        "embed",
        "abuse",
    }
    assert page.select_one("a.new-campaign") is None
    assert page.select_one("a.members") is not None
    assert page.select_one("a.profile") is not None


def test_the_page_shows_status_count_goal_and_drafts_without_a_public_page(
    world: World, as_user: AsUser, sign: Sign, make_campaign: Callable[..., Any], session: Session
) -> None:
    from pledge.campaigns import service as campaigns

    for i in range(3):
        sign(world.view, contact=f"p{i}@example.com")
    draft = campaigns.create(session, slug="rancangan", title="Rancangan", lead_org=world.lead)
    session.commit()
    page = html(as_user(world.lead, Role.ADMIN).get(world.path("org")))
    card = one(page, f"#led-{world.view.slug}")
    assert one(card, ".status")["data-status"] == "live"
    assert one(card, "progress")["value"] == "3"
    assert one(card, "progress")["max"] == str(world.view.campaign.goal)
    draft_card = one(page, f"#led-{draft.slug}")
    assert one(draft_card, ".status")["data-status"] == "draft"
    assert set(campaign_links(page, f"led-{draft.slug}")) == {
        "edit",
        "statistics",
        "export",
        "export-xlsx",
        "embed",
        "abuse",
        "names",
    }
    assert draft_card.select_one(".referral-link") is None


def test_a_partner_sees_its_referrals_and_its_referral_link(
    world: World, as_user: AsUser, sign: Sign
) -> None:
    code = world.view.partner_by_slug(world.partner.slug).referral_code  # type: ignore[union-attr]
    for i in range(2):
        sign(world.view, contact=f"r{i}@example.com", ref=code)
    sign(world.view, contact="direct@example.com")
    page = html(as_user(world.partner, Role.ADMIN).get(world.path("org", org=world.partner)))
    assert page.select(f"#led-{world.view.slug}") == []
    card = one(page, f"#partner-{world.view.slug}")
    assert digits(one(card, ".referrals").get_text()) == 2
    assert one(card, "progress")["value"] == "3"
    link = one(card, "input.referral-link")
    assert link["value"] == f"http://testserver/c/{world.view.slug}?ref={code}"
    assert one(card, f"label[for={link['id']}]")
    links = campaign_links(page, f"partner-{world.view.slug}")
    assert (
        links["statistics"]
        == f"/dashboard/{world.partner.slug}/campaigns/{world.view.slug}/statistics"
    )
    assert links["export-xlsx"] == world.path("export_xlsx", org=world.partner)
    assert "edit" not in links


def test_an_organisation_waiting_for_approval_is_told_what_that_means(
    world: World, as_user: AsUser, session: Session
) -> None:
    world.lead.verified = False
    session.add(world.lead)
    session.commit()
    page = html(as_user(world.lead, Role.ADMIN).get(world.path("org")))
    text = one(page, ".org-status .pending").get_text(" ", strip=True)
    assert "not approved" in text and "cannot go live" in text
    assert page.select_one(".org-status .approved") is None


# --- statistics ----------------------------------------------------------------------


@pytest.fixture
def signed(world: World, sign: Sign) -> None:
    lead_code = world.view.partners[0].referral_code
    for i in range(11):
        sign(
            world.view,
            contact=f"jk{i}@example.com",
            province="ID-JK",
            age_band="20-24",
            ref=lead_code if i < 4 else "",
        )
    for i in range(3):
        sign(
            world.view,
            contact=f"ba{i}@example.com",
            province="ID-BA",
            age_band="17-19",
            pledges=["gunakan-hak-pilih"],
        )
    sign(world.view, contact="ac@example.com", province="ID-AC", updates_org=world.lead.slug)


def test_statistics_page_shows_the_numbers(
    session: Session, world: World, as_user: AsUser, signed: None
) -> None:
    # Signed yesterday: the breakdowns of people count who signed before midnight.
    yesterday = datetime.now(UTC) - timedelta(days=1)
    session.execute(
        sa.update(supporter_t)
        .where(supporter_t.c.campaign_id == world.view.id)
        .values(created_at=yesterday, confirmed_at=yesterday)
    )
    session.commit()
    response = as_user(world.lead, Role.ADMIN).get(world.path("statistics"))
    assert response.status_code == 200
    page = html(response)
    assert digits(one(page, ".count.total").get_text()) == 15
    assert table_numbers(one(page, "table#per-pledge")) == {
        "tolak-politik-uang": 12,
        "gunakan-hak-pilih": 3,
        "lawan-hoaks": 0,
    }
    assert table_numbers(one(page, "table#per-partner")) == {
        world.lead.slug: 4,
        world.partner.slug: 0,
        "": 11,
    }
    assert one(page, "table#per-partner tr.you")["data-key"] == world.lead.slug
    # Rounded to 5: 11 is 10, 4 is 5.
    assert table_numbers(one(page, "table#per-province")) == {"ID-JK": 10, "other": 5}
    assert table_numbers(one(page, "table#per-age-band")) == {"20-24": 10, "other": 5}
    assert "fewer than 10" in one(page, ".privacy-note").get_text()
    assert digits(one(page, ".opted-in").get_text()) == 1
    assert "Bali" not in one(page, "table#per-province").get_text()


@pytest.mark.parametrize(
    ("chart", "table", "count"), [("per-day", "per-day", 30), ("per-hour", "per-hour", 48)]
)
def test_each_chart_has_one_bar_per_row_of_its_table(
    world: World, as_user: AsUser, signed: None, chart: str, table: str, count: int
) -> None:
    page = html(as_user(world.lead, Role.ADMIN).get(world.path("statistics")))
    figure = one(page, f"div.chart.{chart}")
    svg = one(figure, "svg")
    assert svg["role"] == "img"
    assert svg.select_one("title") is not None and svg.select_one("desc") is not None
    ET.fromstring(str(svg))  # noqa: S314 - well-formed XML as served
    bars = svg.select("rect.bar")
    rows = one(figure, f"table#{table}").select("tbody tr")
    assert len(bars) == len(rows) == count
    assert [int(str(bar["data-value"])) for bar in bars] == [
        digits(one(row, "td").get_text()) for row in rows
    ]
    assert [bar["data-label"] for bar in bars] == [
        one(row, "th").get_text(strip=True) for row in rows
    ]
    assert sum(int(str(bar["data-value"])) for bar in bars) == 15  # all signed just now
    assert not page.select("[style]")


def test_the_day_window_can_be_chosen(world: World, as_user: AsUser, signed: None) -> None:
    browser = as_user(world.lead, Role.ADMIN)
    page = html(browser.get(world.path("statistics") + "?days=7"))
    assert len(one(page, "div.chart.per-day").select("rect.bar")) == 7
    assert one(page, ".windows [aria-current]").get_text(strip=True) == "7 days"
    others = {str(a["href"]) for a in page.select(".windows a")}
    assert others == {world.path("statistics") + "?days=30", world.path("statistics") + "?days=90"}
    page = html(browser.get(world.path("statistics") + "?days=90"))
    assert len(one(page, "div.chart.per-day").select("rect.bar")) == 90


@pytest.mark.parametrize("days", ["14", "abc", "-1"])
def test_another_day_window_is_refused_with_a_message(
    world: World, as_user: AsUser, days: str
) -> None:
    response = as_user(world.lead, Role.ADMIN).get(world.path("statistics") + f"?days={days}")
    assert response.status_code == 422
    assert (
        one(html(response), ".detail").get_text(strip=True)
        == "Choose a period of 7, 30 or 90 days."
    )


def test_a_site_admin_and_a_partner_see_the_statistics(
    world: World, as_user: AsUser, signed: None
) -> None:
    page = html(as_user(None, site_admin=True).get(world.path("statistics")))
    assert digits(one(page, ".count.total").get_text()) == 15
    assert page.select_one("a.export") is None  # a site admin cannot take the contacts home
    page = html(as_user(world.partner, Role.ADMIN).get(world.path("statistics", org=world.partner)))
    assert digits(one(page, ".count.total").get_text()) == 15
    assert one(page, "table#per-partner tr.you")["data-key"] == world.partner.slug
    assert one(page, "a.export")["href"] == world.path("export", org=world.partner)


# --- export --------------------------------------------------------------------------


def test_export_is_a_csv_download_of_the_organisations_opted_in_supporters(
    world: World, as_user: AsUser, sign: Sign, session: Session
) -> None:
    sign(
        world.view,
        name="Rina Putri",
        contact="rina@example.com",
        updates_org=world.lead.slug,
        province="ID-BA",
        age_band="20-24",
    )
    sign(
        world.view,
        name='=HYPERLINK("http://evil.example","klik")',
        contact="0812 3456 7890",
        updates_org=world.lead.slug,
    )
    sign(world.view, name="Budi", contact="budi@example.com", updates_org=world.partner.slug)
    sign(world.view, name="Sari", contact="sari@example.com")
    response = as_user(world.lead, Role.ADMIN).get(world.path("export"))

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment; filename=")
    assert f"{world.view.slug}-{world.lead.slug}-supporters-" in disposition
    assert disposition.endswith('.csv"')
    assert response.headers["cache-control"] == "no-store"

    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == [
        "Name",
        "Contact",
        "Province",
        "Age group",
        "Signed at (WIB)",
        "Pledges signed",
    ]
    assert [row[:4] for row in rows[1:]] == [
        ["Rina Putri", "rina@example.com", "Bali", "20-24"],
        [
            '\'=HYPERLINK("http://evil.example","klik")',
            "'+6281234567890",
            "DKI Jakarta",
            "Not given",
        ],
    ]
    assert rows[1][5] == "Janji tolak-politik-uang"
    assert "budi@example.com" not in response.text and "sari@example.com" not in response.text

    events = list_events(session, action="supporters.export")
    assert len(events) == 1
    assert events[0].subject == f"campaign:{world.view.id}"
    assert json.loads(events[0].data) == {"org": world.lead.slug, "rows": 2}


def test_every_export_is_logged_and_refusals_are_not(
    world: World, as_user: AsUser, session: Session
) -> None:
    browser = as_user(world.lead, Role.ADMIN)
    assert browser.get(world.path("export")).status_code == 200
    assert browser.get(world.path("export")).status_code == 200
    as_user(world.lead, Role.MODERATOR).get(world.path("export"))
    as_user(None, site_admin=True).get(world.path("export"))
    events = list_events(session, action="supporters.export")
    assert len(events) == 2
    assert all(json.loads(e.data) == {"org": world.lead.slug, "rows": 0} for e in events)
