"""Public pages drawn once and served again: the verdict pages and their gallery.

A public page is the same for every visitor in a language (public pages never look who is
signed in; a signed-in browser is only told to keep no copy). So a page is drawn once per
address, language and version of what it shows, and the next visitors get the same bytes,
answered on the event loop with no session and no trip through the thread pool. The version
is read at most once a second per process (``VersionReader``), so a published, corrected or
newly reported verdict shows within a second here and on every other process.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import Engine

from pledge.cache import Cache
from pledge.i18n import get_locale
from pledge.sharedreads import shared_reads
from pledge.web.templates import signed_in

# A drawn page's address is part of its key: a query this long is drawn, never kept.
QUERY_KEPT_MAX = 200


@dataclass(frozen=True, slots=True)
class Drawn:
    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...]


def _kept_headers(response: Response) -> tuple[tuple[str, str], ...]:
    """The headers a page was drawn with, but those the server adds to every answer."""
    return tuple(
        (name, value)
        for name, value in response.headers.items()
        if name.lower() not in {"content-length", "set-cookie", "cache-control"}
    )


class DrawnPages:
    """The pages of one kind as drawn, by address, language and version (size-bounded)."""

    def __init__(self, name: str, *, size: int = 512) -> None:
        self._pages: Cache[tuple[Hashable, ...], Drawn] = Cache(name, size=size)

    async def answer(
        self,
        request: Request,
        version: Hashable,
        draw: Callable[..., Response],
        *args: Any,
        cache_control: str | None = None,
    ) -> Response:
        """The page as drawn for this version, or drawn now in the thread pool (once, for
        every request that asks meanwhile) and kept when it is a success."""
        query: bytes = request.scope.get("query_string", b"")
        key = (request.url.path, query, get_locale(), version)
        found = self._pages.get(key)
        if found is None:
            if len(query) > QUERY_KEPT_MAX:
                return await shared_reads.read(("drawn", id(self), *key), draw, *args)
            found = await shared_reads.read(("drawn", id(self), *key), self._draw, draw, args)
            if found.status == 200:
                self._pages.put(key, found)
        headers = dict(found.headers)
        if signed_in(request):
            headers["Cache-Control"] = "no-store"
        elif cache_control is not None and found.status == 200:
            headers["Cache-Control"] = cache_control
        return HTMLResponse(found.body, status_code=found.status, headers=headers)

    @staticmethod
    def _draw(draw: Callable[..., Response], args: tuple[Any, ...]) -> Drawn:
        response = draw(*args)
        return Drawn(
            status=response.status_code, body=bytes(response.body), headers=_kept_headers(response)
        )


class VersionReader:
    """A value read from the database at most once every `max_age` seconds per process and
    database, shared by the requests that ask while it is read: what changes a kind of page."""

    def __init__(
        self, name: str, read: Callable[[Engine], Hashable], *, max_age: float = 1.0
    ) -> None:
        self._read = read
        self._max_age = max_age
        self._values: Cache[int, Hashable] = Cache(name, size=8)

    async def current(self, engine: Engine) -> Hashable:
        kept = self._values.get(id(engine), self._max_age)
        if kept is not None:
            return kept
        value = await shared_reads.read(("version", id(self), id(engine)), self._read, engine)
        self._values.put(id(engine), value)
        return value

    def forget(self) -> None:
        """Read again at the next request: this process just changed what it reads."""
        self._values.clear()
