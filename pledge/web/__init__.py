"""The web layer shared by every domain.

- ``templates``: the Jinja environment, ``render``, static file URLs, links, share links;
- ``session``: the signed session cookie;
- ``csrf``: the CSRF token and origin checks, reading a posted form after them;
- ``forms``: a posted form's fields, and a refused form's page drawn again (``redraw``);
- ``routing``: the lean routes that carry the load, the route index, the API description;
- ``middleware``: language, body size cap, cookies and security headers of every request;
- ``responses``: answers validated by ETag.

Every name a route needs is imported from here: ``from pledge.web import render``.
"""

from __future__ import annotations

from pledge.web.csrf import (
    FORM_FIELDS_MAX,
    CheckedForm,
    CheckedUpload,
    check_csrf,
    check_origin,
    checked_form,
    checked_upload,
    csrf_token,
    read_form,
)
from pledge.web.forms import FIELD_MAX, RowId, form_file, form_text, form_values, redraw
from pledge.web.middleware import (
    CSP,
    LANG_COOKIE,
    CachedStaticFiles,
    WebMiddleware,
    client_ip,
    security_headers,
)
from pledge.web.responses import (
    CACHE_CONTROL,
    OPEN_HEADERS,
    cached_json,
    etag_response,
    weak_etag,
)
from pledge.web.routing import LeanFormRoute, LeanRoute, api_description, route_index
from pledge.web.session import (
    SESSION_COOKIE,
    SESSION_MAX_AGE,
    _serializer,
    end_user_session,
    session_data,
    start_user_session,
)
from pledge.web.templates import (
    STATIC_DIR,
    TEMPLATES_DIR,
    absolute_url,
    label,
    lang_url,
    path_for,
    path_in,
    public_base_url,
    render,
    share_links,
    signed_in,
    static_url,
)

__all__ = [
    "CACHE_CONTROL",
    "CSP",
    "FIELD_MAX",
    "FORM_FIELDS_MAX",
    "LANG_COOKIE",
    "OPEN_HEADERS",
    "SESSION_COOKIE",
    "SESSION_MAX_AGE",
    "STATIC_DIR",
    "TEMPLATES_DIR",
    "CachedStaticFiles",
    "CheckedForm",
    "CheckedUpload",
    "LeanFormRoute",
    "LeanRoute",
    "RowId",
    "WebMiddleware",
    "_serializer",
    "absolute_url",
    "api_description",
    "cached_json",
    "check_csrf",
    "check_origin",
    "checked_form",
    "checked_upload",
    "client_ip",
    "csrf_token",
    "end_user_session",
    "etag_response",
    "form_file",
    "form_text",
    "form_values",
    "label",
    "lang_url",
    "path_for",
    "path_in",
    "public_base_url",
    "read_form",
    "redraw",
    "render",
    "route_index",
    "security_headers",
    "session_data",
    "share_links",
    "signed_in",
    "start_user_session",
    "static_url",
    "weak_etag",
]
