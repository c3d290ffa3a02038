"""The dashboard writes days and times as people do, in Western Indonesian Time:
"6 December 2026, 03:10 WIB", never 2026-12-06 03:10."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlmodel import Session

from pledge import i18n
from pledge.accounts import service as accounts
from pledge.accounts.models import Role, user_token_table
from pledge.clock import WIB
from pledge.dashboard.service.abuse import Hour
from pledge.dashboard.service.breakdowns import over_time
from pledge.supporters.models import supporter_table
from tests.support.dashboard import World
from tests.support.factories import make_supporter
from tests.support.pages import html
from tests.support.people import AsUser

# 20:10 UTC on 5 December is 03:10 WIB on the 6th.
LATE = datetime(2026, 12, 5, 20, 10, tzinfo=UTC)
A_TIME = r"\d{1,2} [A-Z][a-z]+ \d{4}, \d\d:\d\d WIB"


def text(node) -> str:
    return node.get_text(" ", strip=True)


def test_the_statistics_say_as_of_when_as_people_write_it(world: World, as_user: AsUser) -> None:
    page = html(as_user(world.lead, Role.ADMIN).get(world.path("statistics")))

    hints = [text(p) for p in page.select(".summary .hint, section .hint")]
    assert any(re.fullmatch(f"Figures as of {A_TIME}\\.", hint) for hint in hints), hints
    note = text(page.select_one(".snapshot-note"))
    assert re.search(f"who had signed by {A_TIME}; they", note), note


def test_the_names_page_says_when_each_supporter_signed(
    session: Session, world: World, as_user: AsUser
) -> None:
    signing = make_supporter(
        session, world.view, name="Sari Dewi", contact="sari@example.com", show_name="on"
    )
    session.execute(
        sa.update(supporter_table)
        .where(supporter_table.c.id == signing.supporter.id)
        .values(created_at=LATE, confirmed_at=LATE)
    )
    session.commit()
    path = f"/dashboard/{world.lead.slug}/campaigns/{world.view.slug}/names"

    page = html(as_user(world.lead, Role.MODERATOR).get(path))

    meta = text(page.select_one(f"#name-{signing.supporter.id} .meta"))
    assert meta.endswith("Signed 6 December 2026, 03:10 WIB")


def test_an_invitation_says_the_day_it_expires(
    session: Session, world: World, as_user: AsUser
) -> None:
    accounts.invite(
        session,
        org=world.lead,
        email="baru@example.org",
        role=Role.MODERATOR,
        invited_by=None,
        base_url="https://suara.example",
    )
    session.execute(sa.update(user_token_table).values(expires_at=LATE.replace(year=2099)))
    session.commit()

    page = html(as_user(world.lead, Role.ADMIN).get(f"/dashboard/{world.lead.slug}/members"))

    expiry = page.select_one(".invitation .hint")
    assert expiry is not None and text(expiry) == "Expires on 6 December 2099"


def test_hours_of_the_charts_and_the_console_are_written_per_language() -> None:
    ten = datetime(2026, 12, 6, 10, tzinfo=WIB)
    i18n.set_locale("id")
    assert Hour(start=ten).label == "6 Des 10.00"
    _days, hours = over_time({}, days=7, now=ten)
    assert hours[-1].label == "6 Des 10.00"
    i18n.set_locale("en")
    assert Hour(start=ten).label == "6 Dec 10:00"
    assert over_time({}, days=7, now=ten)[1][-1].label == "6 Dec 10:00"
