"""Sharing a published verdict: its short link, its preview tags and its share buttons, whose
text leads with the verdict, in English and in Indonesian."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlmodel import Session

from pledge.campaigns.models import CampaignView
from pledge.hoaxes.models import CaseStatus, Verdict
from tests.conftest import NewClient
from tests.support.factories import MakeReport, Publish, set_case_status
from tests.support.images import screenshot
from tests.support.pages import html

MakeCampaign = Callable[..., CampaignView]
CLAIM = "Pemilih tanpa undangan C6 ditolak di TPS"
CORRECTION = "KTP-el saja sudah cukup untuk mencoblos."


@pytest.fixture
def make_verdict(
    make_campaign: MakeCampaign, make_report: MakeReport, publish: Publish, session: Session
) -> Callable[..., int]:
    def make(*, picture: bool = True, correction: str = CORRECTION) -> int:
        view = make_campaign()
        image = screenshot(7) if picture else None
        report = make_report(view, image=image, url=f"https://example.id/{picture}")
        publish(report.case_id, label=Verdict.SALAH, title=CLAIM)
        set_case_status(session, report.case_id, CaseStatus.PUBLISHED, correction=correction)
        return report.case_id

    return make


def meta(page: BeautifulSoup, name: str) -> str:
    found = page.select_one(f"meta[property='{name}'], meta[name='{name}']")
    assert found is not None, name
    return str(found["content"])


def query(href: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(href).query).items()}


# --- the short link ---------------------------------------------------------------------


def test_the_short_link_leads_to_the_verdict_for_good(
    client: TestClient, make_verdict: Callable[..., int]
) -> None:
    case_id = make_verdict()
    response = client.get(f"/v/{case_id}")
    assert response.status_code in (301, 308)
    assert response.headers["location"] == f"/hoaxes/{case_id}"
    assert client.get(response.headers["location"]).status_code == 200


def test_the_short_link_of_an_unpublished_or_unknown_case_is_not_found(
    client: TestClient, make_campaign: MakeCampaign, make_report: MakeReport, session: Session
) -> None:
    report = make_report(make_campaign())
    set_case_status(session, report.case_id, CaseStatus.AWAITING_APPROVAL, label=Verdict.SALAH)
    assert client.get(f"/v/{report.case_id}").status_code == 404
    assert client.get("/v/999999").status_code == 404
    assert client.get("/v/abc").status_code == 422


# --- the preview --------------------------------------------------------------------------


@pytest.mark.parametrize("picture", [True, False])
def test_every_verdict_has_a_large_preview_with_its_size(
    client: TestClient, make_verdict: Callable[..., int], picture: bool
) -> None:
    case_id = make_verdict(picture=picture)
    page = html(client.get(f"/hoaxes/{case_id}?lang=en"))
    card = meta(page, "og:image")
    assert urlsplit(card).path == f"/hoaxes/{case_id}/card.jpg"
    assert meta(page, "og:image:width") == "1200"
    assert meta(page, "og:image:height") == "630"
    assert meta(page, "og:image:type") == "image/jpeg"
    assert CLAIM in meta(page, "og:image:alt")
    assert meta(page, "twitter:card") == "summary_large_image"
    # The preview's address answers the card itself.
    response = client.get(card.removeprefix("http://testserver"))
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/jpeg"


def test_the_stamped_picture_holds_its_place_before_it_loads(
    client: TestClient, make_verdict: Callable[..., int]
) -> None:
    case_id = make_verdict()
    image = html(client.get(f"/hoaxes/{case_id}")).select_one("img.hoax-image")
    assert image is not None
    # The stored screenshot's size, which the stamped picture keeps.
    assert (image["width"], image["height"]) == ("800", "600")
    assert client.get(str(image["src"])).status_code == 200


# --- the share buttons --------------------------------------------------------------------


def share_links(page: BeautifulSoup) -> list[str]:
    return [str(a["href"]) for a in page.select("section.share ul.share-links a")]


def test_share_buttons_lead_with_the_verdict_whatsapp_first(
    client: TestClient, make_verdict: Callable[..., int]
) -> None:
    case_id = make_verdict()
    page = html(client.get(f"/hoaxes/{case_id}?lang=en"))
    short = f"http://testserver/v/{case_id}"
    expected_text = f"SALAH (False): \u201c{CLAIM}\u201d. Fact: {CORRECTION}"
    whatsapp, telegram, x, facebook = share_links(page)

    assert whatsapp.startswith("https://wa.me/?")
    assert query(whatsapp)["text"] == f"{expected_text} {short}"
    assert telegram.startswith("https://t.me/share/url?")
    assert query(telegram) == {"url": short, "text": expected_text}
    assert x.startswith("https://x.com/intent/post?")
    assert query(x) == {"text": expected_text, "url": short}
    assert facebook.startswith("https://www.facebook.com/sharer/sharer.php?")
    assert query(facebook) == {"u": short}
    # Encoded in the link, not pasted into it.
    assert " " not in whatsapp and "SALAH+%28False%29" in whatsapp

    copy = page.select_one("section.share input#share-url")
    assert copy is not None
    assert copy["value"] == short
    assert copy.has_attr("readonly")
    assert page.select_one("label[for='share-url']") is not None
    # The copy button is an extra of the static script; the page works without it.
    assert page.select_one("script[src*='share.js']") is not None


def test_a_verdict_without_a_correction_shares_the_verdict_and_the_claim(
    client: TestClient, make_verdict: Callable[..., int]
) -> None:
    case_id = make_verdict(picture=False, correction="")
    whatsapp = share_links(html(client.get(f"/hoaxes/{case_id}?lang=en")))[0]
    assert (
        query(whatsapp)["text"]
        == f"SALAH (False): \u201c{CLAIM}\u201d. http://testserver/v/{case_id}"
    )


def test_the_story_picture_can_be_downloaded_from_the_page(
    client: TestClient, make_verdict: Callable[..., int]
) -> None:
    case_id = make_verdict()
    page = html(client.get(f"/hoaxes/{case_id}?lang=en"))
    link = page.select_one("section.share a[download]")
    assert link is not None
    assert "Download the picture for your story" in link.get_text()
    assert urlsplit(str(link["href"])).path == f"/hoaxes/{case_id}/story.jpg"
    response = client.get(str(link["href"]))
    assert response.status_code == 200
    assert response.headers["content-disposition"].startswith("attachment")


def test_the_page_shares_in_indonesian_by_default(
    new_client: NewClient, make_verdict: Callable[..., int]
) -> None:
    case_id = make_verdict()
    browser = new_client(lang=None)
    page = html(browser.get(f"/hoaxes/{case_id}"))
    assert page.html is not None and page.html["lang"] == "id"
    text = query(share_links(page)[0])["text"]
    # The label stays in Indonesian; its meaning and the correction's lead-in follow the reader.
    assert text.startswith(f"SALAH (Tidak benar): \u201c{CLAIM}\u201d.")
    assert CORRECTION in text
    # The pictures' addresses name no language: Indonesian is the default.
    assert meta(page, "og:image") == f"http://testserver/hoaxes/{case_id}/card.jpg"
    story = page.select_one("section.share a[download]")
    assert story is not None and story["href"] == f"/hoaxes/{case_id}/story.jpg"


def test_the_page_uses_no_other_site(client: TestClient, make_verdict: Callable[..., int]) -> None:
    """Small and private: no third-party script, style, font or picture is loaded."""
    page = html(client.get(f"/hoaxes/{make_verdict()}?lang=en"))
    for element in page.select("script[src], link[href], img[src]"):
        address = str(element.get("src") or element.get("href"))
        if element.name == "link" and element.get("rel") == ["canonical"]:
            continue
        assert urlsplit(address).netloc in ("", "testserver"), address
