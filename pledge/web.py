"""The web layer shared by every domain: templates, language, session cookie, CSRF, headers."""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable
from functools import cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit

from fastapi import Depends, Request
from fastapi import Path as PathParameter
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from itsdangerous import BadSignature, URLSafeTimedSerializer
from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from starlette.datastructures import FormData, MutableHeaders, UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import cookie_parser
from starlette.responses import Response
from starlette.routing import Match, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pledge import i18n
from pledge.config import Settings
from pledge.db import ID_MAX
from pledge.errors import Forbidden, TooLarge, error_response
from pledge.i18n import gettext as _
from pledge.provinces import AGE_BANDS, PROVINCES


def _project_root() -> Path:
    """The folder with templates/ and static/: beside the package, or the working directory
    when the package is installed into site-packages (as in the container image)."""
    beside = Path(__file__).resolve().parent.parent
    return beside if (beside / "templates").is_dir() else Path.cwd()


ROOT = _project_root()
log = logging.getLogger(__name__)
TEMPLATES_DIR = ROOT / "templates"
STATIC_DIR = ROOT / "static"

SESSION_COOKIE = "pledge_session"
LANG_COOKIE = "lang"
SESSION_MAX_AGE = 60 * 60 * 24 * 30
LANG_MAX_AGE = 60 * 60 * 24 * 365

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-src 'self'; form-action 'self'; base-uri 'none'; "
    "manifest-src 'self'; "
)
# Paths whose forms carry a file, and so may have a larger body.
UPLOAD_PREFIXES: tuple[str, ...] = ("/mod/",)
UPLOAD_SUFFIXES: tuple[str, ...] = ("/report",)
# Paths that answer without cookies: partner sites and caches use them.
COOKIELESS_PREFIXES = ("/embed/", "/api/", "/static/", "/healthz", "/readyz", "/metrics")
COOKIELESS_SUFFIXES = ("/events",)  # live counts, also read by the embedded widget


# --- templates -----------------------------------------------------------------------


@cache
def static_version(path: str) -> str:
    """A short content hash, so a changed file gets a new URL and the old one can be cached."""
    try:
        return hashlib.sha256((STATIC_DIR / path).read_bytes()).hexdigest()[:10]
    except OSError:
        return "0"


def static_url(path: str) -> str:
    return f"/static/{path}?v={static_version(path)}"


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
        number=i18n.number,
        get_locale=i18n.get_locale,
        LANGUAGE_NAMES=i18n.LANGUAGE_NAMES,
        PROVINCES=PROVINCES,
        AGE_BANDS=AGE_BANDS,
    )
    env.filters["label"] = label
    return env


def label(member: Any) -> str:
    """``{{ case.status|label }}``: the display name of an enum member in the reader's
    language. Every enum shown on a page names its members in one ``label`` property."""
    return str(member.label)


templates = Jinja2Templates(env=_make_environment())


def _route_index(app: Any) -> dict[str, Any]:
    """Each route by its name, found once per app: a page builds dozens of links, and the
    app's own lookup walks every route for each of them."""
    index: dict[str, Any] | None = getattr(app.state, "route_index", None)
    if index is None:
        index = {}
        for route in app.routes:
            walk = getattr(route, "effective_route_contexts", None)
            for found in walk() if walk else (route,):
                name = getattr(found, "name", None)
                if name and name not in index:
                    index[name] = found
        app.state.route_index = index
    return index


def path_for(request: Request, name: str, /, **params: Any) -> str:
    """The path of a named route: what app.url_path_for gives, found through the index."""
    app = request.app
    route = _route_index(app).get(name)
    if route is None:
        return str(app.url_path_for(name, **params))
    return str(route.url_path_for(name, **params))


@pass_context
def _url_for(context: dict[str, Any], name: str, /, **params: Any) -> str:
    """A path, not an absolute URL: right behind any proxy, and shorter."""
    return path_for(context["request"], name, **params)


templates.env.globals["url_for"] = _url_for


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    ctx = {
        "locale": i18n.get_locale(),
        "site_name": request.app.state.settings.site_name,
        # Set by the routes that need to know who is signed in; public pages never look.
        "current_user": getattr(request.state, "viewer", None),
        "csrf_token": lambda: csrf_token(request),
    }
    ctx.update(context or {})
    return templates.TemplateResponse(request, name, ctx, status_code=status_code, headers=headers)


def lang_url(request: Request, locale: str) -> str:
    """The current page in another language."""
    url = request.url.include_query_params(lang=locale)
    return f"{url.path}?{url.query}"


templates.env.globals["lang_url"] = lang_url


def public_base_url(request: Request) -> str:
    configured = request.app.state.settings.public_url
    return (configured or str(request.base_url)).rstrip("/")


def absolute_url(request: Request, name: str, /, **params: object) -> str:
    """A full URL for sharing outside the site, behind a proxy too."""
    return public_base_url(request) + path_for(request, name, **params)


def share_links(url: str, title: str) -> dict[str, str]:
    """Links that open each app's own share screen on a phone, with ready text."""
    text = _("I just signed “%(title)s”. Add your name too:") % {"title": title}
    return {
        "url": url,
        "text": text,
        "whatsapp": "https://wa.me/?" + urlencode({"text": f"{text} {url}"}),
        "telegram": "https://t.me/share/url?" + urlencode({"url": url, "text": text}),
        "x": "https://x.com/intent/tweet?" + urlencode({"text": text, "url": url}),
        "facebook": "https://www.facebook.com/sharer/sharer.php?" + urlencode({"u": url}),
    }


# --- session cookie and CSRF -----------------------------------------------------------


@functools.lru_cache(maxsize=8)
def _session_serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt="session")


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return _session_serializer(settings.secret_key)


def session_data(request: Request) -> dict[str, Any]:
    """The signed session cookie's contents, loaded once per request."""
    state = request.state
    if not hasattr(state, "session"):
        data: dict[str, Any] = {}
        raw = request.cookies.get(SESSION_COOKIE)
        if raw:
            try:
                loaded = _serializer(request.app.state.settings).loads(raw, max_age=SESSION_MAX_AGE)
                if isinstance(loaded, dict):
                    data = loaded
            except BadSignature:
                data = {}
        state.session = data
        state.session_dirty = False
    return state.session  # type: ignore[no-any-return]


def csrf_token(request: Request) -> str:
    data = session_data(request)
    token = data.get("csrf")
    if not isinstance(token, str) or len(token) < 20:
        token = secrets.token_urlsafe(24)
        data["csrf"] = token
        request.state.session_dirty = True
    return token


def start_user_session(request: Request, user_id: int, version: int) -> None:
    """A fresh session on sign-in: a new CSRF secret, so no earlier token carries over."""
    request.state.session = {"csrf": secrets.token_urlsafe(24), "uid": user_id, "sv": version}
    request.state.session_dirty = True


def end_user_session(request: Request) -> None:
    request.state.session = {"csrf": secrets.token_urlsafe(24)}
    request.state.session_dirty = True


def check_origin(request: Request) -> None:
    """Refuse a state-changing request sent by another site's page."""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site and fetch_site not in ("same-origin", "none"):
        raise Forbidden(_("This form was sent from another website, so it was refused."))
    host = request.headers.get("host", "").lower()
    origin = request.headers.get("origin")
    if origin == "null" and fetch_site == "same-origin":
        # A page sent with "Referrer-Policy: no-referrer" (the withdrawal and password pages,
        # whose address is a secret) makes the browser post "Origin: null"; the browser's own
        # Sec-Fetch-Site, which no page can set, still says the form is ours.
        pass
    elif origin is not None:
        if origin == "null" or urlsplit(origin).netloc.lower() != host:
            raise Forbidden(_("This form was sent from another website, so it was refused."))
    else:
        # Older browsers send no Origin with a form; the page it came from still tells.
        referer = request.headers.get("referer")
        if referer and urlsplit(referer).netloc.lower() != host:
            raise Forbidden(_("This form was sent from another website, so it was refused."))


def check_csrf(request: Request, submitted: str | None) -> None:
    check_origin(request)
    expected = session_data(request).get("csrf")
    if (
        not submitted
        or not isinstance(expected, str)
        or not hmac.compare_digest(submitted.encode(), expected.encode())
    ):
        raise Forbidden(
            _("This form has expired or was not sent from our site. Reload the page and try again.")
        )


FORM_FIELDS_MAX = 200
URLENCODED = "application/x-www-form-urlencoded"


async def read_form(request: Request) -> FormData:
    """A posted form without files. The usual encoding of a form is read with the standard
    library's parser, a tenth of the cost of the general one (which still reads the rest);
    both decode the same way: percent escapes as UTF-8, a "+" as a space."""
    content_type = request.headers.get("content-type", "")
    if content_type.partition(";")[0].strip().lower() != URLENCODED:
        return await request.form(max_files=0, max_fields=FORM_FIELDS_MAX)
    body = await request.body()
    try:
        fields: list[tuple[str, str | UploadFile]] = list(
            parse_qsl(
                body.decode("latin-1"), keep_blank_values=True, max_num_fields=FORM_FIELDS_MAX
            )
        )
    except ValueError:
        raise HTTPException(400, f"Too many fields. At most {FORM_FIELDS_MAX}.") from None
    return FormData(fields)


async def checked_form(request: Request) -> FormData:
    """The posted form, after the CSRF and origin checks."""
    form = await read_form(request)
    token = form.get("csrf_token")
    check_csrf(request, token if isinstance(token, str) else None)
    return form


CheckedForm = Annotated[FormData, Depends(checked_form)]
# A row id in an address: a number the database can hold, or the request is refused (422).
RowId = Annotated[int, PathParameter(ge=1, le=ID_MAX)]


async def checked_upload(request: Request) -> FormData:
    """A posted multipart form with at most one file, after the CSRF and origin checks.
    The body's size was capped by WebMiddleware before a byte of it was parsed."""
    limit = request.app.state.settings.max_upload_bytes
    form = await request.form(max_files=1, max_fields=50, max_part_size=limit)
    token = form.get("csrf_token")
    check_csrf(request, token if isinstance(token, str) else None)
    return form


CheckedUpload = Annotated[FormData, Depends(checked_upload)]


# --- the busiest routes ------------------------------------------------------------------


class LeanRoute(Route):
    """A plain Starlette route, for the few routes that carry the load (counters, the campaign
    page, signing).

    The app matches these right after its health checks and calls their endpoint with the
    request alone: the endpoint reads its own few parameters, and skips FastAPI's dependency
    and validation machinery, which costs more than a counter's own work. Errors are the same
    domain errors, answered by the same handlers; links come from the same route index, under
    the endpoint's name; metrics and logs name the route's template, as for any other route.
    """

    def __init__(
        self,
        path: str,
        endpoint: Callable[[Request], Awaitable[Response]],
        *,
        methods: tuple[str, ...] = ("GET",),
    ) -> None:
        super().__init__(
            path, endpoint, methods=list(methods), name=endpoint.__name__, include_in_schema=False
        )

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child_scope = super().matches(scope)
        if match is not Match.NONE:
            child_scope["route"] = self  # what FastAPI's own routes note for the access log
        return match, child_scope


class LeanFormRoute(LeanRoute):
    """A lean route taking a posted form: its endpoint gets the form after the CSRF and origin
    checks (``checked_form``), as a FastAPI route that takes ``CheckedForm`` does."""

    form_check = staticmethod(checked_form)

    def __init__(
        self, path: str, endpoint: Callable[[Request, FormData], Awaitable[Response]]
    ) -> None:
        form_check = self.form_check

        async def checked(request: Request) -> Response:
            return await endpoint(request, await form_check(request))

        functools.update_wrapper(checked, endpoint)
        super().__init__(path, checked, methods=("POST",))


# Longer than any valid value: a hostile post is cut before it is validated or shown back.
FIELD_MAX = 1000


def form_text(form: FormData, name: str, limit: int = FIELD_MAX) -> str:
    """A text field of a posted form, cut to a length; a file or a missing field is "".
    A NUL reads as a space, as other control characters do in names: nobody types one, and
    PostgreSQL refuses it in any text (a 500 instead of the form's own answer)."""
    value = form.get(name)
    return value[:limit].replace("\x00", " ") if isinstance(value, str) else ""


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


# --- middleware ------------------------------------------------------------------------


def security_headers(path: str, headers: MutableHeaders, *, secure: bool) -> None:
    """The headers every answer carries: no sniffing, no framing (but for embeds), the CSP."""
    headers.setdefault("x-content-type-options", "nosniff")
    headers.setdefault("referrer-policy", "strict-origin-when-cross-origin")
    headers.setdefault("permissions-policy", "camera=(), microphone=(), geolocation=()")
    if path.startswith("/embed/"):
        headers.setdefault("content-security-policy", CSP + "frame-ancestors *")
    else:
        headers.setdefault("content-security-policy", CSP + "frame-ancestors 'none'")
        headers.setdefault("x-frame-options", "DENY")
        headers.setdefault("cross-origin-opener-policy", "same-origin")
    if secure:
        headers.setdefault("strict-transport-security", "max-age=31536000; includeSubDomains")


class WebMiddleware:
    """Per request: the language, the size cap on bodies, the session cookie and the headers."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.serializer = _serializer(settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        path: str = scope["path"]
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        # Starlette's parser, as request.cookies reads them: it never fails on a bad header.
        cookies = cookie_parser(headers.get("cookie", ""))
        cookieless = path.startswith(COOKIELESS_PREFIXES) or path.endswith(COOKIELESS_SUFFIXES)

        requested = i18n.negotiate((query.get("lang") or [None])[0])
        remembered = i18n.negotiate(cookies.get(LANG_COOKIE))
        locale = requested or remembered or i18n.DEFAULT_LOCALE
        i18n.set_locale(locale)
        remember_lang = requested is not None and requested != remembered and not cookieless

        limit = (
            self.settings.max_upload_bytes
            if path.startswith(UPLOAD_PREFIXES) or path.endswith(UPLOAD_SUFFIXES)
            else self.settings.max_form_bytes
        )
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise TooLarge(_("What you sent is too large."))
            return message

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                out = MutableHeaders(scope=message)
                self._security_headers(path, out)
                if not cookieless:
                    state = scope.get("state", {})
                    if state.get("session_dirty"):
                        out.append("set-cookie", self._session_cookie(state["session"]))
                    if remember_lang:
                        out.append("set-cookie", self._lang_cookie(locale))
                    out.append("vary", "Cookie")
            await send(message)

        declared = headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            # Refused before a byte of the body is read.
            response = error_response(Request(scope, receive), 413)
            await response(scope, receive, send_with_headers)
            return
        try:
            await self.app(scope, limited_receive, send_with_headers)
        except Exception:
            log.exception("unhandled error on %s %s", scope.get("method"), path)
            if started:
                raise
            # The error page carries the same headers as every other page.
            response = error_response(Request(scope, receive), 500)
            await response(scope, receive, send_with_headers)

    def _security_headers(self, path: str, headers: MutableHeaders) -> None:
        security_headers(path, headers, secure=self.settings.secure_cookies)

    def _cookie(self, name: str, value: str, max_age: int, httponly: bool) -> str:
        parts = [f"{name}={value}", "Path=/", f"Max-Age={max_age}", "SameSite=Lax"]
        if httponly:
            parts.append("HttpOnly")
        if self.settings.secure_cookies:
            parts.append("Secure")
        return "; ".join(parts)

    def _session_cookie(self, data: dict[str, Any]) -> str:
        return self._cookie(SESSION_COOKIE, self.serializer.dumps(data), SESSION_MAX_AGE, True)

    def _lang_cookie(self, locale: str) -> str:
        return self._cookie(LANG_COOKIE, locale, LANG_MAX_AGE, True)


class CachedStaticFiles(StaticFiles):
    """Static files with a long cache life: their URLs change with their content."""

    def file_response(self, *args: Any, **kwargs: Any) -> Any:
        response = super().file_response(*args, **kwargs)
        response.headers["cache-control"] = "public, max-age=31536000, immutable"
        return response
