"""The account forms as objects: read from the post, checked with the shared field checks in
the same words as before, and drawn again after a refusal with the input kept, the messages
beside their fields, 422 and the page's own headers."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session
from starlette.datastructures import FormData

from pledge.accounts import service as accounts
from pledge.accounts.models import Organization, Role
from pledge.errors import Invalid
from tests.support.db import link_in, outbox
from tests.support.factories import MakeUser
from tests.support.pages import errors_of, html, post_form
from tests.support.people import PASSWORD, login, sign_in

MakeOrg = Callable[..., Organization]
SECRET_PAGE = {"cache-control": "no-store", "referrer-policy": "no-referrer"}


def test_the_forms_read_the_post_cut_to_their_lengths() -> None:
    posted = FormData(
        [
            ("email", "e" * 500),
            ("password", "p" * 2000),
            ("password_confirm", "q" * 2000),
            ("current_password", "c" * 2000),
            ("display_name", "n" * 500),
            ("role", "moderator" * 5),
            ("name", "o" * 500),
            ("website", "w" * 500),
            ("next", "/dashboard"),
        ]
    )
    assert accounts.LoginForm.read(posted) == accounts.LoginForm(
        email="e" * 254, password="p" * 1000, next="/dashboard"
    )
    # Signing in compares what was typed: a NUL is not read as a space there.
    typed = FormData([("email", "rina@example.org\x00"), ("password", "p\x00"), ("next", "/\x00")])
    assert accounts.LoginForm.read(typed) == accounts.LoginForm(
        email="rina@example.org\x00", password="p\x00", next="/\x00"
    )
    assert accounts.ForgotForm.read(posted).email == "e" * 300
    assert accounts.ChangePasswordForm.read(posted) == accounts.ChangePasswordForm(
        current_password="c" * 1000, password="p" * 1000, password_confirm="q" * 1000
    )
    assert accounts.InviteForm.read(posted).display_name == "n" * 200
    assert accounts.MemberInviteForm.read(posted) == accounts.MemberInviteForm(
        email="e" * 300, role=("moderator" * 5)[:20]
    )
    assert accounts.OrgProfileForm.read(posted) == accounts.OrgProfileForm(
        name="o" * 300, website="w" * 400
    )


@pytest.mark.parametrize(
    ("form", "errors"),
    [
        (accounts.ForgotForm(email=" "), {"email": "Enter your email address."}),
        (
            accounts.ForgotForm(email="rina@"),
            {"email": "That email address does not look right. Check it and try again."},
        ),
        (
            accounts.NewPasswordForm(password="pendek", password_confirm="pendek"),
            {"password": "Use at least 10 characters for your password."},
        ),
        (
            accounts.NewPasswordForm(password="p" * 201, password_confirm="p" * 201),
            {"password": "Use at most 200 characters for your password."},
        ),
        (
            accounts.NewPasswordForm(password="cukup-panjang", password_confirm="lain-lagi-ini"),
            {"password_confirm": "The two passwords are not the same."},
        ),
        (
            accounts.InviteForm(display_name=" \n ", password="pendek", password_confirm=""),
            {
                "display_name": "Enter your name.",
                "password": "Use at least 10 characters for your password.",
            },
        ),
        (
            accounts.NameForm(display_name="n" * 81),
            {"display_name": "Use at most 80 characters for your name."},
        ),
        (
            accounts.MemberInviteForm(email="", role="pemilik"),
            {
                "role": "Choose a role: admin or moderator.",
                "email": "Enter the email address of the person to invite.",
            },
        ),
        (
            accounts.OrgProfileForm(name=" ", website="https://user@contoh.or.id"),
            {
                "name": "Enter the organisation's name (at most 160 characters).",
                "website": "Enter the full address of the website, like https://contoh.or.id.",
            },
        ),
    ],
)
def test_every_message_of_a_form_at_once_in_the_same_words(
    form: accounts.ForgotForm, errors: dict[str, str]
) -> None:
    with pytest.raises(Invalid) as raised:
        form.check()
    assert raised.value.errors == errors


def test_good_forms_are_cleaned() -> None:
    assert accounts.ForgotForm(email=" Rina@Example.ORG ").check() == "rina@example.org"
    joining = accounts.InviteForm(
        display_name="  Dewi \t Lestari ",
        password=" sandi panjang ",
        password_confirm=" sandi panjang ",
    ).check()
    assert (joining.display_name, joining.password) == ("Dewi Lestari", " sandi panjang ")
    invitee = accounts.MemberInviteForm(email="Budi@Example.org", role="admin").check()
    assert (invitee.email, invitee.role) == ("budi@example.org", Role.ADMIN)
    profile = accounts.OrgProfileForm(name=" Cek  Fakta\nMuda ", website=" ").check()
    assert (profile.name, profile.website) == ("Cek Fakta Muda", None)


def test_a_refused_reset_keeps_the_secret_page_headers(
    client: TestClient, session: Session, make_user: MakeUser
) -> None:
    make_user("rina@example.org")
    asked = post_form(client, "/password/forgot", "/password/forgot", email="rina@example.org")
    assert asked.status_code == 303
    path = link_in(outbox(session)[-1], "/password/reset/")

    refused = post_form(client, path, path, password="pendek", password_confirm="pendek")

    assert refused.status_code == 422
    assert errors_of(refused) == {"password": "Use at least 10 characters for your password."}
    assert {name: refused.headers[name] for name in SECRET_PAGE} == SECRET_PAGE


def test_a_refused_reset_still_names_the_account_it_is_for(
    client: TestClient, session: Session, make_user: MakeUser
) -> None:
    """As the page did before the post: the address shown, and given to password managers."""
    make_user("rina@example.org")
    post_form(client, "/password/forgot", "/password/forgot", email="rina@example.org")
    path = link_in(outbox(session)[-1], "/password/reset/")

    refused = post_form(client, path, path, password="cukup-panjang", password_confirm="lain")

    assert refused.status_code == 422
    assert errors_of(refused) == {"password_confirm": "The two passwords are not the same."}
    page = html(refused)
    lead = page.select_one("p.lead")
    assert lead is not None and lead.get_text() == "For the account rina@example.org."
    username = page.select_one("input[name=username]")
    assert username is not None and username["value"] == "rina@example.org"


def test_a_refused_invitation_keeps_the_name_typed_and_the_secret_page_headers(
    client: TestClient, session: Session, make_org: MakeOrg
) -> None:
    org = make_org()
    secret = accounts.invite(
        session,
        org=org,
        email="baru@example.org",
        role=Role.MODERATOR,
        invited_by=None,
        base_url="https://suara.example",
    )
    session.commit()
    path = f"/invite/{secret}"

    refused = post_form(
        client, path, path, display_name="Dewi", password="pendek", password_confirm="x"
    )

    assert refused.status_code == 422
    assert errors_of(refused) == {"password": "Use at least 10 characters for your password."}
    field = html(refused).select_one("input[name=display_name]")
    assert field is not None
    assert field["value"] == "Dewi"
    assert {name: refused.headers[name] for name in SECRET_PAGE} == SECRET_PAGE


def test_a_refused_name_on_the_account_page_is_not_stored_nor_cached(
    client: TestClient, session: Session, make_user: MakeUser
) -> None:
    user = make_user("rina@example.org", name="Rina")
    sign_in(client, user)

    refused = post_form(client, "/account", "/account/name", display_name="n" * 81)

    assert refused.status_code == 422
    assert errors_of(refused) == {"display_name": "Use at most 80 characters for your name."}
    assert refused.headers["cache-control"] == "no-store"
    field = html(refused).select_one("input[name=display_name]")
    assert field is not None
    assert field["value"] == "n" * 81
    session.refresh(user)
    assert user.display_name == "Rina"


@pytest.mark.parametrize(
    ("email", "password"),
    [("rina@example.org\x00", PASSWORD), ("rina@example.org", PASSWORD + "\x00")],
)
def test_signing_in_with_a_nul_typed_opens_no_session(
    client: TestClient, make_user: MakeUser, email: str, password: str
) -> None:
    make_user("rina@example.org")

    refused = login(client, email, password)

    assert refused.status_code == 422
    soup = html(refused)
    alert = soup.select_one("[role=alert]")
    assert alert is not None
    assert alert.get_text(strip=True) == "That email and password do not match an account."
    assert login(client, "rina@example.org").status_code == 303
