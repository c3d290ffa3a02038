"""Moderation fixtures: two campaigns run by different organisations, the people who moderate
them, cases and reports written straight into the database, and browsers signed in as each."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import count
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from itsdangerous import URLSafeTimedSerializer
from sqlmodel import Session, col, select

from pledge.accounts import service as accounts
from pledge.accounts.models import Organization, Role, User
from pledge.audit import AuditEvent
from pledge.campaigns.models import CampaignView
from pledge.config import get_settings
from pledge.db import utcnow
from pledge.deps import ModeratorContext, moderator_access
from pledge.hoaxes.models import Category, HoaxCase, HoaxReport, Media, Platform
from pledge.web import SESSION_COOKIE

CSRF = "moderation-test-csrf-token-0123456789"


@dataclass
class World:
    """Campaign A is led by org_a with co-partner org_a2; campaign B belongs to org_b alone."""

    a: CampaignView
    b: CampaignView
    org_a: Organization
    org_a2: Organization
    org_b: Organization
    mod_a: User  # moderator of org_a
    mod_a2: User  # moderator of org_a2, a co-partner of campaign A: the second pair of eyes
    admin_a: User  # admin of org_a: may end others' claims
    mod_b: User  # moderator of org_b: sees campaign B only
    admin_b: User  # admin of org_b: may end claims, but only on campaign B
    plain: User  # signed in, moderates nowhere
    site_admin: User  # runs the site; moderates nowhere


@pytest.fixture
def world(session: Session, make_campaign: Callable[..., CampaignView]) -> World:
    a = make_campaign(slug="kampanye-a", title="Kampanye A", partners=1)
    b = make_campaign(slug="kampanye-b", title="Kampanye B", partners=0)
    org_a = session.get(Organization, a.campaign.lead_org_id)
    org_b = session.get(Organization, b.campaign.lead_org_id)
    co = next(p for p in a.partners if not p.is_lead)
    org_a2 = accounts.get_org_by_slug(session, co.slug)
    assert org_a and org_b

    def person(email: str, name: str, org: Organization | None, role: Role | None) -> User:
        user = accounts.create(session, email=email, display_name=name, is_site_admin=False)
        if org is not None and role is not None:
            accounts.add_member(session, user=user, org=org, role=role)
        return user

    world = World(
        a=a,
        b=b,
        org_a=org_a,
        org_a2=org_a2,
        org_b=org_b,
        mod_a=person("mod-a@example.org", "Ayu", org_a, Role.MODERATOR),
        mod_a2=person("mod-a2@example.org", "Budi", org_a2, Role.MODERATOR),
        admin_a=person("admin-a@example.org", "Citra", org_a, Role.ADMIN),
        mod_b=person("mod-b@example.org", "Dewi", org_b, Role.MODERATOR),
        admin_b=person("admin-b@example.org", "Eko", org_b, Role.ADMIN),
        plain=person("plain@example.org", "", None, None),
        site_admin=accounts.create(session, email="root@example.org", is_site_admin=True),
    )
    session.commit()
    return world


# --- cases and reports ---------------------------------------------------------------


MakeCase = Callable[..., HoaxCase]
_codes = count(1)


@pytest.fixture
def make_case(session: Session) -> MakeCase:
    """A case with `reports` reports (report_count follows unless given), straight into the
    database: the reporting form is another module's work."""

    def make(
        campaign: CampaignView,
        *,
        status: str = "new",
        reports: int = 1,
        platform: str = "whatsapp",
        category: str = "false_claim",
        description: str = "Pesan berantai tentang TPS yang dipindah.",
        created_at: datetime | None = None,
        contact: str | None = None,
        media: bool = False,
        **fields: Any,
    ) -> HoaxCase:
        created = created_at or utcnow()
        media_id = None
        if media:
            data = b"\x89PNG fake bytes %d" % next(_codes)
            row = Media(
                sha256=f"{next(_codes):064x}", mime="image/png", width=4, height=3,
                size=len(data), data=data, phash=0,
            )  # fmt: skip
            session.add(row)
            session.flush()
            media_id = row.id
        fields.setdefault("report_count", reports)
        case = HoaxCase(
            campaign_id=campaign.id,
            status=status,
            platform=Platform(platform),
            category=Category(category),
            media_id=media_id,
            canonical_url=fields.pop("canonical_url", None),
            created_at=created,
            updated_at=created,
            **fields,
        )
        session.add(case)
        session.flush()
        for n in range(reports):
            session.add(
                HoaxReport(
                    campaign_id=campaign.id,
                    case_id=case.id or 0,
                    tracking_code=f"code{next(_codes)}",
                    url=f"https://example.com/post/{case.id}/{n}",
                    canonical_url=case.canonical_url,
                    platform=case.platform,
                    category=case.category,
                    description=description if n == 0 else f"{description} ({n})",
                    province="ID-JK",
                    media_id=media_id,
                    contact_encrypted=contact,
                    created_at=created + timedelta(seconds=n),
                )
            )
        session.commit()
        return case

    return make


def fresh(session: Session) -> Session:
    """End the test's read snapshot and forget loaded rows, to see what the app wrote."""
    session.commit()
    session.expire_all()
    return session


def reload(session: Session, case: HoaxCase) -> HoaxCase:
    found = fresh(session).get(HoaxCase, case.id)
    assert found is not None
    return found


def events(session: Session, case: HoaxCase | int) -> list[AuditEvent]:
    case_id = case if isinstance(case, int) else case.id
    return list(
        fresh(session).exec(
            select(AuditEvent)
            .where(AuditEvent.subject == f"case:{case_id}")
            .order_by(col(AuditEvent.id))
        )
    )


def actions(session: Session, case: HoaxCase | int) -> list[str]:
    return [event.action for event in events(session, case)]


# --- who is acting -------------------------------------------------------------------


Access = Callable[[User], ModeratorContext]


@pytest.fixture
def access(session: Session) -> Access:
    """What the Moderator dependency hands a route, for calling the service directly."""

    def make(user: User) -> ModeratorContext:
        return moderator_access(user, session)

    return make


def sign_in(client: TestClient, user: User) -> TestClient:
    """Give the browser the session it would have after signing in (as in
    tests/test_permissions.py): the login form is tested elsewhere, and is rate limited."""
    data = {"csrf": CSRF, "uid": user.id, "sv": user.session_version}
    cookie = URLSafeTimedSerializer(get_settings().secret_key, salt="session").dumps(data)
    client.cookies.set(SESSION_COOKIE, cookie)
    return client


Browser = Callable[[User | None], TestClient]


@pytest.fixture
def browser(app: FastAPI) -> Iterator[Browser]:
    """A browser in English, signed in as the user (or anonymous with None)."""
    opened: list[TestClient] = []

    def open_as(user: User | None) -> TestClient:
        client = TestClient(app, base_url="http://testserver", follow_redirects=False)
        client.__enter__()
        client.cookies.set("lang", "en")
        opened.append(client)
        return sign_in(client, user) if user is not None else client

    yield open_as
    for client in opened:
        client.__exit__(None, None, None)


def post(client: TestClient, path: str, **fields: Any) -> Any:
    return client.post(path, data={"csrf_token": CSRF, **fields})


def case_url(case: HoaxCase | int, action: str = "") -> str:
    case_id = case if isinstance(case, int) else case.id
    return f"/mod/cases/{case_id}" + (f"/{action}" if action else "")


HOAX_FIELDS = {
    "decision": "hoax",
    "label": "SALAH",
    "public_title": "TPS tidak dipindah",
    "public_explanation": "KPU memastikan lokasi TPS tetap. Pesan berantai itu palsu.",
    "fact_check_url": "https://cekfakta.example.id/tps",
    "reason": "Dicek ke KPU setempat.",
}
