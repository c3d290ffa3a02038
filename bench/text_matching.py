"""How well the text matcher tells the same hoax claim from a different one, and how fast.

    python -m bench.text_matching            # the default matcher and thresholds
    python -m bench.text_matching --sweep    # precision and recall at every threshold

Over the labelled pairs of tests/data/claims_id.json, split in two halves by claim family
(the `group` of a pair, odd or even): the thresholds were chosen on the "tune" half (odd
groups) and are reported on both halves and on the whole set. A pair is predicted "same" at
a threshold when its score is at least the threshold. Also printed: the pairs the guard
(different number, name or negation) held below JOIN, the time per prepare and per
comparison, and the band recall of the lookup index (the share of "same" pairs scoring at
least SUGGEST that share a band), with how many unrelated claims share a band.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pledge.hoaxes import textmatch
from pledge.hoaxes.textmatch import JOIN, SUGGEST, Prepared, TextMatcher

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "data" / "claims_id.json"


@dataclass(frozen=True)
class Pair:
    a: str
    b: str
    same: bool
    kind: str
    group: int

    @property
    def half(self) -> str:
        return "tune" if self.group % 2 else "check"


@dataclass(frozen=True)
class Scored:
    pair: Pair
    score: float
    raw: float  # before the guard
    shared_band: bool


def load(path: Path = FIXTURES) -> list[Pair]:
    return [Pair(**row) for row in json.loads(path.read_text(encoding="utf-8"))]


def score_all(matcher: TextMatcher, pairs: Sequence[Pair]) -> list[Scored]:
    out = []
    for pair in pairs:
        a, b = matcher.prepare(pair.a), matcher.prepare(pair.b)
        shared = bool(set(matcher.bands(a)) & set(matcher.bands(b)))
        raw = textmatch.cosine(a.vector, b.vector)
        out.append(Scored(pair, matcher.score(a, b), raw, shared))
    return out


def precision_recall(scored: Sequence[Scored], threshold: float) -> tuple[float, float, int]:
    """Precision, recall and the number of wrong "same" predictions at a threshold."""
    predicted = [s for s in scored if s.score >= threshold]
    right = sum(s.pair.same for s in predicted)
    positives = sum(s.pair.same for s in scored)
    precision = right / len(predicted) if predicted else 1.0
    return precision, right / positives if positives else 1.0, len(predicted) - right


def band_recall(scored: Sequence[Scored]) -> float:
    found = [s for s in scored if s.pair.same and s.score >= SUGGEST]
    return sum(s.shared_band for s in found) / len(found) if found else 1.0


def report(scored: Sequence[Scored], label: str) -> None:
    print(f"\n{label}: {len(scored)} pairs, {sum(s.pair.same for s in scored)} same")
    for name, threshold in (("SUGGEST", SUGGEST), ("JOIN", JOIN)):
        precision, recall, wrong = precision_recall(scored, threshold)
        print(
            f"  {name:8} {threshold:.2f}  precision {precision:.3f}  recall {recall:.3f}"
            f"  ({wrong} different pairs at or above)"
        )
    print(f"  band recall (same pairs >= SUGGEST sharing a band): {band_recall(scored):.3f}")


def guard_effect(scored: Sequence[Scored]) -> None:
    held = [s for s in scored if s.raw >= JOIN > s.score]
    different = [s for s in held if not s.pair.same]
    print(
        f"\nguard: {len(held)} pairs held below JOIN, {len(different)} of them different claims"
        f" ({', '.join(sorted({s.pair.kind for s in different}))})"
    )
    free = [s.score for s in scored if not s.pair.same and s.score == s.raw]
    print(f"  highest different pair the guard let through: {max(free):.3f}")
    unguarded = [Scored(s.pair, s.raw, s.raw, s.shared_band) for s in scored]
    precision, recall, _ = precision_recall(unguarded, JOIN)
    print(f"  without the guard at JOIN: precision {precision:.3f}  recall {recall:.3f}")


def worst(scored: Sequence[Scored], count: int = 8) -> None:
    """The misses a moderator would notice: same claims below SUGGEST, different ones high."""
    missed = sorted((s for s in scored if s.pair.same), key=lambda s: s.score)[:count]
    confused = sorted((s for s in scored if not s.pair.same), key=lambda s: -s.score)[:count]
    print("\nlowest same pairs:")
    for s in missed:
        print(f"  {s.score:.2f} [{s.pair.kind}] {s.pair.a[:60]!r} ~ {s.pair.b[:60]!r}")
    print("highest different pairs:")
    for s in confused:
        print(f"  {s.score:.2f} [{s.pair.kind}] {s.pair.a[:60]!r} ~ {s.pair.b[:60]!r}")


def timing(matcher: TextMatcher, pairs: Sequence[Pair]) -> None:
    texts = [text for pair in pairs for text in (pair.a, pair.b)]
    start = time.perf_counter()
    prepared: list[Prepared] = [matcher.prepare(text) for text in texts]
    per_prepare = (time.perf_counter() - start) / len(texts)
    start = time.perf_counter()
    for text in prepared[:200]:
        matcher.bands(text)
    per_bands = (time.perf_counter() - start) / min(200, len(prepared))
    start = time.perf_counter()
    comparisons = 0
    for a in prepared[:200]:
        for b in prepared[:200]:
            matcher.score(a, b)
            comparisons += 1
    per_score = (time.perf_counter() - start) / comparisons
    print(
        f"\ntime: prepare {per_prepare * 1e6:.0f} µs, bands {per_bands * 1e6:.0f} µs,"
        f" comparison {per_score * 1e6:.1f} µs ({comparisons} comparisons, one core)"
    )


def families(pairs: Sequence[Pair]) -> dict[int, list[str]]:
    """Every text of each claim family (a base claim, its copies and its look-alikes)."""
    texts: dict[int, list[str]] = {}
    for pair in pairs:
        family = texts.setdefault(pair.group, [])
        family.extend(text for text in (pair.a, pair.b) if text not in family)
    return texts


def across_families(matcher: TextMatcher, pairs: Sequence[Pair], half: str) -> None:
    """Every text against every text of the other families of a half: the unrelated claims a
    campaign holds. How many would be suggested or joined, and how many the index would hand
    over as candidates (share a band)."""
    texts = {g: t for g, t in families(pairs).items() if ("tune" if g % 2 else "check") == half}
    prepared = {g: [matcher.prepare(text) for text in t] for g, t in texts.items()}
    bands = {g: [set(matcher.bands(p)) for p in ps] for g, ps in prepared.items()}
    groups = sorted(prepared)
    total = suggested = joined = candidates = 0
    highest = 0.0
    for i, one in enumerate(groups):
        for other in groups[i + 1 :]:
            for a, a_bands in zip(prepared[one], bands[one], strict=True):
                for b, b_bands in zip(prepared[other], bands[other], strict=True):
                    score = matcher.score(a, b)
                    total += 1
                    suggested += score >= SUGGEST
                    joined += score >= JOIN
                    highest = max(highest, score)
                    candidates += bool(a_bands & b_bands)
    print(
        f"  {half} half, {total} pairs of different families: {suggested / total:.2%} suggested,"
        f" {joined} joined (highest score {highest:.3f}), {candidates / total:.1%} index candidates"
    )


def sweep(scored: Sequence[Scored]) -> None:
    print("\nthreshold  precision  recall  (tune half)")
    tune = [s for s in scored if s.pair.half == "tune"]
    for step in range(10, 96, 5):
        precision, recall, _ = precision_recall(tune, step / 100)
        print(f"  {step / 100:.2f}     {precision:.3f}     {recall:.3f}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sweep", action="store_true", help="every threshold, tune half")
    parser.add_argument("--worst", action="store_true", help="the hardest pairs")
    args = parser.parse_args(argv)
    matcher = textmatch.default_matcher()
    pairs = load()
    scored = score_all(matcher, pairs)
    print(f"matcher {matcher.name}, SUGGEST {SUGGEST}, JOIN {JOIN}")
    report([s for s in scored if s.pair.half == "tune"], "tune half (odd groups)")
    report([s for s in scored if s.pair.half == "check"], "check half (even groups)")
    report(scored, "whole set")
    guard_effect(scored)
    timing(matcher, pairs)
    print("\nunrelated claims (each family's texts against the other families'):")
    across_families(matcher, pairs, "tune")
    across_families(matcher, pairs, "check")
    if args.sweep:
        sweep(scored)
    if args.worst:
        worst(scored)


if __name__ == "__main__":
    main()
