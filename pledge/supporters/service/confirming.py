"""Confirming a signing: by the button of the emailed link, by the code typed on the site, or
by the signer's WhatsApp message. Each confirms once; the counts move in the same
transaction, exactly once however often and however concurrently it is tried."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from pledge import contacts
from pledge.campaigns import service as campaigns
from pledge.config import get_settings
from pledge.db import GroupCommit, commit_batch, utcnow, writing
from pledge.errors import Gone, Invalid, NotFound, PledgeError, TooManyRequests
from pledge.i18n import gettext as _
from pledge.security import hash_token
from pledge.supporters.models import (
    ConfirmationChannel,
    SignOutcome,
    confirmation_table,
    supporter_table,
)
from pledge.supporters.service import confirmations as batches
from pledge.supporters.service.confirmations import Confirmed, ConfirmJob, Refused
from pledge.supporters.service.secrets import code_digest, codes_in

# Wrong codes one signing takes before its code stops working (its link still works).
WRONG_CODES_MAX = 5


class WrongCode(Invalid):
    """A code that is not the signing's: a guess, or a typing mistake, counted as such."""


@dataclass(frozen=True, slots=True)
class Waiting:
    """A signing as the page that waits for its confirmation sees it."""

    campaign_id: int
    channel: ConfirmationChannel
    confirmed: bool
    expired: bool
    token: str | None  # the supporter's page, once confirmed
    outcome: SignOutcome | None = None  # what confirming did
    added: tuple[int, ...] = ()  # the pledges it added


def _find(session: Session, where: sa.ColumnElement[bool]) -> sa.Row[Any] | None:
    return session.execute(
        sa.select(*batches.COLUMNS).select_from(batches.JOINED).where(where)
    ).first()


def waiting(session: Session, *, campaign_id: int, link_digest: str) -> Waiting | None:
    """The signing a browser is bound to, if it belongs to this campaign."""
    row = _find(session, confirmation_table.c.link_digest == link_digest)
    if row is None or row.campaign_id != campaign_id:
        return None
    confirmed = row.confirmed_at is not None
    return Waiting(
        campaign_id=row.campaign_id,
        channel=ConfirmationChannel(row.channel),
        confirmed=confirmed,
        expired=row.expires_at < utcnow(),
        token=row.token if confirmed else None,
        outcome=SignOutcome(row.outcome) if row.outcome else None,
        added=tuple(int(pid) for pid in row.added_ids.split(",") if pid),
    )


def by_link(session: Session, *, campaign_id: int, secret: str) -> Waiting:
    """The signing an emailed link confirms; NotFound for a link that is not one."""
    found = None
    if 16 <= len(secret) <= 64:
        found = waiting(session, campaign_id=campaign_id, link_digest=hash_token(secret))
    if found is None:
        raise _not_a_link()
    return found


def confirm_link(session: Session, *, campaign_id: int, secret: str) -> Confirmed:
    """Confirm by the emailed link's button."""
    return confirm(session, campaign_id=campaign_id, link_digest=_link_digest(secret))


async def confirm_link_soon(
    queue: GroupCommit[ConfirmJob, Confirmed], *, campaign_id: int, secret: str
) -> Confirmed:
    """confirm_link(), with the write queued for the process's next group commit of
    confirmations: many share one short transaction."""
    job = ConfirmJob(campaign_id, _link_digest(secret), utcnow())
    try:
        return await queue.submit(job)
    except Refused as refused:
        raise _said(refused) from None


def confirmation_queue(engine: sa.Engine) -> GroupCommit[ConfirmJob, Confirmed]:
    """The process's queue of confirmations waiting for their group commit."""
    return GroupCommit(engine, batches.write, committed=batches.counts_changed)


def _link_digest(secret: str) -> str:
    if not 16 <= len(secret) <= 64:
        raise _not_a_link()
    return hash_token(secret)


def _not_a_link() -> NotFound:
    return NotFound(
        _(
            "This confirmation link is not valid. Copy the whole link from the message, "
            "or sign again to get a new one."
        )
    )


def confirm_code(session: Session, *, campaign_id: int, link_digest: str, code: str) -> Confirmed:
    """Confirm by the code typed on the page the signer's browser waits on. Invalid when the
    code is wrong; TooManyRequests once the signing took too many wrong codes."""
    typed = codes_in(code)
    row = _find(session, confirmation_table.c.link_digest == link_digest)
    if row is None or row.campaign_id != campaign_id or row.channel != ConfirmationChannel.EMAIL:
        raise Invalid({"code": _("Sign first: the code comes in the email we send you then.")})
    if row.confirmed_at is None and row.wrong_codes >= WRONG_CODES_MAX:
        raise TooManyRequests(
            _("Too many wrong codes. Open the link in the email instead, or sign again.")
        )
    if len(typed) != 1:
        raise Invalid({"code": _("Type the 6 digits of the code in the email.")})
    if code_digest(link_digest, typed[0]) != row.code_digest:
        _count_wrong_code(session, confirmation_id=row.id)
        raise WrongCode({"code": _("That code is not right. Check the email and try again.")})
    return confirm(session, campaign_id=campaign_id, link_digest=link_digest)


def _count_wrong_code(session: Session, *, confirmation_id: int) -> None:
    with writing(session):
        session.execute(
            sa.update(confirmation_table)
            .where(confirmation_table.c.id == confirmation_id)
            .values(wrong_codes=confirmation_table.c.wrong_codes + 1)
        )


def confirm(
    session: Session,
    *,
    link_digest: str,
    campaign_id: int | None = None,
    now: datetime | None = None,
) -> Confirmed:
    """Confirm one signing: the supporter counted (if pending), the pledges it ticked added,
    and the counters moved, once. A signing confirmed already answers what it had done
    (UNCHANGED); an expired one is Gone; a link of another campaign's signing NotFound."""
    job = ConfirmJob(campaign_id, link_digest, now or utcnow())
    (result,) = commit_batch(session, [job], batches.write)
    batches.counts_changed([job])
    if isinstance(result, Refused):
        raise _said(result)
    if isinstance(result, Exception):
        raise result
    return result


def _said(refused: Refused) -> PledgeError:
    """Why a confirmation was refused, in the reader's language."""
    if refused.reason == "expired":
        return Gone(_("This confirmation has expired. Sign again to get a new one."))
    if refused.reason == "withdrawn":
        return NotFound(_("We could not find this signature. It may have been withdrawn."))
    return _not_a_link()


# --- WhatsApp --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WhatsAppAnswer:
    """What a WhatsApp message did: the signing it confirmed (None: none matched), or that
    the signing it names had expired; and the language to answer in."""

    confirmed: Confirmed | None
    expired: bool = False
    locale: str = "id"


# The signings of one number looked at for a code: its most recent ones.
_RECENT_SIGNINGS = 50


def receive_whatsapp(
    session: Session, *, sender: str, text: str, now: datetime | None = None
) -> WhatsAppAnswer:
    """A WhatsApp message from ``sender`` (its number, as WhatsApp gives it: digits with the
    country code): confirm the signing whose code it carries, only when that number is the
    one that signed."""
    now = now or utcnow()
    try:
        number = contacts.normalise_contact("+" + sender.strip().lstrip("+"))
    except contacts.ContactError:
        return WhatsAppAnswer(None)
    codes = codes_in(text)
    digest = contacts.supporter_digest(get_settings().secret_key, number)
    campaign_ids = [campaign_id for campaign_id, _slug in campaigns.list_slugs(session)]
    rows = session.execute(
        sa.select(
            confirmation_table.c.link_digest,
            confirmation_table.c.code_digest,
            confirmation_table.c.expires_at,
            confirmation_table.c.confirmed_at,
            confirmation_table.c.locale,
        )
        .join(supporter_table, supporter_table.c.id == confirmation_table.c.supporter_id)
        .where(
            # The campaign first: the (campaign, digest) index finds the rows of each.
            supporter_table.c.campaign_id.in_(campaign_ids),
            supporter_table.c.contact_digest == digest,
            confirmation_table.c.channel == ConfirmationChannel.WHATSAPP.value,
        )
        .order_by(confirmation_table.c.id.desc())
        .limit(_RECENT_SIGNINGS)
    ).all()
    locale = rows[0].locale if rows else "id"
    for row in rows:
        if any(code_digest(row.link_digest, code) == row.code_digest for code in codes):
            if row.confirmed_at is None and row.expires_at < now:
                return WhatsAppAnswer(None, expired=True, locale=row.locale)
            return WhatsAppAnswer(confirm(session, link_digest=row.link_digest, now=now))
    return WhatsAppAnswer(None, locale=locale)
