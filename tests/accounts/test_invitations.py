"""Invitations: the one-time link, its email, and joining an organisation through it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from pledge.accounts import service as accounts
from pledge.accounts.models import Organization, Role, TokenKind, User, UserToken
from pledge.db import utcnow
from pledge.errors import Conflict, Invalid, NotFound
from pledge.security import hash_token, verify_password
from tests.support.db import audit_actions, fresh, outbox
from tests.support.factories import MakeUser
from tests.support.pages import errors_of, html, post_form
from tests.support.people import PASSWORD, login, sign_in

MakeOrg = Callable[..., Organization]
NEW_PASSWORD = "sandi-baru-yang-panjang"


def invite(
    session: Session,
    org: Organization,
    email: str = "baru@example.org",
    role: Role = Role.MODERATOR,
    by: User | None = None,
) -> str:
    secret = accounts.invite(
        session, org=org, email=email, role=role, invited_by=by, base_url="https://suara.example"
    )
    session.commit()
    return secret


def token_row(session: Session, secret: str) -> UserToken:
    fresh(session)
    row = session.exec(select(UserToken).where(UserToken.token_hash == hash_token(secret))).one()
    return row


def accept(client: TestClient, secret: str, form_page: str = "", **fields: str):
    """Post the invitation form; ``form_page`` is where the CSRF token comes from when the
    invitation page itself shows no form."""
    path = f"/invite/{secret}"
    values = {
        "display_name": "Dewi Lestari",
        "password": NEW_PASSWORD,
        "password_confirm": NEW_PASSWORD,
    }
    values.update(fields)
    return post_form(client, form_page or path, path, **values)


# --- the service -------------------------------------------------------------------------


def test_an_invitation_stores_only_a_hash_and_queues_the_link(
    session: Session, make_org: MakeOrg, make_user: MakeUser
):
    org = make_org(name="Cek Fakta Muda")
    admin = make_user(org=org, role="admin", name="Rina")

    secret = invite(session, org, email=" Baru@Example.ORG ", by=admin)

    row = token_row(session, secret)
    assert row.kind == TokenKind.INVITE
    assert row.token_hash == hash_token(secret) != secret
    assert row.email == "baru@example.org"
    assert row.org_id == org.id and row.role == Role.MODERATOR
    assert row.created_by_id == admin.id
    assert row.used_at is None
    lifetime = row.expires_at - utcnow()
    assert timedelta(days=6, hours=23) < lifetime <= timedelta(days=7)
    [message] = outbox(session)
    assert message.to == "baru@example.org"
    assert "Cek Fakta Muda" in message.subject
    assert f"https://suara.example/invite/{secret}\n" in message.body
    assert "Rina" in message.body
    assert audit_actions(session, f"org:{org.id}") == ["member.invite"]


def test_inviting_a_member_again_is_a_conflict(
    session: Session, make_org: MakeOrg, make_user: MakeUser
):
    org = make_org()
    member = make_user(org=org, role="moderator")

    with pytest.raises(Conflict):
        invite(session, org, email=member.email.upper())
    session.rollback()
    assert outbox(session) == []


def test_a_member_of_another_organisation_can_be_invited(
    session: Session, make_org: MakeOrg, make_user: MakeUser
):
    member = make_user(org=make_org(), role="admin")

    assert invite(session, make_org(), email=member.email)


@pytest.mark.parametrize("email", ["", "bukan-email", "a@b", "rina@@example.org"])
def test_an_invalid_email_is_refused(session: Session, make_org: MakeOrg, email: str):
    with pytest.raises(Invalid) as caught:
        invite(session, make_org(), email=email)
    assert set(caught.value.errors) == {"email"}


def test_a_new_invitation_replaces_the_earlier_one(session: Session, make_org: MakeOrg):
    org = make_org()
    first = invite(session, org)
    second = invite(session, org, role=Role.ADMIN)

    with pytest.raises(NotFound):
        accounts.get_invitation(session, secret=first)
    assert accounts.get_invitation(session, secret=second).role == Role.ADMIN


# --- joining as a new person -------------------------------------------------------------


def test_the_invitation_page_shows_the_organisation_the_role_and_the_form(
    client: TestClient, session: Session, make_org: MakeOrg
):
    org = make_org(name="Perempuan Bersuara")
    secret = invite(session, org, role=Role.ADMIN)

    response = client.get(f"/invite/{secret}")

    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "no-referrer"
    soup = html(response)
    assert soup.select_one("dd.org").get_text(strip=True) == "Perempuan Bersuara"
    assert soup.select_one("dd.role").get_text(strip=True) == "Admin"
    assert soup.select_one("dd.email").get_text(strip=True) == "baru@example.org"
    form = soup.select_one("form#accept-new")
    for name in ("display_name", "password", "password_confirm"):
        field = form.select_one(f"input[name={name}]")
        assert soup.select_one(f"label[for={field['id']}]") is not None


def test_accepting_creates_the_account_joins_and_signs_in(
    client: TestClient, session: Session, make_org: MakeOrg
):
    org = make_org()
    secret = invite(session, org, role=Role.MODERATOR)

    response = accept(client, secret)

    assert response.status_code == 303
    assert response.headers["location"] == f"/dashboard/{org.slug}"
    user = accounts.get_by_email(fresh(session), "baru@example.org")
    assert user is not None
    assert user.display_name == "Dewi Lestari"
    assert verify_password(user.password_hash, NEW_PASSWORD)
    assert (
        accounts.role_in(fresh(session), user_id=user.id or 0, org_id=org.id or 0) == Role.MODERATOR
    )
    assert token_row(session, secret).used_at is not None
    account = client.get("/account")
    assert account.status_code == 200
    assert html(account).select_one("dd.email").get_text(strip=True) == "baru@example.org"
    assert "member.join" in audit_actions(session, f"org:{org.id}")


def test_the_new_password_works_for_signing_in(
    client: TestClient, anonymous: TestClient, session: Session, make_org: MakeOrg
):
    secret = invite(session, make_org())
    accept(client, secret)

    assert login(anonymous, "baru@example.org", NEW_PASSWORD).status_code == 303


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"display_name": "  "}, "display_name", "Enter your name."),
        (
            {"password": "pendek", "password_confirm": "pendek"},
            "password",
            "Use at least 10 characters for your password.",
        ),
        (
            {"password_confirm": "sandi-yang-lain-sekali"},
            "password_confirm",
            "The two passwords are not the same.",
        ),
    ],
)
def test_bad_input_keeps_the_link_usable_and_says_what_to_fix(
    client: TestClient,
    session: Session,
    make_org: MakeOrg,
    fields: dict[str, str],
    field: str,
    message: str,
):
    secret = invite(session, make_org())

    response = accept(client, secret, **fields)

    assert response.status_code == 422
    assert errors_of(response)[field] == message
    assert token_row(session, secret).used_at is None
    assert accounts.get_by_email(fresh(session), "baru@example.org") is None
    assert client.get("/account").status_code == 303
    assert accept(client, secret).status_code == 303


def test_the_name_typed_is_kept_after_an_error(
    client: TestClient, session: Session, make_org: MakeOrg
):
    secret = invite(session, make_org())

    response = accept(client, secret, display_name="Dewi", password="pendek")

    assert html(response).select_one("input[name=display_name]")["value"] == "Dewi"
    assert html(response).select_one("input[name=password]").get("value") in (None, "")


# --- links that do not work --------------------------------------------------------------


def test_a_used_link_cannot_be_replayed(
    client: TestClient, anonymous: TestClient, session: Session, make_org: MakeOrg
):
    org = make_org()
    secret = invite(session, org)
    assert accept(client, secret).status_code == 303
    token = html(client.get("/account")).select_one("input[name=csrf_token]")["value"]

    replay = client.post(
        f"/invite/{secret}",
        data={
            "csrf_token": token,
            "display_name": "Penyusup",
            "password": "sandi-penyusup-panjang",
            "password_confirm": "sandi-penyusup-panjang",
        },
    )
    page = anonymous.get(f"/invite/{secret}")

    assert replay.status_code == page.status_code == 410
    assert "used already" in html(page).select_one("p.detail").get_text()
    user = accounts.get_by_email(fresh(session), "baru@example.org")
    assert user is not None and verify_password(user.password_hash, NEW_PASSWORD)
    assert user.display_name == "Dewi Lestari"


def test_an_expired_link_is_gone(client: TestClient, session: Session, make_org: MakeOrg):
    secret = invite(session, make_org())
    row = token_row(session, secret)
    row.expires_at = utcnow() - timedelta(seconds=1)
    session.add(row)
    session.commit()

    page = client.get(f"/invite/{secret}")
    posted = accept(client, secret) if page.status_code == 200 else None

    assert page.status_code == 410
    assert posted is None
    assert html(page).select_one("p.detail").get_text(strip=True) == "This link has expired."
    assert accounts.get_by_email(fresh(session), "baru@example.org") is None


def test_posting_to_an_expired_link_is_refused(
    client: TestClient, session: Session, make_org: MakeOrg
):
    secret = invite(session, make_org())
    token = html(client.get(f"/invite/{secret}")).select_one("input[name=csrf_token]")["value"]
    row = token_row(session, secret)
    row.expires_at = utcnow() - timedelta(seconds=1)
    session.add(row)
    session.commit()

    response = client.post(
        f"/invite/{secret}",
        data={
            "csrf_token": token,
            "display_name": "Dewi",
            "password": NEW_PASSWORD,
            "password_confirm": NEW_PASSWORD,
        },
    )

    assert response.status_code == 410
    assert accounts.get_by_email(fresh(session), "baru@example.org") is None


@pytest.mark.parametrize("secret", ["tidak-ada-tautan-seperti-ini-sama-sekali", "x", "a" * 300])
def test_an_unknown_link_is_not_found(client: TestClient, secret: str):
    response = client.get(f"/invite/{secret}")

    assert response.status_code == 404
    assert html(response).select_one("h1").get_text(strip=True) == "Link not found"


def test_a_reset_link_does_not_open_an_invitation(
    client: TestClient, session: Session, make_user: MakeUser
):
    make_user("rina@example.org")
    accounts.request_password_reset(session, email="rina@example.org", base_url="http://x")
    [message] = outbox(session)
    secret = message.body.split("/password/reset/")[1].split()[0]

    assert client.get(f"/invite/{secret}").status_code == 404


# --- joining with an account that exists -------------------------------------------------


def test_an_existing_account_must_sign_in_to_accept(
    client: TestClient, session: Session, make_org: MakeOrg, make_user: MakeUser
):
    org = make_org()
    user = make_user("rina@example.org", org=make_org(), role="admin")
    secret = invite(session, org, email="rina@example.org")

    page = client.get(f"/invite/{secret}")
    refused = accept(
        client,
        secret,
        form_page="/login",
        password="ambil-alih-akun-orang",
        password_confirm="ambil-alih-akun-orang",
    )

    soup = html(page)
    assert soup.select_one("form#accept-new") is None
    assert soup.select_one("#sign-in-first") is not None
    assert soup.select_one("a.button")["href"] == f"/login?next=/invite/{secret}"
    assert refused.status_code == 403
    fresh(session)
    assert verify_password(user.password_hash, PASSWORD)
    assert accounts.role_in(fresh(session), user_id=user.id or 0, org_id=org.id or 0) is None


def test_signed_in_as_the_invited_account_one_click_accepts(
    client: TestClient, session: Session, make_org: MakeOrg, make_user: MakeUser
):
    org = make_org()
    user = make_user("rina@example.org", org=make_org(), role="admin")
    secret = invite(session, org, email="rina@example.org", role=Role.ADMIN)
    login(client, "rina@example.org", next=f"/invite/{secret}")

    page = client.get(f"/invite/{secret}")
    response = post_form(client, f"/invite/{secret}", f"/invite/{secret}")

    assert html(page).select_one("form#accept-existing button") is not None
    assert response.status_code == 303
    assert response.headers["location"] == f"/dashboard/{org.slug}"
    assert accounts.role_in(fresh(session), user_id=user.id or 0, org_id=org.id or 0) == Role.ADMIN
    fresh(session)
    assert verify_password(user.password_hash, PASSWORD)
    assert client.get("/account").status_code == 200


def test_signing_in_from_the_invitation_comes_back_to_it(
    client: TestClient, session: Session, make_org: MakeOrg, make_user: MakeUser
):
    make_user("rina@example.org")
    secret = invite(session, make_org(), email="rina@example.org")

    response = login(client, "rina@example.org", next=f"/invite/{secret}")

    assert response.headers["location"] == f"/invite/{secret}"


def test_signed_in_as_someone_else_the_invitation_is_refused(
    client: TestClient, session: Session, make_org: MakeOrg, make_user: MakeUser
):
    org = make_org()
    invited = make_user("rina@example.org")
    sign_in(client, make_user("orang-lain@example.org"))
    secret = invite(session, org, email="rina@example.org")

    page = client.get(f"/invite/{secret}")
    response = accept(client, secret, form_page="/account")

    assert html(page).select_one("#other-account") is not None
    assert response.status_code == 403
    assert accounts.role_in(fresh(session), user_id=invited.id or 0, org_id=org.id or 0) is None
    assert token_row(session, secret).used_at is None


def test_an_account_without_a_password_sets_one_through_the_link(
    client: TestClient, session: Session, make_org: MakeOrg, make_user: MakeUser
):
    org = make_org()
    user = make_user("rina@example.org", password=None)
    secret = invite(session, org, email="rina@example.org")

    response = accept(client, secret)

    assert response.status_code == 303
    fresh(session)
    assert verify_password(user.password_hash, NEW_PASSWORD)
    assert (
        accounts.role_in(fresh(session), user_id=user.id or 0, org_id=org.id or 0) == Role.MODERATOR
    )


def test_a_disabled_account_cannot_accept(
    client: TestClient, session: Session, make_org: MakeOrg, make_user: MakeUser
):
    org = make_org()
    user = make_user("rina@example.org", password=None, active=False)
    secret = invite(session, org, email="rina@example.org")

    response = accept(client, secret)

    assert response.status_code == 403
    assert accounts.role_in(fresh(session), user_id=user.id or 0, org_id=org.id or 0) is None
    assert token_row(session, secret).used_at is None


def test_the_service_marks_a_link_used_only_once(session: Session, make_org: MakeOrg):
    secret = invite(session, make_org())
    accounts.accept_invite(
        session,
        secret=secret,
        current_user=None,
        form=accounts.InviteForm(
            display_name="Dewi", password=NEW_PASSWORD, password_confirm=NEW_PASSWORD
        ),
    )

    with pytest.raises(accounts.LinkGone):
        accounts.accept_invite(
            session,
            secret=secret,
            current_user=None,
            form=accounts.InviteForm(
                display_name="Dewi", password=NEW_PASSWORD, password_confirm=NEW_PASSWORD
            ),
        )
