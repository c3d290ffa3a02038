"""Outgoing messages: emails, and replies on WhatsApp. They are queued in an outbox table in
the same transaction as the change that causes them, then delivered: emails by SMTP, WhatsApp
replies through the Cloud API (``pledge.whatsapp``); either is written to the log in
development when its service is not configured.

Delivery is safe to run from several processes at once (a background task after each
request that queued mail, and `pledge mail send` from cron): a sender claims a message with
one conditional UPDATE before sending it, which sets ``sent_at`` and marks ``last_error`` as
"sending". Nobody else picks a claimed message. A failure puts it back (``sent_at`` empty,
``last_error`` says why) for the next run; a claim left behind by a process that died while
sending is released after a while, so a message is never lost and very rarely sent twice.

A message's body holds links that sign someone in (a password reset, an invitation, a
supporter's confirmation), so it is never stored as it reads: it is encrypted with a key
derived from ``PLEDGE_SECRET_KEY`` when queued, decrypted only to be sent, and emptied once
sent; the subject, recipient and times stay for as long as ``forget_old`` keeps them. A message
"sent" to the log (development without SMTP or the Cloud API; never in production) keeps its
encrypted body: the log holds its text anyway, and tools reading the outbox still find it.
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
from enum import StrEnum
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlmodel import Field, Session, SQLModel
from starlette.background import BackgroundTask

from pledge.bulk import insert_rows
from pledge.config import Environment, Settings, get_settings
from pledge.db import table, utcnow, writing
from pledge.security import FieldCipher
from pledge.whatsapp import LogSender as WhatsAppLogSender
from pledge.whatsapp import Sender as WhatsAppSender
from pledge.whatsapp import default_sender as default_whatsapp_sender

log = logging.getLogger(__name__)

# In last_error while a sender holds the message; never a real error text.
SENDING = "(sending)"
# A claim this old belongs to a process that died mid-send (SMTP and Graph API timeouts are
# far shorter).
STALE_CLAIM = timedelta(minutes=15)
ERROR_MAX = 500


class Channel(StrEnum):
    EMAIL = "email"  # to an email address, by SMTP
    WHATSAPP = "whatsapp"  # a reply to a WhatsApp number (E.164), through the Cloud API


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "outbox_message"

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(default=Channel.EMAIL, max_length=16)
    to: str = Field(max_length=254)
    subject: str = Field(max_length=200)
    body: str = Field(sa_type=sa.Text)
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = Field(default=None, index=True)
    attempts: int = Field(default=0)
    # Indexed for the claims to release: few rows say "(sending)", among very many.
    last_error: str | None = Field(default=None, max_length=500, index=True)


outbox_message_table = table(OutboxMessage)


def outbox_row(
    *, to: str, subject: str, body: str, channel: Channel = Channel.EMAIL
) -> dict[str, Any]:
    """A message as an outbox row. A WhatsApp reply has no subject line: its ``subject`` only
    says what it is to whoever reads the outbox."""
    return {
        "channel": channel.value,
        "to": to.strip()[:254],
        # A header is one line: no newline from anywhere can add another header.
        "subject": " ".join(subject.split())[:200],
        "body": seal_body(body),
        "created_at": utcnow(),
        "attempts": 0,
    }


def seal_body(body: str) -> str:
    """A message's body as stored: encrypted, so that whoever reads the database or a copy of
    it finds no link that signs someone in."""
    return FieldCipher(get_settings().secret_key).encrypt(body)


def open_body(stored: str) -> str | None:
    """A stored body as it reads; None when it cannot be decrypted with this secret key (it
    was changed since the message was queued) or was emptied once sent."""
    return FieldCipher(get_settings().secret_key).decrypt(stored) if stored else None


class UnreadableBody(Exception):
    """A waiting message's body cannot be decrypted with the secret key in use."""


def queue(session: Session, *, to: str, subject: str, body: str) -> OutboxMessage:
    """Add a message to the caller's transaction: it is sent only if that change is stored."""
    message = OutboxMessage(**outbox_row(to=to, subject=subject, body=body))
    session.add(message)
    return message


def queue_rows(conn: sa.Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Add messages (``outbox_row``) to the connection's transaction in one statement."""
    insert_rows(conn, outbox_message_table, rows)


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


# How long a sent message stays in the outbox (for an operator looking into a complaint), and
# one that failed every attempt: it holds an address and links, so it does not stay for ever.
SENT_KEPT = timedelta(days=7)
FAILED_KEPT = timedelta(days=30)


def forget_old(session: Session, *, now: datetime) -> int:
    """Delete the messages sent more than SENT_KEPT ago and those that failed every attempt
    more than FAILED_KEPT ago; how many were deleted."""
    settings = get_settings()
    outbox = outbox_message_table
    with writing(session):
        deleted = session.execute(
            sa.delete(outbox).where(
                sa.or_(
                    sa.and_(outbox.c.sent_at < now - SENT_KEPT, outbox.c.last_error.is_(None)),
                    sa.and_(
                        outbox.c.sent_at.is_(None),
                        outbox.c.attempts >= settings.mail_max_attempts,
                        outbox.c.created_at < now - FAILED_KEPT,
                    ),
                )
            )
        ).rowcount  # type: ignore[attr-defined]
    return int(deleted)


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


def pending_count(session: Session, *, channel: Channel | None = None) -> int:
    """The messages waiting to be sent, of one channel or of all."""
    waiting = sa.select(sa.func.count()).select_from(outbox_message_table)
    waiting = waiting.where(outbox_message_table.c.sent_at.is_(None))
    if channel is not None:
        waiting = waiting.where(outbox_message_table.c.channel == channel.value)
    return int(session.execute(waiting).scalar_one())


def _release_stale_claims(session: Session) -> None:
    """Put back the messages a sender claimed and never finished (it died while sending);
    looked for first, so that a delivery with nothing stale writes nothing."""
    stale = session.execute(
        sa.select(outbox_message_table.c.id)
        .where(
            outbox_message_table.c.last_error == SENDING,
            outbox_message_table.c.sent_at < utcnow() - STALE_CLAIM,
        )
        .limit(1)
    ).first()
    session.commit()
    if stale is None:
        return
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


def _finish(
    session: Session, *, message_id: int, error: str | None, keep_body: bool = False
) -> None:
    with writing(session):
        # A sent body is emptied: its links still work for a while, and are the recipient's
        # alone.
        done: dict[str, Any] = {"sent_at": utcnow(), "last_error": None}
        values = (
            (done if keep_body else {**done, "body": ""})
            if error is None
            else {"sent_at": None, "last_error": error[:ERROR_MAX]}
        )
        session.execute(
            sa.update(outbox_message_table)
            .where(outbox_message_table.c.id == message_id)
            .values(**values)
        )


@dataclass(frozen=True, slots=True)
class Senders:
    """Who sends each channel's messages; None: nobody, so they wait in the outbox."""

    email: Sender | None
    whatsapp: WhatsAppSender | None

    def of(self, channel: Channel) -> Sender | WhatsAppSender | None:
        return self.email if channel == Channel.EMAIL else self.whatsapp


# What an operator sets for a channel's messages to be sent, and what they are called.
_MISSING = {
    Channel.EMAIL: ("PLEDGE_SMTP_URL", "email(s)"),
    Channel.WHATSAPP: (
        "PLEDGE_WHATSAPP_ACCESS_TOKEN and PLEDGE_WHATSAPP_PHONE_NUMBER_ID",
        "WhatsApp reply(ies)",
    ),
}


def _warn_waiting(session: Session, channels: Collection[Channel]) -> None:
    """Say how many messages wait for a channel nobody sends, and what to set."""
    for channel in channels:
        waiting = pending_count(session, channel=channel)
        if waiting:
            setting, kind = _MISSING[channel]
            log.warning("%d %s waiting in the outbox: set %s to send them", waiting, kind, setting)


def deliver_pending(
    session: Session,
    *,
    limit: int = 50,
    sender: Sender | None = None,
    whatsapp_sender: WhatsAppSender | None = None,
    channels: Collection[Channel] = tuple(Channel),
) -> int:
    """Send up to ``limit`` waiting messages of these channels; the number sent. Never raises
    for one message: its attempt is counted and its error kept for the next run. Works in
    short transactions of its own, so whatever the session had open is committed first."""
    settings = get_settings()
    senders = Senders(
        email=sender or default_sender(settings),
        whatsapp=whatsapp_sender or default_whatsapp_sender(settings),
    )
    ready = [channel for channel in Channel if channel in channels and senders.of(channel)]
    _warn_waiting(session, [c for c in Channel if c in channels and c not in ready])
    if not ready:
        session.commit()
        return 0

    _release_stale_claims(session)
    rows = session.execute(
        sa.select(
            outbox_message_table.c.id,
            outbox_message_table.c.channel,
            outbox_message_table.c.to,
            outbox_message_table.c.subject,
            outbox_message_table.c.body,
            outbox_message_table.c.attempts,
        )
        .where(
            outbox_message_table.c.sent_at.is_(None),
            outbox_message_table.c.attempts < settings.mail_max_attempts,
            outbox_message_table.c.channel.in_([channel.value for channel in ready]),
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
            _send(row, settings=settings, senders=senders)
        except Exception as error:
            text = f"{type(error).__name__}: {error}".strip()
            kind = "email" if row.channel == Channel.EMAIL else "WhatsApp reply"
            log.warning("%s %s failed: %s", kind, row.id, text)
            _finish(session, message_id=row.id, error=text)
            continue
        _finish(session, message_id=row.id, error=None, keep_body=_to_log(row, senders))
        sent += 1
    return sent


def _to_log(row: sa.Row[Any], senders: Senders) -> bool:
    """Whether the message went to the log rather than to its recipient."""
    return isinstance(senders.of(Channel(row.channel)), LogSender | WhatsAppLogSender)


def _send(row: sa.Row[Any], *, settings: Settings, senders: Senders) -> None:
    """Hand one claimed message to its channel's sender."""
    body = open_body(row.body)
    if body is None:
        raise UnreadableBody(
            "the message cannot be decrypted: PLEDGE_SECRET_KEY was changed after it was queued"
        )
    if row.channel == Channel.WHATSAPP:
        assert senders.whatsapp is not None  # only the channels with a sender were read
        senders.whatsapp.send(to=row.to, body=body)
        return
    assert senders.email is not None
    senders.email.send(build_email(settings=settings, to=row.to, subject=row.subject, body=body))


_delivering = threading.Lock()
_again = threading.Event()


def delivery(engine: Engine) -> BackgroundTask | None:
    """What a request that queued a message runs after its answer: a delivery, unless
    nothing can send, or a delivery of this process is running already (it goes round once
    more). Decided on the event loop, so that under a burst of signatures most requests hand
    nothing to a thread."""
    settings = get_settings()
    if default_sender(settings) is None and default_whatsapp_sender(settings) is None:
        return None
    _again.set()
    if _delivering.locked():
        return None
    return BackgroundTask(deliver_soon, engine)


def deliver_soon(engine: Engine) -> None:
    """Deliver what is waiting, once per burst: a request that queued a message while a
    delivery runs in this process leaves it to that run, which goes round once more. Under a
    burst of signatures, one thread sends, instead of one per request."""
    settings = get_settings()
    if default_sender(settings) is None and default_whatsapp_sender(settings) is None:
        return  # nothing can be sent: the messages wait for `pledge mail send` once set up
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
