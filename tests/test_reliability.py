"""Exact under load, and safe when the server is killed: real server processes, real sockets,
every signing confirmed as its signer does it amid the load.

`make bench` runs the same at full size (bench/reliability.py, whose helpers these share);
here the sizes keep the suite quick.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import Any, TypeVar

import httpx2 as httpx
import pytest
import sqlalchemy as sa
from pydantic import ValidationError
from sqlmodel import Session

from bench.reliability import (
    TWICE_EVERY,
    Inbox,
    attempts_of,
    contact_of,
    failure_of,
    form,
    nonzero,
    open_browser,
    sign_and_confirm,
)
from pledge import contacts
from pledge.campaigns.models import CampaignView
from pledge.config import Settings, get_settings
from pledge.db import create_db_engine
from pledge.supporters import service as supporters
from pledge.supporters.models import Supporter
from tests.support.aio import run_async
from tests.support.appserver import AppProcess, app_process, form_token, free_port

T = TypeVar("T")
# Every signature, and every code typed to confirm one, comes from one loopback address.
LOAD_ENV = {
    "PLEDGE_RATELIMIT_SIGN": "1000000/minute",
    "PLEDGE_RATELIMIT_CONFIRM_CODE": "1000000/hour",
}


def recount_agrees(session: Session, view: CampaignView) -> dict[str, int]:
    session.rollback()  # a fresh snapshot: the rows were written by other processes
    truth = supporters.true_counts(session, campaign_id=view.id)
    # A recount names no counter it finds nothing for (the pending signatures, once all are
    # confirmed): a counter at zero agrees with it.
    assert nonzero(supporters.read_counts(session, campaign_id=view.id).by_key) == nonzero(truth)
    return truth


# --- exactness under load -------------------------------------------------------------------


def test_thousands_of_signatures_from_hundreds_of_connections_on_two_processes_add_up(
    engine: sa.Engine, make_campaign: Any, session: Session, database_url: str
) -> None:
    view: CampaignView = make_campaign()
    people = 1500
    # A third of the people sign twice, the second time writing their number another way.
    # Each signing is confirmed amid the load by its own browser: by the WhatsApp message
    # its waiting page shows, or (every sixth person, who signs with an email address) by
    # typing the emailed code there; every fifth person confirms twice.
    attempts = attempts_of(people)
    inbox = Inbox(database_url)

    with ExitStack() as stack, ThreadPoolExecutor(2) as starting:
        servers = [starting.submit(stack.enter_context, app_process(**LOAD_ENV)) for _ in "ab"]
        first, second = (future.result() for future in servers)
        stack.callback(inbox.close)

        async def load() -> list[tuple[int, list[bool]]]:
            # Idle connections are let go before the server closes them (after 5 s): a
            # request on one it is closing would get no answer.
            limits = httpx.Limits(
                max_connections=150, max_keepalive_connections=150, keepalive_expiry=1
            )
            clients = [
                httpx.AsyncClient(base_url=s.url, limits=limits, timeout=60)
                for s in (first, second)
            ]
            browsers = [await open_browser(client, view.slug) for client in clients]
            queue = iter(attempts)
            results: list[tuple[int, list[bool]]] = []

            async def signer(worker: int) -> None:
                # One connection's worth of people, one after another, each signing and
                # confirming in a browser of their own.
                client, browser = clients[worker % 2], browsers[worker % 2]
                for n, style in queue:
                    times = 2 if n % TWICE_EVERY == 0 else 1
                    results.append(
                        await sign_and_confirm(
                            client, view.slug, browser, contact_of(n, style), inbox, times=times
                        )
                    )

            try:
                await asyncio.gather(*(signer(worker) for worker in range(300)))
                return results
            finally:
                for client in clients:
                    await client.aclose()

        results = run_async(load)
        logs = first.log() + second.log()

    statuses = [status for status, _taken in results]
    taken = [confirmed for _status, each in results for confirmed in each]
    assert len(statuses) == len(attempts) == 2000
    assert {s for s in statuses if s != 303} == set(), logs[-4000:]
    twice = sum(1 for n, _style in attempts if n % TWICE_EVERY == 0)
    assert len(taken) == len(attempts) + twice  # every signing confirmed, some twice
    assert all(taken), f"{taken.count(False)} not taken: {inbox.refused[:20]}\n{logs[-3000:]}"
    assert "database is locked" not in logs
    assert "Traceback" not in logs
    truth = recount_agrees(session, view)
    assert truth["total"] == people
    assert truth.get("pending", 0) == 0


def test_a_request_left_without_an_answer_is_reported_by_its_error_and_route_only() -> None:
    signing = httpx.Request("POST", "http://127.0.0.1:8000/c/suarakan-cintamu/sign")
    confirming = httpx.Request("GET", "http://127.0.0.1:8000/c/suarakan-cintamu/confirm?x=1")
    assert failure_of(httpx.ReadTimeout("timed out", request=signing)) == (
        "ReadTimeout on POST /c/*/sign"
    )
    assert failure_of(httpx.RemoteProtocolError("closed", request=confirming)) == (
        "RemoteProtocolError on GET /c/*/confirm"
    )
    assert failure_of(httpx.ConnectError("refused")) == "ConnectError"


# --- crash safety ---------------------------------------------------------------------------


def test_every_answered_signature_survives_the_server_being_killed_five_times(
    engine: sa.Engine, make_campaign: Any, session: Session, database_url: str
) -> None:
    view: CampaignView = make_campaign()
    port = free_port()
    answered: list[str] = []  # contacts whose signature was answered with 303
    confirmed: list[str] = []  # contacts whose emailed code was answered with 303
    sent = 0
    lock = threading.Lock()
    inbox = Inbox(database_url)

    def load(server: AppProcess, stop: threading.Event) -> None:
        nonlocal sent
        with httpx.Client(base_url=server.url, timeout=10) as client:
            try:
                token = form_token(client, f"/c/{view.slug}")
            except httpx.HTTPError:
                return  # the server was killed before this browser got its form
            while not stop.is_set():
                with lock:
                    sent += 1
                    contact = f"selamat{sent}@contoh.id"
                try:
                    answer = client.post(f"/c/{view.slug}/sign", data=form(token, contact))
                except httpx.HTTPError:
                    continue  # killed mid-request: no answer, so no promise was made
                if answer.status_code != 303:
                    continue
                with lock:
                    answered.append(contact)
                # The signer types the emailed code on the page this browser was sent to.
                code = inbox.code_for(contact)
                try:
                    typed = client.post(
                        f"/c/{view.slug}/confirm", data={"csrf_token": token, "code": code}
                    )
                except httpx.HTTPError:
                    continue  # killed before the answer: the signature waits, pending
                if typed.status_code == 303:
                    with lock:
                        confirmed.append(contact)

    for _kill in range(5):
        with app_process(port=port, **LOAD_ENV) as server:
            stop = threading.Event()
            workers = [threading.Thread(target=load, args=(server, stop)) for _ in range(8)]
            for worker in workers:
                worker.start()
            # Kill in the middle of the load, however slow this machine is right now: once
            # this round has had some answers, at a random moment after that.
            before = len(answered)
            deadline = time.monotonic() + 120
            while len(answered) - before < 15 and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(random.random() / 2)
            os.kill(server.process.pid, signal.SIGKILL)
            server.process.wait(timeout=10)
            stop.set()
            for worker in workers:
                worker.join(timeout=30)
    inbox.close()

    assert len(answered) >= 75
    assert len(confirmed) >= 60
    secret = get_settings().secret_key
    session.rollback()
    rows = session.execute(
        sa.select(Supporter.contact_digest, Supporter.confirmed_at).where(  # type: ignore[call-overload]
            Supporter.campaign_id == view.id
        )
    ).all()
    stored = {digest for digest, _at in rows}
    counted = {digest for digest, at in rows if at is not None}

    def digest(contact: str) -> str:
        return contacts.supporter_digest(secret, contacts.normalise_contact(contact))

    missing = [c for c in answered if digest(c) not in stored]
    assert missing == []
    lost = [c for c in confirmed if digest(c) not in counted]
    assert lost == []  # every confirmation answered 303 is counted
    truth = recount_agrees(session, view)
    # Some signatures were stored but their answer was lost with the process: never fewer.
    assert len(stored) >= len(answered)
    assert truth["total"] == len(counted) >= len(confirmed)
    assert truth.get("pending", 0) == len(stored) - len(counted)


# --- what a crash or a power cut keeps ---------------------------------------------------------


@pytest.mark.parametrize(("setting", "level"), [("normal", 1), ("full", 2)])
def test_sqlite_connections_use_the_durability_the_settings_ask_for(
    tmp_path: Path, setting: str, level: int
) -> None:
    settings = get_settings().model_copy(
        update={
            "database_url": f"sqlite:///{tmp_path / 'durable.db'}",
            "sqlite_synchronous": setting,
        }
    )
    engine = create_db_engine(settings)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == level
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()


def test_an_unknown_durability_setting_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLEDGE_SQLITE_SYNCHRONOUS", "off")
    with pytest.raises(ValidationError):
        Settings()
