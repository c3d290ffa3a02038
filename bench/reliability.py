"""Reliability at full size: exact under load across two processes, and safe when killed.

The same checks as tests/test_reliability.py, at the sizes of a real surge:

- Exactness: tens of thousands of signing requests from hundreds of concurrent connections to
  ``pledge serve --workers 2``, a third of them repeating a person with their phone number
  written another way, and every signing confirmed amid the load as its signer does it:
  most people by the WhatsApp message their waiting page shows, every sixth (who signs with
  an email address) by typing the emailed code on that page, every fifth twice. No answer
  other than 303, no "database is locked" and no traceback in the server's log, every
  confirmation taken, and the supporters, the tallies and a recount agree exactly.
- Crash safety: the server killed with SIGKILL (every process of it) five times in the middle
  of a load of signings, each confirmed with its emailed code as soon as it is answered, and
  started again. Every signature answered 303 is stored, every confirmation answered 303 is
  counted, and the tallies equal a recount.

Each signer is a browser of its own (the session cookie its signing set, sent by hand:
production cookies are Secure, which an http:// client keeps to itself). Their email is the
outbox and their WhatsApp message is handed to ``supporters.receive_whatsapp`` as the
WhatsApp webhook does, both on the database the servers write to.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import os
import random
import re
import secrets
import signal
import threading
import time
import zlib
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2 as httpx
import sqlalchemy as sa
from sqlmodel import Session, col

from pledge import contacts
from pledge.campaigns import service as campaigns
from pledge.config import get_settings
from pledge.db import create_db_engine
from pledge.mail import open_body, outbox_message_table
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
    added: int  # supporters the database gained, counted (confirmed)
    tallies_agree: bool
    confirmations: int = 0  # confirmations sent, repeated ones included
    unconfirmed: int = 0  # of those, not taken (a refused code, a message that matched none)
    pending: int = 0  # of the run's signatures, those left waiting for their confirmation
    # Why requests got no answer: the error and the request, as "ReadTimeout on POST /c/*/sign".
    failures: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return (
            set(self.statuses) == {303}
            and self.locked == 0
            and self.tracebacks == 0
            and self.added == self.people
            and self.tallies_agree
            and self.unconfirmed == 0
            and self.pending == 0
        )


@dataclass
class CrashSafety:
    kills: int
    answered: int  # signatures answered 303
    missing: int  # of those, not stored
    stored: int  # supporters the database gained, answered or not, confirmed or not
    tallies_agree: bool
    confirmed: int = 0  # confirmations answered 303
    lost: int = 0  # of those, not counted afterwards

    @property
    def ok(self) -> bool:
        return (
            self.missing == 0
            and self.lost == 0
            and self.stored >= self.answered
            and self.tallies_agree
        )


def phone(n: int, style: int, prefix: int = 10) -> str:
    """The same Indonesian mobile number, written three ways (n below ten million; prefix
    from 10 to 99 keeps the numbers of one run apart from another's)."""
    digits = f"81{prefix}{n:07d}"
    return (f"0{digits}", f"+62 {digits[:3]}-{digits[3:7]}-{digits[7:]}", f"62{digits}")[style]


# Every sixth person signs with an email address (and never again); every fifth person sends
# each confirmation twice.
EMAIL_EVERY = 6
TWICE_EVERY = 5


def contact_of(n: int, style: int, prefix: int = 10) -> str:
    """Person ``n``'s contact as typed: most give their mobile number (``phone``), every
    sixth an email address."""
    if n % EMAIL_EVERY == 1:
        return f"beban{prefix}-{n}@contoh.id"
    return phone(n, style, prefix)


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


@dataclass(frozen=True)
class Census:
    """A campaign as stored: its counted supporters, the digests of every supporter (pending
    ones included) and of the confirmed ones, the pending signatures, and whether every
    tally equals a recount."""

    total: int
    digests: set[str]
    confirmed: set[str]
    pending: int
    tallies_agree: bool


def _census(database_url: str, slug: str) -> Census:
    engine = create_db_engine_for(database_url)
    try:
        with Session(engine) as session:
            view = campaigns.get_view(session, slug=slug)
            truth = supporters.true_counts(session, campaign_id=view.id)
            tallies = supporters.read_counts(session, campaign_id=view.id).by_key
            rows = session.execute(
                sa.select(col(Supporter.contact_digest), col(Supporter.confirmed_at)).where(
                    col(Supporter.campaign_id) == view.id
                )
            ).all()
    finally:
        engine.dispose()
    return Census(
        total=truth["total"],
        digests={digest for digest, _at in rows},
        confirmed={digest for digest, at in rows if at is not None},
        pending=truth.get("pending", 0),
        # A recount names no counter it finds nothing for (the pending signatures, once all
        # are confirmed): a counter at zero agrees with it.
        tallies_agree=nonzero(tallies) == nonzero(truth),
    )


def nonzero(counts: dict[str, int]) -> dict[str, int]:
    return {key: n for key, n in counts.items() if n}


def create_db_engine_for(database_url: str) -> sa.Engine:
    from pledge.config import Settings

    return create_db_engine(Settings(database_url=database_url))


def set_cookies(cookies: dict[str, str], response: httpx.Response) -> dict[str, str]:
    """The browser's cookies after this answer. Production cookies are Secure, which an
    http:// client keeps to itself: they are read, and sent, by hand."""
    changed = dict(cookies)
    for header in response.headers.get_list("set-cookie"):
        name, _, value = header.split(";", 1)[0].partition("=")
        changed[name.strip()] = value.strip()
    return changed


def cookie_header(cookies: dict[str, str], contact: str | None = None) -> dict[str, str]:
    """The browser's cookies; with the signer's contact, also the address the proxy in front
    reports for them: each person signs from an address of their own, as people on their
    own phones do, so that the per-address rate limits, on at their defaults, count each."""
    headers = {"Cookie": "; ".join(f"{name}={value}" for name, value in cookies.items())}
    if contact is not None:
        n = zlib.crc32(contact.encode())
        headers["X-Forwarded-For"] = f"10.{128 + (n >> 16) % 128}.{(n >> 8) % 256}.{n % 256}"
    return headers


async def open_browser(client: httpx.AsyncClient, slug: str) -> tuple[dict[str, str], str]:
    """A visitor's cookies and CSRF token, from the campaign page."""
    page = await client.get(f"/c/{slug}")
    page.raise_for_status()
    token = page.text.split('name="csrf_token" value="')[1].split('"', 1)[0]
    return set_cookies({}, page), token


_CODE = re.compile(r"(?<!\d)\d{6}(?!\d)")
_WHATSAPP_TEXT = re.compile(r'<p class="code-text"><strong>(.*?)</strong>', re.DOTALL)


class Inbox:
    """What signers get beyond the site, on the database the servers write to: the emails
    in the outbox, and their WhatsApp messages handed over as the webhook does."""

    def __init__(self, database_url: str, secret_key: str | None = None) -> None:
        # The digests of contacts and codes are made with the servers' secret key.
        if secret_key is not None and get_settings().secret_key != secret_key:
            raise RuntimeError("PLEDGE_SECRET_KEY must hold the servers' key in this process")
        self.engine = create_db_engine_for(database_url)
        self.refused: list[str] = []  # what became of each confirmation not taken

    def close(self) -> None:
        self.engine.dispose()

    def code_for(self, address: str) -> str:
        """The code in the newest email to an address."""
        with self.engine.connect() as conn:
            stored = conn.execute(
                sa.select(outbox_message_table.c.body)
                .where(outbox_message_table.c.to == address)
                .order_by(outbox_message_table.c.id.desc())
                .limit(1)
            ).scalar_one()
        body = open_body(stored) or ""  # stored encrypted with the servers' secret key
        codes = _CODE.findall(re.sub(r"https?://\S+", " ", body))
        assert len(codes) == 1, body
        return str(codes[0])

    def whatsapp(self, number: str, text: str) -> bool:
        """The message sent from the number that signed: whether it confirmed a signing."""
        sender = contacts.normalise_contact(number).lstrip("+")
        with Session(self.engine) as session:
            answer = supporters.receive_whatsapp(session, sender=sender, text=text)
        if answer.confirmed is None:
            self.refused.append(f"{number}: WhatsApp {text!r} matched nothing ({answer})")
        return answer.confirmed is not None


async def confirm(
    client: httpx.AsyncClient,
    slug: str,
    cookies: dict[str, str],
    token: str,
    contact: str,
    inbox: Inbox,
    *,
    times: int = 1,
) -> list[bool]:
    """Confirm the signing this browser made, as its signer does, ``times`` times over: the
    emailed code typed on the waiting page, or the WhatsApp message that page shows sent
    from the number. Whether each confirmation was taken."""
    if "@" in contact:
        code = await asyncio.to_thread(inbox.code_for, contact)
        taken = []
        for _ in range(times):
            answer = await client.post(
                f"/c/{slug}/confirm",
                data={"csrf_token": token, "code": code},
                headers=cookie_header(cookies, contact),
            )
            ok = answer.status_code == 303 and "/thanks/" in answer.headers.get("location", "")
            if not ok:
                inbox.refused.append(f"{contact}: code answered {answer.status_code}")
            taken.append(ok)
        return taken
    page = await client.get(f"/c/{slug}/confirm", headers=cookie_header(cookies, contact))
    found = _WHATSAPP_TEXT.search(page.text)
    if page.status_code != 200 or found is None:
        heading = re.search(r"<h1>(.*?)</h1>", page.text)
        shown = heading.group(1) if heading else page.text[:200]
        inbox.refused.append(f"{contact}: waiting page {page.status_code} {shown!r}, no message")
        return [False] * times
    text = html.unescape(found.group(1))
    return [await asyncio.to_thread(inbox.whatsapp, contact, text) for _ in range(times)]


async def sign_and_confirm(
    client: httpx.AsyncClient,
    slug: str,
    browser: tuple[dict[str, str], str],
    contact: str,
    inbox: Inbox,
    *,
    times: int,
) -> tuple[int, list[bool]]:
    """One person's signing in a browser of their own, then its confirmation ``times`` times
    (the same message sent again, the same code sent again): the signing's status, and
    whether each confirmation was taken."""
    cookies, token = browser
    answer = await client.post(
        f"/c/{slug}/sign", data=form(token, contact), headers=cookie_header(cookies, contact)
    )
    if answer.status_code != 303:
        return answer.status_code, []
    bound = set_cookies(cookies, answer)  # this browser is bound to its signing
    return answer.status_code, await confirm(
        client, slug, bound, token, contact, inbox, times=times
    )


def failure_of(error: httpx.HTTPError) -> str:
    """An error that left a request without an answer, and the request it was: its method and
    path with the campaign and any secret left out ("ReadTimeout on POST /c/*/sign")."""
    try:
        request = error.request
    except RuntimeError:  # raised before a request was made
        return type(error).__name__
    steps = [part if part in PATH_WORDS else "*" for part in request.url.path.split("/")[1:]]
    return f"{type(error).__name__} on {request.method} /{'/'.join(steps)}"


# The parts of the paths the test requests that are not names or secrets.
PATH_WORDS = frozenset({"c", "sign", "check", "confirm", "s", "code", "whatsapp", "webhook"})


def attempts_of(people: int) -> list[tuple[int, int]]:
    """(person, how the contact is written), shuffled: a third of the people sign twice, the
    second time writing their number another way (the email signers sign once)."""
    attempts = [(n, 0) for n in range(people)] + [
        (n, 1 + n % 2) for n in range(0, people, 3) if n % EMAIL_EVERY != 1
    ]
    random.Random(7).shuffle(attempts)
    return attempts


def measure_exactness(
    url: str,
    logfile: Path,
    database_url: str,
    slug: str,
    *,
    people: int,
    connections: int,
    secret_key: str | None = None,
) -> Exactness:
    """``secret_key``: the servers' (PLEDGE_SECRET_KEY must hold it in this process too)."""
    census = _census(database_url, slug)
    # Signatures seeded for other measurements may wait in the same campaign: only the
    # run's own count.
    before, pending_before = census.total, census.pending
    prefix = random.randrange(10, 99)
    attempts = attempts_of(people)
    log_start = logfile.stat().st_size
    inbox = Inbox(database_url, secret_key)

    async def load() -> tuple[list[int], list[bool], dict[str, int]]:
        # Idle connections are let go before the server closes them (after 5 s): a request on
        # one it is closing would get no answer. People wait between their steps.
        limits = httpx.Limits(
            max_connections=connections, max_keepalive_connections=connections, keepalive_expiry=1
        )
        async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as client:
            browser = await open_browser(client, slug)
            queue = iter(attempts)
            statuses: list[int] = []
            taken: list[bool] = []
            failures: dict[str, int] = {}

            async def signer() -> None:
                for n, style in queue:
                    times = 2 if n % TWICE_EVERY == 0 else 1
                    contact = contact_of(n, style, prefix)
                    try:
                        status, confirmed = await sign_and_confirm(
                            client, slug, browser, contact, inbox, times=times
                        )
                    except httpx.HTTPError as error:
                        status, confirmed = 0, []
                        why = failure_of(error)
                        failures[why] = failures.get(why, 0) + 1
                    statuses.append(status)
                    taken.extend(confirmed)

            await asyncio.gather(*(signer() for _ in range(connections)))
            return statuses, taken, failures

    started = time.monotonic()
    try:
        statuses, taken, failures = asyncio.run(load())
    finally:
        inbox.close()
    seconds = time.monotonic() - started
    with logfile.open("rb") as log:
        log.seek(log_start)
        written = log.read().decode(errors="replace")
    after = _census(database_url, slug)
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
        added=after.total - before,
        tallies_agree=after.tallies_agree,
        confirmations=len(taken),
        unconfirmed=taken.count(False),
        failures=failures,
        pending=after.pending - pending_before,
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
    before = len(_census(database_url, slug).digests)
    answered: list[str] = []
    confirmed: list[str] = []  # contacts whose confirmation was answered 303
    run = secrets.token_hex(3)
    sent = 0
    lock = threading.Lock()
    inbox = Inbox(database_url, secret_key)

    def load(url: str, stop: threading.Event) -> None:
        async def signer(client: httpx.AsyncClient, browser: tuple[dict[str, str], str]) -> None:
            nonlocal sent
            cookies, token = browser
            while not stop.is_set():
                with lock:
                    sent += 1
                    contact = f"tahan-{run}-{sent}@contoh.id"
                try:
                    answer = await client.post(
                        f"/c/{slug}/sign",
                        data=form(token, contact),
                        headers=cookie_header(cookies, contact),
                    )
                except httpx.HTTPError:
                    continue  # killed mid-request: no answer, so no promise was made
                if answer.status_code != 303:
                    continue
                with lock:
                    answered.append(contact)
                bound = set_cookies(cookies, answer)
                try:
                    (taken,) = await confirm(client, slug, bound, token, contact, inbox)
                except httpx.HTTPError:
                    continue  # killed before the code was answered: the signature waits
                if taken:
                    with lock:
                        confirmed.append(contact)

        async def main() -> None:
            limits = httpx.Limits(max_connections=connections)
            async with httpx.AsyncClient(base_url=url, limits=limits, timeout=10) as client:
                try:
                    browser = await open_browser(client, slug)
                except httpx.HTTPError:
                    return  # the server was killed before this browser got its form
                await asyncio.gather(*(signer(client, browser) for _ in range(connections)))

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

    inbox.close()
    after = _census(database_url, slug)

    def digest(contact: str) -> str:
        return contacts.supporter_digest(secret_key, contacts.normalise_contact(contact))

    missing = [contact for contact in answered if digest(contact) not in after.digests]
    lost = [contact for contact in confirmed if digest(contact) not in after.confirmed]
    return CrashSafety(
        kills=kills,
        answered=len(answered),
        missing=len(missing),
        stored=len(after.digests) - before,
        tallies_agree=after.tallies_agree,
        confirmed=len(confirmed),
        lost=len(lost),
    )
