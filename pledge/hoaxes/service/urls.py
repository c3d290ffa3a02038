"""Links to hoaxes: the one spelling of every way a link to the same post gets shared, and the
check of a link a reporter sends.

``canonical_url`` keys a link by what it shows: on the platforms people share hoaxes from
(TikTok, Facebook, Instagram, X, YouTube, WhatsApp, Telegram, Google's AMP copies and
documents, Indonesian news sites) by the platform and the post's id, whatever the app, the
user name, the share parameters or the front end; on every other site by its address, with
what is never content removed. docs/matching.md ("Links") explains each rule.
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import SplitResult, parse_qsl, quote, urlencode, urlsplit, urlunsplit

import idna

from pledge.i18n import gettext as _

URL_MAX = 2048

# Subdomains that serve the same page as the bare domain.
_ALIAS_PREFIXES = ("www.", "m.", "mobile.", "web.")
# Hosts whose web. or m. front end is another application, not an alias.
_NOT_ALIASES = frozenset({"web.telegram.org", "web.whatsapp.com"})
# Facebook's other front ends for phones and slow connections.
_FACEBOOK_PREFIXES = ("touch.", "mbasic.", "free.", "lite.", "d.", "upload.", "business.")
_HOST_ALIASES = {
    "twitter.com": "x.com",
    # Mirrors that show a post of X with a better preview in chats.
    "fxtwitter.com": "x.com",
    "vxtwitter.com": "x.com",
    "fixupx.com": "x.com",
    "fixvx.com": "x.com",
    "twittpr.com": "x.com",
    "fb.com": "facebook.com",
    "instagr.am": "instagram.com",
    "youtube-nocookie.com": "youtube.com",
    "music.youtube.com": "youtube.com",
    "tiktokv.com": "tiktok.com",
    "telegram.me": "t.me",
    "telegram.dog": "t.me",
    "web.whatsapp.com": "whatsapp.com",
}


def _words(names: str) -> frozenset[str]:
    return frozenset(names.split())


# Query parameters that say who shared a link or which ad was clicked, on any site: never
# what a page shows. Names starting with "utm_" too.
_TRACKING = _words(
    "_ga _gl _hsenc _hsmi dclid fbclid gbraid gclid igsh igshid mc_cid mc_eid "
    "mibextid mkt_tok msclkid share_id srsltid ttclid twclid wbraid yclid"
)
# Parameters that are tracking only on the sites that add them (and their subdomains):
# elsewhere ref=2, s=pemilu or t=3 may be what the page shows.
_TRACKING_BY_SITE: dict[str, frozenset[str]] = {
    "x.com": _words("cn lang ref_src ref_url s src t"),
    "facebook.com": _words(
        "__tn__ _rdc _rdr acontext app comment_tracking dti eid extid locale "
        "notif_id notif_t paipv rdc rdid rdr ref refsrc s sfnsn share_url sk "
        "wtsid"
    ),
    "instagram.com": _words("hl img_index r ref source taken-by"),
    "tiktok.com": _words(
        "_d _r _t checksum embed_source enter_from enter_method is_copy_url "
        "is_from_webapp lang preview_pb q refer referer_url referer_video_id "
        "sec_uid sec_user_id sender_device sender_web_id share_app_id "
        "share_app_name share_iid share_item_id share_link_id social_sharing "
        "source t timestamp tt_from u_code user_id web_id"
    ),
    "youtube.com": _words("ab_channel app cbrd feature kw pp si t"),
    "youtu.be": _words("app feature pp si t"),
    "t.me": _words("embed mode ref"),
    "google.com": _words("ei hl sa source sourceid usp ved"),
    # Indonesian news sites: who shared the article, or "the whole article on one page".
    "detik.com": _words("nd771104bcj page ref single source tag_from"),
    "kompas.com": _words("google_editors_picks lgn_method page source"),
    "kompas.tv": _words("page source"),
    "tribunnews.com": _words("page ref source"),
    "liputan6.com": _words("medium page related source"),
    "cnnindonesia.com": _words("page ref source"),
    "cnbcindonesia.com": _words("page ref source"),
    "okezone.com": _words("page source"),
    "suara.com": _words("page source"),
    "tempo.co": _words("page source"),
    "merdeka.com": _words("page source"),
    "kumparan.com": _words("page shareid source"),
    "antaranews.com": _words("page source"),
    "idntimes.com": _words("page source"),
    "turnbackhoax.id": _words("page ref source"),
}
# On the news sites, "page" goes only when it asks for the whole article; page=2 stays.
_WHOLE_ARTICLE = frozenset({"all", "1", "true", "yes"})
_PAGED = frozenset({"page", "single"})
# Channels of detik.com with a subdomain of their own (m.detik.com/news/... is news.detik.com).
_DETIK_CHANNELS = frozenset(
    {"news", "finance", "hot", "inet", "sport", "oto", "travel", "food", "health", "wolipop"}
)
# Hosts whose fragments are all routes of a web application, kept as they are.
_FRAGMENT_APPS = frozenset({"web.telegram.org", "web.whatsapp.com"})
# Fragments that are routes, not places on a page: #!/..., #/..., #@..., Sheets' #gid=.
_ROUTE_FRAGMENTS = ("!/", "/", "@", "gid=")
# Platforms whose accounts' names are the same in any case (x.com/Akun is x.com/akun).
_NAMES_IN_ANY_CASE = frozenset(
    {"x.com", "facebook.com", "instagram.com", "tiktok.com", "youtube.com", "t.me"}
)
_NAME = re.compile(r"^/@?[A-Za-z0-9._]+/?$")
# Hosts whose old #!/ links held the path: twitter.com/#!/user/status/1 is /user/status/1.
_HASHBANG_PATHS = frozenset({"x.com", "facebook.com"})

_PERCENT = re.compile(r"%[0-9a-fA-F]{2}")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_DIGITS = re.compile(r"^\d+$")
_GOOGLE = re.compile(r"^google\.(?:[a-z]{2,3}|co\.[a-z]{2}|com\.[a-z]{2})$")
_AMP_CACHE = ".cdn.ampproject.org"
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"
_QUERY_SAFE = ":@!$'()*,;/"

Query = list[tuple[str, str]]


def _normalise_escapes(text: str) -> str:
    """Upper-case percent escapes, and decode those that stand for unreserved characters."""

    def fix(match: re.Match[str]) -> str:
        char = chr(int(match.group(0)[1:], 16))
        return char if char in _UNRESERVED else match.group(0).upper()

    return _PERCENT.sub(fix, text)


@lru_cache(maxsize=4096)
def _ascii_host(raw: str) -> str:
    """The host in its ASCII (punycode) form, lower-case: a Unicode name and its punycode
    are one host."""
    host = raw.lower().rstrip(".")
    if host.isascii():
        return host
    try:
        return idna.encode(host, uts46=True).decode("ascii")
    except UnicodeError:  # idna.IDNAError too
        try:
            return host.encode("idna").decode("ascii")
        except UnicodeError:
            return host


@lru_cache(maxsize=4096)
def _host(raw: str) -> str:
    host = _ascii_host(raw)
    if host in _NOT_ALIASES:
        return _HOST_ALIASES.get(host, host)
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


def _site(host: str) -> str:
    """The entry of _TRACKING_BY_SITE the host belongs to ("" for none)."""
    name = host
    while True:
        if name in _TRACKING_BY_SITE:
            return name
        _dot, sep, rest = name.partition(".")
        if not sep:
            return "google.com" if _GOOGLE.match(host) else ""
        name = rest


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


def _param(query: Query, name: str) -> str:
    """The first value of a parameter, its name in any case ("" when it is absent)."""
    for key, value in query:
        if key.lower() == name:
            return value
    return ""


def _quoted(segment: str) -> str:
    return quote(segment, safe=_PATH_SAFE.replace("/", ""))


def _segments(path: str) -> list[str]:
    return [segment for segment in path.split("/") if segment]


# --- wrappers: links that only lead to another link ---------------------------------------


def _amp_cache(path: str) -> str | None:
    """SITE.cdn.ampproject.org/c/s/SITE/PATH (https), /c/SITE/PATH (http); /v/, /i/, /wp/."""
    match = re.match(r"^/(?:(?:c|v|i|wp|r)/)*(?P<secure>s/)?(?P<rest>[^/]+\.[^/]+(?:/.*)?)$", path)
    if match is None:
        return None
    return ("https://" if match.group("secure") else "http://") + match.group("rest")


def _google_amp(path: str) -> str | None:
    """www.google.com/amp/s/SITE/PATH (https) and /amp/SITE/PATH (http)."""
    match = re.match(r"^/amp/(?P<secure>s/)?(?P<rest>[^/]+\.[^/]+(?:/.*)?)$", path)
    if match is None:
        return None
    return ("https://" if match.group("secure") else "http://") + match.group("rest")


def _unwrapped(host: str, path: str, query: Query) -> str | None:
    """The link inside a redirecting shim or an AMP copy, or None."""
    lower = path.lower().rstrip("/")
    if host in ("l.facebook.com", "lm.facebook.com") or (
        host == "facebook.com" and lower in ("/l.php", "/flx/warn")
    ):
        return _param(query, "u") or None
    if _GOOGLE.match(host):
        if lower == "/url":
            return _param(query, "q") or _param(query, "url") or None
        return _google_amp(path) if lower.startswith("/amp/") else None
    if host.endswith(_AMP_CACHE):
        return _amp_cache(path)
    return _youtube_shim(lower, query) if host == "youtube.com" else None


def _youtube_shim(page: str, query: Query) -> str | None:
    """/attribution_link?u=/watch?v=ID, and /redirect?q=URL."""
    if page == "/attribution_link" and _param(query, "u").startswith("/"):
        return "https://youtube.com" + _param(query, "u")
    return (_param(query, "q") or None) if page == "/redirect" else None


# --- platforms: one key per post ----------------------------------------------------------

# Each host's posts by the shape of their path: (pattern, key, parameters the key keeps).
# The key's {name} is written in lower case (accounts' names are the same in any case).
_Rule = tuple[re.Pattern[str], str, tuple[str, ...]]
_VIDEO = r"(?!videoseries)(?P<id>[A-Za-z0-9_-]{6,})"


def _rules(*rules: tuple[str, str] | tuple[str, str, tuple[str, ...]]) -> list[_Rule]:
    return [(re.compile(rule[0]), rule[1], rule[2] if len(rule) > 2 else ()) for rule in rules]


_TELEGRAM_KEEPS = ("comment", "single", "thread")
_DOCUMENT_KEEPS = ("resourcekey",)
_PATH_RULES: dict[str, list[_Rule]] = {
    # TikTok opens a post by its id whatever user name the path holds, the empty one too.
    "tiktok.com": _rules(
        (r"^/@[^/]*/(?P<kind>video|photo)/(?P<id>\d+)", "https://tiktok.com/@/{kind}/{id}"),
        (r"^/v/(?P<id>\d+)\.html", "https://tiktok.com/@/video/{id}"),
        (r"^/embed(?:/v2)?/(?P<id>\d+)", "https://tiktok.com/@/video/{id}"),
        (r"^/share/video/(?P<id>\d+)", "https://tiktok.com/@/video/{id}"),
    ),
    "facebook.com": _rules(
        (r"^/reels?/(?P<id>\d+)", "https://facebook.com/watch?v={id}"),
        (r"^/[^/]+/videos/(?:[^/]+/)*(?P<id>\d+)/?$", "https://facebook.com/watch?v={id}"),
        (r"^/[^/]+/photos/(?:[^/]+/)*(?P<id>\d+)/?$", "https://facebook.com/photo.php?fbid={id}"),
        (
            r"^/groups/(?P<name>[^/]+)/(?:posts|permalink)/(?P<id>[^/]+)",
            "https://facebook.com/groups/{name}/posts/{id}",
        ),
        # Numeric ids are unique across Facebook, and facebook.com/ID opens the post. A
        # pfbid... id is opaque: it cannot be turned into the numeric one offline.
        (r"^/[^/]+/posts/(?P<id>\d+)/?$", "https://facebook.com/{id}"),
        (r"^/(?P<name>[^/]+)/posts/(?P<id>pfbid\w+)/?$", "https://facebook.com/{name}/posts/{id}"),
    ),
    "x.com": _rules(
        (r"(?i)^/(?:[^/]+/|i/web/|i/)?status(?:es)?/(?P<id>\d+)", "https://x.com/i/status/{id}"),
    ),
    # instagram.com/p/CODE opens reels too; codes keep their case.
    "instagram.com": _rules(
        (r"^/(?:[^/]+/)?(?:p|reels?|tv)/(?P<id>[A-Za-z0-9_-]+)", "https://instagram.com/p/{id}"),
    ),
    "youtube.com": _rules(
        (rf"^/(?:shorts|live|embed|v|e)/{_VIDEO}/?$", "https://youtube.com/watch?v={id}"),
    ),
    "youtu.be": _rules((rf"^/{_VIDEO}/?$", "https://youtube.com/watch?v={id}")),
    "t.me": _rules(
        (r"^/(?:s/)?c/(?P<c>\d+)/(?P<id>\d+)/?$", "https://t.me/c/{c}/{id}", _TELEGRAM_KEEPS),
        (
            r"^/(?:s/)?(?P<name>[A-Za-z][A-Za-z0-9_]{2,31})/(?P<id>\d+)/?$",
            "https://t.me/{name}/{id}",
            _TELEGRAM_KEEPS,
        ),
        (r"^/s/(?P<name>[A-Za-z][A-Za-z0-9_]{2,31})/?$", "https://t.me/{name}"),
    ),
    "wa.me": _rules((r"^/\+?(?P<id>\d+)/?$", "https://wa.me/{id}")),
    "whatsapp.com": _rules(
        (r"^/channel/(?P<id>[^/]+)/(?P<n>\d+)", "https://whatsapp.com/channel/{id}/{n}"),
        (r"^/channel/(?P<id>[^/]+)", "https://whatsapp.com/channel/{id}"),
    ),
    "chat.whatsapp.com": _rules((r"^/(?P<id>[^/]+)/?$", "https://chat.whatsapp.com/{id}")),
    "docs.google.com": _rules(
        (r"^/forms/d/e/(?P<id>[^/]+)", "https://docs.google.com/forms/d/e/{id}/viewform"),
        (r"^/forms/d/(?P<id>[^/]+)", "https://docs.google.com/forms/d/{id}/viewform"),
        (
            r"^/(?P<kind>document|presentation|drawings)/d/e/(?P<id>[^/]+)",
            "https://docs.google.com/{kind}/d/e/{id}/pub",
        ),
        (
            r"^/(?P<kind>document|presentation|drawings)/d/(?P<id>[^/]+)",
            "https://docs.google.com/{kind}/d/{id}/edit",
            _DOCUMENT_KEEPS,
        ),
    ),
    "drive.google.com": _rules(
        (r"^/file/d/(?P<id>[^/]+)", "https://drive.google.com/file/d/{id}/view", _DOCUMENT_KEEPS),
        (r"^/drive/folders/(?P<id>[^/]+)", "https://drive.google.com/drive/folders/{id}"),
    ),
}


def _with(url: str, query: Query, keeps: tuple[str, ...]) -> str:
    kept = sorted((key, value) for key, value in query if key in keeps)
    return url + "?" + urlencode(kept, quote_via=quote) if kept else url


def _by_path(host: str, path: str, query: Query) -> str | None:
    for pattern, template, keeps in _PATH_RULES.get(host, ()):
        match = pattern.match(path)
        if match is not None:
            parts = {
                name: _quoted(value.lower() if name == "name" else value)
                for name, value in match.groupdict().items()
            }
            return _with(template.format(**parts), query, keeps)
    return None


def _facebook(path: str, query: Query) -> str | None:
    """The pages that name their post in the query: story.php, permalink.php, photo.php,
    video.php, watch, and a group's ?multi_permalinks."""
    page = path.lower().strip("/")
    if page in ("story.php", "permalink.php"):
        post, owner = _param(query, "story_fbid"), _param(query, "id")
        if _DIGITS.match(post):
            return f"https://facebook.com/{post}"
        if post.startswith("pfbid") and owner:
            return f"https://facebook.com/{_quoted(owner.lower())}/posts/{_quoted(post)}"
        return None
    number = {"photo.php": "fbid", "photo": "fbid", "video.php": "v", "watch": "v"}.get(page)
    value = _param(query, number) if number else ""
    if _DIGITS.match(value):
        kind = "photo.php?fbid" if number == "fbid" else "watch?v"
        return f"https://facebook.com/{kind}={value}"
    post = _param(query, "multi_permalinks").split(",")[0]
    group = re.match(r"^groups/(?P<name>[^/]+)$", page)
    if group and _DIGITS.match(post):
        return f"https://facebook.com/groups/{_quoted(group.group('name'))}/posts/{post}"
    return None


def _youtube(path: str, query: Query) -> str | None:
    """watch?v=ID; a playlist without a video (watch?list=, /playlist, /embed/videoseries)
    is the playlist's link."""
    page = path.strip("/")
    video, playlist = _param(query, "v"), _param(query, "list")
    if page == "watch" and video:
        return f"https://youtube.com/watch?v={_quoted(video)}"
    if page in ("watch", "playlist", "embed/videoseries") and playlist:
        return f"https://youtube.com/playlist?list={_quoted(playlist)}"
    return None


def _whatsapp(path: str, query: Query) -> str | None:
    """api.whatsapp.com/send?phone=NUMBER and web.whatsapp.com/send?phone=: wa.me/NUMBER."""
    digits = re.sub(r"[\s+().-]", "", _param(query, "phone"))
    if path.strip("/") == "send" and _DIGITS.match(digits):
        return f"https://wa.me/{digits}"
    return None


def _spreadsheet(path: str, query: Query, fragment: str) -> str | None:
    """A spreadsheet, and its sheet (#gid= or ?gid=)."""
    match = re.match(r"^/spreadsheets/d/(?P<id>[^/]+)", path)
    if match is None:
        return None
    url = _with(
        f"https://docs.google.com/spreadsheets/d/{_quoted(match.group('id'))}/edit",
        query,
        _DOCUMENT_KEEPS,
    )
    gid = fragment.removeprefix("gid=").split("&")[0] if fragment.startswith("gid=") else ""
    gid = gid or _param(query, "gid")
    return f"{url}#gid={_quoted(gid)}" if gid else url


def _drive_file(path: str, query: Query) -> str | None:
    """drive.google.com/open?id=ID and /uc?id=ID: the file's page."""
    file = _param(query, "id")
    if path.strip("/") in ("open", "uc") and file:
        url = f"https://drive.google.com/file/d/{_quoted(file)}/view"
        return _with(url, query, _DOCUMENT_KEEPS)
    return None


def _post_key(host: str, path: str, query: Query, fragment: str) -> str | None:
    """The link's key on a platform that names its posts by id, or None."""
    if host in ("docs.google.com", "drive.google.com"):
        path = re.sub(r"/u/\d+(?=/)", "", path)  # which of the reader's accounts is signed in
    key = _by_path(host, path, query)
    if key is not None:
        return key
    if host == "facebook.com":
        return _facebook(path, query)
    if host == "youtube.com":
        return _youtube(path, query)
    if host in ("api.whatsapp.com", "whatsapp.com"):
        return _whatsapp(path, query)
    if host == "docs.google.com":
        return _spreadsheet(path, query, fragment)
    if host == "drive.google.com":
        return _drive_file(path, query)
    return None


# --- any site -----------------------------------------------------------------------------


def _news_host(host: str, segments: list[str]) -> tuple[str, list[str]]:
    """The host of an article whose phone or AMP copy names its channel in the path."""
    if len(segments) < 2:
        return host, segments
    if host == "detik.com" and segments[0] in _DETIK_CHANNELS:
        # The phone site's m.detik.com/news/berita/... is news.detik.com/berita/...
        return f"{segments[0]}.detik.com", segments[1:]
    if host == "amp.kompas.com" and segments[1] == "read":
        # amp.kompas.com/nasional/read/... is nasional.kompas.com/read/...
        return f"{segments[0]}.kompas.com", segments[1:]
    return host, segments


def _without_amp(host: str, path: str, query: Query) -> tuple[str, str, Query]:
    """A news site's AMP copy as its article: amp.site/a, site/amp/a, site/a/amp, ?amp=1."""
    host, segments = _news_host(host, _segments(path))
    if host.startswith("amp.") and host.count(".") >= 2:
        host = host.removeprefix("amp.")
    if len(segments) >= 2 and segments[-1].lower() == "amp":
        segments = segments[:-1]
    elif len(segments) >= 2 and segments[0].lower() == "amp":
        segments = segments[1:]
    query = [(key, value) for key, value in query if not _amp_parameter(key, value)]
    slash = "/" if path.endswith("/") and segments else ""
    return host, "/" + "/".join(segments) + slash, query


def _amp_parameter(key: str, value: str) -> bool:
    return key.lower() in ("amp", "outputtype") and value.lower() in ("", "1", "true", "amp")


def _kept_parameters(host: str, query: Query) -> Query:
    """The query without its tracking parameters, sorted."""
    site = _site(host)
    drop = _TRACKING_BY_SITE.get(site, frozenset())
    news = "page" in drop
    kept = []
    for key, value in query:
        name = key.lower()
        if name.startswith(("utm_", "__cft__", "__xts__", "hc_")) or name in _TRACKING:
            continue
        if name in drop and not (news and name in _PAGED and value.lower() not in _WHOLE_ARTICLE):
            continue
        kept.append((key, value))
    return sorted(kept)


def _kept_fragment(host: str, fragment: str) -> str:
    if host in _FRAGMENT_APPS or fragment.startswith(_ROUTE_FRAGMENTS):
        return _normalise_escapes(fragment)
    return ""


def _canonical(text: str, depth: int) -> str:
    parts = urlsplit(text)
    host = _host(parts.hostname or "")
    path = _normalise_escapes(parts.path) or "/"
    query = parse_qsl(parts.query, keep_blank_values=True)
    fragment = parts.fragment
    if depth < 3:
        inner = _unwrapped(host, path, query)
        if inner and "://" in inner and urlsplit(inner).scheme.lower() in ("http", "https"):
            return _canonical(inner.strip(), depth + 1)
    if host in _HASHBANG_PATHS and fragment.startswith("!/"):
        route, _sep, route_query = fragment[1:].partition("?")
        path, query, fragment = _normalise_escapes(route), parse_qsl(route_query), ""
    key = _post_key(host, path, query, fragment)
    if key is not None:
        return key
    if host in _NAMES_IN_ANY_CASE and _NAME.match(path):
        # A profile, page or channel by its name: facebook.com/Hoaks is facebook.com/hoaks.
        path = path.lower()
    host, path, query = _without_amp(host, path, query)
    netloc = _netloc(host, parts)
    kept = _kept_parameters(host, query)
    fragment = _kept_fragment(host, fragment)
    if not fragment:
        path = path.rstrip("/")  # a route's page keeps its slash: web.telegram.org/k/#@akun
    # Every link counts as https: the page is the same, and phones rewrite one to the other.
    url = urlunsplit(("https", netloc, quote(path, safe=_PATH_SAFE), "", ""))
    if kept:
        url += "?" + urlencode(kept, quote_via=quote, safe=_QUERY_SAFE)
    if fragment:
        url += "#" + quote(fragment, safe=_PATH_SAFE + "?#")
    return url


def canonical_url(raw: str) -> str:
    """One https link for every way the same post gets shared: on the platforms, one per
    post id; elsewhere the address with scheme and host in one spelling (IDNA, lower case,
    ``www.``/``m.`` dropped, no default port, no credentials), escapes normalised, no
    tracking parameters, the rest sorted, no trailing slash, and no fragment unless it is a
    route (``#!/``, ``#/``, ``#@``, ``#gid=``)."""
    return _canonical(raw.strip(), 0)


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


# Who shared a link, from which app, and where it was clicked: on every site, as a link is
# published. The matching key (canonical_url) drops them only on the sites that add them, so
# that a page whose own parameter is named t or _r keeps matching as before; a published link
# loses them everywhere, and with them what they say about the person who shared it.
_SHARE_TOKENS = _TRACKING | _words("_r _t __tn__ __xts__ _rdc _rdr ref_src rcm sfnsn si")
_SHARE_PREFIXES = ("utm_", "__cft__", "__xts__", "__tn__", "hc_")


def public_url(raw: str) -> str:
    """A link as the site publishes it (ClaimReview's appearances): its canonical form,
    without any parameter that tracks who shared it, on any site."""
    url = canonical_url(raw)
    parts = urlsplit(url)
    if not parts.query:
        return url
    query = parse_qsl(parts.query, keep_blank_values=True)
    kept = [
        (key, value)
        for key, value in query
        if key.lower() not in _SHARE_TOKENS and not key.lower().startswith(_SHARE_PREFIXES)
    ]
    return urlunsplit(parts._replace(query=urlencode(kept, quote_via=quote, safe=_QUERY_SAFE)))
