"""What the messages in the outbox say. A waiting message's body is stored encrypted, and a
sent one's is emptied: the text of a sent message is what its sender was handed, kept here
per outbox row for the length of one test (``keep_sent_texts``, run for every test by
tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from pledge import mail

# The text each message of this test was sent with, by outbox row id.
SENT: dict[int, str] = {}


def text_of(message_id: int | None, stored: str) -> str:
    """A message's text: as it was sent, once sent in this process; else its stored body
    decrypted (a waiting message, or one sent by a server process of the test)."""
    sent = SENT.get(message_id or 0)
    if sent is not None:
        return sent
    if not stored:
        return ""
    opened = mail.open_body(stored)
    if opened is None:
        raise AssertionError("a stored body that the secret key in use cannot open")
    return opened


@contextmanager
def keep_sent_texts(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[int, str]]:
    """Keep the text of every message the app sends, in this process, until the end."""
    send = mail._send

    def recording(row: Any, **kwargs: Any) -> None:
        send(row, **kwargs)
        SENT[row.id] = mail.open_body(row.body) or ""

    SENT.clear()
    monkeypatch.setattr(mail, "_send", recording)
    try:
        yield SENT
    finally:
        SENT.clear()
