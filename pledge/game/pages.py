"""The game's pages, drawn once and answered from memory: each page is the same for every
player in a language but for a few values (the form's CSRF token, the game's token, the
position and the score), so it is drawn once per picture, language and version of the game with
holes where those go, and each answer fills the holes in one pass over the text."""

from __future__ import annotations

import functools
import re
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from pledge.cache import Cache
from pledge.campaigns.models import CampaignView
from pledge.game import service as game
from pledge.i18n import get_locale
from pledge.sharedreads import shared_reads
from pledge.web import csrf_token, render

# A hole is written unescaped: its "<" cannot come from any text of the page (escaped to
# "&lt;"), and in an address (the language links repeat the query) it is percent-encoded.
_HOLES = re.compile(r"<game-(\w+)>|%3Cgame-(\w+)%3E")
# A page with a token or a form: for this player only, and not for search engines.
PRIVATE = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}

# The holes a template writes, as {{ hole_token }}: a game's token, the position of its current
# picture, how many it answered, how many it has, and its score.
HOLES = {
    f"hole_{name}": Markup(f"<game-{name}>")  # noqa: S704 - constant names
    for name in ("token", "n", "answered", "total", "score")
}
# Bounded: a page per picture, language, outcome and version, and per score and invite code.
_pages: Cache[tuple[Hashable, ...], str] = Cache("game.pages", size=2048)


def hole(name: str) -> Markup:
    """Where a value of this request goes in a drawn page."""
    return Markup(f"<game-{name}>")  # noqa: S704 - a constant name


@dataclass(frozen=True, slots=True)
class Setting:
    """A campaign's game as this request finds it: the campaign, the version of the game's
    pictures and the pictures."""

    view: CampaignView
    version: Hashable
    items: list[game.Item]
    by_key: dict[str, game.Item] = field(default_factory=dict)

    @classmethod
    def of(cls, view: CampaignView, version: Hashable, items: list[game.Item]) -> Setting:
        return cls(view, version, items, {item.key: item for item in items})


async def drawn(
    request: Request,
    key: tuple[Hashable, ...],
    template: str,
    context: dict[str, Any],
    query: Mapping[str, str] | None = None,
) -> str:
    """The page as drawn for this key (with the language added), or drawn now in the thread
    pool, once for every request that asks meanwhile. `query` is the address's query as the
    page's own links repeat it, holes included."""
    key = (template, get_locale(), *key)
    found = _pages.get(key)
    if found is None:
        found = await shared_reads.read(
            ("game-page", *key), _draw, request, template, context, query
        )
        _pages.put(key, found)
    return found


def _draw(
    request: Request, template: str, context: dict[str, Any], query: Mapping[str, str] | None
) -> str:
    scope = {**request.scope, "query_string": urlencode(query or {}).encode()}
    drawing = Request(scope)
    context = {**context, **HOLES, "csrf_token": lambda: hole("csrf")}
    return bytes(render(drawing, template, context).body).decode()


def filled(
    request: Request, html: str, values: Mapping[str, object], *, status_code: int = 200
) -> HTMLResponse:
    """A drawn page with this request's values in its holes (the CSRF token made on first
    use). Every value is a number or URL-safe text: nothing to escape."""
    wanted = {"csrf": "", **{name: str(value) for name, value in values.items()}}
    pieces, tail = _pieces(html)
    if any(name == "csrf" for _text, name in pieces):
        wanted["csrf"] = csrf_token(request)
    body = "".join([piece for text, name in pieces for piece in (text, wanted.get(name, ""))])
    return HTMLResponse(body + tail, status_code=status_code, headers=PRIVATE)


@functools.lru_cache(maxsize=256)
def _pieces(html: str) -> tuple[tuple[tuple[str, str], ...], str]:
    """A drawn page cut at its holes, once: (text before a hole, the hole's name) pairs, and
    the text after the last hole."""
    parts = _HOLES.split(html)  # text, then for each hole its two groups and the text after
    pairs = tuple((parts[at], parts[at + 1] or parts[at + 2]) for at in range(0, len(parts) - 1, 3))
    return pairs, parts[-1]
