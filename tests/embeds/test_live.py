"""The live count stream: Server-Sent Events fed by one tally reader per process."""

from __future__ import annotations

import asyncio
import contextvars
import json
import re
import time
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx2
import pytest
import sqlalchemy as sa
from bs4 import BeautifulSoup
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session
from starlette.types import Message

from pledge import contacts
from pledge.app import create_app
from pledge.campaigns.models import Campaign, CampaignView, PartnerView, Pledge
from pledge.config import get_settings
from pledge.embeds.live import Channel, EventStream, LiveCounts, StreamsFull, count_event
from pledge.supporters.models import Counts
from tests.support.appserver import LiveServer, app_process, serve_in_thread
from tests.support.forms import form_data
from tests.support.pages import html
from tests.support.signing import last_email_to, send_whatsapp, type_code, whatsapp_text
from tests.support.waiting import wait_until

MakeCampaign = Callable[..., CampaignView]
Sign = Callable[..., Any]

ROOT = Path(__file__).resolve().parents[2]
# A read that waits longer than this fails the test: long enough for a busy machine, shorter
# than the 15 s between keep-alive comments, which would otherwise keep a silent stream going.
TIMEOUT = httpx2.Timeout(10.0, read=10.0)
BUSY_EN = "Too many people are watching live right now. The count still updates when you reload."
BUSY_ID = (
    "Terlalu banyak orang sedang menonton langsung saat ini. "
    "Jumlahnya tetap diperbarui saat kamu memuat ulang halaman."
)
TALLY_READ = re.compile(r"^\s*SELECT\b.*\bFROM\s+\"?tally\"?(?:\s|$)", re.IGNORECASE | re.DOTALL)


# --- reading a stream --------------------------------------------------------------------


class Stream:
    """An open event stream, read block by block (a block ends with a blank line)."""

    def __init__(self, response: httpx2.Response) -> None:
        self.response = response
        self._chunks = response.iter_raw()
        self._buffer = b""

    def block(self) -> bytes:
        """The next event or comment, as sent, without the blank line that ends it."""
        while b"\n\n" not in self._buffer:
            chunk = next(self._chunks, None)
            assert chunk is not None, "the server ended the stream"
            self._buffer += chunk
        block, self._buffer = self._buffer.split(b"\n\n", 1)
        return block

    def count(self) -> dict[str, Any]:
        """The data of the next ``count`` event, passing over keep-alive comments and the
        reconnection delay."""
        while True:
            block = self.block()
            if not block.startswith((b":", b"retry: ")):
                return event_data(block)


def event_data(block: bytes) -> dict[str, Any]:
    event, data = block.split(b"\n")
    assert event == b"event: count"
    assert data.startswith(b"data: ")
    parsed: dict[str, Any] = json.loads(data.removeprefix(b"data: "))
    return parsed


@contextmanager
def stream(client: httpx2.Client, path: str) -> Iterator[Stream]:
    """Open the stream; it is closed, and the server sees the client leave, on exit."""
    with client.stream("GET", path) as response:
        assert response.status_code == 200, response.read()[:500]
        yield Stream(response)


def counts_of(
    view: CampaignView, total: int, *, pending: int = 0, **by_slug: int
) -> dict[str, Any]:
    """The data of a count event: every pledge and partner of the view, zero unless given."""
    numbers = {slug.replace("_", "-"): n for slug, n in by_slug.items()}
    return {
        "supporters": total,
        "pending": pending,
        "goal": view.campaign.goal,
        "pledges": {p.slug: numbers.get(p.slug, 0) for p in view.pledges},
        "partners": {p.slug: numbers.get(p.slug, 0) for p in view.partners},
    }


# --- a supporter in another browser ------------------------------------------------------


class Visitor:
    """A supporter's browser: its own connection and cookies, apart from the stream's; and
    the supporter's email inbox and WhatsApp, on the test's database."""

    def __init__(self, base_url: str, engine: sa.Engine, server_log: Path | None = None) -> None:
        self.client = httpx2.Client(base_url=base_url, timeout=TIMEOUT, follow_redirects=False)
        self.engine = engine
        self.server_log = server_log
        self.changed_at = 0.0  # when the last confirmation or withdrawal was answered

    def why(self, response: httpx2.Response) -> str:
        """What went wrong, with the server's own log when it runs in another process."""
        log = self.server_log.read_text(errors="replace")[-3000:] if self.server_log else ""
        return f"{response.status_code}: {response.text[:500]}\n{log}"

    def close(self) -> None:
        self.client.close()

    def form_token(self, path: str) -> str:
        page = self.client.get(path)
        assert page.status_code == 200, self.why(page)
        field = html(page).select_one("input[name=csrf_token]")
        assert field is not None, f"no form on {path}"
        return str(field["value"])

    def sign(self, view: CampaignView, token: str, **fields: Any) -> str:
        """Send the signing form and confirm it as the signer does (the counts change then);
        the supporter's token (for withdrawal) is returned."""
        data = {**form_data(**fields), "csrf_token": token}
        response = self.client.post(f"/c/{view.slug}/sign", data=data)
        assert response.status_code == 303, self.why(response)
        assert response.headers["location"] == f"/c/{view.slug}/confirm"
        landed = self.confirm(view, str(data["contact"]))
        assert landed.status_code == 303, self.why(landed)
        thanks = urlsplit(landed.headers["location"]).path
        assert thanks.startswith(f"/c/{view.slug}/thanks/")
        return thanks.rsplit("/", 1)[1]

    def confirm(self, view: CampaignView, contact: str) -> httpx2.Response:
        """The emailed code typed on the waiting page, or the WhatsApp message sent and the
        supporter's page opened after it."""
        waiting = self.client.get(f"/c/{view.slug}/confirm")
        assert waiting.status_code == 200, self.why(waiting)
        with Session(self.engine) as session:
            if "@" in contact:
                code = last_email_to(session, contacts.normalise_contact(contact)).code
                typed: httpx2.Response = type_code(self.client, view.slug, code)
                self.changed_at = time.monotonic()
                return typed
            answer = send_whatsapp(session, number=contact, text=whatsapp_text(waiting))
            self.changed_at = time.monotonic()
        assert answer.confirmed is not None, answer
        return self.client.get(f"/c/{view.slug}/thanks")

    def withdraw(self, view: CampaignView, supporter: str) -> None:
        path = f"/c/{view.slug}/withdraw/{supporter}"
        token = self.form_token(path)
        response = self.client.post(path, data={"csrf_token": token})
        self.changed_at = time.monotonic()
        assert response.status_code == 303, self.why(response)
        assert response.headers["location"] == f"/c/{view.slug}/withdrawn"


@pytest.fixture
def visitor(live_server: LiveServer, engine: sa.Engine) -> Iterator[Visitor]:
    visitor = Visitor(live_server.url, engine)
    yield visitor
    visitor.close()


@pytest.fixture
def watcher(live_server: LiveServer) -> Iterator[httpx2.Client]:
    """The client that holds the streams open."""
    with httpx2.Client(base_url=live_server.url, timeout=TIMEOUT) as client:
        yield client


@dataclass
class LiveReads:
    """When the live readers of this process began each read of the tallies, and when they
    sent a new count to the streams (``time.monotonic()``)."""

    reads: list[float] = field(default_factory=list)
    pushes: list[float] = field(default_factory=list)


@pytest.fixture(autouse=True)
def live_reads(monkeypatch: pytest.MonkeyPatch) -> LiveReads:
    seen = LiveReads()
    read, update = LiveCounts._read, Channel.update

    def timed_read(self: LiveCounts, campaign_ids: Any) -> dict[int, Counts]:
        seen.reads.append(time.monotonic())
        return read(self, campaign_ids)

    def timed_update(self: Channel, counts: Counts) -> None:
        before = self.message
        update(self, counts)
        if self.message is not before:
            seen.pushes.append(time.monotonic())

    monkeypatch.setattr(LiveCounts, "_read", timed_read)
    monkeypatch.setattr(Channel, "update", timed_update)
    return seen


def within_latency(
    request: pytest.FixtureRequest, name: str, started: float, changed_at: float
) -> float:
    """Keep the time since started with the test's report (``--junitxml``), and check what
    keeps it short: the change made at ``changed_at`` went out to the streams with the live
    reader's first read after it (the one under way then, or the next), not a later one. On
    an idle machine that is within two seconds (one interval and the work); counted in reads
    rather than seconds, it holds on a busy machine too."""
    elapsed = time.monotonic() - started
    request.node.user_properties.append((name, round(elapsed, 3)))
    seen: LiveReads = request.getfixturevalue("live_reads")
    pushed = min((t for t in seen.pushes if t > changed_at), default=changed_at)
    reads = [t for t in seen.reads if changed_at < t < pushed]
    assert len(reads) <= 1, f"{name}: the new count went out {len(reads)} reads after the change"
    return elapsed


# --- servers with their own settings -----------------------------------------------------


@contextmanager
def serving(engine: sa.Engine, **settings: Any) -> Iterator[LiveServer]:
    """The app with some settings changed, served by uvicorn in a thread on loopback."""
    with serve_in_thread(
        create_app(get_settings().model_copy(update=settings), engine=engine)
    ) as s:
        yield s


# --- the stream ---------------------------------------------------------------------------


@pytest.mark.server
def test_stream_opens_with_retry_and_the_current_counts(
    live_server: LiveServer, watcher: httpx2.Client, make_campaign: MakeCampaign, sign: Sign
) -> None:
    view = make_campaign(goal=250, partners=2)
    partner = next(p for p in view.partners if not p.is_lead)
    sign(view, contact="a@example.com", pledges=("tolak-politik-uang", "lawan-hoaks"))
    sign(view, contact="b@example.com", pledges=("lawan-hoaks",), ref=partner.referral_code)

    with stream(watcher, f"/c/{view.slug}/events?lang=en") as events:
        headers = events.response.headers
        first, second = events.block(), events.block()

    assert first == b"retry: 5000"
    assert event_data(second) == counts_of(
        view, 2, tolak_politik_uang=1, lawan_hoaks=2, **{partner.slug: 1}
    )
    assert headers["content-type"].startswith("text/event-stream")
    assert headers["cache-control"] == "no-store"
    assert headers["x-accel-buffering"] == "no"
    assert headers["access-control-allow-origin"] == "*"
    assert "content-length" not in headers
    assert "content-encoding" not in headers  # never gzipped: that would hold events back
    assert "set-cookie" not in headers  # not even for ?lang=en
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    wait_until(lambda: live_server.app.state.live.streams == 0)


@pytest.mark.server
def test_a_signature_through_another_connection_reaches_the_stream_within_two_seconds(
    live_server: LiveServer,
    watcher: httpx2.Client,
    visitor: Visitor,
    make_campaign: MakeCampaign,
    request: pytest.FixtureRequest,
) -> None:
    view = make_campaign()
    token = visitor.form_token(f"/c/{view.slug}")

    with stream(watcher, f"/c/{view.slug}/events") as events:
        assert events.block() == b"retry: 5000"
        assert events.count() == counts_of(view, 0)

        started = time.monotonic()
        visitor.sign(view, token, pledges=["gunakan-hak-pilih", "lawan-hoaks"])
        assert events.count() == counts_of(view, 1, gunakan_hak_pilih=1, lawan_hoaks=1)
        within_latency(request, "sign_latency_s", started, visitor.changed_at)


@pytest.mark.server
def test_a_withdrawal_lowers_the_count_on_the_stream(
    live_server: LiveServer,
    watcher: httpx2.Client,
    visitor: Visitor,
    make_campaign: MakeCampaign,
    sign: Sign,
    request: pytest.FixtureRequest,
) -> None:
    view = make_campaign()
    sign(view, contact="stays@example.com")
    supporter = visitor.sign(view, visitor.form_token(f"/c/{view.slug}"), contact="0812 1111 2222")

    with stream(watcher, f"/c/{view.slug}/events") as events:
        assert events.count() == counts_of(view, 2, tolak_politik_uang=2)

        started = time.monotonic()
        visitor.withdraw(view, supporter)
        assert events.count() == counts_of(view, 1, tolak_politik_uang=1)
        within_latency(request, "withdraw_latency_s", started, visitor.changed_at)


@pytest.mark.server
def test_a_referred_signature_raises_the_partners_number(
    live_server: LiveServer,
    watcher: httpx2.Client,
    visitor: Visitor,
    make_campaign: MakeCampaign,
    request: pytest.FixtureRequest,
) -> None:
    view = make_campaign(partners=2)
    partner = view.partners[-1]
    assert not partner.is_lead
    token = visitor.form_token(f"/c/{view.slug}?ref={partner.referral_code}")

    with stream(watcher, f"/c/{view.slug}/events") as events:
        before = events.count()
        assert before["partners"] == {p.slug: 0 for p in view.partners}

        started = time.monotonic()
        visitor.sign(view, token, ref=partner.referral_code)
        after = events.count()
        within_latency(request, "referral_latency_s", started, visitor.changed_at)

    assert after == counts_of(view, 1, tolak_politik_uang=1, **{partner.slug: 1})


@pytest.mark.server
def test_a_signature_taken_by_another_server_process_reaches_the_stream(
    live_server: LiveServer,
    watcher: httpx2.Client,
    make_campaign: MakeCampaign,
    engine: sa.Engine,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    view = make_campaign()

    with app_process() as second:
        other = Visitor(second.url, engine, server_log=second.logfile)
        try:
            token = other.form_token(f"/c/{view.slug}")
            with stream(watcher, f"/c/{view.slug}/events") as events:
                assert events.count() == counts_of(view, 0)

                started = time.monotonic()
                # By email: the code is typed on the other process too, which counts it.
                other.sign(view, token, contact="lain@example.com", pledges=["lawan-hoaks"])
                assert events.count() == counts_of(view, 1, lawan_hoaks=1)
                within_latency(request, "other_process_latency_s", started, other.changed_at)
        finally:
            other.close()


@pytest.mark.server
def test_many_streams_share_one_tally_reader_and_all_see_the_change(
    live_server: LiveServer,
    watcher: httpx2.Client,
    visitor: Visitor,
    make_campaign: MakeCampaign,
    engine: sa.Engine,
    request: pytest.FixtureRequest,
) -> None:
    views = [make_campaign(), make_campaign()]
    tokens = [visitor.form_token(f"/c/{view.slug}") for view in views]
    live: LiveCounts = live_server.app.state.live
    # Twenty viewers, all on loopback here: one client's share made room for them all.
    live.per_client = 20
    interval = get_settings().live_interval_seconds
    reads: list[str] = []

    def count_reads(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if TALLY_READ.match(statement):
            reads.append(statement)

    with ExitStack() as opened:
        # Twenty streams, ten on each campaign.
        watching = [views[n % 2] for n in range(20)]
        streams = [opened.enter_context(stream(watcher, f"/c/{v.slug}/events")) for v in watching]
        for view, events in zip(watching, streams, strict=True):
            assert events.count() == counts_of(view, 0)
        assert (live.streams, live.campaigns) == (20, 2)

        sa.event.listen(engine, "before_cursor_execute", count_reads)
        try:
            # A quiet window, until three reads: the one reader of this process reads both
            # campaigns in one statement per interval; a reader per stream would read
            # twenty times as often. However long a busy machine takes for three reads, the
            # window has as many intervals.
            quiet_from = time.monotonic()
            wait_until(lambda: len(reads) >= 3)
            intervals = (time.monotonic() - quiet_from) / interval
        finally:
            sa.event.remove(engine, "before_cursor_execute", count_reads)
        request.node.user_properties.append(("tally_reads_in_quiet_window", len(reads)))
        assert 2 <= len(reads) <= intervals + 2, (reads, intervals)

        started = time.monotonic()
        visitor.sign(views[0], tokens[0], pledges=["lawan-hoaks"])
        visitor.sign(views[1], tokens[1], contact="rina@example.com")
        for view, events in zip(watching, streams, strict=True):
            expected = {"lawan_hoaks": 1} if view is views[0] else {"tolak_politik_uang": 1}
            seen = events.count()
            if seen == counts_of(view, 0, pending=1):
                # The reader ran between the signing and its confirmation (a busy machine):
                # the signature waiting is a true state of the count, and the next one follows.
                seen = events.count()
            assert seen == counts_of(view, 1, **expected)
        within_latency(request, "twenty_streams_latency_s", started, visitor.changed_at)

    wait_until(lambda: (live.streams, live.campaigns) == (0, 0))


# --- limits and keep-alive ----------------------------------------------------------------


@pytest.mark.server
def test_streams_beyond_the_cap_are_turned_away_until_one_closes(
    engine: sa.Engine, make_campaign: MakeCampaign
) -> None:
    view = make_campaign()
    path = f"/c/{view.slug}/events"

    with (
        serving(engine, live_streams_max=1) as server,
        httpx2.Client(base_url=server.url, timeout=TIMEOUT) as client,
    ):
        live: LiveCounts = server.app.state.live
        with stream(client, path) as first:
            assert first.count() == counts_of(view, 0)
            assert live.streams == 1

            busy = client.get(f"{path}?lang=en")
            busy_id = client.get(path)

            assert live.streams == 1  # the refused ones never counted
        assert busy.status_code == 503
        assert busy.headers["retry-after"] == "30"
        assert busy.headers["content-type"] == "text/plain; charset=utf-8"
        assert busy.headers["cache-control"] == "no-store"
        assert "set-cookie" not in busy.headers
        assert busy.text == BUSY_EN
        assert (busy_id.status_code, busy_id.text) == (503, BUSY_ID)

        wait_until(lambda: live.streams == 0)
        with stream(client, path) as again:
            assert again.block() == b"retry: 5000"
            assert again.count() == counts_of(view, 0)
            assert live.streams == 1
        wait_until(lambda: live.streams == 0)


@pytest.mark.server
def test_a_quiet_stream_gets_keep_alive_comments(
    engine: sa.Engine, make_campaign: MakeCampaign
) -> None:
    view = make_campaign()

    with (
        serving(engine, live_keepalive_seconds=0.3) as server,
        httpx2.Client(base_url=server.url, timeout=TIMEOUT) as client,
        stream(client, f"/c/{view.slug}/events") as events,
    ):
        assert events.block() == b"retry: 5000"
        assert events.count() == counts_of(view, 0)
        started = time.monotonic()
        quiet = [events.block(), events.block()]
        elapsed = time.monotonic() - started

    assert quiet == [b": keep-alive", b": keep-alive"]
    assert 0.5 <= elapsed < 10  # the 0.3 s set, not the 15 s default; room for a busy machine


# --- not a stream -------------------------------------------------------------------------


def text_of(page: BeautifulSoup, selector: str) -> str:
    found = page.select_one(selector)
    assert found is not None, f"nothing matches {selector!r}"
    return found.get_text(strip=True)


@pytest.mark.parametrize("which", ["unknown", "draft"])
def test_an_unknown_or_draft_campaign_has_an_error_page_not_a_stream(
    client: TestClient, app: FastAPI, make_campaign: MakeCampaign, which: str
) -> None:
    slug = make_campaign(status="draft").slug if which == "draft" else "tidak-ada"

    response = client.get(f"/c/{slug}/events?lang=en")

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    page = html(response)
    assert text_of(page, "section.error-page h1") == "Page not found"
    assert text_of(page, "section.error-page .detail") == "We could not find that campaign."
    assert "retry:" not in response.text and "event:" not in response.text
    assert "set-cookie" not in response.headers
    assert (app.state.live.streams, app.state.live.campaigns) == (0, 0)


# --- the event and the channel ------------------------------------------------------------


def a_view(goal: int = 5000) -> CampaignView:
    campaign = Campaign(
        id=7, slug="suarakan-cintamu", title="Suarakan Cintamu ❤ “2029”", lead_org_id=1, goal=goal
    )
    return CampaignView(
        campaign=campaign,
        pledges=[
            Pledge(id=11, campaign_id=7, slug="tolak-politik-uang", text="Tolak politik uang"),
            Pledge(id=12, campaign_id=7, slug="jaga-pemilu-ñ", text="Jaga pemilu"),
        ],
        partners=[
            PartnerView(
                id=21,
                slug="yayasan-nusantara",
                name="Yayasan Ñusantara",
                website=None,
                referral_code="abc234",
                is_lead=True,
            ),
            PartnerView(
                id=22,
                slug="komunitas-muda-é",
                name="Komunitas Muda",
                website="https://muda.example",
                referral_code="xyz789",
                is_lead=False,
            ),
        ],
    )


def counts(total: int, changed_at: datetime | None = None, **by_key: int) -> Counts:
    keys = {"total": total, **{k.replace("_", ":"): v for k, v in by_key.items()}}
    return Counts(total=total, by_key=keys, changed_at=changed_at)


def test_count_event_is_one_compact_utf8_data_line() -> None:
    event = count_event(a_view(), counts(3, pledge_11=2, partner_22=1))

    assert (
        event
        == (
            "event: count\n"
            'data: {"supporters":3,"pending":0,"goal":5000,'
            '"pledges":{"tolak-politik-uang":2,"jaga-pemilu-ñ":0},'
            '"partners":{"yayasan-nusantara":0,"komunitas-muda-é":1}}\n\n'
        ).encode()
    )
    assert "ñ".encode() in event  # UTF-8 as the event-stream type requires, not \u escapes


def test_count_event_of_a_campaign_without_signatures_lists_every_pledge_and_partner() -> None:
    event = count_event(a_view(goal=1), counts(0))

    assert event.endswith(b"\n\n") and event.count(b"\n") == 3
    assert event_data(event.removesuffix(b"\n\n")) == {
        "supporters": 0,
        "pending": 0,
        "goal": 1,
        "pledges": {"tolak-politik-uang": 0, "jaga-pemilu-ñ": 0},
        "partners": {"yayasan-nusantara": 0, "komunitas-muda-é": 0},
    }


T = TypeVar("T")


def in_own_loop(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine on an event loop of its own, in a thread: the browser tests' Playwright
    keeps a loop running in the main thread, where asyncio.run would refuse to start."""
    with ThreadPoolExecutor(1) as pool:
        # With this thread's context: the language the test chose, for one.
        context = contextvars.copy_context()
        return pool.submit(context.run, lambda: asyncio.run(make())).result()


def test_channel_wakes_its_streams_only_when_the_event_changes() -> None:
    async def run() -> None:
        view = a_view()
        channel = Channel(view, counts(1, pledge_11=1))
        first_message, first_wait = channel.message, channel.changed

        # The same numbers read again, even with a newer time, wake nobody.
        channel.update(counts(1, changed_at=datetime.now(UTC), pledge_11=1))
        assert channel.message is first_message
        assert channel.changed is first_wait and not first_wait.done()

        channel.update(counts(2, pledge_11=1, pledge_12=1))
        assert first_wait.done() and first_wait.result() is None
        assert channel.message == count_event(view, counts(2, pledge_11=1, pledge_12=1))
        second_wait = channel.changed
        assert second_wait is not first_wait and not second_wait.done()

        channel.update(counts(2, pledge_11=1, pledge_12=1))
        assert not second_wait.done()

        channel.update(counts(1, pledge_11=1))  # a withdrawal is a change too
        assert second_wait.done()
        assert channel.message == first_message

    in_own_loop(run)


def test_the_hub_refuses_a_stream_beyond_the_cap_even_after_the_route_let_it_through(
    engine: sa.Engine,
) -> None:
    view = a_view()

    async def run() -> list[Message]:
        live = LiveCounts(engine, interval=60, keepalive=60, max_streams=1)
        channel = live.subscribe(view, counts(0))
        with pytest.raises(StreamsFull):
            live.subscribe(view, counts(0))
        assert (live.streams, live.campaigns) == (1, 1)

        sent: list[Message] = []

        async def receive() -> Message:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: Message) -> None:
            sent.append(message)

        scope = {"type": "http", "method": "GET", "path": "/c/x/events", "headers": []}
        await EventStream(live, view, counts(0))(scope, receive, send)
        assert live.streams == 1

        live.unsubscribe(channel)
        assert (live.streams, live.campaigns) == (0, 0)
        return sent

    start, body = in_own_loop(run)
    assert start["status"] == 503
    assert (b"retry-after", b"30") in start["headers"]
    assert body["body"].decode() == BUSY_EN


def test_app_live_hub_takes_its_limits_from_the_settings(engine: sa.Engine) -> None:
    settings = get_settings().model_copy(
        update={"live_interval_seconds": 0.5, "live_keepalive_seconds": 7, "live_streams_max": 3}
    )
    app: FastAPI = create_app(settings, engine=engine)
    live: LiveCounts = app.state.live

    assert (live.interval, live.keepalive, live.max_streams) == (0.5, 7, 3)
    assert live.engine is engine
    assert (live.streams, live.full) == (0, False)
