"""Password reset: the same answer for every address, a one-hour one-time link, sessions end."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from pledge.accounts import service as accounts
from pledge.accounts.models import TokenKind, UserToken
from pledge.db import utcnow
from pledge.security import hash_token, verify_password
from tests.support.db import audit_actions, fresh, link_in, outbox
from tests.support.factories import MakeUser
from tests.support.pages import errors_of, html, post_form
from tests.support.people import PASSWORD, login, sign_in

NEW_PASSWORD = "kata-sandi-pengganti"


def ask(client: TestClient, email: str):
    return post_form(client, "/password/forgot", "/password/forgot", email=email)


def reset_link(client: TestClient, session: Session, email: str) -> str:
    assert ask(client, email).status_code == 303
    return link_in(outbox(session)[-1], "/password/reset/")


def choose(client: TestClient, path: str, password: str = NEW_PASSWORD, confirm: str | None = None):
    return post_form(
        client,
        path,
        path,
        password=password,
        password_confirm=password if confirm is None else confirm,
    )


def test_the_forgot_page_has_a_labelled_email_field(client: TestClient):
    response = client.get("/password/forgot")

    assert response.status_code == 200
    soup = html(response)
    field = soup.select_one("form input[name=email]")
    assert soup.select_one(f"label[for={field['id']}]") is not None


def test_known_and_unknown_addresses_get_the_same_answer(
    client: TestClient, anonymous: TestClient, session: Session, make_user: MakeUser
):
    make_user("rina@example.org")

    known = ask(client, "rina@example.org")
    unknown = ask(anonymous, "tidak-ada@example.org")

    assert known.status_code == unknown.status_code == 303
    assert known.headers["location"] == unknown.headers["location"] == "/password/forgot/sent"
    known_page = html(client.get(known.headers["location"])).select_one("main")
    unknown_page = html(anonymous.get(unknown.headers["location"])).select_one("main")
    assert known_page.get_text() == unknown_page.get_text()
    assert [m.to for m in outbox(session)] == ["rina@example.org"]


def test_a_disabled_account_gets_no_link(client: TestClient, session: Session, make_user: MakeUser):
    make_user("keluar@example.org", active=False)

    assert ask(client, "keluar@example.org").status_code == 303
    assert outbox(session) == []


def test_the_email_carries_a_one_hour_link(
    client: TestClient, session: Session, make_user: MakeUser
):
    user = make_user("rina@example.org")

    path = reset_link(client, session, "RINA@example.org")

    secret = path.rsplit("/", 1)[1]
    row = session.exec(select(UserToken).where(UserToken.token_hash == hash_token(secret))).one()
    assert row.kind == TokenKind.RESET and row.user_id == user.id
    assert timedelta(minutes=59) < row.expires_at - utcnow() <= timedelta(hours=1)
    [message] = outbox(session)
    assert message.body.count(f"http://testserver{path}") == 1
    assert message.sent_at is not None  # delivered after the response, to the log here


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("", "Enter your email address."),
        ("bukan-alamat", "That email address does not look right. Check it and try again."),
    ],
)
def test_a_malformed_address_is_refused_beside_the_field(
    client: TestClient, email: str, message: str
):
    response = ask(client, email)

    assert response.status_code == 422
    assert errors_of(response) == {"email": message}


def test_reset_requests_for_one_address_are_limited(
    client: TestClient, anonymous: TestClient, session: Session, make_user: MakeUser
):
    make_user("rina@example.org")
    for _ in range(5):
        assert ask(client, "rina@example.org").status_code == 303

    assert ask(anonymous, "rina@example.org").status_code == 429
    assert ask(anonymous, "tidak-ada@example.org").status_code == 303
    assert len(outbox(session)) == 5


def test_reset_requests_from_one_address_are_limited(client: TestClient):
    for n in range(20):
        assert ask(client, f"orang{n}@example.org").status_code == 303

    assert ask(client, "orang-lagi@example.org").status_code == 429


def test_choosing_a_new_password_signs_in_and_ends_the_other_sessions(
    client: TestClient,
    other_client: TestClient,
    anonymous: TestClient,
    session: Session,
    make_user: MakeUser,
):
    user = make_user("rina@example.org")
    sign_in(other_client, user)
    path = reset_link(anonymous, session, "rina@example.org")

    form = client.get(path)
    response = choose(client, path)

    assert form.status_code == 200
    assert form.headers["referrer-policy"] == "no-referrer"
    assert html(form).select_one("p.lead").get_text(strip=True).endswith("rina@example.org.")
    assert response.status_code == 303
    assert response.headers["location"] == "/account?done=reset"
    assert client.get("/account").status_code == 200
    assert other_client.get("/account").status_code == 303
    fresh(session)
    assert verify_password(user.password_hash, NEW_PASSWORD)
    assert login(anonymous, "rina@example.org", PASSWORD).status_code == 422
    assert audit_actions(session, f"user:{user.id}") == ["user.password_reset"]


def test_a_used_reset_link_is_gone(
    client: TestClient, anonymous: TestClient, session: Session, make_user: MakeUser
):
    make_user("rina@example.org")
    path = reset_link(anonymous, session, "rina@example.org")
    assert choose(client, path).status_code == 303

    page = anonymous.get(path)
    replay = post_form(
        client,
        "/account",
        path,
        password="sandi-ketiga-panjang",
        password_confirm="sandi-ketiga-panjang",
    )

    assert page.status_code == replay.status_code == 410
    assert html(page).select_one("a[href='/password/forgot']") is not None
    user = accounts.get_by_email(fresh(session), "rina@example.org")
    assert user is not None and verify_password(user.password_hash, NEW_PASSWORD)


def test_an_expired_reset_link_is_gone(client: TestClient, session: Session, make_user: MakeUser):
    make_user("rina@example.org")
    path = reset_link(client, session, "rina@example.org")
    token = html(client.get(path)).select_one("input[name=csrf_token]")["value"]
    row = session.exec(
        select(UserToken).where(UserToken.token_hash == hash_token(path.rsplit("/", 1)[1]))
    ).one()
    row.expires_at = utcnow() - timedelta(minutes=1)
    session.add(row)
    session.commit()

    page = client.get(path)
    posted = client.post(
        path,
        data={"csrf_token": token, "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD},
    )

    assert page.status_code == posted.status_code == 410
    assert html(page).select_one("p.detail").get_text(strip=True) == "This link has expired."
    user = accounts.get_by_email(fresh(session), "rina@example.org")
    assert user is not None and verify_password(user.password_hash, PASSWORD)


def test_an_unknown_reset_link_is_not_found(client: TestClient):
    response = client.get("/password/reset/sama-sekali-tidak-ada-tautan-ini")

    assert response.status_code == 404


def test_asking_again_makes_the_earlier_link_useless(
    client: TestClient, session: Session, make_user: MakeUser
):
    make_user("rina@example.org")
    first = reset_link(client, session, "rina@example.org")
    second = reset_link(client, session, "rina@example.org")

    assert client.get(first).status_code == 404
    assert client.get(second).status_code == 200


@pytest.mark.parametrize(
    ("password", "confirm", "field", "message"),
    [
        (
            NEW_PASSWORD,
            "kata-sandi-lainnya",
            "password_confirm",
            "The two passwords are not the same.",
        ),
        ("pendek", "pendek", "password", "Use at least 10 characters for your password."),
        ("x" * 201, "x" * 201, "password", "Use at most 200 characters for your password."),
    ],
)
def test_a_bad_new_password_is_refused_and_the_link_still_works(
    client: TestClient,
    session: Session,
    make_user: MakeUser,
    password: str,
    confirm: str,
    field: str,
    message: str,
):
    user = make_user("rina@example.org")
    path = reset_link(client, session, "rina@example.org")

    response = choose(client, path, password, confirm)

    assert response.status_code == 422
    assert errors_of(response) == {field: message}
    fresh(session)
    assert verify_password(user.password_hash, PASSWORD)
    assert client.get("/account").status_code == 303
    assert choose(client, path).status_code == 303


def test_a_reset_for_an_account_disabled_since_is_refused(
    client: TestClient, session: Session, make_user: MakeUser
):
    user = make_user("rina@example.org")
    path = reset_link(client, session, "rina@example.org")
    user.is_active = False
    session.add(user)
    session.commit()

    response = choose(client, path)

    assert response.status_code == 410
    fresh(session)
    assert verify_password(user.password_hash, PASSWORD)
