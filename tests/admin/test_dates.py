"""The site administrators' pages write times as people do, in Western Indonesian Time."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.support.factories import MakeOrg, MakeUser
from tests.support.pages import html
from tests.support.people import Person, sign_in

# 20:10 UTC on 5 December is 03:10 WIB on the 6th.
LATE = datetime(2026, 12, 5, 20, 10, tzinfo=UTC)


def words(node) -> str:
    """The text as it reads: its words with single spaces."""
    return " ".join(node.get_text().split())


@pytest.mark.parametrize(
    ("lang", "expected", "short"),
    [
        ("en", "6 December 2026, 03:10 WIB", "6 Dec 2026 03:10 WIB"),
        ("id", "6 Desember 2026, 03.10 WIB", "6 Des 2026 03.10 WIB"),
    ],
)
def test_a_users_page_gives_times_in_jakarta_time(
    session: Session,
    new_client,
    site_admin: Person,
    make_user: MakeUser,
    make_org: MakeOrg,
    lang: str,
    expected: str,
    short: str,
) -> None:
    person = make_user("rina@example.org", org=make_org("mitra"))
    person.created_at = person.last_login_at = LATE
    session.add(person)
    session.commit()
    client: TestClient = sign_in(new_client(lang=lang), site_admin)

    soup = html(client.get(f"/admin/users/{person.id}"))

    for fact in ("last-login", "created"):
        shown = soup.select_one(f"dd[data-fact={fact}] time")
        assert (words(shown), shown["datetime"]) == (expected, "2026-12-05T20:10:00Z")
    listed = html(client.get("/admin/users?q=rina")).select_one("main table time")
    assert words(listed) == short
