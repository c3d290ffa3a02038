"""The game's pictures and pages as a slow phone gets them: small JPEGs with the game's band,
drawn once and kept, whose addresses do not tell real from fake; answers stamped with their
verdict in the page's language; the share card of a score; and pages drawn once per picture
and language, each player's token put into the same drawn page."""

from __future__ import annotations

import io
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image, ImageStat
from sqlmodel import Session

from pledge.game import card, pages
from pledge.game import service as game
from tests.game.playing import (
    answer,
    kinds,
    published_verdict,
    put_in_game,
    question,
    start,
    verdicts_in_game,
)
from tests.support.images import encoded, picture
from tests.support.moderation import World
from tests.support.pages import html


def bright(seed: int, size: tuple[int, int] = (1000, 800)) -> bytes:
    """A light picture of its own layout, larger than the game draws."""
    return encoded(Image.blend(picture(seed, size), Image.new("RGB", size, "white"), 0.7))


def jpeg(response: Any) -> Image.Image:
    assert response.status_code == 200, response.text[:200]
    assert response.headers["content-type"] == "image/jpeg"
    image = Image.open(io.BytesIO(response.content))
    assert image.format == "JPEG"
    return image


def luminance(image: Image.Image, box: tuple[int, int, int, int]) -> float:
    return float(ImageStat.Stat(image.convert("L").crop(box)).mean[0])


@pytest.fixture
def light_game(session: Session, world: World) -> list[int]:
    cases = [
        published_verdict(session, world.a, seed, image=bright(seed), correction=f"Fakta {seed}.")
        for seed in (1, 2, 3)
    ]
    put_in_game(session, world.a, *cases)
    return cases


def test_a_question_picture_is_small_with_the_games_band_and_drawn_once(
    client: TestClient, world: World, light_game: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    drawn: list[int] = []
    real_question = card.question
    monkeypatch.setattr(card, "question", lambda *a, **k: drawn.append(1) or real_question(*a, **k))
    step = question(client, start(client, world.a))
    img = html(step.response).select_one("#picture")
    src = str(img["src"])

    first, second = client.get(src), client.get(src)

    picture = jpeg(first)
    assert picture.size == (720, 576)  # 1000 × 800, fitted into 720 wide
    assert (int(img["width"]), int(img["height"])) == picture.size
    assert second.content == first.content and drawn == [1]
    assert first.headers["cache-control"].startswith("public")
    width, height = picture.size
    # Light above, the dark band at the foot.
    assert luminance(picture, (0, 0, width, height // 2)) > 150
    assert luminance(picture, (0, height - 20, width, height)) < 90
    assert len(first.content) < 120_000


def test_a_pictures_address_and_the_token_do_not_tell_real_from_fake(
    session: Session, world: World
) -> None:
    cases = verdicts_in_game(session, world.a, 3, originals=1)
    keys = kinds(world.a, cases)
    state = game.new_game(game.list_items(session, campaign_id=world.a.id), campaign_id=world.a.id)

    for key, (case_id, kind) in keys.items():
        assert str(case_id) not in key and kind not in key.lower()
    assert all(key in keys for key in state.order)
    token = game.dump(state)
    assert "fake" not in token and "real" not in token
    import base64, zlib  # noqa: E401, I001 - what a curious player would try

    payload = token.split(".")[1 if token.startswith(".") else 0]
    raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    text = (zlib.decompress(raw) if token.startswith(".") else raw).decode()
    assert "fake" not in text and "real" not in text


def test_an_answer_picture_carries_the_verdict_in_the_pages_language(
    new_client: Any, session: Session, world: World, light_game: list[int]
) -> None:
    english = new_client(lang="en")
    step = question(english, start(english, world.a))
    result = html(english.get(answer(english, world.a, step, "fake").headers["location"]))
    src = str(result.select_one("#picture")["src"])

    in_english = english.get(src)
    in_indonesian = english.get(src.replace("?lang=en", ""))
    asked = english.get(html(step.response).select_one("#picture")["src"])

    assert src.endswith("?lang=en")
    assert jpeg(in_english).size == jpeg(asked).size == (720, 576)
    # Stamped: greyed and voided, unlike the question; its words differ by language.
    assert in_english.content != asked.content
    assert in_english.content != in_indonesian.content
    stamped = jpeg(in_english)
    assert luminance(stamped, (0, 0, 720, 288)) < luminance(jpeg(asked), (0, 0, 720, 288)) - 40


def test_a_picture_not_in_the_game_is_not_found(
    client: TestClient, world: World, light_game: list[int]
) -> None:
    assert client.get(f"/c/{world.a.slug}/game/pictures/AAAAAAAAAAAA.jpg").status_code == 404
    assert client.get(f"/c/{world.a.slug}/game/answers/AAAAAAAAAAAA.jpg").status_code == 404
    assert client.get(f"/c/{world.b.slug}/game/pictures/AAAAAAAAAAAA.jpg").status_code == 404


def test_the_share_card_is_drawn_once_per_score_and_language(
    client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    drawn: list[int] = []
    real_card = card.share_card
    monkeypatch.setattr(card, "share_card", lambda t: drawn.append(t.score) or real_card(t))
    path = f"/c/{world.a.slug}/game/card.jpg"

    seven = client.get(f"{path}?score=7&of=10")
    again = client.get(f"{path}?score=7&of=10")
    english = client.get(f"{path}?score=7&of=10&lang=en")

    assert jpeg(seven).size == (1200, 630)
    assert again.content == seven.content and jpeg(english).size == (1200, 630)
    assert drawn == [7, 7]  # once in Indonesian, once in English
    for wrong in ("score=11&of=10", "score=3&of=12", "score=2&of=2", "score=x&of=10", ""):
        assert client.get(f"{path}?{wrong}").status_code == 404, wrong


def test_a_question_page_is_drawn_once_per_picture_and_language_for_every_player(
    new_client: Any, world: World, light_game: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    drawn: list[str] = []
    real_draw = pages._draw
    monkeypatch.setattr(pages, "_draw", lambda r, t, *a: drawn.append(t) or real_draw(r, t, *a))
    players = [new_client(lang="en") for _ in range(4)]
    steps = {}
    for player in players:
        step = question(player, start(player, world.a))
        steps.setdefault(step.key, []).append((player, step))

    for played in steps.values():
        tokens = {step.token for _player, step in played}
        csrf = {
            html(step.response).select_one("input[name=csrf_token]")["value"] for _p, step in played
        }
        assert len(tokens) == len(csrf) == len(played)  # each player's own, in the same page
    assert drawn.count("game/start.html") == 1
    assert drawn.count("game/question.html") == len(steps)  # once per picture shown
    indonesian = new_client(lang=None)
    question(indonesian, start(indonesian, world.a))
    assert drawn.count("game/start.html") == 2
