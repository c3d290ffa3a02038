"""Signing: a checked sign form's signature written in a group commit.

The signing path is a handful of plain SQL statements in one short transaction: the supporters
of a batch are looked up, what each signature adds is planned without I/O, and the rows and
counters are written, a few statements per campaign whatever the batch's size.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from pledge.campaigns import service as campaigns
from pledge.campaigns.models import CampaignView
from pledge.config import get_settings
from pledge.contacts import supporter_digest
from pledge.db import GroupCommit, commit_batch, utcnow
from pledge.errors import Conflict
from pledge.i18n import gettext as _
from pledge.security import FieldCipher, random_token
from pledge.supporters.models import (
    TOTAL,
    SignedSupporter,
    Signing,
    SignOutcome,
    partner_key,
    pledge_key,
    signature_table,
    supporter_table,
)
from pledge.supporters.service.form import CleanSignature, SignForm
from pledge.supporters.service.tallies import add_to_tallies, invalidate_counts


@dataclass(frozen=True, slots=True)
class PendingSigning:
    """A checked signature on its way to the database: everything but the I/O is done."""

    campaign_id: int
    clean: CleanSignature
    digest: str
    encrypted: str | None  # the contact, only when the supporter asked a partner for updates
    locale: str


@dataclass(frozen=True, slots=True)
class Written:
    """What the database made of one signature."""

    outcome: SignOutcome
    supporter: SignedSupporter
    pledge_ids: tuple[int, ...]  # the pledges this signature added


def prepare(view: CampaignView, form: SignForm, *, locale: str = "id") -> PendingSigning | None:
    """Check a posted form and compute its digest; None when the honeypot caught a bot."""
    if form.website:
        return None
    if not campaigns.is_signable(view.campaign):
        raise Conflict(_("This campaign is not taking signatures."))
    clean = form.check(view)
    settings = get_settings()
    encrypted = None
    if clean.updates_partner_id is not None:
        encrypted = FieldCipher(settings.secret_key).encrypt(clean.contact)
    return PendingSigning(
        campaign_id=view.id,
        clean=clean,
        digest=supporter_digest(settings.secret_key, clean.contact),
        encrypted=encrypted,
        locale=locale,
    )


# The honeypot's answer: nothing is stored, and the bot is shown the usual success.
CAUGHT = Signing(outcome=SignOutcome.NEW, supporter=None)


def signing_of(view: CampaignView, written: Written) -> Signing:
    slugs = tuple(p.slug for p in view.pledges if p.id in written.pledge_ids)
    return Signing(outcome=written.outcome, supporter=written.supporter, added=slugs)


def sign(session: Session, *, view: CampaignView, form: SignForm, locale: str = "id") -> Signing:
    """Count a supporter once, however often and however differently they sign."""
    pending = prepare(view, form, locale=locale)
    if pending is None:
        return CAUGHT
    (written,) = commit_signings(session, [pending])
    if isinstance(written, Exception):
        raise written
    return signing_of(view, written)


async def sign_soon(
    queue: GroupCommit[PendingSigning, Written],
    *,
    view: CampaignView,
    form: SignForm,
    locale: str = "id",
) -> Signing:
    """sign(), with the write queued for the process's next group commit: many signatures
    share one short transaction, and the answer comes once it is committed."""
    pending = prepare(view, form, locale=locale)
    if pending is None:
        return CAUGHT
    return signing_of(view, await queue.submit(pending))


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


# The statements of the signing path, built once: SQLAlchemy compiles each of them once per
# process and then only binds the values. Each is run once per batch, whatever its size.
_FIND_SUPPORTERS = sa.select(
    supporter_table.c.contact_digest, supporter_table.c.id, supporter_table.c.token
).where(
    supporter_table.c.campaign_id == sa.bindparam("campaign_id"),
    supporter_table.c.contact_digest.in_(sa.bindparam("digests", expanding=True)),
)
_SIGNED_BY = sa.select(signature_table.c.supporter_id, signature_table.c.pledge_id).where(
    signature_table.c.supporter_id.in_(sa.bindparam("supporter_ids", expanding=True))
)
_INVITERS = sa.select(supporter_table.c.invite_code, supporter_table.c.id).where(
    supporter_table.c.campaign_id == sa.bindparam("campaign_id"),
    supporter_table.c.invite_code.in_(sa.bindparam("codes", expanding=True)),
)
_LAST_NUMBER = sa.select(sa.func.coalesce(sa.func.max(supporter_table.c.number), 0)).where(
    supporter_table.c.campaign_id == sa.bindparam("campaign_id")
)
# PostgreSQL's advisory lock on a campaign's signing, held until the transaction ends: the
# first key names the lock's kind ("sign" in ASCII), the second is the campaign.
_SIGNING_LOCK = sa.select(
    sa.func.pg_advisory_xact_lock(0x7369676E, sa.bindparam("campaign_id", type_=sa.Integer))
)
# Without RETURNING: one executemany, where SQLite would insert row by row to return ids;
# the ids are read back with _FIND_SUPPORTERS.
_INSERT_SUPPORTERS = sa.insert(supporter_table)
_INSERT_SIGNATURE = sa.insert(signature_table)


class _Known:
    """A supporter met in this batch: found in the database, or about to be inserted."""

    __slots__ = ("id", "signed", "token")

    def __init__(self, supporter_id: int | None, token: str) -> None:
        self.id = supporter_id
        self.token = token
        self.signed: set[int] = set()


@dataclass(slots=True)
class _Campaign:
    """What the database holds already for one campaign of a batch."""

    known: dict[str, _Known]  # by contact digest; the batch's new supporters join them
    inviters: dict[str, int]  # supporter id by invite code
    last_number: int  # the last place given in the campaign; 0 when nobody new signs


@dataclass(slots=True)
class _Plan:
    """The rows and counter changes a batch makes, and each signature's outcome, in order."""

    outcomes: list[tuple[SignOutcome, _Known, tuple[int, ...]]] = field(default_factory=list)
    new_rows: list[tuple[_Known, dict[str, Any]]] = field(default_factory=list)
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
    the supporters already known, one insert for the new ones, one for their signatures and
    one upsert for every counter they change."""
    conn = session.connection()
    now = utcnow()
    plan = _plan(jobs, _look_up(conn, jobs), now=now)
    _write(conn, plan, now=now)
    return [
        Written(outcome, SignedSupporter(id=entry.id or 0, token=entry.token), added)
        for outcome, entry, added in plan.outcomes
    ]


def _look_up(conn: sa.Connection, jobs: Sequence[PendingSigning]) -> dict[int, _Campaign]:
    """Per campaign of the batch: the signers already known and what they signed, the
    inviters named, and the last place given when someone new signs."""
    found: dict[int, _Campaign] = {}
    for campaign_id in sorted({job.campaign_id for job in jobs}):
        if conn.dialect.name == "postgresql":
            # One writer per campaign at a time across processes, taken in campaign order:
            # places are given once each, and two batches that insert the same new signers
            # never wait for each other in a circle. SQLite has one writer anyway.
            conn.execute(_SIGNING_LOCK, {"campaign_id": campaign_id})
        mine = [job for job in jobs if job.campaign_id == campaign_id]
        known = _known_signers(conn, campaign_id, mine)
        codes = sorted({job.clean.invite for job in mine if job.clean.invite})
        inviters: dict[str, int] = {}
        if codes:
            named = conn.execute(_INVITERS, {"campaign_id": campaign_id, "codes": codes})
            inviters = {code: inviter_id for code, inviter_id in named}
        last_number = 0
        if any(job.digest not in known for job in mine):
            # A new supporter's place in the campaign: one more than the last one ever given.
            last_number = int(conn.execute(_LAST_NUMBER, {"campaign_id": campaign_id}).scalar_one())
        found[campaign_id] = _Campaign(known, inviters, last_number)
    return found


def _known_signers(
    conn: sa.Connection, campaign_id: int, mine: Sequence[PendingSigning]
) -> dict[str, _Known]:
    """The campaign's supporters among these signers, by digest, with the pledges each has
    signed already."""
    known: dict[str, _Known] = {}
    rows = conn.execute(
        _FIND_SUPPORTERS,
        {"campaign_id": campaign_id, "digests": sorted({job.digest for job in mine})},
    )
    for digest, supporter_id, token in rows:
        known[digest] = _Known(supporter_id, token)
    by_id = {entry.id: entry for entry in known.values() if entry.id is not None}
    if by_id:
        for supporter_id, pledge_id in conn.execute(_SIGNED_BY, {"supporter_ids": sorted(by_id)}):
            by_id[supporter_id].signed.add(pledge_id)
    return known


def _plan(jobs: Sequence[PendingSigning], found: dict[int, _Campaign], *, now: datetime) -> _Plan:
    """What each signature adds, in order, without I/O: a signer met twice in one batch is
    new once, then returning."""
    plan = _Plan()
    for job in jobs:
        clean, campaign_id = job.clean, job.campaign_id
        state = found[campaign_id]
        entry = state.known.get(job.digest)
        if entry is None:
            entry = state.known[job.digest] = _Known(None, random_token(16))
            state.last_number += 1
            plan.new_rows.append((entry, _supporter_row(job, entry, state, now=now)))
            added = clean.pledge_ids
            outcome = SignOutcome.NEW
            plan.count(campaign_id, TOTAL, None, None)
            if clean.referrer_id is not None:
                plan.count(campaign_id, partner_key(clean.referrer_id), None, clean.referrer_id)
        else:
            added = tuple(pid for pid in clean.pledge_ids if pid not in entry.signed)
            outcome = SignOutcome.ADDED if added else SignOutcome.UNCHANGED
        entry.signed.update(added)
        for pid in added:
            plan.count(campaign_id, pledge_key(pid), pid, None)
        plan.outcomes.append((outcome, entry, added))
    return plan


def _supporter_row(
    job: PendingSigning, entry: _Known, state: _Campaign, *, now: datetime
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
        "number": state.last_number,
        "locale": job.locale,
        "created_at": now,
    }


def _write(conn: sa.Connection, plan: _Plan, *, now: datetime) -> None:
    """Insert the new supporters (and read back their ids), the signatures, and add to the
    counters."""
    if plan.new_rows:
        conn.execute(_INSERT_SUPPORTERS, [row for _entry, row in plan.new_rows])
        for campaign_id in dict.fromkeys(row["campaign_id"] for _entry, row in plan.new_rows):
            inserted = {
                row["contact_digest"]: entry
                for entry, row in plan.new_rows
                if row["campaign_id"] == campaign_id
            }
            found = conn.execute(
                _FIND_SUPPORTERS, {"campaign_id": campaign_id, "digests": sorted(inserted)}
            )
            for digest, supporter_id, _token in found:
                inserted[digest].id = supporter_id
    signatures = [
        {"supporter_id": entry.id, "pledge_id": pid, "created_at": now}
        for _outcome, entry, added in plan.outcomes
        for pid in added
    ]
    if signatures:
        conn.execute(_INSERT_SIGNATURE, signatures)
    add_to_tallies(
        conn,
        [
            (campaign_id, key, pledge_id, partner_id, delta)
            for (campaign_id, key), (pledge_id, partner_id, delta) in sorted(plan.deltas.items())
        ],
        now=now,
    )
