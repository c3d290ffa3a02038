"""Fixtures: a migrated database (SQLite, or PostgreSQL with --db=postgres), the app, factories."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

os.environ.update(
    {
        "PLEDGE_ENV": "test",
        "PLEDGE_SECRET_KEY": "test-secret-key-that-is-long-enough-for-tests",
        "PLEDGE_RATELIMIT_STORAGE": "memory://",
        "PLEDGE_RATELIMIT_ENABLED": "true",
        # The cheapest argon2id: the same code paths, a hundred times faster than production.
        "PLEDGE_PASSWORD_TIME_COST": "1",
        "PLEDGE_PASSWORD_MEMORY_KIB": "8",
        "PLEDGE_PASSWORD_PARALLELISM": "1",
    }
)

import sqlalchemy as sa
import uvicorn
from bs4 import BeautifulSoup
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from pledge import cache, i18n, ratelimit
from pledge.accounts.models import Organization
from pledge.campaigns import service as campaigns
from pledge.campaigns.models import Campaign, CampaignStatus, CampaignView
from pledge.cli import upgrade
from pledge.config import get_settings
from pledge.db import create_db_engine, metadata
from pledge.supporters import service as supporters
from pledge.supporters.models import SignForm, Signing
from tests.support.appserver import free_port
from tests.support.pgserver import running_postgres

IN_CI = os.environ.get("CI", "").lower() == "true"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        choices=("sqlite", "postgres"),
        default="sqlite",
        help="database to run the suite on; postgres starts a throwaway server "
        "unless PLEDGE_TEST_DATABASE_URL names one",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests about one database only are left out of the run on the other, and tests that use
    no database fixture (the same whatever --db says) run once, on SQLite: deselected, not
    skipped, so that both runs together run every test."""
    on_postgres = config.getoption("--db") == "postgres"
    other = "sqlite_only" if on_postgres else "postgres_only"

    def left_out(item: pytest.Item) -> bool:
        if item.get_closest_marker(other):
            return True
        return on_postgres and "database_url" not in getattr(item, "fixturenames", ())

    dropped = [item for item in items if left_out(item)]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if not left_out(item)]


# --- database ------------------------------------------------------------------------


@pytest.fixture(scope="session")
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    given = os.environ.get("PLEDGE_TEST_DATABASE_URL")
    if given:
        yield given
    elif request.config.getoption("--db") == "postgres":
        with running_postgres() as url:
            yield url
    else:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[sa.Engine]:
    os.environ["PLEDGE_DATABASE_URL"] = database_url
    get_settings.cache_clear()
    upgrade(database_url)
    engine = create_db_engine(get_settings())
    yield engine
    engine.dispose()


def _empty_tables(engine: sa.Engine) -> None:
    tables = [t.name for t in reversed(metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            quoted = ", ".join(f'"{name}"' for name in tables)
            conn.exec_driver_sql(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE")
        else:
            for name in tables:
                conn.exec_driver_sql(f'DELETE FROM "{name}"')


@pytest.fixture(autouse=True)
def _clean_state(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every test starts with empty tables, empty caches and fresh rate limits, and calls
    services in English (pages choose their language per request, as in production)."""
    i18n.set_locale("en")
    yield
    cache.clear_all()
    ratelimit.reset()
    get_settings.cache_clear()  # settings an app was made with end with their test
    if "engine" in request.fixturenames:
        _empty_tables(request.getfixturevalue("engine"))


@pytest.fixture
def session(engine: sa.Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session


@pytest.fixture
def dialect(engine: sa.Engine) -> str:
    return engine.dialect.name


# --- the app -------------------------------------------------------------------------


@pytest.fixture
def app(engine: sa.Engine) -> FastAPI:
    from pledge.app import create_app

    return create_app(get_settings(), engine=engine)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as client:
        yield client


T = TypeVar("T")


def run_async(main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """``asyncio.run(main())`` in a thread of its own, as a server process would run it: the
    browser tests leave Playwright's event loop running in the test's own thread."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(main())).result()


def html(response: Any) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


def csrf_token(client: TestClient, path: str) -> str:
    """Open a page with a form, as a browser would, and read its CSRF token."""
    response = client.get(path)
    assert response.status_code == 200, response.text[:500]
    field = html(response).select_one("input[name=csrf_token]")
    assert field is not None, f"no form with a CSRF token on {path}"
    return str(field["value"])


def errors_of(response: Any) -> dict[str, str]:
    """The messages shown beside each field, by field name."""
    return {
        str(p["id"]).removesuffix("-error"): p.get_text(strip=True)
        for p in html(response).select("p.error[id]")
    }


# --- factories -----------------------------------------------------------------------


@pytest.fixture
def make_org(session: Session) -> Callable[..., Organization]:
    counter = iter(range(1, 10_000))

    def make(slug: str | None = None, name: str | None = None, **fields: Any) -> Organization:
        n = next(counter)
        fields.setdefault("verified", True)
        org = Organization(slug=slug or f"org-{n}", name=name or f"Organisasi {n}", **fields)
        session.add(org)
        session.commit()
        return org

    return make


@pytest.fixture
def make_campaign(
    session: Session, make_org: Callable[..., Organization]
) -> Callable[..., CampaignView]:
    counter = iter(range(1, 10_000))

    def make(
        status: str = "live",
        slug: str | None = None,
        pledges: tuple[str, ...] = ("tolak-politik-uang", "gunakan-hak-pilih", "lawan-hoaks"),
        partners: int = 2,
        goal: int = 1000,
        **fields: Any,
    ) -> CampaignView:
        n = next(counter)
        lead = make_org()
        campaign = campaigns.create(
            session,
            slug=slug or f"kampanye-{n}",
            title=fields.pop("title", f"Kampanye {n}"),
            summary=fields.pop("summary", "Ringkasan kampanye."),
            body=fields.pop("body", "Cerita **kampanye**."),
            lead_org=lead,
            goal=goal,
            **fields,
        )
        for pledge_slug in pledges:
            campaigns.add_pledge(
                session, campaign=campaign, slug=pledge_slug, text=f"Janji {pledge_slug}"
            )
        for _ in range(partners):
            campaigns.add_partner(session, campaign=campaign, org=make_org())
        if status in ("live", "closed"):
            campaigns.set_status(session, campaign=campaign, status=CampaignStatus.LIVE)
        if status == "closed":
            campaigns.set_status(session, campaign=campaign, status=CampaignStatus.CLOSED)
        session.commit()
        return campaigns.get_view(session, slug=campaign.slug, public=False)

    return make


def sign_form(**fields: Any) -> SignForm:
    values: dict[str, Any] = {
        "name": "Rina Putri",
        "contact": "rina@example.com",
        "province": "ID-JK",
        "age_ok": "on",
        "consent": "on",
        "pledges": ("tolak-politik-uang",),
    }
    values.update(fields)
    values["pledges"] = tuple(values["pledges"])
    return SignForm(**values)


@pytest.fixture
def sign(session: Session) -> Callable[..., Signing]:
    def do(view: CampaignView, **fields: Any) -> Signing:
        return supporters.sign(session, view=view, form=sign_form(**fields))

    return do


def refresh(session: Session, view: CampaignView) -> CampaignView:
    campaign = session.get(Campaign, view.id)
    assert campaign is not None
    session.refresh(campaign)
    return campaigns.get_view(session, slug=campaign.slug, public=False)


def form_data(**fields: Any) -> dict[str, Any]:
    """The sign-up form as a browser posts it."""
    data: dict[str, Any] = {
        "name": "Rina Putri",
        "contact": "0812 3456 7890",
        "province": "ID-JK",
        "age_ok": "on",
        "consent": "on",
        "pledges": ["tolak-politik-uang"],
        "website": "",
    }
    data.update(fields)
    return {k: v for k, v in data.items() if v is not None}


# --- a real server on loopback -------------------------------------------------------


@dataclass
class LiveServer:
    url: str
    app: FastAPI


@contextmanager
def serve_in_thread(app: FastAPI) -> Iterator[LiveServer]:
    """The app served by uvicorn on a loopback port, in a thread of the test process."""
    port = free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="off",
        timeout_graceful_shutdown=2,  # open event streams do not hold the teardown up
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield LiveServer(url=f"http://127.0.0.1:{port}", app=app)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def live_server(engine: sa.Engine) -> Iterator[LiveServer]:
    from pledge.app import create_app

    with serve_in_thread(create_app(get_settings(), engine=engine)) as server:
        yield server


# --- a real browser ------------------------------------------------------------------

CHROMIUM = os.environ.get("PLEDGE_TEST_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        message = f"Chromium is not installed at {CHROMIUM} (make test installs it)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with ExitStack() as stack:
        playwright = stack.enter_context(sync_playwright())
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        stack.callback(browser.close)
        yield browser


def digits(text: str) -> int:
    """A count as shown on a page (8.215 or 8,215) as a number."""
    return int(re.sub(r"\D", "", text))
