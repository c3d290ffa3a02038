"""An organisation's profile: its name and website, kept by its admins."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from pledge.accounts.models import Organization
from pledge.audit import AuditEvent
from tests.support.db import fresh
from tests.support.factories import MakeUser
from tests.support.pages import csrf_token, errors_of, html, post_form
from tests.support.people import sign_in

MakeOrg = Callable[..., Organization]
BAD_WEBSITE = "Enter the full address of the website, like https://contoh.or.id."


@pytest.fixture
def org(make_org: MakeOrg) -> Organization:
    return make_org(slug="cek-fakta", name="Cek Fakta Muda", website="https://cfm.example.org")


PATH = "/dashboard/cek-fakta/profile"


def save(client: TestClient, **fields: str):
    return post_form(client, PATH, PATH, **fields)


def test_an_anonymous_visitor_is_sent_to_sign_in(client: TestClient, org: Organization):
    response = client.get(PATH)

    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


@pytest.mark.parametrize(
    ("role", "site_admin", "status"),
    [("moderator", False, 403), ("admin", False, 200), (None, True, 200), (None, False, 403)],
)
def test_who_may_see_the_profile_form(
    client: TestClient,
    make_user: MakeUser,
    org: Organization,
    role: str | None,
    site_admin: bool,
    status: int,
):
    sign_in(client, make_user(org=org if role else None, role=role, site_admin=site_admin))

    assert client.get(PATH).status_code == status


def test_a_moderator_cannot_save_the_profile(
    client: TestClient, session: Session, make_user: MakeUser, org: Organization
):
    sign_in(client, make_user(org=org, role="moderator"))
    token = csrf_token(client, "/account")

    response = client.post(PATH, data={"csrf_token": token, "name": "Diambil Alih"})

    assert response.status_code == 403
    fresh(session)
    assert org.name == "Cek Fakta Muda"


def test_the_form_shows_the_current_values(
    client: TestClient, make_user: MakeUser, org: Organization
):
    sign_in(client, make_user(org=org, role="admin"))

    soup = html(client.get(PATH))

    assert soup.select_one("input[name=name]")["value"] == "Cek Fakta Muda"
    assert soup.select_one("input[name=website]")["value"] == "https://cfm.example.org"
    for field in soup.select("form input:not([type=hidden])"):
        assert soup.select_one(f"label[for={field['id']}]") is not None


def test_an_admin_saves_the_name_and_website(
    client: TestClient, session: Session, make_user: MakeUser, org: Organization
):
    # Not approved yet: the change shows at once.
    org.verified = False
    session.add(org)
    session.commit()
    admin = make_user(org=org, role="admin")
    sign_in(client, admin)

    response = save(client, name="  Cek Fakta  Anak Muda ", website="https://cekfakta.or.id/")

    assert response.status_code == 303
    assert response.headers["location"] == f"{PATH}?done=saved"
    fresh(session)
    assert org.name == "Cek Fakta Anak Muda"
    assert org.website == "https://cekfakta.or.id/"
    assert org.change_requested_at is None
    [event] = session.exec(select(AuditEvent).where(AuditEvent.action == "org.update")).all()
    assert event.actor_id == admin.id
    assert event.subject == f"org:{org.id}"
    assert json.loads(event.data) == {
        "name": ["Cek Fakta Muda", "Cek Fakta Anak Muda"],
        "website": ["https://cfm.example.org", "https://cekfakta.or.id/"],
    }


def test_an_approved_organisations_change_waits_and_the_page_says_so(
    client: TestClient, session: Session, make_user: MakeUser, org: Organization
):
    assert org.verified
    sign_in(client, make_user(org=org, role="admin"))

    response = save(client, name="Komisi Pemilihan Umum RI (resmi)", website="https://kpu.go.id")

    assert response.status_code == 303
    fresh(session)
    assert (org.name, org.website) == ("Cek Fakta Muda", "https://cfm.example.org")
    assert (org.pending_name, org.pending_website) == (
        "Komisi Pemilihan Umum RI (resmi)",
        "https://kpu.go.id",
    )
    page = html(client.get(response.headers["location"]))
    assert page.select_one("#pending-change") is not None
    assert page.select_one("input[name=name]")["value"] == "Komisi Pemilihan Umum RI (resmi)"
    [event] = session.exec(select(AuditEvent).where(AuditEvent.action == "org.update")).all()
    assert json.loads(event.data)["waits_for_review"] == [False, True]
    # Saving the approved name and website again withdraws the change.
    save(client, name="Cek Fakta Muda", website="https://cfm.example.org")
    fresh(session)
    assert (org.change_requested_at, org.pending_name) == (None, None)


def test_the_website_may_be_left_empty(
    client: TestClient, session: Session, make_user: MakeUser, org: Organization
):
    org.verified = False
    session.add(org)
    session.commit()
    sign_in(client, make_user(org=org, role="admin"))

    assert save(client, name="Cek Fakta Muda", website=" ").status_code == 303
    fresh(session)
    assert org.website is None


@pytest.mark.parametrize(
    "website",
    [
        "javascript:alert(1)",
        "ftp://cekfakta.or.id",
        "cekfakta.or.id",
        "https://",
        "https://orang@evil.example",
        "https://cek fakta.or.id",
        "https://cekfakta.or.id:99999/",
        "https://" + "a" * 300 + ".id",
    ],
)
def test_a_website_that_is_not_an_http_address_is_refused(
    client: TestClient, session: Session, make_user: MakeUser, org: Organization, website: str
):
    sign_in(client, make_user(org=org, role="admin"))

    response = save(client, name="Cek Fakta Muda", website=website)

    assert response.status_code == 422
    assert errors_of(response) == {"website": BAD_WEBSITE}
    assert html(response).select_one("input[name=website]")["value"] == website
    fresh(session)
    assert org.website == "https://cfm.example.org"


@pytest.mark.parametrize("name", ["", "   ", "x" * 161])
def test_the_name_is_required_and_bounded(
    client: TestClient, make_user: MakeUser, org: Organization, name: str
):
    sign_in(client, make_user(org=org, role="admin"))

    response = save(client, name=name, website="")

    assert response.status_code == 422
    assert errors_of(response) == {
        "name": "Enter the organisation's name (at most 160 characters)."
    }


def test_saving_unchanged_values_writes_no_audit_event(
    client: TestClient, session: Session, make_user: MakeUser, org: Organization
):
    sign_in(client, make_user(org=org, role="admin"))

    assert save(client, name="Cek Fakta Muda", website="https://cfm.example.org").status_code == 303
    fresh(session)
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "org.update")).all() == []
