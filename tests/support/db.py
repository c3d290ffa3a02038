"""Reading what the app wrote: the test's session sees it only after ``fresh``."""

from __future__ import annotations

import re
from typing import Any

from sqlmodel import Session, col, select

from pledge.audit import AuditEvent
from pledge.hoaxes.models import HoaxCase, HoaxReport
from pledge.mail import OutboxMessage
from tests.support.mailbox import text_of


def fresh(session: Session) -> Session:
    """End the test's read transaction (a snapshot, on SQLite in WAL mode) and forget loaded
    rows, so that what the app has written since is seen."""
    session.commit()
    session.expire_all()
    return session


def count(session: Session, model: Any) -> int:
    return len(fresh(session).exec(select(model)).all())


# --- mail ----------------------------------------------------------------------------


def outbox(session: Session) -> list[OutboxMessage]:
    """The messages in the outbox, oldest first, each with its text as ``body``
    (``tests.support.mailbox``): rows let go of by the session, so that the text is never
    written back."""
    fresh(session)
    messages = list(session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))))
    for message in messages:
        session.expunge(message)
        message.body = text_of(message.id, message.body)
    return messages


def link_in(message: OutboxMessage, path: str) -> str:
    """The path of the link in an email that starts with ``path`` (like /invite/)."""
    found = re.search(r"https?://[^/\s]+(" + re.escape(path) + r"[A-Za-z0-9_\-]+)", message.body)
    assert found, message.body
    return found.group(1)


# --- the audit log -------------------------------------------------------------------


def audit_actions(session: Session, subject: str | None = None) -> list[str]:
    fresh(session)
    query = select(AuditEvent).order_by(col(AuditEvent.id))
    if subject is not None:
        query = query.where(AuditEvent.subject == subject)
    return [event.action for event in session.exec(query)]


def events(session: Session, case: HoaxCase | int) -> list[AuditEvent]:
    """What the audit log holds about a case, oldest first."""
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


# --- hoax cases and reports ----------------------------------------------------------


def reload(session: Session, case: HoaxCase) -> HoaxCase:
    found = fresh(session).get(HoaxCase, case.id)
    assert found is not None
    return found


def case_of(session: Session, report: HoaxReport) -> HoaxCase:
    case = fresh(session).get(HoaxCase, report.case_id)
    assert case is not None
    return case


def reports_in(session: Session, case_id: int) -> list[HoaxReport]:
    return list(
        fresh(session).exec(
            select(HoaxReport).where(HoaxReport.case_id == case_id).order_by(col(HoaxReport.id))
        )
    )
