"""The public JSON API: open to every origin, cacheable, validated by ETag."""

from __future__ import annotations

import hashlib

from fastapi import APIRouter, Request, Response
from pydantic import TypeAdapter

from pledge.db import SessionDep
from pledge.embeds import service as embeds
from pledge.embeds.models import ApiError, CampaignCounts
from pledge.web import public_base_url

router = APIRouter(prefix="/api/v1", tags=["campaigns"])

CACHE_CONTROL = "public, max-age=5, stale-while-revalidate=30"


_campaign_list = TypeAdapter(list[CampaignCounts])


def cached_json(request: Request, body: bytes) -> Response:
    """The JSON body with a strong ETag; a matching If-None-Match gets an empty 304."""
    etag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
    headers = {
        "ETag": etag,
        "Cache-Control": CACHE_CONTROL,
        "Access-Control-Allow-Origin": "*",
        "Vary": "Accept-Encoding",
    }
    candidates = {tag.strip() for tag in request.headers.get("if-none-match", "").split(",")}
    if etag in candidates or f"W/{etag}" in candidates:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


@router.get(
    "/campaigns",
    response_model=list[CampaignCounts],
    summary="Live and closed campaigns with their counts",
)
def embeds_api_campaigns(request: Request, session: SessionDep) -> Response:
    campaigns = embeds.list_campaigns(session, base_url=public_base_url(request))
    return cached_json(request, _campaign_list.dump_json(campaigns))


@router.get(
    "/campaigns/{slug}",
    response_model=CampaignCounts,
    responses={404: {"model": ApiError, "description": "No public campaign has this slug"}},
    summary="One campaign's supporters in total, per pledge and per partner",
)
def embeds_api_campaign(request: Request, session: SessionDep, slug: str) -> Response:
    campaign = embeds.get_campaign(session, slug=slug, base_url=public_base_url(request))
    return cached_json(request, campaign.model_dump_json().encode())
