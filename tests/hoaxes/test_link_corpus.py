"""The corpus of links as people share them (tests/data/links.json): every spelling of a post
gives the post's key, pages that differ keep different keys, one key per post."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pledge.hoaxes.service import canonical_url, clean_url, is_short_link

CORPUS: dict[str, Any] = json.loads(
    (Path(__file__).parents[1] / "data" / "links.json").read_text(encoding="utf-8")
)
POSTS: list[dict[str, Any]] = CORPUS["posts"]
SPELLINGS = [(post["key"], spelling) for post in POSTS for spelling in post["spellings"]]


def test_the_corpus_is_large_enough() -> None:
    assert len(SPELLINGS) >= 170
    assert len(CORPUS["different"]) >= 40
    platforms = {post["platform"] for post in POSTS}
    assert {"tiktok", "facebook", "instagram", "x", "youtube", "whatsapp", "telegram"} <= platforms
    assert {"amp", "idna", "detik", "kompas", "tribunnews", "liputan6"} <= platforms


@pytest.mark.parametrize(("key", "spelling"), SPELLINGS)
def test_every_spelling_of_a_post_gives_its_key(key: str, spelling: str) -> None:
    assert canonical_url(spelling) == key
    # As the site stores it: the reporter's link checked, then keyed.
    assert canonical_url(clean_url(spelling)) == key


def test_a_key_is_its_own_key() -> None:
    for post in POSTS:
        assert canonical_url(post["key"]) == post["key"]
        assert post["key"].startswith("https://")


@pytest.mark.parametrize(("first", "second", "why"), CORPUS["different"])
def test_different_pages_keep_different_keys(first: str, second: str, why: str) -> None:
    assert canonical_url(first) != canonical_url(second), why


def test_one_key_per_post() -> None:
    keys = {canonical_url(spelling) for _key, spelling in SPELLINGS}
    assert len(keys) == len(POSTS)


@pytest.mark.parametrize("url", CORPUS["short"])
def test_short_links_are_recognised(url: str) -> None:
    assert is_short_link(url)


@pytest.mark.parametrize("url", CORPUS["not_short"])
def test_other_links_are_not_short(url: str) -> None:
    assert not is_short_link(url)
