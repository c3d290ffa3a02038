"""Playing the game through HTTP as an English browser does: a whole game with its score and
clues, the share link that credits an invite code, nothing personal kept anywhere, the pages
in Indonesian, and a campaign whose game is not ready yet."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session

from pledge import cache
from pledge.campaigns.models import CampaignView
from pledge.config import get_settings
from pledge.game.models import game_answer_table, game_count_table, game_item_table
from pledge.web import SESSION_COOKIE, _serializer
from tests.game.playing import (
    answer,
    attach_original,
    kinds,
    published_verdict,
    put_in_game,
    question,
    start,
    verdicts_in_game,
)
from tests.support import provenance_files as files
from tests.support.moderation import World
from tests.support.pages import html

SIGNED_CLUE = "Content Credentials in the file said it was made by a generative AI model."
REAL_CLUE = "This is the original photo; the fake changed 2 parts of it."


def ten_pictures(session: Session, world: World) -> list[int]:
    """Seven verdicts in campaign A's game, the first with Content Credentials in its file,
    three of them with an original that lines up: seven fakes and three real photos."""
    signed = published_verdict(session, world.a, 1, image=files.signed_jpeg(), label="BUATAN AI")
    others = [published_verdict(session, world.a, seed) for seed in range(2, 8)]
    for n, case_id in enumerate(others[:3]):
        attach_original(session, case_id, 100 + n)
    put_in_game(session, world.a, signed, *others)
    return [signed, *others]


def text(page: object, selector: str) -> str:
    found = page.select_one(selector)  # type: ignore[attr-defined]
    assert found is not None, f"no {selector}"
    return str(found.get_text(" ", strip=True))


def play_through(client: TestClient, world: World, cases: list[int], wrong_at: set[int]) -> dict:
    """A whole game, answering wrongly at these positions; what each answer page showed."""
    kind_of = kinds(world.a, cases)
    url = start(client, world.a)
    seen: dict = {"clues": {}, "kinds": [], "results": []}
    for position in range(10):
        step = question(client, url)
        case_id, kind = kind_of[step.key]
        seen["kinds"].append(kind)
        right = kind if position not in wrong_at else ("real" if kind == "fake" else "fake")
        answered = answer(client, world.a, step, right)
        assert answered.status_code == 303
        result = client.get(answered.headers["location"])
        page = html(result)
        seen["results"].append(page.select_one("#outcome")["data-right"])
        seen["clues"][(case_id, kind)] = text(page, "#clue")
        url = str(page.select_one("#next")["href"])
    seen["score_page"] = client.get(url)
    return seen


def test_a_whole_game_scores_each_right_answer_and_shows_each_clue(
    client: TestClient, session: Session, world: World
) -> None:
    cases = ten_pictures(session, world)

    seen = play_through(client, world, cases, wrong_at={0, 3, 7, 9})

    assert seen["results"] == ["false" if n in {0, 3, 7, 9} else "true" for n in range(10)]
    score = seen["score_page"]
    assert score.status_code == 200
    assert text(html(score), "#score") == "6 / 10"
    clues = seen["clues"]
    signed = clues.get((cases[0], "fake"))
    if signed is not None:  # the signed fake was among the ten drawn
        assert signed.startswith(SIGNED_CLUE) and "TestGen" in signed
    for case_id in cases[1:4]:
        if (case_id, "real") in clues:
            assert clues[(case_id, "real")] == REAL_CLUE
    # Every real photo of the campaign is drawn (it has fewer than half of ten), and fakes
    # make up the rest.
    assert (seen["kinds"].count("real"), seen["kinds"].count("fake")) == (3, 7)


def test_the_clues_of_a_signed_fake_and_of_a_real_original(
    client: TestClient, session: Session, world: World
) -> None:
    signed = published_verdict(session, world.a, 1, image=files.signed_jpeg(), label="BUATAN AI")
    plain = published_verdict(session, world.a, 2, correction="Foto asli dari 2015.")
    changed = published_verdict(session, world.a, 3)
    attach_original(session, changed, 30)
    put_in_game(session, world.a, signed, plain, changed)
    kind_of = kinds(world.a, [signed, plain, changed])
    clues = {}

    url = start(client, world.a)
    for _position in range(4):
        step = question(client, url)
        answered = answer(client, world.a, step, "fake")
        page = html(client.get(answered.headers["location"]))
        clues[kind_of[step.key]] = text(page, "#clue")
        assert page.select_one("#verdict-link")["href"] == f"/hoaxes/{kind_of[step.key][0]}"
        url = str(page.select_one("#next")["href"])

    assert clues[(signed, "fake")].startswith(SIGNED_CLUE)
    assert "The file named the tool: TestGen" in clues[(signed, "fake")]
    assert clues[(plain, "fake")] == "Fact: Foto asli dari 2015."
    assert (
        clues[(changed, "fake")] == "Compared with the original photo, 2 parts of it were changed."
    )
    assert clues[(changed, "real")] == REAL_CLUE


def share_url(response: object) -> str:
    field = html(response).select_one("#share-url")
    assert field is not None
    return str(field["value"])


def finish(client: TestClient, world: World, url: str, view: CampaignView | None = None) -> Any:
    """Answer "fake" to every picture left: the score page."""
    view = view or world.a
    while "/score" not in url:
        step = question(client, url)
        page = html(client.get(answer(client, view, step, "fake").headers["location"]))
        url = str(page.select_one("#next")["href"])
    return client.get(url)


def test_the_share_link_carries_the_invite_code_the_player_came_with_and_only_a_valid_one(
    client: TestClient, session: Session, world: World
) -> None:
    verdicts_in_game(session, world.a, 3)
    campaign = f"http://testserver/c/{world.a.slug}"

    with_code = finish(client, world, start(client, world.a, invite="Ab3_x-9Q"))
    with_bad_code = finish(client, world, start(client, world.a, invite="<b>nope</b>"))
    without = finish(client, world, start(client, world.a))

    assert share_url(with_code) == f"{campaign}?invite=Ab3_x-9Q"
    whatsapp = html(with_code).select_one("a.whatsapp")["href"]
    assert "invite%3DAb3_x-9Q" in whatsapp
    assert share_url(with_bad_code) == campaign
    assert share_url(without) == campaign
    # The start page keeps the code, and its language link too.
    start_page = html(client.get(f"/c/{world.a.slug}/game?invite=Ab3_x-9Q"))
    assert start_page.select_one("#form-start input[name=invite]")["value"] == "Ab3_x-9Q"
    assert "invite=Ab3_x-9Q" in start_page.select_one("nav.lang a")["href"]
    assert (
        html(client.get(f"/c/{world.a.slug}/game?invite=x")).select_one(
            "#form-start input[name=invite]"
        )
        is None
    )


def test_each_campaigns_score_page_is_its_own(
    client: TestClient, session: Session, world: World
) -> None:
    verdicts_in_game(session, world.a, 3)
    verdicts_in_game(session, world.b, 3, first=10)

    scores = [finish(client, world, start(client, view), view) for view in (world.a, world.b)]

    assert [text(html(score), "#score") for score in scores] == ["3 / 3", "3 / 3"]
    assert [share_url(score) for score in scores] == [
        f"http://testserver/c/{world.a.slug}",
        f"http://testserver/c/{world.b.slug}",
    ]


def test_no_cookie_and_no_row_holds_anything_of_the_player(
    client: TestClient, session: Session, world: World
) -> None:
    verdicts_in_game(session, world.a, 3, originals=1)

    finish(client, world, start(client, world.a, invite="Ab3_x-9Q"))

    cookies = {cookie.name: cookie.value for cookie in client.cookies.jar}
    assert set(cookies) <= {SESSION_COOKIE, "lang"}
    session_data = _serializer(get_settings()).loads(cookies[SESSION_COOKIE])
    assert set(session_data) == {"csrf"}  # the forms' token, nothing of the game
    conn = session.connection()
    answers = conn.execute(sa.select(game_answer_table)).mappings().all()
    counts = conn.execute(sa.select(game_count_table)).mappings().all()
    items = conn.execute(sa.select(game_item_table)).mappings().all()
    assert len(answers) == 4
    assert {tuple(row.keys()) for row in answers} == {
        ("id", "game_id", "position", "answer", "right", "created_at")
    }
    assert len({row["game_id"] for row in answers}) == 1
    stored = json.dumps([dict(row) for row in [*answers, *counts, *items]], default=str)
    assert "Ab3_x-9Q" not in stored and "testclient" not in stored and "127.0.0.1" not in stored


def test_the_pages_in_indonesian_carry_its_language_and_the_same_structure(
    new_client, session: Session, world: World
) -> None:
    verdicts_in_game(session, world.a, 3)
    browser = new_client(lang=None)  # Indonesian, the default

    start_page = browser.get(f"/c/{world.a.slug}/game")
    url = start(browser, world.a)
    step = question(browser, url)
    result = browser.get(answer(browser, world.a, step, "real").headers["location"])

    for response in (start_page, step.response, result):
        page = html(response)
        assert page.html["lang"] == "id"
        assert page.select_one("nav.lang [aria-current]")["lang"] == "id"
    buttons = html(step.response).select("#form-answer button[name=answer]")
    assert [button["value"] for button in buttons] == ["real", "fake"]
    assert html(result).select_one("#outcome")["data-right"] in ("true", "false")
    # The answer's picture is drawn in the page's language: Indonesian, the default, in none.
    assert "lang=" not in html(result).select_one("#picture")["src"]
    english = html(browser.get(str(result.url) + "&lang=en")).select_one("#picture")["src"]
    assert english.endswith("?lang=en")


def test_a_campaign_with_too_few_pictures_says_the_game_is_not_ready(
    client: TestClient, session: Session, world: World
) -> None:
    one = published_verdict(session, world.a, 1)
    put_in_game(session, world.a, one)  # one fake: fewer than three pictures

    page = client.get(f"/c/{world.a.slug}/game")
    started = client.post(
        f"/c/{world.a.slug}/game",
        data={
            "csrf_token": html(client.get(f"/c/{world.b.slug}")).select_one(
                "input[name=csrf_token]"
            )["value"]
        },
    )

    assert page.status_code == 200
    assert html(page).select_one("#not-ready") is not None
    assert html(page).select_one("#form-start") is None
    assert (started.status_code, started.headers["location"]) == (303, f"/c/{world.a.slug}/game")
    # With an original, the same verdict gives two pictures; a second verdict makes three.
    attach_original(session, one, 9)
    put_in_game(session, world.a, published_verdict(session, world.a, 2))
    cache.clear_all()  # this process reads the game's version at most once a second
    ready = html(client.get(f"/c/{world.a.slug}/game"))
    assert ready.select_one("#not-ready") is None
    assert text(ready, "#game-size").startswith("One game is 3 pictures.")
