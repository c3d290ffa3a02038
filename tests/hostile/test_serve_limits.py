"""`pledge serve` faces the internet without a proxy: request heads are bounded in size, count
and time, idle connections close, and a restart ends live streams at once.

Each test talks to a real server process through a raw socket, as an attacker would."""

from __future__ import annotations

import select
import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest

from pledge.web.server import KEEP_ALIVE_SECONDS, MAX_HEAD_BYTES, MAX_HEADERS
from tests.support.appserver import AppProcess, app_process
from tests.support.factories import MakeCampaign

pytestmark = pytest.mark.server

HEADER_TIMEOUT = 2.0


@pytest.fixture(scope="module")
def server() -> Iterator[AppProcess]:
    with app_process(PLEDGE_HEADER_TIMEOUT_SECONDS=str(HEADER_TIMEOUT)) as running:
        yield running


def connect(server: AppProcess, timeout: float = 15) -> socket.socket:
    host, port = server.url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=timeout)


def read_all(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def read_response(sock: socket.socket) -> bytes:
    """One whole answer (its head, then as many bytes as its Content-Length says)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, body
        body += chunk
    return head + b"\r\n\r\n" + body


def readable(sock: socket.socket, wait: float = 0) -> bool:
    return bool(select.select([sock], [], [], wait)[0])


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


HEAD = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"


def test_an_endless_header_is_cut_off_with_431_without_growing_the_process(
    server: AppProcess,
) -> None:
    before = rss_kib(server.process.pid)
    sent = 0
    with connect(server) as sock:
        sock.sendall(HEAD + b"X-Padding: ")
        try:
            while sent < 64 * 1024 * 1024 and not readable(sock):
                sock.sendall(b"a" * 65536)
                sent += 65536
            answer = read_all(sock)
        except (BrokenPipeError, ConnectionResetError):
            # The server closed while bytes it will never read were on their way: the kernel
            # resets the connection, and may drop the answer with it.
            answer = b"reset"
    assert answer.startswith(b"HTTP/1.1 431 ") or answer == b"reset", (sent, answer[:200])
    # Cut off after tens of kilobytes (plus what the kernel's buffers took), not 64 MiB.
    assert sent < 16 * 1024 * 1024, sent
    assert rss_kib(server.process.pid) - before < 16 * 1024
    # The server still answers everyone else.
    assert httpx.get(server.url + "/healthz").status_code == 200


def test_a_head_just_under_the_size_limit_is_served(server: AppProcess) -> None:
    padding = b"a" * (MAX_HEAD_BYTES - 200)
    with connect(server) as sock:
        sock.sendall(HEAD + b"X-Padding: " + padding + b"\r\nConnection: close\r\n\r\n")
        answer = read_all(sock)
    assert answer.startswith(b"HTTP/1.1 200 "), answer[:200]


@pytest.mark.parametrize(("headers", "status"), [(MAX_HEADERS, b"200"), (MAX_HEADERS + 1, b"431")])
def test_more_than_a_hundred_headers_get_431(
    server: AppProcess, headers: int, status: bytes
) -> None:
    # Host and Connection are two of them.
    extra = b"".join(b"X-H%d: v\r\n" % n for n in range(headers - 2))
    with connect(server) as sock:
        sock.sendall(HEAD + extra + b"Connection: close\r\n\r\n")
        answer = read_all(sock)
    assert answer.startswith(b"HTTP/1.1 " + status + b" "), answer[:200]
    if status == b"431":
        assert answer.endswith(b"The request's headers are too large.")


def test_a_trickled_head_is_answered_408_when_its_time_is_up(server: AppProcess) -> None:
    started = time.monotonic()
    with connect(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\n")
        # One header line every half second, never the blank line that ends the head, until
        # the server answers.
        for n in range(40):
            if readable(sock, wait=0.5):
                break
            sock.sendall(b"X-Slow-%d: v\r\n" % n)
        answer = read_all(sock)
    elapsed = time.monotonic() - started
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
    assert answer.endswith(b"The request took too long to arrive.")
    assert b"Permintaan terlalu lama sampai." in answer
    # The server's event loop (uvloop, over libuv) times in whole milliseconds from a clock it
    # reads once per turn, so its timer may end up to a few milliseconds before this one.
    assert HEADER_TIMEOUT - 0.01 <= elapsed < HEADER_TIMEOUT + 8, elapsed


def test_a_connection_that_sends_nothing_is_closed(server: AppProcess) -> None:
    started = time.monotonic()
    with connect(server) as sock:
        assert read_all(sock) == b""
    # Milliseconds early at most, as above.
    assert HEADER_TIMEOUT - 0.01 <= time.monotonic() - started < HEADER_TIMEOUT + 8


def test_a_slow_phone_within_the_time_gets_its_page_and_may_keep_the_connection(
    server: AppProcess,
) -> None:
    with connect(server) as sock:
        for piece in (b"GET /healthz HT", b"TP/1.1\r\nHost: 127.", b"0.0.1\r\n\r\n"):
            sock.sendall(piece)
            time.sleep(HEADER_TIMEOUT / 4)
        first = read_response(sock)
        assert first.startswith(b"HTTP/1.1 200 "), first[:200]
        # Kept alive: a second request on the same connection, a second later, is answered;
        # the time for its head counts from its own first byte.
        time.sleep(1)
        sock.sendall(HEAD + b"Connection: close\r\n\r\n")
        second = read_all(sock)
    assert second.startswith(b"HTTP/1.1 200 "), second[:200]


def test_an_idle_keep_alive_connection_is_closed(server: AppProcess) -> None:
    with connect(server) as sock:
        started = time.monotonic()
        sock.sendall(HEAD + b"\r\n")
        assert read_response(sock).startswith(b"HTTP/1.1 200 ")
        assert read_all(sock) == b""
    # Closed by the server's own timer, counted from the answer: not at once, not never. (A
    # busy machine may take its time to hand over the answer, hence the loose bounds.)
    elapsed = time.monotonic() - started
    assert KEEP_ALIVE_SECONDS / 2 <= elapsed < KEEP_ALIVE_SECONDS + 10, elapsed


def test_a_restart_ends_open_live_streams_at_once(make_campaign: MakeCampaign) -> None:
    view = make_campaign()
    with app_process() as server:
        with connect(server) as sock:
            sock.sendall(
                b"GET /c/%s/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" % view.slug.encode()
            )
            received = sock.recv(65536)
            assert received.startswith(b"HTTP/1.1 200 "), received[:200]
            assert b"event: count" in received or b"event: count" in sock.recv(65536)

            stopping = time.monotonic()
            server.process.send_signal(signal.SIGTERM)
            rest = read_all(sock)
            ended_in = time.monotonic() - stopping
            server.process.wait(timeout=30)
            exited_in = time.monotonic() - stopping
        log = server.log()
    # The stream ended as a chunked answer ends, not by a cut connection.
    assert rest.endswith(b"0\r\n\r\n"), rest[-200:]
    # Without this, the server waited its whole graceful delay (10 s) for the stream.
    assert ended_in < 3, ended_in
    assert exited_in < 5, exited_in
    # uvicorn ends as the signal asked, once it has shut down cleanly.
    assert server.process.returncode in (0, -signal.SIGTERM), log[-2000:]
    assert "Application shutdown complete" in log
    assert "ASGI callable returned without completing response" not in log
    assert "Traceback" not in log
