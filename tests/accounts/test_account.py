"""The account page: email, memberships, display name, password."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from pledge.accounts import service as accounts
from pledge.accounts.models import Organization, Role
from pledge.security import verify_password
from tests.support.db import audit_actions, fresh
from tests.support.factories import MakeUser
from tests.support.pages import csrf_token, errors_of, html, post_form
from tests.support.people import PASSWORD, login, sign_in

MakeOrg = Callable[..., Organization]
NEW_PASSWORD = "kata-sandi-yang-baru"


def change_password(client: TestClient, current: str = PASSWORD, **fields: str):
    values = {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}
    values.update(fields)
    return post_form(client, "/account", "/account/password", current_password=current, **values)


def test_an_anonymous_visitor_is_sent_to_sign_in(client: TestClient):
    response = client.get("/account")

    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Faccount"


def test_the_page_shows_the_email_and_every_membership(
    client: TestClient, session: Session, make_user: MakeUser, make_org: MakeOrg
):
    first = make_org(name="Cek Fakta Muda")
    second = make_org(name="Jaringan Pemilih Muda")
    user = make_user("rina@example.org", org=first, role="moderator")
    accounts.add_member(session, user=user, org=second, role=Role.ADMIN)
    session.commit()
    sign_in(client, user)

    response = client.get("/account")

    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    soup = html(response)
    assert soup.select_one("dd.email").get_text(strip=True) == "rina@example.org"
    rows = [li.get_text(" ", strip=True) for li in soup.select("ul.memberships li")]
    assert rows == ["Cek Fakta Muda · Moderator", "Jaringan Pemilih Muda · Admin"]
    links = [a["href"] for a in soup.select("ul.memberships a")]
    assert links == [f"/dashboard/{first.slug}", f"/dashboard/{second.slug}"]
    # The header shows who is signed in, with the way out.
    assert soup.select_one("header form[action='/logout']") is not None


def test_changing_the_display_name(client: TestClient, session: Session, make_user: MakeUser):
    user = make_user()
    sign_in(client, user)

    response = post_form(client, "/account", "/account/name", display_name="  Rina   Putri ")

    assert response.status_code == 303
    assert response.headers["location"] == "/account?done=name"
    fresh(session)
    assert user.display_name == "Rina Putri"
    page = html(client.get(response.headers["location"]))
    assert page.select_one("input[name=display_name]")["value"] == "Rina Putri"
    assert page.select_one("p.notice[role=status]") is not None


@pytest.mark.parametrize(
    ("name", "message"),
    [("   ", "Enter your name."), ("x" * 81, "Use at most 80 characters for your name.")],
)
def test_a_bad_display_name_is_refused(
    client: TestClient, session: Session, make_user: MakeUser, name: str, message: str
):
    user = make_user(name="Nama Lama")
    sign_in(client, user)

    response = post_form(client, "/account", "/account/name", display_name=name)

    assert response.status_code == 422
    assert errors_of(response) == {"display_name": message}
    fresh(session)
    assert user.display_name == "Nama Lama"


def test_changing_the_password_keeps_this_session_and_ends_the_others(
    client: TestClient,
    other_client: TestClient,
    anonymous: TestClient,
    session: Session,
    make_user: MakeUser,
):
    user = make_user()
    sign_in(client, user)
    sign_in(other_client, user)

    response = change_password(client)

    assert response.status_code == 303
    assert response.headers["location"] == "/account?done=password"
    assert client.get("/account").status_code == 200
    assert other_client.get("/account").status_code == 303
    fresh(session)
    assert verify_password(user.password_hash, NEW_PASSWORD)
    assert login(anonymous, user.email, NEW_PASSWORD).status_code == 303
    assert audit_actions(session, f"user:{user.id}") == ["user.password_change"]


@pytest.mark.parametrize(
    ("current", "fields", "errors"),
    [
        ("bukan-sandi-saya", {}, {"current_password": "That is not your current password."}),
        (
            PASSWORD,
            {"password_confirm": "yang-lain-sama-sekali"},
            {"password_confirm": "The two passwords are not the same."},
        ),
        (
            PASSWORD,
            {"password": "pendek", "password_confirm": "pendek"},
            {"password": "Use at least 10 characters for your password."},
        ),
    ],
)
def test_a_refused_password_change_changes_nothing(
    client: TestClient,
    other_client: TestClient,
    session: Session,
    make_user: MakeUser,
    current: str,
    fields: dict[str, str],
    errors: dict[str, str],
):
    user = make_user()
    sign_in(client, user)
    sign_in(other_client, user)

    response = change_password(client, current, **fields)

    assert response.status_code == 422
    assert errors_of(response) == errors
    assert other_client.get("/account").status_code == 200
    fresh(session)
    assert verify_password(user.password_hash, PASSWORD)


def test_guessing_the_current_password_is_limited(client: TestClient, make_user: MakeUser):
    """Ten guesses in a quarter of an hour, as many as one address has at the sign-in form;
    then even the right one is refused."""
    user = make_user()
    sign_in(client, user)
    for _ in range(10):
        assert change_password(client, "tebakan-yang-salah").status_code == 422

    assert change_password(client).status_code == 429


def test_account_forms_need_the_csrf_token(client: TestClient, make_user: MakeUser):
    sign_in(client, make_user())

    assert client.post("/account/name", data={"display_name": "X"}).status_code == 403
    assert (
        client.post(
            "/account/password",
            data={
                "current_password": PASSWORD,
                "password": NEW_PASSWORD,
                "password_confirm": NEW_PASSWORD,
            },
        ).status_code
        == 403
    )


def test_account_forms_need_a_signed_in_user(client: TestClient, anonymous: TestClient):
    token = csrf_token(anonymous, "/login")

    response = anonymous.post("/account/name", data={"csrf_token": token, "display_name": "X"})

    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")
