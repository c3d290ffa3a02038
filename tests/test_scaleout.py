"""Two app processes over one database and one real Redis, as several hosts would run.

Each test starts two uvicorn processes on their own ports, sharing the test database (SQLite
file or, with --db=postgres, the PostgreSQL server) and a throwaway Redis for rate limits.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from typing import Any

import httpx2 as httpx
import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, select

from pledge.accounts import service as accounts
from pledge.accounts.models import Role
from pledge.campaigns.models import CampaignView
from pledge.hoaxes.models import HoaxReport
from pledge.supporters import service as supporters
from tests.support.appserver import AppProcess, app_process, form_token, sign_through
from tests.support.forms import report_fields
from tests.support.images import screenshot
from tests.support.redisserver import RedisServer, running_redis
from tests.support.signing import confirm_in_browser
from tests.support.waiting import wait_until

PASSWORD = "a-long-moderator-password"
TWO = {"pledges": ["tolak-politik-uang", "lawan-hoaks"]}


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    with running_redis() as server:
        yield server


@pytest.fixture
def pair(engine: sa.Engine, redis_server: RedisServer) -> Iterator[tuple[AppProcess, AppProcess]]:
    """Two app processes on the test database, counting rate limits in one Redis."""
    import redis

    redis.Redis.from_url(redis_server.url).flushall()
    env = {
        "PLEDGE_RATELIMIT_STORAGE": redis_server.url,
        "PLEDGE_RATELIMIT_LOGIN": "10/minute",
        "PLEDGE_RATELIMIT_LOGIN_EMAIL": "4/minute",
        "PLEDGE_RATELIMIT_SIGN": "100000/minute",
        "PLEDGE_RATELIMIT_CONFIRM_CODE": "100000/hour",
        "PLEDGE_PUBLIC_URL": "http://pledge.test",
    }
    with ExitStack() as stack, ThreadPoolExecutor(2) as pool:
        starting = [pool.submit(stack.enter_context, app_process(**env)) for _ in range(2)]
        first, second = (future.result() for future in starting)
        yield first, second


def browser(server: AppProcess) -> httpx.Client:
    return httpx.Client(base_url=server.url, follow_redirects=False, timeout=20)


def confirm(client: httpx.Client, engine: sa.Engine, view: CampaignView, contact: str) -> int:
    """The signer types the emailed code on the page their browser was sent to."""
    with Session(engine) as inbox:
        return int(confirm_in_browser(client, inbox, view, contact).status_code)  # type: ignore[arg-type]


def test_signatures_through_both_processes_add_up_exactly(
    pair: tuple[AppProcess, AppProcess], make_campaign: Any, session: Session
) -> None:
    view: CampaignView = make_campaign()
    people = 120
    engine = session.get_bind()
    assert isinstance(engine, sa.Engine)

    def work(worker: int) -> tuple[list[int], list[int]]:
        # Each worker is a browser on one of the two hosts, signing for many people, each of
        # whom confirms with the emailed code; a third of them come back with their contact
        # written another way, and confirm that signing too.
        with browser(pair[worker % 2]) as client:
            token = form_token(client, f"/c/{view.slug}")
            statuses, confirmed = [], []
            for n in range(worker, people, 8):
                again = [f"  ORANG{n}@Contoh.ID "] if n % 3 == 0 else []
                for contact in [f"orang{n}@contoh.id", *again]:
                    signed = sign_through(client, view.slug, token, contact, **TWO)
                    statuses.append(signed.status_code)
                    confirmed.append(confirm(client, engine, view, contact))
            return statuses, confirmed

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(work, range(8)))
    statuses = [s for signed, _confirmed in results for s in signed]
    confirmed = [s for _signed, confirmed in results for s in confirmed]

    assert len(statuses) == len(confirmed) == people + people // 3
    assert set(statuses) == {303}
    # Each code typed was taken, also the one of the email that tells a signer they had
    # signed already (it opens their page).
    assert confirmed == [303] * (people + people // 3)
    session.rollback()  # a fresh snapshot: the rows were written by the other processes
    truth = supporters.true_counts(session, campaign_id=view.id)
    assert truth["total"] == people
    assert truth.get("pending", 0) == 0
    # Every counter equals the recount, which names no counter it finds nothing for.
    stored = supporters.read_counts(session, campaign_id=view.id).by_key
    assert {key: n for key, n in stored.items() if n} == truth
    # Each process answers with the same exact count once its one-second cache has passed
    # (waited for with a deadline a loaded machine meets).
    for server in pair:
        deadline = time.monotonic() + 60
        while True:
            count = httpx.get(f"{server.url}/api/v1/campaigns/{view.slug}").json()["supporters"]
            if count == people or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert count == people


def test_rate_limits_are_counted_across_both_processes(
    pair: tuple[AppProcess, AppProcess],
) -> None:
    first, second = browser(pair[0]), browser(pair[1])
    tokens = {id(first): form_token(first, "/login"), id(second): form_token(second, "/login")}

    def attempt(client: httpx.Client, email: str) -> int:
        data = {"email": email, "password": "wrong password", "csrf_token": tokens[id(client)]}
        return client.post("/login", data=data).status_code

    # Per account (counted by the application in Redis): 4 a minute, from anywhere.
    tries = [attempt(client, "target@contoh.id") for client in (first, second, first, second)]
    assert tries == [422, 422, 422, 422]
    assert attempt(first, "target@contoh.id") == 429
    # Per address (slowapi in Redis): 10 a minute; the five above count too.
    others = [attempt((first, second)[n % 2], f"other{n}@contoh.id") for n in range(5)]
    assert others == [422] * 5
    assert attempt(second, "someone-else@contoh.id") == 429
    assert attempt(first, "yet-another@contoh.id") == 429
    first.close()
    second.close()


def test_a_session_and_an_upload_on_one_process_work_on_the_other(
    pair: tuple[AppProcess, AppProcess], make_campaign: Any, session: Session
) -> None:
    view: CampaignView = make_campaign()
    lead = view.partners[0]
    user = accounts.create(
        session, email="moderator@contoh.id", password=PASSWORD, display_name="Dewi Moderator"
    )
    org = accounts.get_org_by_slug(session, lead.slug)
    accounts.add_member(session, user=user, org=org, role=Role.MODERATOR)
    session.commit()

    with browser(pair[0]) as on_first, browser(pair[1]) as on_second:
        token = form_token(on_first, "/login")
        signed_in = on_first.post(
            "/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token}
        )
        assert signed_in.status_code == 303
        on_second.cookies.update(on_first.cookies)
        account = on_second.get("/account")
        assert account.status_code == 200
        assert "moderator@contoh.id" in account.text

        image = screenshot(seed=7)
        token = form_token(on_first, f"/c/{view.slug}/report")
        reported = on_first.post(
            f"/c/{view.slug}/report",
            data={"csrf_token": token, **report_fields()},
            files={"screenshot": ("layar.png", image, "image/png")},
        )
        assert reported.status_code == 303, reported.text[:500]
        media_id = session.exec(
            select(HoaxReport.media_id).where(col(HoaxReport.campaign_id) == view.id)
        ).one()
        assert media_id is not None
        served = on_second.get(f"/media/{media_id}")
        assert served.status_code == 200
        assert served.headers["content-type"] == "image/jpeg"
        assert served.content == on_first.get(f"/media/{media_id}").content
        assert served.content.startswith(b"\xff\xd8")
        # Signed out, the other process does not show it either.
        assert httpx.get(f"{pair[1].url}/media/{media_id}").status_code == 404


def test_the_live_stream_on_one_process_shows_a_signature_made_on_the_other(
    pair: tuple[AppProcess, AppProcess], make_campaign: Any, engine: sa.Engine
) -> None:
    view: CampaignView = make_campaign()
    counts: list[tuple[float, int]] = []
    opened = threading.Event()

    def listen() -> None:
        with httpx.stream("GET", f"{pair[0].url}/c/{view.slug}/events", timeout=10) as stream:
            opened.set()
            for line in stream.iter_lines():
                if line.startswith("data: "):
                    counts.append((time.monotonic(), json.loads(line[6:])["supporters"]))
                    if len(counts) == 2:
                        return

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    assert opened.wait(60)
    wait_until(lambda: len(counts) == 1)  # the count it started with: it is subscribed
    with browser(pair[1]) as client:
        token = form_token(client, f"/c/{view.slug}")
        assert sign_through(client, view.slug, token, "live@contoh.id").status_code == 303
        signed_at = time.monotonic()  # counted from here: the code typed on this process
        assert confirm(client, engine, view, "live@contoh.id") == 303
    listener.join(timeout=60)
    assert [count for _at, count in counts] == [0, 1]
    # Within a second or two of tally reads on an idle machine; the bound leaves room for a
    # busy one, and is still far from the 15 s of a keep-alive or a reconnection.
    assert counts[1][0] - signed_at < 10
