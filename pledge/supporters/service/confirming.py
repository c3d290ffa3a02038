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
from pledge.db import utcnow, writing
from pledge.errors import Gone, Invalid, NotFound, TooManyRequests
from pledge.i18n import gettext as _
from pledge.security import hash_token
from pledge.supporters.models import (
    PENDING,
    TOTAL,
    ConfirmationChannel,
    SignOutcome,
    SupporterState,
    confirmation_table,
    partner_key,
    pledge_key,
    signature_table,
    supporter_table,
)
from pledge.supporters.service.secrets import code_digest, codes_in
from pledge.supporters.service.signing import lock_campaign
from pledge.supporters.service.tallies import add_to_tallies, invalidate_counts

# Wrong codes one signing takes before its code stops working (its link still works).
WRONG_CODES_MAX = 5


class WrongCode(Invalid):
    """A code that is not the signing's: a guess, or a typing mistake, counted as such."""


@dataclass(frozen=True, slots=True)
class Confirmed:
    """A confirmed signing: what it did, and the supporter's own page's secret."""

    campaign_id: int
    outcome: SignOutcome  # NEW: now counted; ADDED: pledges added; UNCHANGED: nothing to do
    token: str
    added: tuple[int, ...]  # the pledges this confirmation added
    locale: str


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


_COLUMNS = (
    confirmation_table.c.id,
    confirmation_table.c.channel,
    confirmation_table.c.pledge_ids,
    confirmation_table.c.link_digest,
    confirmation_table.c.code_digest,
    confirmation_table.c.wrong_codes,
    confirmation_table.c.locale,
    confirmation_table.c.expires_at,
    confirmation_table.c.confirmed_at,
    confirmation_table.c.outcome,
    confirmation_table.c.added_ids,
    supporter_table.c.id.label("supporter_id"),
    supporter_table.c.campaign_id,
    supporter_table.c.token,
    supporter_table.c.referrer_id,
    supporter_table.c.confirmed_at.label("supporter_confirmed_at"),
    supporter_table.c.state,
)


def _find(session: Session, where: sa.ColumnElement[bool]) -> sa.Row[Any] | None:
    return session.execute(
        sa.select(*_COLUMNS)
        .join(supporter_table, supporter_table.c.id == confirmation_table.c.supporter_id)
        .where(where)
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
        raise NotFound(
            _(
                "This confirmation link is not valid. Copy the whole link from the message, "
                "or sign again to get a new one."
            )
        )
    return found


def confirm_link(session: Session, *, campaign_id: int, secret: str) -> Confirmed:
    """Confirm by the emailed link's button."""
    by_link(session, campaign_id=campaign_id, secret=secret)
    return confirm(session, link_digest=hash_token(secret))


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
    return confirm(session, link_digest=link_digest)


def _count_wrong_code(session: Session, *, confirmation_id: int) -> None:
    with writing(session):
        session.execute(
            sa.update(confirmation_table)
            .where(confirmation_table.c.id == confirmation_id)
            .values(wrong_codes=confirmation_table.c.wrong_codes + 1)
        )


def confirm(session: Session, *, link_digest: str, now: datetime | None = None) -> Confirmed:
    """Confirm one signing: the supporter counted (if pending), the pledges it ticked added,
    and the counters moved, once. A signing confirmed already answers what it had done
    (UNCHANGED); an expired one is Gone."""
    now = now or utcnow()
    with writing(session):
        row = _find(session, confirmation_table.c.link_digest == link_digest)
        if row is None:
            raise NotFound(_("We could not find this signature. It may have been withdrawn."))
        if lock_campaign(session.connection(), row.campaign_id):
            # Read again under the lock: an invalidation or a review may have moved the
            # supporter in or out of the count since.
            row = _find(session, confirmation_table.c.link_digest == link_digest)
            if row is None:
                raise NotFound(_("We could not find this signature. It may have been withdrawn."))
        if row.confirmed_at is None and row.expires_at < now:
            raise Gone(_("This confirmation has expired. Sign again to get a new one."))
        claimed = session.execute(
            sa.update(confirmation_table)
            .where(confirmation_table.c.id == row.id, confirmation_table.c.confirmed_at.is_(None))
            .values(confirmed_at=now, contact_encrypted=None)
        ).rowcount  # type: ignore[attr-defined]
        outcome = SignOutcome.UNCHANGED
        added: tuple[int, ...] = ()
        if claimed == 1:
            outcome, added = _apply(session, row, now=now)
            session.execute(
                sa.update(confirmation_table)
                .where(confirmation_table.c.id == row.id)
                .values(outcome=outcome.value, added_ids=",".join(map(str, added)))
            )
    invalidate_counts(row.campaign_id)
    return Confirmed(row.campaign_id, outcome, row.token, added, row.locale)


def _apply(
    session: Session, row: sa.Row[Any], *, now: datetime
) -> tuple[SignOutcome, tuple[int, ...]]:
    """What a confirmation claimed just now does: confirm the supporter (a pending one enters
    the count), add the pledges it ticked that are not signed yet, and move the counters of
    a supporter in the count."""
    changes: list[tuple[str, int | None, int | None, int]] = []
    outcome = SignOutcome.UNCHANGED
    first, counted = _confirm_supporter(session, row, now=now)
    if counted:
        changes += [(PENDING, None, None, -1), (TOTAL, None, None, 1)]
        if row.referrer_id is not None:
            changes.append((partner_key(row.referrer_id), None, row.referrer_id, 1))
    if counted or (first and row.state != SupporterState.COUNTED):
        # A supporter held for review (or taken off the count before confirming) is
        # confirmed too, and told the same as any other new supporter.
        outcome = SignOutcome.NEW
    in_count = counted or row.state == SupporterState.COUNTED
    added = _add_pledges(session, row, now=now)
    if added:
        if in_count:
            changes += [(pledge_key(pid), pid, None, 1) for pid in added]
        if outcome == SignOutcome.UNCHANGED:
            outcome = SignOutcome.ADDED
    add_to_tallies(
        session.connection(),
        [
            (row.campaign_id, key, pledge, partner, delta)
            for key, pledge, partner, delta in sorted(changes)
        ],
        now=now,
    )
    return outcome, added


def _add_pledges(session: Session, row: sa.Row[Any], *, now: datetime) -> tuple[int, ...]:
    """Sign the pledges the confirmation ticked that the supporter had not signed."""
    # A pledge stays once its campaign has been public (see campaigns.delete_pledge).
    wanted = {int(pid) for pid in row.pledge_ids.split(",") if pid}
    signed = set(
        session.execute(
            sa.select(signature_table.c.pledge_id).where(
                signature_table.c.supporter_id == row.supporter_id
            )
        ).scalars()
    )
    added = tuple(sorted(wanted - signed))
    if added:
        session.execute(
            sa.insert(signature_table),
            [
                {"supporter_id": row.supporter_id, "pledge_id": pid, "created_at": now}
                for pid in added
            ],
        )
    return added


def _confirm_supporter(session: Session, row: sa.Row[Any], *, now: datetime) -> tuple[bool, bool]:
    """Mark the supporter confirmed: whether this was their first confirmation, and whether
    a pending one entered the count with it, with the next place in the campaign. A
    suspect or invalidated one stays out of the count."""
    if row.supporter_confirmed_at is not None:
        return False, False
    if row.state != SupporterState.PENDING:
        first = session.execute(
            sa.update(supporter_table)
            .where(
                supporter_table.c.id == row.supporter_id,
                supporter_table.c.confirmed_at.is_(None),
            )
            .values(confirmed_at=now)
        ).rowcount  # type: ignore[attr-defined]
        return int(first) == 1, False
    last = session.execute(
        sa.select(sa.func.coalesce(sa.func.max(supporter_table.c.number), 0)).where(
            supporter_table.c.campaign_id == row.campaign_id
        )
    ).scalar_one()
    counted = session.execute(
        sa.update(supporter_table)
        .where(
            supporter_table.c.id == row.supporter_id,
            supporter_table.c.state == SupporterState.PENDING,
        )
        .values(confirmed_at=now, number=int(last) + 1, state=SupporterState.COUNTED)
    ).rowcount  # type: ignore[attr-defined]
    return int(counted) == 1, int(counted) == 1


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
