"""The WhatsApp Cloud API: its webhook's handshake and signature, the messages in its posts,
the messages already received (each handled once), and the senders of our replies (the
Graph API, or the log in development).

Meta posts every update of the business number to one webhook, signed with the app's secret
(``X-Hub-Signature-256``), and delivers an update again and again, for days, until it is
answered 200: the same message may arrive twice, even at once on two processes. A message is
claimed here by its id before it is handled and marked handled in the transaction that
queues its reply, so it is handled once; a claim left by a process that died is taken over
by the next delivery.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, Protocol, TypeVar

import sqlalchemy as sa
from fastapi import Depends, Request
from pydantic import BaseModel, Field, ValidationError
from sqlmodel import Field as Column
from sqlmodel import Session, SQLModel

from pledge.config import Environment, Settings, get_settings
from pledge.db import table, utcnow, writing
from pledge.errors import BadRequest, Forbidden
from pledge.i18n import gettext as _
from pledge.ratelimit import limit_request

log = logging.getLogger(__name__)
M = TypeVar("M", bound=BaseModel)

SIGNATURE_HEADER = "x-hub-signature-256"
# What Meta echoes in the handshake is a number; anything much longer is not from Meta.
CHALLENGE_MAX = 128
# A replier that does not answer within this is given up on, and tried again on the next run.
GRAPH_TIMEOUT = 15.0
# A claim this old was left by a process that died while handling the message: Meta's next
# delivery takes it over. Handling one message takes milliseconds.
STALE_CLAIM = timedelta(minutes=5)
# Meta stops delivering an update after a week; its id is kept a while longer.
KEEP_IDS = timedelta(days=14)


# --- the webhook's gate ------------------------------------------------------------------


def signature(body: bytes, secret: str) -> str:
    """The ``X-Hub-Signature-256`` Meta sends with a body: ``sha256=`` and the hex HMAC."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def is_signed(body: bytes, header: str | None, secret: str | None) -> bool:
    """Whether the header is the body's signature with the app secret (in constant time)."""
    if not secret or not header:
        return False
    expected = signature(body, secret).encode()
    return hmac.compare_digest(expected, header.strip().encode("latin-1", "replace"))


async def signed_body(request: Request) -> bytes:
    """The raw body of a post to the webhook, once its signature says it comes from Meta.

    Nothing else is said to a request that is not signed: not whether the site has an app
    secret, nor whether its body could be read."""
    settings = get_settings()
    await limit_request(request, settings.ratelimit_whatsapp, "whatsapp-webhook")
    body = await request.body()
    if not settings.whatsapp_app_secret:
        log.warning("a WhatsApp webhook post was refused: PLEDGE_WHATSAPP_APP_SECRET is not set")
    if not is_signed(body, request.headers.get(SIGNATURE_HEADER), settings.whatsapp_app_secret):
        raise Forbidden(_("This request is not signed by WhatsApp, so it was refused."))
    return body


SignedBody = Annotated[bytes, Depends(signed_body)]


def handshake(params: Mapping[str, str]) -> str:
    """The challenge of Meta's subscription handshake, to be echoed when its verify token is
    ours; Forbidden otherwise."""
    token = get_settings().whatsapp_verify_token
    given = params.get("hub.verify_token", "")
    if not token:
        log.warning("a WhatsApp handshake was refused: PLEDGE_WHATSAPP_VERIFY_TOKEN is not set")
    matches = bool(token) and hmac.compare_digest(
        given.encode("utf-8", "replace"), (token or "").encode()
    )
    if params.get("hub.mode") != "subscribe" or not matches:
        raise Forbidden(_("The verify token does not match, so the subscription was refused."))
    challenge = params.get("hub.challenge", "")
    if not challenge or len(challenge) > CHALLENGE_MAX:
        raise BadRequest(_("The handshake has no challenge to answer."))
    return challenge


# --- the messages in a post ----------------------------------------------------------------


class _Text(BaseModel):
    body: str


class _Message(BaseModel):
    sender: str = Field(alias="from", min_length=1, max_length=32)
    id: str = Field(min_length=1, max_length=512)
    type: str
    text: _Text | None = None


class _Messages(BaseModel):
    """The value of a "messages" change. Status updates of our own replies come in it as
    "statuses", and are not read."""

    messages: list[_Message] = []


class _Change(BaseModel):
    field: str
    value: dict[str, Any]


class _Entry(BaseModel):
    changes: list[_Change] = []


class _Notification(BaseModel):
    object: str
    entry: list[_Entry]


BUSINESS_ACCOUNT = "whatsapp_business_account"


@dataclass(frozen=True, slots=True)
class Incoming:
    """A text message to the business number: WhatsApp's id for it, the number it comes from
    (digits with the country code), and its text."""

    id: str
    sender: str
    text: str


def _malformed(where: str, problem: str) -> BadRequest:
    return BadRequest(
        _("This is not a WhatsApp notification: %(where)s: %(problem)s")
        % {"where": where, "problem": problem}
    )


def _read(model: type[M], data: str | bytes | dict[str, Any], where: str) -> M:
    """``data`` read into ``model``; BadRequest naming the first thing that is wrong."""
    try:
        if isinstance(data, dict):
            return model.model_validate(data)
        return model.model_validate_json(data)
    except ValidationError as error:
        first = error.errors()[0]
        place = ".".join([where, *(str(part) for part in first["loc"])]).strip(".")
        raise _malformed(place or "body", first["msg"]) from None


def parse(body: bytes) -> list[Incoming]:
    """Every text message of every entry of a notification, in order; other kinds of message,
    status updates and the other fields' changes are left out. BadRequest for a body not in
    the documented shape."""
    notification = _read(_Notification, body, "")
    if notification.object != BUSINESS_ACCOUNT:
        raise _malformed("object", f"not {BUSINESS_ACCOUNT}")
    found = []
    for i, entry in enumerate(notification.entry):
        for j, change in enumerate(entry.changes):
            if change.field != "messages":
                continue
            where = f"entry.{i}.changes.{j}.value"
            for k, message in enumerate(_read(_Messages, change.value, where).messages):
                if message.type != "text":
                    continue
                if message.text is None:
                    raise _malformed(f"{where}.messages.{k}.text", "missing")
                found.append(Incoming(message.id, message.sender, message.text.body))
    return found


# --- messages received: each handled once -------------------------------------------------


class ReceivedMessage(SQLModel, table=True):
    """A message the webhook was given, known by a digest of WhatsApp's id for it (the id
    itself spells the sender's number). Handled once its reply is queued."""

    __tablename__ = "whatsapp_message"

    id: int | None = Column(default=None, primary_key=True)
    digest: str = Column(max_length=64, unique=True)
    received_at: datetime = Column(default_factory=utcnow, index=True)
    handled_at: datetime | None = None


received_message_table = table(ReceivedMessage)


class Claim(StrEnum):
    NEW = "new"  # ours to handle
    HANDLED = "handled"  # handled before: a delivery again
    BUSY = "busy"  # being handled right now, by another request


def _digest(message_id: str) -> str:
    return hashlib.sha256(message_id.encode()).hexdigest()


def claim(session: Session, message_id: str, *, now: datetime | None = None) -> Claim:
    """Claim a message before handling it, in a transaction of its own."""
    now = now or utcnow()
    digest = _digest(message_id)
    messages = received_message_table
    try:
        with writing(session):
            row = session.execute(
                sa.select(messages.c.received_at, messages.c.handled_at).where(
                    messages.c.digest == digest
                )
            ).first()
            if row is None:
                session.execute(sa.insert(messages).values(digest=digest, received_at=now))
                return Claim.NEW
            if row.handled_at is not None:
                return Claim.HANDLED
            if row.received_at >= now - STALE_CLAIM:
                return Claim.BUSY
            taken = session.execute(
                sa.update(messages)
                .where(
                    messages.c.digest == digest,
                    messages.c.handled_at.is_(None),
                    messages.c.received_at == row.received_at,
                )
                .values(received_at=now)
            ).rowcount  # type: ignore[attr-defined]
            return Claim.NEW if taken == 1 else Claim.BUSY
    except sa.exc.IntegrityError:
        # Another process inserted the same id between our look and our insert.
        return Claim.BUSY


def mark_handled(session: Session, message_id: str, *, now: datetime | None = None) -> None:
    """Mark a claimed message handled, in the caller's write transaction (the one that
    queues its reply), and forget the ids Meta will not deliver again."""
    now = now or utcnow()
    messages = received_message_table
    session.execute(
        sa.update(messages).where(messages.c.digest == _digest(message_id)).values(handled_at=now)
    )
    session.execute(sa.delete(messages).where(messages.c.received_at < now - KEEP_IDS))


def release(session: Session, message_id: str) -> None:
    """Let go of a claim whose handling failed, so that Meta's next delivery handles it."""
    messages = received_message_table
    with writing(session):
        session.execute(
            sa.delete(messages).where(
                messages.c.digest == _digest(message_id), messages.c.handled_at.is_(None)
            )
        )


# --- our replies ----------------------------------------------------------------------------


class Sender(Protocol):
    def send(self, *, to: str, body: str) -> None: ...


class GraphApiError(Exception):
    """The Graph API did not take a reply; the text says why, never with the token."""


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # The token goes to the Graph API and nowhere else, whatever an answer points to.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class GraphApiSender:
    """A text reply through the Cloud API: ``POST {api_url}/{phone_number_id}/messages``."""

    def __init__(
        self, *, api_url: str, phone_number_id: str, access_token: str, timeout: float
    ) -> None:
        self.url = f"{api_url.rstrip('/')}/{phone_number_id}/messages"
        self.access_token = access_token
        self.timeout = timeout
        self.opener = urllib.request.build_opener(_NoRedirects)

    def send(self, *, to: str, body: str) -> None:
        payload = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": to.lstrip("+"),
            "type": "text",
            # No preview: WhatsApp would fetch the supporter's private page to draw one.
            "text": {"preview_url": False, "body": body},
        }
        # The settings allow only an http(s) address for the API.
        request = urllib.request.Request(  # noqa: S310
            self.url,
            data=json.dumps(payload).encode(),
            method="POST",
            headers={
                "Authorization": f"Bearer {self.access_token}",
                "Content-Type": "application/json",
            },
        )
        try:
            with self.opener.open(request, timeout=self.timeout) as answer:
                answer.read(64 * 1024)
        except urllib.error.HTTPError as error:
            raise GraphApiError(f"HTTP {error.code}: {_graph_error(error)}") from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise GraphApiError(f"{type(error).__name__}: {reason}") from None


def _graph_error(error: urllib.error.HTTPError) -> str:
    """What the Graph API says went wrong: ``{"error": {"message": ..., "code": ...}}``."""
    try:
        found = json.loads(error.read(16 * 1024) or b"{}").get("error") or {}
        message = str(found.get("message") or error.reason)
        code = found.get("code")
    except (ValueError, AttributeError, OSError):
        message, code = str(error.reason), None
    return f"{message} (code {code})" if code is not None else message


class LogSender:
    """Development without the Cloud API: the reply goes to the log, link included, but not
    the number it is for (no contact is ever written to a log)."""

    def send(self, *, to: str, body: str) -> None:
        log.warning(
            "No PLEDGE_WHATSAPP_ACCESS_TOKEN and PLEDGE_WHATSAPP_PHONE_NUMBER_ID, so this "
            "WhatsApp reply was written to the log instead of being sent.\n\n%s",
            body,
        )


def default_sender(settings: Settings) -> Sender | None:
    """The Graph API when its token and number are set; else the log outside production. In
    production without them there is no sender: the replies wait in the outbox."""
    if settings.whatsapp_access_token and settings.whatsapp_phone_number_id:
        return GraphApiSender(
            api_url=settings.whatsapp_api_url,
            phone_number_id=settings.whatsapp_phone_number_id,
            access_token=settings.whatsapp_access_token,
            timeout=GRAPH_TIMEOUT,
        )
    if settings.env == Environment.PRODUCTION:
        return None
    return LogSender()
