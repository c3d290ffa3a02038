"""Signed-in sessions ended on the server: signing out revokes the one session its cookie
names, so that a copy of the cookie kept from before signs nobody in, while the user's other
sessions (another phone, another browser) stay signed in."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, TypeGuard

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from pledge.accounts.models import revoked_session_table
from pledge.db import utcnow, writing

# Session ids are made by the site (22 characters); anything longer names no session.
SESSION_ID_MAX = 64


def is_session_id(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and 0 < len(value) <= SESSION_ID_MAX


def is_revoked(session: Session, *, session_id: str) -> bool:
    """Whether the session was ended by signing out."""
    revoked = revoked_session_table
    found = session.execute(sa.select(revoked.c.id).where(revoked.c.id == session_id)).first()
    return found is not None


def revoke_session(
    session: Session, *, session_id: object, lasts: timedelta, now: datetime | None = None
) -> None:
    """End the session with this id for good, however many copies of its cookie exist.
    ``lasts``: how long a cookie is accepted, so how long its id must be remembered."""
    if not is_session_id(session_id):
        return
    now = now or utcnow()
    dialect = session.get_bind().dialect.name
    insert: Any = postgresql.insert if dialect == "postgresql" else sqlite.insert
    with writing(session):
        # A cookie replayed to sign out again, or two tabs signing out at once: ended once.
        session.execute(
            insert(revoked_session_table)
            .values(id=session_id, expires_at=now + lasts)
            .on_conflict_do_nothing(index_elements=["id"])
        )


def forget_ended_sessions(session: Session, *, now: datetime | None = None) -> int:
    """Forget the revoked sessions whose cookies have expired anyway; how many."""
    now = now or utcnow()
    revoked = revoked_session_table
    with writing(session):
        deleted = session.execute(sa.delete(revoked).where(revoked.c.expires_at <= now)).rowcount  # type: ignore[attr-defined]
    return int(deleted)
