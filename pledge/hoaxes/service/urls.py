"""Links to hoaxes: the one spelling of every way a link to the same page gets shared, and the
check of a link a reporter sends."""

from __future__ import annotations

import re
from urllib.parse import SplitResult, parse_qsl, quote, urlencode, urlsplit, urlunsplit

from pledge.i18n import gettext as _

URL_MAX = 2048

# Subdomains that serve the same page as the bare domain.
_ALIAS_PREFIXES = ("www.", "m.", "mobile.", "web.")
# Facebook's other front ends for phones and slow connections.
_FACEBOOK_PREFIXES = ("touch.", "mbasic.", "free.", "lite.", "d.")
_HOST_ALIASES = {
    "twitter.com": "x.com",
    "fb.com": "facebook.com",
    "instagr.am": "instagram.com",
    "youtube-nocookie.com": "youtube.com",
}
# Query parameters that say who shared a link or where it was clicked, not what it shows.
_TRACKING = frozenset(
    {
        "fbclid",
        "gclid",
        "gbraid",
        "wbraid",
        "dclid",
        "msclkid",
        "yclid",
        "igshid",
        "igsh",
        "si",
        "ref",
        "ref_src",
        "ref_url",
        "mibextid",
        "share_id",
        "mc_cid",
        "mc_eid",
        "_ga",
        "_gl",
        "feature",
        "app",
        "is_from_webapp",
        "sender_device",
        "sender_web_id",
    }
)
# On X, ?s=20&t=... record the app that shared the post.
_TRACKING_BY_HOST = {"x.com": frozenset({"s", "t"})}
_PERCENT = re.compile(r"%[0-9a-fA-F]{2}")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_DEFAULT_PORTS = {"http": 80, "https": 443}

Query = list[tuple[str, str]]


def _normalise_escapes(text: str) -> str:
    """Upper-case percent escapes, and decode those that stand for unreserved characters."""

    def fix(match: re.Match[str]) -> str:
        char = chr(int(match.group(0)[1:], 16))
        return char if char in _UNRESERVED else match.group(0).upper()

    return _PERCENT.sub(fix, text)


def _host(raw: str) -> str:
    host = raw.lower().rstrip(".")
    stripped = True
    while stripped:
        stripped = False
        for prefix in _ALIAS_PREFIXES:
            rest = host.removeprefix(prefix)
            if rest != host and "." in rest:
                host, stripped = rest, True
    for prefix in _FACEBOOK_PREFIXES:
        if host == prefix + "facebook.com":
            host = "facebook.com"
    return _HOST_ALIASES.get(host, host)


def _netloc(host: str, parts: SplitResult) -> str:
    """The host as a link writes it, with its port unless that is the scheme's default."""
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = f"[{host}]" if ":" in host else host  # an IPv6 address
    if port is not None and port != _DEFAULT_PORTS.get(parts.scheme.lower()):
        netloc = f"{netloc}:{port}"
    return netloc


def _video_address(host: str, netloc: str, path: str, query: Query) -> tuple[str, str, str, Query]:
    """youtu.be/ID and youtube.com/shorts/ID as youtube.com/watch?v=ID."""
    if host == "youtu.be" and path.strip("/"):
        host = netloc = "youtube.com"
        query = [("v", path.strip("/").split("/")[0]), *query]
        path = "/watch"
    if host == "youtube.com":
        if path.startswith("/shorts/") and path.removeprefix("/shorts/").strip("/"):
            query = [("v", path.removeprefix("/shorts/").strip("/").split("/")[0]), *query]
            path = "/watch"
        if path.rstrip("/") == "/watch":
            # The video is the v parameter; timestamps and playlists show the same video.
            query = [(key, value) for key, value in query if key == "v"][:1]
    return host, netloc, path, query


def _kept_parameters(host: str, query: Query) -> Query:
    """The query without its tracking parameters, sorted."""
    drop = _TRACKING_BY_HOST.get(host, frozenset())
    return sorted(
        (key, value)
        for key, value in query
        if not key.lower().startswith("utm_")
        and key.lower() not in _TRACKING
        and key.lower() not in drop
    )


def canonical_url(raw: str) -> str:
    """One spelling for every way a link to the same page gets shared.

    Scheme and host lower-case, http and https alike, ``www.``/``m.``/``mobile.``/``web.``
    dropped, twitter.com as x.com, youtu.be/ID as youtube.com/watch?v=ID, no default port,
    no credentials, no fragment, no tracking parameters, the rest sorted, no trailing slash.
    """
    parts = urlsplit(raw.strip())
    host = _host(parts.hostname or "")
    path = _normalise_escapes(parts.path) or "/"
    query = parse_qsl(parts.query, keep_blank_values=True)
    host, netloc, path, query = _video_address(host, _netloc(host, parts), path, query)
    kept = _kept_parameters(host, query)
    path = path.rstrip("/")
    # Every link counts as https: the page is the same, and phones rewrite one to the other.
    url = urlunsplit(("https", netloc, quote(path, safe="/%:@!$&'()*+,;=-._~"), "", ""))
    if kept:
        url += "?" + urlencode(kept, quote_via=quote, safe=":@!$'()*,;/")
    return url


def clean_url(raw: str) -> str:
    """The link as the reporter gave it, checked; a missing scheme is taken as https."""
    value = raw.strip()
    if not value:
        return ""
    if len(value) > URL_MAX:
        raise ValueError(_("That link is too long. Copy the link again, or send a screenshot."))
    if re.search(r"[\s\x00-\x1f\x7f]", value):
        raise ValueError(_("A link has no spaces. Copy the link again and paste it here."))
    if "://" not in value and re.match(r"^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+([/?#:]|$)", value):
        value = "https://" + value
    parts = urlsplit(value)
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        parts = parts._replace(scheme="")
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValueError(
            _("Enter a web link that starts with https:// (copy it from the app's Share button).")
        )
    if len(value) > URL_MAX or len(canonical_url(value)) > URL_MAX:
        raise ValueError(_("That link is too long. Copy the link again, or send a screenshot."))
    return value
