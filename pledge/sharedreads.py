"""Reads in the thread pool that concurrent requests share."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

import anyio.to_thread

T = TypeVar("T")


class SharedReads:
    """Reads in the thread pool that concurrent requests share.

    When a process's copy of something (a campaign, its counts, its drawn page) expires, every
    request that arrives before it is read again would read it again, a few dozen at once
    under load. Here the first one reads it and the others wait for its result, or its error.
    """

    def __init__(self) -> None:
        self._reading: dict[Hashable, asyncio.Task[Any]] = {}

    async def read(self, key: Hashable, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        task = self._reading.get(key)
        if task is None or task.get_loop() is not loop:
            # A task of its own, in a context of its own: a reader whose client goes away
            # does not cancel the read the others wait for.
            task = loop.create_task(
                anyio.to_thread.run_sync(fn, *args), context=contextvars.copy_context()
            )
            self._reading[key] = task
            task.add_done_callback(lambda done: self._forget(key, done))
        result: T = await asyncio.shield(task)
        return result

    def _forget(self, key: Hashable, task: asyncio.Task[Any]) -> None:
        if self._reading.get(key) is task:
            del self._reading[key]
        if not task.cancelled():
            task.exception()  # retrieved: an error nobody waited for is not logged as lost


shared_reads = SharedReads()
