"""Guessing passwords and one-time links: after the allowed failures, sign-in answers 429 with
a clear message even for the right password, per account from any number of addresses and
per address over any number of accounts; the limits hold across two server processes
sharing Redis.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from typing import Any

import httpx2 as httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient

from pledge.config import get_settings
from tests.support.appserver import AppProcess, app_process, form_token
from tests.support.factories import MakeUser
from tests.support.pages import html
from tests.support.people import login
from tests.support.redisserver import running_redis

PASSWORD = "kata-sandi-yang-benar-sekali"
WRONG = "tebakan-yang-salah"
ACCOUNT_MESSAGE = "Too many sign-in attempts for this account. Wait a few minutes and try again."
ADDRESS_MESSAGE = "Too many requests. Please wait a moment and try again."

Browser = Callable[[str], TestClient]


@pytest.fixture
def from_address(app: FastAPI) -> Iterator[Browser]:
    """A browser on a given network address, in English."""
    opened: list[TestClient] = []

    def open_at(address: str) -> TestClient:
        client = TestClient(
            app, base_url="http://testserver", follow_redirects=False, client=(address, 50000)
        )
        client.__enter__()
        client.cookies.set("lang", "en")
        opened.append(client)
        return client

    yield open_at
    for client in opened:
        client.__exit__(None, None, None)


@pytest.fixture
def low_address_limit(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Five sign-in posts a minute per address, as an operator could set it."""
    monkeypatch.setenv("PLEDGE_RATELIMIT_LOGIN", "5/minute")
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


def token(client: Any, path: str = "/login") -> str:
    field = html(client.get(path)).select_one("input[name=csrf_token]")
    assert field is not None
    return str(field["value"])


def refusal(response: Any) -> tuple[int, str]:
    detail = html(response).select_one("section.error-page p.detail")
    return response.status_code, detail.get_text(strip=True) if detail else response.text[:200]


def signed_in(client: Any) -> bool:
    return bool(client.get("/account").status_code == 200)


# --- in one process ------------------------------------------------------------------------


@pytest.mark.usefixtures("low_address_limit")
def test_an_account_guessed_from_many_addresses_is_locked_even_for_its_owner(
    make_user: MakeUser, from_address: Browser
) -> None:
    """Ten failures, each from another address (so none reaches its limit of five), lock
    the account: the owner with the right password, from yet another address, is told why."""
    user = make_user("rina@contoh.id", password=PASSWORD)
    limit = int(get_settings().ratelimit_login_email.split("/")[0])
    for n in range(limit):
        assert login(from_address(f"198.51.100.{n + 1}"), user.email, WRONG).status_code == 422

    owner = from_address("203.0.113.7")
    response = login(owner, user.email, PASSWORD)

    assert refusal(response) == (429, ACCOUNT_MESSAGE)
    assert not signed_in(owner)
    # The email as typed another way is the same account.
    assert refusal(login(owner, "  RINA@Contoh.ID ", PASSWORD)) == (429, ACCOUNT_MESSAGE)


def test_guesses_at_the_current_password_lock_sign_in_too(
    make_user: MakeUser, from_address: Browser
) -> None:
    """Someone holding a stolen session who guesses at the account page's current password
    spends the same budget as guesses at the sign-in form."""
    user = make_user("rina@contoh.id", password=PASSWORD)
    thief = from_address("198.51.100.9")
    assert login(thief, user.email, PASSWORD).status_code == 303  # the first of ten
    page = token(thief, "/account")
    for _ in range(9):
        guess = thief.post(
            "/account/password",
            data={
                "csrf_token": page,
                "current_password": WRONG,
                "password": "sandi-baru-si-pencuri",
                "password_confirm": "sandi-baru-si-pencuri",
            },
        )
        assert guess.status_code == 422

    owner = from_address("203.0.113.7")

    assert refusal(login(owner, user.email, PASSWORD)) == (429, ACCOUNT_MESSAGE)


@pytest.mark.usefixtures("low_address_limit")
def test_one_address_trying_many_accounts_is_limited_even_with_a_right_password(
    make_user: MakeUser, from_address: Browser
) -> None:
    user = make_user("rina@contoh.id", password=PASSWORD)
    attacker = from_address("198.51.100.20")
    for n in range(5):
        assert login(attacker, f"orang{n}@contoh.id", WRONG).status_code == 422

    response = login(attacker, user.email, PASSWORD)

    assert refusal(response) == (429, ADDRESS_MESSAGE)
    assert int(response.headers["retry-after"]) > 0
    assert not signed_in(attacker)
    # The account itself is not locked: its owner, elsewhere, signs in.
    owner = from_address("203.0.113.7")
    assert login(owner, user.email, PASSWORD).status_code == 303
    assert signed_in(owner)


@pytest.mark.usefixtures("low_address_limit")
@pytest.mark.parametrize("link", ["/password/reset/", "/invite/"])
def test_guessing_one_time_links_is_limited_per_address(from_address: Browser, link: str) -> None:
    attacker = from_address("198.51.100.30")
    form = token(attacker)
    fields = {"password": PASSWORD, "password_confirm": PASSWORD, "display_name": "Penebak"}
    statuses = [
        attacker.post(
            link + secrets.token_urlsafe(32), data={"csrf_token": form, **fields}
        ).status_code
        for _ in range(6)
    ]

    assert statuses == [404] * 5 + [429]


# --- across processes ---------------------------------------------------------------------


def browser(server: AppProcess, address: str) -> httpx.Client:
    """A browser on its own loopback address (127.0.0.x), so each counts as another place."""
    client = httpx.Client(
        base_url=server.url,
        follow_redirects=False,
        timeout=20,
        transport=httpx.HTTPTransport(local_address=address),
    )
    client.cookies.set("lang", "en")
    return client


def attempt(client: httpx.Client, email: str, password: str) -> httpx.Response:
    data = {"email": email, "password": password, "csrf_token": form_token(client, "/login")}
    return client.post("/login", data=data)


def test_the_sign_in_limits_hold_across_two_processes(
    engine: sa.Engine, make_user: MakeUser
) -> None:
    """Two processes count in one Redis: failures on one lock the account on the other, for
    its owner too, and an address's attempts on both add up, while anyone else signs in."""
    owner = make_user("rina@contoh.id", password=PASSWORD)
    other = make_user("budi@contoh.id", password=PASSWORD)
    env = {
        "PLEDGE_RATELIMIT_LOGIN": "6/minute",
        "PLEDGE_RATELIMIT_LOGIN_EMAIL": "3/minute",
        "PLEDGE_PUBLIC_URL": "http://pledge.test",
    }
    with ExitStack() as stack:
        env["PLEDGE_RATELIMIT_STORAGE"] = stack.enter_context(running_redis()).url
        with ThreadPoolExecutor(2) as pool:
            starting = [pool.submit(stack.enter_context, app_process(**env)) for _ in range(2)]
            first, second = (future.result() for future in starting)
        attacker = {
            server.url: stack.enter_context(browser(server, "127.0.0.2"))
            for server in (first, second)
        }

        # Per account: three failures through the first process lock it on the second,
        # for its owner with the right password, from another address.
        for _ in range(3):
            assert attempt(attacker[first.url], owner.email, WRONG).status_code == 422
        with browser(second, "127.0.0.3") as owners:
            assert refusal(attempt(owners, owner.email, PASSWORD)) == (429, ACCOUNT_MESSAGE)
            assert owners.get("/account").status_code == 303  # not signed in

        # Per address: six posts a minute on both processes together (three so far); the
        # seventh is refused, the right password for an untouched account included.
        for n, server in enumerate((second, first, second)):
            reply = attempt(attacker[server.url], f"orang{n}@contoh.id", WRONG)
            assert reply.status_code == 422
        refused = attempt(attacker[first.url], other.email, PASSWORD)
        assert refusal(refused) == (429, ADDRESS_MESSAGE)
        assert attacker[first.url].get("/account").status_code == 303

        # Anyone else, from elsewhere, signs in as usual on either process.
        with browser(first, "127.0.0.4") as someone:
            assert attempt(someone, other.email, PASSWORD).status_code == 303
            assert someone.get("/account").status_code == 200
