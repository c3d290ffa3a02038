"""The game's counts: games started and finished, and per picture how often it was answered
and how often it fooled players; exact when many answer at once, shown to the campaign's
moderators on the case page and to everyone on the transparency page."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from pledge import cache
from pledge.accounts.models import User
from pledge.db import utcnow
from pledge.game import service as game
from pledge.game.models import GameAnswer, GameCount, GameItem, game_answer_table
from tests.game.playing import answer, kinds, question, start, verdicts_in_game
from tests.support.db import fresh
from tests.support.moderation import World, case_url
from tests.support.pages import html

Staff = Callable[[User | None], TestClient]


def play(client: TestClient, world: World, kind_of: dict, said: str, pictures: int) -> list:
    """Answer `said` to the first `pictures` pictures of a new game; the pictures answered."""
    url, seen = start(client, world.a), []
    for _position in range(pictures):
        step = question(client, url)
        seen.append(kind_of[step.key])
        page = html(client.get(answer(client, world.a, step, said).headers["location"]))
        url = str(page.select_one("#next")["href"])
    return seen


def items(session: Session) -> dict[int, GameItem]:
    return {row.case_id: row for row in fresh(session).exec(select(GameItem))}


def test_games_and_pictures_are_counted_and_shown_to_moderators_and_the_public(
    new_client: Callable[..., TestClient], session: Session, world: World, staff: Staff
) -> None:
    cases = verdicts_in_game(session, world.a, 4, originals=1)  # four fakes, one real
    kind_of = kinds(world.a, cases)

    trusting = play(new_client(), world, kind_of, "real", 5)  # every fake fools them
    doubting = play(new_client(), world, kind_of, "fake", 5)  # the real one fools them
    first = play(new_client(), world, kind_of, "real", 1)  # leaves after one picture

    every_picture = {(case_id, "fake") for case_id in cases} | {(cases[0], "real")}
    assert len(trusting) == len(doubting) == 5
    assert set(trusting) == set(doubting) == every_picture
    counts = fresh(session).get(GameCount, world.a.id)
    assert counts is not None and (counts.started, counts.finished) == (3, 2)
    rows = items(session)
    left_on = first[0]
    for case_id in cases:
        extra = int(left_on == (case_id, "fake"))
        assert (rows[case_id].fake_shown, rows[case_id].fake_fooled) == (2 + extra, 1 + extra)
    real = cases[0]
    extra = int(left_on == (real, "real"))
    assert (rows[real].real_shown, rows[real].real_fooled) == (2 + extra, 1)

    # The moderators' section of the case.
    moderator = staff(world.mod_a)
    section = html(moderator.get(case_url(real))).select_one("#game")
    assert section is not None
    assert section.select_one("#game-fake .shown").get_text(strip=True) == str(
        rows[real].fake_shown
    )
    assert section.select_one("#game-fake .fooled").get_text(strip=True) == str(
        rows[real].fake_fooled
    )
    assert section.select_one("#game-real .fooled").get_text(strip=True) == "1"
    assert (
        section.select_one("#game-campaign")
        .get_text(" ", strip=True)
        .startswith("Games of this campaign: 3 started, 2 finished.")
    )
    fooling = [int(li["data-case"]) for li in section.select("#game-fooling li")]
    most = sorted(cases, key=lambda c: (-rows[c].fake_fooled, rows[c].fake_shown, c))[:3]
    assert fooling == most

    # The public transparency page, in English.
    cache.clear_all()
    page = html(new_client(lang="en").get("/transparansi"))
    assert page.select_one("#game-played").get_text(" ", strip=True) == (
        "3 games played · 2 played to the end"
    )
    listed = page.select("#game-fooling li")
    assert [int(li["data-case"]) for li in listed] == most
    assert [li.select_one("a")["href"] for li in listed] == [f"/hoaxes/{c}" for c in most]
    # Another campaign's page shows its own games: none.
    other = html(new_client(lang="en").get(f"/transparansi?campaign={world.b.slug}"))
    assert other.select_one("#game-played").get_text(" ", strip=True) == (
        "0 games played · 0 played to the end"
    )
    assert other.select_one("#game-fooling") is None


def test_answers_at_the_same_moment_are_all_counted(
    session: Session, world: World, engine: sa.Engine
) -> None:
    cases = verdicts_in_game(session, world.a, 2)
    pictures = {
        item.case_id: item for item in game.list_items(fresh(session), campaign_id=world.a.id)
    }
    fake, other = pictures[cases[0]], pictures[cases[1]]
    players = 12
    ready = threading.Barrier(players)
    failures: list[BaseException] = []

    def player() -> None:
        state = game.GameState(world.a.id, game.new_game([fake, other], campaign_id=world.a.id).game_id,
                               (fake.key, other.key), 0)  # fmt: skip
        try:
            with Session(engine, expire_on_commit=False) as mine:
                ready.wait(timeout=30)
                after = game.answer(mine, state=state, item=fake, said=game.Answer.REAL)
                game.answer(mine, state=after, item=other, said=game.Answer.FAKE)
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=player) for _ in range(players)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert failures == []
    rows = items(session)
    assert (rows[fake.case_id].fake_shown, rows[fake.case_id].fake_fooled) == (players, players)
    assert (rows[other.case_id].fake_shown, rows[other.case_id].fake_fooled) == (players, 0)
    counts = fresh(session).get(GameCount, world.a.id)
    assert counts is not None and (counts.started, counts.finished) == (players, players)


def test_answers_older_than_a_token_lives_are_deleted_when_a_game_starts(
    client: TestClient, session: Session, world: World
) -> None:
    verdicts_in_game(session, world.a, 3)
    now = utcnow()
    old = GameAnswer(game_id="o" * 16, position=0, answer="fake", right=True,
                     created_at=now - timedelta(seconds=game.MAX_AGE_SECONDS + 7200))  # fmt: skip
    young = GameAnswer(game_id="y" * 16, position=0, answer="fake", right=True,
                       created_at=now - timedelta(seconds=game.MAX_AGE_SECONDS - 600))  # fmt: skip
    session.add_all([old, young])
    session.commit()

    step = question(client, start(client, world.a))
    answer(client, world.a, step, "fake")

    left = fresh(session).execute(sa.select(game_answer_table.c.game_id)).scalars().all()
    assert sorted(left) == sorted(["y" * 16, game.load(step.token, campaign_id=world.a.id).game_id])
