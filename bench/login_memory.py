"""Failed sign-ins by the hundred at once: the web processes' memory, and the campaign page's
latency while they last.

    python -m bench.login_memory                 # seeds a small database and serves it
    python -m bench.login_memory --attackers 200 --seconds 30 --results bench/RESULTS.md

``bench/run.py`` runs it as part of every benchmark; alone, ``--results`` writes its section
into an existing RESULTS.md, in place of the one there.

Every attempt, an unknown email's included, costs one argon2id hash of 64 MiB (the default
costs). The attackers post wrong passwords for the seeded accounts and for made-up emails
as fast as the server answers, each from its own connection, while one visitor opens the
campaign page again and again. Rate limits are off, as in the other benchmarks (the load
comes from one address): what is measured is the bound on hashes at once per process
(PLEDGE_PASSWORD_HASHES_AT_ONCE), not the limits per address or account.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx2 as httpx

# The server processes' memory is read this often while the attack lasts.
SAMPLE_EVERY = 0.05
# The visitor's pause between two openings of the campaign page.
VISIT_EVERY = 0.1


@dataclass
class LoginMemory:
    attackers: int
    seconds: float
    rss_before_mib: dict[int, float]  # per worker process
    rss_peak_mib: dict[int, float]  # the highest resident memory sampled during the attack
    hwm_mib: dict[int, float]  # VmHWM at the end: the kernel's own peak, since the start
    answers: Counter[int] = field(default_factory=Counter)
    errors: int = 0  # connections refused, reset or timed out
    page_before_ms: list[float] = field(default_factory=list)
    page_during_ms: list[float] = field(default_factory=list)  # a new visitor each time
    returning_during_ms: list[float] = field(default_factory=list)  # one visitor, cookie kept
    page_failures: int = 0  # campaign pages not answered 200 during the attack

    @property
    def peak_mib(self) -> float:
        return max([*self.rss_peak_mib.values(), *self.hwm_mib.values()])

    @staticmethod
    def percentile(values: list[float], share: float) -> float:
        if not values:
            return float("nan")
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))]

    def __str__(self) -> str:
        during = self.page_during_ms
        return (
            f"peak {self.peak_mib:.0f} MiB resident per process; answers {dict(self.answers)}, "
            f"{self.errors} errors; campaign page p50 "
            f"{statistics.median(during) if during else float('nan'):.0f} ms, "
            f"p95 {self.percentile(during, 0.95):.0f} ms during the attack, "
            f"{self.page_failures} not 200"
        )


def _mib(pid: int, name: str) -> float | None:
    """A memory figure of /proc/PID/status in MiB; None once the process is gone."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except FileNotFoundError:
        return None
    for line in lines:
        if line.startswith(name + ":"):
            return float(line.split()[1]) / 1024
    return None


def workers_of(parent: int) -> list[int]:
    """The worker processes of a server, read again each time: uvicorn replaces a worker that
    stops answering its supervisor."""
    children = Path(f"/proc/{parent}/task/{parent}/children")
    try:
        pids = [int(p) for p in children.read_text().split()]
    except FileNotFoundError:
        pids = []
    return pids or [parent]


def _memory(parent: int, name: str) -> dict[int, float]:
    found = {pid: _mib(pid, name) for pid in workers_of(parent)}
    return {pid: mib for pid, mib in found.items() if mib is not None}


class _Sampler(threading.Thread):
    """The highest resident memory of each worker, read from /proc while the attack lasts."""

    def __init__(self, parent: int) -> None:
        super().__init__(daemon=True)
        self.parent = parent
        self.peaks = _memory(parent, "VmRSS")
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(SAMPLE_EVERY):
            for pid, mib in _memory(self.parent, "VmRSS").items():
                self.peaks[pid] = max(self.peaks.get(pid, 0.0), mib)


def _form(response: httpx.Response) -> tuple[str, str]:
    """The sign-in form's session cookie and CSRF token. Production cookies are Secure, which
    an http:// client keeps to itself: the cookie is read from the header and sent by hand."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', response.text)
    assert match, "no form on /login"
    cookies = [header.split(";", 1)[0] for header in response.headers.get_list("set-cookie")]
    return "; ".join(cookies), match[1]


async def _attacker(
    client: httpx.AsyncClient,
    form: tuple[str, str],
    emails: list[str],
    first: int,
    until: float,
    result: LoginMemory,
) -> None:
    """Wrong passwords, one after another, until the time is up."""
    cookie, token = form
    n = first
    while time.monotonic() < until:
        data = {"email": emails[n % len(emails)], "password": f"salah-{n}", "csrf_token": token}
        n += 1
        try:
            response = await client.post("/login", data=data, headers={"Cookie": cookie})
        except httpx.HTTPError:
            result.errors += 1
            continue
        result.answers[response.status_code] += 1


async def _visitor(
    url: str, page: str, until: float, timings: list[float], *, returning: bool = False
) -> int:
    """The campaign page opened again and again until the time is up; how many failed. A new
    visitor each time (no cookie: the page is drawn with a session of its own, in the thread
    pool), or a returning one, whose session cookie is sent back (by hand: it is Secure)."""
    failures = 0
    cookie = ""
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        while time.monotonic() < until or not timings:  # one visit at least, however late
            started = time.monotonic()
            try:
                response = await client.get(page, headers={"Cookie": cookie} if cookie else {})
                ok = response.status_code == 200
                if returning and not cookie:
                    cookie = "; ".join(
                        h.split(";", 1)[0] for h in response.headers.get_list("set-cookie")
                    )
            except httpx.HTTPError:
                ok = False
            timings.append((time.monotonic() - started) * 1000)
            failures += not ok
            client.cookies.clear()
            await asyncio.sleep(VISIT_EVERY)
    return failures


async def _attack(url: str, page: str, emails: list[str], result: LoginMemory) -> None:
    # One connection per attacker, from one pool: 200 clients would each build a TLS context.
    limits = httpx.Limits(max_connections=result.attackers, max_keepalive_connections=None)
    async with httpx.AsyncClient(
        base_url=url, timeout=60, follow_redirects=False, limits=limits
    ) as client:
        form = _form(await client.get("/login"))
        until = time.monotonic() + result.seconds
        attackers = [
            _attacker(client, form, emails, n, until, result) for n in range(result.attackers)
        ]
        visiting = [
            _visitor(url, page, until, result.page_during_ms),
            _visitor(url, page, until, result.returning_during_ms, returning=True),
        ]
        *_, new, returning = await asyncio.gather(*attackers, *visiting)
        result.page_failures = new + returning


def measure_login_memory(
    url: str,
    parent: int,
    *,
    page: str,
    accounts: list[str],
    attackers: int = 200,
    seconds: float = 20.0,
) -> LoginMemory:
    """``attackers`` connections posting wrong passwords for ``seconds`` to the server at
    ``url`` (whose supervisor process is ``parent``), against ``accounts`` and as many made-up emails,
    while one visitor opens ``page``."""
    result = LoginMemory(
        attackers=attackers,
        seconds=seconds,
        rss_before_mib=_memory(parent, "VmRSS"),
        rss_peak_mib={},
        hwm_mib={},
    )
    before_until = time.monotonic() + 5
    asyncio.run(_visitor(url, page, before_until, result.page_before_ms))
    emails = [*accounts, *(f"tidak-ada-{n}@contoh.id" for n in range(len(accounts) or 1))]
    sampler = _Sampler(parent)
    sampler.start()
    try:
        asyncio.run(_attack(url, page, emails, result))
    finally:
        sampler.done.set()
        sampler.join()
    result.rss_peak_mib = sampler.peaks
    result.hwm_mib = _memory(parent, "VmHWM")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--attackers", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--results", type=Path, help="a RESULTS.md to write the section into")
    args = parser.parse_args()
    result = run_alone(args.attackers, args.seconds, args.workers)
    print(result)
    if args.results is not None:
        from bench.run import login_report

        write_section(args.results, login_report(result, args.workers))
        print(f"Wrote {args.results}")


def write_section(results: Path, lines: list[str]) -> None:
    """Put the section in RESULTS.md in place of its earlier one, or before the changes."""
    text = results.read_text()
    section = "\n".join(lines).strip("\n") + "\n\n"
    heading = lines[1] if lines[0] == "" else lines[0]
    start = text.find(heading)
    if start >= 0:
        end = text.find("\n## ", start + len(heading))
        text = text[:start] + section + (text[end + 1 :] if end >= 0 else "")
    else:
        changes = text.find("## What was measured and changed to get here")
        at = changes if changes >= 0 else len(text)
        text = text[:at] + section + text[at:]
    results.write_text(text)


def run_alone(attackers: int, seconds: float, workers: int) -> LoginMemory:
    """A small database seeded and served as in production, then attacked."""
    import os
    import secrets
    import tempfile

    from bench import run, seed

    with tempfile.TemporaryDirectory(prefix="pledge-bench-login-") as folder:
        work = Path(folder)
        env = {
            **os.environ,
            "PLEDGE_ENV": "production",
            "PLEDGE_SECRET_KEY": secrets.token_urlsafe(48),
            "PLEDGE_DATABASE_URL": f"sqlite:///{work / 'bench.db'}",
            "PLEDGE_RATELIMIT_ENABLED": "false",
            "PLEDGE_LOG_LEVEL": "warning",
            "PYTHONUNBUFFERED": "1",
        }
        run.run_seed(env, 100, 0)
        with run.serving(env, workers, work / "server-login.log") as server:
            return measure_login_memory(
                server.url,
                server.process.pid,
                page=f"/c/{seed.SLUG}",
                accounts=[seed.ADMIN, seed.MODERATOR],
                attackers=attackers,
                seconds=seconds,
            )


if __name__ == "__main__":
    main()
