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
import re
from collections.abc import Iterable
from contextlib import suppress
from functools import cache
from types import SimpleNamespace
from typing import Any

import anyio.to_thread
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session
from starlette.datastructures import MutableHeaders
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from pledge.campaigns import service as campaigns
from pledge.campaigns.models import CampaignView
from pledge.errors import NotFound
from pledge.networks import limit_key
from pledge.supporters import service as supporters
from pledge.supporters.models import Counts
from pledge.web import security_headers
from pledge.web.server import ENDLESS

log = logging.getLogger(__name__)

RETRY_MS = 5000  # how long a browser waits before reconnecting a dropped stream
KEEP_ALIVE = b": keep-alive\n\n"


class StreamsFull(Exception):
    """This process already holds as many open streams as it may."""


class TooManyStreams(Exception):
    """This client already holds as many of this process's streams as one client may."""


def stream_client(scope: Scope) -> str:
    """The client a stream is counted against: its IPv4 address, or its IPv6 /64 (one
    phone's or one home's network), as the rate limits count it."""
    client = scope.get("client")
    return limit_key(client[0] if client else "unknown")


def count_event(view: CampaignView, counts: Counts) -> bytes:
    """The ``count`` event: the total (confirmed supporters), the signatures waiting for their
    confirmation, and the count of each pledge and each partner by slug."""
    data = {
        "supporters": counts.total,
        "pending": counts.pending,
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
        self,
        engine: Engine,
        *,
        interval: float,
        keepalive: float,
        max_streams: int,
        per_client: int = 8,
        secure: bool = False,
    ) -> None:
        self.engine = engine
        self.secure = secure  # HTTPS only: streams carry the HSTS header too
        self.interval = interval
        self.keepalive = keepalive
        self.max_streams = max_streams
        self.per_client = per_client
        self.streams = 0
        # Open streams by client (see stream_client); a client with none has no entry. One
        # client that opens hundreds must not take the streams every other viewer shares.
        self.by_client: dict[str, int] = {}
        self._channels: dict[int, Channel] = {}
        self._reader: asyncio.Task[None] | None = None

    @property
    def full(self) -> bool:
        return self.streams >= self.max_streams

    @property
    def campaigns(self) -> int:
        return len(self._channels)

    def over_share(self, client: str | None) -> bool:
        """Whether the client already holds as many streams as one client may."""
        return client is not None and self.by_client.get(client, 0) >= self.per_client

    def subscribe(self, view: CampaignView, counts: Counts, client: str | None = None) -> Channel:
        """Count a new stream of the campaign (against its client, when given) and the channel
        it listens to. The client's share is checked before the process's cap: a client over
        its share is told to wait (TooManyStreams) while the others still connect."""
        if self.over_share(client):
            raise TooManyStreams
        if self.full:
            raise StreamsFull
        if client is not None:
            self.by_client[client] = self.by_client.get(client, 0) + 1
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

    def unsubscribe(self, channel: Channel, client: str | None = None) -> None:
        channel.subscribers -= 1
        self.streams -= 1
        if client is not None:
            left = self.by_client.pop(client, 0) - 1
            if left > 0:
                self.by_client[client] = left
        if channel.subscribers <= 0 and self._channels.get(channel.view.id) is channel:
            del self._channels[channel.view.id]

    def _read(self, campaign_ids: Iterable[int]) -> dict[int, Counts]:
        with Session(self.engine) as session:
            found = supporters.read_counts_of(session, campaign_ids=campaign_ids)
        return {
            campaign_id: supporters.remember_counts(campaign_id, counts)
            for campaign_id, counts in found.items()
        }

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


@cache
def stream_headers(*, secure: bool) -> tuple[tuple[bytes, bytes], ...]:
    headers = MutableHeaders(
        {
            "Content-Type": "text/event-stream; charset=utf-8",
            "Cache-Control": "no-store",
            # Proxies such as nginx must pass each event on at once.
            "X-Accel-Buffering": "no",
            "Access-Control-Allow-Origin": "*",
        }
    )
    # The headers of every answer, also when the stream skips the page middleware.
    security_headers("/c/events", headers, secure=secure)
    return tuple(headers.raw)


class EventStream(Response):
    """An open ``text/event-stream`` of one campaign's counts, until the client leaves."""

    media_type = "text/event-stream"

    # Not Response.__init__: an open stream keeps only what it needs, and the headers are
    # built once per process and copied as each stream starts.
    def __init__(self, live: LiveCounts, view: CampaignView, counts: Counts) -> None:
        self.live = live
        self.view = view
        self.counts = counts
        self.background = None
        self.status_code = 200

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = stream_client(scope)
        try:
            channel = self.live.subscribe(self.view, self.counts, client)
        except TooManyStreams:
            await too_many_response()(scope, receive, send)
            return
        except StreamsFull:
            await busy_response()(scope, receive, send)
            return
        # `pledge serve` ends the stream at once when it shuts down.
        scope[ENDLESS] = True
        # A GET's one request message first; the next thing received is the client leaving.
        # Awaited in a task of its own, with no coroutine of ours around it: an open stream
        # keeps every frame it waits in.
        if (await receive())["type"] == "http.disconnect":
            self.live.unsubscribe(channel, client)
            return
        left = asyncio.ensure_future(receive())
        try:
            # Nothing is kept in this frame that the stream no longer needs: it lives for hours.
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": list(stream_headers(secure=self.live.secure)),
                }
            )
            sent = channel.message
            await _send(send, f"retry: {RETRY_MS}\n\n".encode() + sent)
            while not left.done():
                if channel.message is not sent:
                    sent = channel.message
                    await _send(send, sent)
                    continue
                # Only whether something came: the sets of the answer are not kept.
                waiting: set[asyncio.Future[Any]] = {channel.changed, left}
                changed_or_left = await asyncio.wait(
                    waiting,
                    timeout=self.live.keepalive,
                    return_when=asyncio.FIRST_COMPLETED,
                )
                if not changed_or_left[0]:
                    await _send(send, KEEP_ALIVE)
                del changed_or_left, waiting
        except OSError:
            pass  # the client went away while an event was being written
        finally:
            left.cancel()
            with suppress(asyncio.CancelledError):
                await left
            self.live.unsubscribe(channel, client)


async def _send(send: Send, chunk: bytes) -> None:
    await send({"type": "http.response.body", "body": chunk, "more_body": True})


def busy_response() -> Response:
    from pledge.i18n import gettext as _

    return Response(
        _("Too many people are watching live right now. The count still updates when you reload."),
        status_code=503,
        media_type="text/plain; charset=utf-8",
        headers={"Retry-After": "30", "Cache-Control": "no-store"},
    )


def too_many_response() -> Response:
    from pledge.i18n import gettext as _

    return Response(
        _(
            "You have too many live counts open. Close some of these pages, or wait a moment "
            "and reload."
        ),
        status_code=429,
        media_type="text/plain; charset=utf-8",
        headers={"Retry-After": "30", "Cache-Control": "no-store"},
    )


# --- streams first ------------------------------------------------------------------------

EVENTS_PATH = re.compile(r"^/c/([^/]{1,64})/events$")
EVENTS_ROUTE = SimpleNamespace(path="/c/{slug}/events", name="embeds_events")


class StreamsFirst:
    """Answers live-count streams before the page middleware and the router.

    A stream stays open for hours; every layer it passes through keeps its frames and closures
    for as long. Taken here, an open stream costs a few kilobytes instead of some tens. Only
    streams of a public campaign are taken: anything else (an unknown campaign, a full
    process, a client over its share) goes on to the app, which answers it with its usual
    pages, in the visitor's language.
    """

    def __init__(self, app: ASGIApp, live: LiveCounts) -> None:
        self.app = app
        self.live = live

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = (
            EVENTS_PATH.match(scope["path"])
            if scope["type"] == "http"
            and scope["method"] == "GET"
            and scope["path"].endswith("/events")  # the cheap test first: most requests fail it
            else None
        )
        if match is None or self._refused(scope):
            await self.app(scope, receive, send)
            return
        found = await self._watched(match[1])
        # Checked again after the wait: nothing else runs between this and the subscription.
        if found is None or self._refused(scope):
            await self.app(scope, receive, send)
            return
        # What the router would have noted: the access log and the metrics name the route.
        scope["route"], scope["path_params"] = EVENTS_ROUTE, {"slug": match[1]}
        await EventStream(self.live, *found)(scope, receive, send)

    def _refused(self, scope: Scope) -> bool:
        return self.live.full or self.live.over_share(stream_client(scope))

    async def _watched(self, slug: str) -> tuple[CampaignView, Counts] | None:
        view = campaigns.cached_public_view(slug)
        counts = supporters.cached_counts(view.id) if view is not None else None
        if view is not None and counts is not None:
            return view, counts
        try:
            return await anyio.to_thread.run_sync(watched, self.live.engine, slug)
        except (NotFound, SQLAlchemyError):
            return None


def watched(engine: Engine, slug: str) -> tuple[CampaignView, Counts]:
    """A public campaign and its counts, with a short session of its own: a stream stays open
    for hours and must not hold a database connection."""
    with Session(engine, expire_on_commit=False) as session:
        view = campaigns.get_public_view(session, slug=slug)
        return view, supporters.get_counts(session, campaign_id=view.id)
