"""The append-only audit log: who did what to which thing, why, and when.

Kept at the package root because every domain writes to it: exports, memberships,
moderation decisions.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel, col, select

from pledge.db import utcnow


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


def record(
    session: Session,
    *,
    actor_id: int | None,
    action: str,
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
