"""Posted forms taken only from this site's own pages: the CSRF token, the origin checks, and
reading a posted form (with or without a file) after them."""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated
from urllib.parse import parse_qsl, urlsplit

from fastapi import Depends, Request
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect

from pledge.config import get_settings
from pledge.errors import Forbidden
from pledge.i18n import gettext as _
from pledge.web.session import session_data

FORM_FIELDS_MAX = 200
CLIENT_CLOSED = 499  # nginx's status for a request the client closed before its answer
URLENCODED = "application/x-www-form-urlencoded"


def csrf_token(request: Request) -> str:
    """The session's CSRF secret, made (and the session cookie sent again) on first use."""
    data = session_data(request)
    token = data.get("csrf")
    if not isinstance(token, str) or len(token) < 20:
        token = secrets.token_urlsafe(24)
        data["csrf"] = token
        request.state.session_dirty = True
    return token


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
    """Refuse a form without the session's CSRF token, or sent from another site."""
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


async def read_form(request: Request) -> FormData:
    """A posted form without files. The usual encoding of a form is read with the standard
    library's parser, a tenth of the cost of the general one (which still reads the rest);
    both decode the same way: percent escapes as UTF-8, a "+" as a space."""
    content_type = request.headers.get("content-type", "")
    try:
        if content_type.partition(";")[0].strip().lower() != URLENCODED:
            return await request.form(max_files=0, max_fields=FORM_FIELDS_MAX)
        body = await request.body()
    except ClientDisconnect:
        # The client went away before its form arrived (a phone losing signal, a client's
        # timeout): nothing to answer and nothing wrong here, so no error in the log. The
        # access line says 499, as nginx says it.
        raise HTTPException(CLIENT_CLOSED, "The client closed the request.") from None
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


async def checked_upload(request: Request) -> FormData:
    """A posted multipart form with at most one file, after the CSRF and origin checks.
    The body's size was capped by WebMiddleware before a byte of it was parsed."""
    limit = get_settings().max_upload_bytes
    form = await request.form(max_files=1, max_fields=50, max_part_size=limit)
    token = form.get("csrf_token")
    check_csrf(request, token if isinstance(token, str) else None)
    return form


CheckedUpload = Annotated[FormData, Depends(checked_upload)]
