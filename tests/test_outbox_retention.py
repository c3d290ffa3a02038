"""The outbox forgets: a message sent a week ago, or one that failed every attempt a month
ago, leaves it with its address and links; waiting and recent ones stay."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import Session

from pledge import mail
from pledge.config import get_settings
from pledge.db import utcnow
from pledge.mail import outbox_message_table as outbox


def add(session: Session, to: str, **values: object) -> None:
    session.execute(
        sa.insert(outbox).values(mail.outbox_row(to=to, subject="s", body="b") | values)
    )
    session.commit()


def test_old_sent_and_long_failed_messages_leave_the_outbox_and_the_rest_stay(
    session: Session,
) -> None:
    now = utcnow()
    failing = get_settings().mail_max_attempts
    add(session, "sent-long-ago@example.com", sent_at=now - timedelta(days=8))
    add(session, "sent-yesterday@example.com", sent_at=now - timedelta(days=1))
    add(session, "waiting@example.com")
    add(session, "sending@example.com", sent_at=now - timedelta(days=9), last_error=mail.SENDING)
    add(
        session,
        "failed-long-ago@example.com",
        attempts=failing,
        last_error="refused",
        created_at=now - timedelta(days=31),
    )
    add(session, "failing@example.com", attempts=failing, last_error="refused")

    assert mail.forget_old(session, now=now) == 2

    left = set(session.execute(sa.select(outbox.c.to)).scalars())
    assert left == {
        "sent-yesterday@example.com",
        "waiting@example.com",
        "sending@example.com",
        "failing@example.com",
    }
