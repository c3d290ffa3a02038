"""Confirming by WhatsApp as the webhook (and ``pledge confirmations receive-whatsapp``) hands
the messages over: each message handled once; the signing its code names confirmed when it
comes from the number that signed; and a reply queued in the outbox, sent after the answer.

The reply says the same thing whether the number never signed, signed with another code or
signed another campaign: nothing in it tells a sender whether a number or a code exists."""

from __future__ import annotations

import contextlib
import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from sqlmodel import Session

from pledge import mail, ratelimit, whatsapp
from pledge.campaigns import service as campaigns
from pledge.config import get_settings
from pledge.db import utcnow, writing
from pledge.errors import Gone, NotFound
from pledge.supporters import service as supporters
from pledge.supporters.models import SignOutcome

log = logging.getLogger(__name__)


class Outcome(StrEnum):
    """What became of one message."""

    CONFIRMED = "confirmed"  # the signing is confirmed: a new supporter counted
    ADDED = "added"  # the signing is confirmed: a supporter's new pledges added
    ALREADY = "already"  # the signing had been confirmed before
    EXPIRED = "expired"  # the code is the signer's, but came too late
    NO_MATCH = "no match"  # no signing of this number waits for this code
    REPEATED = "repeated"  # a message handled before, delivered again: nothing done
    BUSY = "busy"  # being handled right now by another request: nothing done here
    IGNORED = "ignored"  # too many messages from this number: nothing done, no reply

    @property
    def replied(self) -> bool:
        return self in _REPLIED


_REPLIED = {Outcome.CONFIRMED, Outcome.ADDED, Outcome.ALREADY, Outcome.EXPIRED, Outcome.NO_MATCH}
_BY_SIGN_OUTCOME = {
    SignOutcome.NEW: Outcome.CONFIRMED,
    SignOutcome.ADDED: Outcome.ADDED,
    SignOutcome.UNCHANGED: Outcome.ALREADY,
}


@dataclass(frozen=True, slots=True)
class Handled:
    """One message handled: what became of it, and the campaign it confirmed, if any."""

    outcome: Outcome
    campaign_slug: str | None = None
    signatures: int = 0  # the pledges the confirmation signed


# The links of a campaign's messages (its slug given), on this site.
LinksFor = Callable[[str], supporters.SignerLinks]


def receive(
    session: Session, *, messages: Sequence[whatsapp.Incoming], links: LinksFor
) -> list[Handled]:
    """Handle the text messages of one delivery, in order."""
    return [_receive_one(session, message, links) for message in messages]


def _receive_one(session: Session, message: whatsapp.Incoming, links: LinksFor) -> Handled:
    """Claim the message, confirm what it names, queue the reply and mark it handled."""
    claim = whatsapp.claim(session, message.id)
    if claim == whatsapp.Claim.HANDLED:
        return Handled(Outcome.REPEATED)
    if claim == whatsapp.Claim.BUSY:
        return Handled(Outcome.BUSY)
    try:
        if not _within_limit(message.sender):
            log.warning("a WhatsApp number sent too many messages: this one was ignored")
            _finish(session, message, reply=None)
            return Handled(Outcome.IGNORED)
        handled, reply = _confirm(session, message, links)
        _finish(session, message, reply=reply)
    except BaseException:
        # Meta delivers a message again until it is answered 200: the next delivery tries.
        with contextlib.suppress(Exception):
            whatsapp.release(session, message.id)
        raise
    return handled


def _within_limit(sender: str) -> bool:
    """Count a message against its number's limit. The number is counted by a digest: the
    rate-limit storage (Redis) never holds a contact."""
    key = hashlib.sha256(f"whatsapp:{sender.lstrip('+')}".encode()).hexdigest()
    return ratelimit.hit(get_settings().ratelimit_whatsapp_sender, "whatsapp-sender", key)


def _confirm(session: Session, message: whatsapp.Incoming, links: LinksFor) -> tuple[Handled, str]:
    """Confirm the signing the message names, and the reply that says so."""
    try:
        answer = supporters.receive_whatsapp(session, sender=message.sender, text=message.text)
    except NotFound:
        # Withdrawn between being found and being confirmed: nothing waits any more.
        answer = supporters.WhatsAppAnswer(None)
    except Gone:
        answer = supporters.WhatsAppAnswer(None, expired=True)
    confirmed = answer.confirmed
    if confirmed is None:
        if answer.expired:
            return Handled(Outcome.EXPIRED), supporters.whatsapp_expired(answer.locale)
        return Handled(Outcome.NO_MATCH), supporters.whatsapp_unknown(answer.locale)
    campaign = campaigns.list_titles(session)[confirmed.campaign_id]
    reply = supporters.whatsapp_reply(
        links(campaign.slug),
        locale=confirmed.locale,
        title=campaign.title,
        outcome=confirmed.outcome,
        token=confirmed.token,
    )
    handled = Handled(_BY_SIGN_OUTCOME[confirmed.outcome], campaign.slug, len(confirmed.added))
    return handled, reply


def _finish(session: Session, message: whatsapp.Incoming, *, reply: str | None) -> None:
    """Mark the message handled and queue its reply, in one transaction: a reply is queued
    once, and a message whose reply is queued is never handled again."""
    now = utcnow()
    with writing(session):
        whatsapp.mark_handled(session, message.id, now=now)
        if reply is not None:
            row = mail.outbox_row(
                to="+" + message.sender.lstrip("+"),
                # What the reply is, for whoever reads the outbox: its first line.
                subject=reply.splitlines()[0],
                body=reply,
                channel=mail.Channel.WHATSAPP,
            )
            mail.queue_rows(session.connection(), [row])
