"""Short links are followed on loopback only: a server in a thread plays every short-link
service (PLEDGE_SHORT_LINK_TEST_ORIGIN), and name lookups are replaced where a test needs a
name to point somewhere. Nothing leaves the machine."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
from pydantic import ValidationError

from pledge.config import Settings
from pledge.hoaxes.service import SHORT_LINK_HOSTS, is_short_link, never_fetch, resolve, shortlinks
from tests.support.settings import UseSettings

TARGET = "https://www.tiktok.com/@akun/video/7312345678901234567?_t=8iAbC&_r=1"
# (Host, path) -> (status, Location); "HEAD" answers for HEAD only, when it differs.
ROUTES: dict[tuple[str, str], tuple[int, str]] = {
    ("bit.ly", "/chain"): (301, "http://s.id/step2"),
    ("s.id", "/step2"): (302, "https://vt.tiktok.com/ZS3abc/"),
    ("vt.tiktok.com", "/ZS3abc/"): (307, TARGET),
    ("bit.ly", "/relative"): (302, "/chain"),
    ("bit.ly", "/loop"): (302, "https://bit.ly/loop"),
    ("bit.ly", "/private"): (302, "http://10.0.0.1/admin"),
    ("bit.ly", "/metadata"): (302, "http://169.254.169.254/latest/meta-data/"),
    ("bit.ly", "/loopback"): (302, "http://127.0.0.1:8000/admin"),
    ("bit.ly", "/localhost"): (302, "http://localhost/admin"),
    ("bit.ly", "/script"): (302, "javascript:alert(1)"),
    ("bit.ly", "/intent"): (302, "intent://scan/#Intent;scheme=zxing;end"),
    ("bit.ly", "/nowhere"): (200, ""),
    ("bit.ly", "/head-refused"): (302, "https://example.com/sasaran"),
    ("bit.ly", "/cookie"): (302, "https://s.id/cookie-back"),
    ("s.id", "/cookie-back"): (302, "https://example.com/tanpa-kue"),
    ("bit.ly", "/off-site"): (302, "https://example.com/pertama"),
    ("example.com", "/pertama"): (302, "https://example.com/kedua"),
}


class Handler(BaseHTTPRequestHandler):
    seen: ClassVar[list[tuple[str, str, str, str | None]]] = []

    def answer(self) -> None:
        host = (self.headers.get("Host") or "").lower()
        Handler.seen.append((self.command, host, self.path, self.headers.get("Cookie")))
        if self.path == "/head-refused" and self.command == "HEAD":
            self.send_response(405)
            self.end_headers()
            return
        status, location = ROUTES.get((host, self.path), (404, ""))
        self.send_response(status)
        if location:
            self.send_header("Location", location)
        self.send_header("Set-Cookie", "sesi=rahasia; Path=/")
        self.send_header("Content-Length", "2")
        self.end_headers()
        if self.command == "GET":
            self.wfile.write(b"ok")

    do_GET = answer
    do_HEAD = answer

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def origin(use_settings: UseSettings) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    Handler.seen = []
    address = f"http://127.0.0.1:{server.server_address[1]}"
    use_settings(short_link_test_origin=address)
    yield address
    server.shutdown()
    server.server_close()


def test_a_chain_of_redirects_is_followed_to_the_post(origin: str) -> None:
    assert resolve("https://bit.ly/chain") == TARGET
    assert [(method, host) for method, host, _path, _cookie in Handler.seen] == [
        ("HEAD", "bit.ly"),
        ("HEAD", "s.id"),
        ("HEAD", "vt.tiktok.com"),
    ]
    assert resolve("bit.ly/relative") == TARGET


def test_the_first_address_off_the_short_link_services_is_the_answer(origin: str) -> None:
    assert resolve("https://bit.ly/off-site") == "https://example.com/pertama"
    assert all(host == "bit.ly" for _method, host, _path, _cookie in Handler.seen)


def test_a_link_that_is_not_short_is_never_fetched(origin: str) -> None:
    for url in (TARGET, "https://youtu.be/Xk7mP2qR9sT", f"{origin}/chain"):
        assert resolve(url) == url
    assert Handler.seen == []


def test_too_many_redirects_lead_nowhere(origin: str) -> None:
    assert resolve("https://bit.ly/loop", max_redirects=3) is None
    assert len(Handler.seen) == 4
    assert resolve("https://bit.ly/chain", max_redirects=2) is None
    assert resolve("https://bit.ly/chain", max_redirects=3) == TARGET


@pytest.mark.parametrize(
    "path", ["/private", "/metadata", "/loopback", "/localhost", "/script", "/intent", "/nowhere"]
)
def test_a_short_link_to_an_inside_address_or_another_scheme_leads_nowhere(
    origin: str, path: str
) -> None:
    assert resolve(f"https://bit.ly{path}") is None


def test_head_refused_is_asked_again_with_get(origin: str) -> None:
    assert resolve("https://bit.ly/head-refused") == "https://example.com/sasaran"
    assert [method for method, *_rest in Handler.seen] == ["HEAD", "GET"]


def test_cookies_are_never_sent_back(origin: str) -> None:
    assert resolve("https://bit.ly/cookie") == "https://example.com/tanpa-kue"
    assert len(Handler.seen) == 2
    assert all(cookie is None for *_rest, cookie in Handler.seen)


# --- addresses: looked up once, and only public ones connected to -------------------------


@pytest.fixture
def lookups(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, list[object]]]:
    """Name lookups answered by the test, and connections recorded instead of made."""
    record: dict[str, list[object]] = {"answers": [], "looked_up": [], "connected": []}

    def getaddrinfo(host: str, port: int, *args: object, **kwargs: object) -> list[object]:
        record["looked_up"].append(host)
        return [
            (
                socket.AF_INET6 if ":" in str(a) else socket.AF_INET,
                socket.SOCK_STREAM,
                6,
                "",
                (a, port),
            )
            for a in record["answers"]
        ]

    def create_connection(address: tuple[str, int], *args: object, **kwargs: object) -> None:
        record["connected"].append(address)
        raise ConnectionRefusedError("no network in tests")

    monkeypatch.setattr(shortlinks.socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(shortlinks.socket, "create_connection", create_connection)
    yield record


@pytest.mark.parametrize(
    "answers",
    [
        ["127.0.0.1"],
        ["10.0.0.1"],
        ["192.168.1.1"],
        ["172.16.0.1"],
        ["169.254.169.254"],
        ["100.64.0.1"],
        ["0.0.0.0"],  # noqa: S104 - an answer to refuse, not an address to listen on
        ["224.0.0.1"],
        ["240.0.0.1"],
        ["::1"],
        ["fe80::1"],
        ["fc00::1"],
        ["::ffff:10.0.0.1"],
        ["93.184.216.34", "10.0.0.1"],
    ],
)
def test_a_name_that_points_inside_is_never_connected_to(
    lookups: dict[str, list[object]], answers: list[str]
) -> None:
    lookups["answers"] = list(answers)
    assert resolve("https://bit.ly/abc") is None
    assert lookups["looked_up"] == ["bit.ly"]
    assert lookups["connected"] == []


def test_the_address_looked_up_is_the_one_connected_to(lookups: dict[str, list[object]]) -> None:
    lookups["answers"] = ["93.184.216.34"]
    assert resolve("https://bit.ly/abc") is None  # the connection is refused
    assert lookups["looked_up"] == ["bit.ly"]
    assert lookups["connected"] == [("93.184.216.34", 443)]


def test_without_the_test_origin_loopback_is_refused(lookups: dict[str, list[object]]) -> None:
    lookups["answers"] = ["127.0.0.1"]
    assert resolve("http://s.id/abc") is None
    assert lookups["connected"] == []


# --- the deadline ----------------------------------------------------------------------------


@pytest.fixture
def silent(use_settings: UseSettings) -> Iterator[socket.socket]:
    """A server that accepts connections and never answers."""
    listener = socket.create_server(("127.0.0.1", 0))
    use_settings(short_link_test_origin=f"http://127.0.0.1:{listener.getsockname()[1]}")
    yield listener
    listener.close()


def test_a_server_that_never_answers_is_given_up_on_in_time(silent: socket.socket) -> None:
    started = time.monotonic()
    assert resolve("https://bit.ly/diam", timeout=0.5) is None
    assert time.monotonic() - started < 0.5 + 0.5


def test_a_server_that_answers_a_byte_at_a_time_is_given_up_on_in_time(
    silent: socket.socket,
) -> None:
    stop = threading.Event()

    def drip() -> None:
        connection, _address = silent.accept()
        with connection:
            connection.sendall(b"HTTP/1.1 302 Found\r\n")
            while not stop.is_set():
                try:
                    connection.sendall(b"X")
                except OSError:
                    return
                time.sleep(0.05)

    thread = threading.Thread(target=drip, daemon=True)
    thread.start()
    started = time.monotonic()
    assert resolve("https://bit.ly/tetes", timeout=0.5) is None
    assert time.monotonic() - started < 0.5 + 0.5
    stop.set()
    thread.join(2)


# --- recognising links ---------------------------------------------------------------------


def test_short_link_hosts() -> None:
    assert {"vt.tiktok.com", "vm.tiktok.com", "s.id", "bit.ly", "t.co", "fb.me"} <= SHORT_LINK_HOSTS
    assert {"fb.watch", "tinyurl.com", "cutt.ly", "shorturl.at", "lnkd.in", "goo.gl"} <= (
        SHORT_LINK_HOSTS
    )
    assert "youtu.be" not in SHORT_LINK_HOSTS
    assert not is_short_link("https://bit.ly/")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/a",
        "https://10.0.0.1:8080/",
        "http://[::1]/a",
        "http://localhost:8000/admin",
        "https://printer.local/",
        "http://intranet/",
        "https://8.8.8.8/",
        "ftp://example.com/a",
        "not a link",
    ],
)
def test_links_never_to_fetch(url: str) -> None:
    assert never_fetch(url)


def test_ordinary_links_may_be_fetched() -> None:
    assert not never_fetch("https://bit.ly/abc")
    assert not never_fetch("https://www.kompas.com/read/1")


# --- the setting ---------------------------------------------------------------------------


def test_production_refuses_to_start_with_a_short_link_test_origin() -> None:
    with pytest.raises(ValidationError, match="PLEDGE_SHORT_LINK_TEST_ORIGIN"):
        Settings(
            env="production",
            secret_key="k" * 40,
            public_url="https://suara.example.org",
            short_link_test_origin="http://127.0.0.1:8081",
        )


def test_the_test_origin_is_an_origin() -> None:
    assert Settings(env="test").short_link_test_origin is None
    settings = Settings(env="test", short_link_test_origin="HTTP://127.0.0.1:8081/")
    assert settings.short_link_test_origin == "http://127.0.0.1:8081"
    with pytest.raises(ValidationError, match="PLEDGE_SHORT_LINK_TEST_ORIGIN"):
        Settings(env="test", short_link_test_origin="http://127.0.0.1:8081/bit.ly")
