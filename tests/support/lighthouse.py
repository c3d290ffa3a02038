"""Lighthouse (the npm package, run by Node) on a page served on loopback, as a phone sees it:
its default mobile settings (a Moto G-sized screen, slow 4G and a 4x slower CPU, simulated from
one unthrottled load), in the Chromium the browser tests use.

Usage::

    problem = lighthouse_missing()  # None, or why Lighthouse cannot run here
    found = run_lighthouse("http://127.0.0.1:8000/c/suarakan-cintamu")
    found.scores["performance"], found.cls, found.lcp_ms, found.failing["seo"]

The simulated throttling computes the timings from the page's requests and main-thread work
rather than waiting for them, so that a busy machine changes the scores less than a real slow
network would; the work itself is still timed on this machine.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support import CHROMIUM, CHROMIUM_ARGS

ROOT = Path(__file__).resolve().parents[2]
LIGHTHOUSE = ROOT / "node_modules" / "lighthouse" / "package.json"
DRIVER = Path(__file__).with_name("lighthouse.mjs")
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
# The browser tests' Chromium (tests/support/__init__.py), in the new headless mode.
CHROME_FLAGS = ("--headless=new", *CHROMIUM_ARGS)
# One Chromium, page after page. Two side by side on 2 cores took as long for five pages (78 s
# against 71 s) and each stretched the other's main-thread work: their blocking times doubled.
AT_ONCE = 1
TIMEOUT = 120  # seconds for one page; one takes 5 to 25 s on a 2-core machine
# Lighthouse's own errors for a trace or screenshots it failed to record, whose message asks
# for another run (lighthouse/core/lib/lh-error.js): a fault of the recording on a busy
# machine, not of the page. A page whose load failed so is measured again, at most this often.
RECORDING_FAILED = frozenset(
    {"NO_TRACING_STARTED", "NO_RESOURCE_REQUEST", "NO_NAVSTART", "NO_DCL",
     "NO_SPEEDLINE_FRAMES", "SPEEDINDEX_OF_ZERO", "NO_SCREENSHOTS", "INVALID_SPEEDLINE"}
)  # fmt: skip
RECORD_AGAIN = 2


@dataclass
class Found:
    """What Lighthouse found on one page: the four scores (0 to 100), the cumulative layout
    shift, the largest contentful paint (simulated, in ms), and per category the titles of
    the audits that counted and did not pass, with what they measured."""

    url: str
    scores: dict[str, int]
    cls: float
    lcp_ms: float
    failing: dict[str, list[str]]
    warnings: list[str]
    benchmark_index: float  # Lighthouse's measure of this machine's CPU when it ran
    # Per category, each audit that counts: its id, weight and score (None: not applicable).
    parts: dict[str, list[tuple[str, float, float | None]]]

    def score_without(self, category: str, *audits: str) -> int:
        """The category's score (0 to 100) as Lighthouse weighs it, leaving out ``audits``."""
        kept = [(w, s or 0.0) for a, w, s in self.parts[category] if a not in audits and w > 0]
        return round(100 * sum(w * s for w, s in kept) / sum(w for w, _ in kept))

    def audit_score(self, audit: str) -> float | None:
        return next((s for c in self.parts.values() for a, _, s in c if a == audit), None)


def lighthouse_missing() -> str | None:
    """Why Lighthouse cannot run on this machine, or None when it can."""
    if shutil.which("node") is None:
        return "node is not installed (make test installs it)"
    if not LIGHTHOUSE.exists():
        return f"lighthouse is not installed at {LIGHTHOUSE.parent} (npm ci installs it)"
    if not Path(CHROMIUM).exists():
        return f"Chromium is not installed at {CHROMIUM} (make test installs it)"
    return None


def run_lighthouse(url: str) -> Found:
    """Lighthouse's four categories on one page, in a Chromium of its own."""
    return run_all([url], at_once=1)[0]


def run_all(urls: list[str], at_once: int = AT_ONCE) -> list[Found]:
    """Lighthouse on each page, in the order given: ``at_once`` Chromiums side by side, each
    started once and given every ``at_once``-th page. A page whose trace Lighthouse failed to
    record is measured again, up to ``RECORD_AGAIN`` times."""
    reports = _reports(urls, at_once)
    for _ in range(RECORD_AGAIN):
        again = [i for i, report in enumerate(reports) if recording_failed(report)]
        for i, report in zip(again, _reports([urls[i] for i in again], at_once), strict=True):
            reports[i] = report
    return [read_report(report) for report in reports]


def recording_failed(report: dict[str, Any]) -> bool:
    return (report.get("runtimeError") or {}).get("code") in RECORDING_FAILED


def _reports(urls: list[str], at_once: int) -> list[dict[str, Any]]:
    if not urls:
        return []
    at_once = max(1, min(at_once, len(urls)))
    with ThreadPoolExecutor(max_workers=at_once) as pool:
        shares = list(pool.map(_run_in_one_chromium, [urls[i::at_once] for i in range(at_once)]))
    return [shares[i % at_once][i // at_once] for i in range(len(urls))]


def _run_in_one_chromium(urls: list[str]) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="pledge-lighthouse-") as work:
        flags = {"chromeFlags": list(CHROME_FLAGS), "onlyCategories": list(CATEGORIES)}
        command = ["node", str(DRIVER), work, json.dumps(flags), *urls]
        # Chromium keeps its profile in a folder of its own, removed with the rest.
        env = {**os.environ, "CHROME_PATH": CHROMIUM, "TMPDIR": work}
        done = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=TIMEOUT * len(urls)
        )
        reports = [Path(work) / f"{i}.json" for i in range(len(urls))]
        if done.returncode != 0 or not all(each.exists() for each in reports):
            raise RuntimeError(f"lighthouse failed on {urls}:\n{done.stderr[-3000:]}")
        return [json.loads(each.read_text(encoding="utf-8")) for each in reports]


def read_report(report: dict[str, Any]) -> Found:
    if report.get("runtimeError"):
        raise RuntimeError(f"lighthouse could not load {report['requestedUrl']}: "
                           f"{report['runtimeError']}")  # fmt: skip
    audits = report["audits"]
    scores: dict[str, int] = {}
    failing: dict[str, list[str]] = {}
    parts: dict[str, list[tuple[str, float, float | None]]] = {}
    for name in CATEGORIES:
        category = report["categories"][name]
        scores[name] = round((category["score"] or 0) * 100)
        failing[name] = [
            _described(audits[ref["id"]])
            for ref in category["auditRefs"]
            if ref["weight"] > 0 and _failed(audits[ref["id"]])
        ]
        parts[name] = [
            (ref["id"], float(ref["weight"]), audits[ref["id"]]["score"])
            for ref in category["auditRefs"]
        ]
    return Found(
        url=report["finalDisplayedUrl"],
        scores=scores,
        cls=float(audits["cumulative-layout-shift"]["numericValue"]),
        lcp_ms=float(audits["largest-contentful-paint"]["numericValue"]),
        failing=failing,
        warnings=list(report.get("runWarnings", [])),
        benchmark_index=float(report["environment"]["benchmarkIndex"]),
        parts=parts,
    )


def _failed(audit: dict[str, Any]) -> bool:
    return audit["score"] is not None and audit["score"] < 1


def _described(audit: dict[str, Any]) -> str:
    shown = f" ({audit['displayValue']})" if audit.get("displayValue") else ""
    return f"{audit['title']}{shown}, score {audit['score']:.2f}"
