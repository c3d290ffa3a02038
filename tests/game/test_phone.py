"""A whole game on a 360 × 740 phone, on slow 3G, with JavaScript off, in a real Chromium: the
start page, ten pictures each answered with a thumb-sized button, their answers and clues, and
the score with its share card. Screenshots of each kind of page are kept in a temporary folder
(printed) to look at."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page
from sqlmodel import Session

from tests.game.playing import attach_original, kinds, published_verdict, put_in_game
from tests.support import provenance_files as files
from tests.support.appserver import LiveServer
from tests.support.images import encoded, notice
from tests.support.moderation import World
from tests.support.phone import Phone

WIDTH = 360
TIMEOUT_MS = 60_000  # slow 3G: a safety net only


def fits(page: Page) -> None:
    """Nothing scrolls sideways, and every button and link-button is a thumb's size."""
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH
    for box in page.locator("main button, main a.button").evaluate_all(
        "els => els.filter(e => e.offsetParent).map(e => e.getBoundingClientRect().toJSON())"
    ):
        assert box["height"] >= 44 and box["width"] >= 44, box
    size = page.evaluate("parseFloat(getComputedStyle(document.querySelector('main p')).fontSize)")
    assert size >= 14


def shoot(page: Page, folder: Path, name: str, shots: dict[str, Path]) -> None:
    if name not in shots:
        shots[name] = folder / f"{name}.png"
        page.screenshot(path=str(shots[name]), full_page=True)


@pytest.mark.browser
def test_a_whole_game_on_a_slow_phone_without_javascript(
    phone: Callable[..., Phone],
    live_server: LiveServer,
    session: Session,
    world: World,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    tall = encoded(notice(["PENGUMUMAN KPU", "Pemilu diundur", "ke tahun depan!"]), "PNG")
    cases = [
        published_verdict(session, world.a, 1, image=files.signed_jpeg(), label="BUATAN AI"),
        published_verdict(session, world.a, 2, image=tall),
        *(published_verdict(session, world.a, seed) for seed in range(3, 8)),
    ]
    for n, case_id in enumerate(cases[2:5]):
        attach_original(session, case_id, 40 + n)
    put_in_game(session, world.a, *cases)
    kind_of = kinds(world.a, cases)
    folder = tmp_path_factory.mktemp("game-screens")
    shots: dict[str, Path] = {}
    url = live_server.url

    with phone(java_script_enabled=False, locale="en-US") as player:
        page = player.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(f"{url}/c/{world.a.slug}/game?lang=en")
        assert page.locator("#game-size").inner_text().startswith("One game is 10 pictures.")
        fits(page)
        shoot(page, folder, "1-start", shots)
        page.locator("#form-start button").tap()
        for position in range(10):
            page.wait_for_url(re.compile(r".*/game/play\?t="))
            picture = page.locator("#picture")
            picture.wait_for()
            page.wait_for_function("document.querySelector('#picture').complete")
            key = re.search(r"/pictures/([^/.]+)\.jpg", picture.get_attribute("src") or "")
            assert key is not None
            _case_id, kind = kind_of[key[1]]
            assert page.locator("#progress").inner_text() == (
                f"Picture {position + 1} of 10 · score {(position + 1) // 2}"
            )
            fits(page)
            shoot(page, folder, "2-question", shots)
            # Right at even positions, wrong at odd ones: five right.
            said = kind if position % 2 == 0 else ("real" if kind == "fake" else "fake")
            page.locator(f"#answer-{said}").tap()
            page.wait_for_url(re.compile(r".*/game/result\?t="))
            assert page.locator("#outcome").get_attribute("data-right") == (
                "true" if position % 2 == 0 else "false"
            )
            assert page.locator("#clue").inner_text().strip()
            fits(page)
            shoot(page, folder, f"3-answer-{kind}", shots)
            page.locator("#next").tap()
        page.wait_for_url(re.compile(r".*/game/score\?t="))
        page.wait_for_function("document.querySelector('#card').complete")
        assert page.locator("#score").inner_text().replace(" ", "") == "5/10"
        fits(page)
        shoot(page, folder, "4-score", shots)
        share = page.locator("#share-url").input_value()
        assert share == f"{url}/c/{world.a.slug}"

    print("\nGame screenshots:", *(str(path) for path in shots.values()), sep="\n  ")
    assert {"1-start", "2-question", "3-answer-fake", "3-answer-real", "4-score"} <= set(shots)
