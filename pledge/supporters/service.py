"""Signing, counting and withdrawal: every query and rule about supporters.

The signing path is a handful of plain SQL statements in one short transaction;
the counts it changes are read back from ``tally`` through a per-process cache.
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from pledge import contacts
from pledge.campaigns import service as campaigns
from pledge.campaigns.models import Campaign, CampaignView, PartnerView
from pledge.config import get_settings
from pledge.db import utcnow, writing
from pledge.errors import Conflict, Invalid, NotFound
from pledge.i18n import gettext as _
from pledge.provinces import AGE_BANDS, PROVINCES
from pledge.security import FieldCipher, contact_digest, random_token
from pledge.supporters.models import (
    TOTAL,
    Counts,
    Signature,
    SignForm,
    Signing,
    SignOutcome,
    Supporter,
    Tally,
    partner_key,
    pledge_key,
)

NAME_MAX = 80
_SPACES = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

supporter_t = Supporter.__table__  # type: ignore[attr-defined]
signature_t = Signature.__table__  # type: ignore[attr-defined]
tally_t = Tally.__table__  # type: ignore[attr-defined]
campaign_t = Campaign.__table__  # type: ignore[attr-defined]


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


def sign(session: Session, *, view: CampaignView, form: SignForm, locale: str = "id") -> Signing:
    """Count a supporter once, however often and however differently they sign."""
    if form.website:
        # The honeypot: nothing is stored, and the bot is shown the usual success.
        return Signing(outcome=SignOutcome.NEW, supporter=None)
    if not campaigns.is_signable(view.campaign):
        raise Conflict(_("This campaign is not taking signatures."))
    clean = validate(view, form)
    settings = get_settings()
    digest = contact_digest(settings.secret_key, clean.contact)
    encrypted = None
    if clean.updates_partner_id is not None:
        encrypted = FieldCipher(settings.secret_key).encrypt(clean.contact)

    for attempt in range(3):
        try:
            with writing(session):
                signing = _sign_in_transaction(
                    session,
                    view=view,
                    clean=clean,
                    digest=digest,
                    encrypted=encrypted,
                    locale=locale,
                )
        except IntegrityError:
            # Two first signatures with one contact raced on PostgreSQL: the loser
            # finds the winner's row on the next try and is counted as returning.
            if attempt == 2:
                raise
            continue
        invalidate_counts(view.id)
        return signing
    raise AssertionError("unreachable")


# The statements of the signing path, built once: SQLAlchemy compiles each of them once per
# process and then only binds the values.
_FIND_SUPPORTER = sa.select(supporter_t.c.id, supporter_t.c.token).where(
    supporter_t.c.campaign_id == sa.bindparam("campaign_id"),
    supporter_t.c.contact_digest == sa.bindparam("digest"),
)
_LAST_NUMBER = sa.select(sa.func.coalesce(sa.func.max(supporter_t.c.number), 0)).where(
    supporter_t.c.campaign_id == sa.bindparam("campaign_id")
)
_INVITER = (
    sa.select(supporter_t.c.id)
    .where(
        supporter_t.c.campaign_id == sa.bindparam("invite_campaign_id"),
        supporter_t.c.invite_code == sa.bindparam("invite"),
    )
    .scalar_subquery()
)
_INSERT_SUPPORTER = sa.insert(supporter_t).returning(supporter_t.c.id)
_INSERT_SUPPORTER_INVITED = (
    sa.insert(supporter_t).values(invited_by_id=_INVITER).returning(supporter_t.c.id)
)
_SIGNED_PLEDGES = sa.select(signature_t.c.pledge_id).where(
    signature_t.c.supporter_id == sa.bindparam("supporter_id")
)
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


def _sign_in_transaction(
    session: Session,
    *,
    view: CampaignView,
    clean: CleanSignature,
    digest: str,
    encrypted: str | None,
    locale: str,
) -> Signing:
    now = utcnow()
    conn = session.connection()
    existing = conn.execute(_FIND_SUPPORTER, {"campaign_id": view.id, "digest": digest}).first()

    if existing is None:
        # The supporter's place in the campaign: one more than the last one ever given.
        last = conn.execute(_LAST_NUMBER, {"campaign_id": view.id}).scalar_one()
        token = random_token(16)
        row = {
            "campaign_id": view.id,
            "contact_digest": digest,
            "token": token,
            "display_name": clean.display_name,
            "province": clean.province,
            "age_band": clean.age_band,
            "show_name": clean.show_name,
            "referrer_id": clean.referrer_id,
            "updates_partner_id": clean.updates_partner_id,
            "contact_encrypted": encrypted,
            "invite_code": random_token(6),
            "number": int(last) + 1,
            "locale": locale,
            "created_at": now,
        }
        if clean.invite is None:
            supporter_id = conn.execute(_INSERT_SUPPORTER, row).scalar_one()
        else:
            # The inviter is looked up inside the insert: an unknown code credits no one.
            row.update(invite=clean.invite, invite_campaign_id=view.id)
            supporter_id = conn.execute(_INSERT_SUPPORTER_INVITED, row).scalar_one()
        new_pledges = clean.pledge_ids
        outcome = SignOutcome.NEW
    else:
        supporter_id, token = existing
        already = set(conn.execute(_SIGNED_PLEDGES, {"supporter_id": supporter_id}).scalars())
        new_pledges = tuple(pid for pid in clean.pledge_ids if pid not in already)
        outcome = SignOutcome.ADDED if new_pledges else SignOutcome.UNCHANGED

    if new_pledges:
        conn.execute(
            _INSERT_SIGNATURE,
            [
                {"supporter_id": supporter_id, "pledge_id": pid, "created_at": now}
                for pid in new_pledges
            ],
        )
        changes: list[tuple[str, int | None, int | None]] = [
            (pledge_key(pid), pid, None) for pid in new_pledges
        ]
        if outcome == SignOutcome.NEW:
            changes.append((TOTAL, None, None))
            if clean.referrer_id is not None:
                changes.append((partner_key(clean.referrer_id), None, clean.referrer_id))
        _bump(session, campaign_id=view.id, changes=changes, delta=1)

    slugs = tuple(p.slug for p in view.pledges if p.id in new_pledges)
    # Not validated again: every value was checked above or comes from the database.
    supporter = Supporter.model_construct(
        id=supporter_id,
        campaign_id=view.id,
        token=token,
        contact_digest=digest,
        display_name=clean.display_name,
        province=clean.province,
    )
    return Signing(outcome=outcome, supporter=supporter, added=slugs)


def _bump(
    session: Session,
    *,
    campaign_id: int,
    changes: Iterable[tuple[str, int | None, int | None]],
    delta: int,
) -> None:
    """Add delta to one random shard of each counter, in one statement."""
    shards = get_settings().shards
    now = utcnow()
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
        for key, pledge_id, partner_id in changes
    ]
    if not rows:
        return
    conn = session.connection()
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

    def put(self, campaign_id: int, counts: Counts) -> None:
        with self._lock:
            self._entries[campaign_id] = (time.monotonic(), counts)

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


def remember_counts(campaign_id: int, counts: Counts) -> None:
    """Keep counts just read, so that pages and embeds in this process serve them."""
    _counts_cache.put(campaign_id, counts)


def get_counts(session: Session, *, campaign_id: int) -> Counts:
    """The counts as this process last read them, at most a second or so old."""
    max_age = get_settings().tally_cache_seconds
    counts = _counts_cache.get(campaign_id, max_age)
    if counts is None:
        counts = read_counts(session, campaign_id=campaign_id)
        _counts_cache.put(campaign_id, counts)
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
    campaign_rows = session.execute(sa.select(campaign_t.c.id, campaign_t.c.slug)).all()
    for campaign_id, slug in campaign_rows:
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
