"""The signed session cookie: what it holds for a request, and a fresh one at sign-in and out."""

from __future__ import annotations

import functools
import secrets
from typing import Any

from fastapi import Request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from itsdangerous.encoding import base64_encode
from itsdangerous.url_safe import URLSafeSerializerMixin

from pledge.config import Settings, get_settings

SESSION_COOKIE = "pledge_session"
SESSION_MAX_AGE = 60 * 60 * 24 * 30


class _SessionSerializer(URLSafeTimedSerializer):
    """itsdangerous's URL-safe timed serializer, without trying zlib on the payload: a
    session is a hundred bytes or so, which compression barely shortens, and a signature
    writes it anew. A cookie compressed before is still read (its payload starts with ".")."""

    def dump_payload(self, obj: Any) -> bytes:
        return base64_encode(super(URLSafeSerializerMixin, self).dump_payload(obj))


@functools.lru_cache(maxsize=8)
def _session_serializer(secret_key: str) -> URLSafeTimedSerializer:
    return _SessionSerializer(secret_key, salt="session")


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    """What signs and reads the session cookie under these settings' secret key."""
    return _session_serializer(settings.secret_key)


def session_data(request: Request) -> dict[str, Any]:
    """The signed session cookie's contents, loaded once per request."""
    state = request.state
    if not hasattr(state, "session"):
        data: dict[str, Any] = {}
        raw = request.cookies.get(SESSION_COOKIE)
        if raw:
            try:
                loaded = _serializer(get_settings()).loads(raw, max_age=SESSION_MAX_AGE)
                if isinstance(loaded, dict):
                    data = loaded
            except BadSignature:
                data = {}
        state.session = data
        state.session_dirty = False
    return state.session  # type: ignore[no-any-return]


def start_user_session(request: Request, user_id: int, version: int) -> None:
    """A fresh session on sign-in: a new CSRF secret, so no earlier token carries over, and an
    id of its own, by which signing out ends this session and no other."""
    request.state.session = {
        "csrf": secrets.token_urlsafe(24),
        "uid": user_id,
        "sv": version,
        "sid": secrets.token_urlsafe(16),
    }
    request.state.session_dirty = True


def end_user_session(request: Request) -> None:
    request.state.session = {"csrf": secrets.token_urlsafe(24)}
    request.state.session_dirty = True
