"""Reliability at full size: exact under load across two processes, and safe when killed.

The same checks as tests/test_reliability.py, at the sizes of a real surge:

- Exactness: tens of thousands of signing requests from hundreds of concurrent connections to
  ``pledge serve --workers 2``, a third of them repeating a person with their phone number
  written another way. No answer other than 303, no "database is locked" and no traceback in
  the server's log, and the supporters, the tallies and a recount agree exactly.
- Crash safety: the server killed with SIGKILL (every process of it) five times in the middle
  of a signing load, and started again. Every signature answered 303 is stored, and the
  tallies equal a recount.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import secrets
import signal
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2 as httpx
import sqlalchemy as sa
from sqlmodel import Session, col

from pledge import contacts
from pledge.campaigns import service as campaigns
from pledge.db import create_db_engine
from pledge.supporters import service as supporters
from pledge.supporters.models import Supporter


@dataclass
class Exactness:
    requests: int
    people: int
    connections: int
    seconds: float
    statuses: dict[int, int]  # answers by status; "0" for a request that got no answer
    locked: int  # "database is locked" in the server's log
    tracebacks: int
    added: int  # supporters the database gained
    tallies_agree: bool

    @property
    def ok(self) -> bool:
        return (
            set(self.statuses) == {303}
            and self.locked == 0
            and self.tracebacks == 0
            and self.added == self.people
            and self.tallies_agree
        )


@dataclass
class CrashSafety:
    kills: int
    answered: int  # signatures answered 303
    missing: int  # of those, not stored
    stored: int  # supporters the database gained, answered or not
    tallies_agree: bool

    @property
    def ok(self) -> bool:
        return self.missing == 0 and self.stored >= self.answered and self.tallies_agree


def phone(n: int, style: int, prefix: int = 10) -> str:
    """The same Indonesian mobile number, written three ways (n below ten million; prefix
    from 10 to 99 keeps the numbers of one run apart from another's)."""
    digits = f"81{prefix}{n:07d}"
    return (f"0{digits}", f"+62 {digits[:3]}-{digits[3:7]}-{digits[7:]}", f"62{digits}")[style]


def form(token: str, contact: str) -> dict[str, object]:
    return {
        "csrf_token": token,
        "name": "Pendukung Beban",
        "contact": contact,
        "province": "ID-JB",
        "age_ok": "on",
        "consent": "on",
        "pledges": ["tolak-politik-uang", "lawan-hoaks"],
        "website": "",
    }


def _census(database_url: str, slug: str) -> tuple[int, set[str], bool]:
    """The campaign's supporters, their digests, and whether the tallies equal a recount."""
    engine = create_db_engine_for(database_url)
    try:
        with Session(engine) as session:
            view = campaigns.get_view(session, slug=slug)
            truth = supporters.true_counts(session, campaign_id=view.id)
            tallies = supporters.read_counts(session, campaign_id=view.id).by_key
            digests = set(
                session.execute(
                    sa.select(col(Supporter.contact_digest)).where(
                        col(Supporter.campaign_id) == view.id
                    )
                ).scalars()
            )
    finally:
        engine.dispose()
    return truth["total"], digests, tallies == truth


def create_db_engine_for(database_url: str) -> sa.Engine:
    from pledge.config import Settings

    return create_db_engine(Settings(database_url=database_url))


async def _browser(client: httpx.AsyncClient, slug: str) -> tuple[dict[str, str], str]:
    """A visitor's session cookie (as a header) and CSRF token, from the campaign page.
    Production cookies are Secure, which an http:// client keeps to itself: read them here."""
    page = await client.get(f"/c/{slug}")
    page.raise_for_status()
    cookies = "; ".join(header.split(";", 1)[0] for header in page.headers.get_list("set-cookie"))
    token = page.text.split('name="csrf_token" value="')[1].split('"', 1)[0]
    return {"Cookie": cookies}, token


def measure_exactness(
    url: str, logfile: Path, database_url: str, slug: str, *, people: int, connections: int
) -> Exactness:
    before, _digests, _agree = _census(database_url, slug)
    prefix = random.randrange(10, 99)
    # A third of the people sign twice, the second time writing their number another way.
    attempts = [(n, 0) for n in range(people)] + [(n, 1 + n % 2) for n in range(0, people, 3)]
    random.Random(7).shuffle(attempts)
    log_start = logfile.stat().st_size

    async def load() -> list[int]:
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as client:
            headers, token = await _browser(client, slug)
            queue = iter(attempts)
            statuses: list[int] = []

            async def signer() -> None:
                for n, style in queue:
                    try:
                        answer = await client.post(
                            f"/c/{slug}/sign",
                            data=form(token, phone(n, style, prefix)),
                            headers=headers,
                        )
                        statuses.append(answer.status_code)
                    except httpx.HTTPError:
                        statuses.append(0)

            await asyncio.gather(*(signer() for _ in range(connections)))
            return statuses

    started = time.monotonic()
    statuses = asyncio.run(load())
    seconds = time.monotonic() - started
    with logfile.open("rb") as log:
        log.seek(log_start)
        written = log.read().decode(errors="replace")
    after, _digests, agree = _census(database_url, slug)
    counted: dict[int, int] = {}
    for status in statuses:
        counted[status] = counted.get(status, 0) + 1
    return Exactness(
        requests=len(attempts),
        people=people,
        connections=connections,
        seconds=seconds,
        statuses=counted,
        locked=written.count("database is locked"),
        tracebacks=written.count("Traceback"),
        added=after - before,
        tallies_agree=agree,
    )


def measure_crash_safety(
    start_server: Callable[[], AbstractContextManager[Any]],
    database_url: str,
    slug: str,
    *,
    secret_key: str,
    kills: int = 5,
    connections: int = 64,
) -> CrashSafety:
    """``start_server()`` serves the app (a bench ``Server``) until its context ends."""
    before, _digests, _agree = _census(database_url, slug)
    answered: list[str] = []
    run = secrets.token_hex(3)
    sent = 0
    lock = threading.Lock()

    def load(url: str, stop: threading.Event) -> None:
        async def signer(client: httpx.AsyncClient, headers: dict[str, str], token: str) -> None:
            nonlocal sent
            while not stop.is_set():
                with lock:
                    sent += 1
                    contact = f"tahan-{run}-{sent}@contoh.id"
                try:
                    answer = await client.post(
                        f"/c/{slug}/sign", data=form(token, contact), headers=headers
                    )
                except httpx.HTTPError:
                    continue  # killed mid-request: no answer, so no promise was made
                if answer.status_code == 303:
                    with lock:
                        answered.append(contact)

        async def main() -> None:
            limits = httpx.Limits(max_connections=connections)
            async with httpx.AsyncClient(base_url=url, limits=limits, timeout=10) as client:
                try:
                    headers, token = await _browser(client, slug)
                except httpx.HTTPError:
                    return  # the server was killed before this browser got its form
                await asyncio.gather(*(signer(client, headers, token) for _ in range(connections)))

        asyncio.run(main())

    for _kill in range(kills):
        with start_server() as server:
            stop = threading.Event()
            thread = threading.Thread(target=load, args=(server.url, stop))
            thread.start()
            # In the middle of the load: once this round has answers, at a random moment.
            mark, deadline = len(answered), time.monotonic() + 30
            while len(answered) - mark < 200 and time.monotonic() < deadline:
                time.sleep(0.01)
            time.sleep(random.random() / 2)
            # The supervisor first, or it would start new workers in place of the dead ones.
            for pid in [server.process.pid, *server.worker_pids()]:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            server.process.wait(timeout=10)
            stop.set()
            thread.join(timeout=60)

    after, digests, agree = _census(database_url, slug)
    missing = [
        contact
        for contact in answered
        if contacts.supporter_digest(secret_key, contacts.normalise_contact(contact)) not in digests
    ]
    return CrashSafety(
        kills=kills,
        answered=len(answered),
        missing=len(missing),
        stored=after - before,
        tallies_agree=agree,
    )
