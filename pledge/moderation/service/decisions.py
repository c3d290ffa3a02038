"""Decisions on a case by the moderator holding it, and rejecting many cases at once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from sqlmodel import Session

from pledge.db import utcnow, writing
from pledge.errors import Invalid
from pledge.hoaxes.models import HoaxCase, Verdict
from pledge.hoaxes.states import CaseStatus, Decision, decision_target
from pledge.i18n import gettext as _
from pledge.moderation.service.cases import (
    case_not_found,
    case_number,
    locked_cases,
    reason_error,
    transition,
)
from pledge.moderation.service.claims import claim_active, require_claim
from pledge.moderation.service.merging import merge, merge_refusal

if TYPE_CHECKING:
    from pledge.accounts.access import ModeratorContext

TITLE_MAX = 200
EXPLANATION_MAX = 4000
URL_MAX = 2048
BULK_MAX = 100


@dataclass(frozen=True, slots=True)
class DecisionForm:
    """The decision form as posted: strings, so that bad input can be shown back."""

    decision: str = ""
    reason: str = ""
    label: str = ""
    public_title: str = ""
    public_explanation: str = ""
    fact_check_url: str = ""
    target_case_id: str = ""


def _parse_decision(raw: str) -> Decision:
    try:
        return Decision(raw)
    except ValueError:
        raise Invalid({"decision": _("Choose one of the decisions offered.")}) from None


def _check_url(raw: str) -> str | None:
    """The fact-check link: empty, or an http(s) address with a host."""
    url = raw.strip()
    if not url:
        return None
    parts = urlsplit(url)
    if len(url) > URL_MAX or parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValueError(url)
    if any(ch.isspace() or ord(ch) < 32 for ch in url):
        raise ValueError(url)
    return url


def _hoax_errors(form: DecisionForm) -> dict[str, str]:
    """What is wrong with a proposed verdict: its label, public title, explanation, link."""
    errors: dict[str, str] = {}
    if form.label not in {v.value for v in Verdict}:
        errors["label"] = _("Choose the label the verdict carries.")
    title = form.public_title.strip()
    if not title:
        errors["public_title"] = _("Write the title the public will read.")
    elif len(title) > TITLE_MAX:
        errors["public_title"] = _("Keep the title to %(max)s characters.") % {"max": TITLE_MAX}
    explanation = form.public_explanation.strip()
    if not explanation:
        errors["public_explanation"] = _("Explain to the public what is wrong, and how you know.")
    elif len(explanation) > EXPLANATION_MAX:
        errors["public_explanation"] = _("Keep the explanation to %(max)s characters.") % {
            "max": EXPLANATION_MAX
        }
    try:
        _check_url(form.fact_check_url)
    except ValueError:
        errors["fact_check_url"] = _(
            "Enter a full web address starting with http:// or https://, or leave it empty."
        )
    return errors


def _form_errors(
    form: DecisionForm, decision: Decision, case: HoaxCase, target: HoaxCase | None
) -> dict[str, str]:
    """Every message for the fields of this decision's form, by field."""
    errors: dict[str, str] = {}
    error = reason_error(form.reason)
    if error:
        errors["reason"] = error
    if decision == Decision.HOAX:
        errors.update(_hoax_errors(form))
    if decision == Decision.DUPLICATE:
        error = merge_refusal(case, form.target_case_id, target)
        if error:
            errors["target_case_id"] = error
    return errors


def _propose(
    session: Session,
    *,
    case: HoaxCase,
    form: DecisionForm,
    actor_id: int | None,
    reason: str,
    now: datetime,
) -> None:
    """Write the verdict on the case, for a second moderator to approve."""
    case.label = Verdict(form.label)
    case.public_title = form.public_title.strip()
    case.public_explanation = form.public_explanation.replace("\r\n", "\n").strip()
    case.fact_check_url = _check_url(form.fact_check_url)
    case.proposed_by_id = actor_id
    case.approved_by_id = None
    data: dict[str, Any] = {
        "decision": Decision.HOAX.value,
        "label": case.label.value,
        "public_title": case.public_title,
    }
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
        decision = _parse_decision(form.decision)
        target_id = case_number(form.target_case_id) if decision == Decision.DUPLICATE else None
        locked = locked_cases(session, access, [case_id, target_id or 0])
        case = locked.get(case_id)
        if case is None:
            raise case_not_found()
        require_claim(session, case, me, now)
        wanted = decision_target(case.status, decision)
        target = locked.get(target_id) if target_id is not None else None
        errors = _form_errors(form, decision, case, target)
        if errors:
            raise Invalid(errors)
        reason = form.reason.strip()
        if decision == Decision.HOAX:
            _propose(session, case=case, form=form, actor_id=me, reason=reason, now=now)
        elif decision == Decision.DUPLICATE:
            assert target is not None
            merge(session, case=case, target=target, actor_id=me, reason=reason, now=now)
        else:
            data = {"decision": decision.value}
            transition(
                session, case=case, to=wanted, actor_id=me, reason=reason, data=data, now=now
            )
    return case


# --- many at once ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BulkResult:
    rejected: int
    skipped: int


def _bulk_errors(case_ids: list[str], reason: str) -> dict[str, str]:
    """What is wrong with the bulk form: its reason, and how many cases it chose."""
    errors: dict[str, str] = {}
    error = reason_error(reason)
    if error:
        errors["reason"] = error
    if not case_ids:
        errors["case_ids"] = _("Choose at least one case.")
    elif len(case_ids) > BULK_MAX:
        errors["case_ids"] = _("Choose at most %(max)s cases at a time.") % {"max": BULK_MAX}
    return errors


def bulk_reject(
    session: Session,
    *,
    access: ModeratorContext,
    case_ids: list[str],
    reason: str,
    now: datetime | None = None,
) -> BulkResult:
    """Reject many cases at once (spam, out of scope). Only open cases the moderator may see
    and that nobody else holds are rejected; the rest are left alone and counted."""
    now = now or utcnow()
    me = access.user.id
    errors = _bulk_errors(case_ids, reason)
    if errors:
        raise Invalid(errors)
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
                reason=reason.strip(),
                action="case.bulk_reject",
                data={"decision": Decision.REJECTED.value, "batch": len(case_ids)},
                now=now,
            )
            rejected += 1
    return BulkResult(rejected=rejected, skipped=len(set(case_ids)) - rejected)
