"""A reporter's answer to the moderators' question: stored by the hoaxes domain, then the case
goes back to the queue, marked as answered, through the one transition of a case.

A case takes answers while it needs more information and, once answered, until a moderator
decides on it again, so that each of its reporters may answer (hoaxes.awaits_answers)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from pledge import audit
from pledge.audit import AuditAction
from pledge.db import utcnow, writing
from pledge.errors import Conflict
from pledge.hoaxes import service as hoaxes
from pledge.hoaxes.models import HoaxCase, ReportAnswer
from pledge.hoaxes.states import CaseStatus
from pledge.i18n import gettext as _
from pledge.moderation.service.cases import subject, transition


def answer_limit() -> str:
    """Answers per address per minute: as generous as reports, for the same shared addresses."""
    return "30/minute"


def not_waiting() -> Conflict:
    return Conflict(
        _(
            "The moderators are not waiting for an answer to this report any more, so nothing "
            "was sent. This page shows where your report is now."
        )
    )


def _locked_case(session: Session, case_id: int) -> HoaxCase | None:
    """The case as it is now, locked until the transaction ends."""
    return session.exec(
        select(HoaxCase)
        .where(HoaxCase.id == case_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()


def answer(
    session: Session,
    *,
    code: str,
    form: hoaxes.AnswerForm,
    sender: str = "",
    now: datetime | None = None,
) -> ReportAnswer:
    """Store the answer of the reporter holding this tracking code, and send the case back to
    the queue. Checks, in order: the code (404, as for any unknown code), the case waits for
    answers (409), the fields and the screenshot (422), this reporter's answers (409)."""
    now = now or utcnow()
    status = hoaxes.get_status(session, code=code)
    if not hoaxes.awaits_answers(status.case):
        raise not_waiting()
    clean = form.check(sender=sender)  # the picture decoded before any lock is taken
    report_id, case_id = status.report.id or 0, status.case.id or 0
    with writing(session):
        case = _locked_case(session, case_id)
        if case is None or not hoaxes.awaits_answers(case):
            raise not_waiting()
        if hoaxes.count_report_answers(session, report_id=report_id) >= hoaxes.ANSWERS_PER_REPORT:
            raise Conflict(
                _("You have already answered several times. The moderators will read it all.")
            )
        stored = hoaxes.add_answer(
            session, case_id=case_id, report_id=report_id, clean=clean, now=now
        )
        data = {"report": report_id, "answer": stored.id}
        if case.status == CaseStatus.NEEDS_INFO:
            transition(
                session,
                case=case,
                to=CaseStatus.NEW,
                actor_id=None,
                reason="",
                action=AuditAction.CASE_ANSWER,
                data=data,
                now=now,
            )
        else:
            # Back in the queue already, by another reporter's answer: marked again.
            case.answered_at = case.updated_at = now
            session.add(case)
            audit.record(
                session,
                actor_id=None,
                action=AuditAction.CASE_ANSWER,
                subject=subject(case_id),
                data=data,
            )
    return stored
