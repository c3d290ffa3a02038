"""Rate limits (slowapi), counted in memory or, with several processes, in Redis.

With Redis (``PLEDGE_RATELIMIT_STORAGE=redis://...``) every process and host counts against
the same limits. When Redis cannot be reached the site keeps serving: each process counts in
its own memory, logs a warning, and goes back to Redis once it answers again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from limits import parse
from limits.storage import Storage
from limits.strategies import MovingWindowRateLimiter
from slowapi import Limiter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from pledge.config import get_settings
from pledge.errors import TooManyRequests
from pledge.i18n import gettext as _
from pledge.networks import limit_key
from pledge.ratecounts import SCHEME, LocalCounts

log = logging.getLogger(__name__)

# How long a process counts in memory before it tries Redis again.
RETRY_SHARED_AFTER = 10.0
# A Redis that does not answer within this is treated as down: requests must not hang on it.
REDIS_TIMEOUT = 0.5


def client_address(request: Request) -> str:
    # Behind a proxy, uvicorn's --proxy-headers has already put the client's address here.
    return request.client.host if request.client else "unknown"


def client_key(request: Request) -> str:
    """The client every per-address limit counts: its IPv4 address, or its IPv6 /64."""
    return limit_key(client_address(request))


def sign_limit() -> str:
    return get_settings().ratelimit_sign


def sign_hard_limit() -> str:
    return get_settings().sign_hard_limit


def _make_limiter() -> Limiter:
    settings = get_settings()
    shared = not settings.ratelimit_storage.startswith("memory://")
    # Passed on to redis-py, which wants numbers (slowapi's annotation says strings).
    options: Any = {"socket_timeout": REDIS_TIMEOUT, "socket_connect_timeout": REDIS_TIMEOUT}
    return Limiter(
        key_func=client_key,
        # In memory: this process's own counts (pledge.ratecounts), not limits' own storage.
        storage_uri=settings.ratelimit_storage if shared else f"{SCHEME}://",
        storage_options=options if shared else {},
        enabled=settings.ratelimit_enabled,
        headers_enabled=False,
        strategy="moving-window",
        # slowapi counts the routes' limits in memory while the shared storage is down,
        # logs a warning, and checks the storage again every few requests.
        in_memory_fallback_enabled=shared,
    )


limiter = _make_limiter()


def login_limit() -> str:
    return get_settings().ratelimit_login


class _LocalFallback:
    """Per-process counting for hit() while the shared storage is down."""

    def __init__(self) -> None:
        self.limiter = MovingWindowRateLimiter(LocalCounts())
        self.down_since: float | None = None
        self.lock = threading.Lock()

    def shared_is_down(self) -> bool:
        return self.down_since is not None and (
            time.monotonic() - self.down_since < RETRY_SHARED_AFTER
        )

    def mark_down(self, error: Exception) -> None:
        with self.lock:
            if self.down_since is None:
                log.warning(
                    "rate-limit storage unreachable, counting in this process only: %s", error
                )
            self.down_since = time.monotonic()

    def mark_up(self) -> None:
        if self.down_since is not None:
            with self.lock:
                self.down_since = None
            log.warning("rate-limit storage reachable again, counting there")


_fallback = _LocalFallback()


def hit(limit: str, *identifiers: str) -> bool:
    """Count one attempt against a limit keyed by anything (an email, say); False when over."""
    if not limiter.enabled:
        return True
    item = parse(limit)
    if _fallback.shared_is_down():
        return _fallback.limiter.hit(item, *identifiers)
    try:
        allowed = limiter.limiter.hit(item, *identifiers)
    except Exception as error:  # any storage failure: the limit is kept locally instead
        _fallback.mark_down(error)
        return _fallback.limiter.hit(item, *identifiers)
    _fallback.mark_up()
    return allowed


def within(limit: str, *identifiers: str) -> bool:
    """Whether a limit keyed by these identifiers has room left, without counting an attempt
    (count the failures alone with hit())."""
    if not limiter.enabled:
        return True
    item = parse(limit)
    if _fallback.shared_is_down():
        return _fallback.limiter.test(item, *identifiers)
    try:
        room = limiter.limiter.test(item, *identifiers)
    except Exception as error:  # any storage failure: the limit is kept locally instead
        _fallback.mark_down(error)
        return _fallback.limiter.test(item, *identifiers)
    _fallback.mark_up()
    return room


_T = TypeVar("_T")


def _on_storage(action: Callable[[Storage], _T]) -> _T:
    """Run an action on the shared storage, or on this process's while that is down."""
    if _fallback.shared_is_down():
        return action(_fallback.limiter.storage)
    try:
        result = action(limiter.limiter.storage)
    except Exception as error:  # any storage failure: kept locally instead
        _fallback.mark_down(error)
        return action(_fallback.limiter.storage)
    _fallback.mark_up()
    return result


def _fact_key(scope: str, identifiers: tuple[str, ...]) -> str:
    return "/".join(("pledge-fact", scope, *identifiers))


def remember(scope: str, *identifiers: str, seconds: int) -> None:
    """Keep a fact (a network someone signed in from, say) for ``seconds`` from now, beside
    the counts: shared by every process when they count in Redis, like the limits it
    loosens."""
    key = _fact_key(scope, identifiers)

    def store(storage: Storage) -> None:
        storage.clear(key)  # a fact remembered again is kept from now on
        storage.incr(key, seconds)

    _on_storage(store)


def forget(scope: str, *identifiers: str) -> None:
    key = _fact_key(scope, identifiers)
    _on_storage(lambda storage: storage.clear(key))


def remembered(scope: str, *identifiers: str) -> bool:
    """Whether remember() kept this fact and it has not expired."""
    key = _fact_key(scope, identifiers)
    return _on_storage(lambda storage: storage.get(key)) > 0


async def limit_request(request: Request, limit: str, scope: str) -> None:
    """Count one request against a per-address limit of a route on the event loop; raise
    TooManyRequests when it is over. A shared storage is a network round trip (and, when it
    is down, a timeout): that count is made in the thread pool, so the loop never waits."""
    if not limiter.enabled:
        return
    address = client_key(request)
    if get_settings().ratelimit_storage.startswith("memory://"):
        allowed = hit(limit, address, scope)
    else:
        allowed = await run_in_threadpool(hit, limit, address, scope)
    if not allowed:
        raise TooManyRequests(_("Too many requests. Please wait a moment and try again."))


def _soft_and_hard(soft: str, hard: str, address: str, scope: str) -> bool | None:
    """Count one attempt against both limits: None when over the hard one (then the soft
    one is not counted), else whether it is over the soft one."""
    if not hit(hard, address, scope + ":hard"):
        return None
    return not hit(soft, address, scope)


async def over_soft_limit(request: Request, soft: str, hard: str, scope: str) -> bool:
    """Count one request against a per-address soft limit and a higher hard one: raise
    TooManyRequests over the hard limit, which protects the server; tell the caller whether
    it is over the soft one, which decides what the request is taken as, never whether it
    is taken (many real people may share one carrier address)."""
    if not limiter.enabled:
        return False
    address = client_key(request)
    if get_settings().ratelimit_storage.startswith("memory://"):
        over = _soft_and_hard(soft, hard, address, scope)
    else:
        over = await run_in_threadpool(_soft_and_hard, soft, hard, address, scope)
    if over is None:
        raise TooManyRequests(_("Too many requests. Please wait a moment and try again."))
    return over


def reset() -> None:
    """Forget every count (tests, and an operator clearing a lock-out)."""
    limiter.reset()
    _fallback.limiter = MovingWindowRateLimiter(LocalCounts())
    _fallback.down_since = None
