"""The ClaimReview of a verdict's page, checked against the properties Google's fact-check
documentation requires and recommends, and the links it publishes: every public place the
claim appeared, without what tracks who shared it, never a private group's invitation."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from pledge.campaigns.models import CampaignView
from pledge.hoaxes.models import CaseStatus, Verdict
from pledge.hoaxes.service import public_url
from tests.support.factories import MakeReport, Publish, set_case_status
from tests.support.images import screenshot
from tests.support.pages import html

MakeCampaign = Callable[..., CampaignView]

# Google Search Central, "Fact check (ClaimReview) structured data":
# https://developers.google.com/search/docs/appearance/structured-data/factcheck
# Each type's REQUIRED and RECOMMENDED properties, as the page lists them.
REQUIRED = {
    "ClaimReview": {"claimReviewed", "reviewRating", "url"},
    "Rating": {"alternateName"},
}
RECOMMENDED = {
    "ClaimReview": {"author", "datePublished", "itemReviewed"},
    "Claim": {"appearance", "author", "datePublished", "firstAppearance"},
    "Rating": {"bestRating", "name", "ratingValue", "worstRating"},
    # The author of the review and of the claim: Organization or Person, with a name.
    "Organization": {"name"},
}
# Parameters that say who shared a link, and where from: none may be published.
TRACKING = ("_r", "_t", "__cft__", "__tn__", "fbclid", "utm_", "igsh", "si=")


def review_of(client: TestClient, case_id: int) -> dict[str, Any]:
    page = html(client.get(f"/hoaxes/{case_id}"))
    found = page.select_one("script[type='application/ld+json']")
    assert found is not None
    data: dict[str, Any] = json.loads(found.string or "{}")
    return data


def missing(node: dict[str, Any], wanted: dict[str, set[str]]) -> set[str]:
    return {name for name in wanted.get(node.get("@type", ""), set()) if name not in node}


def test_a_verdict_with_everything_known_has_every_documented_property(
    client: TestClient,
    make_campaign: MakeCampaign,
    make_report: MakeReport,
    publish: Publish,
    session: Session,
) -> None:
    view = make_campaign()
    first = make_report(
        view,
        url="https://www.tiktok.com/@kabar/video/7301234567890123456?_r=1&_t=ZS-8xyz&is_from_webapp=1",
    )
    # Other places, reported later, whose cases were merged into this one.
    for n, link in enumerate(
        (
            "https://example.com/berita/c6?utm_source=wa&__tn__=%2CO&_r=2&_t=9&fbclid=abc&id=7",
            "https://chat.whatsapp.com/ABCDEFGHIJK",
        )
    ):
        other = make_report(view, url=link, description=f"Laporan lain {n}")
        if other.case_id != first.case_id:
            set_case_status(
                session, other.case_id, CaseStatus.DUPLICATE, merged_into_id=first.case_id
            )
    publish(
        first.case_id,
        label=Verdict.SALAH,
        title="Pemilih tanpa undangan C6 tidak bisa mencoblos",
        correction="Pemilih tanpa undangan C6 tetap bisa mencoblos dengan e-KTP.",
        claim_author="Akun TikTok @kabar",
        claim_date=date(2024, 1, 5),
    )
    data = review_of(client, first.case_id)

    assert data["@context"] == "https://schema.org" and data["@type"] == "ClaimReview"
    # The claim reviewed is the claim, never the correction.
    assert data["claimReviewed"] == "Pemilih tanpa undangan C6 tidak bisa mencoblos"
    assert "e-KTP" not in json.dumps(data)
    for node, wanted in (
        (data, REQUIRED),
        (data["reviewRating"], REQUIRED),
        (data, RECOMMENDED),
        (data["reviewRating"], RECOMMENDED),
        (data["itemReviewed"], RECOMMENDED),
        (data["author"], RECOMMENDED),
        (data["itemReviewed"]["author"], RECOMMENDED),
    ):
        assert missing(node, wanted) == set(), node
    item = data["itemReviewed"]
    assert item["@type"] == "Claim"
    assert item["author"] == {"@type": "Organization", "name": "Akun TikTok @kabar"}
    assert item["datePublished"] == "2024-01-05"  # when the claim appeared, not when reported
    assert data["inLanguage"] == "id"
    assert data["reviewRating"]["name"] == "Tidak benar"
    assert data["reviewRating"]["alternateName"] == "SALAH"


def test_appearances_are_every_public_link_once_without_tracking(
    client: TestClient,
    make_campaign: MakeCampaign,
    make_report: MakeReport,
    publish: Publish,
    session: Session,
) -> None:
    view = make_campaign()
    first = make_report(view, url="https://vt.tiktok.com/ZSabc123/?_r=1&_t=8kL&share_app_id=1233")
    links = [
        "https://www.facebook.com/share/p/1AbCdEf/?__cft__[0]=AZX&__tn__=%2CO%2CP-R&mibextid=x",
        "https://example.com/berita/c6?utm_source=wa&__tn__=x&_r=2&_t=9&fbclid=abc&id=7",
        # The same post as the first, shared again: listed once.
        "https://vt.tiktok.com/ZSabc123/?_r=9&_t=other",
        # A private group's invitation: never published.
        "https://chat.whatsapp.com/ABCDEFGHIJK",
    ]
    for n, link in enumerate(links):
        report = make_report(view, url=link, description=f"Laporan {n}")
        if report.case_id != first.case_id:
            set_case_status(
                session, report.case_id, CaseStatus.DUPLICATE, merged_into_id=first.case_id
            )
    publish(first.case_id)
    item = review_of(client, first.case_id)["itemReviewed"]
    urls = [entry["url"] for entry in item["appearance"]]
    assert urls == [
        "https://vt.tiktok.com/ZSabc123",
        "https://facebook.com/share/p/1AbCdEf",
        "https://example.com/berita/c6?id=7",
    ]
    assert all(entry["@type"] == "CreativeWork" for entry in item["appearance"])
    assert item["firstAppearance"] == {"@type": "CreativeWork", "url": urls[0]}
    published = json.dumps(item)
    for token in TRACKING:
        assert token not in published, token
    assert "whatsapp" not in published


@pytest.mark.parametrize(
    ("raw", "published"),
    [
        (
            "https://example.com/a?_r=1&_t=2&__tn__=x&fbclid=1&utm_source=x&id=5",
            "https://example.com/a?id=5",
        ),
        ("https://example.com/a?__cft__[0]=AZ&x=1", "https://example.com/a?x=1"),
        ("https://www.tiktok.com/@a/video/123?_r=1&_t=ZS", "https://tiktok.com/@/video/123"),
        (
            "https://example.com/artikel?page=2&utm_medium=social",
            "https://example.com/artikel?page=2",
        ),
    ],
)
def test_a_published_link_drops_every_tracking_token(raw: str, published: str) -> None:
    assert public_url(raw) == published


def test_what_is_unknown_is_left_out(
    client: TestClient, make_campaign: MakeCampaign, make_report: MakeReport, publish: Publish
) -> None:
    view = make_campaign()
    report = make_report(view, url="", image=screenshot(1))
    publish(report.case_id, label=Verdict.KONTEKS_KELIRU)
    data = review_of(client, report.case_id)
    assert data["itemReviewed"] == {"@type": "Claim"}
    assert data["reviewRating"]["ratingValue"] == 2
    assert missing(data, REQUIRED) == set()
