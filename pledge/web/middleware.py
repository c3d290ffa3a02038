"""What every request passes through: its language, the size cap on its body, the session and
language cookies and the security headers of its answer; and the static files."""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import parse_qs, quote, unquote

from fastapi import Request
from starlette.datastructures import MutableHeaders
from starlette.requests import cookie_parser
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pledge import i18n
from pledge.config import Settings
from pledge.errors import BadRequest, TooLarge, error_response
from pledge.i18n import gettext as _
from pledge.web.session import SESSION_COOKIE, SESSION_MAX_AGE, _serializer

log = logging.getLogger(__name__)

LANG_COOKIE = "lang"
LANG_MAX_AGE = 60 * 60 * 24 * 365
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-src 'self'; form-action 'self'; base-uri 'none'; "
    "manifest-src 'self'; "
)
# Paths whose forms carry a file, and so may have a larger body; and the webhooks, whose
# batches (up to a thousand updates from Meta) are larger than any form.
UPLOAD_PREFIXES: tuple[str, ...] = ("/mod/", "/webhooks/")
UPLOAD_SUFFIXES: tuple[str, ...] = ("/report", "/answer")
# Paths that answer without cookies: partner sites, caches and other services use them.
COOKIELESS_PREFIXES = (
    "/embed/",
    "/api/",
    "/static/",
    "/healthz",
    "/readyz",
    "/metrics",
    "/webhooks/",
)
COOKIELESS_SUFFIXES = ("/events",)  # live counts, also read by the embedded widget
# Characters no address of the site holds in its path: the control characters (C0, DEL, C1).
# PostgreSQL refuses NUL in text, and the others only ever come from someone forging a link.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# In a query's names and values, once decoded, the same but for the tab and the line breaks a
# link picks up when it is pasted from a message (its page drops what it cannot use).
QUERY_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
RAW_UNSAFE = re.compile(rb"[\x00-\x20\x7f-\xff]")


def client_ip(request: Request) -> str:
    """The client's address; behind a proxy, uvicorn's --proxy-headers has put it there."""
    return request.client.host if request.client else "unknown"


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


def choose_language(scope: Scope, headers: dict[str, str], *, cookieless: bool) -> str | None:
    """Set the request's language: ``?lang=``, else the language cookie, else Indonesian.
    Returns the language to remember in the cookie, when the address asked for a new one."""
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    # Starlette's parser, as request.cookies reads them: it never fails on a bad header.
    cookies = cookie_parser(headers.get("cookie", ""))
    requested = i18n.negotiate((query.get("lang") or [None])[0])
    remembered = i18n.negotiate(cookies.get(LANG_COOKIE))
    i18n.set_locale(requested or remembered or i18n.DEFAULT_LOCALE)
    if requested is not None and requested != remembered and not cookieless:
        return requested
    return None


def holds_control_characters(scope: Scope) -> bool:
    """Whether the path, or the query string decoded as Starlette reads it (Latin-1, then its
    %XX escapes as UTF-8), holds a control character it may not."""
    if CONTROL.search(scope["path"]):
        return True
    query: bytes = scope.get("query_string", b"")
    return bool(query) and QUERY_CONTROL.search(unquote(query.decode("latin-1"))) is not None


def escaped_url(scope: Scope) -> Scope:
    """The request's scope with its address percent-encoded again, so that the page refusing
    it (its language links among them) never carries the control characters themselves."""
    path = CONTROL.sub(lambda found: quote(found.group(0)), scope["path"])
    query = RAW_UNSAFE.sub(lambda found: b"%%%02X" % found.group(0)[0], scope["query_string"])
    return {**scope, "path": path, "query_string": query}


def capped(receive: Receive, limit: int) -> Receive:
    """``receive``, refusing a body over ``limit`` bytes as it arrives, whatever it declared."""
    received = 0

    async def capped_receive() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise TooLarge(_("What you sent is too large."))
        return message

    return capped_receive


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
        cookieless = path.startswith(COOKIELESS_PREFIXES) or path.endswith(COOKIELESS_SUFFIXES)
        new_language = choose_language(scope, headers, cookieless=cookieless)
        limit = (
            self.settings.max_upload_bytes
            if path.startswith(UPLOAD_PREFIXES) or path.endswith(UPLOAD_SUFFIXES)
            else self.settings.max_form_bytes
        )
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                self._finish_headers(MutableHeaders(scope=message), scope, cookieless, new_language)
            await send(message)

        if holds_control_characters(scope):
            # Refused before any route reads a parameter from it, in the reader's language.
            refused = Request(escaped_url(scope), receive)
            detail = _(
                "This address contains characters that no address of this site has. Check the "
                "link and try again."
            )
            response = error_response(refused, 400, detail, BadRequest.__name__)
            await response(scope, receive, send_with_headers)
            return
        declared = headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            # Refused before a byte of the body is read.
            response = error_response(Request(scope, receive), 413)
            await response(scope, receive, send_with_headers)
            return
        try:
            await self.app(scope, capped(receive, limit), send_with_headers)
        except Exception:
            log.exception("unhandled error on %s %s", scope.get("method"), path)
            if started:
                raise
            # The error page carries the same headers as every other page.
            response = error_response(Request(scope, receive), 500)
            await response(scope, receive, send_with_headers)

    def _finish_headers(
        self, headers: MutableHeaders, scope: Scope, cookieless: bool, new_language: str | None
    ) -> None:
        """The answer's security headers, and its cookies unless its path is cookieless."""
        security_headers(scope["path"], headers, secure=self.settings.secure_cookies)
        if cookieless:
            return
        state = scope.get("state", {})
        if state.get("session_dirty"):
            headers.append("set-cookie", self._session_cookie(state["session"]))
        if new_language is not None:
            headers.append("set-cookie", self._lang_cookie(new_language))
        headers.append("vary", "Cookie")

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
