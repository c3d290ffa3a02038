"""A fresh phone for each browser journey, on slow 3G unless told (see tests/support/phone.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.appserver import LiveServer
from tests.support.phone import PHONE, OpenPhone, Phone


@pytest.fixture
def phone(browser: Any, live_server: LiveServer) -> Iterator[OpenPhone]:
    """Open a fresh phone: ``phone(locale="id-ID")``, other options as for a browser context.
    ``slow_3g=False`` gives it a fast network, for checks that are not about the network.
    The phones are closed before the server stops, so that no event stream holds it up."""
    opened: list[Phone] = []

    def open_phone(*, slow_3g: bool = True, **options: Any) -> Phone:
        opened.append(Phone(browser.new_context(**PHONE, **options), slow_3g=slow_3g))
        return opened[-1]

    yield open_phone
    for each in opened:
        each.close()
