"""Outgoing email: messages are queued in an outbox table in the same transaction as the
change that causes them, then delivered by SMTP (or written to the log when no SMTP server
is configured).

Delivery is safe to run from several processes at once (a background task after each
request that queued mail, and `pledge mail send` from cron): a sender claims a message with
one conditional UPDATE before sending it, which sets ``sent_at`` and marks ``last_error`` as
"sending". Nobody else picks a claimed message. A failure puts it back (``sent_at`` empty,
``last_error`` says why) for the next run; a claim left behind by a process that died while
sending is released after a while, so a message is never lost and very rarely sent twice.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import threading
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlmodel import Field, Session, SQLModel

from pledge.config import Environment, Settings, get_settings
from pledge.db import table, utcnow, writing

log = logging.getLogger(__name__)

# In last_error while a sender holds the message; never a real error text.
SENDING = "(sending)"
# A claim this old belongs to a process that died mid-send (SMTP timeouts are far shorter).
STALE_CLAIM = timedelta(minutes=15)
ERROR_MAX = 500


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "outbox_message"

    id: int | None = Field(default=None, primary_key=True)
    to: str = Field(max_length=254)
    subject: str = Field(max_length=200)
    body: str = Field(sa_type=sa.Text)
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = Field(default=None, index=True)
    attempts: int = Field(default=0)
    last_error: str | None = Field(default=None, max_length=500)


outbox_message_table = table(OutboxMessage)


def outbox_row(*, to: str, subject: str, body: str) -> dict[str, Any]:
    """A message as an outbox row."""
    return {
        "to": to.strip()[:254],
        # A header is one line: no newline from anywhere can add another header.
        "subject": " ".join(subject.split())[:200],
        "body": body,
        "created_at": utcnow(),
        "attempts": 0,
    }


def queue(session: Session, *, to: str, subject: str, body: str) -> OutboxMessage:
    """Add a message to the caller's transaction: it is sent only if that change is stored."""
    message = OutboxMessage(**outbox_row(to=to, subject=subject, body=body))
    session.add(message)
    return message


_INSERT = sa.insert(outbox_message_table)


def queue_rows(conn: sa.Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Add messages (``outbox_row``) to the connection's transaction in one statement."""
    conn.execute(_INSERT, list(rows))


def list_messages_to(session: Session, *, email: str) -> Sequence[sa.Row[Any]]:
    """The messages queued for this (normalised) address, sent or not, oldest first: their id,
    subject, created_at, sent_at and attempts, never their body."""
    outbox = outbox_message_table
    return session.execute(
        sa.select(
            outbox.c.id, outbox.c.subject, outbox.c.created_at, outbox.c.sent_at, outbox.c.attempts
        )
        .where(sa.func.lower(sa.func.trim(outbox.c.to)) == email)
        .order_by(outbox.c.id)
    ).all()


def delete_unsent(session: Session, *, message_ids: Collection[int]) -> int:
    """Delete these messages if they are not sent yet; how many were deleted. Runs inside the
    caller's write transaction."""
    if not message_ids:
        return 0
    # A message being sent right now (sent_at set by its sender's claim) is let go.
    deleted = session.execute(
        sa.delete(outbox_message_table).where(
            outbox_message_table.c.id.in_(message_ids), outbox_message_table.c.sent_at.is_(None)
        )
    ).rowcount  # type: ignore[attr-defined]
    return int(deleted)


# --- senders -------------------------------------------------------------------------


class Sender(Protocol):
    def send(self, message: EmailMessage) -> None: ...


@dataclass(frozen=True, slots=True)
class SmtpServer:
    security: str  # "plain", "starttls" or "tls"
    host: str
    port: int
    username: str | None
    password: str


DEFAULT_PORTS = {"plain": 25, "starttls": 587, "tls": 465}
SECURITY_BY_SCHEME = {"smtp": "plain", "smtp+starttls": "starttls", "smtps": "tls"}


def parse_smtp_url(url: str) -> SmtpServer:
    """``smtp://user:pass@host:25``, ``smtp+starttls://…:587`` or ``smtps://…:465``.

    The user name and password are percent-encoded in the URL (``@`` as ``%40``).
    """
    parts = urlsplit(url)
    security = SECURITY_BY_SCHEME.get(parts.scheme.lower())
    if security is None:
        raise ValueError("the SMTP URL must start with smtp://, smtp+starttls:// or smtps://")
    if not parts.hostname:
        raise ValueError("the SMTP URL has no host name")
    return SmtpServer(
        security=security,
        host=parts.hostname,
        port=parts.port or DEFAULT_PORTS[security],
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password or ""),
    )


class SmtpSender:
    """One connection per message: mail here is rare (invitations, password resets), and a
    fresh connection keeps one failure from spoiling the next message."""

    def __init__(
        self, url: str, *, timeout: float = 20.0, ssl_context: ssl.SSLContext | None = None
    ) -> None:
        self.server = parse_smtp_url(url)
        self.timeout = timeout
        self.ssl_context = ssl_context

    def send(self, message: EmailMessage) -> None:
        server = self.server
        context = self.ssl_context or ssl.create_default_context()
        smtp: smtplib.SMTP
        if server.security == "tls":
            smtp = smtplib.SMTP_SSL(server.host, server.port, timeout=self.timeout, context=context)
        else:
            smtp = smtplib.SMTP(server.host, server.port, timeout=self.timeout)
        with smtp:
            if server.security == "starttls":
                smtp.starttls(context=context)
            if server.username:
                smtp.login(server.username, server.password)
            smtp.send_message(message)


class LogSender:
    """Development without an SMTP server: the message goes to the log, link included, but
    not the address it is for (no contact is ever written to a log)."""

    def send(self, message: EmailMessage) -> None:
        log.warning(
            "No PLEDGE_SMTP_URL, so this email was written to the log instead of being sent.\n"
            "Subject: %s\n\n%s",
            message["Subject"],
            message.get_content(),
        )


def default_sender(settings: Settings) -> Sender | None:
    """SMTP when configured; else the log outside production. In production without SMTP
    there is no sender: the messages wait in the outbox, and their links never reach a log."""
    if settings.smtp_url:
        return SmtpSender(settings.smtp_url, timeout=settings.smtp_timeout)
    if settings.env == Environment.PRODUCTION:
        return None
    return LogSender()


def build_email(*, settings: Settings, to: str, subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(usegmt=True)
    domain = parseaddr(settings.mail_from)[1].rpartition("@")[2] or "localhost"
    message["Message-ID"] = make_msgid(domain=domain)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(body)
    return message


# --- delivery ------------------------------------------------------------------------


def pending_count(session: Session) -> int:
    count = session.execute(
        sa.select(sa.func.count())
        .select_from(outbox_message_table)
        .where(outbox_message_table.c.sent_at.is_(None))
    ).scalar_one()
    return int(count)


def _release_stale_claims(session: Session) -> None:
    with writing(session):
        session.execute(
            sa.update(outbox_message_table)
            .where(
                outbox_message_table.c.last_error == SENDING,
                outbox_message_table.c.sent_at < utcnow() - STALE_CLAIM,
            )
            .values(sent_at=None, last_error="interrupted while sending")
        )


def _claim(session: Session, *, message_id: int, seen_attempts: int) -> bool:
    with writing(session):
        claimed = session.execute(
            sa.update(outbox_message_table)
            .where(
                outbox_message_table.c.id == message_id,
                outbox_message_table.c.sent_at.is_(None),
                outbox_message_table.c.attempts == seen_attempts,
            )
            .values(
                sent_at=utcnow(), attempts=outbox_message_table.c.attempts + 1, last_error=SENDING
            )
        )
    return claimed.rowcount == 1  # type: ignore[attr-defined,no-any-return]


def _finish(session: Session, *, message_id: int, error: str | None) -> None:
    with writing(session):
        values = (
            {"sent_at": utcnow(), "last_error": None}
            if error is None
            else {"sent_at": None, "last_error": error[:ERROR_MAX]}
        )
        session.execute(
            sa.update(outbox_message_table)
            .where(outbox_message_table.c.id == message_id)
            .values(**values)
        )


def deliver_pending(session: Session, *, limit: int = 50, sender: Sender | None = None) -> int:
    """Send up to ``limit`` waiting messages; the number sent. Never raises for one message:
    its attempt is counted and its error kept for the next run. Works in short transactions
    of its own, so whatever the session had open is committed first."""
    settings = get_settings()
    sender = sender or default_sender(settings)
    if sender is None:
        waiting = pending_count(session)
        session.commit()
        if waiting:
            log.warning(
                "%d email(s) waiting in the outbox: set PLEDGE_SMTP_URL to send them", waiting
            )
        return 0

    _release_stale_claims(session)
    rows = session.execute(
        sa.select(
            outbox_message_table.c.id,
            outbox_message_table.c.to,
            outbox_message_table.c.subject,
            outbox_message_table.c.body,
            outbox_message_table.c.attempts,
        )
        .where(
            outbox_message_table.c.sent_at.is_(None),
            outbox_message_table.c.attempts < settings.mail_max_attempts,
        )
        .order_by(outbox_message_table.c.id)
        .limit(limit)
    ).all()
    session.commit()  # no read transaction held open while talking to the SMTP server

    sent = 0
    for row in rows:
        if not _claim(session, message_id=row.id, seen_attempts=row.attempts):
            continue  # another process has it
        try:
            sender.send(
                build_email(settings=settings, to=row.to, subject=row.subject, body=row.body)
            )
        except Exception as error:
            text = f"{type(error).__name__}: {error}".strip()
            log.warning("email %s failed: %s", row.id, text)
            _finish(session, message_id=row.id, error=text)
            continue
        _finish(session, message_id=row.id, error=None)
        sent += 1
    return sent


_delivering = threading.Lock()
_again = threading.Event()


def deliver_soon(engine: Engine) -> None:
    """Deliver what is waiting, once per burst: a request that queued a message while a
    delivery runs in this process leaves it to that run, which goes round once more. Under a
    burst of signatures, one thread sends, instead of one per request."""
    _again.set()
    # Asked again after the running delivery last looked: whoever holds the lock next goes.
    while _again.is_set() and _delivering.acquire(blocking=False):
        try:
            while _again.is_set():
                _again.clear()
                deliver_in_new_session(engine)
        finally:
            _delivering.release()


def deliver_in_new_session(engine: Engine) -> None:
    """Deliver what is waiting, in a session of its own: run after a response has gone out,
    so a page never waits on the SMTP server."""
    try:
        with Session(engine, expire_on_commit=False) as session:
            deliver_pending(session)
    except Exception:
        log.exception("delivering the outbox failed")
