"""Reporters' contacts: the reports one contact sent, found for a personal data request, and
contacts removed on request or, by retention, from closed cases."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from pledge.config import get_settings
from pledge.db import utcnow
from pledge.hoaxes import service as hoaxes
from pledge.hoaxes.models import hoax_report_table
from pledge.hoaxes.service import privacy as hoax_privacy
from pledge.hoaxes.states import CaseStatus
from pledge.security import FieldCipher
from tests.support.factories import MakeCampaign, MakeCase, MakeReport, set_case_status


def contacts(session: Session) -> dict[int, str | None]:
    """Each report's stored (encrypted) contact, by report id."""
    session.commit()
    rows = session.execute(
        sa.select(hoax_report_table.c.id, hoax_report_table.c.contact_encrypted)
    ).all()
    return {int(report_id): contact for report_id, contact in rows}


def test_the_reports_a_contact_sent_are_found_with_their_case_status(
    session: Session,
    make_campaign: MakeCampaign,
    make_report: MakeReport,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(hoax_privacy, "BATCH", 2)  # the stored contacts are read in batches
    first, second = make_campaign(), make_campaign()
    mine = [
        make_report(first, url="https://example.org/amplop-1", contact="Rina.Putri@Example.com"),
        make_report(second, url="https://example.org/amplop-2", contact="rina.putri@example.com"),
    ]
    for n in range(3):
        make_report(first, url=f"https://example.org/lain-{n}", contact=f"lain{n}@example.com")
    make_report(first, url="https://example.org/tanpa-kontak")
    set_case_status(session, mine[1].case_id, CaseStatus.NEEDS_INFO)
    cipher = FieldCipher(get_settings().secret_key)

    rows = hoaxes.list_reports_by_contact(session, contact="rina.putri@example.com", cipher=cipher)
    assert [(r.id, r.campaign_id, r.url, r.case_status) for r in rows] == [
        (mine[0].id, first.id, "https://example.org/amplop-1", CaseStatus.NEW),
        (mine[1].id, second.id, "https://example.org/amplop-2", CaseStatus.NEEDS_INFO),
    ]
    assert rows[0].tracking_code == mine[0].tracking_code
    assert hoaxes.list_reports_by_contact(session, contact="x@example.com", cipher=cipher) == []


def test_contacts_are_cleared_from_the_reports_named(
    session: Session, make_campaign: MakeCampaign, make_report: MakeReport
) -> None:
    view = make_campaign()
    mine = make_report(view, url="https://example.org/satu", contact="rina@example.com")
    theirs = make_report(view, url="https://example.org/dua", contact="sari@example.com")
    bare = make_report(view, url="https://example.org/tiga")

    assert hoaxes.clear_contacts(session, report_ids=[mine.id or 0, bare.id or 0]) == 1
    stored = contacts(session)
    assert stored[mine.id or 0] is None
    assert stored[theirs.id or 0] is not None
    assert hoaxes.clear_contacts(session, report_ids=[mine.id or 0]) == 0
    assert hoaxes.clear_contacts(session, report_ids=[]) == 0


def test_contacts_left_on_closed_cases_are_forgotten_in_batches(
    session: Session, make_campaign: MakeCampaign, make_case: MakeCase
) -> None:
    view = make_campaign()
    now = utcnow()
    window = hoaxes.CORRECTION_WINDOW
    closed = [
        make_case(view, status=status, reports=2, contact="sealed-contact")
        for status in ("rejected", "not_hoax")
    ]
    # A verdict published longer ago than the correction window: nobody is told any more.
    closed.append(
        make_case(
            view,
            status="published",
            reports=2,
            contact="sealed-contact",
            created_at=now - window - timedelta(minutes=1),
        )
    )
    # Published within the window: kept (encrypted) to tell its reporters of a correction.
    recent = make_case(
        view,
        status="published",
        reports=2,
        contact="sealed-contact",
        created_at=now - window + timedelta(minutes=1),
    )
    still_open = make_case(view, status="new", reports=2, contact="sealed-contact")
    waiting = make_case(view, status="awaiting_approval", contact="sealed-contact")

    assert hoaxes.forget_closed_contacts(session, now=now, batch=4) == 6
    session.commit()
    by_case: dict[int, set[str | None]] = {}
    for case_id, contact in session.execute(
        sa.select(hoax_report_table.c.case_id, hoax_report_table.c.contact_encrypted)
    ):
        by_case.setdefault(case_id, set()).add(contact)
    assert all(by_case[case.id or 0] == {None} for case in closed)
    assert by_case[recent.id or 0] == {"sealed-contact"}
    assert by_case[still_open.id or 0] == {"sealed-contact"}
    assert by_case[waiting.id or 0] == {"sealed-contact"}
    assert hoaxes.forget_closed_contacts(session, now=now) == 0
    # Once the window has passed for it too, the recent verdict's contacts go.
    assert hoaxes.forget_closed_contacts(session, now=now + timedelta(minutes=2)) == 2
    kept = set(contacts(session).values())
    assert kept == {None, "sealed-contact"}
    assert list(contacts(session).values()).count("sealed-contact") == 3  # the open cases'
