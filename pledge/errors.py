"""Domain errors, and the one place that turns them into an HTML page or a JSON body."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from slowapi.errors import RateLimitExceeded
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

from pledge.i18n import gettext as _

log = logging.getLogger(__name__)


class PledgeError(Exception):
    status_code = 400

    def __init__(self, detail: str = "", **data: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.data = data


class BadRequest(PledgeError):
    """A request that cannot be read at all: a machine's post that is not in its format."""

    status_code = 400


class NotFound(PledgeError):
    status_code = 404


class LoginRequired(PledgeError):
    status_code = 401


class TooManyRequests(PledgeError):
    status_code = 429


class Forbidden(PledgeError):
    status_code = 403


class Conflict(PledgeError):
    status_code = 409


class Gone(PledgeError):
    """Something that was valid once and is no more: an expired link or code."""

    status_code = 410


class Invalid(PledgeError):
    """Bad input. ``errors`` maps a form field to the message shown beside it."""

    status_code = 422

    def __init__(self, errors: dict[str, str], detail: str = "") -> None:
        super().__init__(detail or next(iter(errors.values()), ""))
        self.errors = errors


class TooLarge(PledgeError):
    status_code = 413


class ServiceUnavailable(PledgeError):
    status_code = 503


# What a database that is down, restarting or out of connections raises.
DATABASE_UNAVAILABLE: tuple[type[Exception], ...] = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.TimeoutError,
    sa_exc.DisconnectionError,
)


def _default_detail(status: int) -> str:
    messages = {
        400: _("The request could not be understood."),
        401: _("Please sign in first."),
        403: _("You are not allowed to do this."),
        404: _("We could not find that page."),
        405: _("This address does not accept that kind of request."),
        409: _("That conflicts with what is already stored."),
        410: _("This link or code has expired."),
        413: _("What you sent is too large."),
        422: _("Some of what you sent is not valid."),
        429: _("Too many requests. Please wait a moment and try again."),
        500: _("Something went wrong on our side. Please try again."),
        503: _("The site is busy or under maintenance. Please try again shortly."),
    }
    return messages.get(status, messages[400] if status < 500 else messages[500])


# Draws an error page: pledge.web.render, given to install(). Every service imports this module,
# and the web layer raises its errors: this module does not import the web layer.
PageRenderer = Callable[..., Response]


# Paths that machines call: their errors are answered in JSON, not as a page.
MACHINE_PREFIXES = ("/api/", "/webhooks/")


def error_response(request: Request, status: int, detail: str = "", kind: str = "") -> Response:
    """The answer to an error: a JSON body under /api/ and /webhooks/, else the site's error
    page."""
    detail = detail or _default_detail(status)
    path = request.url.path
    if path.startswith(MACHINE_PREFIXES):
        # Any website may read the open API; a webhook answers only the service that calls it.
        cors = {"Access-Control-Allow-Origin": "*"} if path.startswith("/api/") else {}
        return JSONResponse(
            {"error": kind or type_name(status), "detail": detail},
            status_code=status,
            headers=cors,
        )
    render: PageRenderer = request.app.state.render_error_page
    template = f"errors/{status}.html" if status in (404, 429, 503) else "errors/error.html"
    return render(request, template, {"status": status, "detail": detail}, status_code=status)


def type_name(status: int) -> str:
    return {
        400: "BadRequest",
        401: "LoginRequired",
        403: "Forbidden",
        404: "NotFound",
        405: "MethodNotAllowed",
        409: "Conflict",
        410: "Gone",
        413: "PayloadTooLarge",
        422: "Invalid",
        429: "TooManyRequests",
        503: "ServiceUnavailable",
    }.get(status, "Error")


async def _pledge_error(request: Request, exc: Exception) -> Response:
    """A domain error: its own status and message; a sign-in first for LoginRequired."""
    assert isinstance(exc, PledgeError)
    if isinstance(exc, LoginRequired) and not request.url.path.startswith("/api/"):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        login = request.app.url_path_for("accounts_login_form")
        return RedirectResponse(f"{login}?{urlencode({'next': target})}", status_code=303)
    response = error_response(request, exc.status_code, exc.detail, type(exc).__name__)
    if isinstance(exc, TooManyRequests):
        response.headers["Retry-After"] = "60"
    return response


async def _http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own errors (no such route, method not allowed...), in the site's words."""
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) and exc.status_code != 404 else ""
    if exc.status_code == 405:
        detail = ""
    response = error_response(request, exc.status_code, detail)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def _validation_error(request: Request, exc: Exception) -> Response:
    """A request FastAPI could not read into a route's parameters."""
    return error_response(request, 422)


async def _rate_limited(request: Request, exc: Exception) -> Response:
    """Over a route's rate limit (slowapi)."""
    response = error_response(request, 429)
    response.headers["Retry-After"] = "60"
    return response


async def _database_unavailable(request: Request, exc: Exception) -> Response:
    """The database is down, restarting or overloaded: a friendly 503.

    The transaction was rolled back, so nothing is half-written; the pool reconnects by
    itself when the database is back."""
    cause = getattr(exc, "orig", None) or exc
    first_line = (str(cause).strip().splitlines() or [""])[0][:200]
    log.warning(
        "database unavailable on %s %s: %s: %s",
        request.method,
        request.url.path,
        type(cause).__name__,
        first_line,
    )
    response = error_response(request, 503)
    response.headers["Retry-After"] = "5"
    return response


async def _unexpected(request: Request, exc: Exception) -> Response:
    """A bug: logged with its traceback, and a plain 500 page for the visitor."""
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(request, 500)


def install(app: FastAPI, *, render_page: PageRenderer) -> None:
    """Answer every error of the app through error_response, its pages drawn by render_page."""
    app.state.render_error_page = render_page
    app.add_exception_handler(PledgeError, _pledge_error)
    app.add_exception_handler(RateLimitExceeded, _rate_limited)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    for unavailable in DATABASE_UNAVAILABLE:
        app.add_exception_handler(unavailable, _database_unavailable)
    app.add_exception_handler(Exception, _unexpected)
