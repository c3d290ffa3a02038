"""What every operation on a case shares: the campaigns a moderator sees, finding and locking
a case, the reason a moderator gives, and the one way a case changes status."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from pledge import audit, forms
from pledge.accounts import service as accounts
from pledge.accounts.models import User
from pledge.audit import AuditAction
from pledge.campaigns import service as campaigns
from pledge.campaigns.models import Campaign
from pledge.db import ID_MAX, utcnow
from pledge.errors import NotFound
from pledge.hoaxes import service as hoaxes
from pledge.hoaxes.models import HoaxCase, hoax_report_table
from pledge.hoaxes.states import CaseStatus, audit_subject
from pledge.hoaxes.states import transition as transition_to
from pledge.i18n import gettext as _
from pledge.moderation.service.forms import check_reason

if TYPE_CHECKING:
    from pledge.accounts.access import ModeratorContext


def subject(case_id: int) -> str:
    return audit_subject(case_id)


# --- who sees what ---------------------------------------------------------------------


def visible_campaigns(session: Session, *, access: ModeratorContext) -> list[Campaign]:
    """The campaigns in which one of the moderator's organisations is a partner."""
    return campaigns.list_partnered(session, org_ids=access.moderate_org_ids)


def case_not_found() -> NotFound:
    """The answer for a case that does not exist and for one the moderator may not see alike,
    so nobody learns what others are reviewing."""
    return NotFound(_("We could not find that case."))


def visible_case(session: Session, access: ModeratorContext, case_id: int) -> HoaxCase:
    """The case when the moderator's organisation partners in its campaign."""
    case = None
    if 0 < case_id <= ID_MAX:
        case = session.exec(
            select(HoaxCase).where(
                HoaxCase.id == case_id,
                col(HoaxCase.campaign_id).in_(
                    campaigns.select_partnered_campaign_ids(access.moderate_org_ids)
                ),
            )
        ).first()
    if case is None:
        raise case_not_found()
    return case


def locked_cases(
    session: Session, access: ModeratorContext, case_ids: Iterable[int]
) -> dict[int, HoaxCase]:
    """The cases among these that the moderator may see, locked until the transaction ends.

    Rows are locked in id order (PostgreSQL; SQLite's write lock already serialises), so two
    moderators merging two cases into each other cannot deadlock. A locked row is read as
    it is now, not as this session loaded it before: a claim is written in one SQL
    statement that leaves loaded objects as they were."""
    ids = sorted({i for i in case_ids if 0 < i <= ID_MAX})
    if not ids:
        return {}
    found = session.exec(
        select(HoaxCase)
        .where(
            col(HoaxCase.id).in_(ids),
            col(HoaxCase.campaign_id).in_(
                campaigns.select_partnered_campaign_ids(access.moderate_org_ids)
            ),
        )
        .order_by(col(HoaxCase.id))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {case.id or 0: case for case in found}


def locked_case(session: Session, access: ModeratorContext, case_id: int) -> HoaxCase:
    """One visible case, locked and read as it is now (see locked_cases)."""
    case = locked_cases(session, access, [case_id]).get(case_id)
    if case is None:
        raise case_not_found()
    return case


def may_break(session: Session, access: ModeratorContext, campaign_id: int) -> bool:
    """An admin of one of the campaign's partner organisations may end another's claim."""
    if not access.break_claim_org_ids:
        return False
    return campaigns.has_partner(
        session, campaign_id=campaign_id, org_ids=access.break_claim_org_ids
    )


# --- people ------------------------------------------------------------------------------


def display_name(user: User | None) -> str:
    if user is None:
        return _("a former moderator")
    return user.display_name or user.email


def names(session: Session, user_ids: Iterable[int | None]) -> dict[int, str]:
    """The display names of these moderators, by id."""
    ids = {i for i in user_ids if i}
    if not ids:
        return {}
    return {user.id or 0: display_name(user) for user in accounts.list_users(session, ids=ids)}


# --- input -------------------------------------------------------------------------------


def clean_reason(raw: str) -> str:
    """The reason for a change of a case; Invalid with its message when it is none."""
    return forms.field("reason", check_reason, raw)


def case_number(raw: str) -> int | None:
    """A case number as a moderator types it: 12 or #12."""
    text = raw.strip().lstrip("#")
    if text.isascii() and text.isdigit() and 0 < int(text) <= ID_MAX:
        return int(text)
    return None


# --- moving a case -----------------------------------------------------------------------


def transition(
    session: Session,
    *,
    case: HoaxCase,
    to: CaseStatus,
    actor_id: int | None,
    reason: str,
    action: AuditAction = AuditAction.CASE_DECIDE,
    data: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> HoaxCase:
    """The one way a case changes status: states.transition refuses the moves not allowed;
    this ends any claim, drops reporters' contacts when the case closes (a published verdict
    keeps them a while: see forget_contacts), and writes the audit event. Runs inside the
    caller's write transaction.

    A reporter's answer (CASE_ANSWER) sends the case back to the queue marked as answered,
    and leaves a moderator's claim alone; any other move is a moderator's, which ends the
    claim and the mark."""
    previous = case.status
    case.status = transition_to(previous, to)
    case.updated_at = now or utcnow()
    if action == AuditAction.CASE_ANSWER:
        case.answered_at = case.updated_at
    else:
        case.answered_at = None
        case.claimed_by_id = None
        case.claim_expires_at = None
    session.add(case)
    if to in CaseStatus.CLOSED:
        forget_contacts(session, case_ids=[case.id or 0], status=to)
    audit.record(
        session,
        actor_id=actor_id,
        action=action,
        subject=subject(case.id or 0),
        reason=reason,
        data={"from": previous.value, "to": to.value, **(data or {})},
    )
    session.flush()
    return case


def forget_contacts(session: Session, *, case_ids: list[int], status: CaseStatus) -> None:
    """Drop the reporters' contacts of cases closing in this status. A reporter's contact is
    kept while their report is open and, once its verdict is published, for the correction
    window (hoaxes.CORRECTION_WINDOW), to be told of a correction; retention erases it then.
    Every other closing erases it at once."""
    if hoaxes.keeps_contacts(status):
        return
    report = hoax_report_table
    session.execute(
        sa.update(report)
        .where(report.c.case_id.in_(case_ids), report.c.contact_encrypted.is_not(None))
        .values(contact_encrypted=None)
    )
