"""The rate limits' counts in this process's memory (pledge.ratecounts): the moving window as
limits counts it, expired keys forgotten a few at a time on each hit and live ones never, no
thread, counters for remembered facts, and the site's limits counted there by default.

Time is a fake clock the tests move: nothing here waits.
"""

from __future__ import annotations

import random
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import SimpleNamespace

import limits
import limits.storage.memory as limits_memory
import pytest
from fastapi.testclient import TestClient
from limits.storage import Storage
from limits.strategies import MovingWindowRateLimiter

from pledge import ratecounts, ratelimit
from pledge.ratecounts import SWEEP_PER_HIT, LocalCounts
from tests.support.pages import csrf_token, html
from tests.support.settings import UseSettings

# Some instant in 2027: a clock far from zero, as time.time() is.
START = 1_800_000_000.0

THREE_A_MINUTE = limits.parse("3/minute")

NewClient = Callable[..., TestClient]


class Clock:
    """A time.time() that moves only when told."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now

    def at(self, seconds: float) -> None:
        """Seconds after START."""
        self.now = START + seconds

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The fake clock, as pledge.ratecounts reads the time (and nothing else in the process)."""
    fake = Clock()
    monkeypatch.setattr(ratecounts, "time", SimpleNamespace(time=fake))
    return fake


@pytest.fixture
def storage(clock: Clock) -> LocalCounts:
    return LocalCounts()


@pytest.fixture
def window(storage: LocalCounts) -> MovingWindowRateLimiter:
    return MovingWindowRateLimiter(storage)


class _NeverDone:
    """Stands for MemoryStorage's sweep timer, so that it starts no other: the comparison is
    with its counting, not with what a thread of its own drops in between."""

    def is_alive(self) -> bool:
        return True

    def cancel(self) -> None:
        pass


@pytest.fixture
def limits_storage(monkeypatch: pytest.MonkeyPatch, clock: Clock) -> Storage:
    """limits' own MemoryStorage, on the same fake clock."""
    monkeypatch.setattr(limits_memory, "time", SimpleNamespace(time=clock))
    storage = limits_memory.MemoryStorage()
    storage.timer.cancel()
    storage.timer = _NeverDone()  # type: ignore[assignment]
    return storage


# --- the moving window ---------------------------------------------------------------------


def test_three_a_minute_allows_three_and_then_one_more_as_each_hit_leaves_the_window(
    clock: Clock, window: MovingWindowRateLimiter
) -> None:
    allowed = []
    for t in (0, 10, 20):
        clock.at(t)
        allowed.append(window.hit(THREE_A_MINUTE, "k"))
    assert allowed == [True, True, True]
    assert not window.hit(THREE_A_MINUTE, "k")  # the fourth, at t=20
    assert not window.test(THREE_A_MINUTE, "k")

    clock.at(59)
    assert not window.test(THREE_A_MINUTE, "k")
    assert not window.hit(THREE_A_MINUTE, "k")
    assert window.get_window_stats(THREE_A_MINUTE, "k") == (START + 60, 0)

    clock.at(60.5)  # the hit at t=0 has left the window
    assert window.get_window_stats(THREE_A_MINUTE, "k") == (START + 70, 1)
    assert window.test(THREE_A_MINUTE, "k")
    assert window.hit(THREE_A_MINUTE, "k")

    clock.at(65)
    assert not window.hit(THREE_A_MINUTE, "k")
    assert window.get_window_stats(THREE_A_MINUTE, "k") == (START + 70, 0)
    clock.at(70.5)  # and now the hit at t=10
    assert window.hit(THREE_A_MINUTE, "k")
    assert not window.hit(THREE_A_MINUTE, "k")
    # Left: the hits at 20, 60.5 and 70.5; room again when the one at 20 leaves.
    assert window.get_window_stats(THREE_A_MINUTE, "k") == (START + 80, 0)


def test_window_stats_count_what_is_left_and_when_the_oldest_hit_leaves(
    clock: Clock, window: MovingWindowRateLimiter
) -> None:
    clock.at(5)
    assert window.get_window_stats(THREE_A_MINUTE, "k") == (START + 65, 3)  # nothing yet
    assert window.hit(THREE_A_MINUTE, "k")
    clock.at(30)
    assert window.get_window_stats(THREE_A_MINUTE, "k") == (START + 65, 2)
    clock.at(66)
    assert window.get_window_stats(THREE_A_MINUTE, "k") == (START + 66 + 60, 3)


def test_a_hit_exactly_one_window_old_still_counts_as_in_limits_storages(
    clock: Clock, window: MovingWindowRateLimiter
) -> None:
    """limits' storages (MemoryStorage, and Redis, which the site counts in with several
    processes) refuse a hit while the limit's oldest hit is at most one window old: exactly
    60 s after it, a one-a-minute limit still refuses."""
    one_a_minute = limits.parse("1/minute")
    assert window.hit(one_a_minute, "k")
    clock.at(60)
    assert not window.hit(one_a_minute, "k")
    clock.at(60.001)
    assert window.hit(one_a_minute, "k")


@dataclass(frozen=True)
class Step:
    advance: float
    action: str  # "hit", "test" or "stats"
    limit: int  # index into LIMITS
    key: str
    cost: int


LIMITS = (limits.parse("5/10 seconds"), limits.parse("2/minute"))


def random_steps(count: int, seed: int) -> list[Step]:
    """Bursts of hits at the same instant, hits a fraction of a second apart, pauses of a few
    seconds and of more than a minute; costs of one to three, and some over either limit."""
    rng = random.Random(seed)
    steps = []
    for _ in range(count):
        pause = rng.random()
        if pause < 0.25:
            advance = 0.0
        elif pause < 0.8:
            advance = rng.uniform(0, 0.4)
        elif pause < 0.9:
            advance = rng.uniform(0, 2)
        elif pause < 0.99:
            advance = rng.uniform(0, 6)
        else:
            advance = rng.uniform(0, 70)
        action = rng.choices(("hit", "test", "stats"), weights=(8, 1, 1))[0]
        cost = rng.choices((1, 2, 3, 6), weights=(12, 3, 2, 1))[0]
        steps.append(Step(advance, action, rng.randrange(2), rng.choice("abc"), cost))
    return steps


def replay(steps: list[Step], storage: Storage, clock: Clock) -> list[object]:
    clock.at(0)
    window = MovingWindowRateLimiter(storage)
    outcomes: list[object] = []
    for step in steps:
        clock.advance(step.advance)
        item = LIMITS[step.limit]
        if step.action == "hit":
            outcomes.append(window.hit(item, step.key, cost=step.cost))
        elif step.action == "test":
            outcomes.append(("test", window.test(item, step.key, cost=step.cost)))
        else:
            reset, remaining = window.get_window_stats(item, step.key)
            # With nothing in the window, MemoryStorage dates it from a hit long gone: the
            # time it gives then is no reset time, and nothing reads it.
            outcomes.append(("stats", remaining, reset if remaining < item.amount else None))
    return outcomes


def test_a_long_random_run_is_allowed_and_refused_exactly_as_limits_memory_storage_does(
    clock: Clock, limits_storage: Storage
) -> None:
    steps = random_steps(6000, seed=20261207)

    ours = replay(steps, LocalCounts(), clock)
    theirs = replay(steps, limits_storage, clock)

    first_difference = next(
        (n for n, (a, b) in enumerate(zip(ours, theirs, strict=True)) if a != b), None
    )
    assert first_difference is None, (first_difference, steps[first_difference or 0])
    # The run says something: both answers, for both limits, many times over.
    hits = [(step, ok) for step, ok in zip(steps, ours, strict=True) if step.action == "hit"]
    for n in range(len(LIMITS)):
        answers = [ok for step, ok in hits if step.limit == n and step.cost <= LIMITS[n].amount]
        assert answers.count(True) > 200
        assert answers.count(False) > 200


def test_costs_above_one_take_that_many_places_and_a_cost_over_the_limit_is_refused(
    window: MovingWindowRateLimiter,
) -> None:
    five = limits.parse("5/minute")
    assert window.hit(five, "k", cost=3)
    assert not window.test(five, "k", cost=3)
    assert not window.hit(five, "k", cost=3)  # 3 + 3 > 5
    assert window.test(five, "k", cost=2)
    assert window.hit(five, "k", cost=2)
    assert window.get_window_stats(five, "k").remaining == 0

    assert not window.hit(five, "new", cost=6)
    # A refused cost takes nothing: the whole limit is still there.
    assert window.get_window_stats(five, "new").remaining == 5
    assert window.hit(five, "new", cost=5)
    assert not window.hit(five, "new")


# --- forgetting ----------------------------------------------------------------------------


def test_expired_keys_are_forgotten_a_few_on_each_hit_until_none_is_left(
    clock: Clock, storage: LocalCounts, window: MovingWindowRateLimiter
) -> None:
    many = limits.parse("5000/minute")
    for n in range(10_000):
        assert window.hit(many, f"client-{n}")
    assert storage.keys() == 10_000

    clock.at(61)
    assert window.hit(many, "late")
    # One hit looks at a few of the oldest keys, not all of them.
    assert storage.keys() == 10_000 - SWEEP_PER_HIT + 1
    hits_to_forget_all = -(-10_000 // SWEEP_PER_HIT)  # 2,500
    for _ in range(hits_to_forget_all - 2):
        window.hit(many, "late")
    assert storage.keys() > 1  # one more hit to go
    window.hit(many, "late")
    assert storage.keys() == 1


def test_keys_within_their_window_are_never_forgotten_however_many_other_hits(
    clock: Clock, storage: LocalCounts, window: MovingWindowRateLimiter
) -> None:
    two = limits.parse("2/minute")
    for n in range(1000):
        window.hit(two, f"client-{n}")
    clock.at(30)
    assert window.hit(two, "full")
    assert window.hit(two, "full")

    clock.at(61)  # the thousand have expired, "full" has not
    for n in range(3000):
        window.hit(two, f"newcomer-{n}")
    assert storage.keys() == 1 + 3000
    assert not window.hit(two, "full")
    assert window.get_window_stats(two, "full") == (START + 90, 0)
    clock.at(90.5)
    assert window.hit(two, "full")


def test_a_key_hit_again_moves_behind_the_others_and_does_not_hold_up_their_forgetting(
    clock: Clock, storage: LocalCounts, window: MovingWindowRateLimiter
) -> None:
    five = limits.parse("5/minute")
    assert window.hit(five, "regular")  # the first key of all
    clock.at(1)
    for n in range(400):
        window.hit(five, f"client-{n}")
    clock.at(50)
    assert window.hit(five, "regular")

    clock.at(62)  # only the regular's hit at 50 is still in the window
    for _ in range(100):
        window.hit(five, "late")
    assert storage.keys() == 2
    assert window.get_window_stats(five, "regular").remaining == 4


def test_a_long_window_does_not_keep_keys_of_shorter_windows_from_being_forgotten(
    clock: Clock, storage: LocalCounts, window: MovingWindowRateLimiter
) -> None:
    an_hour = limits.parse("1/hour")
    a_minute = limits.parse("10/minute")
    assert window.hit(an_hour, "account")
    for n in range(1000):
        window.hit(a_minute, f"client-{n}")

    clock.at(61)
    for _ in range(250):
        window.hit(a_minute, "late")
    assert storage.keys() == 2  # "account" for the hour, "late"
    assert not window.hit(an_hour, "account")


def test_no_thread_is_started_however_many_keys_are_hit(
    storage: LocalCounts, window: MovingWindowRateLimiter
) -> None:
    before = set(threading.enumerate())
    for n in range(5000):
        window.hit(THREE_A_MINUTE, f"client-{n}")
        window.test(THREE_A_MINUTE, f"client-{n}")
        storage.incr(f"fact-{n}", 30)
    # None new (one of the rest's may have ended meanwhile).
    assert set(threading.enumerate()) - before == set()


# --- counters ------------------------------------------------------------------------------


def test_a_counter_counts_until_its_lifetime_ends_and_then_starts_again(
    clock: Clock, storage: LocalCounts
) -> None:
    clock.at(0)
    assert storage.incr("k", 30) == 1
    clock.at(10)
    assert storage.incr("k", 30) == 2
    assert storage.get("k") == 2
    assert storage.get_expiry("k") == START + 30  # from the first, not the last

    clock.at(31)
    assert storage.get("k") == 0
    assert storage.get_expiry("k") == START + 31  # none: now, as limits answers
    assert storage.incr("k", 30) == 1
    assert storage.get_expiry("k") == START + 61
    assert storage.incr("k", 30, amount=4) == 5


def test_expired_counters_are_forgotten_a_few_on_each_count(
    clock: Clock, storage: LocalCounts
) -> None:
    for n in range(10_000):
        storage.incr(f"fact-{n}", 30)
    clock.at(31)
    for _ in range(-(-10_000 // SWEEP_PER_HIT)):
        storage.incr("late", 30)
    assert storage.keys() == 1
    assert storage.get("late") == 2500


def test_clearing_a_key_drops_its_window_and_its_counter(
    storage: LocalCounts, window: MovingWindowRateLimiter
) -> None:
    one = limits.parse("1/minute")
    assert window.hit(one, "k")
    key = one.key_for("k")
    storage.incr(key, 30)
    storage.incr("other", 30)

    storage.clear(key)

    assert storage.get(key) == 0
    assert storage.get("other") == 1
    assert storage.keys() == 1
    assert window.hit(one, "k")


def test_reset_says_how_many_keys_it_dropped_and_lifts_every_limit(
    storage: LocalCounts, window: MovingWindowRateLimiter
) -> None:
    for key in ("a", "b", "c"):
        assert window.hit(limits.parse("1/minute"), key)
    assert window.hit(limits.parse("1/hour"), "a")
    storage.incr("fact", 30)
    storage.incr("fact", 30)

    assert storage.reset() == 5

    assert storage.keys() == 0
    assert storage.get("fact") == 0
    assert window.hit(limits.parse("1/minute"), "a")
    assert window.hit(limits.parse("1/hour"), "a")


def test_facts_are_remembered_until_forgotten_or_expired_in_the_site_memory(
    clock: Clock,
) -> None:
    assert isinstance(ratelimit.limiter.limiter.storage, LocalCounts)
    ratelimit.remember("x", "a", seconds=5)
    assert ratelimit.remembered("x", "a")
    assert not ratelimit.remembered("x", "b")
    ratelimit.forget("x", "a")
    assert not ratelimit.remembered("x", "a")

    ratelimit.remember("x", "a", seconds=5)
    clock.advance(4)
    ratelimit.remember("x", "a", seconds=5)  # remembered again: kept from now on
    clock.advance(4)
    assert ratelimit.remembered("x", "a")
    clock.advance(1.5)
    assert not ratelimit.remembered("x", "a")


@pytest.fixture
def frequent_thread_switches() -> Iterator[None]:
    """Threads switch every microsecond instead of every 5 ms: a race shows in one run."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(interval)


def hit_together(storage: LocalCounts, keys: int, tries: int, limit: int) -> int:
    """Eight threads at once, each trying every key ``tries`` times in turn against a limit
    of ``limit`` a minute: how many tries were allowed in all."""
    barrier = threading.Barrier(8)
    allowed = [0] * 8
    errors: list[BaseException] = []

    def client(n: int) -> None:
        try:
            barrier.wait(timeout=30)
            for key in range(keys):
                for _ in range(tries):
                    allowed[n] += storage.acquire_entry(f"k{key}", limit, 60)
        except BaseException as error:  # shown by the test, not lost in the thread
            errors.append(error)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    return sum(allowed)


@pytest.mark.usefixtures("frequent_thread_switches")
def test_threads_hitting_the_same_keys_together_get_exactly_the_limit(
    storage: LocalCounts,
) -> None:
    assert hit_together(storage, keys=1, tries=2000, limit=5000) == 5000
    assert storage.get_moving_window("k0", 5000, 60)[1] == 5000
    # Many keys: many moments where one more hit crosses a limit, and new keys come in while
    # others look for expired ones.
    storage.reset()
    assert hit_together(storage, keys=2000, tries=2, limit=4) == 2000 * 4


# --- on the site ---------------------------------------------------------------------------


def test_the_site_counts_its_limits_in_this_memory_and_refuses_in_the_visitors_language(
    new_client: NewClient, use_settings: UseSettings
) -> None:
    use_settings(ratelimit_login="3/minute")
    storage = ratelimit.limiter.limiter.storage
    assert isinstance(storage, LocalCounts)
    visitor = new_client(client=("198.51.100.9", 50000))  # the site's default: Indonesian
    answers = []
    for _ in range(4):
        data = {
            "email": "siapa@example.com",
            "password": "salah-sekali",
            "csrf_token": csrf_token(visitor, "/login"),
        }
        answers.append(visitor.post("/login", data=data))

    assert [answer.status_code for answer in answers] == [422, 422, 422, 429]
    assert storage.keys() >= 1
    detail = html(answers[-1]).select_one("section.error-page p.detail")
    assert detail is not None
    assert detail.get_text(strip=True) == (
        "Terlalu banyak permintaan. Tunggu sebentar, lalu coba lagi."
    )
