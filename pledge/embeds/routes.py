"""The public JSON API, the widget, the badge and the share card: cacheable, validated by ETag."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from fastapi import Request, Response
from fastapi.responses import HTMLResponse
from pydantic import TypeAdapter
from starlette.concurrency import run_in_threadpool

from pledge.cache import Cache
from pledge.config import get_settings
from pledge.db import SessionDep
from pledge.embeds import service as embeds
from pledge.embeds.images import badge_svg, rounded_count, share_etag, share_png
from pledge.embeds.live import (
    EventStream,
    LiveCounts,
    busy_response,
    stream_client,
    too_many_response,
    watched,
)
from pledge.embeds.models import CampaignCounts
from pledge.i18n import get_locale, ngettext, number
from pledge.web import (
    CACHE_CONTROL,
    OPEN_HEADERS,
    absolute_url,
    cached_json,
    etag_response,
    public_base_url,
    render,
    weak_etag,
)

SHARE_CACHE_CONTROL = "public, max-age=300"


_campaign_list = TypeAdapter(list[CampaignCounts])


class Rendered:
    """Bodies already built for a campaign view and its counts, kept while both are current.

    A process holds one view and one counts object per campaign until either changes, so
    those objects (with the language, the partner, the address...) name a body exactly. Many
    pages show the same counter: it is drawn once per change instead of once per request.
    """

    def __init__(self, size: int = 512) -> None:
        self._bodies: Cache[tuple[Any, ...], tuple[tuple[object, ...], bytes, str]] = Cache(
            "embeds.rendered", size=size
        )

    def get(
        self, sources: tuple[object, ...], extra: tuple[Any, ...], make: Callable[[], bytes]
    ) -> tuple[bytes, str]:
        key = (*map(id, sources), *extra)
        found = self._bodies.get(key)
        # Holding the sources keeps their ids from being reused while the entry lives.
        if found is not None and all(a is b for a, b in zip(found[0], sources, strict=True)):
            return found[1], found[2]
        body = make()
        etag = weak_etag(body)
        self._bodies.put(key, (sources, body, etag))
        return body, etag


_rendered = Rendered()


def embeds_api_campaigns(request: Request, session: SessionDep) -> Response:
    campaigns = embeds.list_campaigns(session, base_url=public_base_url(request))
    return cached_json(request, _campaign_list.dump_json(campaigns))


async def embeds_api_campaign(request: Request) -> Response:
    """``GET /api/v1/campaigns/{slug}`` (a lean route, see ``pledge.urls``)."""
    view, counts = await embeds.view_and_counts_soon(
        request.app.state.engine, slug=request.path_params["slug"]
    )
    base_url = public_base_url(request)
    body, etag = _rendered.get(
        (view, counts),
        ("json", base_url),
        lambda: (
            embeds.counts_of(view, counts, f"{base_url}/c/{view.slug}").model_dump_json().encode()
        ),
    )
    return etag_response(
        request, body, etag=etag, media_type="application/json", headers=OPEN_HEADERS
    )


# --- the widget, the badge and the share card ----------------------------------------------


async def embeds_badge(request: Request) -> Response:
    """``GET /embed/{slug}.svg?partner=`` (a lean route, see ``pledge.urls``)."""
    slug, partner = request.path_params["slug"], request.query_params.get("partner")
    view, counts = await embeds.view_and_counts_soon(request.app.state.engine, slug=slug)
    counter = embeds.counter_of(view, counts, partner=partner)

    def draw() -> bytes:
        label = ngettext("supporter", "supporters", counter.count)
        value = number(counter.count)
        name = f"{counter.title} ({counter.partner.name})" if counter.partner else counter.title
        return badge_svg(label=label, value=value, title=f"{name}: {value} {label}").encode()

    svg, etag = _rendered.get((view, counts), ("svg", partner, get_locale()), draw)
    return etag_response(
        request,
        svg,
        etag=etag,
        media_type="image/svg+xml; charset=utf-8",
        headers=OPEN_HEADERS,
    )


async def embeds_widget(request: Request) -> HTMLResponse:
    """``GET /embed/{slug}?partner=&ref=&theme=`` (a lean route, see ``pledge.urls``)."""
    slug, query = request.path_params["slug"], request.query_params
    partner, theme = query.get("partner"), query.get("theme", "light")
    view, counts = await embeds.view_and_counts_soon(request.app.state.engine, slug=slug)
    counter = embeds.counter_of(view, counts, partner=partner)
    referrer = embeds.referrer_of(counter, ref=query.get("ref"))
    theme = theme if theme in embeds.THEMES else "light"

    def draw() -> bytes:
        link = absolute_url(request, "campaigns_show", slug=counter.view.slug)
        if referrer is not None:
            link += "?" + urlencode({"ref": referrer.referral_code})
        context = {"counter": counter, "link": link, "theme": theme}
        return bytes(render(request, "embeds/widget.html", context).body)

    # The widget is the same for every visitor (no cookie, no form): drawn once per change,
    # its link too. The key holds what the page is drawn from: the site's address (the
    # request's own where none is configured), whose count, who is credited, the colours and
    # the language.
    credited = referrer.referral_code if referrer is not None else None
    key = ("widget", public_base_url(request), partner, credited, theme, get_locale())
    page, _etag = _rendered.get((view, counts), key, draw)
    return HTMLResponse(page, headers={"Cache-Control": CACHE_CONTROL})


def embeds_share_image(request: Request, session: SessionDep, slug: str) -> Response:
    counter = embeds.get_counter(session, slug=slug)
    shown, at_least = rounded_count(counter.count)
    headline = f"{number(shown)}{'+' if at_least else ''} " + ngettext(
        "supporter", "supporters", shown
    )
    site_name = get_settings().site_name
    key = (counter.view.id, counter.title, headline, site_name)
    png = share_png(title=counter.title, headline=headline, site_name=site_name)
    return etag_response(
        request,
        png,
        etag=share_etag(*key),
        media_type="image/png",
        headers={"Cache-Control": SHARE_CACHE_CONTROL},
    )


async def embeds_events(request: Request, slug: str) -> Response:
    """Server-Sent Events: the campaign's counts now, then a ``count`` event at each change."""
    live: LiveCounts = request.app.state.live
    view, counts = await run_in_threadpool(watched, request.app.state.engine, slug)
    if live.over_share(stream_client(request.scope)):
        return too_many_response()
    if live.full:
        return busy_response()
    return EventStream(live, view, counts)


def _schema_name(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if schema.get("type") == "array":
        return f"array of {_schema_name(schema.get('items', {}))}"
    if "anyOf" in schema:
        return " or ".join(_schema_name(option) for option in schema["anyOf"])
    kind = str(schema.get("type", "object"))
    return f"{kind} ({schema['format']})" if "format" in schema else kind


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
