"""One client's share of the live-count streams: a client that opens many is told to wait
(429) once it holds its share, while other clients still connect, and each stream that closes
gives its place back."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import httpx2
import pytest
import sqlalchemy as sa
from starlette.types import Message

from pledge.config import Settings, get_settings
from pledge.embeds.live import (
    EventStream,
    LiveCounts,
    StreamsFull,
    TooManyStreams,
    stream_client,
)
from tests.embeds.test_live import (
    BUSY_EN,
    TIMEOUT,
    MakeCampaign,
    a_view,
    counts,
    counts_of,
    in_own_loop,
    serving,
    stream,
)
from tests.support.waiting import wait_until

TOO_MANY_EN = (
    "You have too many live counts open. Close some of these pages, or wait a moment and reload."
)
TOO_MANY_ID = (
    "Kamu membuka terlalu banyak hitungan langsung. Tutup sebagian halaman ini, atau tunggu "
    "sebentar lalu muat ulang."
)


@contextmanager
def client_from(url: str, address: str) -> Iterator[httpx2.Client]:
    """A client whose connections come from this loopback address (127.0.0.2 is another
    client than 127.0.0.1)."""
    transport = httpx2.HTTPTransport(local_address=address)
    with httpx2.Client(base_url=url, timeout=TIMEOUT, transport=transport) as client:
        yield client


def test_the_default_share_is_a_few_streams() -> None:
    assert Settings.model_fields["live_streams_per_address"].default == 8


@pytest.mark.server
def test_a_client_over_its_share_waits_while_others_connect(
    engine: sa.Engine, make_campaign: MakeCampaign
) -> None:
    view = make_campaign()
    path = f"/c/{view.slug}/events"

    with (
        serving(engine, live_streams_per_address=3) as server,
        client_from(server.url, "127.0.0.1") as hog,
        client_from(server.url, "127.0.0.2") as other,
    ):
        live: LiveCounts = server.app.state.live
        with ExitStack() as opened:
            held = [opened.enter_context(stream(hog, path)) for _ in range(3)]
            for events in held:
                assert events.count() == counts_of(view, 0)
            assert live.by_client == {"127.0.0.1": 3}

            refused = hog.get(f"{path}?lang=en")
            refused_id = hog.get(path)
            assert live.streams == 3  # the refused ones never counted

            # Another client still connects.
            with stream(other, path) as theirs:
                assert theirs.count() == counts_of(view, 0)
                assert live.by_client == {"127.0.0.1": 3, "127.0.0.2": 1}

            # A stream that closes gives its place back at once.
            opened.close()
            wait_until(lambda: live.streams == 0)
            assert live.by_client == {}

        assert refused.status_code == 429
        assert refused.headers["retry-after"] == "30"
        assert refused.headers["content-type"] == "text/plain; charset=utf-8"
        assert refused.headers["cache-control"] == "no-store"
        assert "set-cookie" not in refused.headers
        assert refused.text == TOO_MANY_EN
        assert (refused_id.status_code, refused_id.text) == (429, TOO_MANY_ID)

        with stream(hog, path) as again:
            assert again.count() == counts_of(view, 0)
            assert live.by_client == {"127.0.0.1": 1}
        wait_until(lambda: live.by_client == {})


def test_an_ipv6_64_is_one_client_and_an_ipv4_mapped_address_is_its_ipv4() -> None:
    def client(host: str) -> str:
        return stream_client({"type": "http", "client": (host, 50000)})

    assert client("2001:db8:1:2::1") == client("2001:db8:1:2:ffff:ffff:ffff:ffff")
    assert client("2001:db8:1:2::1") != client("2001:db8:1:3::1")
    assert client("::ffff:203.0.113.9") == client("203.0.113.9") == "203.0.113.9"
    assert client("203.0.113.9") != client("203.0.113.10")


def test_the_hub_checks_a_clients_share_before_the_process_cap(engine: sa.Engine) -> None:
    view = a_view()

    async def run() -> list[Message]:
        live = LiveCounts(engine, interval=60, keepalive=60, max_streams=3, per_client=2)
        first = live.subscribe(view, counts(0), "2001:db8::/64")
        second = live.subscribe(view, counts(0), "2001:db8::/64")
        with pytest.raises(TooManyStreams):
            live.subscribe(view, counts(0), "2001:db8::/64")
        third = live.subscribe(view, counts(0), "203.0.113.9")
        # The process is full: the next client is told the site is busy, not to wait its turn.
        with pytest.raises(StreamsFull):
            live.subscribe(view, counts(0), "203.0.113.10")
        # And a client over its share hears about its share first.
        with pytest.raises(TooManyStreams):
            live.subscribe(view, counts(0), "2001:db8::/64")
        assert live.by_client == {"2001:db8::/64": 2, "203.0.113.9": 1}

        sent: list[Message] = []

        async def receive() -> Message:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: Message) -> None:
            sent.append(message)

        live.unsubscribe(third, "203.0.113.9")
        # From the same /64 as the first two, through the stream itself.
        scope = {
            "type": "http",
            "method": "GET",
            "path": "/c/x/events",
            "headers": [],
            "client": ("2001:db8::beef", 40000),
        }
        await EventStream(live, view, counts(0))(scope, receive, send)
        assert live.streams == 2

        live.unsubscribe(first, "2001:db8::/64")
        live.unsubscribe(second, "2001:db8::/64")
        assert (live.streams, live.campaigns, live.by_client) == (0, 0, {})
        return sent

    start, body = in_own_loop(run)
    assert start["status"] == 429
    assert (b"retry-after", b"30") in start["headers"]
    assert body["body"].decode() != BUSY_EN
    assert body["body"].decode() in (TOO_MANY_EN, TOO_MANY_ID)


def test_app_live_hub_takes_the_share_from_the_settings(engine: sa.Engine) -> None:
    from pledge.app import create_app

    settings = get_settings().model_copy(update={"live_streams_per_address": 5})
    live: LiveCounts = create_app(settings, engine=engine).state.live
    assert live.per_client == 5
