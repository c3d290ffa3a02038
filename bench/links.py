"""How well links to one post come together, and how fast, on the corpus of shared links.

    python -m bench.links

Reads tests/data/links.json (spellings of posts as the apps share them, and pairs of pages
that must stay apart) and reports: spellings, posts, distinct keys (ideal: as many as
posts), spellings given another key than their post's, wrong merges among the pairs, and
canonical_url's speed over the corpus repeated a thousand times. No server, no network.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from pledge.hoaxes.service.urls import canonical_url

CORPUS = Path(__file__).resolve().parents[1] / "tests" / "data" / "links.json"
ROUNDS = 1000


def measure(path: Path = CORPUS, rounds: int = ROUNDS) -> dict[str, Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    spellings = [(post["key"], url) for post in data["posts"] for url in post["spellings"]]
    keys = {canonical_url(url) for _key, url in spellings}
    missed = sum(1 for key, url in spellings if canonical_url(url) != key)
    merges = sum(
        1
        for first, second, _why in data["different"]
        if canonical_url(first) == canonical_url(second)
    )
    urls = [url for _key, url in spellings]
    started = time.perf_counter()
    for _round in range(rounds):
        for url in urls:
            canonical_url(url)
    seconds = time.perf_counter() - started
    return {
        "spellings": len(spellings),
        "posts": len(data["posts"]),
        "distinct_keys": len(keys),
        "missed_spellings": missed,
        "different_pairs": len(data["different"]),
        "wrong_merges": merges,
        "canonicalisations": len(urls) * rounds,
        "per_second": len(urls) * rounds / seconds,
        "microseconds_each": seconds / (len(urls) * rounds) * 1e6,
    }


def main() -> dict[str, Any]:
    result = measure()
    print(f"Links: {result['spellings']} spellings of {result['posts']} posts")
    print(f"  distinct keys: {result['distinct_keys']} (ideal {result['posts']})")
    print(f"  spellings given another key: {result['missed_spellings']}")
    print(
        f"  wrong merges: {result['wrong_merges']} of {result['different_pairs']} different pairs"
    )
    print(
        f"  canonical_url: {result['per_second']:,.0f}/s "
        f"({result['microseconds_each']:.1f} µs each, {result['canonicalisations']:,} calls)"
    )
    return result


if __name__ == "__main__":
    main()
