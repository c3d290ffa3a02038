"""The permission matrix: every /dashboard, /admin, /account and /mod route, for every visitor.

A route added without an entry in EXPECTED fails `test_every_route_has_an_entry`, so no
page can be added without deciding who may use it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from pledge.accounts import service as accounts
from pledge.accounts.models import Organization, Role, User, UserToken
from pledge.app import PAGE_ROUTERS
from pledge.campaigns import service as campaigns
from pledge.campaigns.models import PartnerStatus
from pledge.db import utcnow
from pledge.hoaxes.models import (
    CaseMatch,
    CaseOriginal,
    Category,
    Correction,
    Escalation,
    EscalationTarget,
    HoaxCase,
    HoaxReport,
    MatchKind,
    Platform,
    Verdict,
)
from pledge.supporters import service as supporters
from tests.support.people import sign_in

CSRF = "matrix-csrf-token-0123456789"
PERSONAS = ("anonymous", "moderator", "other_admin", "site_admin", "admin")

LOGIN, FORBIDDEN, HIDDEN, ALLOWED = "login", "forbidden", "hidden", "allowed"

# Who may use a page, written out by hand so that the table in
# pledge/accounts/permissions.py and its wiring are checked against intent.
SIGNED_IN = dict.fromkeys(PERSONAS[1:], ALLOWED) | {"anonymous": LOGIN}
MEMBERS = {
    "anonymous": LOGIN,
    "moderator": ALLOWED,
    "other_admin": FORBIDDEN,
    "site_admin": ALLOWED,
    "admin": ALLOWED,
}
ORG_ADMINS = MEMBERS | {"moderator": FORBIDDEN, "site_admin": FORBIDDEN}
ORG_ADMINS_AND_SITE = ORG_ADMINS | {"site_admin": ALLOWED}
SITE_ADMINS = dict.fromkeys(PERSONAS[1:], FORBIDDEN) | {"anonymous": LOGIN, "site_admin": ALLOWED}
# Moderators of any organisation open the queue; a case is theirs only when their
# organisation partners in its campaign (the admin of another organisation gets a 404).
MODERATORS = MEMBERS | {"site_admin": FORBIDDEN, "other_admin": ALLOWED}
CASE_MODERATORS = MODERATORS | {"other_admin": HIDDEN}
# Breaking another moderator's claim is for the admins of a partner organisation.
CASE_ADMINS = CASE_MODERATORS | {"moderator": FORBIDDEN}

EXPECTED: dict[tuple[str, str], dict[str, str]] = {
    ("GET", "/dashboard"): SIGNED_IN,
    ("GET", "/account"): SIGNED_IN,
    ("POST", "/account/name"): SIGNED_IN,
    ("POST", "/account/password"): SIGNED_IN,
    ("GET", "/dashboard/{org}"): MEMBERS,
    ("GET", "/dashboard/{org}/members"): ORG_ADMINS_AND_SITE,
    ("GET", "/dashboard/{org}/profile"): ORG_ADMINS_AND_SITE,
    ("GET", "/dashboard/{org}/campaigns/new"): ORG_ADMINS,
    ("GET", "/dashboard/{org}/campaigns/{slug}/edit"): ORG_ADMINS,
    ("GET", "/dashboard/{org}/campaigns/{slug}/statistics"): ORG_ADMINS_AND_SITE,
    ("GET", "/dashboard/{org}/campaigns/{slug}/embed"): MEMBERS,
    ("GET", "/dashboard/{org}/campaigns/{slug}/export.csv"): ORG_ADMINS,
    ("GET", "/dashboard/{org}/campaigns/{slug}/export.xlsx"): ORG_ADMINS,
    # Answering another organisation's invitation to its campaign, and leaving it: the invited
    # organisation's admins (leaving a campaign it has not joined yet is refused with 409).
    ("POST", "/dashboard/{org}/partnerships/{partnership_id}/accept"): ORG_ADMINS,
    ("POST", "/dashboard/{org}/partnerships/{partnership_id}/decline"): ORG_ADMINS,
    ("POST", "/dashboard/{org}/partnerships/{partnership_id}/leave"): ORG_ADMINS,
    # The names a campaign page shows: its lead organisation's admins and moderators.
    ("GET", "/dashboard/{org}/campaigns/{slug}/names"): MEMBERS | {"site_admin": FORBIDDEN},
    ("POST", "/dashboard/{org}/campaigns/{slug}/names"): MEMBERS | {"site_admin": FORBIDDEN},
    # The abuse console of a campaign: its lead organisation's admins, and site admins.
    ("GET", "/dashboard/{org}/campaigns/{slug}/abuse"): ORG_ADMINS_AND_SITE,
    ("GET", "/dashboard/{org}/campaigns/{slug}/abuse/suspects"): ORG_ADMINS_AND_SITE,
    ("POST", "/dashboard/{org}/campaigns/{slug}/abuse/suspects"): ORG_ADMINS_AND_SITE,
    ("GET", "/dashboard/{org}/campaigns/{slug}/abuse/invalidate"): ORG_ADMINS_AND_SITE,
    ("POST", "/dashboard/{org}/campaigns/{slug}/abuse/invalidate"): ORG_ADMINS_AND_SITE,
    ("GET", "/dashboard/{org}/campaigns/{slug}/abuse/invalidations/{run_id}"): ORG_ADMINS_AND_SITE,
    (
        "POST",
        "/dashboard/{org}/campaigns/{slug}/abuse/invalidations/{run_id}/cancel",
    ): ORG_ADMINS_AND_SITE,
    (
        "POST",
        "/dashboard/{org}/campaigns/{slug}/abuse/invalidations/{run_id}/resume",
    ): ORG_ADMINS_AND_SITE,
    (
        "POST",
        "/dashboard/{org}/campaigns/{slug}/abuse/invalidations/{run_id}/restore",
    ): ORG_ADMINS_AND_SITE,
    ("POST", "/dashboard/{org}/profile"): ORG_ADMINS_AND_SITE,
    ("POST", "/dashboard/{org}/members/invite"): ORG_ADMINS_AND_SITE,
    ("POST", "/dashboard/{org}/members/invitations/revoke"): ORG_ADMINS_AND_SITE,
    ("POST", "/dashboard/{org}/members/{user_id}/role"): ORG_ADMINS_AND_SITE,
    ("POST", "/dashboard/{org}/members/{user_id}/remove"): ORG_ADMINS_AND_SITE,
    ("POST", "/dashboard/{org}/campaigns"): ORG_ADMINS,
    ("POST", "/dashboard/{org}/campaigns/{slug}/edit"): ORG_ADMINS,
    ("POST", "/dashboard/{org}/campaigns/{slug}/status"): ORG_ADMINS,
    ("POST", "/dashboard/{org}/campaigns/{slug}/pledges"): ORG_ADMINS,
    ("POST", "/dashboard/{org}/campaigns/{slug}/pledges/{pledge_id}"): ORG_ADMINS,
    ("POST", "/dashboard/{org}/campaigns/{slug}/pledges/{pledge_id}/move"): ORG_ADMINS,
    ("POST", "/dashboard/{org}/campaigns/{slug}/pledges/{pledge_id}/delete"): ORG_ADMINS,
    ("POST", "/dashboard/{org}/campaigns/{slug}/partners"): ORG_ADMINS,
    ("POST", "/dashboard/{org}/campaigns/{slug}/partners/{partner_id}/remove"): ORG_ADMINS,
    ("GET", "/mod"): MODERATORS,
    ("POST", "/mod/bulk-reject"): MODERATORS,
    ("GET", "/mod/cases/{case_id}"): CASE_MODERATORS,
    ("POST", "/mod/cases/{case_id}/claim"): CASE_MODERATORS,
    ("POST", "/mod/cases/{case_id}/release"): CASE_MODERATORS,
    ("POST", "/mod/cases/{case_id}/break"): CASE_ADMINS,
    ("POST", "/mod/cases/{case_id}/decide"): CASE_MODERATORS,
    ("POST", "/mod/cases/{case_id}/approve"): CASE_MODERATORS,
    ("POST", "/mod/cases/{case_id}/send-back"): CASE_MODERATORS,
    ("POST", "/mod/cases/{case_id}/join"): CASE_MODERATORS,
    ("POST", "/mod/cases/{case_id}/matches/{match_id}/set-apart"): CASE_MODERATORS,
    ("POST", "/mod/cases/{case_id}/split"): CASE_MODERATORS,
    # Writing to a reporter: any moderator of the case (refused with a 409 here: the
    # matrix's reporter left no contact).
    ("POST", "/mod/cases/{case_id}/reports/{report_id}/message"): CASE_MODERATORS,
    ("POST", "/mod/cases/{case_id}/escalations"): CASE_MODERATORS,
    ("POST", "/mod/cases/{case_id}/escalations/{escalation_id}/outcome"): CASE_MODERATORS,
    # Corrections of a published verdict: any moderator of the case proposes, approves (not
    # their own) and withdraws; the case of the matrix is not published, so they answer 409.
    ("POST", "/mod/cases/{case_id}/correct"): CASE_MODERATORS,
    ("POST", "/mod/cases/{case_id}/corrections/{correction_id}/approve"): CASE_MODERATORS,
    ("POST", "/mod/cases/{case_id}/corrections/{correction_id}/withdraw"): CASE_MODERATORS,
    # The original beside the fake: attached and removed by the moderator holding the case
    # (409 here: nobody holds it); the comparison's pictures for any moderator of the case.
    ("POST", "/mod/cases/{case_id}/original"): CASE_MODERATORS,
    ("POST", "/mod/cases/{case_id}/original/remove"): CASE_MODERATORS,
    ("GET", "/mod/cases/{case_id}/original/{kind}.jpg"): CASE_MODERATORS,
    # Choosing the verdicts of the game: any moderator of the case (409 here: not published).
    ("POST", "/mod/cases/{case_id}/game"): CASE_MODERATORS,
    ("GET", "/admin"): SITE_ADMINS,
    ("GET", "/admin/orgs"): SITE_ADMINS,
    ("POST", "/admin/orgs"): SITE_ADMINS,
    ("POST", "/admin/orgs/{org}/approve"): SITE_ADMINS,
    ("POST", "/admin/orgs/{org}/revoke"): SITE_ADMINS,
    # The organisation's new name, waiting for approval.
    ("POST", "/admin/orgs/{org}/change/approve"): SITE_ADMINS,
    ("POST", "/admin/orgs/{org}/change/reject"): SITE_ADMINS,
    ("GET", "/admin/users"): SITE_ADMINS,
    ("GET", "/admin/users/{user_id}"): SITE_ADMINS,
    ("POST", "/admin/users/{user_id}/activate"): SITE_ADMINS,
    ("POST", "/admin/users/{user_id}/deactivate"): SITE_ADMINS,
    ("POST", "/admin/users/{user_id}/site-admin"): SITE_ADMINS,
    ("POST", "/admin/users/{user_id}/memberships"): SITE_ADMINS,
    ("POST", "/admin/users/{user_id}/memberships/{org}/remove"): SITE_ADMINS,
    ("GET", "/admin/abuse"): SITE_ADMINS,
    ("GET", "/admin/abuse/{slug}"): SITE_ADMINS,
    ("GET", "/admin/abuse/{slug}/suspects"): SITE_ADMINS,
    ("POST", "/admin/abuse/{slug}/suspects"): SITE_ADMINS,
    ("GET", "/admin/abuse/{slug}/invalidate"): SITE_ADMINS,
    ("POST", "/admin/abuse/{slug}/invalidate"): SITE_ADMINS,
    ("GET", "/admin/abuse/{slug}/invalidations/{run_id}"): SITE_ADMINS,
    ("POST", "/admin/abuse/{slug}/invalidations/{run_id}/cancel"): SITE_ADMINS,
    ("POST", "/admin/abuse/{slug}/invalidations/{run_id}/resume"): SITE_ADMINS,
    ("POST", "/admin/abuse/{slug}/invalidations/{run_id}/restore"): SITE_ADMINS,
    ("GET", "/admin/contacts"): SITE_ADMINS,
    ("POST", "/admin/contacts"): SITE_ADMINS,
    ("POST", "/admin/contacts/export"): SITE_ADMINS,
    ("POST", "/admin/contacts/erase"): SITE_ADMINS,
}


def guarded_routes() -> list[tuple[str, str]]:
    found = []
    for router in PAGE_ROUTERS:
        for route in router.routes:
            if isinstance(route, APIRoute) and route.path.startswith(
                ("/dashboard", "/admin", "/account", "/mod")
            ):
                found.extend((method, route.path) for method in sorted(route.methods))
    return sorted(found)


def test_every_route_has_an_entry() -> None:
    routes = set(guarded_routes())
    assert routes, "no /dashboard or /admin routes found"
    missing = sorted(routes - set(EXPECTED))
    stale = sorted(set(EXPECTED) - routes)
    assert missing == [], f"add these routes to EXPECTED: {missing}"
    assert stale == [], f"these entries name no route: {stale}"


@dataclass
class World:
    org_slug: str
    campaign_slug: str
    ids: dict[str, int]
    users: dict[str, User]


@pytest.fixture
def world(session: Session, make_org: Any, make_campaign: Any) -> World:
    return make_world(session, make_org, make_campaign)


def make_world(session: Session, make_org: Any, make_campaign: Any) -> World:
    """An organisation with a campaign, a case, an invitation and an invalidation run, and
    a user of each persona."""
    view = make_campaign(status="draft", partners=1)
    org = session.get(Organization, view.campaign.lead_org_id)
    assert org is not None
    other = make_org(slug="organisasi-lain")
    users = {
        "moderator": accounts.create(session, email="moderator@example.org"),
        "other_admin": accounts.create(session, email="other@example.org"),
        "site_admin": accounts.create(session, email="site@example.org", is_site_admin=True),
        "admin": accounts.create(session, email="admin@example.org"),
    }
    member = accounts.create(session, email="member@example.org")
    accounts.add_member(session, user=users["moderator"], org=org, role=Role.MODERATOR)
    accounts.add_member(session, user=member, org=org, role=Role.MODERATOR)
    accounts.add_member(session, user=users["admin"], org=org, role=Role.ADMIN)
    accounts.add_member(session, user=users["other_admin"], org=other, role=Role.ADMIN)
    case = HoaxCase(campaign_id=view.id, platform=Platform.WHATSAPP, category=Category.FALSE_CLAIM)
    session.add(case)
    session.flush()
    report = HoaxReport(
        campaign_id=view.id,
        case_id=case.id or 0,
        tracking_code="matrixcode",
        url="https://example.org/hoaks",
        platform=Platform.WHATSAPP,
        category=Category.FALSE_CLAIM,
    )
    session.add(report)
    # A case the matching found close to the first one.
    close = HoaxCase(campaign_id=view.id, platform=Platform.X, category=Category.FALSE_CLAIM)
    session.add(close)
    session.flush()
    match = CaseMatch(
        campaign_id=view.id,
        case_id=close.id or 0,
        other_case_id=case.id or 0,
        kind=MatchKind.TEXT,
        score=0.7,
        why="text 0.70",
    )
    session.add(match)
    # A report made to a platform about the first case, waiting for its outcome.
    escalation = Escalation(
        campaign_id=view.id, case_id=case.id or 0, target=EscalationTarget.TIKTOK,
        reported_on=utcnow().date(),
    )  # fmt: skip
    session.add(escalation)
    correction = Correction(
        case_id=case.id or 0, label=Verdict.SALAH, public_title="Klaim", note="Catatan"
    )
    session.add(correction)
    # The original of the case's picture, with its comparison's pictures.
    session.add(
        CaseOriginal(
            case_id=case.id or 0, outcome="aligned", overlay=b"\xff\xd8", aligned=b"\xff\xd8"
        )
    )
    accounts.invite(
        session,
        org=org,
        email="invited@example.org",
        role=Role.MODERATOR,
        invited_by=users["admin"],
        base_url="http://testserver",
    )
    session.commit()
    invitation = session.exec(select(UserToken)).one()
    co_partner = next(p for p in view.partners if not p.is_lead)
    # Another organisation's campaign invites this one; this one's new name waits for approval.
    elsewhere = make_campaign(status="live", partners=0, lead=other)
    asked = campaigns.add_partner(
        session,
        campaign=elsewhere.campaign,
        org=org,
        status=PartnerStatus.INVITED,
    )
    org.change_requested_at, org.pending_name = utcnow(), "Nama Baru Lembaga"
    session.add(org)
    session.commit()
    run = supporters.start(
        session, view=view, found=supporters.Filter(name_pattern="x"), reason="x", actor_id=None
    )
    return World(
        org_slug=org.slug,
        campaign_slug=view.slug,
        ids={
            "user_id": member.id or 0,
            "pledge_id": view.pledges[0].id or 0,
            "partner_id": co_partner.id,
            "partnership_id": asked.id or 0,
            "case_id": case.id or 0,
            "report_id": report.id or 0,
            "match_id": match.id or 0,
            "escalation_id": escalation.id or 0,
            "correction_id": correction.id or 0,
            "invitation_id": invitation.id or 0,
            "run_id": run.id or 0,
            "kind": "overlay",
        },
        users=users,
    )


def concrete(path: str, world: World) -> str:
    values = {"org": world.org_slug, "slug": world.campaign_slug, **world.ids}

    def fill(match: re.Match[str]) -> str:
        return str(values[match.group(1)])

    return re.sub(r"\{(\w+)\}", fill, path)


def outcome(response: Any) -> str:
    if response.status_code == 303 and "/login" in response.headers.get("location", ""):
        return LOGIN
    if response.status_code == 403:
        return FORBIDDEN
    if response.status_code == 404:
        return HIDDEN
    assert response.status_code < 500, response.text[:500]
    return ALLOWED


@pytest.mark.parametrize(
    ("method", "path", "persona"),
    [(method, path, persona) for method, path in sorted(EXPECTED) for persona in PERSONAS],
)
def test_route_admits_exactly_the_expected_visitors(
    client: TestClient, world: World, method: str, path: str, persona: str
) -> None:
    url = concrete(path, world)
    sign_in(client, world.users.get(persona), csrf=CSRF)
    if method == "GET":
        response = client.get(url)
    else:
        data = {"csrf_token": CSRF, "invitation_id": str(world.ids["invitation_id"])}
        response = client.request(method, url, data=data)
    assert outcome(response) == EXPECTED[(method, path)][persona]
