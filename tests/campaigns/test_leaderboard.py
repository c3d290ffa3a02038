"""The partners' leaderboard on the campaign page: who brought in how many supporters, the
same numbers in the JSON API, the widget and the badge, and the hooks for live counts."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from bs4 import BeautifulSoup, Tag
from fastapi.testclient import TestClient
from sqlmodel import Session, col

from pledge.accounts import service as accounts
from pledge.accounts.models import Organization
from pledge.campaigns import service as campaigns
from pledge.campaigns.models import CampaignPartner, CampaignStatus, CampaignView
from pledge.supporters import service as supporters
from pledge.supporters.models import TOTAL, Tally, partner_key
from tests.support.forms import form_data
from tests.support.pages import html
from tests.support.signing import confirm_landing

MakeOrg = Callable[..., Organization]
MakeCampaign = Callable[..., CampaignView]
Board = list[tuple[str, int]]

SVG = "{http://www.w3.org/2000/svg}"


def one(soup: BeautifulSoup | Tag, selector: str) -> Tag:
    found = soup.select_one(selector)
    assert found is not None, f"nothing matches {selector!r}"
    return found


@pytest.fixture
def english(client: TestClient) -> TestClient:
    client.cookies.set("lang", "en")
    return client


@pytest.fixture
def view(session: Session, make_org: MakeOrg) -> CampaignView:
    """A live campaign led by Lembaga Utama with three co-partners; two have websites."""
    lead = make_org(slug="lembaga-utama", name="Lembaga Utama", website="https://utama.example")
    campaign = campaigns.create(
        session, slug="suara-muda", title="Suara Muda", lead_org=lead, goal=100
    )
    campaigns.add_pledge(session, campaign=campaign, slug="tolak-politik-uang", text="Tolak")
    for slug, name, website in (
        ("cek-fakta", "Cek Fakta", None),
        ("anak-muda", "Anak Muda", "https://anakmuda.example/"),
        ("aksi-damai", "aksi Damai", None),
    ):
        org = make_org(slug=slug, name=name, website=website)
        campaigns.add_partner(session, campaign=campaign, org=org)
    campaigns.set_status(session, campaign=campaign, status=CampaignStatus.LIVE)
    session.commit()
    found = campaigns.get_view(session, slug=campaign.slug, public=False)
    session.commit()  # no read transaction left open while the app writes
    return found


def code_of(view: CampaignView, org_slug: str) -> str:
    partner = view.partner_by_slug(org_slug)
    assert partner is not None
    return partner.referral_code


def sign_via(client: TestClient, view: CampaignView, query: str, contact: str) -> None:
    """Follow a shared link to the campaign page and send its form, hidden fields included;
    then confirm with the emailed code, as the signer does."""
    page = html(client.get(f"/c/{view.slug}?{query}"))
    form = one(page, "form[action^='/c/']")
    hidden = {str(i["name"]): str(i.get("value", "")) for i in form.select("input[type=hidden]")}
    response = client.post(f"/c/{view.slug}/sign", data={**hidden, **form_data(contact=contact)})
    assert response.status_code == 303, response.text[:500]
    assert response.headers["location"] == f"/c/{view.slug}/confirm"
    confirm_landing(client, view, contact)


def board_on_page(page: BeautifulSoup) -> Board:
    """The leaderboard as shown: each partner's name and number, top to bottom."""
    rows = []
    for item in one(page, "section.partners ol.leaderboard").select("li"):
        count = one(item, "strong[data-partner]").get_text(strip=True)
        rows.append((one(item, ".name").get_text(strip=True), int(count.replace(",", ""))))
    return rows


def board_in_api(client: TestClient, view: CampaignView) -> list[tuple[str, str, int]]:
    response = client.get(f"/api/v1/campaigns/{view.slug}")
    assert response.status_code == 200
    return [(p["slug"], p["name"], p["supporters"]) for p in response.json()["partners"]]


def widget_count(client: TestClient, view: CampaignView, partner: str) -> str:
    response = client.get(f"/embed/{view.slug}?partner={partner}")
    assert response.status_code == 200, response.text[:300]
    count = one(html(response), "strong.count")
    assert count["data-partner"] == partner
    return count.get_text(strip=True)


def badge_texts(client: TestClient, view: CampaignView, partner: str) -> list[str]:
    response = client.get(f"/embed/{view.slug}.svg?partner={partner}&lang=en")
    assert response.status_code == 200, response.text[:300]
    svg = ET.fromstring(response.content)  # noqa: S314 - our own response
    return [t.text or "" for t in svg.iter(f"{SVG}text")]


@pytest.fixture
def signed(english: TestClient, view: CampaignView) -> CampaignView:
    """Three supporters through Cek Fakta, one each through Anak Muda and aksi Damai, and
    one who came by themselves."""
    for n in range(3):
        sign_via(english, view, f"ref={code_of(view, 'cek-fakta')}", f"cek{n}@example.com")
    sign_via(english, view, f"ref={code_of(view, 'anak-muda')}", "anak@example.com")
    sign_via(english, view, f"ref={code_of(view, 'aksi-damai')}", "aksi@example.com")
    sign_via(english, view, "utm_source=wa", "sendiri@example.com")
    return view


# --- the leaderboard -----------------------------------------------------------------


def test_partners_are_ranked_by_the_supporters_they_brought_in(
    english: TestClient, signed: CampaignView
) -> None:
    page = html(english.get(f"/c/{signed.slug}"))

    # Most first; the tie between aksi Damai and Anak Muda goes by name, whatever its case.
    assert board_on_page(page) == [
        ("Cek Fakta", 3),
        ("aksi Damai", 1),
        ("Anak Muda", 1),
        ("Lembaga Utama", 0),
    ]
    assert one(page, "section.tally strong.count").get_text(strip=True) == "6"
    section = one(page, "section.partners")
    assert one(section, "h2").get_text(strip=True) == "Partners"
    words = {
        str(one(li, "strong[data-partner]")["data-partner"]): one(li, "span[data-one]").get_text(
            strip=True
        )
        for li in section.select("li")
    }
    assert words == {
        "cek-fakta": "supporters",
        "aksi-damai": "supporter",
        "anak-muda": "supporter",
        "lembaga-utama": "supporters",
    }


def test_partners_with_a_website_are_linked(english: TestClient, signed: CampaignView) -> None:
    items = one(html(english.get(f"/c/{signed.slug}")), "ol.leaderboard").select("li")
    links = {
        one(li, ".name").get_text(strip=True): [
            (str(a["href"]), a.get("rel")) for a in li.select("a")
        ]
        for li in items
    }
    assert links == {
        "Cek Fakta": [],
        "aksi Damai": [],
        "Anak Muda": [("https://anakmuda.example/", ["noopener"])],
        "Lembaga Utama": [("https://utama.example", ["noopener"])],
    }


def test_the_api_lists_the_partners_in_the_same_order(
    english: TestClient, signed: CampaignView
) -> None:
    assert board_in_api(english, signed) == [
        ("cek-fakta", "Cek Fakta", 3),
        ("aksi-damai", "aksi Damai", 1),
        ("anak-muda", "Anak Muda", 1),
        ("lembaga-utama", "Lembaga Utama", 0),
    ]
    listing = english.get("/api/v1/campaigns").json()
    assert [p["slug"] for p in listing[0]["partners"]] == [
        "cek-fakta",
        "aksi-damai",
        "anak-muda",
        "lembaga-utama",
    ]


def test_the_widget_and_badge_count_each_partners_referrals(
    english: TestClient, signed: CampaignView
) -> None:
    assert widget_count(english, signed, "cek-fakta") == "3"
    assert widget_count(english, signed, "anak-muda") == "1"
    assert widget_count(english, signed, "lembaga-utama") == "0"
    assert badge_texts(english, signed, "cek-fakta") == ["supporters", "3"]
    assert badge_texts(english, signed, "aksi-damai") == ["supporter", "1"]
    assert badge_texts(english, signed, "lembaga-utama") == ["supporters", "0"]


def test_one_more_signature_moves_a_partner_up(english: TestClient, signed: CampaignView) -> None:
    for n in range(3):
        sign_via(english, signed, f"ref={code_of(signed, 'anak-muda')}", f"more{n}@example.com")

    page = html(english.get(f"/c/{signed.slug}"))

    assert board_on_page(page) == [
        ("Anak Muda", 4),
        ("Cek Fakta", 3),
        ("aksi Damai", 1),
        ("Lembaga Utama", 0),
    ]
    assert [slug for slug, _name, _count in board_in_api(english, signed)][:2] == [
        "anak-muda",
        "cek-fakta",
    ]
    assert widget_count(english, signed, "anak-muda") == "4"


def test_a_referral_link_is_carried_by_the_form(english: TestClient, view: CampaignView) -> None:
    code = code_of(view, "cek-fakta")
    page = html(english.get(f"/c/{view.slug}?ref={code}"))

    assert one(page, "form input[type=hidden][name=ref]")["value"] == code
    assert one(page, "p.ref").get_text(strip=True) == "Invited by Cek Fakta"


@pytest.mark.parametrize(
    "ref",
    ["nobody-here", "<script>alert(1)</script>", "x" * 300, "CEK-FAKTA", ""],
)
def test_an_unknown_referral_code_credits_nobody(
    ref: str, english: TestClient, view: CampaignView
) -> None:
    page = html(english.get(f"/c/{view.slug}", params={"ref": ref}))
    assert one(page, "form input[type=hidden][name=ref]")["value"] == ""
    assert page.select_one("p.ref") is None

    response = english.post(
        f"/c/{view.slug}/sign",
        data={
            **form_data(contact="tamu@example.com"),
            "csrf_token": str(one(page, "input[name=csrf_token]")["value"]),
            "ref": ref,
        },
    )

    assert response.status_code == 303, response.text[:500]
    confirm_landing(english, view, "tamu@example.com")
    assert [count for _slug, _name, count in board_in_api(english, view)] == [0, 0, 0, 0]
    assert english.get(f"/api/v1/campaigns/{view.slug}").json()["supporters"] == 1
    assert [count for _name, count in board_on_page(html(english.get(f"/c/{view.slug}")))] == [
        0,
        0,
        0,
        0,
    ]


def test_a_referral_code_of_another_campaign_credits_nobody(
    english: TestClient, view: CampaignView, make_campaign: MakeCampaign
) -> None:
    other = make_campaign(partners=1)
    foreign = other.partners[1].referral_code

    sign_via(english, view, f"ref={foreign}", "tamu@example.com")

    assert [count for _slug, _name, count in board_in_api(english, view)] == [0, 0, 0, 0]
    assert [count for _slug, _name, count in board_in_api(english, other)] == [0, 0]


# --- live counts and numbers ---------------------------------------------------------


def test_the_page_is_ready_for_live_counts(english: TestClient, signed: CampaignView) -> None:
    page = html(english.get(f"/c/{signed.slug}"))

    tally = one(page, "section.tally")
    assert tally["data-events"] == f"/c/{signed.slug}/events"
    assert page.select("[data-events]") == [tally]  # live.js follows the first one
    scripts = [str(s["src"]) for s in page.select("script")]
    assert len(scripts) == 1 and scripts[0].split("?")[0] == "/static/js/live.js"
    assert one(page, "strong.count").has_attr("data-count")
    partner_numbers = [str(s["data-partner"]) for s in page.select("strong[data-partner]")]
    assert sorted(partner_numbers) == sorted(p.slug for p in signed.partners)
    # Each word beside a number knows both its forms, for live.js to switch.
    for word in page.select("ol.leaderboard span[data-one]"):
        assert (word["data-one"], word["data-other"]) == ("supporter", "supporters")


def write_tallies(session: Session, view: CampaignView, by_partner: dict[str, int]) -> None:
    """Counts as a long-running campaign has them, written straight into the tallies."""
    for slug, count in by_partner.items():
        partner = view.partner_by_slug(slug)
        assert partner is not None
        session.add(
            Tally(
                campaign_id=view.id,
                key=partner_key(partner.id),
                partner_id=partner.id,
                value=count,
            )
        )
    session.add(Tally(campaign_id=view.id, key=TOTAL, value=sum(by_partner.values())))
    session.commit()
    supporters.invalidate_counts(view.id)


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("id", [("1.234", "pendukung"), ("999", "pendukung"), ("1", "pendukung")]),
        ("en", [("1,234", "supporters"), ("999", "supporters"), ("1", "supporter")]),
    ],
)
def test_numbers_follow_the_language(
    lang: str,
    expected: list[tuple[str, str]],
    client: TestClient,
    session: Session,
    view: CampaignView,
) -> None:
    write_tallies(session, view, {"aksi-damai": 999, "cek-fakta": 1234, "anak-muda": 1})

    page = html(client.get(f"/c/{view.slug}?lang={lang}"))

    items = one(page, "ol.leaderboard").select("li")[:3]
    shown = [
        (
            one(li, "strong[data-partner]").get_text(strip=True),
            one(li, "span[data-one]").get_text(strip=True),
        )
        for li in items
    ]
    # Ranked as numbers, not as text: 1,234 comes before 999.
    assert [one(li, ".name").get_text(strip=True) for li in items] == [
        "Cek Fakta",
        "aksi Damai",
        "Anak Muda",
    ]
    assert shown == expected
    total = one(page, "section.tally strong.count").get_text(strip=True)
    assert total == ("2.234" if lang == "id" else "2,234")


# --- campaigns with few partners -----------------------------------------------------


def test_a_campaign_run_by_its_lead_alone_lists_just_the_lead(
    english: TestClient, make_campaign: MakeCampaign, session: Session
) -> None:
    alone = make_campaign(partners=0)
    session.commit()

    page = html(english.get(f"/c/{alone.slug}"))

    assert board_on_page(page) == [(alone.partners[0].name, 0)]


def test_a_campaign_without_any_partner_has_no_leaderboard(
    english: TestClient, make_campaign: MakeCampaign, session: Session
) -> None:
    bare = make_campaign(partners=0)
    session.execute(sa.delete(CampaignPartner).where(col(CampaignPartner.campaign_id) == bare.id))
    session.commit()

    response = english.get(f"/c/{bare.slug}")

    assert response.status_code == 200
    page = html(response)
    assert page.select("section.partners, ol.leaderboard, [data-partner]") == []
    assert one(page, "section.tally")["data-events"] == f"/c/{bare.slug}/events"
    assert english.get(f"/api/v1/campaigns/{bare.slug}").json()["partners"] == []


def test_a_closed_campaign_keeps_its_leaderboard(
    english: TestClient, signed: CampaignView, session: Session
) -> None:
    campaign = campaigns.get_by_slug(session, signed.slug)
    campaigns.set_status(session, campaign=campaign, status=CampaignStatus.CLOSED)
    session.commit()

    page = html(english.get(f"/c/{signed.slug}"))

    assert page.select_one("section.closed") is not None
    assert board_on_page(page)[0] == ("Cek Fakta", 3)


def test_a_partner_name_is_shown_as_text(
    english: TestClient, view: CampaignView, session: Session
) -> None:
    org = accounts.get_org_by_slug(session, "cek-fakta")
    org.name = '<img src=x onerror="alert(1)"> Cek & Ricek'
    session.add(org)
    session.commit()

    page = html(english.get(f"/c/{view.slug}"))

    board = one(page, "ol.leaderboard")
    assert board.select("img, script") == []
    names = [one(li, ".name").get_text(strip=True) for li in board.select("li")]
    assert '<img src=x onerror="alert(1)"> Cek & Ricek' in names
