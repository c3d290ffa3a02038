"""The busiest routes answered before the routers (lean routes), and forms read with the
standard library's parser: the same answers as every other route gives."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.datastructures import Headers
from starlette.formparsers import FormParser
from starlette.requests import Request

from pledge.campaigns.models import CampaignView
from pledge.web import FORM_FIELDS_MAX, LeanRoute, read_form
from tests.support.aio import run_async
from tests.support.forms import form_data
from tests.support.pages import csrf_token, html

MakeCampaign = Callable[..., CampaignView]

LEAN = {
    ("GET", "/api/v1/campaigns/{slug}"),
    ("GET", "/embed/{slug}.svg"),
    ("GET", "/embed/{slug}"),
    ("GET", "/c/{slug}"),
    ("POST", "/c/{slug}/sign"),
    ("POST", "/c/{slug}/confirm/{secret}"),
    ("GET", "/hoaxes"),
    ("GET", "/hoaxes/{case_id}"),
    ("GET", "/c/{slug}/game/play"),
    ("POST", "/c/{slug}/game/play"),
    ("GET", "/c/{slug}/game/result"),
}


def test_the_busiest_routes_come_right_after_the_health_checks(app: FastAPI) -> None:
    paths = [getattr(route, "path", None) for route in app.routes]
    lean = [r for r in app.routes if isinstance(r, LeanRoute)]

    assert {(m, r.path) for r in lean for m in r.methods or () if m != "HEAD"} == LEAN
    after = paths.index("/metrics") + 1
    assert paths.index("/healthz") < paths.index("/readyz") < after
    assert all(isinstance(r, LeanRoute) for r in app.routes[after : after + len(lean)])


def test_links_to_lean_routes_come_from_the_same_route_index(
    client: TestClient, make_campaign: MakeCampaign
) -> None:
    view = make_campaign()
    page = html(client.get(f"/c/{view.slug}"))

    form = page.select_one("form[method=post]")
    assert form is not None and str(form["action"]).split("#")[0] == f"/c/{view.slug}/sign"


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/c/{slug}", 200),
        ("HEAD", "/c/{slug}", 200),
        ("HEAD", "/embed/{slug}.svg", 200),
        ("DELETE", "/c/{slug}", 405),
        ("PUT", "/embed/{slug}", 405),
        ("GET", "/c/{slug}/sign", 405),
        # The emailed link's page is an ordinary route beside the lean one that takes its button.
        ("GET", "/c/{slug}/confirm/no-such-link-0123456789", 404),
        ("PUT", "/c/{slug}/confirm/no-such-link-0123456789", 405),
        ("GET", "/c/no-such-campaign", 404),
        ("GET", "/embed/no-such-campaign.svg", 404),
        ("GET", "/api/v1/campaigns/no-such-campaign", 404),
    ],
)
def test_lean_routes_answer_methods_and_unknown_campaigns_as_every_route_does(
    client: TestClient, make_campaign: MakeCampaign, method: str, path: str, status: int
) -> None:
    view = make_campaign()
    response = client.request(method, path.format(slug=view.slug))

    assert response.status_code == status
    assert response.headers["x-content-type-options"] == "nosniff"
    if status == 404 and path.startswith("/api/"):
        assert response.json()["error"] == "NotFound"
    elif status in (404, 405):
        assert html(response).select_one("section.error-page h1") is not None


def test_an_unknown_campaign_in_the_api_is_the_documented_json_error(
    client: TestClient,
) -> None:
    response = client.get("/api/v1/campaigns/tidak-ada")

    assert response.status_code == 404
    assert response.headers["access-control-allow-origin"] == "*"
    assert set(response.json()) == {"error", "detail"}


def test_the_api_description_still_documents_the_campaign_route(client: TestClient) -> None:
    spec = client.get("/api/openapi.json").json()
    operation = spec["paths"]["/api/v1/campaigns/{slug}"]["get"]

    assert set(operation["responses"]) >= {"200", "404", "422"}


def test_the_campaign_api_is_one_route_that_serves_and_is_described(
    app: FastAPI, client: TestClient
) -> None:
    routes = [
        found
        for route in app.routes
        for found in (
            route.effective_route_contexts()
            if hasattr(route, "effective_route_contexts")
            else (route,)
        )
        if getattr(found, "path", None) == "/api/v1/campaigns/{slug}"
    ]
    operation = client.get("/api/openapi.json").json()["paths"]["/api/v1/campaigns/{slug}"]["get"]

    assert len(routes) == 1 and isinstance(routes[0], LeanRoute)
    assert operation["operationId"] == "embeds_api_campaign_api_v1_campaigns__slug__get"
    assert operation["parameters"] == [
        {
            "name": "slug",
            "in": "path",
            "required": True,
            "schema": {"type": "string", "title": "Slug"},
        }
    ]
    assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/CampaignCounts"
    }


# --- reading forms -------------------------------------------------------------------


def request_with(body: bytes, content_type: str = "application/x-www-form-urlencoded") -> Request:
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/",
        "headers": [(b"content-type", content_type.encode())],
        "app": object(),
    }
    return Request(scope, receive)


async def starlette_fields(body: bytes) -> list[tuple[str, Any]]:
    async def stream() -> Any:
        yield body

    headers = Headers({"content-type": "application/x-www-form-urlencoded"})
    return list((await FormParser(headers, stream()).parse()).multi_items())


@pytest.mark.parametrize(
    "body",
    [
        b"name=Rina+Putri&contact=rina%40example.com",
        b"name=Siti%20Nur%C3%A4ini&pledges=a&pledges=b&pledges=a",
        b"website=&name=&=value&flag",
        b"a=1&&b=2&",
        b"name=%E2%9C%93%F0%9F%98%80&broken=%ZZ%&half=%E2%9C",
        "name=Dewi caf\xe9".encode("latin-1"),
        b"a=%2B%26%3D&b=x;y=z",
        b"",
    ],
)
def test_a_urlencoded_form_reads_as_starlettes_parser_reads_it(body: bytes) -> None:
    async def both() -> tuple[list[tuple[str, Any]], list[tuple[str, Any]]]:
        ours = await read_form(request_with(body))
        return list(ours.multi_items()), await starlette_fields(body)

    ours, theirs = run_async(both)
    assert ours == theirs


def test_a_form_with_a_charset_in_its_type_is_read_the_same() -> None:
    body = b"name=" + quote("Ayu Lestari").encode()
    form = run_async(
        lambda: read_form(request_with(body, "application/x-www-form-urlencoded; charset=UTF-8"))
    )

    assert form["name"] == "Ayu Lestari"


def test_too_many_fields_in_a_sign_up_get_a_400_page_and_store_nothing(
    client: TestClient, make_campaign: MakeCampaign
) -> None:
    view = make_campaign()
    token = csrf_token(client, f"/c/{view.slug}")
    fields = {
        **form_data(),
        "csrf_token": token,
        "pledges": ["tolak-politik-uang"] * FORM_FIELDS_MAX,
    }

    response = client.post(f"/c/{view.slug}/sign", data=fields)

    assert response.status_code == 400
    assert html(response).select_one("section.error-page h1") is not None
    assert client.get(f"/api/v1/campaigns/{view.slug}").json()["supporters"] == 0
