"""The counter widget partner sites frame, and the SVG badge any page can show."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from markupsafe import escape

from pledge import i18n
from pledge.campaigns.models import CampaignView
from pledge.embeds import service as embeds
from tests.support.pages import html

MakeCampaign = Callable[..., CampaignView]
Sign = Callable[..., Any]
SVG = "{http://www.w3.org/2000/svg}"


def label(locale: str, count: int) -> str:
    return i18n.translations(locale).ngettext("supporter", "supporters", count)


@pytest.fixture
def signed(make_campaign: MakeCampaign, sign: Sign) -> CampaignView:
    """Three supporters: one referred by the second partner, two who came by themselves."""
    view = make_campaign(title="Tolak <Politik> & Uang", goal=10, partners=2)
    sign(view, contact="a@example.com")
    sign(view, contact="b@example.com")
    sign(view, contact="c@example.com", ref=view.partners[1].referral_code)
    return view


def widget(client: TestClient, path: str) -> BeautifulSoup:
    response = client.get(path)
    assert response.status_code == 200, response.text[:500]
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "public, max-age=5, stale-while-revalidate=30"
    return html(response)


def count_of(page: BeautifulSoup) -> tuple[str, str]:
    """Which counter the big number follows live ("total" or "partner:<slug>"), and its text."""
    count = page.select_one(".count")
    assert count is not None
    live = "total" if count.has_attr("data-count") else f"partner:{count['data-partner']}"
    return live, count.get_text(strip=True)


# --- the widget -------------------------------------------------------------------------


def test_widget_shows_the_count_title_progress_and_link(
    client: TestClient, signed: CampaignView, sign: Sign
) -> None:
    page = widget(client, f"/embed/{signed.slug}")
    assert count_of(page) == ("total", "3")
    assert page.select_one(".title").get_text(strip=True) == "Tolak <Politik> & Uang"
    progress = page.select_one("progress")
    assert progress is not None and (progress["value"], progress["max"]) == ("3", "10")
    link = page.select_one("a.sign")
    assert link is not None
    assert link["href"] == f"http://testserver/c/{signed.slug}"
    assert (link["target"], link["rel"]) == ("_blank", ["noopener"])
    assert page.select_one("link[rel=stylesheet]")["href"].startswith("/static/css/embed.css?v=")
    assert page.select_one("header, footer") is None  # not the site's page frame

    sign(signed, contact="d@example.com")

    assert count_of(widget(client, f"/embed/{signed.slug}")) == ("total", "4")


def test_widget_shows_the_goal_in_the_readers_numbers(
    client: TestClient, make_campaign: MakeCampaign, sign: Sign
) -> None:
    view = make_campaign(goal=20000, partners=2)
    for n in range(3):
        sign(view, contact=f"{n}@example.com")
    indonesian = widget(client, f"/embed/{view.slug}")
    english = widget(client, f"/embed/{view.slug}?lang=en")
    assert indonesian.select_one(".goal").get_text(" ", strip=True) == "3 dari 20.000 pendukung"
    assert english.select_one(".goal").get_text(" ", strip=True) == "3 of 20,000 supporters"
    # Its count follows the live stream, as the big number and the bar do; so does a partner's.
    assert english.select_one(".goal [data-count]").get_text(strip=True) == "3"
    progress = english.select_one("progress")
    assert (progress["value"], progress["max"]) == ("3", "20000")
    partner = view.partners[1]
    narrowed = widget(client, f"/embed/{view.slug}?partner={partner.slug}&lang=en")
    assert narrowed.select_one(f".goal [data-partner={partner.slug}]").get_text() == "0"
    assert narrowed.select_one(".goal").get_text(" ", strip=True) == "0 of 20,000 supporters"


def test_widget_counts_only_one_partners_referrals(
    client: TestClient, signed: CampaignView
) -> None:
    partner = signed.partners[1]
    page = widget(client, f"/embed/{signed.slug}?partner={partner.slug}")
    assert count_of(page) == (f"partner:{partner.slug}", "1")
    assert partner.name in page.select_one(".via").get_text()
    href = str(page.select_one("a.sign")["href"])
    assert urlsplit(href).path == f"/c/{signed.slug}"
    assert parse_qs(urlsplit(href).query) == {"ref": [partner.referral_code]}

    other = widget(client, f"/embed/{signed.slug}?partner={signed.partners[0].slug}")
    assert count_of(other) == (f"partner:{signed.partners[0].slug}", "0")


def link_of(page: BeautifulSoup) -> tuple[str, dict[str, list[str]]]:
    """Where the widget's button leads: the path, and the query."""
    href = str(page.select_one("a.sign")["href"])
    return urlsplit(href).path, parse_qs(urlsplit(href).query)


def test_everyones_count_on_a_partners_site_credits_that_partner(
    client: TestClient, signed: CampaignView
) -> None:
    """The widget a partner embeds to show everyone's count passes its referral code on to the
    campaign page, so that whoever signs from its site is counted for it."""
    partner = signed.partners[1]
    page = widget(client, f"/embed/{signed.slug}?ref={partner.referral_code}")
    assert count_of(page) == ("total", "3")  # still everyone's count
    assert page.select_one(".via") is None
    assert link_of(page) == (f"/c/{signed.slug}", {"ref": [partner.referral_code]})

    # With ?partner=, the count is that partner's; an explicit ref is the one the link carries.
    other = signed.partners[0]
    narrowed = widget(
        client, f"/embed/{signed.slug}?partner={partner.slug}&ref={other.referral_code}"
    )
    assert count_of(narrowed) == (f"partner:{partner.slug}", "1")
    assert link_of(narrowed)[1] == {"ref": [other.referral_code]}


def test_a_partners_count_and_everyones_count_crediting_it_are_drawn_apart(
    client: TestClient, signed: CampaignView
) -> None:
    """Both link to the campaign with the partner's code: the drawn page is kept per count
    shown, not per link."""
    partner = signed.partners[1]
    everyone = widget(client, f"/embed/{signed.slug}?ref={partner.referral_code}")
    theirs = widget(client, f"/embed/{signed.slug}?partner={partner.slug}")
    again = widget(client, f"/embed/{signed.slug}?ref={partner.referral_code}")

    assert link_of(everyone) == link_of(theirs) == link_of(again)
    assert count_of(everyone) == count_of(again) == ("total", "3")
    assert count_of(theirs) == (f"partner:{partner.slug}", "1")


@pytest.mark.parametrize("ref", ["", "no-such-code", "x" * 500, "%3Cscript%3E"])
def test_an_unknown_referral_code_is_ignored(
    client: TestClient, signed: CampaignView, ref: str
) -> None:
    page = widget(client, f"/embed/{signed.slug}?ref={ref}")
    assert count_of(page) == ("total", "3")
    assert link_of(page) == (f"/c/{signed.slug}", {})


def test_another_campaigns_referral_code_is_ignored(
    client: TestClient, signed: CampaignView, make_campaign: MakeCampaign
) -> None:
    elsewhere = make_campaign(partners=2)
    code = elsewhere.partners[1].referral_code
    assert signed.partner_by_code(code) is None
    assert link_of(widget(client, f"/embed/{signed.slug}?ref={code}"))[1] == {}


def test_the_snippet_for_everyones_count_carries_the_partners_code(
    client: TestClient, signed: CampaignView
) -> None:
    partner = signed.partners[1]
    base = "https://janji.example.org"
    everyone = embeds.snippets(
        signed, partner, base_url=base, choice=embeds.EmbedChoice(theme="dark")
    )
    query = parse_qs(urlsplit(everyone.widget_url).query)
    assert query == {"lang": ["id"], "theme": ["dark"], "ref": [partner.referral_code]}
    assert f'src="{escape(everyone.widget_url)}"' in everyone.iframe
    # The address pasted on the partner's site gives a widget whose link credits the partner.
    split = urlsplit(everyone.widget_url)
    assert link_of(widget(client, f"{split.path}?{split.query}"))[1] == {
        "ref": [partner.referral_code]
    }

    # Its own supporters' count: partner= already gives the link its code.
    ours = embeds.snippets(signed, partner, base_url=base, choice=embeds.EmbedChoice(scope="ours"))
    assert parse_qs(urlsplit(ours.widget_url).query) == {"lang": ["id"], "partner": [partner.slug]}
    # Without a partner (a site admin's view), no code.
    nobody = embeds.snippets(signed, None, base_url=base, choice=embeds.EmbedChoice())
    assert parse_qs(urlsplit(nobody.widget_url).query) == {"lang": ["id"]}


def test_widget_with_an_unknown_partner_is_404(client: TestClient, signed: CampaignView) -> None:
    response = client.get(f"/embed/{signed.slug}?partner=no-such-org&lang=en")
    assert response.status_code == 404
    assert "This organisation is not a partner of this campaign." in html(response).get_text()


def test_widget_of_a_draft_or_missing_campaign_is_404(
    client: TestClient, make_campaign: MakeCampaign
) -> None:
    draft = make_campaign(status="draft")
    assert client.get(f"/embed/{draft.slug}").status_code == 404
    assert client.get(f"/embed/{draft.slug}.svg").status_code == 404
    assert client.get("/embed/no-such-campaign").status_code == 404


def test_widget_themes(client: TestClient, signed: CampaignView) -> None:
    dark = widget(client, f"/embed/{signed.slug}?theme=dark").select_one("html")
    assert dark is not None and "theme-dark" in dark["class"]
    odd = widget(client, f"/embed/{signed.slug}?theme=neon").select_one("html")
    assert odd is not None and odd["class"] == ["theme-light"]


def test_widget_can_be_framed_and_sets_no_cookie_and_has_no_form(
    client: TestClient, signed: CampaignView
) -> None:
    response = client.get(f"/embed/{signed.slug}?lang=en")
    assert response.status_code == 200
    assert "set-cookie" not in response.headers
    assert "x-frame-options" not in response.headers
    assert "frame-ancestors *" in response.headers["content-security-policy"]
    assert html(response).select("form, input") == []

    page = client.get(f"/c/{signed.slug}")  # the rest of the site stays unframeable
    assert page.headers["x-frame-options"] == "DENY"


def test_widget_language(client: TestClient, signed: CampaignView) -> None:
    default = widget(client, f"/embed/{signed.slug}")
    english = widget(client, f"/embed/{signed.slug}?lang=en")
    assert default.select_one("html")["lang"] == "id"
    assert english.select_one("html")["lang"] == "en"
    assert default.select_one(".label").get_text(strip=True) == label("id", 3)
    assert english.select_one(".label").get_text(strip=True) == "supporters"
    assert label("id", 3) != "supporters"


# --- the badge --------------------------------------------------------------------------


def parse(svg: bytes) -> ET.Element:
    # Our own response in a test, not untrusted input: a strict parser is what we want here.
    return ET.fromstring(svg)  # noqa: S314


def badge(client: TestClient, path: str) -> tuple[ET.Element, Any]:
    response = client.get(path)
    assert response.status_code == 200, response.text[:500]
    return parse(response.content), response


def texts(svg: ET.Element) -> list[str]:
    return [t.text or "" for t in svg.iter(f"{SVG}text")]


def test_badge_is_valid_svg_with_label_count_and_title(
    client: TestClient, signed: CampaignView
) -> None:
    svg, response = badge(client, f"/embed/{signed.slug}.svg?lang=en")
    assert response.headers["content-type"] == "image/svg+xml; charset=utf-8"
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["cache-control"] == "public, max-age=5, stale-while-revalidate=30"
    assert "set-cookie" not in response.headers
    assert svg.tag == f"{SVG}svg"
    assert svg.get("role") == "img"
    assert texts(svg) == ["supporters", "3"]
    title = svg.find(f"{SVG}title")
    assert title is not None and title.text == "Tolak <Politik> & Uang: 3 supporters"
    # Widths follow the text: the label part is wider than the count part.
    rects = [int(r.get("width", "0")) for r in svg.iter(f"{SVG}rect")]
    assert int(svg.get("width", "0")) == rects[0] == rects[1] + rects[2]
    assert rects[1] > rects[2]


def test_badge_label_follows_lang(client: TestClient, signed: CampaignView) -> None:
    default, _ = badge(client, f"/embed/{signed.slug}.svg")
    english, _ = badge(client, f"/embed/{signed.slug}.svg?lang=en")
    assert texts(default) == [label("id", 3), "3"]
    assert texts(english) == [label("en", 3), "3"]
    assert texts(default) != texts(english)


def test_badge_counts_one_partner(client: TestClient, signed: CampaignView) -> None:
    partner = signed.partners[1]
    svg, _ = badge(client, f"/embed/{signed.slug}.svg?partner={partner.slug}&lang=en")
    assert texts(svg) == ["supporter", "1"]
    title = svg.find(f"{SVG}title")
    assert title is not None and partner.name in (title.text or "")
    assert client.get(f"/embed/{signed.slug}.svg?partner=nobody").status_code == 404


def test_badge_etag_gives_304_until_the_count_changes(
    client: TestClient, signed: CampaignView, sign: Sign
) -> None:
    path = f"/embed/{signed.slug}.svg"
    etag = client.get(path).headers["etag"]

    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag

    sign(signed, contact="new@example.com")
    changed = client.get(path, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    assert texts(parse(changed.content))[1] == "4"
