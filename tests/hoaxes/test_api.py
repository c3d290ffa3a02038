"""GET /api/v1/hoaxes: published verdicts as open data, by keyset pages."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from pledge.campaigns.models import CampaignView
from pledge.db import utcnow
from pledge.hoaxes.models import CaseStatus, Verdict
from tests.support.factories import VERDICT, MakeReport, Publish, published_cases, set_case_status
from tests.support.images import screenshot

MakeCampaign = Callable[..., CampaignView]

FIELDS = {
    "id",
    "title",
    "correction",
    "corrected_at",
    "card_url",
    "label",
    "explanation",
    "fact_check_url",
    "platform",
    "category",
    "campaign",
    "reports",
    "published_at",
    "url",
    "image_url",
}


def test_fields_of_a_verdict(
    client: TestClient,
    make_campaign: MakeCampaign,
    make_report: MakeReport,
    publish: Publish,
    session: Session,
) -> None:
    view = make_campaign()
    report = make_report(view, image=screenshot(1), contact="rina@example.com")
    make_report(view, url="https://facebook.com/hoaks/posts/123")
    publish(report.case_id, label=Verdict.PENIPUAN, title="Bansos palsu", explanation="Penipuan.")
    hidden = make_report(view, url="https://example.id/belum")
    set_case_status(session, hidden.case_id, CaseStatus.AWAITING_APPROVAL, public_title="Belum")

    response = client.get("/api/v1/hoaxes")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["next"] is None
    assert len(body["items"]) == 1
    item = body["items"][0]
    assert set(item) == FIELDS
    assert item["id"] == report.case_id
    assert item["title"] == "Bansos palsu"
    assert item["correction"] == VERDICT["correction"]
    assert item["corrected_at"] is None
    assert item["card_url"] == f"http://testserver/hoaxes/{report.case_id}/card.jpg"
    assert item["label"] == "PENIPUAN"
    assert item["explanation"] == "Penipuan."
    assert item["fact_check_url"] == "https://cekfakta.example.id/kotak-suara"
    assert item["platform"] == "facebook"
    assert item["category"] == "false_claim"
    assert item["campaign"] == view.slug
    assert item["reports"] == 2
    assert item["url"] == f"http://testserver/hoaxes/{report.case_id}"
    assert item["image_url"] == f"http://testserver/hoaxes/{report.case_id}/image.jpg"
    assert item["published_at"]
    # Nothing of the reporters.
    for secret in ("rina@example.com", report.tracking_code, "TPS dipindah", "Belum"):
        assert secret not in response.text


def test_no_picture_no_image_url(
    client: TestClient, make_campaign: MakeCampaign, make_report: MakeReport, publish: Publish
) -> None:
    view = make_campaign()
    publish(make_report(view).case_id)
    assert client.get("/api/v1/hoaxes").json()["items"][0]["image_url"] is None


def test_pages_by_cursor_have_no_gaps_and_no_repeats(
    client: TestClient,
    make_campaign: MakeCampaign,
    make_report: MakeReport,
    publish: Publish,
    session: Session,
) -> None:
    view = make_campaign()
    made = published_cases(session, make_report, publish, view, 7)
    # Two published in the same instant: the id breaks the tie.
    same = utcnow() - timedelta(hours=1)
    for n in range(2):
        made.append(
            publish(
                make_report(view, url=f"https://example.id/same/{n}").case_id, published_at=same
            )
        )
    expected = [
        case.id for case in sorted(made, key=lambda c: (c.published_at, c.id), reverse=True)
    ]

    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, str | int] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        body = client.get("/api/v1/hoaxes", params=params).json()
        pages += 1
        seen.extend(item["id"] for item in body["items"])
        cursor = body["next"]
        if cursor is None:
            break
        assert len(body["items"]) == 2
        assert pages < 20
    assert seen == expected
    assert pages == 5

    everything = client.get("/api/v1/hoaxes", params={"limit": 100}).json()
    assert [item["id"] for item in everything["items"]] == expected
    assert everything["next"] is None


def test_default_limit_is_twenty(
    client: TestClient,
    make_campaign: MakeCampaign,
    make_report: MakeReport,
    publish: Publish,
    session: Session,
) -> None:
    view = make_campaign()
    published_cases(session, make_report, publish, view, 21)
    body = client.get("/api/v1/hoaxes").json()
    assert len(body["items"]) == 20
    assert body["next"]
    rest = client.get("/api/v1/hoaxes", params={"cursor": body["next"]}).json()
    assert len(rest["items"]) == 1
    assert rest["next"] is None


@pytest.mark.parametrize(
    "query",
    [
        "cursor=nonsense!",
        "cursor=" + base64.urlsafe_b64encode(b"yesterday|1").decode(),
        "cursor=" + base64.urlsafe_b64encode(b"2026-01-01T00:00:00|1").decode(),
        "cursor=" + base64.urlsafe_b64encode(b"2026-01-01T00:00:00+00:00|x").decode(),
        "cursor=" + base64.urlsafe_b64encode(b"\xff\xfe").decode(),
        "limit=0",
        "limit=101",
        "limit=many",
    ],
)
def test_bad_cursor_or_limit(client: TestClient, query: str) -> None:
    response = client.get(f"/api/v1/hoaxes?{query}")
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "Invalid"
    assert body["detail"]
    assert response.headers["access-control-allow-origin"] == "*"


def test_cache_headers_cors_and_no_cookies(
    client: TestClient, make_campaign: MakeCampaign, make_report: MakeReport, publish: Publish
) -> None:
    view = make_campaign()
    publish(make_report(view).case_id)
    response = client.get("/api/v1/hoaxes", headers={"Origin": "https://partner.example"})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["cache-control"] == "public, max-age=30, stale-while-revalidate=60"
    assert "set-cookie" not in response.headers
    etag = response.headers["etag"]

    again = client.get("/api/v1/hoaxes", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    assert "set-cookie" not in again.headers

    publish(make_report(view, url="https://example.id/baru").case_id)
    changed = client.get("/api/v1/hoaxes", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag


def test_openapi_describes_the_endpoint(client: TestClient) -> None:
    spec = client.get("/api/openapi.json").json()
    operation = spec["paths"]["/api/v1/hoaxes"]["get"]
    assert {p["name"] for p in operation["parameters"]} == {"limit", "cursor"}
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema["$ref"].endswith("/HoaxPage")
    item = spec["components"]["schemas"]["HoaxItem"]
    assert set(item["properties"]) == FIELDS
    # Pages are not part of the API description.
    assert not any(
        path.startswith(("/hoaxes", "/reports", "/media", "/c/")) for path in spec["paths"]
    )
