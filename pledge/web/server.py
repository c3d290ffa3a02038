"""The HTTP connection of `pledge serve`, safe to face the internet without a proxy.

uvicorn's httptools protocol, with what a proxy would otherwise bound:

- a request's head (request line and headers) may be at most ``MAX_HEAD_BYTES`` long and carry
  at most ``MAX_HEADERS`` headers, else the answer is 431 and the connection closes; the bytes
  of a head are counted as they arrive, so an endless header is cut off after a few tens of
  kilobytes, not held in memory;
- a head must arrive within ``header_timeout_seconds`` of the connection opening or of the
  piece of it that did not hold it whole, else the answer is 408 (or, when nothing came at
  all, the connection just closes): a client that trickles a header a byte at a time holds
  no connection for long;
- an idle keep-alive connection closes after ``KEEP_ALIVE_SECONDS`` (uvicorn's own timer);
- on shutdown, a response that never ends by itself (a live-count stream marks its scope with
  ``ENDLESS``) ends at once, cleanly, and its connection closes; the browser reconnects to the
  next process. Every other request in flight still gets the graceful delay to finish.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from pledge.config import get_settings

MAX_HEAD_BYTES = 32 * 1024
MAX_HEADERS = 100
KEEP_ALIVE_SECONDS = 5
# The scope key of a response that stays open until the client leaves.
ENDLESS = "pledge.endless"

_REASONS = {408: b"Request Timeout", 431: b"Request Header Fields Too Large"}
# Answered before the request is read, so before its language is known: in the site's two.
_MESSAGES = {
    408: b"Permintaan terlalu lama sampai. / The request took too long to arrive.",
    431: b"Header permintaan terlalu besar. / The request's headers are too large.",
}


class _HeadTooLarge(Exception):
    """Raised from a parser callback to stop reading a head that broke a limit."""


class HttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with bounded request heads, a header timeout and
    streams that end at shutdown."""

    # Set (on the instance) when a parser callback breaks a limit.
    refusal: int | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Whether the connection waits for a request's head, and the bytes received since it
        # began to: from the connection's start, and from each request's first byte. An open
        # live-count stream holds this object for hours: it keeps only these few fields.
        self.awaiting_head = True
        self.head_bytes = 0
        self.header_count = 0
        self.head_timer: asyncio.TimerHandle | None = None

    # --- the connection -------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.awaiting_head:
            self.head_bytes += len(data)
        super().data_received(data)
        if not self.awaiting_head:
            return
        if self.head_bytes > MAX_HEAD_BYTES:
            self._refuse(431)
        elif self.head_timer is None and not self.transport.is_closing():
            # A head that did not arrive whole in one piece: from now on it is timed. Most
            # arrive whole, and cost no timer.
            self._start_head_timer()

    def shutdown(self) -> None:
        self._stop_head_timer()
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete and cycle.scope.get(ENDLESS):
            # The last chunk of the stream, then the end of the connection: the stream sees
            # its client leave and stops.
            self.transport.write(b"0\r\n\r\n")
            self.transport.close()
            return
        super().shutdown()

    # --- the parser's callbacks -----------------------------------------------------------

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.header_count = 0
        if not self.awaiting_head:
            self.awaiting_head = True
            self.head_bytes = 0

    def on_header(self, name: bytes, value: bytes) -> None:
        self.header_count += 1
        if self.header_count > MAX_HEADERS:
            self.refusal = 431
            raise _HeadTooLarge
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self.awaiting_head = False
        self.head_bytes = 0
        self._stop_head_timer()
        super().on_headers_complete()

    # --- refusals -------------------------------------------------------------------------

    def send_400_response(self, msg: str) -> None:
        # uvicorn answers every parser error 400; a broken limit is answered as what it is.
        if self.refusal is not None:
            self._refuse(self.refusal)
        else:
            super().send_400_response(msg)

    def _refuse(self, status: int) -> None:
        if self.transport.is_closing():
            return
        self._stop_head_timer()
        message = _MESSAGES[status]
        self.transport.write(
            b"HTTP/1.1 %d %s\r\n"
            b"content-type: text/plain; charset=utf-8\r\n"
            b"content-length: %d\r\n"
            b"connection: close\r\n\r\n%s" % (status, _REASONS[status], len(message), message)
        )
        self.transport.close()

    def _start_head_timer(self) -> None:
        self._stop_head_timer()
        timeout = get_settings().header_timeout_seconds
        self.head_timer = self.loop.call_later(timeout, self._head_too_slow)

    def _stop_head_timer(self) -> None:
        if self.head_timer is not None:
            self.head_timer.cancel()
            self.head_timer = None

    def _head_too_slow(self) -> None:
        self.head_timer = None
        if not self.awaiting_head or (self.cycle is not None and not self.cycle.response_complete):
            return  # a response is on its way: the server, not the client, is the slow one
        if self.head_bytes:
            self._refuse(408)
        else:
            self.transport.close()  # nothing came: nobody to answer
