"""The rate limits' counts in this process's memory, when there is no Redis (one machine), or
while Redis is down.

limits' own memory storage sweeps every key it has ever seen from a new thread every 10 ms,
and keeps an empty list for every key it swept: with the load spread over many client
addresses, as a campaign's peak is, that sweep grew to a fifth of a busy process's CPU and
its memory grew with every address ever seen. Here each count is kept with the others of the
same window length, in the order of its last hit, so that forgetting what has expired looks
only at the oldest few: a little on each hit, no thread, nothing kept past its window.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque

from limits.storage import MovingWindowSupport, Storage

SCHEME = "pledge-memory"
# Keys looked at for expiry on each hit, at most (the oldest first).
SWEEP_PER_HIT = 4


class _Window:
    """The hits of one key within its moving window, oldest first."""

    __slots__ = ("hits", "last")

    def __init__(self) -> None:
        self.hits: deque[float] = deque()
        self.last = 0.0


class _Counter:
    __slots__ = ("count", "expires")

    def __init__(self, expires: float) -> None:
        self.count = 0
        self.expires = expires


class LocalCounts(Storage, MovingWindowSupport):
    """A limits storage for the moving-window strategy and plain counters, in memory."""

    STORAGE_SCHEME = [SCHEME]  # noqa: RUF012 (limits registers the class by it)

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **_: object):
        super().__init__(uri, wrap_exceptions=wrap_exceptions)
        self.lock = threading.Lock()
        # By window length (seconds): key -> its hits, in the order of their last hit.
        self.windows: dict[int, OrderedDict[str, _Window]] = {}
        # By lifetime (seconds): key -> its counter, in the order they were started.
        self.counters: dict[int, OrderedDict[str, _Counter]] = {}

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return ValueError

    # -- the moving window --

    def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        now = time.time()
        with self.lock:
            keys = self.windows.setdefault(expiry, OrderedDict())
            self._forget_expired_windows(keys, expiry, now)
            window = keys.get(key)
            if window is None:
                window = keys[key] = _Window()
            hits = window.hits
            # As limits' own storages: a hit exactly one window old still counts.
            while hits and hits[0] < now - expiry:
                hits.popleft()
            if amount > limit or len(hits) + amount > limit:
                return False
            hits.extend([now] * amount)
            window.last = now
            keys.move_to_end(key)
            return True

    def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        now = time.time()
        with self.lock:
            keys = self.windows.get(expiry)
            window = keys.get(key) if keys is not None else None
            if window is None:
                return now, 0
            live = [hit for hit in window.hits if hit >= now - expiry]
            return (live[0], len(live)) if live else (now, 0)

    @staticmethod
    def _forget_expired_windows(keys: OrderedDict[str, _Window], expiry: int, now: float) -> None:
        for _ in range(SWEEP_PER_HIT):
            if not keys:
                return
            key, oldest = next(iter(keys.items()))
            if oldest.last >= now - expiry:
                return  # the least recently hit is still live, and so is every other
            del keys[key]

    # -- counters --

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        with self.lock:
            counters = self.counters.setdefault(expiry, OrderedDict())
            for _ in range(SWEEP_PER_HIT):
                if not counters:
                    break
                oldest_key, oldest = next(iter(counters.items()))
                if oldest.expires > now:
                    break
                del counters[oldest_key]
            counter = counters.get(key)
            if counter is None or counter.expires <= now:
                counter = counters[key] = _Counter(now + expiry)
                counters.move_to_end(key)
            counter.count += amount
            return counter.count

    def _counter(self, key: str) -> _Counter | None:
        now = time.time()
        for counters in self.counters.values():
            counter = counters.get(key)
            if counter is not None and counter.expires > now:
                return counter
        return None

    def get(self, key: str) -> int:
        with self.lock:
            counter = self._counter(key)
            return counter.count if counter else 0

    def get_expiry(self, key: str) -> float:
        with self.lock:
            counter = self._counter(key)
            return counter.expires if counter else time.time()

    # -- the rest --

    def clear(self, key: str) -> None:
        with self.lock:
            for group in (*self.windows.values(), *self.counters.values()):
                group.pop(key, None)  # type: ignore[attr-defined]

    def reset(self) -> int | None:
        with self.lock:
            kept = sum(map(len, self.windows.values())) + sum(map(len, self.counters.values()))
            self.windows.clear()
            self.counters.clear()
            return kept

    def check(self) -> bool:
        return True

    def keys(self) -> int:
        """How many keys are kept now (for the curious, and the tests)."""
        with self.lock:
            return sum(map(len, self.windows.values())) + sum(map(len, self.counters.values()))
