"""The demo shows the whole hoax loop to a newcomer: cases in every state, published verdicts
with stamped pictures, reports to platforms with outcomes, a correction, a case waiting for its
reporter's answer, and months of history on the transparency page; seeded once."""

from __future__ import annotations

from collections import Counter

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from pledge.cli import main
from pledge.hoaxes.models import (
    Correction,
    Escalation,
    HoaxCase,
    HoaxMonth,
    HoaxReport,
)
from tests.support.db import fresh
from tests.support.pages import html


@pytest.fixture
def demo(session: Session) -> Session:
    assert main(["demo", "--supporters", "3"]) == 0
    return fresh(session)


def test_the_demo_shows_the_whole_loop(demo: Session, client: TestClient) -> None:
    statuses = Counter(case.status.value for case in demo.exec(select(HoaxCase)))
    assert statuses == {
        "published": 5,
        "needs_info": 1,
        "awaiting_approval": 1,
        "not_hoax": 1,
        "rejected": 1,
        "new": 2,
    }
    published = demo.exec(select(HoaxCase).where(HoaxCase.status == "published")).all()
    # Each verdict names a claim and its correction, checked by two different moderators.
    assert all(c.public_title and c.correction and c.label for c in published)
    assert all(c.proposed_by_id != c.approved_by_id for c in published)
    assert sum(1 for c in published if c.media_id is not None) == 5
    # Counted cases: the reports of each case are on its count.
    for case in demo.exec(select(HoaxCase)):
        reports = demo.exec(select(HoaxReport).where(HoaxReport.case_id == case.id)).all()
        assert len(reports) == case.report_count

    # Reports to platforms with their outcomes, a correction, a question with a contact.
    escalations = demo.exec(select(Escalation)).all()
    assert len(escalations) == 5 and all(e.outcome is not None for e in escalations)
    (correction,) = demo.exec(select(Correction)).all()
    assert correction.approved_at is not None
    assert correction.proposed_by_id != correction.approved_by_id
    waiting = demo.exec(select(HoaxCase).where(HoaxCase.status == "needs_info")).one()
    assert waiting.question.startswith("Terima kasih!")
    contact = demo.exec(select(HoaxReport).where(HoaxReport.case_id == waiting.id)).first()
    assert contact is not None and contact.may_contact and contact.contact_encrypted

    # Months of history, on the transparency page and the gallery's month filter.
    months = {row.month for row in demo.exec(select(HoaxMonth)) if row.count}
    assert len(months) >= 5
    reports = demo.execute(
        sa.select(sa.func.sum(HoaxMonth.count)).where(HoaxMonth.metric == "reports")
    ).scalar()
    assert reports == demo.execute(sa.select(sa.func.count()).select_from(HoaxReport)).scalar()
    page = html(client.get("/transparansi?lang=en"))
    assert len(page.select("#table-received tbody tr")) >= 5
    gallery = html(client.get("/hoaxes?lang=en"))
    assert len(gallery.select("li.card")) == 5
    assert len(gallery.select("select[name=month] option")) >= 5


def test_the_demo_is_seeded_once(demo: Session) -> None:
    before = demo.execute(sa.select(sa.func.count()).select_from(HoaxReport)).scalar()
    assert main(["demo", "--supporters", "3"]) == 0
    after = fresh(demo).execute(sa.select(sa.func.count()).select_from(HoaxReport)).scalar()
    assert after == before
