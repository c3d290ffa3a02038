"""Reports moderators made about a case to a platform or an authority, and their outcomes: the
rows themselves. Who may record them and what is checked is in
``pledge.moderation.service.escalations``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from pledge.db import ID_MAX, utcnow
from pledge.errors import NotFound
from pledge.hoaxes.models import (
    Escalation,
    EscalationOutcome,
    EscalationTarget,
    HoaxCase,
    escalation_table,
)
from pledge.hoaxes.service import months
from pledge.i18n import gettext as _


@dataclass(frozen=True, slots=True)
class PublicEscalation:
    """What the verdict page shows of a report made elsewhere: never its reference, nor who
    made it."""

    target: EscalationTarget
    target_name: str
    reported_on: date
    outcome: EscalationOutcome | None
    outcome_on: date | None

    @property
    def recipient(self) -> str:
        """Whom it was reported to, as the page names them."""
        if self.target == EscalationTarget.OTHER and self.target_name:
            return self.target_name
        return self.target.label


def create(
    session: Session,
    *,
    case: HoaxCase,
    target: EscalationTarget,
    target_name: str,
    reported_on: date,
    reference: str,
    created_by_id: int | None,
    now: datetime | None = None,
) -> Escalation:
    """Store a report made elsewhere about the case, in the caller's transaction."""
    now = now or utcnow()
    escalation = Escalation(
        campaign_id=case.campaign_id,
        case_id=case.id or 0,
        target=target,
        target_name=target_name if target == EscalationTarget.OTHER else "",
        reported_on=reported_on,
        reference=reference,
        created_by_id=created_by_id,
        created_at=now,
        updated_at=now,
    )
    session.add(escalation)
    session.flush()
    months.count_escalation(session, escalation=escalation, by=1)
    return escalation


def get_for_case(session: Session, *, case_id: int, escalation_id: int) -> Escalation:
    """One escalation of this case, locked until the transaction ends; NotFound for one of
    another case, as if it did not exist."""
    found = None
    if 0 < escalation_id <= ID_MAX:
        found = session.exec(
            select(Escalation)
            .where(Escalation.id == escalation_id, Escalation.case_id == case_id)
            .with_for_update()
        ).first()
    if found is None:
        raise NotFound(_("We could not find that report to a platform or an authority."))
    return found


def set_outcome(
    session: Session,
    *,
    escalation: Escalation,
    outcome: EscalationOutcome,
    outcome_on: date,
    now: datetime | None = None,
) -> Escalation:
    """Record what came of the report (a later outcome replaces an earlier one, in the
    monthly counts too)."""
    months.count_escalation(session, escalation=escalation, by=-1)
    escalation.outcome = outcome
    escalation.outcome_on = outcome_on
    escalation.updated_at = now or utcnow()
    session.add(escalation)
    session.flush()
    months.count_escalation(session, escalation=escalation, by=1)
    return escalation


def list_for_case(session: Session, *, case_id: int) -> list[Escalation]:
    """The reports made elsewhere about a case, in the order they were made."""
    return list(
        session.exec(
            select(Escalation)
            .where(Escalation.case_id == case_id)
            .order_by(col(Escalation.reported_on), col(Escalation.id))
        )
    )


def list_public(session: Session, *, case_id: int) -> list[PublicEscalation]:
    """What the verdict page tells of the reports made elsewhere about a case."""
    return [
        PublicEscalation(
            target=e.target,
            target_name=e.target_name,
            reported_on=e.reported_on,
            outcome=e.outcome,
            outcome_on=e.outcome_on,
        )
        for e in list_for_case(session, case_id=case_id)
    ]


def select_open_case_ids(campaign_id: int) -> sa.Select[tuple[int]]:
    """A subquery: the cases of a campaign with a report made elsewhere still waiting for its
    outcome (a range of ix_hoax_escalation_open)."""
    esc = escalation_table
    return sa.select(esc.c.case_id).where(esc.c.campaign_id == campaign_id, esc.c.outcome.is_(None))
