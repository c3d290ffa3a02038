"""The public gallery of verdicts, one verdict's page with its ClaimReview, and the
labelled picture."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlmodel import Session

from pledge.campaigns import service as campaigns
from pledge.campaigns.models import Campaign, CampaignStatus, CampaignView
from pledge.db import utcnow
from pledge.hoaxes.models import CaseStatus, Verdict
from tests.support.factories import MakeReport, Publish, published_cases, set_case_status
from tests.support.images import screenshot
from tests.support.pages import html

MakeCampaign = Callable[..., CampaignView]


def test_gallery_shows_only_published_cases(
    client: TestClient,
    make_campaign: MakeCampaign,
    make_report: MakeReport,
    publish: Publish,
    session: Session,
) -> None:
    view = make_campaign()
    shown = make_report(view, url="https://example.id/1")
    publish(shown.case_id, title="Sudah diperiksa")
    for n, status in enumerate(
        (CaseStatus.NEW, CaseStatus.AWAITING_APPROVAL, CaseStatus.NOT_HOAX, CaseStatus.REJECTED)
    ):
        hidden = make_report(view, url=f"https://example.id/hidden-{n}")
        set_case_status(
            session, hidden.case_id, status, public_title=f"Rahasia {n}", label=Verdict.SALAH
        )

    response = client.get("/hoaxes")
    assert response.status_code == 200
    page = html(response)
    cards = page.select("li.card")
    assert [card["id"] for card in cards] == [f"hoax-{shown.case_id}"]
    assert cards[0].select_one(".verdict-label").get_text() == "SALAH"
    assert cards[0].select_one("h2 a")["href"] == f"/hoaxes/{shown.case_id}"
    assert "Rahasia" not in response.text
    # The reporter's link, words and tracking code are not on the public page.
    assert shown.tracking_code not in response.text
    assert "TPS dipindah" not in response.text


def test_gallery_is_empty_at_first(client: TestClient) -> None:
    page = html(client.get("/hoaxes"))
    assert page.select("li.card") == []
    assert "No verdicts have been published yet" in page.select_one("main").get_text()


def test_gallery_is_newest_first_twenty_a_page(
    client: TestClient,
    make_campaign: MakeCampaign,
    make_report: MakeReport,
    publish: Publish,
    session: Session,
) -> None:
    view = make_campaign()
    made = published_cases(session, make_report, publish, view, 23)
    first = html(client.get("/hoaxes"))
    ids = [card["id"] for card in first.select("li.card")]
    assert ids == [f"hoax-{case.id}" for case in reversed(made)][:20]
    assert first.select_one("a[rel=next]")["href"] == "/hoaxes?page=2"
    assert first.select_one("a[rel=prev]") is None
    second = html(client.get("/hoaxes?page=2"))
    assert [card["id"] for card in second.select("li.card")] == [
        f"hoax-{case.id}" for case in reversed(made[:3])
    ]
    assert second.select_one("a[rel=next]") is None
    # The first page is the gallery itself.
    assert second.select_one("a[rel=prev]")["href"] == "/hoaxes"
    assert client.get("/hoaxes?page=0").status_code == 422
    assert client.get("/hoaxes?page=abc").status_code == 422


def test_verdicts_of_a_draft_campaign_are_not_public(
    client: TestClient,
    make_campaign: MakeCampaign,
    make_report: MakeReport,
    publish: Publish,
    session: Session,
) -> None:
    view = make_campaign()
    report = make_report(view)
    publish(report.case_id)
    campaign = session.get(Campaign, view.id)
    assert campaign is not None
    campaign.status = CampaignStatus.DRAFT  # as if it had never gone live
    session.add(campaign)
    session.commit()
    assert html(client.get("/hoaxes")).select("li.card") == []
    assert client.get(f"/hoaxes/{report.case_id}").status_code == 404
    assert client.get(f"/hoaxes/{report.case_id}/image.jpg").status_code == 404


def test_detail_only_for_published_cases(
    client: TestClient, make_campaign: MakeCampaign, make_report: MakeReport, session: Session
) -> None:
    view = make_campaign()
    report = make_report(view, image=screenshot(1))
    set_case_status(session, report.case_id, CaseStatus.AWAITING_APPROVAL, label=Verdict.SALAH)
    assert client.get(f"/hoaxes/{report.case_id}").status_code == 404
    assert client.get(f"/hoaxes/{report.case_id}/image.jpg").status_code == 404
    assert client.get("/hoaxes/999999").status_code == 404


def test_detail_page(
    client: TestClient, make_campaign: MakeCampaign, make_report: MakeReport, publish: Publish
) -> None:
    view = make_campaign()
    report = make_report(view, image=screenshot(1))
    make_report(view, url="https://m.facebook.com/hoaks/posts/123")  # a second reporter
    publish(
        report.case_id,
        label=Verdict.DIMANIPULASI,
        title="Foto </script><script>alert(1)</script> palsu",
        explanation="Baris satu.\nBaris dua.",
    )
    response = client.get(f"/hoaxes/{report.case_id}")
    assert response.status_code == 200
    page = html(response)
    assert page.select_one(".verdict-label").get_text() == "DIMANIPULASI"
    heading = page.select_one("h1")
    # The label marks the claim, quoted under its name; the correction follows it.
    assert heading.select_one(".verdict-label").get_text() == "DIMANIPULASI"
    assert heading.select_one(".claim-tag").get_text() == "Claim:"
    assert heading.select_one("q.claim-text").get_text() == (
        "Foto </script><script>alert(1)</script> palsu"
    )
    fact = page.select_one("h1 + p.fact")
    assert fact.get_text(" ", strip=True) == (
        "Fact: Foto itu hasil rekayasa dari foto lama di luar negeri."
    )
    assert page.select_one(".explanation p br") is not None
    fact_check = page.select_one("a[href='https://cekfakta.example.id/kotak-suara']")
    assert fact_check["rel"] == ["noopener", "nofollow"]
    assert page.select_one(f"a[href='/c/{view.slug}']") is not None
    assert "2 people" in page.select_one("article").get_text()

    image = page.select_one("img.hoax-image")
    # In the page's language, English here: the picture's words are too.
    assert image["src"] == f"/hoaxes/{report.case_id}/image.jpg?lang=en"
    assert "DIMANIPULASI" in image["alt"]
    # Only the labelled copy is ever shown, never the upload itself.
    assert "/media/" not in response.text
    assert page.select_one("meta[property='og:image']")["content"] == (
        f"http://testserver/hoaxes/{report.case_id}/card.jpg?lang=en"
    )
    assert page.select_one("meta[property='og:url']")["content"] == (
        f"http://testserver/hoaxes/{report.case_id}"
    )
    # Nothing of the reporters.
    assert report.tracking_code not in response.text
    assert "TPS dipindah" not in response.text
    # Only the JSON-LD script, and it holds data: no other inline script.
    scripts = page.select("script:not([src])")
    assert [s.get("type") for s in scripts] == ["application/ld+json"]


def test_claim_review_json_ld(
    client: TestClient, make_campaign: MakeCampaign, make_report: MakeReport, publish: Publish
) -> None:
    view = make_campaign()
    report = make_report(view, url="https://www.facebook.com/hoaks/posts/9?fbclid=1")
    published_at = utcnow() - timedelta(days=2)
    publish(
        report.case_id,
        label=Verdict.SALAH,
        title="Judul </script><script>alert(1)</script> & <b>",
        published_at=published_at,
    )
    response = client.get(f"/hoaxes/{report.case_id}")
    page = html(response)
    raw = page.select_one("script[type='application/ld+json']").string
    assert "</script" not in raw and "<" not in raw
    data = json.loads(raw)
    assert data["@context"] == "https://schema.org"
    assert data["@type"] == "ClaimReview"
    assert data["url"] == f"http://testserver/hoaxes/{report.case_id}"
    assert data["claimReviewed"] == "Judul </script><script>alert(1)</script> & <b>"
    assert data["datePublished"] == published_at.date().isoformat()
    assert data["author"] == {
        "@type": "Organization",
        "name": "Suara Kita",
        "url": "http://testserver",
    }
    assert data["reviewRating"] == {
        "@type": "Rating",
        "ratingValue": 1,
        "bestRating": 5,
        "worstRating": 1,
        "alternateName": "SALAH",
        # What the label means, in the verdict's language (the campaign's), not the reader's.
        "name": "Tidak benar",
    }
    assert data["inLanguage"] == "id"
    item = data["itemReviewed"]
    assert item["@type"] == "Claim"
    assert item["appearance"] == [{"@type": "CreativeWork", "url": "https://facebook.com/9"}]
    assert item["firstAppearance"] == {"@type": "CreativeWork", "url": "https://facebook.com/9"}
    # When the claim appeared is unknown: the day it was first reported here is not it.
    assert "datePublished" not in item
    assert "author" not in item
    assert "dateModified" not in data  # never corrected
    assert "image" not in data  # no picture was reported


def test_satire_is_rated_in_the_middle(
    client: TestClient, make_campaign: MakeCampaign, make_report: MakeReport, publish: Publish
) -> None:
    view = make_campaign()
    report = make_report(view, url="https://chat.whatsapp.com/ABCDEFG")
    publish(report.case_id, label=Verdict.SATIRE)
    raw = html(client.get(f"/hoaxes/{report.case_id}")).select_one(
        "script[type='application/ld+json']"
    )
    data = json.loads(raw.string)
    assert data["reviewRating"]["ratingValue"] == 3
    assert data["reviewRating"]["alternateName"] == "SATIRE"
    # A private group's invitation link is never published.
    assert "appearance" not in data["itemReviewed"]
    assert "chat.whatsapp.com" not in client.get(f"/hoaxes/{report.case_id}").text


def test_labelled_image(
    client: TestClient, make_campaign: MakeCampaign, make_report: MakeReport, publish: Publish
) -> None:
    view = make_campaign()
    report = make_report(view, url="", image=screenshot(1))
    publish(report.case_id, label=Verdict.BUATAN_AI)
    response = client.get(f"/hoaxes/{report.case_id}/image.jpg")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/jpeg"
    assert response.headers["x-content-type-options"] == "nosniff"
    picture = Image.open(io.BytesIO(response.content))
    assert picture.format == "JPEG"
    # The stamped copy, not the stored upload.
    assert response.content != client.get(f"/media/{report.media_id}").content
    # Asked again, the same bytes (from the cache).
    assert client.get(f"/hoaxes/{report.case_id}/image.jpg").content == response.content


def test_a_verdict_without_a_picture_has_no_image(
    client: TestClient, make_campaign: MakeCampaign, make_report: MakeReport, publish: Publish
) -> None:
    view = make_campaign()
    report = make_report(view)
    publish(report.case_id)
    assert client.get(f"/hoaxes/{report.case_id}/image.jpg").status_code == 404
    page = html(client.get(f"/hoaxes/{report.case_id}"))
    assert page.select_one("img.hoax-image") is None
    # Its share card has words alone.
    assert page.select_one("meta[property='og:image']")["content"].startswith(
        f"http://testserver/hoaxes/{report.case_id}/card.jpg"
    )


def test_closed_campaigns_verdicts_stay_public(
    client: TestClient,
    make_campaign: MakeCampaign,
    make_report: MakeReport,
    publish: Publish,
    session: Session,
) -> None:
    view = make_campaign()
    report = make_report(view)
    publish(report.case_id)
    campaign = session.get(Campaign, view.id)
    assert campaign is not None
    campaigns.set_status(session, campaign=campaign, status=CampaignStatus.CLOSED)
    session.commit()
    assert client.get(f"/hoaxes/{report.case_id}").status_code == 200
    assert len(html(client.get("/hoaxes")).select("li.card")) == 1


def test_a_fact_check_link_that_is_not_a_web_link_is_not_shown(
    client: TestClient, make_campaign: MakeCampaign, make_report: MakeReport, publish: Publish
) -> None:
    view = make_campaign()
    report = make_report(view)
    publish(report.case_id, fact_check_url="javascript:alert(1)")
    page = html(client.get(f"/hoaxes/{report.case_id}"))
    assert page.select_one("a[href^='javascript']") is None
    assert "javascript:" not in str(page.select_one("main"))


@pytest.mark.parametrize(
    "path",
    [
        "/hoaxes/2147483648",
        "/hoaxes/2147483648/image.jpg",
        "/hoaxes/99999999999999999999",
        "/media/2147483648",
        "/media/99999999999999999999",
        "/hoaxes/0",
        "/media/-1",
    ],
)
def test_a_number_no_row_can_have_is_refused_before_the_database(
    client: TestClient, path: str
) -> None:
    """PostgreSQL refuses an integer beyond its column with an error: such a number must be
    answered as a bad address, never reach the query."""
    response = client.get(path)
    assert response.status_code == 422
    assert "422" in html(response).title.get_text()
