"""Lighthouse on the public pages of the demo, served as in production:

    python -m bench.lighthouse            # writes the "Lighthouse" section of bench/RESULTS.md
    python -m bench.lighthouse --out FILE

A throwaway SQLite database gets the demo (`pledge db upgrade`, `pledge demo`), `pledge serve`
serves it with PLEDGE_ENV=production on a loopback port (bench/run.py's `serving`), and
Lighthouse (tests/support/lighthouse.py: its default phone, simulated throttling, in
/usr/bin/chromium) scores the campaign page, a supporter's thank-you page, the report form, a
published verdict with its stamped picture and the gallery. The section is replaced if the
file has one, else put before the notes bench/run.py appends. Needs node and `npm ci`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.run import serving
from tests.support.lighthouse import CHROMIUM, LIGHTHOUSE, Found, lighthouse_missing, run_all

ROOT = Path(__file__).resolve().parents[1]
SLUG = "suarakan-cintamu"  # the demo's campaign
HEADING = "## Lighthouse: the public pages on a phone"
BEFORE = "## What was measured and changed to get here"  # bench/CHANGES.md, appended last
KEPT_OUT = "is-crawlable"  # the thank-you page is a private link, noindex on purpose


@dataclass
class Page:
    name: str
    path: str


def production_env(database_url: str) -> dict[str, str]:
    """What bench/run.py gives its servers (PLEDGE_PUBLIC_URL is set per port by serving)."""
    return {
        **os.environ,
        "PLEDGE_ENV": "production",
        "PLEDGE_SECRET_KEY": secrets.token_urlsafe(48),
        "PLEDGE_PUBLIC_URL": "http://127.0.0.1:8000",
        "PLEDGE_DATABASE_URL": database_url,
        "PLEDGE_RATELIMIT_ENABLED": "false",
        "PLEDGE_LOG_LEVEL": "warning",
        "PYTHONUNBUFFERED": "1",
    }


def seed_demo(env: dict[str, str]) -> None:
    """The demo, as `make demo` makes it. Production refuses the demo's staff accounts (their
    password is published), and the demo's verdicts are moderated by them: the demo is
    seeded as in development, then served in production."""
    pledge = [sys.executable, "-m", "pledge.cli"]
    subprocess.run([*pledge, "db", "upgrade"], cwd=ROOT, env=env, check=True)
    seeding = {**env, "PLEDGE_ENV": "development"}
    subprocess.run([*pledge, "demo"], cwd=ROOT, env=seeding, check=True, capture_output=True)


def demo_pages(database: Path) -> list[Page]:
    """The five pages, with a counted supporter's own link and a verdict with a picture."""
    with sqlite3.connect(database) as db:
        token = db.execute(
            "SELECT token FROM supporter WHERE state = 'counted' ORDER BY id LIMIT 1"
        ).fetchone()[0]
        case = db.execute(
            "SELECT id FROM hoax_case WHERE status = 'published' AND media_id IS NOT NULL "
            "ORDER BY id LIMIT 1"
        ).fetchone()[0]
    return [
        Page("campaign page", f"/c/{SLUG}"),
        Page("thank-you page", f"/c/{SLUG}/thanks/{token}?outcome=new"),
        Page("report form", f"/c/{SLUG}/report"),
        Page("verdict page, with its picture", f"/hoaxes/{case}"),
        Page("gallery of verdicts", "/hoaxes"),
    ]


def measure(work: Path) -> tuple[list[Page], list[Found], float]:
    database = work / "lighthouse.db"
    env = production_env(f"sqlite:///{database}")
    print("Seeding the demo...", flush=True)
    seed_demo(env)
    pages = demo_pages(database)
    with serving(env, 2, work / "server.log") as server:
        print(f"Lighthouse on {len(pages)} pages of {server.url}...", flush=True)
        clock = time.monotonic()
        found = run_all([server.url + page.path for page in pages])
        took = time.monotonic() - clock
    return pages, found, took


# --- RESULTS.md -----------------------------------------------------------------------------


def versions() -> tuple[str, str, str]:
    lighthouse = json.loads(LIGHTHOUSE.read_text())["version"]
    chromium = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True).stdout
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    return lighthouse, chromium.strip(), commit


def section(pages: list[Page], found: list[Found], took: float, started: datetime) -> str:
    lighthouse, chromium, commit = versions()
    node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    cpu = sorted(f.benchmark_index for f in found)
    lines = [
        HEADING,
        "",
        f"Run on {started:%Y-%m-%d %H:%M} UTC, commit `{commit}`: Lighthouse {lighthouse} "
        f"(Node {node}) in {chromium}, headless, with its default mobile settings (a Moto G "
        "Power-sized screen, slow 4G and a 4x slower CPU, simulated from one unthrottled "
        "load), on the demo (`pledge demo`) served by `pledge serve --workers 2` with "
        "`PLEDGE_ENV=production`. Each page once, one after the other in one Chromium, "
        f"{took:.0f} s in all; Lighthouse rated this machine's CPU {cpu[0]:.0f} to "
        f"{cpu[-1]:.0f} during the run (the machine is shared). Rerun with "
        "`python -m bench.lighthouse` (part of `make bench`). The floors, which "
        "`tests/browser/test_lighthouse.py` holds the same pages to: performance >= 95, "
        "accessibility 100, best practices 100, SEO >= 95, cumulative layout shift 0.",
        "",
        "| page | performance | accessibility | best practices | SEO | CLS | LCP |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    notes = []
    for page, each in zip(pages, found, strict=True):
        s = each.scores
        seo = str(s["seo"])
        if each.audit_score(KEPT_OUT) == 0:
            seo = f"{s['seo']} ({each.score_without('seo', KEPT_OUT)}\\*)"
            notes.append(page.name)
        lines.append(
            f"| {page.name} `{re.sub(r'thanks/[^?]+', 'thanks/…', page.path)}` "
            f"| {s['performance']} | {s['accessibility']} | {s['best-practices']} | {seo} "
            f"| {each.cls:.3f} | {each.lcp_ms / 1000:.1f} s |"
        )
    if notes:
        lines += [
            "",
            f'\\* Without "Page is blocked from indexing": the {", ".join(notes)} is a '
            "supporter's private link and tells search engines to keep out (`noindex`), on "
            "purpose.",
        ]
    missed = [
        f"- {page.name}, {category}: " + "; ".join(titles)
        for page, each in zip(pages, found, strict=True)
        for category, titles in each.failing.items()
        if titles and not (category == "seo" and each.audit_score(KEPT_OUT) == 0)
    ]
    if missed:
        lines += ["", "Audits that cost points:", "", *missed]
    return "\n".join(lines) + "\n"


def write_section(out: Path, text: str) -> None:
    """Replace the section in ``out``, or put it before the appended notes (or at the end)."""
    old = out.read_text() if out.exists() else ""
    if HEADING in old:
        start = old.index(HEADING)
        end = old.find("\n## ", start + len(HEADING))
        new = old[:start] + text + ("\n" + old[end + 1 :] if end != -1 else "")
    elif BEFORE in old:
        start = old.index(BEFORE)
        new = old[:start] + text + "\n" + old[start:]
    else:
        new = (old.rstrip() + "\n\n" if old else "") + text
    out.write_text(new)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "RESULTS.md")
    args = parser.parse_args()
    problem = lighthouse_missing()
    if problem is not None:
        sys.exit(f"bench.lighthouse: {problem}")
    started = datetime.now(UTC)
    with tempfile.TemporaryDirectory(prefix="pledge-lighthouse-") as work:
        pages, found, took = measure(Path(work))
    for page, each in zip(pages, found, strict=True):
        print(f"  {page.name}: {each.scores}, CLS {each.cls:.3f}, LCP {each.lcp_ms:.0f} ms")
    write_section(args.out, section(pages, found, took, started))
    print(f"Wrote the Lighthouse section of {args.out}")


if __name__ == "__main__":
    main()
