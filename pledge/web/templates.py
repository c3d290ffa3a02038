"""Pages: the Jinja environment, ``render``, static file URLs, links and share links."""

from __future__ import annotations

import hashlib
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from starlette.routing import NoMatchFound

from pledge import i18n
from pledge.clock import as_utc
from pledge.config import get_settings
from pledge.i18n import gettext as _
from pledge.provinces import AGE_BANDS, PROVINCES
from pledge.web.csrf import csrf_token
from pledge.web.routing import route_index
from pledge.web.session import session_data


def _project_root() -> Path:
    """The folder with templates/ and static/: beside the package, or the working directory
    when the package is installed into site-packages (as in the container image)."""
    beside = Path(__file__).resolve().parent.parent.parent
    return beside if (beside / "templates").is_dir() else Path.cwd()


ROOT = _project_root()
TEMPLATES_DIR = ROOT / "templates"
STATIC_DIR = ROOT / "static"


@cache
def static_version(path: str) -> str:
    """A short content hash, so a changed file gets a new URL and the old one can be cached."""
    try:
        return hashlib.sha256((STATIC_DIR / path).read_bytes()).hexdigest()[:10]
    except OSError:
        return "0"


def static_url(path: str) -> str:
    return f"/static/{path}?v={static_version(path)}"


def utc_iso(moment: datetime) -> str:
    """A stored time for a ``<time datetime>`` attribute: in UTC, to the second."""
    return as_utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def label(member: Any) -> str:
    """``{{ case.status|label }}``: the display name of an enum member in the reader's
    language. Every enum shown on a page names its members in one ``label`` property."""
    return str(member.label)


def path_for(request: Request, name: str, /, **params: Any) -> str:
    """The path of a named route: what app.url_path_for gives, found through the index."""
    return path_in(request.app, name, **params)


def path_in(app: Any, name: str, /, **params: Any) -> str:
    """path_for, for an app rather than a request."""
    route = route_index(app).get(name)
    if route is None:
        return str(app.url_path_for(name, **params))
    return str(route.url_path_for(name, **params))


@pass_context
def _url_for(context: dict[str, Any], name: str, /, **params: Any) -> str:
    """A path, not an absolute URL: right behind any proxy, and shorter."""
    return path_for(context["request"], name, **params)


# What a path may keep unescaped: RFC 3986's pchar and "/", never "\\", "?" or "#".
PATH_SAFE = "/:@!$&'()*+,;=-._~"


def lang_url(request: Request, locale: str) -> str:
    """The current page in another language: always a path on this site. A page a route drew
    is linked by that route; any other (a 404) by its path with one leading slash, so that a
    request for ``//evil.example/x`` never links to another site."""
    route = request.scope.get("route")
    name = getattr(route, "name", None)
    path: str | None = None
    if route is not None and name and hasattr(route, "url_path_for"):
        try:
            path = str(route.url_path_for(name, **request.path_params))
        except (NoMatchFound, AssertionError):  # its parameters do not rebuild it
            path = None
    if path is None:
        path = request.scope.get("path", "/")
    path = "/" + path.lstrip("/\\")
    query = [(key, value) for key, value in request.query_params.multi_items() if key != "lang"]
    return f"{quote(path, safe=PATH_SAFE)}?{urlencode([*query, ('lang', locale)])}"


def _make_environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html", "xml", "svg"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]
        i18n.gettext, i18n.ngettext, newstyle=True
    )
    env.globals.update(
        static_url=static_url,
        url_for=_url_for,
        lang_url=lang_url,
        number=i18n.number,
        month_name=i18n.month_name,
        day=i18n.day,
        moment=i18n.moment,
        clock_time=i18n.clock_time,
        short_day=i18n.short_day,
        ordinal=i18n.ordinal,
        utc_iso=utc_iso,
        get_locale=i18n.get_locale,
        LANGUAGE_NAMES=i18n.LANGUAGE_NAMES,
        PROVINCES=PROVINCES,
        AGE_BANDS=AGE_BANDS,
    )
    env.filters["label"] = label
    return env


templates = Jinja2Templates(env=_make_environment())


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """A page drawn from its template. No browser, proxy or back button keeps a copy of a page
    a signed-in user is shown: staff pages hold personal data. Pages with a secret link in
    their address say so in their own headers."""
    ctx: dict[str, Any] = {
        "locale": i18n.get_locale(),
        "site_name": get_settings().site_name,
        # Set by the routes that need to know who is signed in; public pages never look.
        "current_user": getattr(request.state, "viewer", None),
        "csrf_token": lambda: csrf_token(request),
        # A form's messages, beside its fields: none until a refused post draws it again
        # (redraw, in forms.py).
        "errors": {},
    }
    ctx.update(context or {})
    if signed_in(request):
        headers = {**(headers or {}), "Cache-Control": "no-store"}
    return templates.TemplateResponse(request, name, ctx, status_code=status_code, headers=headers)


def signed_in(request: Request) -> bool:
    """Whether the request comes from a signed-in user's browser: a user the routes found,
    or a session cookie that names one (also on pages that never look who it is)."""
    if getattr(request.state, "user", None) is not None:
        return True
    return session_data(request).get("uid") is not None


def public_base_url(request: Request) -> str:
    """The origin of every absolute link: PLEDGE_PUBLIC_URL, which production cannot start
    without; only in development and tests, the request's own."""
    configured = get_settings().public_url
    return (configured or str(request.base_url)).rstrip("/")


def absolute_url(request: Request, name: str, /, **params: object) -> str:
    """A full URL for sharing outside the site, behind a proxy too."""
    return public_base_url(request) + path_for(request, name, **params)


def share_links(url: str, title: str, *, text: str | None = None) -> dict[str, str]:
    """Links that open each app's own share screen on a phone, with ready text: a signer's
    invitation to the campaign `title`, or `text` as given (the link follows it)."""
    if text is None:
        text = _("I just signed “%(title)s”. Add your name too:") % {"title": title}
    return {
        "url": url,
        "text": text,
        "whatsapp": "https://wa.me/?" + urlencode({"text": f"{text} {url}"}),
        "telegram": "https://t.me/share/url?" + urlencode({"url": url, "text": text}),
        "x": "https://x.com/intent/post?" + urlencode({"text": text, "url": url}),
        "facebook": "https://www.facebook.com/sharer/sharer.php?" + urlencode({"u": url}),
    }
