"""Addresses carrying a NUL or another control character, in the path or in a query value:
refused with 400 before any route runs (PostgreSQL refuses NUL in text), with the site's error
page in the reader's language, or the JSON error under /api/ and /webhooks/."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from pledge.campaigns.models import CampaignView
from tests.support.pages import html
from tests.support.people import Person, login

MakeCampaign = Callable[..., CampaignView]

REFUSED_ID = (
    "Alamat ini memuat karakter yang tidak pernah ada di alamat situs ini. Periksa link-nya "
    "lalu coba lagi."
)
REFUSED_EN = (
    "This address contains characters that no address of this site has. Check the link and "
    "try again."
)
# What an attacker sends: NUL, line breaks, DEL and a C1 control (NEL, as UTF-8).
CONTROLS = ("%00", "%0a", "%0D", "%09", "%1b", "%7f", "%C2%85")


def detail_of(response: object) -> str:
    found = html(response).select_one("section.error-page p.detail")
    assert found is not None, getattr(response, "text", "")[:500]
    return found.get_text(" ", strip=True)


def assert_refused_page(response: object, message: str = REFUSED_ID) -> None:
    assert getattr(response, "status_code", None) == 400
    assert detail_of(response) == message
    # The page, its language links included, never carries the characters themselves.
    text: str = getattr(response, "text", "")
    assert not any(chr(c) in text for c in (*range(0x09), *range(0x0B, 0x20), 0x7F, 0x85))


@pytest.fixture
def live(make_campaign: MakeCampaign) -> CampaignView:
    return make_campaign(status="live")


def test_a_supporter_page_with_a_nul_in_its_token_is_refused(
    client: TestClient, live: CampaignView
) -> None:
    assert_refused_page(client.get(f"/c/{live.slug}/thanks/%00abcdef"))
    assert_refused_page(client.get(f"/c/{live.slug}/withdraw/abcdef%00"))


@pytest.mark.parametrize("control", CONTROLS)
def test_every_control_character_in_a_path_is_refused(
    client: TestClient, live: CampaignView, control: str
) -> None:
    assert_refused_page(client.get(f"/c/{live.slug}/thanks/abc{control}def"))
    assert_refused_page(client.get(f"/c/{live.slug}{control}"))


def test_a_search_with_a_nul_is_refused_for_a_site_admin(
    client: TestClient, site_admin: Person
) -> None:
    login(client, site_admin.email)

    assert_refused_page(client.get("/admin/users?q=%00"))
    assert_refused_page(client.get("/admin/users?q=budi%1b[2Jroot"))
    assert_refused_page(client.get("/admin/users?q=budi%C2%85"))
    assert_refused_page(client.get("/admin/users?%00=budi"))
    assert client.get("/admin/users?q=budi").status_code == 200
    # A link pasted from a message may carry a tab or a line break: its page still answers.
    assert client.get("/admin/users?q=budi%0D%0A%09").status_code == 200


def test_a_dashboard_address_with_a_nul_is_refused(client: TestClient, org_admin: Person) -> None:
    assert org_admin.org is not None
    login(client, org_admin.email)

    assert_refused_page(client.get("/dashboard/%00"))
    assert_refused_page(client.get(f"/dashboard/{org_admin.org.slug}%00/members"))


def test_the_refusal_speaks_english_when_asked(client: TestClient, live: CampaignView) -> None:
    response = client.get(f"/c/{live.slug}/thanks/%00?lang=en")

    assert_refused_page(response, REFUSED_EN)
    assert html(response).select_one("html")["lang"] == "en"  # type: ignore[index]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/campaigns/{slug}%00",
        "/api/v1/campaigns/{slug}?lang=%00",
        "/api/v1/campaigns?cursor=%00",
        "/api/v1/hoaxes?cursor=abc%7f",
        "/webhooks/whatsapp?hub.challenge=%00",
    ],
)
def test_the_api_and_webhooks_refuse_it_in_json(
    client: TestClient, live: CampaignView, path: str
) -> None:
    response = client.get(path.format(slug=live.slug))

    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {"error": "BadRequest", "detail": REFUSED_ID}


def test_a_live_count_stream_with_a_nul_is_refused(client: TestClient, live: CampaignView) -> None:
    assert_refused_page(client.get(f"/c/{live.slug}%00/events"))


def test_the_api_description_documents_the_refusal(client: TestClient) -> None:
    described = client.get("/api/openapi.json").json()["paths"]

    operations = [operation for path in described.values() for operation in path.values()]
    assert len(operations) >= 3
    assert all("400" in operation["responses"] for operation in operations)


def test_addresses_without_control_characters_still_answer(
    client: TestClient, live: CampaignView
) -> None:
    # Letters beyond ASCII, spaces and an escaped percent sign are not control characters.
    assert client.get(f"/c/{live.slug}?ref=Bal%C3%AD+%F0%9F%92%9A%25").status_code == 200
    assert client.get(f"/api/v1/campaigns/{live.slug}").status_code == 200
    assert client.get(f"/c/{live.slug}/thanks/abcdef").status_code == 404
