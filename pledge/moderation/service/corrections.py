"""Corrections of published verdicts. A published verdict keeps its status for good (see
``pledge.hoaxes.states``): a correction replaces its text, never its status. One moderator
proposes the new text with a public note saying what changed and why; a second one approves
it, and only then does the verdict page change; until then the proposer or any moderator of
the case may withdraw it. Every step lands in the case's history with the texts it touched."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from pledge import audit
from pledge.audit import AuditAction
from pledge.db import utcnow, writing
from pledge.errors import Conflict, Forbidden, NotFound
from pledge.hoaxes import service as hoaxes
from pledge.hoaxes.models import Correction, HoaxCase
from pledge.hoaxes.service import months
from pledge.hoaxes.states import CaseStatus
from pledge.i18n import gettext as _
from pledge.moderation.service.cases import (
    clean_reason,
    display_name,
    locked_case,
    names,
    subject,
)
from pledge.moderation.service.forms import CorrectionForm

if TYPE_CHECKING:
    from pledge.accounts.access import ModeratorContext

# The fields a correction replaces, as the case and the correction both name them.
CORRECTED_FIELDS = ("label", "public_title", "correction", "public_explanation")


def _published(session: Session, access: ModeratorContext, case_id: int) -> HoaxCase:
    """The case, visible (404) and locked, when its verdict is published (409 otherwise)."""
    case = locked_case(session, access, case_id)
    if case.status != CaseStatus.PUBLISHED:
        raise Conflict(_("Only a published verdict can be corrected."))
    return case


def _text(item: HoaxCase | Correction) -> dict[str, Any]:
    """The verdict's text, as the history keeps it."""
    values = {name: getattr(item, name) for name in CORRECTED_FIELDS}
    values["label"] = str(values["label"]) if values["label"] else None
    return values


def _waiting(session: Session, case: HoaxCase, correction_id: int) -> Correction:
    """The correction of this case that waits for approval (404 for any other)."""
    found = hoaxes.get_correction(session, case_id=case.id or 0, correction_id=correction_id)
    if found is None or found.approved_at is not None:
        raise NotFound(_("No correction of this verdict is waiting with this number."))
    return found


def propose_correction(
    session: Session,
    *,
    access: ModeratorContext,
    case_id: int,
    form: CorrectionForm,
    now: datetime | None = None,
) -> Correction:
    """A correction proposed by any moderator of the case, for a second one to approve.
    Checks, in order: the case is visible (404), published (409), no other correction
    waits (409), the fields (422)."""
    now = now or utcnow()
    me = access.user.id
    with writing(session):
        case = _published(session, access, case_id)
        if hoaxes.get_waiting_correction(session, case_id=case.id or 0) is not None:
            raise Conflict(
                _(
                    "A correction of this verdict is already waiting: approve or withdraw it "
                    "before proposing another."
                )
            )
        amendment = form.check()
        correction = hoaxes.add_correction(
            session,
            case_id=case.id or 0,
            label=amendment.label,
            public_title=amendment.public_title,
            correction=amendment.correction,
            public_explanation=amendment.public_explanation,
            note=amendment.note,
            proposed_by_id=me,
            now=now,
        )
        audit.record(
            session,
            actor_id=me,
            action=AuditAction.CASE_CORRECT,
            subject=subject(case.id or 0),
            reason=amendment.reason,
            data={
                "step": "proposed",
                "correction_id": correction.id,
                "new": _text(correction),
                "note": amendment.note,
            },
        )
    return correction


def approve_correction(
    session: Session,
    *,
    access: ModeratorContext,
    case_id: int,
    correction_id: int,
    reason: str,
    now: datetime | None = None,
) -> HoaxCase:
    """Apply a waiting correction: a second moderator, not its proposer, approves it, and the
    verdict's text is replaced. Checks, in order: the case is visible (404), the correction
    waits on this case (404), the case is published (409), who approves (403), the reason
    (422)."""
    now = now or utcnow()
    me = access.user.id
    with writing(session):
        case = locked_case(session, access, case_id)
        correction = _waiting(session, case, correction_id)
        if case.status != CaseStatus.PUBLISHED:
            raise Conflict(_("Only a published verdict can be corrected."))
        if correction.proposed_by_id == me:
            raise Forbidden(
                _("You proposed this correction, so another moderator has to approve it.")
            )
        reason = clean_reason(reason)
        old = _text(case)
        _recount_label(session, case, correction)
        # The correction is applied here, in the approving transaction.
        for name in CORRECTED_FIELDS:
            setattr(case, name, getattr(correction, name))
        case.corrected_at = now
        case.updated_at = now
        session.add(case)
        hoaxes.mark_correction_approved(session, correction, approver_id=me, now=now)
        # Reporters whose contact is still kept (within 30 days of publication) are told.
        hoaxes.tell_reporters(session, case=case, now=now, corrected=True, actor_id=me)
        audit.record(
            session,
            actor_id=me,
            action=AuditAction.CASE_CORRECT,
            subject=subject(case.id or 0),
            reason=reason,
            data={
                "step": "approved",
                "correction_id": correction.id,
                "proposed_by_id": correction.proposed_by_id,
                "old": old,
                "new": _text(case),
                "note": correction.note,
            },
        )
        session.flush()
    return case


def _recount_label(session: Session, case: HoaxCase, correction: Correction) -> None:
    """A corrected label moves the verdict between the monthly counts of its labels, in the
    month it was published."""
    if case.label == correction.label or case.published_at is None:
        return
    for label, by in ((case.label, -1), (correction.label, 1)):
        if label is not None:
            months.count(
                session,
                campaign_id=case.campaign_id,
                metric=months.verdict_metric(label),
                moment=case.published_at,
                by=by,
            )


def withdraw_correction(
    session: Session,
    *,
    access: ModeratorContext,
    case_id: int,
    correction_id: int,
    reason: str,
    now: datetime | None = None,
) -> None:
    """Discard a waiting correction (its proposer or any moderator of the case), for a
    reason; its text stays in the case's history."""
    me = access.user.id
    with writing(session):
        case = locked_case(session, access, case_id)
        correction = _waiting(session, case, correction_id)
        reason = clean_reason(reason)
        audit.record(
            session,
            actor_id=me,
            action=AuditAction.CASE_CORRECT,
            subject=subject(case.id or 0),
            reason=reason,
            data={
                "step": "withdrawn",
                "correction_id": correction.id,
                "proposed_by_id": correction.proposed_by_id,
                "new": _text(correction),
                "note": correction.note,
            },
        )
        hoaxes.discard_correction(session, correction)


@dataclass(frozen=True, slots=True)
class WaitingCorrection:
    correction: Correction
    proposer: str  # the proposer's display name
    mine: bool  # proposed by the moderator reading the page: someone else approves it


def waiting_correction(
    session: Session, *, access: ModeratorContext, case: HoaxCase
) -> WaitingCorrection | None:
    """The correction of a published verdict waiting for approval, for the case page."""
    if case.status != CaseStatus.PUBLISHED:
        return None
    found = hoaxes.get_waiting_correction(session, case_id=case.id or 0)
    if found is None:
        return None
    proposer = names(session, [found.proposed_by_id]).get(found.proposed_by_id or 0)
    return WaitingCorrection(
        correction=found,
        proposer=proposer or display_name(None),
        mine=found.proposed_by_id == access.user.id,
    )
