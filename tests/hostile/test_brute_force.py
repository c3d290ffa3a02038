"""Guessing passwords and one-time links: after the allowed failures, sign-in answers 429 with
a clear message even for the right password, per account from one address, per account from
strangers' networks (never the owner's), and per address over any number of accounts; the
owner is emailed about failures from elsewhere; the limits hold across two server processes
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
from sqlmodel import Session

from pledge.config import get_settings
from pledge.mail import outbox_message_table
from pledge.web.session import SESSION_COOKIE
from tests.support.appserver import AppProcess, app_process, form_token
from tests.support.db import fresh
from tests.support.factories import MakeUser
from tests.support.mailbox import text_of
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


def test_an_attackers_address_is_throttled_while_the_owner_signs_in_from_theirs(
    make_user: MakeUser, from_address: Browser
) -> None:
    """The limit per account counts each address (an IPv6 /64) apart: ten wrong passwords
    from one address throttle that address for the account, the right password included,
    while the owner, from their own address, signs in."""
    user = make_user("rina@contoh.id", password=PASSWORD)
    limit = int(get_settings().ratelimit_login_email.split("/")[0])
    attacker = from_address("198.51.100.1")
    for _ in range(limit):
        assert login(attacker, user.email, WRONG).status_code == 422

    owner = from_address("203.0.113.7")
    assert login(owner, user.email, PASSWORD).status_code == 303
    assert signed_in(owner)

    refused = login(attacker, user.email, PASSWORD)
    assert refusal(refused) == (429, ACCOUNT_MESSAGE)
    assert int(refused.headers["retry-after"]) > 0
    assert not signed_in(attacker)
    # The email as typed another way is the same account; another address of the same IPv6
    # /64 is the same client.
    assert refusal(login(attacker, "  RINA@Contoh.ID ", PASSWORD)) == (429, ACCOUNT_MESSAGE)
    v6 = from_address("2001:db8:7:1::1")
    for _ in range(limit):
        assert login(v6, user.email, WRONG).status_code == 422
    same_64 = from_address("2001:db8:7:1::beef")
    assert refusal(login(same_64, user.email, PASSWORD)) == (429, ACCOUNT_MESSAGE)


@pytest.fixture
def low_account_ceiling(use_settings: Callable[..., object]) -> None:
    """Five attempts an hour per account from strangers' networks, as an operator could set."""
    use_settings(ratelimit_login_account="5/hour")


@pytest.mark.usefixtures("low_account_ceiling")
def test_an_account_guessed_from_many_addresses_is_closed_to_strangers_but_not_its_owner(
    make_user: MakeUser, from_address: Browser
) -> None:
    """Guesses from many addresses, each under its own limit, reach the account's ceiling:
    from then on a network the owner has not signed in from lately is refused, the right
    password included; the network the owner signed in from before still gets in."""
    user = make_user("rina@contoh.id", password=PASSWORD)
    owner = from_address("203.0.113.7")
    assert login(owner, user.email, PASSWORD).status_code == 303  # one of the five
    for n in range(4):
        assert login(from_address(f"198.51.100.{n + 1}"), user.email, WRONG).status_code == 422

    stranger = from_address("192.0.2.50")
    assert refusal(login(stranger, user.email, PASSWORD)) == (429, ACCOUNT_MESSAGE)
    assert not signed_in(stranger)

    again = from_address("203.0.113.7")  # the owner's network, another browser
    assert login(again, user.email, PASSWORD).status_code == 303
    assert signed_in(again)
    # The owner's network spends nothing of the ceiling, and another account has its own.
    make_user("budi@contoh.id", password=PASSWORD)
    assert login(stranger, "budi@contoh.id", PASSWORD).status_code == 303


def outbox_to(session: Session, address: str) -> list[tuple[str, str]]:
    fresh(session)
    rows = session.execute(
        sa.select(
            outbox_message_table.c.id, outbox_message_table.c.subject, outbox_message_table.c.body
        )
        .where(outbox_message_table.c.to == address)
        .order_by(outbox_message_table.c.id)
    ).all()
    fresh(session)
    return [(subject, text_of(message_id, body)) for message_id, subject, body in rows]


ALERT = {
    "en": "Failed sign-ins to your account on Suara Kita",
    "id": "Percobaan masuk yang gagal ke akunmu di Suara Kita",
}


@pytest.mark.parametrize("lang", ["id", "en"])
def test_many_failures_from_elsewhere_email_the_owner_once_in_their_language(
    make_user: MakeUser, from_address: Browser, session: Session, lang: str
) -> None:
    user = make_user("rina@contoh.id", password=PASSWORD)
    owner = from_address("203.0.113.7")
    owner.cookies.set("lang", lang)
    assert login(owner, user.email, PASSWORD).status_code == 303
    limit = int(get_settings().ratelimit_login_email.split("/")[0])
    # Wrong passwords from the owner's own network are the owner's: no alert.
    for _ in range(limit - 1):
        assert login(from_address("203.0.113.7"), user.email, WRONG).status_code == 422
    attacker = from_address("198.51.100.1")  # in English
    for _ in range(limit - 1):
        assert login(attacker, user.email, WRONG).status_code == 422
    assert outbox_to(session, user.email) == []

    assert login(attacker, user.email, WRONG).status_code == 422

    alerts = outbox_to(session, user.email)
    assert [subject for subject, _ in alerts] == [ALERT[lang]]
    assert user.email in alerts[0][1]
    # More failures from more networks within the hour: no second email.
    for n in range(limit):
        assert login(from_address(f"192.0.2.{n + 1}"), user.email, WRONG).status_code == 422
    assert len(outbox_to(session, user.email)) == 1


def test_failures_for_an_unknown_email_alert_nobody(
    make_user: MakeUser, from_address: Browser, session: Session
) -> None:
    make_user("rina@contoh.id", password=PASSWORD)
    limit = int(get_settings().ratelimit_login_email.split("/")[0])
    for n in range(limit + 1):
        stranger = from_address(f"198.51.100.{n + 1}")
        assert login(stranger, "siapa@contoh.id", WRONG).status_code == 422
    assert outbox_to(session, "siapa@contoh.id") == []
    assert outbox_to(session, "rina@contoh.id") == []


@pytest.mark.usefixtures("low_account_ceiling")
def test_guesses_at_the_current_password_are_limited_and_spend_the_accounts_ceiling(
    make_user: MakeUser, from_address: Browser
) -> None:
    """Someone holding a stolen session who guesses at the account page's current password
    gets as many guesses as one address at the sign-in form; each wrong one spends the
    account's ceiling, which closes sign-in to strangers' networks, not to the owner's."""
    user = make_user("rina@contoh.id", password=PASSWORD)
    owner = from_address("203.0.113.7")
    assert login(owner, user.email, PASSWORD).status_code == 303
    thief = from_address("198.51.100.9")
    thief.cookies.set(SESSION_COOKIE, owner.cookies[SESSION_COOKIE])
    page = token(thief, "/account")
    limit = int(get_settings().ratelimit_login_email.split("/")[0])

    def guess() -> Any:
        return thief.post(
            "/account/password",
            data={
                "csrf_token": page,
                "current_password": WRONG,
                "password": "sandi-baru-si-pencuri",
                "password_confirm": "sandi-baru-si-pencuri",
            },
        )

    assert [guess().status_code for _ in range(limit)] == [422] * limit
    assert refusal(guess()) == (429, ACCOUNT_MESSAGE)

    stranger = from_address("192.0.2.50")
    assert refusal(login(stranger, user.email, PASSWORD)) == (429, ACCOUNT_MESSAGE)
    assert login(from_address("203.0.113.7"), user.email, PASSWORD).status_code == 303


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
    """Two processes count in one Redis: failures on one throttle that address for the
    account on the other, the owner's network they remember on both, and an address's
    attempts on both add up, while anyone else signs in."""
    owner = make_user("rina@contoh.id", password=PASSWORD)
    other = make_user("budi@contoh.id", password=PASSWORD)
    env = {
        "PLEDGE_RATELIMIT_LOGIN": "6/minute",
        "PLEDGE_RATELIMIT_LOGIN_EMAIL": "3/minute",
        "PLEDGE_RATELIMIT_LOGIN_ACCOUNT": "4/minute",
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
        # The owner signs in on the second process: one of the account's four.
        with browser(second, "127.0.0.3") as owners:
            assert attempt(owners, owner.email, PASSWORD).status_code == 303

        # Per account and address: three failures through the first process throttle that
        # address on the second, the right password included; they fill the account's
        # ceiling too, which the owner's network, remembered on the first, is spared.
        for _ in range(3):
            assert attempt(attacker[first.url], owner.email, WRONG).status_code == 422
        refused = attempt(attacker[second.url], owner.email, PASSWORD)
        assert refusal(refused) == (429, ACCOUNT_MESSAGE)
        with browser(first, "127.0.0.5") as stranger:
            assert refusal(attempt(stranger, owner.email, PASSWORD)) == (429, ACCOUNT_MESSAGE)
        with browser(first, "127.0.0.3") as owners:
            assert attempt(owners, owner.email, PASSWORD).status_code == 303
            assert owners.get("/account").status_code == 200

        # Per address: six posts a minute on both processes together (four so far); the
        # seventh is refused, the right password for an untouched account included.
        for n, server in enumerate((second, first)):
            reply = attempt(attacker[server.url], f"orang{n}@contoh.id", WRONG)
            assert reply.status_code == 422
        refused = attempt(attacker[first.url], other.email, PASSWORD)
        assert refusal(refused) == (429, ADDRESS_MESSAGE)
        assert attacker[first.url].get("/account").status_code == 303

        # Anyone else, from elsewhere, signs in as usual on either process.
        with browser(first, "127.0.0.4") as someone:
            assert attempt(someone, other.email, PASSWORD).status_code == 303
            assert someone.get("/account").status_code == 200
