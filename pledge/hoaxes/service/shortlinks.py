"""Short links: recognised offline, and followed to the post they lead to.

A short link (vt.tiktok.com/ZS..., s.id/..., bit.ly/...) hides the post it opens, so two
reports of one post may carry two different short links. ``resolve`` asks the short-link
service where it leads, with the standard library only, and stops at the first address off
the short-link services: that address is never fetched. It is written to be run on links
anybody can type: only http and https, only public addresses (a name is looked up once and
that exact address is connected to, so a second lookup cannot point it elsewhere), no
cookies, no body read, a handful of redirects, and one deadline for the whole walk. It never
raises: a link it cannot follow gives None.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import socket
import ssl
import threading
import time
from urllib.parse import SplitResult, urljoin, urlsplit

from pledge.config import get_settings

# Services whose every link is a redirect to somewhere else. youtu.be is not one: the
# video's id is in its path (see urls.canonical_url).
SHORT_LINK_HOSTS = frozenset(
    {
        "vt.tiktok.com",
        "vm.tiktok.com",
        "s.id",
        "bit.ly",
        "bitly.com",
        "t.co",
        "fb.me",
        "fb.watch",
        "tinyurl.com",
        "cutt.ly",
        "shorturl.at",
        "lnkd.in",
        "goo.gl",
        "maps.app.goo.gl",
        "ow.ly",
        "buff.ly",
        "is.gd",
        "v.gd",
        "rebrand.ly",
        "dub.sh",
        "t.ly",
        "rb.gy",
        "shorturl.asia",
        "trib.al",
        "dlvr.it",
        "ift.tt",
        "linktr.ee",
        "lynk.id",
        "bit.do",
        "kutt.it",
        "tiny.cc",
        "short.gy",
        "x.gd",
    }
)
# Share links inside the platforms themselves: tiktok.com/t/..., facebook.com/share/p/...
_SHORT_LINK_PATHS = {
    "tiktok.com": ("/t/",),
    "facebook.com": ("/share/",),
    "instagram.com": ("/share/",),
}
_FRONT_ENDS = ("www.", "m.", "web.", "mobile.")
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
# Answers to HEAD after which the same link is asked again with GET.
_HEAD_REFUSED = frozenset({400, 403, 404, 405, 406, 429, 500, 501, 502, 503})
_LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".lan", ".home.arpa", ".intranet")
_USER_AGENT = "Mozilla/5.0 (compatible; pledge-link-check/1.0)"


def _parts(url: str) -> SplitResult | None:
    text = url.strip()
    if "://" not in text:
        text = "https://" + text.removeprefix("//")
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return parts


def _host(parts: SplitResult) -> str:
    host = (parts.hostname or "").rstrip(".")
    if not host.isascii():
        with contextlib.suppress(UnicodeError):
            host = host.encode("idna").decode("ascii")
    for prefix in _FRONT_ENDS:
        rest = host.removeprefix(prefix)
        if rest != host and "." in rest:
            host = rest
    return host


def is_short_link(url: str) -> bool:
    """Whether the link is a short link: it says nothing of the post until followed."""
    parts = _parts(url)
    if parts is None:
        return False
    host = _host(parts)
    if host in SHORT_LINK_HOSTS:
        return bool(parts.path.strip("/"))
    paths = _SHORT_LINK_PATHS.get(host, ())
    return any(parts.path.lower().startswith(prefix) for prefix in paths)


def _public(address: str) -> bool:
    """Whether an address is on the public internet: not private, loopback, link-local,
    multicast, reserved, unspecified or shared (carrier-grade NAT)."""
    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast and not ip.is_reserved


def never_fetch(url: str) -> bool:
    """Whether a link must never be fetched by the site: not http(s), an IP address, or a
    name that only means something inside a network (localhost, .local, a single label).
    Such links are still accepted as a report's text."""
    parts = _parts(url)
    if parts is None:
        return True
    host = (parts.hostname or "").rstrip(".").lower()
    try:
        ipaddress.ip_address(host.split("%")[0])
        return True
    except ValueError:
        pass
    return host == "localhost" or "." not in host or host.endswith(_LOCAL_SUFFIXES)


def _lookup(host: str, port: int, seconds: float) -> list[str] | None:
    """The host's addresses, looked up once, within the time left (None past it)."""
    found: list[str] = []
    done = threading.Event()

    def look() -> None:
        try:
            for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
                found.append(str(info[4][0]))
        except (OSError, UnicodeError):
            pass
        finally:
            done.set()

    threading.Thread(target=look, daemon=True, name="short-link-lookup").start()
    if not done.wait(max(seconds, 0.0)):
        return None
    return found or None


class _Pinned(http.client.HTTPConnection):
    """A connection to the one address looked up, whatever the name would say now."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedTLS(http.client.HTTPSConnection):
    """The same over TLS: the certificate is checked against the name, not the address."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        self._tls = ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=self._tls)
        self._address = address

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._tls.wrap_socket(raw, server_hostname=self.host)


def _hang_up(connection: http.client.HTTPConnection) -> None:
    """End a connection from another thread: a shut-down socket wakes the read that waits."""
    sock = connection.sock
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _server(parts: SplitResult, origin: str | None) -> tuple[str, str, int, bool]:
    """Where a short link is asked: its own host, or in tests the one test origin (the only
    server allowed on loopback). Scheme, host, port, and whether loopback is allowed."""
    scheme = parts.scheme.lower()
    if origin:
        parts, scheme = urlsplit(origin), urlsplit(origin).scheme
    port = parts.port or (443 if scheme == "https" else 80)
    return scheme, parts.hostname or "", port, bool(origin)


def _address(host: str, port: int, deadline: float, loopback_allowed: bool) -> str | None:
    """The one address to connect to: None unless every address of the name is public."""
    addresses = _lookup(host, port, deadline - time.monotonic())
    if not addresses:
        return None
    for address in addresses:
        loopback = loopback_allowed and ipaddress.ip_address(address.split("%")[0]).is_loopback
        if not (loopback or _public(address)):
            return None
    return addresses[0]


def _ask(parts: SplitResult, method: str, deadline: float, origin: str | None) -> int | str | None:
    """One request: the Location of a redirect, else the status (None: no answer)."""
    if parts.port not in (None, 80, 443):
        return None
    scheme, host, port, loopback_allowed = _server(parts, origin)
    address = _address(host, port, deadline, loopback_allowed)
    remaining = deadline - time.monotonic()
    if address is None or remaining <= 0:
        return None
    kind = _PinnedTLS if scheme == "https" else _Pinned
    connection = kind(host, port, address, remaining)
    # The deadline holds even for a server that answers one byte at a time.
    watchdog = threading.Timer(remaining, _hang_up, (connection,))
    watchdog.daemon = True
    watchdog.start()
    try:
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        connection.putheader("Host", parts.netloc.rpartition("@")[2])
        connection.putheader("User-Agent", _USER_AGENT)
        connection.putheader("Accept", "*/*")
        connection.putheader("Connection", "close")
        connection.endheaders()
        response = connection.getresponse()  # the body is never read
        location = response.getheader("Location")
        if response.status in _REDIRECTS and location:
            return location
        return response.status
    finally:
        watchdog.cancel()
        connection.close()


def resolve(url: str, *, timeout: float = 3.0, max_redirects: int = 5) -> str | None:
    """Where a short link leads: the first address its redirects reach that is not itself a
    short link (not fetched). A link that is not a short link is given back as it is. None
    when it leads nowhere within ``timeout`` seconds and ``max_redirects`` redirects, leaves
    http(s), or passes through a server on a private, loopback or otherwise non-public
    address. Never raises."""
    deadline = time.monotonic() + timeout
    origin = get_settings().short_link_test_origin
    current = url.strip()
    redirects = 0
    try:
        while True:
            parts = _parts(current)
            if parts is None:
                return None
            if not is_short_link(current):
                if redirects and never_fetch(current):
                    return None  # a short link to a machine inside a network
                return current
            try:
                answer = _ask(parts, "HEAD", deadline, origin)
            except (http.client.RemoteDisconnected, ConnectionResetError):
                answer = 405  # a server that hangs up on HEAD
            if isinstance(answer, int) and answer in _HEAD_REFUSED:
                answer = _ask(parts, "GET", deadline, origin)
            if not isinstance(answer, str):
                return None
            redirects += 1
            if redirects > max_redirects:
                return None
            current = urljoin(parts.geturl(), answer.strip())
            if urlsplit(current).scheme.lower() not in ("http", "https"):
                return None
    except (OSError, http.client.HTTPException, ValueError, UnicodeError):
        return None
