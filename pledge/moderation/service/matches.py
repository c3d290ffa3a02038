"""A moderator's answers to the matching: joining a case into a suggested one, setting a
suggested pair apart, and taking a report that joined the wrong case out into a case of its
own. Each is one action with a reason, and lands in the history of both cases."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlmodel import Session

from pledge import audit
from pledge.audit import AuditAction
from pledge.db import utcnow, writing
from pledge.errors import Conflict, Invalid, NotFound
from pledge.hoaxes import service as hoaxes
from pledge.hoaxes.models import HoaxCase, HoaxReport, MatchKind, hoax_case_table
from pledge.hoaxes.service import suggestions
from pledge.hoaxes.states import CaseStatus, Decision, decisions_for
from pledge.i18n import gettext as _
from pledge.moderation.service.cases import (
    case_not_found,
    case_number,
    clean_reason,
    locked_cases,
    subject,
)
from pledge.moderation.service.claims import claim_active
from pledge.moderation.service.merging import merge, merge_refusal

if TYPE_CHECKING:
    from pledge.accounts.access import ModeratorContext


def _not_held_by_another(case: HoaxCase, me: int | None, now: datetime) -> None:
    if claim_active(case, now) and case.claimed_by_id != me:
        raise Conflict(
            _("Another moderator holds case #%(id)s: wait until they release it.") % {"id": case.id}
        )


def join(
    session: Session,
    *,
    access: ModeratorContext,
    case_id: int,
    target: str,
    reason: str,
    now: datetime | None = None,
) -> HoaxCase:
    """Merge `case_id` into the case numbered `target`, in one action: no claim to take first,
    but never under another moderator's claim of either case."""
    now = now or utcnow()
    me = access.user.id
    target_id = case_number(target)
    with writing(session):
        locked = locked_cases(session, access, [case_id, target_id or 0])
        case = locked.get(case_id)
        if case is None:
            raise case_not_found()
        reason = clean_reason(reason)
        other = locked.get(target_id) if target_id is not None else None
        refusal = merge_refusal(case, target, other)
        if refusal:
            raise Conflict(refusal)
        assert other is not None
        if Decision.DUPLICATE not in decisions_for(case.status):
            raise Conflict(
                _("Case #%(id)s is decided: it cannot be merged any more.") % {"id": case.id}
            )
        _not_held_by_another(case, me, now)
        _not_held_by_another(other, me, now)
        merge(session, case=case, target=other, actor_id=me, reason=reason, now=now)
    return other


def set_apart(
    session: Session,
    *,
    access: ModeratorContext,
    case_id: int,
    match_id: int,
    reason: str,
    now: datetime | None = None,
) -> None:
    """The suggested pair is not the same thing: it is no longer suggested, on either case."""
    now = now or utcnow()
    with writing(session):
        match = suggestions.get(session, match_id=match_id)
        locked = locked_cases(session, access, [case_id])
        if case_id not in locked:
            raise case_not_found()
        if match is None or case_id not in (match.case_id, match.other_case_id):
            raise NotFound(_("This suggestion does not exist."))
        if match.dismissed_at is not None:
            return  # set apart already, by this moderator or another
        reason = clean_reason(reason)
        suggestions.set_apart(session, match=match, by=access.user.id, now=now)
        for one, other in (
            (match.case_id, match.other_case_id),
            (match.other_case_id, match.case_id),
        ):
            audit.record(
                session,
                actor_id=access.user.id,
                action=AuditAction.CASE_SET_APART,
                subject=subject(one),
                reason=reason,
                data={"other": other, "kind": match.kind.value, "score": match.score},
            )


def split(
    session: Session,
    *,
    access: ModeratorContext,
    case_id: int,
    report_id: str,
    reason: str,
    now: datetime | None = None,
) -> HoaxCase:
    """Take one report out of its case into a new case of its own, back in the queue: for a
    report that joined the wrong case (its reporter was told of a verdict about something
    else). The two cases are then never suggested to each other again."""
    now = now or utcnow()
    me = access.user.id
    number = case_number(report_id)
    with writing(session):
        case = locked_cases(session, access, [case_id]).get(case_id)
        if case is None:
            raise case_not_found()
        if number is None:
            raise Invalid({"report_id": _("Choose the report to take out.")})
        report = session.get(HoaxReport, number)
        if report is None or report.case_id != case.id:
            raise NotFound(_("This report is not in case #%(id)s.") % {"id": case.id})
        if case.status == CaseStatus.DUPLICATE:
            raise Conflict(_("This case is merged into another: split the report there."))
        _not_held_by_another(case, me, now)
        if _other_reports(session, case, report) == 0:
            raise Conflict(_("This is the only report of the case: there is nothing to split."))
        reason = clean_reason(reason)
        new = _take_out(session, case=case, report=report, by=me, now=now)
        for one, data in (
            (case.id or 0, {"report": report.id, "into": new.id}),
            (new.id or 0, {"report": report.id, "from_case": case.id}),
        ):
            audit.record(
                session,
                actor_id=me,
                action=AuditAction.CASE_SPLIT,
                subject=subject(one),
                reason=reason,
                data=data,
            )
        session.flush()
    session.expire(case)
    return new


def _other_reports(session: Session, case: HoaxCase, report: HoaxReport) -> int:
    return int(
        session.execute(
            sa.select(sa.func.count())
            .select_from(HoaxReport)
            .where(HoaxReport.case_id == case.id, HoaxReport.id != report.id)  # type: ignore[arg-type]
        ).scalar_one()
    )


def _take_out(
    session: Session, *, case: HoaxCase, report: HoaxReport, by: int | None, now: datetime
) -> HoaxCase:
    """The report in a new case of its own, one report fewer on the old one."""
    new = hoaxes.open_case(
        session,
        campaign_id=case.campaign_id,
        platform=report.platform,
        category=report.category,
        canonical=report.canonical_url,
        media_id=report.media_id,
        now=now,
    )
    assert new.id is not None
    kind = _kind_of(report)
    report.case_id = new.id
    report.joined_by = ""
    session.add(report)
    case_t = hoax_case_table
    # In SQL, as reports joining meanwhile add to the count in SQL too.
    fewer = sa.case((case_t.c.report_count > 1, case_t.c.report_count - 1), else_=0)
    session.execute(
        sa.update(case_t).where(case_t.c.id == case.id).values(report_count=fewer, updated_at=now)
    )
    suggestions.keep_apart(
        session,
        campaign_id=case.campaign_id,
        case_id=new.id,
        other_case_id=case.id or 0,
        kind=kind,
        by=by,
        now=now,
    )
    return new


def _kind_of(report: HoaxReport) -> MatchKind:
    """What made the report join the case it is taken out of."""
    if report.joined_by.startswith("picture"):
        return MatchKind.PICTURE
    if report.joined_by.startswith("text"):
        return MatchKind.TEXT
    return MatchKind.LINK
