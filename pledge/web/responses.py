"""Answers validated by ETag: a 304 for a client that already holds the body."""

from __future__ import annotations

import hashlib

from fastapi import Request, Response

CACHE_CONTROL = "public, max-age=5, stale-while-revalidate=30"
# The public API's answers: cached briefly by anyone, readable by every website.
OPEN_HEADERS = {
    "Cache-Control": CACHE_CONTROL,
    "Access-Control-Allow-Origin": "*",
    "Vary": "Accept-Encoding",
}


def weak_etag(body: bytes) -> str:
    """A weak ETag: the same body may travel gzipped or not."""
    return 'W/"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


def etag_response(
    request: Request,
    body: bytes,
    *,
    etag: str,
    media_type: str,
    headers: dict[str, str],
) -> Response:
    """The body with its ETag; a matching If-None-Match (weak or strong) gets an empty 304."""
    headers = {"ETag": etag, **headers}
    candidates = {
        tag.strip().removeprefix("W/")
        for tag in request.headers.get("if-none-match", "").split(",")
    }
    if etag.removeprefix("W/") in candidates or "*" in candidates:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media_type, headers=headers)


def cached_json(request: Request, body: bytes) -> Response:
    """The JSON body with a weak ETag, open to every origin."""
    return etag_response(
        request, body, etag=weak_etag(body), media_type="application/json", headers=OPEN_HEADERS
    )
