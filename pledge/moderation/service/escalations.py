"""Reports moderators made about a case elsewhere (to a platform, Bawaslu, Komdigi...) and what
came of them: the forms, their checks, and the case's history. Any moderator of the case may
record one, held or not, in any status but a merged duplicate: hoaxes are often reported to
platforms before the verdict is published."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlmodel import Session

from pledge import audit, forms
from pledge.audit import AuditAction
from pledge.campaigns import service as campaigns
from pledge.clock import as_utc
from pledge.db import utcnow, writing
from pledge.errors import Conflict
from pledge.forms import Checks, PostedForm, posted
from pledge.hoaxes.models import Escalation, EscalationOutcome, EscalationTarget, HoaxCase
from pledge.hoaxes.service import escalations as stored
from pledge.hoaxes.states import CaseStatus
from pledge.i18n import gettext as _
from pledge.moderation.service.cases import locked_case, subject
from pledge.moderation.service.forms import REASON_MAX

if TYPE_CHECKING:
    from pledge.accounts.access import ModeratorContext

REFERENCE_MAX = 200
TARGET_NAME_MAX = 120


def local_day(moment: datetime) -> date:
    """The day a stored time falls on in Jakarta time."""
    return as_utc(moment).astimezone(campaigns.WIB).date()


def _day(raw: str, *, earliest: date, today: date, early: str) -> date:
    """A date as ``<input type="date">`` sends it, between earliest and today."""
    try:
        day = date.fromisoformat(raw.strip())
    except ValueError:
        raise forms.refuse(_("Enter the date as the calendar gives it: YYYY-MM-DD.")) from None
    if day > today:
        raise forms.refuse(_("This date is in the future."))
    if day < earliest:
        raise forms.refuse(early)
    return day


def _optional_reason(raw: str) -> str:
    return forms.text(
        raw,
        max_length=REASON_MAX,
        too_long=_("Keep the reason to %(max)s characters.") % {"max": REASON_MAX},
    )


@dataclass(frozen=True, slots=True)
class CleanEscalation:
    target: EscalationTarget
    target_name: str
    reported_on: date
    reference: str
    reason: str


@dataclass(frozen=True, slots=True)
class EscalationForm(PostedForm):
    """A report made elsewhere, as posted."""

    target: str = posted(limit=40)
    target_name: str = posted(limit=TARGET_NAME_MAX * 2)
    reported_on: str = posted(limit=40)
    reference: str = posted(limit=REFERENCE_MAX * 2)
    reason: str = posted(limit=REASON_MAX * 2)

    def check(self, *, earliest: date, today: date) -> CleanEscalation:
        """The form's values, or Invalid with a message for each field that is wrong."""
        with Checks() as checks:
            target = checks.run(
                "target",
                forms.member,
                self.target,
                EscalationTarget,
                message=_("Choose where you reported it from the list."),
            )
            name = checks.run(
                "target_name",
                forms.text,
                self.target_name,
                max_length=TARGET_NAME_MAX,
                collapse=True,
                required=(
                    _("Name whom you reported it to.") if target == EscalationTarget.OTHER else None
                ),
                too_long=_("Keep the name to %(max)s characters.") % {"max": TARGET_NAME_MAX},
            )
            day = checks.run(
                "reported_on",
                _day,
                self.reported_on,
                earliest=earliest,
                today=today,
                early=_("The case was first reported after this date."),
            )
            reference = checks.run(
                "reference",
                forms.text,
                self.reference,
                max_length=REFERENCE_MAX,
                collapse=True,
                too_long=_("Keep the reference to %(max)s characters.") % {"max": REFERENCE_MAX},
            )
            reason = checks.run("reason", _optional_reason, self.reason)
        assert target is not None and day is not None
        return CleanEscalation(target, name or "", day, reference or "", reason or "")


@dataclass(frozen=True, slots=True)
class OutcomeForm(PostedForm):
    """What came of a report made elsewhere, as posted."""

    outcome: str = posted(limit=40)
    outcome_on: str = posted(limit=40)
    reason: str = posted(limit=REASON_MAX * 2)

    def check(self, *, earliest: date, today: date) -> tuple[EscalationOutcome, date, str]:
        with Checks() as checks:
            outcome = checks.run(
                "outcome",
                forms.member,
                self.outcome,
                EscalationOutcome,
                message=_("Choose what came of it from the list."),
            )
            day = checks.run(
                "outcome_on",
                _day,
                self.outcome_on,
                earliest=earliest,
                today=today,
                early=_("This is before the day it was reported."),
            )
            reason = checks.run("reason", _optional_reason, self.reason)
        assert outcome is not None and day is not None
        return outcome, day, reason or ""


def _escalable(session: Session, access: ModeratorContext, case_id: int) -> HoaxCase:
    case = locked_case(session, access, case_id)
    if case.status == CaseStatus.DUPLICATE:
        raise Conflict(_("This case is merged into another: record reports there."))
    return case


def escalate(
    session: Session,
    *,
    access: ModeratorContext,
    case_id: int,
    form: EscalationForm,
    now: datetime | None = None,
) -> Escalation:
    """Record a report a moderator made about the case elsewhere, in the case's history."""
    now = now or utcnow()
    with writing(session):
        case = _escalable(session, access, case_id)
        clean = form.check(earliest=local_day(case.created_at), today=local_day(now))
        escalation = stored.create(
            session,
            case=case,
            target=clean.target,
            target_name=clean.target_name,
            reported_on=clean.reported_on,
            reference=clean.reference,
            created_by_id=access.user.id,
            now=now,
        )
        audit.record(
            session,
            actor_id=access.user.id,
            action=AuditAction.CASE_ESCALATE,
            subject=subject(case.id or 0),
            reason=clean.reason,
            data={
                "escalation": escalation.id,
                "target": clean.target.value,
                "target_name": clean.target_name,
                "reported_on": clean.reported_on.isoformat(),
            },
        )
    return escalation


def record_outcome(
    session: Session,
    *,
    access: ModeratorContext,
    case_id: int,
    escalation_id: int,
    form: OutcomeForm,
    now: datetime | None = None,
) -> Escalation:
    """Record what came of a report made elsewhere, in the case's history."""
    now = now or utcnow()
    with writing(session):
        case = _escalable(session, access, case_id)
        escalation = stored.get_for_case(session, case_id=case.id or 0, escalation_id=escalation_id)
        outcome, day, reason = form.check(earliest=escalation.reported_on, today=local_day(now))
        previous = escalation.outcome
        stored.set_outcome(session, escalation=escalation, outcome=outcome, outcome_on=day, now=now)
        audit.record(
            session,
            actor_id=access.user.id,
            action=AuditAction.CASE_ESCALATION_OUTCOME,
            subject=subject(case.id or 0),
            reason=reason,
            data={
                "escalation": escalation.id,
                "target": escalation.target.value,
                "outcome": outcome.value,
                "outcome_on": day.isoformat(),
                "previous": previous.value if previous else None,
            },
        )
    return escalation


def list_for_case(session: Session, *, case_id: int) -> list[Escalation]:
    """The reports made elsewhere about a case the caller may already see."""
    return stored.list_for_case(session, case_id=case_id)
