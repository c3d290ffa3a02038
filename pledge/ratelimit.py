"""Rate limits (slowapi), counted in memory or, with several processes, in Redis."""

from __future__ import annotations

from limits import parse
from slowapi import Limiter
from starlette.requests import Request

from pledge.config import get_settings


def client_address(request: Request) -> str:
    # Behind a proxy, uvicorn's --proxy-headers has already put the client's address here.
    return request.client.host if request.client else "unknown"


def sign_limit() -> str:
    return get_settings().ratelimit_sign


def _make_limiter() -> Limiter:
    settings = get_settings()
    return Limiter(
        key_func=client_address,
        storage_uri=settings.ratelimit_storage,
        enabled=settings.ratelimit_enabled,
        headers_enabled=False,
        strategy="moving-window",
    )


limiter = _make_limiter()


def login_limit() -> str:
    return get_settings().ratelimit_login


def hit(limit: str, *identifiers: str) -> bool:
    """Count one attempt against a limit keyed by anything (an email, say); False when over."""
    if not limiter.enabled:
        return True
    return limiter.limiter.hit(parse(limit), *identifiers)
