"""The append-only audit log: who did what to which thing, why, and when; and the kinds of
event it holds (`AuditAction`), each with the name pages show it by.

Kept at the package root because every domain writes to it: exports, memberships,
moderation decisions.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel, col, select

from pledge.db import utcnow
from pledge.i18n import gettext as _


class AuditAction(StrEnum):
    """Every kind of event the log holds, under the name it is stored by."""

    ORG_CREATE = "org.create"
    ORG_UPDATE = "org.update"
    MEMBER_INVITE = "member.invite"
    MEMBER_INVITE_REVOKE = "member.invite_revoke"
    MEMBER_JOIN = "member.join"
    MEMBER_ADD = "member.add"
    MEMBER_ROLE = "member.role"
    MEMBER_REMOVE = "member.remove"
    # Names of what was done to a password, not passwords.
    USER_PASSWORD_CHANGE = "user.password_change"  # noqa: S105
    USER_PASSWORD_RESET = "user.password_reset"  # noqa: S105
    ADMIN_ORG_CREATE = "admin.org.create"
    ADMIN_ORG_APPROVE = "admin.org.approve"
    ADMIN_ORG_REVOKE = "admin.org.revoke"
    ADMIN_USER_DEACTIVATE = "admin.user.deactivate"
    ADMIN_USER_ACTIVATE = "admin.user.activate"
    ADMIN_USER_SITE_ADMIN_GRANT = "admin.user.site_admin.grant"
    ADMIN_USER_SITE_ADMIN_REVOKE = "admin.user.site_admin.revoke"
    ADMIN_MEMBERSHIP_SET = "admin.membership.set"
    ADMIN_MEMBERSHIP_REMOVE = "admin.membership.remove"
    CAMPAIGN_STATUS = "campaign.status"
    CAMPAIGN_CONFIRMING = "campaign.confirming"
    PARTNER_INVITE = "partner.invite"
    PARTNER_ACCEPT = "partner.accept"
    PARTNER_DECLINE = "partner.decline"
    PARTNER_LEAVE = "partner.leave"
    ADMIN_ORG_CHANGE_APPROVE = "admin.org.change.approve"
    ADMIN_ORG_CHANGE_REJECT = "admin.org.change.reject"
    SUPPORTERS_EXPORT = "supporters.export"
    SUPPORTERS_RELEASE = "supporters.release"
    SUPPORTERS_INVALIDATE = "supporters.invalidate"
    SUPPORTERS_INVALIDATE_CANCEL = "supporters.invalidate.cancel"
    SUPPORTERS_INVALIDATE_RESUME = "supporters.invalidate.resume"
    SUPPORTERS_INVALIDATE_RESTORE = "supporters.invalidate.restore"
    SUPPORTER_NAME_HIDE = "supporter.name.hide"
    SUPPORTER_NAME_SHOW = "supporter.name.show"
    CASE_CLAIM = "case.claim"
    CASE_RELEASE = "case.release"
    CASE_BREAK_CLAIM = "case.break_claim"
    CASE_DECIDE = "case.decide"
    CASE_APPROVE = "case.approve"
    CASE_SEND_BACK = "case.send_back"
    CASE_MERGE = "case.merge"
    CASE_BULK_REJECT = "case.bulk_reject"
    CASE_SET_APART = "case.set_apart"
    CASE_SPLIT = "case.split"
    CASE_ANSWER = "case.answer"
    CASE_MESSAGE = "case.message"
    CASE_NOTIFY = "case.notify"
    CASE_CORRECT = "case.correct"
    CASE_ESCALATE = "case.escalate"
    CASE_ESCALATION_OUTCOME = "case.escalation_outcome"
    CASE_ORIGINAL = "case.original"
    CASE_ORIGINAL_REMOVE = "case.original_remove"
    CASE_GAME = "case.game"
    PRIVACY_SEARCH = "privacy.search"
    PRIVACY_EXPORT = "privacy.export"
    PRIVACY_ERASE = "privacy.erase"
    PRIVACY_RETENTION = "privacy.retention"

    @property
    def label(self) -> str:
        """What was done, as a history of changes names it, in the reader's language."""
        return _LABELS[self]()


# Functions, so that only the name shown is translated: a history lists many events.
_LABELS: dict[AuditAction, Callable[[], str]] = {
    AuditAction.ORG_CREATE: lambda: _("Created the organisation"),
    AuditAction.ORG_UPDATE: lambda: _("Changed the organisation's profile"),
    AuditAction.MEMBER_INVITE: lambda: _("Invited a member"),
    AuditAction.MEMBER_INVITE_REVOKE: lambda: _("Withdrew an invitation"),
    AuditAction.MEMBER_JOIN: lambda: _("Joined the organisation"),
    AuditAction.MEMBER_ADD: lambda: _("Added a member"),
    AuditAction.MEMBER_ROLE: lambda: _("Changed a member's role"),
    AuditAction.MEMBER_REMOVE: lambda: _("Removed a member"),
    AuditAction.USER_PASSWORD_CHANGE: lambda: _("Changed the password"),
    AuditAction.USER_PASSWORD_RESET: lambda: _("Set a new password through an emailed link"),
    AuditAction.ADMIN_ORG_CREATE: lambda: _("Created and approved the organisation"),
    AuditAction.ADMIN_ORG_APPROVE: lambda: _("Approved the organisation"),
    AuditAction.ADMIN_ORG_REVOKE: lambda: _("Took back the organisation's approval"),
    AuditAction.ADMIN_USER_DEACTIVATE: lambda: _("Deactivated"),
    AuditAction.ADMIN_USER_ACTIVATE: lambda: _("Activated"),
    AuditAction.ADMIN_USER_SITE_ADMIN_GRANT: lambda: _("Made a site administrator"),
    AuditAction.ADMIN_USER_SITE_ADMIN_REVOKE: lambda: _("Site administrator role removed"),
    AuditAction.ADMIN_MEMBERSHIP_SET: lambda: _("Role in an organisation set"),
    AuditAction.ADMIN_MEMBERSHIP_REMOVE: lambda: _("Removed from an organisation"),
    AuditAction.CAMPAIGN_STATUS: lambda: _("Changed the campaign's status"),
    AuditAction.CAMPAIGN_CONFIRMING: lambda: _(
        "Changed how the campaign's signatures are confirmed"
    ),
    AuditAction.PARTNER_INVITE: lambda: _("Invited an organisation to partner in a campaign"),
    AuditAction.PARTNER_ACCEPT: lambda: _("Accepted a campaign's partnership"),
    AuditAction.PARTNER_DECLINE: lambda: _("Declined a campaign's partnership"),
    AuditAction.PARTNER_LEAVE: lambda: _("Left a campaign"),
    AuditAction.ADMIN_ORG_CHANGE_APPROVE: lambda: _(
        "Approved the organisation's new name or website"
    ),
    AuditAction.ADMIN_ORG_CHANGE_REJECT: lambda: _(
        "Refused the organisation's new name or website"
    ),
    AuditAction.SUPPORTERS_EXPORT: lambda: _("Exported supporters"),
    AuditAction.SUPPORTERS_RELEASE: lambda: _("Counted signatures held for review"),
    AuditAction.SUPPORTERS_INVALIDATE: lambda: _("Invalidated signatures"),
    AuditAction.SUPPORTERS_INVALIDATE_CANCEL: lambda: _("Cancelled an invalidation"),
    AuditAction.SUPPORTERS_INVALIDATE_RESUME: lambda: _("Resumed an invalidation"),
    AuditAction.SUPPORTERS_INVALIDATE_RESTORE: lambda: _("Restored invalidated signatures"),
    AuditAction.SUPPORTER_NAME_HIDE: lambda: _("Hid a supporter's name"),
    AuditAction.SUPPORTER_NAME_SHOW: lambda: _("Showed a supporter's name"),
    AuditAction.CASE_CLAIM: lambda: _("Claimed"),
    AuditAction.CASE_RELEASE: lambda: _("Released the claim"),
    AuditAction.CASE_BREAK_CLAIM: lambda: _("Ended another moderator's claim"),
    AuditAction.CASE_DECIDE: lambda: _("Decided"),
    AuditAction.CASE_APPROVE: lambda: _("Approved and published"),
    AuditAction.CASE_SEND_BACK: lambda: _("Sent the verdict back"),
    AuditAction.CASE_MERGE: lambda: _("Merged"),
    AuditAction.CASE_BULK_REJECT: lambda: _("Rejected with other cases"),
    AuditAction.CASE_SET_APART: lambda: _("Set apart from a suggested case"),
    AuditAction.CASE_SPLIT: lambda: _("Took a report out into a case of its own"),
    AuditAction.CASE_ANSWER: lambda: _("A reporter answered the question"),
    AuditAction.CASE_MESSAGE: lambda: _("Wrote to a reporter"),
    AuditAction.CASE_NOTIFY: lambda: _("Told the reporters the verdict"),
    AuditAction.CASE_CORRECT: lambda: _("Corrected the published verdict"),
    AuditAction.CASE_ESCALATE: lambda: _("Reported it to a platform or an authority"),
    AuditAction.CASE_ESCALATION_OUTCOME: lambda: _("Recorded what came of a report elsewhere"),
    AuditAction.CASE_ORIGINAL: lambda: _("Attached the original picture"),
    AuditAction.CASE_ORIGINAL_REMOVE: lambda: _("Removed the original picture"),
    AuditAction.CASE_GAME: lambda: _("Chose whether the verdict plays in the game"),
    AuditAction.PRIVACY_SEARCH: lambda: _("Searched a person's data"),
    AuditAction.PRIVACY_EXPORT: lambda: _("Copied a person's data"),
    AuditAction.PRIVACY_ERASE: lambda: _("Erased a person's data"),
    AuditAction.PRIVACY_RETENTION: lambda: _("Removed old personal data"),
}


def action_label(action: str) -> str:
    """The name of a stored action; one this version does not know (written by a newer one,
    or by one since retired) is shown as it is stored."""
    try:
        return AuditAction(action).label
    except ValueError:
        return action


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    actor_id: int | None = Field(
        default=None, foreign_key="user.id", ondelete="SET NULL", index=True
    )
    action: str = Field(max_length=64, index=True)
    # What was acted on, as "kind:id" (for example "campaign:12" or "org:3").
    subject: str = Field(max_length=120, index=True)
    reason: str = Field(default="", sa_type=sa.Text)
    data: str = Field(default="{}", sa_type=sa.Text)  # JSON
    created_at: datetime = Field(default_factory=utcnow, index=True)

    @property
    def label(self) -> str:
        """What was done, as pages name it (``{{ event|label }}``)."""
        return action_label(self.action)


def record(
    session: Session,
    *,
    actor_id: int | None,
    action: AuditAction,
    subject: str,
    reason: str = "",
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add an event to the caller's transaction: it is stored with the change it describes."""
    event = AuditEvent(
        actor_id=actor_id,
        action=action,
        subject=subject,
        reason=reason,
        data=json.dumps(data or {}, ensure_ascii=False, sort_keys=True, default=str),
    )
    session.add(event)
    return event


def get_event(session: Session, event_id: int) -> AuditEvent | None:
    """One event by its id, or None."""
    return session.get(AuditEvent, event_id)


def list_events(
    session: Session, *, subject: str | None = None, action: str | None = None, limit: int = 100
) -> list[AuditEvent]:
    query = select(AuditEvent).order_by(col(AuditEvent.id).desc()).limit(limit)
    if subject is not None:
        query = query.where(AuditEvent.subject == subject)
    if action is not None:
        query = query.where(AuditEvent.action == action)
    return list(session.exec(query))
