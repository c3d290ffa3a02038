"""The per-process caches: bounds, ages, the older equal object kept, and one registry."""

from __future__ import annotations

import threading
import time

import pytest

from pledge import cache


@pytest.fixture
def make_cache():
    made: list[str] = []

    def make(name: str, **kwargs: object) -> cache.Cache:
        made.append(name)
        return cache.Cache(f"test-{name}-{time.monotonic_ns()}", **kwargs)  # type: ignore[arg-type]

    return make


def test_the_least_recently_used_entry_goes_first(make_cache) -> None:
    kept = make_cache("lru", size=2)
    kept.put("a", 1)
    kept.put("b", 2)
    assert kept.get("a") == 1  # a is now the most recent
    kept.put("c", 3)
    assert kept.get("b") is None
    assert kept.get("a") == 1
    assert kept.get("c") == 3
    assert len(kept) == 2


def test_an_entry_older_than_the_reader_accepts_is_not_given(make_cache, monkeypatch) -> None:
    now = [1000.0]
    monkeypatch.setattr(cache.time, "monotonic", lambda: now[0])
    kept = make_cache("age")
    kept.put("k", "v")
    now[0] += 5
    assert kept.get("k", max_age=10) == "v"
    assert kept.get("k", max_age=5) is None
    assert kept.get("k") == "v"  # no limit given


def test_an_equal_value_keeps_the_older_object_and_renews_its_age(make_cache, monkeypatch) -> None:
    now = [0.0]
    monkeypatch.setattr(cache.time, "monotonic", lambda: now[0])
    kept = make_cache("same")
    first = [1, 2]
    assert kept.put("k", first, same=lambda a, b: a == b) is first
    now[0] = 50.0
    second = [1, 2]
    assert kept.put("k", second, same=lambda a, b: a == b) is first
    assert kept.get("k", max_age=1) is first
    third = [3]
    assert kept.put("k", third, same=lambda a, b: a == b) is third


def test_names_are_unique_and_clear_all_empties_every_cache(make_cache) -> None:
    one = make_cache("one")
    two = make_cache("two", size=None)
    one.put(1, "x")
    two.put(2, "y")
    with pytest.raises(ValueError, match="already a cache"):
        cache.Cache(one.name)
    assert cache.registered()[one.name] is one
    cache.clear_all()
    assert len(one) == 0
    assert len(two) == 0


def test_a_cache_needs_room_for_one_entry() -> None:
    with pytest.raises(ValueError, match="at least one"):
        cache.Cache("test-empty", size=0)


def test_concurrent_writers_keep_the_bound(make_cache) -> None:
    kept = make_cache("threads", size=50)

    def write(offset: int) -> None:
        for i in range(2000):
            kept.put((offset, i), i)
            kept.get((offset, i - 1))

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(kept) == 50
