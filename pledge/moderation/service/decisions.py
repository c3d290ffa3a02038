"""Decisions on a case by the moderator holding it, and rejecting many cases at once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from pledge.audit import AuditAction
from pledge.db import utcnow, writing
from pledge.forms import Checks
from pledge.hoaxes import service as hoaxes
from pledge.hoaxes.models import CaseOriginal, HoaxCase
from pledge.hoaxes.service.originals import PAIR_LABELS
from pledge.hoaxes.states import CaseStatus, Decision, decision_target
from pledge.i18n import gettext as _
from pledge.moderation.service.cases import case_not_found, case_number, locked_cases, transition
from pledge.moderation.service.claims import claim_active, require_claim
from pledge.moderation.service.forms import (
    BulkRejectForm,
    DecisionForm,
    Proposal,
    check_question,
)
from pledge.moderation.service.merging import merge, merge_refusal

if TYPE_CHECKING:
    from pledge.accounts.access import ModeratorContext


@dataclass(frozen=True, slots=True)
class _Evidence:
    """What a verdict may show besides its text: the note on the case's valid Content
    Credentials, and the original a moderator attached."""

    credentials: hoaxes.PublicCredentials | None = None
    original: CaseOriginal | None = None


def _evidence(session: Session, case: HoaxCase, form: DecisionForm) -> _Evidence:
    """The evidence the posted verdict asks to show, where the case has it."""
    credentials = None
    if form.show_credentials:
        findings = hoaxes.case_findings(session, case_id=case.id or 0)
        credentials = hoaxes.public_credentials(findings)
    return _Evidence(credentials, hoaxes.get_original(session, case_id=case.id or 0))


def _check_evidence(checks: Checks, proposal: Proposal, evidence: _Evidence) -> None:
    if proposal.show_credentials and evidence.credentials is None:
        checks.refuse(
            "show_credentials",
            _(
                "No file of this case carries valid Content Credentials, so the verdict "
                "cannot quote them. Untick the box."
            ),
        )
    if proposal.show_original and evidence.original is None:
        checks.refuse("show_original", _("This case has no original to show. Untick the box."))
    elif proposal.show_original and proposal.label not in PAIR_LABELS:
        checks.refuse(
            "show_original",
            _("Only a %(labels)s verdict shows the original beside the picture.")
            % {"labels": " / ".join(sorted(PAIR_LABELS))},
        )


def _checked(
    form: DecisionForm,
    decision: Decision,
    case: HoaxCase,
    target: HoaxCase | None,
    evidence: _Evidence,
) -> tuple[str, Proposal | None, str]:
    """The reason, for a hoax the verdict proposed, and for "needs more information" the
    question for the reporters; Invalid with every message of this decision's form, by
    field."""
    checks = Checks()
    reason, proposal = form.clean(checks, decision)
    question = ""
    if decision == Decision.NEEDS_INFO:
        question = checks.run("question", check_question, form.question) or ""
    if decision == Decision.DUPLICATE:
        error = merge_refusal(case, form.target_case_id, target)
        if error:
            checks.refuse("target_case_id", error)
    if proposal is not None:
        _check_evidence(checks, proposal, evidence)
    checks.done()
    return reason, proposal, question


def _propose(
    session: Session,
    *,
    case: HoaxCase,
    proposal: Proposal,
    evidence: _Evidence,
    actor_id: int | None,
    reason: str,
    now: datetime,
) -> None:
    """Write the verdict on the case, for a second moderator to approve, with the note on
    Content Credentials and the original beside the picture when the moderator chose to
    show them."""
    case.label = proposal.label
    case.public_title = proposal.public_title
    case.correction = proposal.correction
    case.public_explanation = proposal.public_explanation
    case.fact_check_url = proposal.fact_check_url
    case.claim_author = proposal.claim_author
    case.claim_date = proposal.claim_date
    shown = evidence.credentials if proposal.show_credentials else None
    case.credentials_note = shown.to_json() if shown is not None else ""
    hoaxes.show_original(session, case_id=case.id or 0, shown=proposal.show_original)
    case.proposed_by_id = actor_id
    case.approved_by_id = None
    data: dict[str, Any] = {
        "decision": Decision.HOAX.value,
        "label": case.label.value,
        "public_title": case.public_title,
        "correction": case.correction,
    }
    if case.credentials_note:
        data["credentials"] = case.credentials_note
    if proposal.show_original:
        data["show_original"] = True
    transition(
        session,
        case=case,
        to=CaseStatus.AWAITING_APPROVAL,
        actor_id=actor_id,
        reason=reason,
        data=data,
        now=now,
    )


def decide(
    session: Session,
    *,
    access: ModeratorContext,
    case_id: int,
    form: DecisionForm,
    now: datetime | None = None,
) -> HoaxCase:
    """A decision by the moderator holding the case. Checks, in order: the decision is known
    (422), the case is visible (404), the claim is held (409), the status allows it (409),
    the fields (422)."""
    now = now or utcnow()
    me = access.user.id
    with writing(session):
        decision = form.chosen()
        target_id = case_number(form.target_case_id) if decision == Decision.DUPLICATE else None
        locked = locked_cases(session, access, [case_id, target_id or 0])
        case = locked.get(case_id)
        if case is None:
            raise case_not_found()
        require_claim(session, case, me, now)
        wanted = decision_target(case.status, decision)
        target = locked.get(target_id) if target_id is not None else None
        evidence = _evidence(session, case, form) if decision == Decision.HOAX else _Evidence()
        reason, proposal, question = _checked(form, decision, case, target, evidence)
        if proposal is not None:
            _propose(
                session,
                case=case,
                proposal=proposal,
                evidence=evidence,
                actor_id=me,
                reason=reason,
                now=now,
            )
        elif decision == Decision.DUPLICATE:
            assert target is not None
            merge(session, case=case, target=target, actor_id=me, reason=reason, now=now)
        else:
            data = {"decision": decision.value}
            if decision == Decision.NEEDS_INFO:
                # Shown to the reporters on their pages until they answer or a moderator
                # decides again; kept in the history with the decision.
                case.question = question
                data["question"] = question
            transition(
                session, case=case, to=wanted, actor_id=me, reason=reason, data=data, now=now
            )
    return case


# --- many at once ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BulkResult:
    rejected: int
    skipped: int


def bulk_reject(
    session: Session,
    *,
    access: ModeratorContext,
    form: BulkRejectForm,
    now: datetime | None = None,
) -> BulkResult:
    """Reject many cases at once (spam, out of scope). Only open cases the moderator may see
    and that nobody else holds are rejected; the rest are left alone and counted."""
    now = now or utcnow()
    me = access.user.id
    reason = form.check()
    case_ids = form.case_ids
    wanted = {n for n in (case_number(raw) for raw in case_ids) if n is not None}
    rejected = 0
    with writing(session):
        for case in locked_cases(session, access, wanted).values():
            if case.status not in CaseStatus.OPEN or (
                claim_active(case, now) and case.claimed_by_id != me
            ):
                continue
            transition(
                session,
                case=case,
                to=CaseStatus.REJECTED,
                actor_id=me,
                reason=reason,
                action=AuditAction.CASE_BULK_REJECT,
                data={"decision": Decision.REJECTED.value, "batch": len(case_ids)},
                now=now,
            )
            rejected += 1
    return BulkResult(rejected=rejected, skipped=len(set(case_ids)) - rejected)
