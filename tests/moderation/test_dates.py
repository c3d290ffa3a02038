"""The moderators' pages write days and times as people do, in Western Indonesian Time:
"6 December 2026, 03:10 WIB", "7 December 2026", never 2026-12-06 or 20:10 UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlmodel import Session, col, select

from pledge import audit
from pledge.audit import AuditAction
from pledge.hoaxes.models import Escalation, EscalationOutcome, EscalationTarget, HoaxReport
from tests.support.factories import MakeCase
from tests.support.moderation import Browser, World, case_url
from tests.support.pages import html

# 20:10 UTC on 5 December is 03:10 WIB on the 6th: the day a moderator in Jakarta saw.
LATE = datetime(2026, 12, 5, 20, 10, tzinfo=UTC)


def text(node) -> str:
    return node.get_text(" ", strip=True)


def test_the_case_page_writes_its_days_and_times_as_people_do(
    session: Session, world: World, make_case: MakeCase, browser: Browser
) -> None:
    case = make_case(world.a, status="published", created_at=LATE)
    report = session.exec(select(HoaxReport).where(col(HoaxReport.case_id) == case.id)).one()
    report.seen_on = date(2026, 12, 4)
    session.add(report)
    session.add(
        Escalation(
            campaign_id=world.a.id,
            case_id=case.id or 0,
            target=EscalationTarget.BAWASLU,
            reported_on=date(2026, 12, 7),
            outcome=EscalationOutcome.REMOVED,
            outcome_on=date(2026, 12, 9),
        )
    )
    event = audit.record(
        session, actor_id=world.mod_a.id, action=AuditAction.CASE_CLAIM, subject=f"case:{case.id}"
    )
    event.created_at = LATE
    session.commit()

    page = html(browser(world.mod_a).get(case_url(case)))

    details = text(page.select_one("#details"))
    assert "6 December 2026, 03:10 WIB (" in details
    published = page.select_one("#published-at time")
    assert text(published) == "6 December 2026, 03:10 WIB"
    assert published["datetime"] == "2026-12-05T20:10:00Z"
    meta = text(page.select_one(f"#report-{report.id} .meta"))
    assert "seen on 4 December 2026" in meta
    assert "sent 6 December 2026, 03:10 WIB" in meta
    escalation = page.select_one(".escalation")
    assert "reported on 7 December 2026" in text(escalation)
    assert text(escalation.select_one(".outcome")) == "Removed on 9 December 2026"
    when = page.select_one("#history tr.event .time time")
    assert (text(when), when["datetime"]) == ("6 Dec 2026 03:10 WIB", "2026-12-05T20:10:00Z")
    assert text(page.select_one("#history th")) == "When"
    assert "2026-12" not in page.select_one("main").get_text()


def test_indonesian_pages_write_the_time_with_a_dot(
    session: Session, world: World, make_case: MakeCase, browser: Browser
) -> None:
    case = make_case(world.a, claimed_by=world.mod_a)
    case.claim_expires_at = datetime(2099, 1, 1, 20, 10, tzinfo=UTC)
    session.add(case)
    session.commit()
    client = browser(world.mod_a)
    client.cookies.set("lang", "id")

    page = html(client.get(case_url(case)))

    assert text(page.select_one("#holder")).endswith("2 Januari 2099, 03.10 WIB.")


def test_the_queue_says_until_when_a_case_is_held(
    session: Session, world: World, make_case: MakeCase, browser: Browser
) -> None:
    case = make_case(world.a, claimed_by=world.mod_a2)
    case.claim_expires_at = datetime(2099, 1, 1, 2, 5, tzinfo=UTC)
    session.add(case)
    session.commit()

    page = html(browser(world.mod_a).get("/mod"))

    holder = text(page.select_one(f"#case-{case.id} .holder"))
    assert holder.endswith("until 1 January 2099, 09:05 WIB.")
