"""Live counts as Server-Sent Events: one tally reader per process, fanned out to every stream.

Each process keeps a channel per watched campaign. One task reads the tallies of all of them
at most once per interval and, when a campaign's counts changed, wakes that campaign's
streams, which send the new ``count`` event. Nothing is shared between processes: each reads
the database, so a signature taken by any process on any host reaches every stream.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
from collections.abc import Iterable
from contextlib import suppress

import anyio.to_thread
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from pledge.campaigns.models import CampaignView
from pledge.supporters import service as supporters
from pledge.supporters.models import Counts

log = logging.getLogger(__name__)

RETRY_MS = 5000  # how long a browser waits before reconnecting a dropped stream
KEEP_ALIVE = b": keep-alive\n\n"


class StreamsFull(Exception):
    """This process already holds as many open streams as it may."""


def count_event(view: CampaignView, counts: Counts) -> bytes:
    """The ``count`` event: the total, and the count of each pledge and each partner by slug."""
    data = {
        "supporters": counts.total,
        "goal": view.campaign.goal,
        "pledges": {p.slug: counts.pledge(p.id) for p in view.pledges},
        "partners": {p.slug: counts.partner(p.id) for p in view.partners},
    }
    body = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    return f"event: count\ndata: {body}\n\n".encode()


class Channel:
    """One campaign's latest count event, and a future that resolves when it changes."""

    def __init__(self, view: CampaignView, counts: Counts) -> None:
        self.view = view
        self.message = count_event(view, counts)
        self.changed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.subscribers = 0

    def update(self, counts: Counts) -> None:
        message = count_event(self.view, counts)
        if message == self.message:
            return
        self.message = message
        changed, self.changed = self.changed, asyncio.get_running_loop().create_future()
        changed.set_result(None)


class LiveCounts:
    """The open event streams of this process and the one task that feeds them."""

    def __init__(
        self, engine: Engine, *, interval: float, keepalive: float, max_streams: int
    ) -> None:
        self.engine = engine
        self.interval = interval
        self.keepalive = keepalive
        self.max_streams = max_streams
        self.streams = 0
        self._channels: dict[int, Channel] = {}
        self._reader: asyncio.Task[None] | None = None

    @property
    def full(self) -> bool:
        return self.streams >= self.max_streams

    @property
    def campaigns(self) -> int:
        return len(self._channels)

    def subscribe(self, view: CampaignView, counts: Counts) -> Channel:
        if self.full:
            raise StreamsFull
        channel = self._channels.get(view.id)
        if channel is None:
            channel = self._channels[view.id] = Channel(view, counts)
        else:
            # The newest view knows pledges and partners added since the channel opened.
            channel.view = view
        channel.subscribers += 1
        self.streams += 1
        if self._reader is None or self._reader.done():
            # A context of its own: the reader outlives the request that started it.
            self._reader = asyncio.create_task(
                self._read_forever(), name="live-counts", context=contextvars.Context()
            )
        return channel

    def unsubscribe(self, channel: Channel) -> None:
        channel.subscribers -= 1
        self.streams -= 1
        if channel.subscribers <= 0 and self._channels.get(channel.view.id) is channel:
            del self._channels[channel.view.id]

    def _read(self, campaign_ids: Iterable[int]) -> dict[int, Counts]:
        with Session(self.engine) as session:
            found = supporters.read_counts_of(session, campaign_ids=campaign_ids)
        for campaign_id, counts in found.items():
            supporters.remember_counts(campaign_id, counts)
        return found

    async def _read_forever(self) -> None:
        """Read the watched campaigns' tallies once per interval while anyone watches."""
        while self._channels:
            await asyncio.sleep(self.interval)
            watched = list(self._channels)
            if not watched:
                break
            try:
                found = await anyio.to_thread.run_sync(self._read, watched)
            except SQLAlchemyError as error:
                # The streams stay open and show the last count; the next read may succeed.
                log.warning("live counts: reading the tallies failed: %s", error)
                continue
            for campaign_id, counts in found.items():
                channel = self._channels.get(campaign_id)
                if channel is not None:
                    channel.update(counts)


class EventStream(Response):
    """An open ``text/event-stream`` of one campaign's counts, until the client leaves."""

    media_type = "text/event-stream"

    def __init__(self, live: LiveCounts, view: CampaignView, counts: Counts) -> None:
        super().__init__(
            headers={
                "Cache-Control": "no-store",
                # Proxies such as nginx must pass each event on at once.
                "X-Accel-Buffering": "no",
                "Access-Control-Allow-Origin": "*",
            },
            media_type=self.media_type,
        )
        # No body: the stream has no Content-Length.
        self.raw_headers = [(k, v) for k, v in self.raw_headers if k != b"content-length"]
        self.live = live
        self.view = view
        self.counts = counts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            channel = self.live.subscribe(self.view, self.counts)
        except StreamsFull:
            await busy_response()(scope, receive, send)
            return
        left = asyncio.ensure_future(_disconnected(receive))
        try:
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
            sent = channel.message
            await _send(send, f"retry: {RETRY_MS}\n\n".encode() + sent)
            while not left.done():
                if channel.message is not sent:
                    sent = channel.message
                    await _send(send, sent)
                    continue
                done, _pending = await asyncio.wait(
                    {channel.changed, left},
                    timeout=self.live.keepalive,
                    return_when=asyncio.FIRST_COMPLETED,
                )
                if not done:
                    await _send(send, KEEP_ALIVE)
        except OSError:
            pass  # the client went away while an event was being written
        finally:
            left.cancel()
            with suppress(asyncio.CancelledError):
                await left
            self.live.unsubscribe(channel)


async def _send(send: Send, chunk: bytes) -> None:
    await send({"type": "http.response.body", "body": chunk, "more_body": True})


async def _disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


def busy_response() -> Response:
    from pledge.i18n import gettext as _

    return Response(
        _("Too many people are watching live right now. The count still updates when you reload."),
        status_code=503,
        media_type="text/plain; charset=utf-8",
        headers={"Retry-After": "30", "Cache-Control": "no-store"},
    )
