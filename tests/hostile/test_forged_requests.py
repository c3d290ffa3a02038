"""Forged requests: every form the app takes is refused without the visitor's own CSRF token or
from another site, and stores nothing; one-time links (invitations, password resets, the
supporter's withdrawal link) work once and not after they expire.

The POST routes are read from the app's route table, so a form added later is covered too.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from pledge import whatsapp
from pledge.accounts import service as accounts
from pledge.accounts.models import Organization, Role, User
from pledge.campaigns.models import CampaignView
from pledge.config import get_settings
from pledge.db import metadata, utcnow
from pledge.hoaxes import service as hoaxes
from pledge.mail import OutboxMessage
from pledge.supporters.models import Signing
from pledge.web import (
    SESSION_COOKIE,
    SESSION_MAX_AGE,
    LeanFormRoute,
    checked_form,
    checked_upload,
)
from tests.support.mailbox import text_of
from tests.support.pages import csrf_token, html
from tests.support.people import session_cookie, sign_in
from tests.support.signing import sign_by_email

BASE = "http://testserver"
CSRF = "forged-requests-test-csrf-token-0123456789"
PASSWORD = "kata-sandi-yang-cukup-panjang"
EXPIRED_FORM = "This form has expired or was not sent from our site."
ANOTHER_SITE = "This form was sent from another website, so it was refused."

MakeCampaign = Callable[..., CampaignView]
Sign = Callable[..., Signing]


# --- a world where every form can be reached ---------------------------------------------


@dataclass
class World:
    """One person who may use every form: a site admin who is also an admin (and so a
    moderator) of the organisation leading the campaign. Each path parameter of every POST
    route has a real value, so a request is refused by the CSRF check and nothing else."""

    user: User
    params: dict[str, str]


@pytest.fixture
def world(session: Session, make_campaign: MakeCampaign, sign: Sign) -> World:
    view = make_campaign(slug="kampanye-sasaran", partners=1)
    org = accounts.get_org_by_slug(session, view.partners[0].slug)
    assert view.partners[0].is_lead
    user = accounts.create(
        session, email="root@contoh.id", password=PASSWORD, display_name="Root", is_site_admin=True
    )
    accounts.add_member(session, user=user, org=org, role=Role.ADMIN)
    member = accounts.create(session, email="anggota@contoh.id", display_name="Anggota")
    accounts.add_member(session, user=member, org=org, role=Role.MODERATOR)
    invite = accounts.invite(
        session,
        org=org,
        email="baru@contoh.id",
        role=Role.MODERATOR,
        invited_by=user,
        base_url=BASE,
    )
    session.commit()
    accounts.request_password_reset(session, email="anggota@contoh.id", base_url=BASE)
    reset = reset_secret(session, "anggota@contoh.id")
    signing = sign(view, contact="penanda@contoh.id")
    assert signing.supporter is not None
    # Someone whose signature waits for its confirmation: the emailed link's secret.
    waiting = sign_by_email(session, view, "menunggu@contoh.id")
    report = hoaxes.submit(
        session,
        view=view,
        form=hoaxes.ReportForm(
            url="https://www.facebook.com/hoaks/posts/1",
            platform="facebook",
            category="false_claim",
            description="Katanya TPS dipindah.",
            province="ID-JK",
            consent="on",
        ),
    )
    assert report is not None
    co_partner = next(p for p in view.partners if not p.is_lead)
    return World(
        user=user,
        params={
            "org": org.slug,
            "slug": view.slug,
            "pledge_id": str(view.pledges[0].id),
            "partner_id": str(co_partner.id),
            # A forged answer to an invitation is refused before anything is looked up.
            "partnership_id": str(co_partner.id),
            "user_id": str(member.id),
            "case_id": str(report.case_id),
            "match_id": "1",  # refused before any suggestion is looked for
            "correction_id": "1",  # refused before any correction is looked for
            "token_withdraw": signing.supporter.token,
            "token_reset": reset,
            "token_invite": invite,
            "secret": waiting.confirm_path.rsplit("/", 1)[1],
            "run_id": "1",  # refused before any invalidation is looked for
            # A reporter's answer, and a moderator's message to a reporter.
            "code": report.tracking_code,
            "report_id": str(report.id),
            "escalation_id": "1",  # refused before any escalation is looked for
        },
    )


def reset_secret(session: Session, email: str) -> str:
    session.commit()
    message = session.exec(
        select(OutboxMessage)
        .where(OutboxMessage.to == email)
        .order_by(col(OutboxMessage.id).desc())
    ).first()
    assert message is not None
    body = text_of(message.id, message.body)
    found = re.search(r"/password/reset/([A-Za-z0-9_\-]+)", body)
    assert found is not None, body
    return found[1]


def post_routes(app: FastAPI) -> list[Any]:
    """Every route that takes a POST, routers included (as the app itself walks them)."""
    routes = []
    for route in app.routes:
        walk = getattr(route, "effective_route_contexts", None)
        for found in walk() if walk else (route,):
            if "POST" in (getattr(found, "methods", None) or ()):
                routes.append(found)
    assert len(routes) > 30  # the table was read, not an empty list
    return routes


# Which one-time secret each route with a {token} takes.
TOKENS = {
    "supporters_withdraw": "withdraw",
    "accounts_password_reset": "reset",
    "accounts_invite_accept": "invite",
}


def path_of(route: Any, params: dict[str, str]) -> str:
    values = dict(params)
    if "{token}" in route.path:
        assert route.name in TOKENS, f"{route.path}: give the test a token for it"
        values["token"] = params[f"token_{TOKENS[route.name]}"]
    names = re.findall(r"{(\w+)}", route.path)
    unknown = [name for name in names if name not in values]
    assert not unknown, f"{route.path}: give the test a value for {unknown}"
    return route.path.format(**values)


def takes_upload(route: Any) -> bool:
    if isinstance(route, LeanFormRoute):
        return route.form_check is checked_upload
    return any(dep.call is checked_upload for dep in route.dependant.dependencies)


# Every field any form reads, filled in, so that a form that skipped its checks would store
# something.
FIELDS: dict[str, Any] = {
    "name": "Dipalsukan",
    "contact": "palsu@contoh.id",
    "province": "ID-JK",
    "age_ok": "on",
    "consent": "on",
    "pledges": ["tolak-politik-uang"],
    "title": "Judul palsu",
    "summary": "Ringkasan palsu",
    "body": "Isi palsu",
    "goal": "10",
    "text": "Janji palsu",
    "status": "closed",
    "kind": "invite",
    "org_slug": "lembaga-palsu",
    "email": "palsu@contoh.id",
    "role": "admin",
    "display_name": "Penyusup",
    "password": "sandi-penyusup-panjang",
    "password_confirm": "sandi-penyusup-panjang",
    "current_password": PASSWORD,
    "reason": "Dipalsukan dari situs lain.",
    "decision": "rejected",
    "direction": "down",
    "website": "https://palsu.example",
    "is_site_admin": "on",
    "org": "lembaga-palsu",
    "url": "https://www.facebook.com/hoaks/posts/2",
    "platform": "facebook",
    "category": "false_claim",
    "description": "Laporan palsu",
    "code": "000000",
    "question": "Pertanyaan palsu",
    "message": "Pesan palsu",
    "target": "tiktok",
    "target_name": "Platform palsu",
    "reported_on": "2020-01-01",
    "reference": "PALSU-1",
    "outcome": "removed",
    "outcome_on": "2020-01-02",
}


def snapshot(engine: sa.Engine) -> dict[str, list[str]]:
    """Every row of every table, as text: what a refused request must leave as it was."""
    with engine.connect() as conn:
        return {
            table.name: sorted(repr(tuple(row)) for row in conn.execute(sa.select(table)))
            for table in metadata.sorted_tables
        }


@pytest.fixture
def signed_in(app: FastAPI, world: World) -> Iterator[TestClient]:
    with TestClient(app, base_url=BASE, follow_redirects=False) as client:
        client.cookies.set("lang", "en")
        sign_in(client, world.user, csrf=CSRF)
        assert client.get("/account").status_code == 200
        yield client


def forge(
    client: TestClient, route: Any, path: str, token: str | None, headers: dict[str, str]
) -> Any:
    data = {**FIELDS, **({"csrf_token": token} if token is not None else {})}
    if takes_upload(route):
        files = {"screenshot": ("", b"", "application/octet-stream")}
        return client.post(path, data=data, files=files, headers=headers)
    return client.post(path, data=data, headers=headers)


FORGERIES = {
    "no token": (None, {}, EXPIRED_FORM),
    "wrong token": ("x" * len(CSRF), {}, EXPIRED_FORM),
    "foreign Origin": (CSRF, {"Origin": "https://evil.example"}, ANOTHER_SITE),
    "null Origin": (CSRF, {"Origin": "null"}, ANOTHER_SITE),
    "foreign Referer": (CSRF, {"Referer": "https://evil.example/form.html"}, ANOTHER_SITE),
    "cross-site fetch": (CSRF, {"Sec-Fetch-Site": "cross-site"}, ANOTHER_SITE),
}


def signed(route: Any) -> bool:
    """A webhook: another service's post, verified by that service's signature, not a form."""
    return any(dep.call is whatsapp.signed_body for dep in _all_deps(route))


# The posts that are not forms, each refused without its sender's signature.
WEBHOOKS = {"/webhooks/whatsapp": "This request is not signed by WhatsApp, so it was refused."}


def test_every_post_route_checks_the_csrf_token(app: FastAPI) -> None:
    """A form handler that reads its body without the check would escape every other test."""
    unchecked = [
        route.path
        for route in post_routes(app)
        if not any(dep.call in (checked_form, checked_upload) for dep in _all_deps(route))
        and getattr(route, "form_check", None) not in (checked_form, checked_upload)
        and not signed(route)
    ]
    assert unchecked == []
    # Only the webhooks go without: each of them checks its signature instead.
    assert {route.path for route in post_routes(app) if signed(route)} == set(WEBHOOKS)
    # The lean routes take their form through the same check.
    lean = [route.path for route in post_routes(app) if isinstance(route, LeanFormRoute)]
    assert "/c/{slug}/sign" in lean


def _all_deps(route: Any) -> Iterator[Any]:
    if not hasattr(route, "dependant"):  # a lean route: no FastAPI dependencies
        return
    stack = list(route.dependant.dependencies)
    while stack:
        dep = stack.pop()
        yield dep
        stack.extend(dep.dependencies)


@pytest.mark.parametrize("forgery", list(FORGERIES))
def test_every_form_refuses_a_forged_request_and_stores_nothing(
    app: FastAPI, world: World, signed_in: TestClient, engine: sa.Engine, forgery: str
) -> None:
    token, headers, message = FORGERIES[forgery]
    before = snapshot(engine)
    answers: dict[str, str] = {}

    for route in post_routes(app):
        path = path_of(route, world.params)
        response = forge(signed_in, route, path, token, headers)
        detail = html(response).select_one("section.error-page p.detail")
        text = detail.get_text(" ", strip=True) if detail else response.text[:120]
        if response.headers.get("content-type", "").startswith("application/json"):
            text = response.json().get("detail", "")
        expected = WEBHOOKS.get(path, message)
        if response.status_code != 403 or expected not in text:
            answers[path] = f"{response.status_code}: {text}"

    assert answers == {}
    assert snapshot(engine) == before
    # Still signed in: a forged logout did not end the session either.
    assert signed_in.get("/account").status_code == 200


def test_a_form_from_our_own_pages_passes_the_same_checks(
    signed_in: TestClient, world: World, session: Session
) -> None:
    """The control for the test above: the same request with the right token, from this
    site, is taken (so the refusals above were the CSRF check's)."""
    path = f"/dashboard/{world.params['org']}/profile"
    response = signed_in.post(
        path,
        data={"csrf_token": CSRF, "name": "Nama Baru Lembaga", "website": ""},
        headers={"Origin": BASE, "Referer": f"{BASE}{path}", "Sec-Fetch-Site": "same-origin"},
    )

    assert response.status_code == 303
    session.commit()
    session.expire_all()
    org = accounts.get_org_by_slug(session, world.params["org"])
    # Taken: an approved organisation's new name waits for a site admin, another's shows.
    assert (org.pending_name if org.verified else org.name) == "Nama Baru Lembaga"


@pytest.mark.parametrize(
    ("age", "usable"), [(SESSION_MAX_AGE - 60, True), (SESSION_MAX_AGE + 60, False)]
)
def test_an_expired_session_carries_no_usable_token(
    app: FastAPI, world: World, session: Session, age: int, usable: bool
) -> None:
    """A session cookie older than its lifetime is worth nothing, its CSRF token included;
    one a minute younger still works (so the cookie itself was made right)."""
    with TestClient(app, base_url=BASE, follow_redirects=False) as client:
        client.cookies.set("lang", "en")
        signed_at = utcnow().timestamp() - age
        client.cookies.set(SESSION_COOKIE, session_cookie(world.user, CSRF, signed_at=signed_at))
        page = client.get("/account")

        response = client.post(
            "/account/name", data={"csrf_token": CSRF, "display_name": "Dari Masa Lalu"}
        )

    session.commit()
    session.expire_all()
    name = accounts.get(session, world.user.id or 0).display_name
    if usable:
        assert (page.status_code, response.status_code, name) == (200, 303, "Dari Masa Lalu")
    else:
        assert page.status_code == 303  # sent to sign in
        assert response.status_code in (303, 403)  # to sign in, or refused: never taken
        assert name == "Root"


# --- one-time links --------------------------------------------------------------------


def issued_at(monkeypatch: pytest.MonkeyPatch, moment: datetime) -> None:
    """The clock the accounts service reads when it issues a link."""
    monkeypatch.setattr("pledge.accounts.service.links.utcnow", lambda: moment)


@pytest.fixture
def anonymous(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url=BASE, follow_redirects=False) as client:
        client.cookies.set("lang", "en")
        yield client


def use_invite(client: TestClient, secret: str, name: str = "Dewi Lestari") -> Any:
    path = f"/invite/{secret}"
    token = csrf_token(client, "/login")
    return client.post(
        path,
        data={
            "csrf_token": token,
            "display_name": name,
            "password": "sandi-baru-yang-panjang",
            "password_confirm": "sandi-baru-yang-panjang",
        },
    )


def test_a_co_partner_invitation_works_once(
    app: FastAPI, session: Session, make_campaign: MakeCampaign, anonymous: TestClient
) -> None:
    """The invitation a lead organisation sends a new co-partner's admin, taken from the
    email: the first use joins, a replay from another browser is gone."""
    view = make_campaign(slug="kampanye-mitra", partners=0)
    lead = accounts.get_org_by_slug(session, view.partners[0].slug)
    admin = accounts.create(session, email="ketua@contoh.id", password=PASSWORD)
    accounts.add_member(session, user=admin, org=lead, role=Role.ADMIN)
    session.commit()
    with TestClient(app, base_url=BASE, follow_redirects=False) as manager:
        sign_in(manager, admin, csrf=CSRF)
        added = manager.post(
            f"/dashboard/{lead.slug}/campaigns/{view.slug}/partners",
            data={
                "csrf_token": CSRF,
                "kind": "invite",
                "name": "Komunitas Baru",
                "email": "pengurus@komunitas.example",
            },
        )
    assert added.status_code == 303
    session.commit()
    mail = session.exec(
        select(OutboxMessage).where(OutboxMessage.to == "pengurus@komunitas.example")
    ).one()
    found = re.search(r"/invite/([A-Za-z0-9_\-]+)", text_of(mail.id, mail.body))
    assert found is not None
    secret = found[1]

    assert use_invite(anonymous, secret).status_code == 303
    with TestClient(app, base_url=BASE, follow_redirects=False) as attacker:
        attacker.cookies.set("lang", "en")
        page = attacker.get(f"/invite/{secret}")
        replay = use_invite(attacker, secret, name="Penyusup")

    assert page.status_code == replay.status_code == 410
    assert "used already" in html(replay).select_one("p.detail").get_text()
    session.commit()
    session.expire_all()
    org = session.exec(select(Organization).where(Organization.name == "Komunitas Baru")).one()
    members = accounts.list_members(session, org=org)
    assert [m.user.display_name for m in members] == ["Dewi Lestari"]


@pytest.mark.parametrize(
    ("age", "usable"), [(timedelta(days=6, hours=23), True), (timedelta(days=7, minutes=1), False)]
)
def test_an_invitation_expires_after_the_configured_days(
    session: Session,
    make_org: Callable[..., Organization],
    anonymous: TestClient,
    monkeypatch: pytest.MonkeyPatch,
    age: timedelta,
    usable: bool,
) -> None:
    assert get_settings().invite_days == 7
    org = make_org()
    with monkeypatch.context() as clock:
        issued_at(clock, utcnow() - age)
        secret = accounts.invite(
            session, org=org, email="baru@contoh.id", role=Role.MODERATOR, invited_by=None,
            base_url=BASE,
        )  # fmt: skip
        session.commit()

    page = anonymous.get(f"/invite/{secret}")
    accepted = use_invite(anonymous, secret)

    session.commit()
    session.expire_all()
    joined = accounts.get_by_email(session, "baru@contoh.id")
    if usable:
        assert (page.status_code, accepted.status_code) == (200, 303)
        assert joined is not None
    else:
        assert page.status_code == accepted.status_code == 410
        assert html(page).select_one("p.detail").get_text(strip=True) == "This link has expired."
        assert joined is None


@pytest.mark.parametrize(
    ("age", "usable"), [(timedelta(minutes=59), True), (timedelta(minutes=61), False)]
)
def test_a_reset_link_expires_after_the_configured_minutes_and_works_once(
    app: FastAPI,
    session: Session,
    anonymous: TestClient,
    monkeypatch: pytest.MonkeyPatch,
    age: timedelta,
    usable: bool,
) -> None:
    assert get_settings().reset_minutes == 60
    user = accounts.create(session, email="lupa@contoh.id", password=PASSWORD)
    session.commit()
    old_hash = user.password_hash
    with monkeypatch.context() as clock:
        issued_at(clock, utcnow() - age)
        accounts.request_password_reset(session, email=user.email, base_url=BASE)
    path = f"/password/reset/{reset_secret(session, user.email)}"
    new = {"password": "sandi-pengganti-panjang", "password_confirm": "sandi-pengganti-panjang"}

    first = anonymous.post(path, data={"csrf_token": csrf_token(anonymous, "/login"), **new})
    with TestClient(app, base_url=BASE, follow_redirects=False) as other:
        other.cookies.set("lang", "en")
        again = other.post(path, data={"csrf_token": csrf_token(other, "/login"), **new})

    session.commit()
    session.expire_all()
    changed = accounts.get(session, user.id or 0).password_hash != old_hash
    if usable:
        assert first.status_code == 303
        assert changed
        assert again.status_code == 410
        assert "used already" in html(again).select_one("p.detail").get_text()
    else:
        assert first.status_code == again.status_code == 410
        assert html(first).select_one("p.detail").get_text(strip=True) == "This link has expired."
        assert not changed


def test_a_replayed_withdrawal_changes_no_count(
    app: FastAPI, make_campaign: MakeCampaign, sign: Sign, anonymous: TestClient
) -> None:
    view = make_campaign()
    sign(view, contact="tetap@contoh.id")
    leaving = sign(view, contact="pergi@contoh.id")
    assert leaving.supporter is not None
    path = f"/c/{view.slug}/withdraw/{leaving.supporter.token}"
    token = csrf_token(anonymous, path)

    first = anonymous.post(path, data={"csrf_token": token})
    replay = anonymous.post(path, data={"csrf_token": token})

    assert first.status_code == 303
    assert replay.status_code == 404
    assert anonymous.get(f"/api/v1/campaigns/{view.slug}").json()["supporters"] == 1
