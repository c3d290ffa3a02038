"""The public JSON API partner sites read counts from, and the health endpoints."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from bs4 import BeautifulSoup
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from pledge.campaigns import service as campaigns
from pledge.campaigns.models import CampaignStatus, CampaignView
from pledge.supporters import service as supporters

MakeCampaign = Callable[..., CampaignView]
Sign = Callable[..., Any]

CONTRACT = {"slug", "title", "supporters", "goal", "pledges", "partners", "updated_at"}
PLEDGE_FIELDS = {"slug", "text", "supporters"}
PARTNER_FIELDS = {"slug", "name", "supporters"}


def get_json(client: TestClient, path: str, status: int = 200) -> Any:
    response = client.get(path)
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"].startswith("application/json")
    return response.json()


def assert_contract(body: dict[str, Any]) -> None:
    assert set(body) >= CONTRACT
    assert isinstance(body["supporters"], int)
    assert isinstance(body["goal"], int)
    for pledge in body["pledges"]:
        assert set(pledge) >= PLEDGE_FIELDS
        assert isinstance(pledge["supporters"], int)
    for partner in body["partners"]:
        assert set(partner) >= PARTNER_FIELDS
        assert isinstance(partner["supporters"], int)
    updated = datetime.fromisoformat(body["updated_at"].replace("Z", "+00:00"))
    assert updated.tzinfo is not None


@pytest.fixture
def signed(make_campaign: MakeCampaign, sign: Sign) -> CampaignView:
    """A campaign with three supporters, one of them referred by a partner."""
    view = make_campaign(title="Tolak Politik Uang", goal=500, partners=2)
    partner = next(p for p in view.partners if not p.is_lead)
    sign(view, contact="a@example.com", pledges=("tolak-politik-uang", "lawan-hoaks"))
    sign(view, contact="b@example.com", pledges=("tolak-politik-uang",))
    sign(
        view,
        contact="0812 3456 7890",
        pledges=("gunakan-hak-pilih", "lawan-hoaks"),
        ref=partner.referral_code,
    )
    # The same person again in another format: still three supporters.
    sign(view, contact="+62 812-3456-7890", pledges=("gunakan-hak-pilih",))
    return view


# --- /api/v1/campaigns/{slug} -----------------------------------------------------------


def test_one_campaign_has_every_contract_field_with_correct_numbers(
    client: TestClient, signed: CampaignView
) -> None:
    body = get_json(client, f"/api/v1/campaigns/{signed.slug}")

    assert_contract(body)
    assert body["slug"] == signed.slug
    assert body["title"] == "Tolak Politik Uang"
    assert body["supporters"] == 3
    assert body["goal"] == 500
    assert body["pledges"] == [
        {"slug": "tolak-politik-uang", "text": "Janji tolak-politik-uang", "supporters": 2},
        {"slug": "gunakan-hak-pilih", "text": "Janji gunakan-hak-pilih", "supporters": 1},
        {"slug": "lawan-hoaks", "text": "Janji lawan-hoaks", "supporters": 2},
    ]
    referrer = next(p for p in signed.partners if not p.is_lead)
    partners = {p["slug"]: (p["name"], p["supporters"]) for p in body["partners"]}
    assert partners == {
        p.slug: (p.name, 1 if p.slug == referrer.slug else 0) for p in signed.partners
    }
    assert len(body["partners"]) == 3  # the lead organisation is a partner too


def test_a_new_signature_shows_at_once(
    client: TestClient, signed: CampaignView, sign: Sign
) -> None:
    assert get_json(client, f"/api/v1/campaigns/{signed.slug}")["supporters"] == 3

    sign(signed, contact="d@example.com", pledges=("gunakan-hak-pilih",))

    body = get_json(client, f"/api/v1/campaigns/{signed.slug}")
    assert body["supporters"] == 4
    assert {p["slug"]: p["supporters"] for p in body["pledges"]}["gunakan-hak-pilih"] == 2


def test_a_campaign_without_signatures_counts_zero(
    client: TestClient, make_campaign: MakeCampaign
) -> None:
    view = make_campaign()

    body = get_json(client, f"/api/v1/campaigns/{view.slug}")

    assert_contract(body)
    assert body["supporters"] == 0
    assert all(p["supporters"] == 0 for p in body["pledges"] + body["partners"])


def test_a_closed_campaign_is_still_readable(
    client: TestClient, signed: CampaignView, session: Session
) -> None:
    campaigns.set_status(session, campaign=signed.campaign, status=CampaignStatus.CLOSED)
    session.commit()

    body = get_json(client, f"/api/v1/campaigns/{signed.slug}")

    assert body["supporters"] == 3


@pytest.mark.parametrize("kind", ["draft", "unknown"])
def test_a_draft_or_unknown_campaign_is_a_json_404(
    client: TestClient, make_campaign: MakeCampaign, kind: str
) -> None:
    slug = make_campaign(status="draft").slug if kind == "draft" else "tidak-ada"

    response = client.get(f"/api/v1/campaigns/{slug}")

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error", "detail"}
    assert body["error"] == "NotFound"
    assert isinstance(body["detail"], str) and body["detail"]
    assert response.headers["access-control-allow-origin"] == "*"
    assert "set-cookie" not in response.headers


def test_an_unknown_api_path_is_a_json_404(client: TestClient) -> None:
    response = client.get("/api/v1/nothing-here")

    assert response.status_code == 404
    assert response.json()["error"] == "NotFound"


# --- /api/v1/campaigns -----------------------------------------------------------------


def test_the_list_has_live_and_closed_campaigns_but_no_drafts(
    client: TestClient,
    signed: CampaignView,
    make_campaign: MakeCampaign,
    sign: Sign,
    session: Session,
) -> None:
    closed = make_campaign(goal=20)
    sign(closed, contact="closed@example.com")
    campaigns.set_status(session, campaign=closed.campaign, status=CampaignStatus.CLOSED)
    session.commit()
    draft = make_campaign(status="draft")

    body = get_json(client, "/api/v1/campaigns")

    assert isinstance(body, list)
    by_slug = {item["slug"]: item for item in body}
    assert set(by_slug) == {signed.slug, closed.slug}
    assert draft.slug not in by_slug
    for item in body:
        assert_contract(item)
    assert by_slug[signed.slug]["supporters"] == 3
    assert {p["slug"]: p["supporters"] for p in by_slug[signed.slug]["pledges"]} == {
        "tolak-politik-uang": 2,
        "gunakan-hak-pilih": 1,
        "lawan-hoaks": 2,
    }
    assert (by_slug[closed.slug]["supporters"], by_slug[closed.slug]["goal"]) == (1, 20)


def test_the_list_is_empty_without_public_campaigns(
    client: TestClient, make_campaign: MakeCampaign
) -> None:
    make_campaign(status="draft")

    assert get_json(client, "/api/v1/campaigns") == []


# --- caching ---------------------------------------------------------------------------

PATHS = ["/api/v1/campaigns", "/api/v1/campaigns/{slug}"]


@pytest.mark.parametrize("path", PATHS)
def test_etag_answers_304_with_an_empty_body(
    client: TestClient, signed: CampaignView, path: str
) -> None:
    url = path.format(slug=signed.slug)
    first = client.get(url)
    etag = first.headers["etag"]
    assert re.fullmatch(r'(W/)?"[^"]+"', etag)

    again = client.get(url, headers={"If-None-Match": etag})

    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    assert client.get(url, headers={"If-None-Match": '"something-else"'}).status_code == 200


@pytest.mark.parametrize("path", PATHS)
def test_etag_changes_after_a_new_signature(
    client: TestClient, signed: CampaignView, sign: Sign, path: str
) -> None:
    url = path.format(slug=signed.slug)
    etag = client.get(url).headers["etag"]

    sign(signed, contact="new@example.com")

    response = client.get(url, headers={"If-None-Match": etag})
    assert response.status_code == 200
    assert response.headers["etag"] != etag
    body = response.json()
    total = body["supporters"] if isinstance(body, dict) else body[0]["supporters"]
    assert total == 4


def without_read_time(body: Any) -> Any:
    if isinstance(body, list):
        return [without_read_time(item) for item in body]
    return {key: value for key, value in body.items() if key != "updated_at"}


@pytest.mark.parametrize("path", PATHS)
def test_etag_stays_the_same_while_the_counts_do_not_change(
    client: TestClient, signed: CampaignView, path: str
) -> None:
    """A partner revalidating after the per-process count cache expired must get a 304.

    The cache keeps counts for about a second; clearing it stands for that second passing.
    """
    url = path.format(slug=signed.slug)
    first = client.get(url)
    etag = first.headers["etag"]

    supporters.invalidate_counts()
    second = client.get(url)
    supporters.invalidate_counts()
    revalidated = client.get(url, headers={"If-None-Match": etag})

    assert without_read_time(second.json()) == without_read_time(first.json())
    assert second.headers["etag"] == etag
    assert revalidated.status_code == 304


@pytest.mark.parametrize("path", PATHS)
def test_api_responses_are_cacheable_open_to_every_origin_and_set_no_cookie(
    client: TestClient, signed: CampaignView, path: str
) -> None:
    # A visitor who has a session and chose a language still gets no cookie from the API.
    client.get(f"/c/{signed.slug}?lang=en")
    assert client.cookies.get("pledge_session")

    response = client.get(path.format(slug=signed.slug) + "?lang=en")

    assert response.status_code == 200
    cache = response.headers["cache-control"]
    max_age = re.search(r"(?:^|[,\s])max-age=(\d+)", cache)
    swr = re.search(r"stale-while-revalidate=(\d+)", cache)
    assert max_age is not None and 0 < int(max_age[1]) <= 60
    assert swr is not None and int(swr[1]) > 0
    assert "private" not in cache and "no-store" not in cache
    assert response.headers["access-control-allow-origin"] == "*"
    assert "set-cookie" not in response.headers


def test_a_cors_preflight_free_get_from_a_partner_site_is_allowed(
    client: TestClient, signed: CampaignView
) -> None:
    response = client.get(
        f"/api/v1/campaigns/{signed.slug}", headers={"Origin": "https://mitra.example"}
    )

    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.json()["supporters"] == 3


# --- OpenAPI and health ------------------------------------------------------------------


def test_openapi_describes_both_paths_and_the_contract_fields(client: TestClient) -> None:
    response = client.get("/api/openapi.json")

    assert response.status_code == 200
    assert "set-cookie" not in response.headers
    spec = response.json()
    for path in ("/api/v1/campaigns", "/api/v1/campaigns/{slug}"):
        assert "get" in spec["paths"][path], path
    schemas = spec["components"]["schemas"]
    assert set(schemas["CampaignCounts"]["properties"]) >= CONTRACT
    assert set(schemas["PledgeCount"]["properties"]) >= PLEDGE_FIELDS
    assert set(schemas["PartnerCount"]["properties"]) >= PARTNER_FIELDS
    one = spec["paths"]["/api/v1/campaigns/{slug}"]["get"]
    assert "404" in one["responses"]


def test_the_api_docs_page_works_under_the_site_csp(client: TestClient) -> None:
    """The docs page must not need inline script or another host, which the CSP blocks."""
    response = client.get("/api/docs")

    assert response.status_code == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]
    soup = BeautifulSoup(response.text, "html.parser")
    assert soup.select("script:not([src])") == []
    loaded = [str(t.get("src") or t.get("href")) for t in soup.select("script[src], link[href]")]
    assert [ref for ref in loaded if urlsplit(ref).netloc not in ("", "testserver")] == []


def test_healthz_answers_json(client: TestClient) -> None:
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "set-cookie" not in response.headers


def test_readyz_answers_json_when_the_database_is_reachable(client: TestClient) -> None:
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": True}
    assert "set-cookie" not in response.headers


def test_readyz_answers_503_when_the_database_is_unreachable(
    app: FastAPI, client: TestClient, tmp_path: Any
) -> None:
    broken = sa.create_engine(f"sqlite:///{tmp_path / 'missing-dir' / 'nothing.db'}")
    app.state.engine = broken
    try:
        response = client.get("/readyz")
    finally:
        broken.dispose()

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": False}
