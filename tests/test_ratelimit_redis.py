"""The limits counted for every signature, in Redis, from the event loop itself: one count
shared by every process, no thread taken for it, and the process's own count while Redis is
down."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from starlette.requests import Request

from pledge import ratelimit
from pledge.errors import TooManyRequests
from tests.support.aio import run_async
from tests.support.redisserver import RedisServer, running_redis


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    with running_redis() as server:
        yield server


@pytest.fixture
def in_redis(redis_server: RedisServer, use_settings: Any) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_server.url)
    client.flushall()
    use_settings(ratelimit_storage=redis_server.url, ratelimit_enabled="true")
    yield client
    client.close()


def no_thread_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    async def refused(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a count in Redis went to the thread pool")

    monkeypatch.setattr(ratelimit, "run_in_threadpool", refused)


def test_a_count_in_redis_is_made_on_the_loop_and_shared_by_its_key(
    in_redis: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    no_thread_pool(monkeypatch)
    threads = set(threading.enumerate())

    async def three() -> list[bool]:
        return [await ratelimit.hit_on_loop("2/minute", "203.0.113.7", "sign") for _ in range(3)]

    assert run_async(three) == [True, True, False]
    assert set(threading.enumerate()) <= threads
    [key] = [k.decode() for k in in_redis.keys("LIMITS*")]
    assert "203.0.113.7" in key and "sign" in key
    # The count the synchronous storage of another process (slowapi's) reads: one key, full.
    elsewhere = MovingWindowRateLimiter(storage_from_string(in_redis_url(in_redis)))
    assert elsewhere.hit(parse("2/minute"), "203.0.113.7", "sign") is False
    assert elsewhere.hit(parse("2/minute"), "198.51.100.1", "sign") is True


def in_redis_url(client: redis.Redis) -> str:
    kwargs = client.connection_pool.connection_kwargs
    return f"redis://{kwargs['host']}:{kwargs['port']}/0"


def test_while_redis_is_down_the_process_counts_on_its_own_and_goes_back(
    redis_server: RedisServer, in_redis: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    no_thread_pool(monkeypatch)
    monkeypatch.setattr(ratelimit, "RETRY_SHARED_AFTER", 0.0)  # try Redis again at once
    redis_server.stop()
    try:
        # Refused by the process's own count, not let through.
        counts = run_async(lambda: _hits("1/minute", "192.0.2.9", "sign", times=2))
    finally:
        redis_server.start()
    assert counts == [True, False]
    assert in_redis.keys("LIMITS*") == []
    assert run_async(lambda: _hits("1/minute", "192.0.2.10", "sign", times=2)) == [True, False]
    assert any(b"192.0.2.10" in key for key in in_redis.keys("LIMITS*"))


async def _hits(limit: str, address: str, scope: str, *, times: int) -> list[bool]:
    return [await ratelimit.hit_on_loop(limit, address, scope) for _ in range(times)]


def _request(address: str) -> Request:
    return Request({"type": "http", "client": (address, 40000), "headers": []})


def _evals(client: redis.Redis) -> int:
    stats = client.info("commandstats")
    return sum(
        int(stats.get(f"cmdstat_{name}", {}).get("calls", 0)) for name in ("evalsha", "eval")
    )


def _signing_answers(address: str, soft: str, hard: str, times: int) -> list[bool | str]:
    """over_soft_limit's answers to requests from one address, in turn: whether each is over
    the soft limit, or "429" where it was refused over the hard one."""

    async def answers() -> list[bool | str]:
        told: list[bool | str] = []
        for _ in range(times):
            try:
                told.append(await ratelimit.over_soft_limit(_request(address), soft, hard, "sign"))
            except TooManyRequests:
                told.append("429")
        return told

    return run_async(answers)


def test_a_soft_and_a_hard_limit_are_counted_in_one_round_trip_on_limits_own_keys(
    in_redis: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    no_thread_pool(monkeypatch)
    address = "203.0.113.20"
    _signing_answers(address, "2/minute", "3/minute", 1)  # the script is loaded once per server
    in_redis.flushall()
    before = _evals(in_redis)
    # Within both, within both, over the soft one (taken, held apart), over the hard one.
    assert _signing_answers(address, "2/minute", "3/minute", 4) == [False, False, True, "429"]
    assert _evals(in_redis) - before == 4
    # The counts are limits' own: its synchronous limiter (another process's) reads them full,
    # and the soft count stopped at its limit (the request over the hard one counted nothing).
    elsewhere = MovingWindowRateLimiter(storage_from_string(in_redis_url(in_redis)))
    assert elsewhere.test(parse("3/minute"), address, "sign:hard") is False
    assert elsewhere.test(parse("2/minute"), address, "sign") is False
    assert elsewhere.test(parse("4/minute"), address, "sign:hard") is True
    assert elsewhere.test(parse("3/minute"), address, "sign") is True
    assert [len(in_redis.lrange(key, 0, -1)) for key in sorted(in_redis.keys("LIMITS*"))] == [
        2,
        3,
    ]
    # Another address has its own counts.
    assert _signing_answers("198.51.100.3", "2/minute", "3/minute", 1) == [False]


def test_requests_that_arrive_together_are_counted_in_one_round_trip_each_in_turn(
    in_redis: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    no_thread_pool(monkeypatch)
    _signing_answers("203.0.113.40", "2/minute", "3/minute", 1)  # the script is loaded
    in_redis.flushall()
    crowd = ["203.0.113.41"] * 5 + ["198.51.100.42"] * 2

    async def at_once() -> list[bool | str]:
        async def one(address: str) -> bool | str:
            try:
                return await ratelimit.over_soft_limit(
                    _request(address), "2/minute", "3/minute", "s"
                )
            except TooManyRequests:
                return "429"

        return list(await asyncio.gather(*(one(address) for address in crowd)))

    before = _evals(in_redis)
    # In the order they came: within, within, over the soft limit, then refused over the hard.
    assert run_async(at_once) == [False, False, True, "429", "429", False, False]
    assert _evals(in_redis) - before == 1
    elsewhere = MovingWindowRateLimiter(storage_from_string(in_redis_url(in_redis)))
    assert elsewhere.test(parse("3/minute"), "203.0.113.41", "s:hard") is False
    assert elsewhere.test(parse("3/minute"), "198.51.100.42", "s:hard") is True


def test_while_redis_is_down_both_limits_are_counted_in_the_process(
    redis_server: RedisServer, in_redis: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    no_thread_pool(monkeypatch)
    monkeypatch.setattr(ratelimit, "RETRY_SHARED_AFTER", 0.0)
    redis_server.stop()
    try:
        assert _signing_answers("192.0.2.30", "1/minute", "2/minute", 3) == [False, True, "429"]
    finally:
        redis_server.start()
    assert in_redis.keys("LIMITS*") == []
    # Back in Redis as soon as it answers.
    assert _signing_answers("192.0.2.31", "1/minute", "2/minute", 3) == [False, True, "429"]
    assert len(in_redis.keys("LIMITS*")) == 2
