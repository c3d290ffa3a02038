"""Signing: a checked sign form's signature written in a group commit, pending until the
signer proves the contact is theirs.

The signing path is a handful of plain SQL statements in one short transaction: the supporters
of a batch are looked up, what each signature adds is planned without I/O, and the rows,
their confirmations, the emails and the counters are written, a few statements per campaign
whatever the batch's size.

Whatever the contact (new, pending, or a supporter already counted), a signing writes one
confirmation and the signer is shown the same "check your email / WhatsApp" page: nothing
tells a stranger whether that person had signed. A new signer is counted once confirmed (at
once where the campaign counts unconfirmed signatures); a known one gets a message with their
private link, and the pledges they ticked are added once that message is confirmed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from operator import itemgetter
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from pledge import mail
from pledge.bulk import insert_rows, pipelined
from pledge.campaigns import service as campaigns
from pledge.campaigns.models import CampaignView
from pledge.config import get_settings
from pledge.contacts import supporter_digest
from pledge.db import GroupCommit, commit_batch, utcnow
from pledge.errors import Conflict
from pledge.i18n import gettext as _
from pledge.security import FieldCipher, contact_digest, hash_token, random_token
from pledge.supporters.models import (
    PENDING,
    SUSPECT,
    TOTAL,
    ConfirmationChannel,
    ConfirmationTicket,
    SignedSupporter,
    Signing,
    SignOutcome,
    SupporterState,
    confirmation_table,
    partner_key,
    pledge_key,
    signature_table,
    supporter_table,
)
from pledge.supporters.service.form import CleanSignature, SignForm
from pledge.supporters.service.known import (
    Known,
    KnownInCampaign,
    look_up,
)
from pledge.supporters.service.messages import SignerLinks, signing_email
from pledge.supporters.service.origins import email_domain_of
from pledge.supporters.service.secrets import code_digest, new_code
from pledge.supporters.service.tallies import add_to_tallies, invalidate_counts

# Messages one supporter may be sent about new signings in a day: whoever types their
# contact into the form again and again cannot flood their inbox.
MESSAGES_PER_DAY = 3


@dataclass(frozen=True, slots=True)
class PendingSigning:
    """A checked signature on its way to the database: everything but the I/O is done."""

    campaign_id: int
    clean: CleanSignature
    digest: str
    # The digest signers had before contacts were folded (of the address lower-cased), when it
    # differs: those whose contact was not kept could not be given the new one.
    legacy_digest: str | None
    encrypted: str | None  # the contact, only when the supporter asked a partner for updates
    locale: str
    ticket: ConfirmationTicket  # the secrets of this signing's confirmation
    secret: str  # the plain secret of the confirmation link
    counted_at_once: bool  # the campaign counts signatures before they are confirmed
    reminder_contact: str | None  # an email address, encrypted, for the reminders
    title: str  # the campaign's, for the message
    links: SignerLinks | None  # where an email's links point; None for WhatsApp
    # Where it comes from, kept on a new supporter for the abuse console: the client's
    # network and an email contact's domain.
    network: str | None = None
    email_domain: str | None = None
    # Sent over the per-address signing limit: a new supporter is held for review, in no
    # count; a known contact is taken as usual. The signer is answered the same either way.
    suspect: bool = False


@dataclass(frozen=True, slots=True)
class Written:
    """What the database made of one signature."""

    outcome: SignOutcome
    supporter: SignedSupporter
    pledge_ids: tuple[int, ...]  # the pledges counted at once (campaigns that count unconfirmed)
    emailed: bool = False  # a message to the signer waits in the outbox


def prepare(
    view: CampaignView,
    form: SignForm,
    *,
    locale: str = "id",
    links: SignerLinks | None = None,
    network: str | None = None,
    suspect: bool = False,
) -> PendingSigning | None:
    """Check a posted form, compute its digest and make its confirmation's secrets; None when
    the honeypot caught a bot. `network` is where it came from, `suspect` whether it came
    over the signing limit."""
    if form.website:
        return None
    if not campaigns.is_signable(view.campaign):
        raise Conflict(_("This campaign is not taking signatures."))
    clean = form.check(view)
    settings = get_settings()
    cipher = FieldCipher(settings.secret_key)
    encrypted = None
    if clean.updates_partner_id is not None:
        encrypted = cipher.encrypt(clean.contact)
    by_email = "@" in clean.contact
    digest = supporter_digest(settings.secret_key, clean.contact)
    legacy = contact_digest(settings.secret_key, clean.contact.lower()) if by_email else digest
    secret = random_token(18)
    ticket = ConfirmationTicket(
        channel=ConfirmationChannel.EMAIL if by_email else ConfirmationChannel.WHATSAPP,
        link_digest=hash_token(secret),
        code=new_code(),
    )
    return PendingSigning(
        campaign_id=view.id,
        clean=clean,
        digest=digest,
        legacy_digest=legacy if legacy != digest else None,
        encrypted=encrypted,
        locale=locale,
        ticket=ticket,
        secret=secret,
        counted_at_once=view.campaign.counts_unconfirmed,
        reminder_contact=cipher.encrypt(clean.contact) if by_email else None,
        title=view.campaign.title,
        links=links if by_email else None,
        network=network,
        email_domain=email_domain_of(clean.contact) if by_email else None,
        suspect=suspect,
    )


# The honeypot's answer: nothing is stored, and the bot is shown the usual page.
CAUGHT = Signing(outcome=SignOutcome.NEW, supporter=None)


def signing_of(view: CampaignView, pending: PendingSigning, written: Written) -> Signing:
    slugs = tuple(p.slug for p in view.pledges if p.id in written.pledge_ids)
    return Signing(
        outcome=written.outcome,
        supporter=written.supporter,
        added=slugs,
        ticket=pending.ticket,
        emailed=written.emailed,
    )


def sign(
    session: Session,
    *,
    view: CampaignView,
    form: SignForm,
    locale: str = "id",
    links: SignerLinks | None = None,
    network: str | None = None,
    suspect: bool = False,
) -> Signing:
    """Take a signature: pending until confirmed, and one supporter however often and
    however differently the same person signs."""
    pending = prepare(view, form, locale=locale, links=links, network=network, suspect=suspect)
    if pending is None:
        return CAUGHT
    (written,) = commit_signings(session, [pending])
    if isinstance(written, Exception):
        raise written
    return signing_of(view, pending, written)


async def sign_soon(
    queue: GroupCommit[PendingSigning, Written],
    *,
    view: CampaignView,
    form: SignForm,
    locale: str = "id",
    links: SignerLinks | None = None,
    network: str | None = None,
    suspect: bool = False,
) -> Signing:
    """sign(), with the write queued for the process's next group commit: many signatures
    share one short transaction, and the answer comes once it is committed."""
    pending = prepare(view, form, locale=locale, links=links, network=network, suspect=suspect)
    if pending is None:
        return CAUGHT
    return signing_of(view, pending, await queue.submit(pending))


def signing_queue(engine: sa.Engine) -> GroupCommit[PendingSigning, Written]:
    """The process's queue of signatures waiting for their group commit."""
    return GroupCommit(engine, _write_signings, committed=_counts_changed)


def commit_signings(session: Session, jobs: Sequence[PendingSigning]) -> list[Written | Exception]:
    """Write signatures in one transaction; the counts of their campaigns are read anew."""
    results = commit_batch(session, jobs, _write_signings)
    _counts_changed(jobs)
    return results


def _counts_changed(jobs: Sequence[PendingSigning]) -> None:
    """Drop the cached counts of the campaigns a batch signed."""
    for campaign_id in {job.campaign_id for job in jobs}:
        invalidate_counts(campaign_id)


# --- writing a batch -----------------------------------------------------------------


_REKEY = (
    sa.update(supporter_table)
    .where(supporter_table.c.id == sa.bindparam("supporter_id"))
    .values(contact_digest=sa.bindparam("digest"))
)


@dataclass(slots=True)
class _Plan:
    """The rows and counter changes a batch makes, and each signature's outcome, in order."""

    outcomes: list[tuple[SignOutcome, Known, tuple[int, ...], bool]] = field(default_factory=list)
    new_rows: list[tuple[Known, dict[str, Any]]] = field(default_factory=list)
    confirmations: list[tuple[Known, dict[str, Any]]] = field(default_factory=list)
    mails: list[dict[str, Any]] = field(default_factory=list)
    # (campaign id, counter key) -> [pledge id, partner id, delta]
    deltas: dict[tuple[int, str], list[Any]] = field(default_factory=dict)

    def count(
        self, campaign_id: int, key: str, pledge_id: int | None, partner_id: int | None
    ) -> None:
        """One more on a counter of the campaign."""
        entry = self.deltas.setdefault((campaign_id, key), [pledge_id, partner_id, 0])
        entry[2] += 1


def _write_signings(session: Session, jobs: Sequence[PendingSigning]) -> list[Written]:
    """The signatures of a batch, in order, as a few statements per campaign: one query for
    the supporters already known, one insert for the new ones, one for their confirmations,
    one for the emails and one upsert for every counter they change."""
    conn = session.connection()
    now = utcnow()
    found = look_up(conn, jobs, now=now)
    plan = _plan(jobs, found, now=now)
    # By id, as every batch changes them: two batches never wait for each other in a circle.
    rekeyed = sorted(
        (change for state in found.values() for change in state.rekeyed),
        key=itemgetter("supporter_id"),
    )
    if rekeyed:
        conn.execute(_REKEY, rekeyed)
    _write(conn, plan, now=now)
    return [
        Written(outcome, SignedSupporter(id=entry.id or 0, token=entry.token), added, emailed)
        for outcome, entry, added, emailed in plan.outcomes
    ]


def _plan(
    jobs: Sequence[PendingSigning], found: dict[int, KnownInCampaign], *, now: datetime
) -> _Plan:
    """What each signature adds, in order, without I/O: a signer met twice in one batch is
    new once, then known."""
    plan = _Plan()
    expires_at = now + timedelta(days=get_settings().pending_days)
    for job in jobs:
        state = found[job.campaign_id]
        entry = state.known.get(job.digest)
        if entry is None:
            entry = state.known[job.digest] = Known(
                None, random_token(16), counted=job.counted_at_once
            )
            outcome, added, to_confirm = _plan_new(plan, job, entry, state, now=now)
        else:
            added = ()
            to_confirm = tuple(pid for pid in job.clean.pledge_ids if pid not in entry.signed)
            outcome = SignOutcome.ADDED if to_confirm else SignOutcome.UNCHANGED
        entry.signed.update(added)
        emailed = _plan_mail(plan, job, entry, outcome, to_confirm)
        plan.confirmations.append(
            (
                entry,
                _confirmation_row(
                    job, to_confirm, emailed, (outcome, added), now=now, expires_at=expires_at
                ),
            )
        )
        plan.outcomes.append((outcome, entry, added, emailed))
    return plan


def _plan_new(
    plan: _Plan, job: PendingSigning, entry: Known, state: KnownInCampaign, *, now: datetime
) -> tuple[SignOutcome, tuple[int, ...], tuple[int, ...]]:
    """A new supporter's row and counts: pending, or counted at once where the campaign
    counts unconfirmed signatures; held for review, in no count, when it came over the
    signing limit. The pledges signed now, and those left to confirm."""
    clean, campaign_id = job.clean, job.campaign_id
    if job.suspect:
        # Held apart, but stored as it would have been otherwise: its confirmation and its
        # message are the same, so nothing tells the signer.
        plan.count(campaign_id, SUSPECT, None, None)
        plan.new_rows.append((entry, _supporter_row(job, entry, state, number=0, now=now)))
        if job.counted_at_once:
            return SignOutcome.NEW, clean.pledge_ids, ()
        return SignOutcome.NEW, (), clean.pledge_ids
    if not job.counted_at_once:
        plan.count(campaign_id, PENDING, None, None)
        plan.new_rows.append((entry, _supporter_row(job, entry, state, number=0, now=now)))
        return SignOutcome.NEW, (), clean.pledge_ids
    state.last_number += 1
    plan.new_rows.append(
        (entry, _supporter_row(job, entry, state, number=state.last_number, now=now))
    )
    plan.count(campaign_id, TOTAL, None, None)
    if clean.referrer_id is not None:
        plan.count(campaign_id, partner_key(clean.referrer_id), None, clean.referrer_id)
    for pid in clean.pledge_ids:
        plan.count(campaign_id, pledge_key(pid), pid, None)
    return SignOutcome.NEW, clean.pledge_ids, ()


def _plan_mail(
    plan: _Plan,
    job: PendingSigning,
    entry: Known,
    outcome: SignOutcome,
    to_confirm: tuple[int, ...],
) -> bool:
    """The email this signing sends, if its contact is an email address and it has not been
    sent too many today; whether one is sent."""
    if job.links is None or entry.messaged >= MESSAGES_PER_DAY:
        return False
    entry.messaged += 1
    subject, body = signing_email(
        job.links,
        locale=job.locale,
        title=job.title,
        secret=job.secret,
        code=job.ticket.code,
        token=entry.token,
        counted=entry.counted,
        new=outcome == SignOutcome.NEW,
        adds=bool(to_confirm),
    )
    plan.mails.append(mail.outbox_row(to=job.clean.contact, subject=subject, body=body))
    return True


def _confirmation_row(
    job: PendingSigning,
    to_confirm: tuple[int, ...],
    emailed: bool,
    done: tuple[SignOutcome, tuple[int, ...]],
    *,
    now: datetime,
    expires_at: datetime,
) -> dict[str, Any]:
    """The confirmation of one signing, without its supporter's id (known once inserted).
    Where the campaign counts at once and nothing is left to confirm, it is confirmed already,
    with what the signing did (``done``)."""
    ticket = job.ticket
    nothing_to_prove = job.counted_at_once and not to_confirm
    outcome, added = done
    return {
        "channel": ticket.channel.value,
        "pledge_ids": ",".join(str(pid) for pid in to_confirm),
        "link_digest": ticket.link_digest,
        "code_digest": code_digest(ticket.link_digest, ticket.code),
        "wrong_codes": 0,
        # Kept, encrypted, for the reminders of a pending email signature only.
        "contact_encrypted": job.reminder_contact if job.links and not nothing_to_prove else None,
        "messages": int(emailed),
        "last_message_at": now if emailed else None,
        "locale": job.locale,
        "created_at": now,
        "expires_at": expires_at,
        "confirmed_at": now if nothing_to_prove else None,
        "outcome": outcome.value if nothing_to_prove else None,
        "added_ids": ",".join(map(str, added)) if nothing_to_prove else "",
    }


def _supporter_row(
    job: PendingSigning, entry: Known, state: KnownInCampaign, *, number: int, now: datetime
) -> dict[str, Any]:
    """The supporter row of a new signer."""
    clean = job.clean
    return {
        "campaign_id": job.campaign_id,
        "contact_digest": job.digest,
        "token": entry.token,
        "display_name": clean.display_name,
        "province": clean.province,
        "age_band": clean.age_band,
        "show_name": clean.show_name,
        "referrer_id": clean.referrer_id,
        "updates_partner_id": clean.updates_partner_id,
        "contact_encrypted": job.encrypted,
        "invite_code": random_token(6),
        # An unknown invite code credits no one.
        "invited_by_id": state.inviters.get(clean.invite or ""),
        "number": number,
        "locale": job.locale,
        "created_at": now,
        "state": _new_state(job),
        "network": job.network,
        "email_domain": job.email_domain,
    }


def _new_state(job: PendingSigning) -> SupporterState:
    if job.suspect:
        return SupporterState.SUSPECT
    return SupporterState.COUNTED if job.counted_at_once else SupporterState.PENDING


_SIGNER_KEY = itemgetter("campaign_id", "contact_digest")


def _write(conn: sa.Connection, plan: _Plan, *, now: datetime) -> None:
    """Insert the new supporters (returning their ids), the signatures counted at once,
    the confirmations and the emails, and add to the counters."""
    if plan.new_rows:
        entries = {_SIGNER_KEY(row): entry for entry, row in plan.new_rows}
        # In one order in every batch: two batches that add the same new signers at once wait
        # for each other's keys in that order, never in a circle.
        for supporter_id, campaign_id, digest in insert_rows(
            conn,
            supporter_table,
            sorted((row for _entry, row in plan.new_rows), key=_SIGNER_KEY),
            returning=("id", "campaign_id", "contact_digest"),
        ):
            entries[campaign_id, digest].id = supporter_id
    signatures = [
        {"supporter_id": entry.id, "pledge_id": pid, "created_at": now}
        for _outcome, entry, added, _emailed in plan.outcomes
        for pid in added
    ]
    # Nothing is read back from here on: on PostgreSQL the rest goes in one round trip.
    with pipelined(conn):
        if signatures:
            insert_rows(conn, signature_table, signatures)
        insert_rows(
            conn,
            confirmation_table,
            [{**row, "supporter_id": entry.id} for entry, row in plan.confirmations],
        )
        if plan.mails:
            mail.queue_rows(conn, plan.mails)
        add_to_tallies(
            conn,
            [
                (campaign_id, key, pledge_id, partner_id, delta)
                for (campaign_id, key), (pledge_id, partner_id, delta) in sorted(
                    plan.deltas.items()
                )
            ],
            now=now,
        )
