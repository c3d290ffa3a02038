"""Where people start after signing in: moderators at the hoax queue, everyone with an
organisation or the site to run at the dashboard; a page that asked for sign-in still wins."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from pledge.accounts import service as accounts
from pledge.accounts.models import Organization, Role
from tests.support.factories import MakeUser
from tests.support.pages import html
from tests.support.people import PASSWORD, login, sign_in

MakeOrg = Callable[..., Organization]


def test_a_moderator_starts_at_the_queue(
    client: TestClient, make_user: MakeUser, make_org: MakeOrg
):
    user = make_user("ayu@example.org", org=make_org("mitra"), role=Role.MODERATOR)

    response = login(client, user.email, PASSWORD)

    assert response.status_code == 303
    assert response.headers["location"] == "/mod"
    assert client.get("/mod").status_code == 200


def test_a_moderator_of_two_organisations_starts_at_the_queue(
    session: Session, client: TestClient, make_user: MakeUser, make_org: MakeOrg
):
    user = make_user("ayu@example.org", org=make_org("mitra"), role=Role.MODERATOR)
    accounts.add_member(session, user=user, org=make_org("lain"), role=Role.MODERATOR)
    session.commit()

    assert login(client, user.email, PASSWORD).headers["location"] == "/mod"


@pytest.mark.parametrize(
    "who",
    ["admin", "admin-and-moderator", "site-admin-moderator", "no-organisation"],
)
def test_anyone_with_more_to_run_starts_at_the_dashboard(
    session: Session, client: TestClient, make_user: MakeUser, make_org: MakeOrg, who: str
):
    if who == "admin":
        user = make_user(org=make_org("mitra"), role=Role.ADMIN)
    elif who == "admin-and-moderator":
        user = make_user(org=make_org("mitra"), role=Role.MODERATOR)
        accounts.add_member(session, user=user, org=make_org("lain"), role=Role.ADMIN)
        session.commit()
    elif who == "site-admin-moderator":
        user = make_user(org=make_org("mitra"), role=Role.MODERATOR, site_admin=True)
    else:
        user = make_user()

    assert login(client, user.email, PASSWORD).headers["location"] == "/dashboard"


def test_the_page_that_asked_for_sign_in_wins(
    client: TestClient, make_user: MakeUser, make_org: MakeOrg
):
    user = make_user(org=make_org("mitra"), role=Role.MODERATOR)

    response = login(client, user.email, PASSWORD, next="/account")

    assert response.headers["location"] == "/account"


def test_an_address_of_another_site_falls_back_to_the_queue_for_a_moderator(
    client: TestClient, make_user: MakeUser, make_org: MakeOrg
):
    user = make_user(org=make_org("mitra"), role=Role.MODERATOR)

    response = login(client, user.email, PASSWORD, next="//evil.example/")

    assert response.headers["location"] == "/mod"


def test_the_login_page_sends_a_signed_in_moderator_to_the_queue(
    client: TestClient, make_user: MakeUser, make_org: MakeOrg
):
    user = make_user(org=make_org("mitra"), role=Role.MODERATOR)
    browser = sign_in(client, user)

    assert browser.get("/login").headers["location"] == "/mod"
    assert browser.get("/login?next=/account").headers["location"] == "/account"


def test_the_login_form_carries_no_next_when_none_was_asked(client: TestClient):
    assert html(client.get("/login")).select_one("input[name=next]")["value"] == ""
