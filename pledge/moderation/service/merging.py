"""Merging a case into another of the same campaign: its reports, its count and what it knows
move to the other case, and it stays behind as a duplicate pointing there."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session

from pledge import audit
from pledge.audit import AuditAction
from pledge.hoaxes import service as hoaxes
from pledge.hoaxes.models import HoaxCase, hoax_case_table, hoax_report_table
from pledge.hoaxes.service import months
from pledge.hoaxes.states import CaseStatus, Decision
from pledge.i18n import gettext as _
from pledge.moderation.service.cases import forget_contacts, subject, transition


def merge_refusal(case: HoaxCase, raw: str, target: HoaxCase | None) -> str | None:
    """Why `case` cannot be merged into the case the moderator typed (`raw`), if it cannot.
    `target` is that case when the moderator may see it."""
    if not raw.strip():
        return _("Enter the number of the case this one duplicates.")
    if target is None or target.campaign_id != case.campaign_id:
        return _("Enter the number of another case of the same campaign.")
    if target.id == case.id:
        return _("A case cannot be merged into itself.")
    if target.status == CaseStatus.DUPLICATE:
        return _(
            "Case #%(id)s is itself merged into case #%(into)s: merge into that one instead."
        ) % {"id": target.id, "into": target.merged_into_id}
    return None


def _move_reports(session: Session, *, source_id: int, target_id: int) -> None:
    """The source's reports, and the cases merged into it before, now belong to the target."""
    report_t, case_t = hoax_report_table, hoax_case_table
    session.execute(
        sa.update(report_t).where(report_t.c.case_id == source_id).values(case_id=target_id)
    )
    session.execute(
        sa.update(case_t)
        .where(case_t.c.merged_into_id == source_id)
        .values(merged_into_id=target_id)
    )


def _take_over(target: HoaxCase, source: HoaxCase, *, now: datetime) -> None:
    """The target adds up the source's reports and, while it is open, learns its picture and
    link. Both rows are locked (locked_cases), so a report arriving meanwhile waits and then
    adds to the sum written here."""
    target.report_count += source.report_count
    target.updated_at = now
    # A closed target keeps what it showed: a published verdict must not gain a picture
    # that its approver never saw.
    if target.status in CaseStatus.CLOSED:
        return
    if target.media_id is None and source.media_id is not None:
        target.media_id = source.media_id
    if target.canonical_url is None and source.canonical_url is not None:
        target.canonical_url = source.canonical_url


def merge(
    session: Session,
    *,
    case: HoaxCase,
    target: HoaxCase,
    actor_id: int | None,
    reason: str,
    now: datetime,
) -> None:
    """Move the reports of `case` to `target` and add up the counts; `case` becomes a
    duplicate pointing at `target`, and so do the cases merged into it before."""
    source_id, target_id = case.id or 0, target.id or 0
    moved = case.report_count
    _move_reports(session, source_id=source_id, target_id=target_id)
    _take_over(target, case, now=now)
    session.add(target)
    if target.status == CaseStatus.PUBLISHED:
        # The reporters of the merged case learn the verdict, as a report joining it would.
        hoaxes.tell_reporters(session, case=target, now=now, actor_id=actor_id)
    if target.status in CaseStatus.CLOSED:
        forget_contacts(session, case_ids=[target_id], status=target.status)
    case.merged_into_id = target_id
    case.report_count = 0
    # A case counts the distinct things reported: merged into another, it is that one.
    months.count(
        session, campaign_id=case.campaign_id, metric=months.CASES, moment=case.created_at, by=-1
    )
    transition(
        session,
        case=case,
        to=CaseStatus.DUPLICATE,
        actor_id=actor_id,
        reason=reason,
        action=AuditAction.CASE_MERGE,
        data={"decision": Decision.DUPLICATE.value, "into": target_id, "reports": moved},
        now=now,
    )
    audit.record(
        session,
        actor_id=actor_id,
        action=AuditAction.CASE_MERGE,
        subject=subject(target_id),
        reason=reason,
        data={"from_case": source_id, "reports": moved},
    )
