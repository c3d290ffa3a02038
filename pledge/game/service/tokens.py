"""A game's state, carried by the player's own pages in a signed token: which pictures in which
order, how far, the score, the invite code it was started with and a random game id. Nothing of
it is stored on the server, and nothing in it says who plays."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from pledge.config import get_settings
from pledge.errors import BadRequest
from pledge.i18n import gettext as _

# How long a game may go on between two pictures: a token older than this is refused. An
# answer counted is kept as long, to recognise the same answer sent again.
MAX_AGE_SECONDS = 24 * 60 * 60
PICTURES_MAX = 10
# An item's key in an address or a token (service.items.item_key), and a game's id.
KEY = re.compile(r"\A[A-Za-z0-9_-]{6,16}\Z")
GAME_ID = re.compile(r"\A[A-Za-z0-9_-]{16,32}\Z")
INVITE = re.compile(r"\A[A-Za-z0-9_-]{4,16}\Z")  # supporters.INVITE_CODE, checked again


class Answer(StrEnum):
    REAL = "real"
    FAKE = "fake"


class TokenProblem(StrEnum):
    """Why a token cannot go on: each has its message, and the page offers a new game."""

    EXPIRED = "expired"
    DAMAGED = "damaged"
    ELSEWHERE = "elsewhere"  # a token of another campaign's game
    OVER = "over"  # an answer to a game whose every picture is answered

    @property
    def label(self) -> str:
        return {
            TokenProblem.EXPIRED: _(
                "This game was left for more than a day, so it cannot go on. Start a new one!"
            ),
            TokenProblem.DAMAGED: _(
                "The address of this game is damaged or was changed, so it cannot go on. "
                "Start a new one!"
            ),
            TokenProblem.ELSEWHERE: _(
                "This game belongs to another campaign. Start a new one here!"
            ),
            TokenProblem.OVER: _("This game is over: every picture has its answer."),
        }[self]


class BadToken(BadRequest):
    """A token that cannot be played on (400): the page says why and offers a new game."""

    def __init__(self, problem: TokenProblem) -> None:
        super().__init__(problem.label)
        self.problem = problem


@dataclass(frozen=True, slots=True)
class GameState:
    campaign_id: int
    game_id: str
    order: tuple[str, ...]  # the pictures' keys, in the order they are shown
    position: int  # the next picture to answer; len(order) once every one is
    score: int = 0  # right answers
    skipped: int = 0  # pictures taken out of the game before their turn came
    invite: str = ""  # the invite code the player came with, for the share buttons
    last: str = ""  # the answer given to the picture before `position`, "" before any

    @property
    def over(self) -> bool:
        return self.position >= len(self.order)

    @property
    def total(self) -> int:
        """How many pictures the game has, less those taken out of it on the way."""
        return len(self.order) - self.skipped

    @property
    def answered(self) -> int:
        return self.position - self.skipped

    @property
    def current(self) -> str:
        """The key of the picture to answer now."""
        return self.order[self.position]

    @property
    def previous(self) -> str:
        """The key of the picture answered last."""
        return self.order[self.position - 1]

    def after(self, answer: str, right: bool) -> GameState:
        """The state once the current picture is answered."""
        return replace(self, position=self.position + 1, score=self.score + right, last=answer)

    def skipping(self) -> GameState:
        """The state once the current picture, no longer in the game, is passed over."""
        return replace(self, position=self.position + 1, skipped=self.skipped + 1, last="")


@functools.lru_cache(maxsize=4)
def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt="game")


def dump(state: GameState) -> str:
    """The token of a state: URL-safe, signed with the site's secret key, dated now."""
    data = {
        "c": state.campaign_id,
        "g": state.game_id,
        "o": list(state.order),
        "p": state.position,
        "s": state.score,
        "k": state.skipped,
        "i": state.invite,
        "a": state.last,
    }
    return str(_serializer(get_settings().secret_key).dumps(data))


def load(token: str, *, campaign_id: int) -> GameState:
    """The state a token carries, for a game of this campaign; BadToken when it is expired,
    altered, not a token at all or another campaign's."""
    try:
        data = _serializer(get_settings().secret_key).loads(token, max_age=MAX_AGE_SECONDS)
    except SignatureExpired:
        raise BadToken(TokenProblem.EXPIRED) from None
    except (BadSignature, ValueError, UnicodeError):
        raise BadToken(TokenProblem.DAMAGED) from None
    state = _state(data)
    if state is None:
        raise BadToken(TokenProblem.DAMAGED)
    if state.campaign_id != campaign_id:
        raise BadToken(TokenProblem.ELSEWHERE)
    return state


def _state(data: Any) -> GameState | None:
    """The state in a token's data, or None when it is not one this site signs."""
    if not isinstance(data, dict):
        return None
    order = data.get("o")
    if not isinstance(order, list) or not all(isinstance(k, str) and KEY.match(k) for k in order):
        return None
    numbers = [data.get(name) for name in ("c", "p", "s", "k")]
    texts = [data.get(name) for name in ("g", "i", "a")]
    if not all(type(n) is int and n >= 0 for n in numbers) or not all(
        isinstance(t, str) for t in texts
    ):
        return None
    state = GameState(data["c"], data["g"], tuple(order), data["p"], data["s"], data["k"],
                      data["i"], data["a"])  # fmt: skip
    return state if _consistent(state) else None


def _consistent(state: GameState) -> bool:
    return (
        0 < len(state.order) <= PICTURES_MAX
        and state.position <= len(state.order)
        and state.score + state.skipped <= state.position
        and bool(GAME_ID.match(state.game_id))
        and (state.invite == "" or bool(INVITE.match(state.invite)))
        and state.last in ("", *Answer)
    )
