"""The public JSON API: open to every origin, cacheable, validated by ETag."""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import TypeAdapter

from pledge.db import SessionDep
from pledge.embeds import service as embeds
from pledge.embeds.models import ApiError, CampaignCounts
from pledge.web import public_base_url, render

router = APIRouter(tags=["campaigns"])

CACHE_CONTROL = "public, max-age=5, stale-while-revalidate=30"


_campaign_list = TypeAdapter(list[CampaignCounts])


def cached_json(request: Request, body: bytes) -> Response:
    """The JSON body with a strong ETag; a matching If-None-Match gets an empty 304."""
    # Weak: the same JSON may travel gzipped or not.
    etag = 'W/"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
    headers = {
        "ETag": etag,
        "Cache-Control": CACHE_CONTROL,
        "Access-Control-Allow-Origin": "*",
        "Vary": "Accept-Encoding",
    }
    candidates = {
        tag.strip().removeprefix("W/")
        for tag in request.headers.get("if-none-match", "").split(",")
    }
    if etag.removeprefix("W/") in candidates or "*" in candidates:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


@router.get(
    "/api/v1/campaigns",
    response_model=list[CampaignCounts],
    summary="Live and closed campaigns with their counts",
)
def embeds_api_campaigns(request: Request, session: SessionDep) -> Response:
    campaigns = embeds.list_campaigns(session, base_url=public_base_url(request))
    return cached_json(request, _campaign_list.dump_json(campaigns))


@router.get(
    "/api/v1/campaigns/{slug}",
    response_model=CampaignCounts,
    responses={404: {"model": ApiError, "description": "No public campaign has this slug"}},
    summary="One campaign's supporters in total, per pledge and per partner",
)
def embeds_api_campaign(request: Request, session: SessionDep, slug: str) -> Response:
    campaign = embeds.get_campaign(session, slug=slug, base_url=public_base_url(request))
    return cached_json(request, campaign.model_dump_json().encode())


def _schema_name(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if schema.get("type") == "array":
        return f"array of {_schema_name(schema.get('items', {}))}"
    if "anyOf" in schema:
        return " or ".join(_schema_name(option) for option in schema["anyOf"])
    kind = str(schema.get("type", "object"))
    return f"{kind} ({schema['format']})" if "format" in schema else kind


@router.get("/api/docs", response_class=HTMLResponse, include_in_schema=False)
def embeds_api_docs(request: Request) -> HTMLResponse:
    """The API reference, rendered from the OpenAPI description without any script."""
    spec = request.app.openapi()
    operations = [
        {
            "method": method.upper(),
            "path": path,
            "summary": operation.get("summary", ""),
            "parameters": [
                {
                    "name": p["name"],
                    "in": p["in"],
                    "required": p.get("required", False),
                    "type": _schema_name(p.get("schema", {})),
                }
                for p in operation.get("parameters", [])
            ],
            "responses": [
                {
                    "status": status,
                    "description": response.get("description", ""),
                    "schema": _schema_name(
                        response.get("content", {}).get("application/json", {}).get("schema", {})
                    )
                    if response.get("content")
                    else "",
                }
                for status, response in operation.get("responses", {}).items()
            ],
        }
        for path, methods in spec.get("paths", {}).items()
        for method, operation in methods.items()
    ]
    schemas = [
        {
            "name": name,
            "fields": [
                {
                    "name": field,
                    "type": _schema_name(prop),
                    "required": field in schema.get("required", []),
                }
                for field, prop in schema.get("properties", {}).items()
            ],
        }
        for name, schema in spec.get("components", {}).get("schemas", {}).items()
        if name in {"CampaignCounts", "PledgeCount", "PartnerCount", "ApiError"}
    ]
    return render(
        request,
        "embeds/api_docs.html",
        {"spec": spec, "operations": operations, "schemas": schemas},
    )
