"""A game's token as players can misuse it: altered, expired, another campaign's, answered
past its end, an answer sent again or twice at once. Each gets a clear page and a 4xx, never a
500, and no answer counts twice nor raises a score."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlmodel import Session

from pledge.config import get_settings
from pledge.db import utcnow
from pledge.game import service as game
from pledge.game.models import game_answer_table, game_count_table, game_item_table
from tests.game.playing import answer, kinds, question, start, token_of, verdicts_in_game
from tests.support.moderation import World
from tests.support.pages import html

START_AGAIN = "Start a new game"


def problem(response: Any) -> tuple[int, str, str]:
    """The status, the message and where "Start a new game" leads."""
    page = html(response)
    detail = page.select_one("#game-problem p.detail")
    again = page.select_one("#start-again")
    assert detail is not None and again is not None, response.text[:400]
    assert again.get_text(strip=True) == START_AGAIN
    return response.status_code, detail.get_text(" ", strip=True), str(again["href"])


def counts(session: Session) -> dict[str, int]:
    conn = session.connection()
    items = conn.execute(
        sa.select(
            sa.func.sum(game_item_table.c.fake_shown + game_item_table.c.real_shown),
            sa.func.sum(game_item_table.c.fake_fooled + game_item_table.c.real_fooled),
        )
    ).one()
    games = conn.execute(
        sa.select(sa.func.sum(game_count_table.c.started), sa.func.sum(game_count_table.c.finished))
    ).one()
    answers = conn.execute(sa.select(sa.func.count()).select_from(game_answer_table)).scalar()
    session.commit()
    return {
        "shown": int(items[0] or 0),
        "fooled": int(items[1] or 0),
        "started": int(games[0] or 0),
        "finished": int(games[1] or 0),
        "answers": int(answers or 0),
    }


@pytest.fixture
def playing(session: Session, world: World, client: TestClient) -> dict[str, Any]:
    """Campaign A's game of four pictures, started: the first question."""
    cases = verdicts_in_game(session, world.a, 3, originals=1)
    url = start(client, world.a)
    return {
        "cases": cases,
        "url": url,
        "step": question(client, url),
        "kinds": kinds(world.a, cases),
    }


def altered(token: str) -> str:
    payload, _, rest = token.partition(".")
    return payload + "." + ("A" if rest[0] != "A" else "B") + rest[1:]


@pytest.mark.parametrize("page", ["play", "result", "score"])
def test_an_altered_token_gets_a_clear_page_and_a_new_game(
    client: TestClient, world: World, playing: dict[str, Any], page: str
) -> None:
    token = token_of(playing["url"])

    response = client.get(f"/c/{world.a.slug}/game/{page}?t={altered(token)}")
    garbage = client.get(f"/c/{world.a.slug}/game/{page}?t=not-a-token.%FF%FE")
    empty = client.get(f"/c/{world.a.slug}/game/{page}")

    message = "The address of this game is damaged or was changed, so it cannot go on."
    for each in (response, garbage, empty):
        status, detail, again = problem(each)
        assert (status, again) == (400, f"/c/{world.a.slug}/game")
        assert detail.startswith(message)


def test_an_altered_token_posted_with_an_answer_counts_nothing(
    client: TestClient, session: Session, world: World, playing: dict[str, Any]
) -> None:
    step = playing["step"]

    response = answer(client, world.a, step, "fake", token=altered(step.token))

    assert problem(response)[0] == 400
    assert counts(session)["answers"] == 0


def test_a_token_older_than_a_day_is_expired(
    client: TestClient, world: World, playing: dict[str, Any]
) -> None:
    state = game.load(token_of(playing["url"]), campaign_id=world.a.id)
    then = int(utcnow().timestamp()) - game.MAX_AGE_SECONDS - 60

    class Then(TimestampSigner):
        def get_timestamp(self) -> int:
            return then

    serializer = URLSafeTimedSerializer(get_settings().secret_key, salt="game")
    serializer.signer = Then  # type: ignore[assignment]
    old = serializer.dumps(
        {"c": state.campaign_id, "g": state.game_id, "o": list(state.order), "p": 0, "s": 0,
         "k": 0, "i": "", "a": ""}
    )  # fmt: skip

    status, detail, _again = problem(client.get(f"/c/{world.a.slug}/game/play?t={old}"))

    assert status == 400
    assert detail.startswith("This game was left for more than a day")


def test_a_token_of_another_campaign_is_refused_on_this_one(
    client: TestClient, session: Session, world: World, playing: dict[str, Any]
) -> None:
    verdicts_in_game(session, world.b, 3, first=20)
    token = token_of(playing["url"])

    status, detail, again = problem(client.get(f"/c/{world.b.slug}/game/play?t={token}"))

    assert (status, again) == (400, f"/c/{world.b.slug}/game")
    assert detail == "This game belongs to another campaign. Start a new one here!"


def test_an_answer_past_the_last_picture_is_refused(
    client: TestClient, session: Session, world: World, playing: dict[str, Any]
) -> None:
    url = playing["url"]
    for _position in range(4):
        step = question(client, url)
        result = html(client.get(answer(client, world.a, step, "fake").headers["location"]))
        url = str(result.select_one("#next")["href"])
    assert "/score?" in url
    before = counts(session)

    response = answer(client, world.a, step, "real", token=token_of(url))

    status, detail, _again = problem(response)
    assert status == 400
    assert detail == "This game is over: every picture has its answer."
    assert counts(session) == before


def test_an_answer_sent_again_counts_once_and_keeps_the_first_answers_score(
    client: TestClient, session: Session, world: World, playing: dict[str, Any]
) -> None:
    step = playing["step"]
    _case_id, kind = playing["kinds"][step.key]
    wrong = "real" if kind == "fake" else "fake"
    right = kind

    first = answer(client, world.a, step, wrong)
    again = answer(client, world.a, step, right)  # the back button, and the other button

    after_first = game.load(token_of(first.headers["location"]), campaign_id=world.a.id)
    after_again = game.load(token_of(again.headers["location"]), campaign_id=world.a.id)
    assert (after_first.score, after_first.position, after_first.last) == (0, 1, wrong)
    assert (after_again.score, after_again.position, after_again.last) == (0, 1, wrong)
    page = html(client.get(again.headers["location"]))
    assert page.select_one("#outcome")["data-right"] == "false"
    assert counts(session) == {"shown": 1, "fooled": 1, "started": 1, "finished": 0, "answers": 1}


def test_a_double_tap_is_one_answer(
    client: TestClient, session: Session, world: World, playing: dict[str, Any]
) -> None:
    step = playing["step"]
    _case_id, kind = playing["kinds"][step.key]

    taps = [answer(client, world.a, step, kind) for _tap in range(2)]

    states = [game.load(token_of(t.headers["location"]), campaign_id=world.a.id) for t in taps]
    assert [(s.score, s.position) for s in states] == [(1, 1), (1, 1)]
    assert counts(session) == {"shown": 1, "fooled": 0, "started": 1, "finished": 0, "answers": 1}


def test_an_answer_that_is_neither_real_nor_fake_is_refused_with_a_way_back(
    client: TestClient, session: Session, world: World, playing: dict[str, Any]
) -> None:
    response = answer(client, world.a, playing["step"], "maybe")

    status, detail, _again = problem(response)
    assert (status, detail) == (422, "Choose “Real” or “Fake”.")
    assert html(response).select_one("#back")["href"] == playing["url"]
    assert counts(session)["answers"] == 0


def test_a_picture_taken_out_of_the_game_meanwhile_is_passed_over(
    client: TestClient, session: Session, world: World, playing: dict[str, Any]
) -> None:
    from pledge import cache
    from pledge.game.models import GameItem

    state = game.load(token_of(playing["url"]), campaign_id=world.a.id)
    case_id, _kind = playing["kinds"][state.order[0]]
    item = session.get(GameItem, case_id)
    assert item is not None
    item.in_game = False
    item.updated_at = utcnow()
    session.add(item)
    session.commit()
    cache.clear_all()

    response = client.get(playing["url"])

    assert response.status_code == 303
    after = game.load(token_of(response.headers["location"]), campaign_id=world.a.id)
    assert (after.position, after.skipped) == (1, 1)
