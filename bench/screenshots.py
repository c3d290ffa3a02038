"""How well uploaded screenshots are matched: copies found, distinct pictures and twins kept
apart, and what it costs.

    python -m bench.screenshots [--first 0] [--distinct 110] [--copied 30] [--twins 12]
                                [--jobs 2] [--cache FILE]

Pictures come from bench/screenshot_corpus.py, seeds from --first on: thresholds are chosen
on one range of seeds (0 …) and reported on another (1000 …). Each upload goes through
media.process_upload, as in the decoder process (re-encoding, fingerprint, OCR); pairs are
judged by fingerprint.screenshots_match. Printed as Markdown:

- recall per transformation and overall, through the band index: a copy is found when it
  shares a band (Fingerprint.bands()) with its original AND screenshots_match says "same";
  copies whose pictures and texts match but share no band are counted apart;
- band selectivity: how many of the other distinct pictures share a band with a picture
  (the candidates the database lookup returns), mean and maximum;
- false merges: pairs of distinct pictures judged "same" (and how many "similar");
- twins (one line of text changed) judged "same";
- processor seconds (CPU time, not wall time: getrusage of this process and of tesseract,
  its child) of process_upload for 1080 × 2340 screenshots, median and maximum over 10.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import os
import pickle
import resource
import statistics
import time
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor

from bench import screenshot_corpus as corpus
from pledge.hoaxes import fingerprint, media

Item = tuple[str, int, str]  # (kind, seed, transformation)


def _upload(item: Item) -> tuple[Item, bytes, str]:
    kind, seed, name = item
    if kind == "twin":
        raw = corpus.encode(corpus.twin(seed))
    else:
        image = corpus.screenshot(seed)
        raw = corpus.encode(image) if name == "original" else corpus.COPIES[name](image, seed)
    processed = media.process_upload(raw)
    return item, processed.fingerprint, processed.text


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def cpu_seconds(first: int, count: int = 10) -> list[float]:
    """Processor time of process_upload for `count` 1080 × 2340 PNG screenshots."""
    times = []
    for seed in range(first, first + count):
        plan = dataclasses.replace(corpus.template(seed), size=(1080, 2340))
        raw = corpus.encode(corpus.draw(plan))
        started = _cpu()
        media.process_upload(raw)
        times.append(_cpu() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--first", type=int, default=0, help="the corpus's first seed")
    parser.add_argument("--distinct", type=int, default=110)
    parser.add_argument("--copied", type=int, default=30)
    parser.add_argument("--twins", type=int, default=12)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--cache", help="keep the uploads' results in this file, and reuse them")
    args = parser.parse_args()

    first = args.first
    seeds = range(first, first + args.distinct)
    items: list[Item] = [("original", seed, "original") for seed in seeds]
    items += [
        ("copy", seed, name) for seed in range(first, first + args.copied) for name in corpus.COPIES
    ]
    items += [("twin", seed, "twin") for seed in range(first, first + args.twins)]
    started = time.monotonic()
    reused = bool(args.cache) and os.path.exists(args.cache)
    if reused:
        with open(args.cache, "rb") as kept:
            raw_results = pickle.load(kept)  # noqa: S301 (a file this script wrote)
    else:
        with ProcessPoolExecutor(args.jobs) as pool:
            raw_results = list(pool.map(_upload, items, chunksize=4))
        if args.cache:
            with open(args.cache, "wb") as kept:
                pickle.dump(raw_results, kept)
    results = {
        item: (fingerprint.Fingerprint.from_bytes(fp), text) for item, fp, text in raw_results
    }
    elapsed = time.monotonic() - started
    original = {seed: results[("original", seed, "original")] for seed in seeds}
    bands = {item: set(result[0].bands()) for item, result in results.items()}

    def judge(
        a: tuple[fingerprint.Fingerprint, str], b: tuple[fingerprint.Fingerprint, str]
    ) -> fingerprint.Match:
        return fingerprint.screenshots_match(a[0], a[1], b[0], b[1])

    found: dict[str, list[bool]] = defaultdict(list)
    misses: list[str] = []
    unbanded = 0
    for (kind, seed, name), result in results.items():
        if kind != "copy":
            continue
        match = judge(original[seed], result)
        banded = bool(bands[("original", seed, "original")] & bands[(kind, seed, name)])
        found[name].append(match.verdict == "same" and banded)
        if match.verdict != "same":
            misses.append(f"{seed} {name}: {match.verdict} ({match.why})")
        elif not banded:
            unbanded += 1
            misses.append(f"{seed} {name}: same ({match.why}) but no band shared")
    sharing = [
        sum(
            1
            for other in seeds
            if other != seed
            and bands[("original", seed, "original")] & bands[("original", other, "original")]
        )
        for seed in seeds
    ]

    verdicts: Counter[str] = Counter()
    closest: list[tuple[float, str]] = []
    for a, b in itertools.combinations(seeds, 2):
        match = judge(original[a], original[b])
        verdicts[match.verdict] += 1
        if match.verdict != "different":
            closest.append(
                (
                    fingerprint.compare(original[a][0], original[b][0]),
                    f"{a}-{b}: {match.verdict} ({match.why})",
                )
            )
    twins: Counter[str] = Counter()
    twin_notes = []
    for seed in range(first, first + args.twins):
        match = judge(original[seed], results[("twin", seed, "twin")])
        twins[match.verdict] += 1
        twin_notes.append(f"{seed}: {match.verdict} ({match.why})")
    times = [0.0] if reused else cpu_seconds(first + 1000)

    print(
        f"Corpus: seeds {first} to {first + args.distinct - 1}, "
        f"{args.distinct} distinct screenshots, {args.copied} of them copied "
        f"{len(corpus.COPIES)} ways, {args.twins} twins ({len(items)} uploads in {elapsed:.0f} s "
        f"on {args.jobs} processes).\n"
    )
    print("| transformation | recall (through the bands) |")
    print("|---|---|")
    for name in corpus.COPIES:
        hits = found[name]
        print(f"| {name} | {sum(hits)}/{len(hits)} |")
    everything = [hit for hits in found.values() for hit in hits]
    print(
        f"| **overall** | **{sum(everything)}/{len(everything)} "
        f"({100 * sum(everything) / max(1, len(everything)):.1f} %)** |"
    )
    pairs = sum(verdicts.values())
    print("\n| measure | result |")
    print("|---|---|")
    print(f'| copies judged "same" but sharing no band (missed by the lookup) | {unbanded} |')
    print(
        f"| band selectivity: other distinct pictures sharing a band with one, mean / max "
        f"| {statistics.mean(sharing):.1f} ({100 * statistics.mean(sharing) / max(1, len(seeds) - 1):.1f} %) "
        f"/ {max(sharing)} |"
    )
    print(f"| false merges among {pairs} pairs of distinct pictures | {verdicts['same']} |")
    print(f"| pairs of distinct pictures shown as similar | {verdicts['similar']} |")
    print(
        f'| twins merged ("same") | {twins["same"]}/{args.twins} '
        f"(similar {twins['similar']}, different {twins['different']}) |"
    )
    print(
        f"| CPU s of process_upload, 1080 × 2340 (median / max of {len(times)}) "
        f"| {statistics.median(times):.2f} / {max(times):.2f} |"
    )
    if misses:
        print("\nCopies missed:\n" + "\n".join(f"- {line}" for line in misses))
    if closest:
        print("\nDistinct pairs not judged different (closest first):")
        for _score, line in sorted(closest, reverse=True)[:15]:
            print(f"- {line}")
    print("\nTwins:\n" + "\n".join(f"- {line}" for line in twin_notes))


if __name__ == "__main__":
    main()
