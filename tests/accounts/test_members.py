"""An organisation's members page: who may see it, inviting, roles, removal, the last admin."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from pledge.accounts import service as accounts
from pledge.accounts.models import Organization, Role, User
from pledge.audit import AuditEvent
from tests.support.db import fresh, link_in, outbox
from tests.support.factories import MakeUser
from tests.support.pages import csrf_token, errors_of, html, post_form
from tests.support.people import sign_in

MakeOrg = Callable[..., Organization]


@dataclass
class Team:
    org: Organization
    admin: User
    moderator: User
    other_admin: User  # admin of another organisation
    site_admin: User  # operator of the site, member of nothing

    def path(self, rest: str = "") -> str:
        return f"/dashboard/{self.org.slug}/members{rest}"


@pytest.fixture
def team(make_org: MakeOrg, make_user: MakeUser) -> Team:
    org = make_org(slug="cek-fakta", name="Cek Fakta Muda")
    return Team(
        org=org,
        admin=make_user("admin@example.org", org=org, role="admin", name="Admin Satu"),
        moderator=make_user("mod@example.org", org=org, role="moderator", name="Moderator Satu"),
        other_admin=make_user("lain@example.org", org=make_org(), role="admin"),
        site_admin=make_user("operator@example.org", site_admin=True),
    )


def events(session: Session, action: str) -> list[dict[str, Any]]:
    fresh(session)
    rows = session.exec(
        select(AuditEvent).where(AuditEvent.action == action).order_by(col(AuditEvent.id))
    )
    return [{"actor": e.actor_id, "subject": e.subject, **json.loads(e.data)} for e in rows]


def role_of(session: Session, user: User, org: Organization) -> Role | None:
    return accounts.role_in(fresh(session), user_id=user.id or 0, org_id=org.id or 0)


# --- who may use the page ----------------------------------------------------------------


def test_an_anonymous_visitor_is_sent_to_sign_in(client: TestClient, team: Team):
    response = client.get(team.path())

    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")


@pytest.mark.parametrize(
    ("who", "status"),
    [("moderator", 403), ("other_admin", 403), ("admin", 200), ("site_admin", 200)],
)
def test_only_the_organisations_admins_and_site_admins_see_the_page(
    client: TestClient, team: Team, who: str, status: int
):
    sign_in(client, getattr(team, who))

    assert client.get(team.path()).status_code == status


@pytest.mark.parametrize("who", ["moderator", "other_admin"])
@pytest.mark.parametrize("action", ["/invite", "/{uid}/role", "/{uid}/remove"])
def test_the_forms_refuse_everyone_else(
    client: TestClient, session: Session, team: Team, who: str, action: str
):
    sign_in(client, getattr(team, who))
    token = csrf_token(client, "/account")

    response = client.post(
        team.path(action.format(uid=team.moderator.id)),
        data={"csrf_token": token, "email": "baru@example.org", "role": "admin"},
    )

    assert response.status_code == 403
    assert role_of(session, team.moderator, team.org) == Role.MODERATOR
    assert outbox(session) == []


@pytest.mark.parametrize("action", ["/invite", "/{uid}/role", "/{uid}/remove"])
def test_the_forms_send_an_anonymous_visitor_to_sign_in(
    client: TestClient, session: Session, team: Team, action: str
):
    token = csrf_token(client, "/login")

    response = client.post(
        team.path(action.format(uid=team.moderator.id)),
        data={"csrf_token": token, "email": "baru@example.org", "role": "admin"},
    )

    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")
    assert role_of(session, team.moderator, team.org) == Role.MODERATOR


def test_a_site_admin_may_manage_the_members(client: TestClient, session: Session, team: Team):
    sign_in(client, team.site_admin)

    response = post_form(client, team.path(), team.path(f"/{team.moderator.id}/role"), role="admin")

    assert response.status_code == 303
    assert role_of(session, team.moderator, team.org) == Role.ADMIN
    assert events(session, "member.role")[0]["actor"] == team.site_admin.id


# --- the page ----------------------------------------------------------------------------


def test_the_page_lists_members_with_roles_and_pending_invitations(
    client: TestClient, session: Session, team: Team
):
    accounts.invite(
        session,
        org=team.org,
        email="tamu@example.org",
        role=Role.ADMIN,
        invited_by=team.admin,
        base_url="http://x",
    )
    session.commit()
    sign_in(client, team.admin)

    soup = html(client.get(team.path()))

    members = {
        li.select_one(".email").get_text(strip=True): li.select_one(".role").get_text(strip=True)
        for li in soup.select("li.member")
    }
    assert members == {"admin@example.org": "Admin", "mod@example.org": "Moderator"}
    invitations = [li.get_text(" ", strip=True) for li in soup.select("li.invitation")]
    assert len(invitations) == 1 and invitations[0].startswith("tamu@example.org · Admin")
    for select_field in soup.select("li.member select"):
        assert soup.select_one(f"label[for={select_field['id']}]") is not None
    invite_form = soup.select_one("form#invite-form")
    assert invite_form["action"] == team.path("/invite")
    for name in ("email", "role"):
        field = invite_form.select_one(f"[name={name}]")
        assert soup.select_one(f"label[for={field['id']}]") is not None


# --- inviting ----------------------------------------------------------------------------


def test_an_admin_invites_by_email_and_the_link_works(
    client: TestClient, anonymous: TestClient, session: Session, team: Team
):
    sign_in(client, team.admin)

    response = post_form(
        client, team.path(), team.path("/invite"), email="Baru@Example.org", role="admin"
    )

    assert response.status_code == 303
    assert response.headers["location"] == team.path("?done=invited")
    [message] = outbox(session)
    assert message.to == "baru@example.org"
    assert message.sent_at is not None
    page = html(client.get(response.headers["location"]))
    assert [e.get_text() for e in page.select("li.invitation .email")] == ["baru@example.org"]
    [event] = events(session, "member.invite")
    assert event == {
        "actor": team.admin.id,
        "subject": f"org:{team.org.id}",
        "email": "baru@example.org",
        "role": "admin",
    }
    invitation = anonymous.get(link_in(message, "/invite/"))
    assert html(invitation).select_one("dd.role").get_text(strip=True) == "Admin"


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        (
            {"email": "", "role": "moderator"},
            {"email": "Enter the email address of the person to invite."},
        ),
        (
            {"email": "bukan-email", "role": "moderator"},
            {"email": "That email address does not look right. Check it and try again."},
        ),
        (
            {"email": "baru@example.org", "role": "raja"},
            {"role": "Choose a role: admin or moderator."},
        ),
    ],
)
def test_a_bad_invitation_is_refused_beside_its_field(
    client: TestClient, session: Session, team: Team, fields: dict[str, str], errors: dict
):
    sign_in(client, team.admin)

    response = post_form(client, team.path(), team.path("/invite"), **fields)

    assert response.status_code == 422
    assert errors_of(response) == errors
    assert (
        html(response).select_one("form#invite-form input[name=email]")["value"]
        == (fields["email"])
    )
    assert outbox(session) == []


def test_inviting_someone_who_is_already_a_member_is_a_conflict(
    client: TestClient, session: Session, team: Team
):
    sign_in(client, team.admin)

    response = post_form(
        client, team.path(), team.path("/invite"), email="MOD@example.org", role="admin"
    )

    assert response.status_code == 409
    assert errors_of(response) == {"email": "This person is already a member of this organisation."}
    assert outbox(session) == []
    assert events(session, "member.invite") == []


def test_an_invitation_can_be_cancelled(
    client: TestClient, anonymous: TestClient, session: Session, team: Team
):
    secret = accounts.invite(
        session,
        org=team.org,
        email="tamu@example.org",
        role=Role.MODERATOR,
        invited_by=team.admin,
        base_url="http://x",
    )
    session.commit()
    sign_in(client, team.admin)
    form = html(client.get(team.path())).select_one("li.invitation form")

    response = post_form(
        client,
        team.path(),
        form["action"],
        invitation_id=form.select_one("input[name=invitation_id]")["value"],
    )

    assert response.status_code == 303
    assert html(client.get(team.path())).select("li.invitation") == []
    assert anonymous.get(f"/invite/{secret}").status_code == 404
    assert events(session, "member.invite_revoke")[0]["email"] == "tamu@example.org"


def test_another_organisations_invitation_cannot_be_cancelled(
    client: TestClient, session: Session, team: Team, make_org: MakeOrg
):
    other = make_org()
    secret = accounts.invite(
        session,
        org=other,
        email="tamu@example.org",
        role=Role.MODERATOR,
        invited_by=None,
        base_url="http://x",
    )
    session.commit()
    invitation = accounts.get_invitation(session, secret=secret).token
    sign_in(client, team.admin)

    response = post_form(
        client,
        team.path(),
        team.path("/invitations/revoke"),
        invitation_id=str(invitation.id),
    )

    assert response.status_code == 404
    assert accounts.get_invitation(fresh(session), secret=secret)


# --- roles ---------------------------------------------------------------------------------


def test_an_admin_changes_a_role(client: TestClient, session: Session, team: Team):
    sign_in(client, team.admin)

    response = post_form(client, team.path(), team.path(f"/{team.moderator.id}/role"), role="admin")

    assert response.status_code == 303
    assert response.headers["location"] == team.path("?done=role")
    assert role_of(session, team.moderator, team.org) == Role.ADMIN
    assert events(session, "member.role") == [
        {
            "actor": team.admin.id,
            "subject": f"org:{team.org.id}",
            "user_id": team.moderator.id,
            "from": "moderator",
            "to": "admin",
        }
    ]


def test_the_last_admin_cannot_step_down(client: TestClient, session: Session, team: Team):
    sign_in(client, team.admin)

    response = post_form(client, team.path(), team.path(f"/{team.admin.id}/role"), role="moderator")

    assert response.status_code == 422
    assert errors_of(response) == {
        f"role-{team.admin.id}": (
            "An organisation needs at least one admin. Make someone else an admin first."
        )
    }
    assert role_of(session, team.admin, team.org) == Role.ADMIN
    assert events(session, "member.role") == []


def test_with_a_second_admin_the_first_may_step_down(
    client: TestClient, session: Session, team: Team
):
    accounts.add_member(session, user=team.moderator, org=team.org, role=Role.ADMIN)
    session.commit()
    sign_in(client, team.admin)

    response = post_form(client, team.path(), team.path(f"/{team.admin.id}/role"), role="moderator")

    assert response.status_code == 303
    assert role_of(session, team.admin, team.org) == Role.MODERATOR
    # No longer an admin: the page is closed to them now.
    assert client.get(team.path()).status_code == 403


@pytest.mark.parametrize("role", ["", "owner"])
def test_an_unknown_role_is_refused(client: TestClient, session: Session, team: Team, role: str):
    sign_in(client, team.admin)

    response = post_form(client, team.path(), team.path(f"/{team.moderator.id}/role"), role=role)

    assert response.status_code == 422
    assert errors_of(response) == {
        f"role-{team.moderator.id}": "Choose a role: admin or moderator."
    }
    assert role_of(session, team.moderator, team.org) == Role.MODERATOR


def test_changing_the_role_of_a_non_member_is_not_found(
    client: TestClient, session: Session, team: Team
):
    sign_in(client, team.admin)

    response = post_form(
        client, team.path(), team.path(f"/{team.other_admin.id}/role"), role="moderator"
    )

    assert response.status_code == 404
    assert role_of(session, team.other_admin, team.org) is None


@pytest.mark.parametrize("user_id", ["abc", "0", "99999999999999"])
def test_a_malformed_member_id_is_refused(client: TestClient, team: Team, user_id: str):
    sign_in(client, team.admin)

    response = post_form(client, team.path(), team.path(f"/{user_id}/role"), role="admin")

    assert response.status_code == 422


# --- removal -------------------------------------------------------------------------------


def test_an_admin_removes_a_member_who_is_signed_out(
    client: TestClient, other_client: TestClient, session: Session, team: Team
):
    sign_in(other_client, team.moderator)
    sign_in(client, team.admin)

    response = post_form(client, team.path(), team.path(f"/{team.moderator.id}/remove"))

    assert response.status_code == 303
    assert response.headers["location"] == team.path("?done=removed")
    assert role_of(session, team.moderator, team.org) is None
    assert other_client.get("/account").status_code == 303
    page = html(client.get(response.headers["location"]))
    assert [e.get_text() for e in page.select("li.member .email")] == ["admin@example.org"]
    assert events(session, "member.remove") == [
        {
            "actor": team.admin.id,
            "subject": f"org:{team.org.id}",
            "user_id": team.moderator.id,
            "email": "mod@example.org",
            "role": "moderator",
        }
    ]


def test_the_last_admin_cannot_be_removed(client: TestClient, session: Session, team: Team):
    sign_in(client, team.site_admin)

    response = post_form(client, team.path(), team.path(f"/{team.admin.id}/remove"))

    assert response.status_code == 422
    assert errors_of(response) == {
        f"remove-{team.admin.id}": (
            "An organisation needs at least one admin. Make someone else an admin first."
        )
    }
    assert role_of(session, team.admin, team.org) == Role.ADMIN
    assert events(session, "member.remove") == []


def test_an_admin_who_leaves_is_signed_out(client: TestClient, session: Session, team: Team):
    accounts.add_member(session, user=team.moderator, org=team.org, role=Role.ADMIN)
    session.commit()
    sign_in(client, team.admin)

    response = post_form(client, team.path(), team.path(f"/{team.admin.id}/remove"))

    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    assert role_of(session, team.admin, team.org) is None
    assert client.get("/account").status_code == 303


def test_removing_someone_who_is_not_a_member_is_not_found(
    client: TestClient, session: Session, team: Team
):
    sign_in(client, team.admin)
    version = team.other_admin.session_version

    response = post_form(client, team.path(), team.path(f"/{team.other_admin.id}/remove"))

    assert response.status_code == 404
    fresh(session)
    assert team.other_admin.session_version == version
