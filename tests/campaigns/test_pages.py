"""The public campaign pages: the list, one campaign with its form, the privacy notice, 404."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest
from bs4 import BeautifulSoup, Tag
from fastapi.testclient import TestClient
from sqlmodel import Session

from pledge.campaigns import service as campaigns
from pledge.campaigns.models import CampaignStatus, CampaignView
from pledge.provinces import PROVINCES
from tests.support.pages import digits, html

MakeCampaign = Callable[..., CampaignView]
Sign = Callable[..., Any]


@pytest.fixture
def english(client: TestClient) -> TestClient:
    """The client with English remembered, as after a visit with ?lang=en."""
    client.cookies.set("lang", "en")
    return client


def page(client: TestClient, path: str, status: int = 200) -> BeautifulSoup:
    response = client.get(path)
    assert response.status_code == status, response.text[:500]
    return html(response)


def one(soup: BeautifulSoup | Tag, selector: str) -> Tag:
    found = soup.select_one(selector)
    assert found is not None, f"nothing matches {selector!r}"
    return found


def form_to(soup: BeautifulSoup | Tag, path: str) -> Tag:
    """The form that posts to path (its action may add a #fragment to land on the form)."""
    forms = [f for f in soup.select("form[action]") if urlsplit(str(f["action"])).path == path]
    assert len(forms) == 1, f"{len(forms)} forms post to {path}"
    return forms[0]


def close(session: Session, view: CampaignView) -> None:
    campaigns.set_status(session, campaign=view.campaign, status=CampaignStatus.CLOSED)
    session.commit()


# --- GET / -------------------------------------------------------------------------------


def test_index_lists_live_and_closed_campaigns_with_counts_but_no_drafts(
    english: TestClient, make_campaign: MakeCampaign, sign: Sign, session: Session
) -> None:
    live = make_campaign(title="Tolak Politik Uang", goal=50)
    closed = make_campaign(title="Pemilu Damai", goal=10)
    draft = make_campaign(status="draft", title="Rahasia Draf")
    for n in range(3):
        sign(live, contact=f"live{n}@example.com")
    sign(closed, contact="closed@example.com")
    close(session, closed)

    soup = page(english, "/")

    live_card = one(soup, f"li.card#campaign-{live.slug}")
    assert one(live_card, "h2 a").get_text(strip=True) == "Tolak Politik Uang"
    assert one(live_card, "h2 a")["href"] == f"/c/{live.slug}"
    bar = one(live_card, "progress")
    assert (bar["value"], bar["max"]) == ("3", "50")
    assert one(live_card, "p.goal").get_text(" ", strip=True) == "3 of 50 supporters"
    assert live_card.select_one(".badge") is None

    closed_card = one(soup, f"li.card#campaign-{closed.slug}")
    assert one(closed_card, "h2 a").get_text(strip=True) == "Pemilu Damai"
    assert one(closed_card, ".badge").get_text(strip=True) == "Closed"
    bar = one(closed_card, "progress")
    assert (bar["value"], bar["max"]) == ("1", "10")

    assert soup.select_one(f"#campaign-{draft.slug}") is None
    assert not soup.select(f'a[href="/c/{draft.slug}"]')
    assert "Rahasia Draf" not in soup.get_text()
    assert len(soup.select("li.card")) == 2


def test_index_progress_bar_stops_at_the_goal_but_the_count_does_not(
    english: TestClient, make_campaign: MakeCampaign, sign: Sign
) -> None:
    view = make_campaign(goal=2)
    for n in range(3):
        sign(view, contact=f"over{n}@example.com")

    card = one(page(english, "/"), f"#campaign-{view.slug}")

    bar = one(card, "progress")
    assert (bar["value"], bar["max"]) == ("2", "2")
    assert one(card, "p.goal").get_text(" ", strip=True) == "3 of 2 supporters"


def test_index_without_campaigns_says_so(english: TestClient, make_campaign: MakeCampaign) -> None:
    make_campaign(status="draft")

    soup = page(english, "/")

    assert soup.select("li.card") == []
    assert one(soup, "p.empty").get_text(strip=True)


# --- GET /c/{slug} -------------------------------------------------------------------


def test_campaign_page_shows_title_summary_story_and_counts(
    english: TestClient, make_campaign: MakeCampaign, sign: Sign
) -> None:
    view = make_campaign(
        title="Suarakan Cintamu",
        summary="Tolak politik uang di pemilu.",
        body="Cerita **penting** di sini.\n\n- satu\n- dua\n\n[Baca lagi](https://example.org/lagi)",
        goal=100,
    )
    sign(view, contact="a@example.com", pledges=("tolak-politik-uang", "lawan-hoaks"))
    sign(view, contact="b@example.com", pledges=("tolak-politik-uang",))

    soup = page(english, f"/c/{view.slug}")

    assert one(soup, "h1").get_text(strip=True) == "Suarakan Cintamu"
    assert one(soup, "article.campaign p.lead").get_text(strip=True) == (
        "Tolak politik uang di pemilu."
    )
    assert "Suarakan Cintamu" in one(soup, "title").get_text()
    story = one(soup, "section.story")
    assert one(story, "strong").get_text(strip=True) == "penting"
    assert [li.get_text(strip=True) for li in story.select("ul li")] == ["satu", "dua"]
    assert one(story, "a")["href"] == "https://example.org/lagi"

    assert digits(one(soup, "section.tally .counter .count").get_text()) == 2
    bar = one(soup, "section.tally progress")
    assert (bar["value"], bar["max"]) == ("2", "100")
    shown = {
        str(strong["data-pledge"]): digits(strong.get_text())
        for strong in soup.select("ul.pledge-counts strong[data-pledge]")
    }
    assert shown == {"tolak-politik-uang": 2, "gunakan-hak-pilih": 0, "lawan-hoaks": 1}
    texts = [s.get_text(strip=True) for s in soup.select("ul.pledge-counts .pledge-text")]
    assert texts == ["Janji tolak-politik-uang", "Janji gunakan-hak-pilih", "Janji lawan-hoaks"]


def test_campaign_body_cannot_inject_markup_or_script(
    english: TestClient, make_campaign: MakeCampaign
) -> None:
    view = make_campaign(
        body=(
            "<script>alert(1)</script>\n\n"
            "[x](javascript:alert(1))\n\n"
            '<img src="x" onerror="alert(1)">\n\n'
            '<a href="javascript:alert(2)">klik</a>'
        )
    )

    soup = page(english, f"/c/{view.slug}")

    story = one(soup, "section.story")
    assert story.select("script") == []
    assert [s.get("src", "inline").split("?")[0] for s in soup.select("script")] == [
        "/static/js/live.js"
    ]
    assert story.select("img") == []
    assert story.select("[onerror]") == []
    hrefs = [str(a.get("href", "")) for a in soup.select("a")]
    assert not [h for h in hrefs if h.strip().lower().startswith("javascript:")]
    # The markup is shown as text, not dropped silently.
    assert "<script>alert(1)</script>" in story.get_text()


def test_campaign_page_has_the_form_with_every_contract_field(
    english: TestClient, make_campaign: MakeCampaign
) -> None:
    view = make_campaign(partners=2)

    soup = page(english, f"/c/{view.slug}")

    form = form_to(soup, f"/c/{view.slug}/sign")
    assert str(form["method"]).lower() == "post"
    assert one(form, 'input[name="name"]')["type"] == "text"
    # Two contact fields, WhatsApp first, and the choice between them; "contact" alone still
    # takes either kind (see test_sign_form_fields.py).
    assert one(form, 'input[name="contact"]')["type"] == "tel"
    assert one(form, 'input[name="contact_email"]')["type"] == "email"
    kinds = form.select('input[name="contact_kind"]')
    assert [(k["type"], k["value"]) for k in kinds] == [("radio", "whatsapp"), ("radio", "email")]

    province = one(form, 'select[name="province"]')
    options = [str(o["value"]) for o in province.select("option")]
    assert options[0] == ""
    assert len(options) == 39
    assert set(options[1:]) == set(PROVINCES)
    assert len(PROVINCES) == 38

    for name in ("age_ok", "consent", "show_name"):
        assert one(form, f'input[name="{name}"]')["type"] == "checkbox"
    pledges = form.select('input[name="pledges"]')
    assert all(box["type"] == "checkbox" for box in pledges)
    assert [box["value"] for box in pledges] == [p.slug for p in view.pledges]

    updates = [str(o["value"]) for o in one(form, 'select[name="updates_org"]').select("option")]
    assert updates[0] == ""
    assert sorted(updates[1:]) == sorted(p.slug for p in view.partners)

    assert one(form, 'input[name="ref"]')["type"] == "hidden"
    csrf = one(form, 'input[name="csrf_token"]')
    assert csrf["type"] == "hidden"
    assert len(str(csrf["value"])) >= 20
    website = one(form, 'input[name="website"]')
    assert website.get("value", "") == ""
    assert one(form, 'button[type="submit"]').get_text(strip=True)


def test_every_visible_form_field_has_a_label(
    english: TestClient, make_campaign: MakeCampaign
) -> None:
    view = make_campaign()

    soup = page(english, f"/c/{view.slug}")

    form = form_to(soup, f"/c/{view.slug}/sign")
    fields = form.select('input:not([type="hidden"]), select, textarea')
    assert len(fields) >= 10
    unlabelled = []
    for field in fields:
        wrapping = field.find_parent("label")
        field_id = field.get("id")
        by_for = form.select_one(f'label[for="{field_id}"]') if field_id else None
        label = wrapping or by_for
        if label is None or not label.get_text(strip=True):
            unlabelled.append(field.get("name"))
    assert unlabelled == []


def test_recent_supporters_show_only_first_name_and_province_of_those_who_agreed(
    english: TestClient, make_campaign: MakeCampaign, sign: Sign
) -> None:
    view = make_campaign()
    sign(
        view,
        name="Rina Putri Santoso",
        contact="rina.santoso@example.com",
        province="ID-JB",
        show_name="on",
    )
    sign(view, name="Budi Hartono", contact="0812 1111 2222", province="ID-BA", show_name="")
    sign(view, name="Dewi", contact="dewi@example.com", province="ID-PA", show_name="on")

    soup = page(english, f"/c/{view.slug}")

    recent = [li.get_text(strip=True) for li in soup.select("section.recent li")]
    assert recent == ["Dewi, Papua", "Rina, Jawa Barat"]
    text = soup.get_text(" ")
    for secret in ("Putri", "Santoso", "rina.santoso", "Budi", "Hartono", "1111"):
        assert secret not in text
    values = " ".join(str(v) for tag in soup.find_all(True) for v in tag.attrs.values())
    assert "santoso" not in values.lower()


def test_no_recent_list_when_nobody_chose_to_be_shown(
    english: TestClient, make_campaign: MakeCampaign, sign: Sign
) -> None:
    view = make_campaign()
    sign(view, name="Budi Hartono", contact="budi@example.com", show_name="")

    soup = page(english, f"/c/{view.slug}")

    assert digits(one(soup, ".counter .count").get_text()) == 1
    assert soup.select("section.recent li") == []
    assert "Budi" not in soup.get_text()


def test_referral_code_goes_into_the_hidden_ref_field(
    english: TestClient, make_campaign: MakeCampaign
) -> None:
    view = make_campaign(partners=2)
    partner = next(p for p in view.partners if not p.is_lead)

    soup = page(english, f"/c/{view.slug}?ref={partner.referral_code}")

    assert one(soup, 'form input[name="ref"]')["value"] == partner.referral_code
    assert one(soup, "p.ref").get_text(strip=True) == f"Invited by {partner.name}"


@pytest.mark.parametrize("code", ["zzzzzzzz", "<b>x</b>", ""])
def test_an_unknown_referral_code_is_not_put_into_the_form(
    english: TestClient, make_campaign: MakeCampaign, code: str
) -> None:
    view = make_campaign(partners=2)

    soup = page(english, f"/c/{view.slug}?ref={code}")

    assert one(soup, 'form input[name="ref"]')["value"] == ""
    assert soup.select_one("p.ref") is None


def test_referral_code_of_another_campaign_is_not_accepted(
    english: TestClient, make_campaign: MakeCampaign
) -> None:
    view = make_campaign()
    other = make_campaign()

    soup = page(english, f"/c/{view.slug}?ref={other.partners[0].referral_code}")

    assert one(soup, 'form input[name="ref"]')["value"] == ""


def test_a_draft_campaign_is_not_found(english: TestClient, make_campaign: MakeCampaign) -> None:
    view = make_campaign(status="draft", title="Belum Siap")

    soup = page(english, f"/c/{view.slug}", status=404)

    assert one(soup, "section.error-page h1").get_text(strip=True) == "Page not found"
    assert one(soup, "section.error-page a")["href"] == "/"
    assert "Belum Siap" not in soup.get_text()
    assert soup.select("form") == []


def test_an_unknown_campaign_is_not_found(english: TestClient) -> None:
    soup = page(english, "/c/tidak-ada", status=404)

    assert one(soup, "section.error-page h1").get_text(strip=True) == "Page not found"


def test_a_closed_campaign_shows_its_result_but_no_form(
    english: TestClient, make_campaign: MakeCampaign, sign: Sign, session: Session
) -> None:
    view = make_campaign(title="Sudah Selesai")
    sign(view, contact="a@example.com")
    sign(view, contact="b@example.com")
    close(session, view)

    soup = page(english, f"/c/{view.slug}")

    assert one(soup, "h1").get_text(strip=True) == "Sudah Selesai"
    assert soup.select("form") == []
    assert soup.select('input[name="csrf_token"]') == []
    closed = one(soup, "section.closed")
    assert one(closed, "h2").get_text(strip=True) == "This campaign is closed"
    assert digits(closed.select("p")[-1].get_text()) == 2
    assert digits(one(soup, ".counter .count").get_text()) == 2


def test_a_live_campaign_past_its_end_date_shows_no_form(
    english: TestClient, make_campaign: MakeCampaign, session: Session
) -> None:
    from datetime import timedelta

    from pledge.db import utcnow

    view = make_campaign()
    view.campaign.ends_at = utcnow() - timedelta(hours=1)
    session.add(view.campaign)
    session.commit()

    soup = page(english, f"/c/{view.slug}")

    assert soup.select("form") == []
    assert soup.select_one("section.closed") is not None


# --- GET /privacy and errors ---------------------------------------------------------


def test_privacy_notice_explains_storage_retention_and_withdrawal(english: TestClient) -> None:
    soup = page(english, "/privacy")

    assert one(soup, "h1").get_text(strip=True) == "Privacy notice"
    headings = [h.get_text(strip=True) for h in soup.select("article h2")]
    for expected in ("What we store when you sign", "How long", "How to withdraw"):
        assert expected in headings
    assert len(headings) >= 5
    for heading in soup.select("article h2"):
        following = heading.find_next_sibling()
        assert following is not None and following.get_text(strip=True), heading


def test_privacy_notice_is_linked_from_every_page(
    english: TestClient, make_campaign: MakeCampaign
) -> None:
    view = make_campaign()
    for path in ("/", f"/c/{view.slug}", "/nowhere"):
        response = english.get(path)
        assert html(response).select_one('footer a[href="/privacy"]') is not None, path
    form = one(page(english, f"/c/{view.slug}"), "form")
    assert form.select_one('a[href="/privacy"]') is not None


def test_unknown_url_gives_the_404_page_in_the_chosen_language(client: TestClient) -> None:
    default = client.get("/tidak/ada/di/sini")
    assert default.status_code == 404
    soup = html(default)
    assert one(soup, "html")["lang"] == "id"
    assert one(soup, "section.error-page h1").get_text(strip=True)
    assert "text/html" in default.headers["content-type"]

    english = client.get("/tidak/ada/di/sini?lang=en")
    assert english.status_code == 404
    soup = html(english)
    assert one(soup, "html")["lang"] == "en"
    assert one(soup, "section.error-page h1").get_text(strip=True) == "Page not found"
    assert one(soup, "section.error-page p.detail").get_text(strip=True) == (
        "We could not find that page."
    )


def test_a_wrong_method_gives_an_error_page_not_a_crash(english: TestClient) -> None:
    response = english.post("/privacy")

    assert response.status_code == 405
    soup = html(response)
    assert one(soup, "section.error-page p.detail").get_text(strip=True) == (
        "This address does not accept that kind of request."
    )
    assert re.search(r"\b405\b", one(soup, "title").get_text())
