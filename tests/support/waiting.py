"""Waiting for something to come true: as soon as it does, and with a deadline generous
enough for a loaded two-core machine. Tests wait on conditions, never for a fixed time."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_until(
    condition: Callable[[], object],
    timeout: float = 60,
    what: str = "the condition did not come true in time",
) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)
