"""Corrections of published verdicts, as stored: the one waiting for a second moderator, and
the approved ones a verdict page lists. The rules (who proposes, who approves, what a case
becomes) are moderation's, in ``pledge.moderation.service.corrections``."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from pledge.db import ID_MAX
from pledge.hoaxes.models import Correction, Verdict

# The corrections a verdict page lists: more would be a different verdict.
CORRECTIONS_SHOWN = 20


def get_waiting_correction(session: Session, *, case_id: int) -> Correction | None:
    """The correction of this case waiting for approval, if one does."""
    return session.exec(
        select(Correction)
        .where(Correction.case_id == case_id, col(Correction.approved_at).is_(None))
        .order_by(col(Correction.id))
    ).first()


def get_correction(session: Session, *, case_id: int, correction_id: int) -> Correction | None:
    """A correction of this case (None for one of another case, or none at all)."""
    if not 0 < correction_id <= ID_MAX:
        return None
    found = session.get(Correction, correction_id)
    return found if found is not None and found.case_id == case_id else None


def list_corrections(session: Session, *, case_id: int) -> list[Correction]:
    """The approved corrections of a verdict, newest first."""
    return list(
        session.exec(
            select(Correction)
            .where(Correction.case_id == case_id, col(Correction.approved_at).is_not(None))
            .order_by(col(Correction.approved_at).desc(), col(Correction.id).desc())
            .limit(CORRECTIONS_SHOWN)
        )
    )


def add_correction(
    session: Session,
    *,
    case_id: int,
    label: Verdict,
    public_title: str,
    correction: str,
    public_explanation: str,
    note: str,
    proposed_by_id: int | None,
    now: datetime,
) -> Correction:
    """Store a proposed correction, inside the caller's write transaction."""
    row = Correction(
        case_id=case_id,
        label=label,
        public_title=public_title,
        correction=correction,
        public_explanation=public_explanation,
        note=note,
        proposed_by_id=proposed_by_id,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row


def mark_correction_approved(
    session: Session, correction: Correction, *, approver_id: int | None, now: datetime
) -> Correction:
    session.add(correction)
    correction.approved_by_id = approver_id
    correction.approved_at = now
    session.flush()
    return correction


def discard_correction(session: Session, correction: Correction) -> None:
    """Remove a waiting correction; its text stays in the case's audit history."""
    session.delete(correction)
    session.flush()
