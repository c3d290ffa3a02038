"""Two-person publishing: a proposed verdict is published only when a second moderator
approves it, or goes back to the queue with its proposal kept in the history."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlmodel import Session

from pledge.audit import AuditAction
from pledge.db import utcnow, writing
from pledge.errors import Conflict, Forbidden
from pledge.hoaxes import service as hoaxes
from pledge.hoaxes.models import HoaxCase
from pledge.hoaxes.service import months
from pledge.hoaxes.states import CaseStatus
from pledge.hoaxes.states import transition as transition_to
from pledge.i18n import gettext as _
from pledge.moderation.service.cases import clean_reason, locked_case, transition
from pledge.moderation.service.claims import require_claim

if TYPE_CHECKING:
    from pledge.accounts.access import ModeratorContext


def approve(
    session: Session,
    *,
    access: ModeratorContext,
    case_id: int,
    reason: str,
    now: datetime | None = None,
) -> HoaxCase:
    """Publish a proposed verdict, and tell its reporters (those of the cases merged into it
    too) in the same transaction. The approver must hold the case and must not be the
    moderator who proposed it: a verdict goes public only with two people behind it."""
    now = now or utcnow()
    me = access.user.id
    with writing(session):
        case = locked_case(session, access, case_id)
        require_claim(session, case, me, now)
        transition_to(case.status, CaseStatus.PUBLISHED)  # refused (409) before who asks (403)
        if case.proposed_by_id == me:
            raise Forbidden(_("You proposed this verdict, so another moderator has to approve it."))
        reason = clean_reason(reason)
        case.approved_by_id = me
        case.published_at = now
        # Before the case closes: no contact is erased yet.
        hoaxes.tell_reporters(session, case=case, now=now, actor_id=me)
        transition(
            session,
            case=case,
            to=CaseStatus.PUBLISHED,
            actor_id=me,
            reason=reason,
            action=AuditAction.CASE_APPROVE,
            data={"label": case.label.value if case.label else None},
            now=now,
        )
        if case.label is not None:
            months.count_verdict(session, case=case)
    return case


def send_back(
    session: Session,
    *,
    access: ModeratorContext,
    case_id: int,
    reason: str,
    now: datetime | None = None,
) -> HoaxCase:
    """Return a proposed verdict to the queue. The proposal is cleared from the case and
    kept in the audit event, so nothing written is lost."""
    now = now or utcnow()
    me = access.user.id
    with writing(session):
        case = locked_case(session, access, case_id)
        require_claim(session, case, me, now)
        if case.status != CaseStatus.AWAITING_APPROVAL:
            raise Conflict(_("Only a verdict waiting for approval can be sent back."))
        reason = clean_reason(reason)
        proposal = {
            "label": case.label.value if case.label else None,
            "public_title": case.public_title,
            "correction": case.correction,
            "public_explanation": case.public_explanation,
            "fact_check_url": case.fact_check_url,
            "claim_author": case.claim_author,
            "claim_date": case.claim_date.isoformat() if case.claim_date else None,
            "proposed_by_id": case.proposed_by_id,
            "credentials": case.credentials_note,
        }
        case.label = None
        case.public_title = ""
        case.correction = ""
        case.public_explanation = ""
        case.fact_check_url = None
        case.claim_author = ""
        case.claim_date = None
        case.credentials_note = ""
        case.proposed_by_id = None
        hoaxes.show_original(session, case_id=case.id or 0, shown=False)
        transition(
            session,
            case=case,
            to=CaseStatus.NEW,
            actor_id=me,
            reason=reason,
            action=AuditAction.CASE_SEND_BACK,
            data={"proposal": proposal},
            now=now,
        )
    return case
