"""Signing in and out: one message for every failure, local redirects only, limits, revocation."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from pledge.accounts import service as accounts
from pledge.accounts.models import Organization
from tests.support.factories import MakeUser
from tests.support.pages import csrf_token, errors_of, html, post_form
from tests.support.people import PASSWORD, login, sign_in

MakeOrg = Callable[..., Organization]
NO_MATCH = "That email and password do not match an account."


def alert(response) -> str:
    found = html(response).select_one("main .alert")
    return found.get_text(" ", strip=True) if found else ""


def test_signing_in_starts_a_session_and_goes_to_the_dashboard(
    client: TestClient, make_user: MakeUser
):
    user = make_user("rina@example.org")

    response = login(client, "  Rina@Example.org ", PASSWORD)

    assert response.status_code == 303
    assert response.headers["location"] == "/dashboard"
    account = client.get("/account")
    assert account.status_code == 200
    assert html(account).select_one("dd.email").get_text(strip=True) == user.email


def test_wrong_password_and_unknown_email_get_the_same_answer(
    client: TestClient, make_user: MakeUser
):
    make_user("rina@example.org")

    wrong_password = login(client, "rina@example.org", "bukan-kata-sandinya")
    unknown_email = login(client, "tidak-ada@example.org", "bukan-kata-sandinya")

    assert wrong_password.status_code == unknown_email.status_code == 422
    assert alert(wrong_password) == alert(unknown_email) == NO_MATCH
    assert client.get("/account").status_code == 303


def test_the_form_keeps_the_email_but_never_the_password(client: TestClient):
    response = login(client, "rina@example.org", "rahasia-sekali-123")

    soup = html(response)
    assert soup.select_one("input[name=email]")["value"] == "rina@example.org"
    assert soup.select_one("input[name=password]").get("value") in (None, "")
    assert "rahasia-sekali-123" not in response.text


def test_an_inactive_account_cannot_sign_in(client: TestClient, make_user: MakeUser):
    make_user("keluar@example.org", active=False)

    response = login(client, "keluar@example.org", PASSWORD)

    assert response.status_code == 422
    assert alert(response) == NO_MATCH
    assert client.get("/account").status_code == 303


def test_an_account_without_a_password_cannot_sign_in(client: TestClient, make_user: MakeUser):
    make_user("diundang@example.org", password=None)

    response = login(client, "diundang@example.org", "")

    assert response.status_code == 422
    assert alert(response) == NO_MATCH


@pytest.mark.parametrize(
    ("next_path", "expected"),
    [
        ("/account", "/account"),
        ("/dashboard/org-1/members?x=1", "/dashboard/org-1/members?x=1"),
        ("https://evil.example/", "/dashboard"),
        ("//evil.example/", "/dashboard"),
        ("/\\evil.example/", "/dashboard"),
        ("/\t/evil.example/", "/dashboard"),
        ("/\n/evil.example/", "/dashboard"),
        ("javascript:alert(1)", "/dashboard"),
    ],
)
def test_after_signing_in_only_a_path_on_this_site_is_followed(
    client: TestClient, make_user: MakeUser, next_path: str, expected: str
):
    user = make_user()

    response = login(client, user.email, PASSWORD, next=next_path)

    assert response.status_code == 303
    assert response.headers["location"] == expected


def test_the_login_page_carries_next_and_links_to_the_reset(client: TestClient):
    soup = html(client.get("/login?next=/account"))

    assert soup.select_one("input[name=next]")["value"] == "/account"
    assert soup.select_one("a[href='/password/forgot']") is not None


def test_a_signed_in_visitor_of_the_login_page_goes_on(client: TestClient, make_user: MakeUser):
    sign_in(client, make_user())

    response = client.get("/login?next=/account")

    assert response.status_code == 303
    assert response.headers["location"] == "/account"


def test_attempts_on_one_account_from_one_address_are_limited_in_every_browser(
    client: TestClient, other_client: TestClient, make_user: MakeUser
):
    """Ten failures from an address close the account to that address (both browsers are on
    the same one), the right password included; other addresses are in
    tests/hostile/test_brute_force.py."""
    user = make_user()
    for _ in range(10):
        assert login(client, user.email, "salah-salah-salah").status_code == 422

    response = login(other_client, user.email, PASSWORD)

    assert response.status_code == 429
    assert other_client.get("/account").status_code == 303


def test_signing_in_without_the_csrf_token_is_refused(client: TestClient, make_user: MakeUser):
    user = make_user()

    response = client.post("/login", data={"email": user.email, "password": PASSWORD})

    assert response.status_code == 403


def test_signing_out_ends_the_session(client: TestClient, make_user: MakeUser):
    sign_in(client, make_user())
    token = csrf_token(client, "/account")

    response = client.post("/logout", data={"csrf_token": token})

    assert response.status_code == 303
    assert response.headers["location"] == "/"
    assert client.get("/account").status_code == 303


def test_signing_out_needs_the_csrf_token(client: TestClient, make_user: MakeUser):
    sign_in(client, make_user())

    assert client.post("/logout", data={}).status_code == 403
    assert client.get("/account").status_code == 200


# --- sessions that end -------------------------------------------------------------------


def test_a_password_change_signs_out_the_other_sessions_but_not_this_one(
    client: TestClient, other_client: TestClient, make_user: MakeUser
):
    user = make_user()
    sign_in(client, user)
    sign_in(other_client, user)
    assert other_client.get("/account").status_code == 200

    response = post_form(
        client,
        "/account",
        "/account/password",
        current_password=PASSWORD,
        password="kata-sandi-baru-sekali",
        password_confirm="kata-sandi-baru-sekali",
    )

    assert response.status_code == 303
    assert client.get("/account").status_code == 200
    elsewhere = other_client.get("/account")
    assert elsewhere.status_code == 303
    assert elsewhere.headers["location"].startswith("/login")


def test_removal_from_the_organisation_signs_the_member_out(
    client: TestClient,
    other_client: TestClient,
    make_user: MakeUser,
    make_org: MakeOrg,
):
    org = make_org()
    admin = make_user(org=org, role="admin")
    moderator = make_user(org=org, role="moderator")
    sign_in(other_client, moderator)
    assert other_client.get("/account").status_code == 200
    sign_in(client, admin)

    response = post_form(
        client,
        f"/dashboard/{org.slug}/members",
        f"/dashboard/{org.slug}/members/{moderator.id}/remove",
    )

    assert response.status_code == 303
    assert other_client.get("/account").status_code == 303
    assert client.get("/account").status_code == 200


def test_a_session_of_a_deactivated_user_ends(
    client: TestClient, make_user: MakeUser, session: Session
):
    user = make_user()
    sign_in(client, user)
    user.is_active = False
    session.add(user)
    session.commit()

    assert client.get("/account").status_code == 303


def test_the_service_refuses_a_cookie_from_an_older_session_version(
    session: Session, make_user: MakeUser
):
    user = make_user()
    version = user.session_version
    accounts.end_sessions(session, user=user)
    session.commit()

    sid = "s" * 22
    assert accounts.session_user(session, user_id=user.id, version=version, session_id=sid) is None
    current = user.session_version
    assert accounts.session_user(session, user_id=user.id, version=current, session_id=sid)


def test_a_login_failure_shows_no_field_specific_hint(client: TestClient, make_user: MakeUser):
    make_user("rina@example.org")

    response = login(client, "rina@example.org", "salah-salah-salah")

    # The message sits in the alert above the form, never as "wrong password" beside a field.
    assert errors_of(response) == {}
