"""When a part fails: Redis down, the site keeps serving; the database down, a friendly 503,
and both recover by themselves with nothing half-written.

The database outage needs a server to stop and start, so this module runs its own throwaway
PostgreSQL whatever database the rest of the suite uses.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

import httpx2 as httpx
import pytest
import sqlalchemy as sa
from bs4 import BeautifulSoup
from sqlmodel import Session

from pledge.accounts.models import Organization
from pledge.campaigns import service as campaigns
from pledge.campaigns.models import CampaignStatus
from pledge.cli import upgrade
from pledge.supporters import service as supporters
from tests.support.appserver import AppProcess, app_process, form_token, sign_through
from tests.support.pgserver import running_postgres, start_server, stop_server
from tests.support.redisserver import RedisServer, running_redis
from tests.support.signing import confirm_in_browser


def wait_for(check: object, timeout: float = 60, what: str = "did not recover in time") -> None:
    """Return as soon as the check passes; the deadline is generous, for a loaded machine."""
    assert callable(check)
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


# --- the database goes down and comes back ----------------------------------------------


@pytest.fixture(scope="module")
def outage_db() -> Iterator[tuple[str, int]]:
    """A PostgreSQL server of its own, migrated, with one live campaign."""
    with running_postgres() as url:
        upgrade(url)
        engine = sa.create_engine(url)
        with Session(engine, expire_on_commit=False) as session:
            org = Organization(slug="lembaga", name="Lembaga", verified=True)
            session.add(org)
            session.commit()
            campaign = campaigns.create(
                session, slug="tahan-banting", title="Tahan Banting", summary="", body="",
                lead_org=org, goal=100,
            )  # fmt: skip
            campaigns.add_pledge(
                session, campaign=campaign, slug="tolak-politik-uang", text="Tolak politik uang"
            )
            campaigns.set_status(session, campaign=campaign, status=CampaignStatus.LIVE)
            session.commit()
            campaign_id = campaign.id or 0
        engine.dispose()
        yield url, campaign_id


def test_database_outage_gives_a_friendly_503_and_recovers_by_itself(
    outage_db: tuple[str, int],
) -> None:
    url, campaign_id = outage_db
    engine = sa.create_engine(url, pool_pre_ping=True)  # its connections outlive the outage

    def confirm(client: httpx.Client, contact: str) -> int:
        """The emailed code typed on the waiting page, as the signer does."""
        with Session(engine) as session:
            answer = confirm_in_browser(client, session, "tahan-banting", contact)  # type: ignore[arg-type]
        return int(answer.status_code)

    with (
        app_process(PLEDGE_DATABASE_URL=url) as server,
        httpx.Client(base_url=server.url, timeout=20) as client,
    ):
        client.cookies.set("lang", "en")
        token = form_token(client, "/c/tahan-banting")
        assert sign_through(client, "tahan-banting", token, "satu@contoh.id").status_code == 303
        assert confirm(client, "satu@contoh.id") == 303
        events = Listener(server, "tahan-banting")

        stop_server(url)
        try:
            ready = client.get("/readyz")
            assert ready.status_code == 503
            assert ready.json() == {"status": "unavailable", "database": False}
            assert client.get("/healthz").status_code == 200  # the process itself is fine

            page = client.get("/c/tahan-banting")
            assert page.status_code == 503
            assert page.headers["retry-after"] == "5"
            soup = BeautifulSoup(page.text, "html.parser")
            assert soup.select_one("h1").get_text(strip=True) == "We will be right back"
            assert "try again shortly" in soup.get_text()

            refused = sign_through(client, "tahan-banting", token, "dua@contoh.id")
            assert refused.status_code == 503
            # Counts and campaigns are kept a second or two per process; after that the API
            # cannot answer either.
            api_path = "/api/v1/campaigns/tahan-banting"
            wait_for(lambda: client.get(api_path).status_code != 200, what="the API kept answering")
            api = client.get(api_path)
            assert api.status_code == 503
            assert api.json()["error"] == "ServiceUnavailable"
        finally:
            start_server(url)

        wait_for(lambda: client.get("/readyz").status_code == 200)
        assert client.get("/c/tahan-banting").status_code == 200
        assert sign_through(client, "tahan-banting", token, "tiga@contoh.id").status_code == 303
        assert confirm(client, "tiga@contoh.id") == 303
        # The stream opened before the outage stayed open and shows the new count.
        events.wait_for_count(2)
        events.close()
        wait_for(lambda: "database unavailable" in server.log(), what="no outage logged")

    with Session(engine) as session:
        truth = supporters.true_counts(session, campaign_id=campaign_id)
        assert truth["total"] == 2  # the signature refused during the outage left nothing
        # Every counter equals the recount (which names no counter it finds nothing for, such
        # as the pending signatures once all are confirmed).
        stored = supporters.read_counts(session, campaign_id=campaign_id).by_key
        assert {key: n for key, n in stored.items() if n} == {k: n for k, n in truth.items() if n}
    engine.dispose()


class Listener:
    """An open event stream in a thread, collecting the counts it receives."""

    def __init__(self, server: AppProcess, slug: str) -> None:
        self.counts: list[int] = []
        self.stop = threading.Event()
        self.opened = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(server, slug), daemon=True)
        self.thread.start()
        assert self.opened.wait(60)

    def _run(self, server: AppProcess, slug: str) -> None:
        timeout = httpx.Timeout(5, read=60)
        url = f"{server.url}/c/{slug}/events"
        try:
            with httpx.stream("GET", url, timeout=timeout) as stream:
                self.opened.set()
                for line in stream.iter_lines():
                    if line.startswith("data: "):
                        self.counts.append(json.loads(line[6:])["supporters"])
                    if self.stop.is_set():
                        return
        except httpx.HTTPError:
            if not self.stop.is_set():
                raise  # closed by the server before the test was done with it

    def wait_for_count(self, count: int) -> None:
        wait_for(lambda: count in self.counts, what=f"no event with the count {count}")

    def close(self) -> None:
        self.stop.set()


# --- Redis goes down ------------------------------------------------------------------------


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    with running_redis() as server:
        yield server


def test_without_redis_the_site_serves_and_limits_fall_back_to_each_process(
    engine: sa.Engine, make_campaign: object, redis_server: RedisServer
) -> None:
    assert callable(make_campaign)
    view = make_campaign()
    env = {
        "PLEDGE_RATELIMIT_STORAGE": redis_server.url,
        "PLEDGE_RATELIMIT_LOGIN_EMAIL": "3/minute",
        "PLEDGE_RATELIMIT_SIGN": "4/minute",
        "PLEDGE_RATELIMIT_SIGN_HARD": "4/minute",
    }
    with (
        app_process(**env) as server,
        httpx.Client(base_url=server.url, timeout=20) as client,
    ):
        client.cookies.set("lang", "en")
        token = form_token(client, f"/c/{view.slug}")
        login_token = form_token(client, "/login")
        redis_server.stop()

        assert client.get("/").status_code == 200
        assert client.get(f"/c/{view.slug}").status_code == 200
        signed = [
            sign_through(client, view.slug, token, f"orang{n}@contoh.id").status_code
            for n in range(5)
        ]
        assert signed == [303, 303, 303, 303, 429]  # the route's limit, counted in memory

        def attempt() -> int:
            data = {"email": "x@contoh.id", "password": "wrong", "csrf_token": login_token}
            return client.post("/login", data=data).status_code

        assert [attempt() for _ in range(4)] == [422, 422, 422, 429]
        # slowapi's warning, for the route limits: the log is written a moment later.
        wait_for(
            lambda: "falling back to in-memory storage" in server.log(), what="no warning logged"
        )
