"""Signing out ends the session on the server: a copy of its cookie kept from before signs
nobody in, while the same user's other sessions stay signed in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session

from pledge.accounts import service as accounts
from pledge.accounts.models import revoked_session_table
from pledge.config import get_settings
from pledge.privacy import retention
from pledge.web import SESSION_COOKIE, SESSION_MAX_AGE, _serializer
from tests.support.factories import MakeOrg, MakeUser
from tests.support.pages import csrf_token
from tests.support.people import sign_in

NOW = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)


def log_out(client: TestClient) -> None:
    response = client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})
    assert response.status_code == 303
    assert response.headers["location"] == "/"


def replay(client: TestClient, cookie: str) -> None:
    """Put back a session cookie the browser held before."""
    client.cookies.delete(SESSION_COOKIE)
    client.cookies.set(SESSION_COOKIE, cookie)


def to_sign_in(response: object) -> bool:
    status = getattr(response, "status_code", None)
    location = getattr(response, "headers", {}).get("location", "")
    return status == 303 and location.startswith("/login")


def test_a_cookie_copied_before_signing_out_signs_nobody_in(
    client: TestClient, other_client: TestClient, make_user: MakeUser, make_org: MakeOrg
) -> None:
    user = make_user(org=make_org(), role="moderator")
    sign_in(client, user)
    sign_in(other_client, user)  # the same person on another phone
    assert client.get("/account").status_code == 200
    assert client.get("/mod").status_code == 200
    copied = client.cookies.get(SESSION_COOKIE)
    assert copied

    log_out(client)
    replay(client, copied)

    assert to_sign_in(client.get("/account"))
    assert to_sign_in(client.get("/mod"))
    # The other session of the same user stays signed in.
    assert other_client.get("/account").status_code == 200
    assert other_client.get("/mod").status_code == 200


def test_signing_out_again_with_the_old_cookie_changes_nothing(
    client: TestClient, make_user: MakeUser, session: Session
) -> None:
    sign_in(client, make_user())
    copied = client.cookies.get(SESSION_COOKIE)
    assert copied
    token = csrf_token(client, "/account")
    log_out(client)
    replay(client, copied)

    # The old cookie's token still passes the form check; the session stays ended, once.
    again = client.post("/logout", data={"csrf_token": token})

    assert again.status_code == 303
    assert to_sign_in(client.get("/account"))
    session.rollback()
    assert (
        session.execute(sa.select(sa.func.count()).select_from(revoked_session_table)).scalar() == 1
    )


def test_signing_in_again_after_signing_out_starts_a_new_session(
    client: TestClient, make_user: MakeUser
) -> None:
    user = make_user()
    sign_in(client, user)
    first = client.cookies.get(SESSION_COOKIE)
    log_out(client)

    sign_in(client, user)

    assert client.get("/account").status_code == 200
    assert client.cookies.get(SESSION_COOKIE) != first


def test_each_session_has_an_id_of_its_own(
    client: TestClient, other_client: TestClient, make_user: MakeUser
) -> None:
    user = make_user()
    ids = []
    for browser in (client, other_client):
        sign_in(browser, user)
        raw = browser.cookies.get(SESSION_COOKIE)
        ids.append(_serializer(get_settings()).loads(raw)["sid"])
    assert all(len(sid) >= 22 for sid in ids)
    assert ids[0] != ids[1]


def test_a_cookie_from_before_sessions_had_ids_signs_nobody_in(
    client: TestClient, make_user: MakeUser
) -> None:
    user = make_user()
    old = _serializer(get_settings()).dumps(
        {"csrf": "x" * 32, "uid": user.id, "sv": user.session_version}
    )
    replay(client, old)
    assert to_sign_in(client.get("/account"))


def test_a_session_id_no_cookie_could_carry_signs_nobody_in(
    client: TestClient, make_user: MakeUser
) -> None:
    user = make_user()
    for sid in ("", 7, "s" * 65, None):
        cookie = _serializer(get_settings()).dumps(
            {"csrf": "x" * 32, "uid": user.id, "sv": user.session_version, "sid": sid}
        )
        replay(client, cookie)
        assert to_sign_in(client.get("/account")), sid


def test_signing_out_without_being_signed_in_is_harmless(
    client: TestClient, session: Session
) -> None:
    response = client.post("/logout", data={"csrf_token": csrf_token(client, "/login")})
    assert response.status_code == 303
    session.rollback()
    assert session.execute(sa.select(revoked_session_table.c.id)).first() is None


def test_retention_forgets_revoked_sessions_once_their_cookies_expired(
    session: Session,
) -> None:
    lasts = timedelta(seconds=SESSION_MAX_AGE)
    accounts.revoke_session(session, session_id="s" * 22, lasts=lasts, now=NOW - lasts * 2)
    accounts.revoke_session(session, session_id="t" * 22, lasts=lasts, now=NOW - timedelta(days=1))
    # Revoked twice: one row, the first one's.
    accounts.revoke_session(session, session_id="t" * 22, lasts=lasts, now=NOW)

    retention.run(session, now=NOW)

    session.rollback()
    left = session.execute(
        sa.select(revoked_session_table.c.id, revoked_session_table.c.expires_at)
    ).all()
    assert [row.id for row in left] == ["t" * 22]
    assert left[0].expires_at == NOW - timedelta(days=1) + lasts
