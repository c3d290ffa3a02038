"""The outbox as personal data requests read it: the emails queued for one address, and the
unsent ones deleted."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

from pledge import mail
from pledge.db import utcnow
from pledge.mail import OutboxMessage


def test_the_messages_to_an_address_are_listed_oldest_first_without_their_body(
    session: Session,
) -> None:
    first = mail.queue(session, to="rina@example.com", subject="Undangan", body="https://x/SECRET")
    other = mail.queue(session, to="sari@example.com", subject="Untuk Sari", body="Halo")
    second = mail.queue(session, to=" Rina@Example.com ", subject="Lagi", body="Halo")
    session.flush()
    second.sent_at = utcnow() - timedelta(hours=1)
    second.attempts = 1
    session.commit()

    rows = mail.list_messages_to(session, email="rina@example.com")
    assert [(row.id, row.subject, row.attempts) for row in rows] == [
        (first.id, "Undangan", 0),
        (second.id, "Lagi", 1),
    ]
    assert rows[0].sent_at is None and rows[1].sent_at is not None
    assert "body" not in rows[0]._fields
    assert [row.id for row in mail.list_messages_to(session, email="sari@example.com")] == [
        other.id
    ]


def test_only_unsent_messages_are_deleted(session: Session) -> None:
    waiting = mail.queue(session, to="rina@example.com", subject="Menunggu", body="Halo")
    sent = mail.queue(session, to="rina@example.com", subject="Terkirim", body="Halo")
    session.flush()
    sent.sent_at = utcnow()
    session.commit()

    assert mail.delete_unsent(session, message_ids=[waiting.id or 0, sent.id or 0]) == 1
    session.commit()
    assert [m.id for m in session.exec(select(OutboxMessage))] == [sent.id]
    assert mail.delete_unsent(session, message_ids=[]) == 0
