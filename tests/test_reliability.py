"""Exact under load, and safe when the server is killed: real server processes, real sockets.

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

from bench.reliability import form, phone
from pledge import contacts
from pledge.campaigns.models import CampaignView
from pledge.config import Settings, get_settings
from pledge.db import create_db_engine
from pledge.supporters import service as supporters
from pledge.supporters.models import Supporter
from tests.support.aio import run_async
from tests.support.appserver import AppProcess, app_process, form_token, free_port

T = TypeVar("T")
LOAD_ENV = {"PLEDGE_RATELIMIT_SIGN": "1000000/minute"}


def recount_agrees(session: Session, view: CampaignView) -> dict[str, int]:
    session.rollback()  # a fresh snapshot: the rows were written by other processes
    truth = supporters.true_counts(session, campaign_id=view.id)
    assert supporters.read_counts(session, campaign_id=view.id).by_key == truth
    return truth


# --- exactness under load -------------------------------------------------------------------


def test_thousands_of_signatures_from_hundreds_of_connections_on_two_processes_add_up(
    engine: sa.Engine, make_campaign: Any, session: Session
) -> None:
    view: CampaignView = make_campaign()
    people = 1500
    # A third of the people sign twice, the second time writing their number another way.
    attempts = [(n, 0) for n in range(people)] + [(n, 1 + n % 2) for n in range(0, people, 3)]
    random.Random(7).shuffle(attempts)

    with ExitStack() as stack, ThreadPoolExecutor(2) as starting:
        servers = [starting.submit(stack.enter_context, app_process(**LOAD_ENV)) for _ in "ab"]
        first, second = (future.result() for future in servers)

        async def load() -> list[int]:
            limits = httpx.Limits(max_connections=150, max_keepalive_connections=150)
            clients = [
                httpx.AsyncClient(base_url=s.url, limits=limits, timeout=60)
                for s in (first, second)
            ]
            tokens = []
            for client in clients:
                page = await client.get(f"/c/{view.slug}")
                tokens.append(page.text.split('name="csrf_token" value="')[1].split('"')[0])

            async def one(i: int, n: int, style: int) -> int:
                client, token = clients[i % 2], tokens[i % 2]
                answer = await client.post(
                    f"/c/{view.slug}/sign", data=form(token, phone(n, style))
                )
                return answer.status_code

            try:
                return await asyncio.gather(
                    *(one(i, n, style) for i, (n, style) in enumerate(attempts))
                )
            finally:
                for client in clients:
                    await client.aclose()

        statuses = run_async(load)
        logs = first.log() + second.log()

    assert len(statuses) == len(attempts) == 2000
    assert {s for s in statuses if s != 303} == set(), logs[-4000:]
    assert "database is locked" not in logs
    assert "Traceback" not in logs
    truth = recount_agrees(session, view)
    assert truth["total"] == people


# --- crash safety ---------------------------------------------------------------------------


def test_every_answered_signature_survives_the_server_being_killed_five_times(
    engine: sa.Engine, make_campaign: Any, session: Session
) -> None:
    view: CampaignView = make_campaign()
    port = free_port()
    answered: list[str] = []  # contacts whose signature was answered with 303
    sent = 0
    lock = threading.Lock()

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
                if answer.status_code == 303:
                    with lock:
                        answered.append(contact)

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

    assert len(answered) >= 75
    secret = get_settings().secret_key
    session.rollback()
    stored = set(
        session.execute(
            sa.select(Supporter.contact_digest).where(Supporter.campaign_id == view.id)  # type: ignore[arg-type]
        ).scalars()
    )
    missing = [
        c
        for c in answered
        if contacts.supporter_digest(secret, contacts.normalise_contact(c)) not in stored
    ]
    assert missing == []
    truth = recount_agrees(session, view)
    # Some signatures were stored but their answer was lost with the process: never fewer.
    assert truth["total"] >= len(answered)


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
