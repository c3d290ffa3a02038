"""Signing, counting and withdrawal: every query and rule about supporters.

The signing path is a handful of plain SQL statements in one short transaction;
the counts it changes are read back from ``tally`` through a per-process cache.
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from pledge import contacts
from pledge.campaigns import service as campaigns
from pledge.campaigns.models import Campaign, CampaignView, PartnerView
from pledge.config import get_settings
from pledge.db import GroupCommit, commit_batch, utcnow, writing
from pledge.errors import Conflict, Invalid, NotFound
from pledge.i18n import gettext as _
from pledge.provinces import AGE_BANDS, PROVINCES
from pledge.security import FieldCipher, contact_digest, random_token
from pledge.supporters.models import (
    TOTAL,
    Counts,
    Signature,
    SignedSupporter,
    SignForm,
    Signing,
    SignOutcome,
    Supporter,
    Tally,
    partner_key,
    pledge_key,
    signature_table,
    supporter_table,
)

NAME_MAX = 80
_SPACES = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

supporter_t = Supporter.__table__  # type: ignore[attr-defined]
signature_t = Signature.__table__  # type: ignore[attr-defined]
tally_t = Tally.__table__  # type: ignore[attr-defined]


# --- the form ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CleanSignature:
    display_name: str
    contact: str
    province: str
    age_band: str | None
    pledge_ids: tuple[int, ...]
    show_name: bool
    referrer_id: int | None
    updates_partner_id: int | None
    invite: str | None = None  # the personal invite code this supporter came through


# \Z, not $: "$" would also accept a code followed by a line break.
INVITE_CODE = re.compile(r"\A[A-Za-z0-9_-]{4,16}\Z")


def clean_name(raw: str) -> str:
    return _SPACES.sub(" ", _CONTROL.sub(" ", raw)).strip()


def first_name(display_name: str) -> str:
    return display_name.split(" ", 1)[0] if display_name else ""


def validate(view: CampaignView, form: SignForm) -> CleanSignature:
    """Check the posted form; raise Invalid with a message for each bad field."""
    errors: dict[str, str] = {}

    name = clean_name(form.name)
    if not name:
        errors["name"] = _("Enter your name.")
    elif len(name) > NAME_MAX:
        errors["name"] = _("Your name can be at most 80 characters long.")

    contact = ""
    try:
        contact = contacts.normalise_contact(form.contact)
    except contacts.ContactError as error:
        errors["contact"] = str(error)

    if form.province not in PROVINCES:
        errors["province"] = _("Choose your province from the list.")

    age_band = form.age_band or None
    if age_band is not None and age_band not in AGE_BANDS:
        errors["age_band"] = _("Choose an age group from the list, or leave it empty.")

    if not form.age_ok:
        errors["age_ok"] = _("Confirm that you are 17 or older.")
    if not form.consent:
        errors["consent"] = _("Agree to the privacy notice to add your name.")

    pledge_ids: list[int] = []
    for slug in dict.fromkeys(form.pledges):  # keeps order, drops repeats
        pledge = view.pledge_by_slug(slug)
        if pledge is None or pledge.id is None:
            errors["pledges"] = _("One of the pledges you chose is not part of this campaign.")
            break
        pledge_ids.append(pledge.id)
    if not form.pledges:
        errors["pledges"] = _("Choose at least one pledge.")

    updates_partner_id = None
    if form.updates_org:
        partner = view.partner_by_slug(form.updates_org)
        if partner is None:
            errors["updates_org"] = _("Choose one of the partner organisations, or none.")
        else:
            updates_partner_id = partner.id

    if errors:
        raise Invalid(errors)

    referrer = view.partner_by_code(form.ref) if form.ref else None
    return CleanSignature(
        display_name=name,
        contact=contact,
        province=form.province,
        age_band=age_band,
        pledge_ids=tuple(pledge_ids),
        show_name=bool(form.show_name),
        referrer_id=referrer.id if referrer else None,
        updates_partner_id=updates_partner_id,
        invite=form.invite if INVITE_CODE.match(form.invite) else None,
    )


# --- signing -------------------------------------------------------------------------


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
    clean = validate(view, form)
    settings = get_settings()
    encrypted = None
    if clean.updates_partner_id is not None:
        encrypted = FieldCipher(settings.secret_key).encrypt(clean.contact)
    return PendingSigning(
        campaign_id=view.id,
        clean=clean,
        digest=contact_digest(settings.secret_key, clean.contact),
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
    for campaign_id in {job.campaign_id for job in jobs}:
        invalidate_counts(campaign_id)


# The statements of the signing path, built once: SQLAlchemy compiles each of them once per
# process and then only binds the values. Each is run once per batch, whatever its size.
_FIND_SUPPORTERS = sa.select(
    supporter_t.c.contact_digest, supporter_t.c.id, supporter_t.c.token
).where(
    supporter_t.c.campaign_id == sa.bindparam("campaign_id"),
    supporter_t.c.contact_digest.in_(sa.bindparam("digests", expanding=True)),
)
_SIGNED_BY = sa.select(signature_t.c.supporter_id, signature_t.c.pledge_id).where(
    signature_t.c.supporter_id.in_(sa.bindparam("supporter_ids", expanding=True))
)
_INVITERS = sa.select(supporter_t.c.invite_code, supporter_t.c.id).where(
    supporter_t.c.campaign_id == sa.bindparam("campaign_id"),
    supporter_t.c.invite_code.in_(sa.bindparam("codes", expanding=True)),
)
_LAST_NUMBER = sa.select(sa.func.coalesce(sa.func.max(supporter_t.c.number), 0)).where(
    supporter_t.c.campaign_id == sa.bindparam("campaign_id")
)
# Without RETURNING: one executemany, where SQLite would insert row by row to return ids;
# the ids are read back with _FIND_SUPPORTERS.
_INSERT_SUPPORTERS = sa.insert(supporter_t)
_INSERT_SIGNATURE = sa.insert(signature_t)


def _tally_upsert(dialect: str) -> Any:
    insert: Any = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(tally_t)
    return stmt.on_conflict_do_update(
        index_elements=["campaign_id", "key", "shard"],
        set_={
            "value": tally_t.c.value + stmt.excluded.value,
            "updated_at": stmt.excluded.updated_at,
        },
    )


_TALLY_UPSERT = {dialect: _tally_upsert(dialect) for dialect in ("sqlite", "postgresql")}


class _Known:
    """A supporter met in this batch: found in the database, or about to be inserted."""

    __slots__ = ("id", "signed", "token")

    def __init__(self, supporter_id: int | None, token: str) -> None:
        self.id = supporter_id
        self.token = token
        self.signed: set[int] = set()


def _write_signings(session: Session, jobs: Sequence[PendingSigning]) -> list[Written]:
    """The signatures of a batch, in order, as a few statements per campaign: one query for
    the supporters already known, one insert for the new ones, one for their signatures and
    one upsert for every counter they change."""
    conn = session.connection()
    now = utcnow()
    outcomes: list[tuple[SignOutcome, _Known, tuple[int, ...]]] = []
    new_rows: list[tuple[_Known, dict[str, Any]]] = []
    deltas: dict[tuple[int, str], list[Any]] = {}

    def count(campaign_id: int, key: str, pledge_id: int | None, partner_id: int | None) -> None:
        entry = deltas.setdefault((campaign_id, key), [pledge_id, partner_id, 0])
        entry[2] += 1

    known_by_campaign: dict[int, dict[str, _Known]] = {}
    inviters_by_campaign: dict[int, dict[str, int]] = {}
    last_number: dict[int, int] = {}
    for campaign_id in dict.fromkeys(job.campaign_id for job in jobs):
        mine = [job for job in jobs if job.campaign_id == campaign_id]
        known: dict[str, _Known] = {}
        found = conn.execute(
            _FIND_SUPPORTERS,
            {"campaign_id": campaign_id, "digests": sorted({job.digest for job in mine})},
        )
        for digest, supporter_id, token in found:
            known[digest] = _Known(supporter_id, token)
        by_id = {entry.id: entry for entry in known.values() if entry.id is not None}
        if by_id:
            for supporter_id, pledge_id in conn.execute(
                _SIGNED_BY, {"supporter_ids": sorted(by_id)}
            ):
                by_id[supporter_id].signed.add(pledge_id)
        codes = sorted({job.clean.invite for job in mine if job.clean.invite})
        inviters: dict[str, int] = {}
        if codes:
            found = conn.execute(_INVITERS, {"campaign_id": campaign_id, "codes": codes})
            inviters = {code: inviter_id for code, inviter_id in found}
        known_by_campaign[campaign_id] = known
        inviters_by_campaign[campaign_id] = inviters

    for job in jobs:
        clean, campaign_id = job.clean, job.campaign_id
        known = known_by_campaign[campaign_id]
        entry = known.get(job.digest)
        if entry is None:
            if campaign_id not in last_number:
                # The supporter's place in the campaign: one more than the last one ever given.
                last_number[campaign_id] = int(
                    conn.execute(_LAST_NUMBER, {"campaign_id": campaign_id}).scalar_one()
                )
            last_number[campaign_id] += 1
            entry = known[job.digest] = _Known(None, random_token(16))
            new_rows.append(
                (
                    entry,
                    {
                        "campaign_id": campaign_id,
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
                        "invited_by_id": inviters_by_campaign[campaign_id].get(clean.invite or ""),
                        "number": last_number[campaign_id],
                        "locale": job.locale,
                        "created_at": now,
                    },
                )
            )
            added = clean.pledge_ids
            outcome = SignOutcome.NEW
            count(campaign_id, TOTAL, None, None)
            if clean.referrer_id is not None:
                count(campaign_id, partner_key(clean.referrer_id), None, clean.referrer_id)
        else:
            added = tuple(pid for pid in clean.pledge_ids if pid not in entry.signed)
            outcome = SignOutcome.ADDED if added else SignOutcome.UNCHANGED
        entry.signed.update(added)
        for pid in added:
            count(campaign_id, pledge_key(pid), pid, None)
        outcomes.append((outcome, entry, added))

    if new_rows:
        conn.execute(_INSERT_SUPPORTERS, [row for _entry, row in new_rows])
        for campaign_id in dict.fromkeys(row["campaign_id"] for _entry, row in new_rows):
            inserted = {
                row["contact_digest"]: entry
                for entry, row in new_rows
                if row["campaign_id"] == campaign_id
            }
            found = conn.execute(
                _FIND_SUPPORTERS, {"campaign_id": campaign_id, "digests": sorted(inserted)}
            )
            for digest, supporter_id, _token in found:
                inserted[digest].id = supporter_id
    signatures = [
        {"supporter_id": entry.id, "pledge_id": pid, "created_at": now}
        for _outcome, entry, added in outcomes
        for pid in added
    ]
    if signatures:
        conn.execute(_INSERT_SIGNATURE, signatures)
    _add_to_tallies(
        conn,
        [
            (campaign_id, key, pledge_id, partner_id, delta)
            for (campaign_id, key), (pledge_id, partner_id, delta) in sorted(deltas.items())
        ],
        now=now,
    )
    return [
        Written(outcome, SignedSupporter(id=entry.id or 0, token=entry.token), added)
        for outcome, entry, added in outcomes
    ]


def _bump(
    session: Session,
    *,
    campaign_id: int,
    changes: Iterable[tuple[str, int | None, int | None]],
    delta: int,
) -> None:
    """Add delta to each of a campaign's counters."""
    _add_to_tallies(
        session.connection(),
        [
            (campaign_id, key, pledge_id, partner_id, delta)
            for key, pledge_id, partner_id in changes
        ],
        now=utcnow(),
    )


def _add_to_tallies(
    conn: sa.Connection,
    changes: Sequence[tuple[int, str, int | None, int | None, int]],
    *,
    now: datetime,
) -> None:
    """Add to one random shard of each counter, in one statement. Callers give the counters
    in one order (sorted), so that two PostgreSQL writers never wait for each other in a
    circle."""
    if not changes:
        return
    shards = get_settings().shards
    rows = [
        {
            "campaign_id": campaign_id,
            "key": key,
            "pledge_id": pledge_id,
            "partner_id": partner_id,
            "shard": random.randrange(shards),  # noqa: S311 - spreads writers, not a secret
            "value": delta,
            "updated_at": now,
        }
        for campaign_id, key, pledge_id, partner_id, delta in changes
    ]
    conn.execute(_TALLY_UPSERT[conn.dialect.name], rows)


# --- counts --------------------------------------------------------------------------


class _CountsCache:
    """Counts per campaign, read from the tallies at most once per interval per process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[int, tuple[float, Counts]] = {}

    def get(self, campaign_id: int, max_age: float) -> Counts | None:
        entry = self._entries.get(campaign_id)
        if entry and time.monotonic() - entry[0] < max_age:
            return entry[1]
        return None

    def put(self, campaign_id: int, counts: Counts) -> Counts:
        """Keep counts just read. Counts equal to those kept already keep the older object,
        so that the pages and bodies drawn from it stay valid."""
        with self._lock:
            entry = self._entries.get(campaign_id)
            if entry is not None and entry[1] == counts:
                counts = entry[1]
            self._entries[campaign_id] = (time.monotonic(), counts)
        return counts

    def drop(self, campaign_id: int | None = None) -> None:
        with self._lock:
            if campaign_id is None:
                self._entries.clear()
            else:
                self._entries.pop(campaign_id, None)


_counts_cache = _CountsCache()


def invalidate_counts(campaign_id: int | None = None) -> None:
    _counts_cache.drop(campaign_id)


def read_counts(session: Session, *, campaign_id: int) -> Counts:
    """The counts straight from the tallies."""
    return read_counts_of(session, campaign_ids=[campaign_id])[campaign_id]


def read_counts_of(session: Session, *, campaign_ids: Iterable[int]) -> dict[int, Counts]:
    """The counts of several campaigns straight from the tallies, in one query."""
    ids = list(campaign_ids)
    rows = session.execute(
        sa.select(
            tally_t.c.campaign_id,
            tally_t.c.key,
            sa.func.sum(tally_t.c.value),
            sa.func.max(tally_t.c.updated_at),
        )
        .where(tally_t.c.campaign_id.in_(ids))
        .group_by(tally_t.c.campaign_id, tally_t.c.key)
    ).all()
    by_campaign: dict[int, dict[str, int]] = {campaign_id: {} for campaign_id in ids}
    changed_at: dict[int, Any] = {}
    for campaign_id, key, value, changed in rows:
        by_campaign[campaign_id][key] = int(value or 0)
        if changed is not None and (
            campaign_id not in changed_at or changed > changed_at[campaign_id]
        ):
            changed_at[campaign_id] = changed
    return {
        campaign_id: Counts(
            total=by_key.get(TOTAL, 0), by_key=by_key, changed_at=changed_at.get(campaign_id)
        )
        for campaign_id, by_key in by_campaign.items()
    }


def cached_counts(campaign_id: int) -> Counts | None:
    """The counts this process read less than PLEDGE_TALLY_CACHE_SECONDS ago, if any."""
    return _counts_cache.get(campaign_id, get_settings().tally_cache_seconds)


def remember_counts(campaign_id: int, counts: Counts) -> Counts:
    """Keep counts just read, so that pages and embeds in this process serve them; the
    object kept (an equal one kept before, if any) is returned."""
    return _counts_cache.put(campaign_id, counts)


def get_counts(session: Session, *, campaign_id: int) -> Counts:
    """The counts as this process last read them, at most a second or so old."""
    max_age = get_settings().tally_cache_seconds
    counts = _counts_cache.get(campaign_id, max_age)
    if counts is None:
        counts = _counts_cache.put(campaign_id, read_counts(session, campaign_id=campaign_id))
    return counts


# --- supporters ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PublicSupporter:
    first_name: str
    province: str


def list_recent_public(
    session: Session, *, campaign_id: int, limit: int = 8
) -> list[PublicSupporter]:
    """The newest supporters who chose to be shown: first name and province only."""
    rows = session.execute(
        sa.select(supporter_t.c.display_name, supporter_t.c.province)
        .where(supporter_t.c.campaign_id == campaign_id, supporter_t.c.show_name.is_(True))
        .order_by(supporter_t.c.id.desc())
        .limit(limit)
    ).all()
    return [
        PublicSupporter(first_name=first_name(name), province=PROVINCES.get(code, ""))
        for name, code in rows
    ]


def leaderboard(view: CampaignView, counts: Counts) -> list[tuple[PartnerView, int]]:
    """The partners with the supporters each brought in, most first, ties by name."""
    return sorted(
        ((partner, counts.partner(partner.id)) for partner in view.partners),
        key=lambda ranked: (-ranked[1], ranked[0].name.lower()),
    )


@dataclass(frozen=True, slots=True)
class CampaignPage:
    counts: Counts
    recent: list[PublicSupporter]
    partners: list[tuple[PartnerView, int]]


# The last page built per campaign, with the view and counts it was built from: while both
# are the ones this process holds, nobody new has signed, and the page stays as it is.
_pages: dict[int, tuple[CampaignView, CampaignPage]] = {}


def cached_campaign_page(view: CampaignView) -> CampaignPage | None:
    """The campaign page's data as this process last built it, if its counts are still
    current; no I/O."""
    counts = cached_counts(view.id)
    built = _pages.get(view.id)
    if counts is not None and built is not None and built[0] is view and built[1].counts is counts:
        return built[1]
    return None


def campaign_page(session: Session, *, view: CampaignView) -> CampaignPage:
    counts = get_counts(session, campaign_id=view.id)
    built = _pages.get(view.id)
    if built is not None and built[0] is view and built[1].counts is counts:
        return built[1]
    page = CampaignPage(
        counts=counts,
        recent=list_recent_public(session, campaign_id=view.id),
        partners=leaderboard(view, counts),
    )
    _pages[view.id] = (view, page)
    return page


def list_with_counts(
    session: Session, *, views: list[CampaignView]
) -> list[tuple[CampaignView, Counts]]:
    return [(view, get_counts(session, campaign_id=view.id)) for view in views]


@dataclass(frozen=True, slots=True)
class ThankYou:
    supporter: Supporter
    first_name: str
    signed: list[str]  # texts of every pledge this supporter has signed
    counts: Counts
    referral_code: str | None
    friends: int  # supporters who signed through this supporter's personal invite link


def thank_you(session: Session, *, view: CampaignView, token: str) -> ThankYou:
    supporter = get_by_token(session, campaign=view.campaign, token=token)
    signed = signed_pledge_ids(session, supporter_id=supporter.id or 0)
    referrer = next((p for p in view.partners if p.id == supporter.referrer_id), None)
    return ThankYou(
        supporter=supporter,
        first_name=first_name(supporter.display_name),
        signed=[p.text for p in view.pledges if p.id in signed],
        # Straight from the tallies: the supporter must see their own signature counted.
        counts=read_counts(session, campaign_id=view.id),
        referral_code=referrer.referral_code if referrer else None,
        friends=count_friends(session, supporter_id=supporter.id or 0),
    )


def count_friends(session: Session, *, supporter_id: int) -> int:
    return int(
        session.execute(
            sa.select(sa.func.count()).where(supporter_t.c.invited_by_id == supporter_id)
        ).scalar_one()
    )


def get_by_token(session: Session, *, campaign: Campaign, token: str) -> Supporter:
    supporter = None
    if 10 <= len(token) <= 32:
        supporter = session.exec(
            select(Supporter).where(Supporter.token == token, Supporter.campaign_id == campaign.id)
        ).first()
    if supporter is None:
        raise NotFound(_("We could not find this signature. It may have been withdrawn already."))
    return supporter


def signed_pledge_ids(session: Session, *, supporter_id: int) -> set[int]:
    return set(
        session.exec(select(Signature.pledge_id).where(Signature.supporter_id == supporter_id))
    )


def withdraw(session: Session, *, campaign: Campaign, token: str) -> None:
    """Remove a supporter: their signatures, their counts and their personal data."""
    with writing(session):
        supporter = get_by_token(session, campaign=campaign, token=token)
        pledge_ids = signed_pledge_ids(session, supporter_id=supporter.id or 0)
        changes: list[tuple[str, int | None, int | None]] = [(TOTAL, None, None)]
        changes += [(pledge_key(pid), pid, None) for pid in sorted(pledge_ids)]
        if supporter.referrer_id is not None:
            changes.append((partner_key(supporter.referrer_id), None, supporter.referrer_id))
        session.execute(sa.delete(signature_t).where(signature_t.c.supporter_id == supporter.id))
        session.execute(sa.delete(supporter_t).where(supporter_t.c.id == supporter.id))
        _bump(session, campaign_id=campaign.id or 0, changes=changes, delta=-1)
    invalidate_counts(campaign.id)


# --- reconciling ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TallyFix:
    campaign: str
    key: str
    was: int
    now: int


def true_counts(session: Session, *, campaign_id: int) -> dict[str, int]:
    """The counts recomputed from the supporter and signature rows."""
    counts: dict[str, int] = {
        TOTAL: session.execute(
            sa.select(sa.func.count()).where(supporter_t.c.campaign_id == campaign_id)
        ).scalar_one()
    }
    per_pledge = session.execute(
        sa.select(signature_t.c.pledge_id, sa.func.count())
        .join(supporter_t, supporter_t.c.id == signature_t.c.supporter_id)
        .where(supporter_t.c.campaign_id == campaign_id)
        .group_by(signature_t.c.pledge_id)
    ).all()
    counts.update({pledge_key(pid): n for pid, n in per_pledge})
    per_partner = session.execute(
        sa.select(supporter_t.c.referrer_id, sa.func.count())
        .where(supporter_t.c.campaign_id == campaign_id, supporter_t.c.referrer_id.is_not(None))
        .group_by(supporter_t.c.referrer_id)
    ).all()
    counts.update({partner_key(pid): n for pid, n in per_partner})
    return counts


def reconcile(session: Session) -> list[TallyFix]:
    """Recount every campaign from its signatures and repair the tallies that disagree."""
    fixes: list[TallyFix] = []
    for campaign_id, slug in campaigns.list_slugs(session):
        with writing(session):
            if session.get_bind().dialect.name == "postgresql":
                # Wait for signers in flight, and hold new ones back while recounting.
                session.execute(sa.text("LOCK TABLE tally IN SHARE ROW EXCLUSIVE MODE"))
            truth = true_counts(session, campaign_id=campaign_id)
            stored = read_counts(session, campaign_id=campaign_id).by_key
            wrong = [
                TallyFix(slug, key, stored.get(key, 0), truth.get(key, 0))
                for key in sorted(set(truth) | set(stored))
                if truth.get(key, 0) != stored.get(key, 0)
            ]
            if wrong:
                _replace_tallies(session, campaign_id=campaign_id, truth=truth)
                fixes.extend(wrong)
        invalidate_counts(campaign_id)
    return fixes


def _replace_tallies(session: Session, *, campaign_id: int, truth: dict[str, int]) -> None:
    session.execute(sa.delete(tally_t).where(tally_t.c.campaign_id == campaign_id))
    now = utcnow()
    rows = []
    for key, value in truth.items():
        kind, _sep, ident = key.partition(":")
        rows.append(
            {
                "campaign_id": campaign_id,
                "key": key,
                "pledge_id": int(ident) if kind == "pledge" else None,
                "partner_id": int(ident) if kind == "partner" else None,
                "shard": 0,
                "value": value,
                "updated_at": now,
            }
        )
    if rows:
        session.execute(sa.insert(tally_t), rows)


# --- what campaigns are told ---------------------------------------------------------
#
# How the supporters' rows point at a campaign's pledges and partners, told to the campaigns
# domain (which never imports this one) for its organisers' page and its removal rules.


class SupporterUsage:
    """The answers of campaigns.Usage, read from the supporter and signature tables."""

    def signatures_by_pledge(
        self, session: Session, *, pledge_ids: Sequence[int]
    ) -> dict[int, int]:
        if not pledge_ids:
            return {}
        rows = session.execute(
            sa.select(signature_table.c.pledge_id, sa.func.count())
            .where(signature_table.c.pledge_id.in_(pledge_ids))
            .group_by(signature_table.c.pledge_id)
        ).all()
        return {int(pledge_id): int(count) for pledge_id, count in rows}

    def referrals_by_partner(self, session: Session, *, campaign_id: int) -> dict[int, int]:
        return _supporters_by(session, campaign_id, supporter_table.c.referrer_id)

    def updates_by_partner(self, session: Session, *, campaign_id: int) -> dict[int, int]:
        return _supporters_by(session, campaign_id, supporter_table.c.updates_partner_id)

    def pledge_signed(self, session: Session, *, pledge_id: int) -> bool:
        found = session.execute(
            sa.select(signature_table.c.id).where(signature_table.c.pledge_id == pledge_id)
        ).first()
        return found is not None

    def partner_used(self, session: Session, *, partner_id: int) -> bool:
        found = session.execute(
            sa.select(supporter_table.c.id).where(
                sa.or_(
                    supporter_table.c.referrer_id == partner_id,
                    supporter_table.c.updates_partner_id == partner_id,
                )
            )
        ).first()
        return found is not None


def _supporters_by(session: Session, campaign_id: int, column: sa.Column[int]) -> dict[int, int]:
    """How many supporters of the campaign point at each partner through one column."""
    rows = session.execute(
        sa.select(column, sa.func.count())
        .where(supporter_table.c.campaign_id == campaign_id, column.is_not(None))
        .group_by(column)
    ).all()
    return {int(key): int(count) for key, count in rows}


campaigns.register_usage(SupporterUsage())
