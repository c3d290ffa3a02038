"""Rate limits (slowapi), counted in memory or, with several processes, in Redis.

With Redis (``PLEDGE_RATELIMIT_STORAGE=redis://...``) every process and host counts against
the same limits. When Redis cannot be reached the site keeps serving: each process counts in
its own memory, logs a warning, and goes back to Redis once it answers again.

The limits counted for every signature (and the WhatsApp webhook's) are counted in Redis from
the event loop itself, with redis-py's asyncio client: a thread for each count cost more than
the count, and under load the threads fought the loop for the interpreter.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from limits import RateLimitItem, parse
from limits.aio.storage import MovingWindowSupport as AsyncMovingWindowSupport
from limits.aio.strategies import MovingWindowRateLimiter as AsyncMovingWindowRateLimiter
from limits.storage import Storage, storage_from_string
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


# A limit's string parsed once: limits parses it anew on each call (two regular expressions),
# and signing counts two limits on every signature.
limit_item = functools.lru_cache(maxsize=256)(parse)


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
    item = limit_item(limit)
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
    item = limit_item(limit)
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


# Storages redis-py's asyncio client can count in, by the scheme of the setting.
ASYNC_SCHEMES = frozenset({"redis", "rediss", "redis+unix"})
# The prefix limits' Redis storage puts before every key (``RedisStorage.PREFIX``).
REDIS_PREFIX = "LIMITS"
# Soft and hard moving-window limits counted as limits' own script counts one (same keys, same
# entries), for each request of a batch in turn: the hard limit first, and the soft one only
# when the hard one had room. KEYS holds each request's hard and soft keys, ARGV the time and
# then four numbers a request (hard amount, hard expiry, soft amount, soft expiry). Answers, one
# a request: 0 over the hard limit; 1 over the soft one; 2 within both.
_SOFT_AND_HARD = """
local now = tonumber(ARGV[1])
local function acquire(key, limit, expiry)
  local entry = redis.call('lindex', key, limit - 1)
  if entry and tonumber(entry) >= now - expiry then
    return false
  end
  redis.call('lpush', key, now)
  redis.call('ltrim', key, 0, limit - 1)
  redis.call('expire', key, expiry)
  return true
end
local answers = {}
for i = 1, #KEYS / 2 do
  local at = 2 + (i - 1) * 4
  if not acquire(KEYS[2 * i - 1], tonumber(ARGV[at]), tonumber(ARGV[at + 1])) then
    answers[i] = 0
  elseif not acquire(KEYS[2 * i], tonumber(ARGV[at + 2]), tonumber(ARGV[at + 3])) then
    answers[i] = 1
  else
    answers[i] = 2
  end
end
return answers
"""
# The most requests one script call counts.
MAX_COUNTED_TOGETHER = 128


class _Together:
    """Requests' soft and hard counts sent to Redis together, in one script call: the first
    goes at once, and those that arrive while it is on its way go in the next one, as the
    group commit does with writes. Under load one round trip counts a dozen signings, and the
    client's work per request (a command packed, a reply parsed) is shared. A failed call
    fails each of its requests, which then count in the process (``_soft_and_hard``)."""

    def __init__(self, script: Any) -> None:
        self.script = script
        self._waiting: list[tuple[list[str], list[float], asyncio.Future[int]]] = []
        self._sending: asyncio.Task[None] | None = None

    async def count(self, keys: list[str], args: list[float]) -> int:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[int] = loop.create_future()
        self._waiting.append((keys, args, future))
        if self._sending is None:
            # A context of its own: the call outlives the request that started it.
            self._sending = loop.create_task(self._send(), context=contextvars.Context())
        return await future

    async def _send(self) -> None:
        batch: list[tuple[list[str], list[float], asyncio.Future[int]]] = []
        try:
            while self._waiting:
                batch = self._waiting[:MAX_COUNTED_TOGETHER]
                del self._waiting[:MAX_COUNTED_TOGETHER]
                keys = [key for item_keys, _args, _future in batch for key in item_keys]
                args = [time.time(), *(arg for _keys, item_args, _f in batch for arg in item_args)]
                try:
                    answers = await self.script(keys=keys, args=args)
                except Exception as error:
                    for _keys, _args, future in batch:
                        if not future.done():
                            future.set_exception(error)
                    continue
                for (_keys, _args, future), answer in zip(batch, answers, strict=True):
                    if not future.done():  # its request was cancelled; it is counted
                        future.set_result(int(answer))
                batch = []
        except BaseException:
            for _keys, _args, future in [*batch, *self._waiting]:
                future.cancel()
            self._waiting = []
            raise
        finally:
            self._sending = None


class _OnLoop:
    """The shared storage's limiter for one event loop (its connections belong to that loop),
    and the script that counts requests' soft and hard limits at once."""

    def __init__(self, loop: asyncio.AbstractEventLoop, storage: str) -> None:
        self.loop = loop
        options: Any = {"socket_timeout": REDIS_TIMEOUT, "socket_connect_timeout": REDIS_TIMEOUT}
        shared = storage_from_string("async+" + storage, implementation="redispy", **options)
        assert isinstance(shared, AsyncMovingWindowSupport)
        self.limiter = AsyncMovingWindowRateLimiter(shared)
        import redis.asyncio  # only where the limits are counted in Redis

        # limits' own scheme for a socket (redis+unix) is redis-py's unix.
        client = redis.asyncio.Redis.from_url(
            storage.replace("redis+unix://", "unix://"), **options
        )
        self.soft_and_hard = _Together(client.register_script(_SOFT_AND_HARD))


_on_loop: _OnLoop | None = None


def _shared_on_loop() -> _OnLoop | None:
    """The shared storage's counting for the running event loop, or None when the storage
    has no asyncio client (memory, memcached...)."""
    global _on_loop
    storage = get_settings().ratelimit_storage
    if storage.split("://", 1)[0] not in ASYNC_SCHEMES:
        return None
    loop = asyncio.get_running_loop()
    if _on_loop is None or _on_loop.loop is not loop:
        _on_loop = _OnLoop(loop, storage)
    return _on_loop


async def hit_on_loop(limit: str, *identifiers: str) -> bool:
    """hit(), for a request on the event loop: counted in this process's memory, in Redis
    without leaving the loop, or in another shared storage from the thread pool."""
    if not limiter.enabled:
        return True
    shared = None if _fallback.shared_is_down() else _shared_on_loop()
    if shared is None:
        if get_settings().ratelimit_storage.startswith("memory://") or _fallback.shared_is_down():
            return hit(limit, *identifiers)
        return await run_in_threadpool(hit, limit, *identifiers)
    item = limit_item(limit)
    try:
        allowed = await shared.limiter.hit(item, *identifiers)
    except Exception as error:  # any storage failure: the limit is kept locally instead
        _fallback.mark_down(error)
        return _fallback.limiter.hit(item, *identifiers)
    _fallback.mark_up()
    return allowed


async def limit_request(request: Request, limit: str, scope: str) -> None:
    """Count one request against a per-address limit of a route; raise TooManyRequests when
    it is over. The event loop never waits for the shared storage (see hit_on_loop)."""
    if not limiter.enabled:
        return
    if not await hit_on_loop(limit, client_key(request), scope):
        raise TooManyRequests(_("Too many requests. Please wait a moment and try again."))


async def over_soft_limit(request: Request, soft: str, hard: str, scope: str) -> bool:
    """Count one request against a per-address soft limit and a higher hard one: raise
    TooManyRequests over the hard limit, which protects the server; tell the caller whether
    it is over the soft one, which decides what the request is taken as, never whether it
    is taken (many real people may share one carrier address). Over the hard limit the soft
    one is not counted. In Redis both are counted in one round trip, shared with the requests
    that arrive while another is on its way (``_Together``)."""
    if not limiter.enabled:
        return False
    address = client_key(request)
    shared = None if _fallback.shared_is_down() else _shared_on_loop()
    if shared is None:
        within_hard = await hit_on_loop(hard, address, scope + ":hard")
        within_soft = within_hard and await hit_on_loop(soft, address, scope)
    else:
        within_hard, within_soft = await _soft_and_hard(
            shared, limit_item(soft), limit_item(hard), address, scope
        )
    if not within_hard:
        raise TooManyRequests(_("Too many requests. Please wait a moment and try again."))
    return not within_soft


async def _soft_and_hard(
    shared: _OnLoop, soft: RateLimitItem, hard: RateLimitItem, address: str, scope: str
) -> tuple[bool, bool]:
    """Whether a request is within the hard limit, and within the soft one, counted in Redis
    at once; in this process's memory while Redis is down."""
    hard_key = hard.key_for(address, scope + ":hard")
    soft_key = soft.key_for(address, scope)
    try:
        counted = await shared.soft_and_hard.count(
            [f"{REDIS_PREFIX}:{hard_key}", f"{REDIS_PREFIX}:{soft_key}"],
            [hard.amount, hard.get_expiry(), soft.amount, soft.get_expiry()],
        )
    except Exception as error:  # any storage failure: the limits are kept locally instead
        _fallback.mark_down(error)
        local = _fallback.limiter
        within_hard = local.hit(hard, address, scope + ":hard")
        return within_hard, within_hard and local.hit(soft, address, scope)
    _fallback.mark_up()
    return counted > 0, counted > 1


def reset() -> None:
    """Forget every count (tests, and an operator clearing a lock-out)."""
    limiter.reset()
    _fallback.limiter = MovingWindowRateLimiter(LocalCounts())
    _fallback.down_since = None
