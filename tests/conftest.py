"""Fixtures for every test: a migrated database (SQLite, or PostgreSQL with --db=postgres), the
app and browsers on it, the factories of tests/support/factories.py bound to the test's session,
and the people of tests/support/people.py. Test modules import what they share from
tests/support, never from a conftest file."""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from functools import partial
from pathlib import Path
from typing import Any

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
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from pledge import cache, i18n, ratelimit
from pledge.cli import upgrade
from pledge.config import Settings, get_settings
from pledge.db import create_db_engine, metadata
from tests.support import CHROMIUM, CHROMIUM_ARGS, IN_CI, factories
from tests.support.appserver import LiveServer, serve_in_thread
from tests.support.factories import (
    MakeCampaign,
    MakeCase,
    MakeOrg,
    MakeReport,
    MakeUser,
    Publish,
    Sign,
)
from tests.support.mailbox import keep_sent_texts
from tests.support.pgserver import running_postgres
from tests.support.settings import UseSettings

# The people of the tests (org, org_admin, moderator, second_moderator, site_admin, outsider,
# and as_user for someone new) are fixtures declared once, in tests/support/people.py.
pytest_plugins = ["tests.support.people"]


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


# Every id sequence starts again at 1, as TRUNCATE ... RESTART IDENTITY would.
_RESTART_IDS = (
    "SELECT setval(c.oid, 1, false) FROM pg_class c "
    "WHERE c.relkind = 'S' AND c.relnamespace = current_schema()::regnamespace"
)


def _empty_tables(engine: sa.Engine) -> None:
    tables = [t.name for t in reversed(metadata.sorted_tables)]  # children before parents
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            # Only the tables that hold a row, found in one statement: TRUNCATE of every table
            # costs 40 ms and more a test (it makes new files for each), and most tests write
            # to a few tables.
            written_to = " UNION ALL ".join(
                f"SELECT '{name}' WHERE EXISTS (SELECT 1 FROM \"{name}\")" for name in tables
            )
            written = set(conn.exec_driver_sql(written_to).scalars())
            tables = [name for name in tables if name in written]
        for name in tables:
            conn.exec_driver_sql(f'DELETE FROM "{name}"')
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql(_RESTART_IDS)


@pytest.fixture(autouse=True)
def _logging_as_it_was() -> Iterator[None]:
    """A test that configures logging as `pledge serve` does (dictConfig, in this process)
    leaves the root logger as it found it: its handler wrote to the test's captured stderr,
    which is gone once the test ends."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in [h for h in root.handlers if h not in handlers]:
        root.removeHandler(handler)
        handler.close()
    for handler in handlers:
        if handler not in root.handlers:
            root.addHandler(handler)
    root.setLevel(level)


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


@pytest.fixture(autouse=True)
def _restart_numbering() -> None:
    """Generated names (org-1, kampanye-1, orang1@...) count from 1 in every test."""
    factories.restart_numbering()


@pytest.fixture
def session(engine: sa.Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session


@pytest.fixture
def dialect(engine: sa.Engine) -> str:
    return engine.dialect.name


# --- the app and browsers on it ------------------------------------------------------


@pytest.fixture
def app(engine: sa.Engine) -> FastAPI:
    from pledge.app import create_app

    return create_app(get_settings(), engine=engine)


@pytest.fixture
def client_lang() -> str | None:
    """The language the test's browsers have chosen (the ``lang`` cookie ?lang= sets); None is
    the site's default, Indonesian. A folder whose tests read the English wording says "en"."""
    return None


NewClient = Callable[..., TestClient]


@pytest.fixture
def new_client(app: FastAPI, client_lang: str | None) -> Iterator[NewClient]:
    """Open another browser, with cookies of its own: ``new_client()``, in the test's language
    unless ``lang`` says; other options as for a TestClient (``client=(address, port)``)."""
    opened: list[TestClient] = []

    def open_client(*, lang: str | None = client_lang, **options: Any) -> TestClient:
        browser = TestClient(app, base_url="http://testserver", follow_redirects=False, **options)
        browser.__enter__()
        if lang is not None:
            browser.cookies.set("lang", lang)
        opened.append(browser)
        return browser

    yield open_client
    for browser in opened:
        browser.__exit__(None, None, None)


@pytest.fixture
def client(new_client: NewClient) -> TestClient:
    return new_client()


@pytest.fixture
def other_client(new_client: NewClient) -> TestClient:
    """A second browser: a second session of the same person, or another person."""
    return new_client()


@pytest.fixture
def anonymous(new_client: NewClient) -> TestClient:
    """A browser that is never signed in: what the public sees."""
    return new_client()


@pytest.fixture(autouse=True)
def sent_texts(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[int, str]]:
    """The outbox empties a message once sent: what each one said is kept for the test
    (tests/support/mailbox.py)."""
    with keep_sent_texts(monkeypatch) as sent:
        yield sent


@pytest.fixture
def use_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[UseSettings]:
    """Change settings through the environment, as an operator would, for one test."""

    def apply(**values: str) -> Settings:
        for name, value in values.items():
            monkeypatch.setenv(f"PLEDGE_{name.upper()}", value)
        get_settings.cache_clear()
        return get_settings()

    yield apply
    monkeypatch.undo()
    get_settings.cache_clear()


# --- factories (tests/support/factories.py) on the test's session ----------------------


@pytest.fixture
def make_org(session: Session) -> MakeOrg:
    return partial(factories.make_org, session)


@pytest.fixture
def make_pending_org(session: Session) -> MakeOrg:
    return partial(factories.make_pending_org, session)


@pytest.fixture
def make_user(session: Session) -> MakeUser:
    return partial(factories.make_user, session)


@pytest.fixture
def make_campaign(session: Session) -> MakeCampaign:
    return partial(factories.make_campaign, session)


@pytest.fixture
def sign(session: Session) -> Sign:
    """A supporter signs a campaign: ``sign(view, contact=...)``."""
    return partial(factories.make_supporter, session)


@pytest.fixture
def make_report(session: Session) -> MakeReport:
    return partial(factories.make_report, session)


@pytest.fixture
def make_case(session: Session) -> MakeCase:
    return partial(factories.make_case, session)


@pytest.fixture
def publish(session: Session) -> Publish:
    """Publish a case with a verdict: ``publish(case_id, title=...)``."""
    return partial(factories.publish_case, session)


# --- a real server on loopback -------------------------------------------------------


@pytest.fixture
def live_server(engine: sa.Engine) -> Iterator[LiveServer]:
    from pledge.app import create_app

    with serve_in_thread(create_app(get_settings(), engine=engine)) as server:
        yield server


# --- a real browser ------------------------------------------------------------------


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
            args=list(CHROMIUM_ARGS),
        )
        stack.callback(browser.close)
        yield browser
