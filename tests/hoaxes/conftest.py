"""The hoax tests read the English wording."""

from __future__ import annotations

import pytest


@pytest.fixture
def client_lang() -> str:
    return "en"
