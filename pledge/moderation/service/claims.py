"""Claims: a moderator holds a case for a few minutes, so that two people never work on it at
once. Every change of a claim is one conditional SQL statement, which decides any race."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

import sqlalchemy as sa
from sqlmodel import Session

from pledge import audit
from pledge.accounts import service as accounts
from pledge.audit import AuditAction
from pledge.campaigns import service as campaigns
from pledge.db import ID_MAX, utcnow, writing
from pledge.errors import Conflict, Forbidden
from pledge.hoaxes.models import hoax_case_table
from pledge.hoaxes.states import is_final
from pledge.i18n import gettext as _
from pledge.moderation.service.cases import (
    case_not_found,
    clean_reason,
    display_name,
    may_break,
    subject,
)

if TYPE_CHECKING:
    from pledge.accounts.access import ModeratorContext

CLAIM_MINUTES = 15


class Claimable(Protocol):
    """A case as loaded, or its row: who holds it and until when."""

    @property
    def claimed_by_id(self) -> int | None: ...

    @property
    def claim_expires_at(self) -> datetime | None: ...


def claim_active(case: Claimable, now: datetime) -> bool:
    return (
        case.claimed_by_id is not None
        and case.claim_expires_at is not None
        and case.claim_expires_at >= now
    )


def holds(case: Claimable, user_id: int | None, now: datetime) -> bool:
    return claim_active(case, now) and case.claimed_by_id == user_id


def holder_message(session: Session, holder_id: int | None) -> str:
    holder = accounts.get_user_or_none(session, holder_id) if holder_id else None
    return _("%(name)s is working on this case. Try another one, or ask them.") % {
        "name": display_name(holder)
    }


def require_claim(session: Session, case: Claimable, user_id: int | None, now: datetime) -> None:
    """Only the moderator holding a case decides on it."""
    if holds(case, user_id, now):
        return
    if claim_active(case, now):
        raise Conflict(holder_message(session, case.claimed_by_id))
    raise Conflict(_("Claim the case first: only the moderator holding a case can decide on it."))


@dataclass(frozen=True, slots=True)
class Claim:
    case_id: int
    renewed: bool
    expires_at: datetime


def _claim_row(session: Session, access: ModeratorContext, case_id: int) -> sa.Row[Any]:
    """The case's claim as stored now, when the moderator may see the case."""
    case_t = hoax_case_table
    row = None
    if 0 < case_id <= ID_MAX:
        row = session.execute(
            sa.select(
                case_t.c.id,
                case_t.c.campaign_id,
                case_t.c.status,
                case_t.c.claimed_by_id,
                case_t.c.claim_expires_at,
            ).where(
                case_t.c.id == case_id,
                case_t.c.campaign_id.in_(
                    campaigns.select_partnered_campaign_ids(access.moderate_org_ids)
                ),
            )
        ).first()
    if row is None:
        raise case_not_found()
    return row


def take_claim(
    session: Session, *, case_id: int, user_id: int, now: datetime, until: datetime
) -> bool:
    """The whole claim race in one statement: it changes the row only when nobody else holds
    an unexpired claim, and reports whether it did."""
    case_t = hoax_case_table
    result = session.execute(
        sa.update(case_t)
        .where(
            case_t.c.id == case_id,
            sa.or_(
                case_t.c.claimed_by_id.is_(None),
                case_t.c.claimed_by_id == user_id,
                case_t.c.claim_expires_at < now,
            ),
        )
        .values(claimed_by_id=user_id, claim_expires_at=until)
    )
    return result.rowcount == 1  # type: ignore[attr-defined, no-any-return]


def _end_claim(session: Session, *, case_id: int, holder_id: int | None) -> bool:
    """End the claim of this holder, unless it changed meanwhile; whether it ended."""
    case_t = hoax_case_table
    result = session.execute(
        sa.update(case_t)
        .where(case_t.c.id == case_id, case_t.c.claimed_by_id == holder_id)
        .values(claimed_by_id=None, claim_expires_at=None)
    )
    return result.rowcount == 1  # type: ignore[attr-defined, no-any-return]


def claim(
    session: Session, *, access: ModeratorContext, case_id: int, now: datetime | None = None
) -> Claim:
    """Hold a case for CLAIM_MINUTES, or renew one's own hold. One conditional UPDATE decides
    a race: on PostgreSQL the second writer waits for the first's row lock and then finds the
    condition false; on SQLite, BEGIN IMMEDIATE lets one writer in at a time."""
    now = now or utcnow()
    me = access.user.id
    with writing(session):
        case = _claim_row(session, access, case_id)
        if is_final(case.status):
            raise Conflict(_("This case is closed for good: there is nothing left to decide."))
        renewed = holds(case, me, now)
        expires = now + timedelta(minutes=CLAIM_MINUTES)
        if not take_claim(session, case_id=case.id, user_id=me or 0, now=now, until=expires):
            raise Conflict(
                holder_message(session, _claim_row(session, access, case.id).claimed_by_id)
            )
        audit.record(
            session,
            actor_id=me,
            action=AuditAction.CASE_CLAIM,
            subject=subject(case.id),
            data={"renewed": renewed, "expires_at": expires.isoformat()},
        )
    return Claim(case_id=case.id, renewed=renewed, expires_at=expires)


def release(session: Session, *, access: ModeratorContext, case_id: int) -> None:
    me = access.user.id
    with writing(session):
        case = _claim_row(session, access, case_id)
        if not _end_claim(session, case_id=case.id, holder_id=me):
            raise Conflict(_("You do not hold this case, so there is nothing to release."))
        audit.record(
            session, actor_id=me, action=AuditAction.CASE_RELEASE, subject=subject(case.id)
        )


def break_claim(
    session: Session,
    *,
    access: ModeratorContext,
    case_id: int,
    reason: str,
    now: datetime | None = None,
) -> None:
    """An organisation admin ends another moderator's claim, saying why."""
    now = now or utcnow()
    with writing(session):
        case = _claim_row(session, access, case_id)
        if not may_break(session, access, case.campaign_id):
            raise Forbidden(
                _("Only an admin of a partner organisation can end another moderator's claim.")
            )
        reason = clean_reason(reason)
        if not claim_active(case, now):
            raise Conflict(_("Nobody holds this case right now: there is no claim to end."))
        holder = case.claimed_by_id
        if not _end_claim(session, case_id=case.id, holder_id=holder):
            raise Conflict(_("The claim changed in the meantime. Look at the case again."))
        audit.record(
            session,
            actor_id=access.user.id,
            action=AuditAction.CASE_BREAK_CLAIM,
            subject=subject(case.id),
            reason=reason,
            data={"holder_id": holder},
        )
