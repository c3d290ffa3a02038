"""The per-process caches: the kinds the site needs, each registered by name.

Every cache of the site is made here, so that one call (`clear_all`) empties them all, as a
test between two cases or an operator's reload needs. A cache keeps what one process has
read or drawn; nothing in it is ever the only copy of anything.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from typing import Any, Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

_registry: dict[str, Cache[Any, Any]] = {}
_registry_lock = threading.Lock()


class Cache(Generic[K, V]):
    """A thread-safe map of at most `size` entries (None: no bound), the least recently used
    dropped first. Each entry remembers when it was stored, so that a reader can ask for one
    no older than it can accept."""

    def __init__(self, name: str, *, size: int | None = 256) -> None:
        if size is not None and size < 1:
            raise ValueError("a cache holds at least one entry")
        self.name = name
        self.size = size
        self._entries: OrderedDict[K, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()
        with _registry_lock:
            if name in _registry:
                raise ValueError(f"there is already a cache named {name!r}")
            _registry[name] = self

    def get(self, key: K, max_age: float | None = None) -> V | None:
        """The value kept for key, unless it is missing or older than max_age seconds."""
        # A read takes no lock: hot paths read here. One look-up and one move_to_end are each
        # a single call into OrderedDict, atomic under the GIL; a writer that removed the key
        # in between only makes the move fail, and an entry's recency is all that is lost.
        entry = self._entries.get(key)
        if entry is None:
            return None
        if max_age is not None and time.monotonic() - entry[0] >= max_age:
            return None
        if self.size is not None:
            with contextlib.suppress(KeyError):
                self._entries.move_to_end(key)
        return entry[1]

    def put(self, key: K, value: V, *, same: Callable[[V, V], bool] | None = None) -> V:
        """Keep value for key, and return what is kept. When `same` finds the value kept
        already equal to the new one, the older object stays (its age renewed): what was
        drawn from it stays valid, and callers that compare objects by identity see no
        change."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and same is not None and same(entry[1], value):
                value = entry[1]
            self._entries[key] = (time.monotonic(), value)
            self._entries.move_to_end(key)
            if self.size is not None:
                while len(self._entries) > self.size:
                    self._entries.popitem(last=False)
        return value

    def pop(self, key: K) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def keys(self) -> Iterator[K]:
        with self._lock:
            return iter(list(self._entries))


def registered() -> dict[str, Cache[Any, Any]]:
    """Every cache of this process, by name."""
    with _registry_lock:
        return dict(_registry)


def clear_all() -> None:
    """Empty every cache of this process."""
    for cache in registered().values():
        cache.clear()
