"""one supporter per person, however they type their contact

Supporters were recognised in a campaign by the digest of their contact lower-cased. They are
now recognised by the digest of its deduplication key (`pledge.contacts.dedup_key`): an email
address lower-cased, cut at its first "+", on gmail.com and googlemail.com without its dots and
named gmail.com, its local part in NFC and its domain in IDNA's ASCII form; a mobile number in
E.164, as before. So Budi.Santoso@gmail.com, budisantoso+x@googlemail.com and
budisantoso@gmail.com are one person.

The upgrade recomputes the digest of every supporter whose contact is stored (kept, encrypted,
because they asked a partner for news), and merges the supporters of one campaign that the new
digests show to be one person. The earliest (lowest id) is kept, with its number, name, links
and referring partner. It takes over the signatures the others had on pledges it had not
signed, the supporters they invited, and what it lacks of their age group, their inviter and
their request for a partner's news (with the contact kept for it). The others are deleted, and
the campaign's tallies are set to the true counts (as `pledge tallies reconcile` counts them).
Their own thank-you and withdrawal links stop working: the kept supporter's links withdraw the
person.

Supporters whose contact is not stored keep their digest: nothing can recompute it. A contact
that the secret key in use cannot decrypt leaves its digest as it was too.

The downgrade recomputes the stored contacts' digests by the old rule (the contact
lower-cased), merging in the same way any supporters that rule sees as one person; merged
supporters stay merged.

The work is done in batches of BATCH supporters for what needs Python (decrypting and
digesting) and in set-based statements for the rest, so that no campaign is held in memory.
On PostgreSQL the supporter, signature and tally tables are locked against writers until the
migration commits: a server still signing with the old rule waits instead of adding a
duplicate.

Revision ID: bbf021890375
Revises: bcf283be18a1
Create Date: 2026-12-06 08:30:00.000000
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import idna
import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import UTCDateTime

# Stable on purpose: the secret key is read as env.py reads it, and digests and stored
# contacts are made by the functions that made the rows being migrated. Changing either
# function would change every stored row, and would need a migration of its own.
from pledge.config import get_settings
from pledge.security import FieldCipher, contact_digest

revision: str = "bbf021890375"
down_revision: str | None = "bcf283be18a1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 1000

# The tables as this revision knows them, whatever the models say later.
supporter = sa.table(
    "supporter",
    sa.column("id", sa.Integer),
    sa.column("campaign_id", sa.Integer),
    sa.column("contact_digest", sa.String),
    sa.column("contact_encrypted", sa.String),
    sa.column("anonymised_at", UTCDateTime),
    sa.column("invited_by_id", sa.Integer),
    sa.column("age_band", sa.String),
    sa.column("updates_partner_id", sa.Integer),
    sa.column("referrer_id", sa.Integer),
)
signature = sa.table(
    "signature",
    sa.column("id", sa.Integer),
    sa.column("supporter_id", sa.Integer),
    sa.column("pledge_id", sa.Integer),
)
tally = sa.table(
    "tally",
    sa.column("campaign_id", sa.Integer),
    sa.column("key", sa.String),
    sa.column("pledge_id", sa.Integer),
    sa.column("partner_id", sa.Integer),
    sa.column("shard", sa.Integer),
    sa.column("value", sa.Integer),
    sa.column("updated_at", UTCDateTime),
)

# Working tables, for this migration's transaction only: the supporters whose digest changes,
# and each duplicate with the supporter it is merged into.
_work = sa.MetaData()
refold = sa.Table(
    "refold_digest",
    _work,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("campaign_id", sa.Integer, nullable=False),
    sa.Column("digest", sa.String(64), nullable=False),
    sa.Index("ix_refold_digest_campaign_id_digest", "campaign_id", "digest"),
    prefixes=["TEMPORARY"],
)
merge = sa.Table(
    "refold_merge",
    _work,
    sa.Column("drop_id", sa.Integer, primary_key=True),
    sa.Column("keep_id", sa.Integer, nullable=False, index=True),
    sa.Column("campaign_id", sa.Integer, nullable=False),
    prefixes=["TEMPORARY"],
)

GMAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com"})


def fold(contact: str) -> str:
    """The deduplication key of a stored contact, by this revision's rules: a copy of
    `pledge.contacts.dedup_key` as it was written with this migration, kept here so that the
    migration does the same whatever later versions of the app change."""
    local, at, domain = contact.rpartition("@")
    if not at:
        return contact
    local = unicodedata.normalize("NFC", local.lower())
    local = local.split("+", 1)[0] or local
    try:
        domain = idna.encode(domain, uts46=True).decode("ascii")
    except UnicodeError:  # idna.IDNAError and its kin
        domain = domain.lower()
    if domain in GMAIL_DOMAINS:
        local, domain = local.replace(".", ""), "gmail.com"
    return f"{local}@{domain}"


def fold_before(contact: str) -> str:
    """The contact a digest was computed from before this revision: lower-cased whole."""
    return contact.lower()


def upgrade() -> None:
    _recognise_by(op.get_bind(), fold)


def downgrade() -> None:
    _recognise_by(op.get_bind(), fold_before)


def _recognise_by(conn: sa.Connection, rule: Callable[[str], str]) -> None:
    """Every stored contact's digest computed by the rule, and the supporters of a campaign
    it shows to be one person merged, with exact tallies."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("LOCK TABLE supporter, signature, tally IN SHARE ROW EXCLUSIVE MODE"))
    _work.create_all(conn)
    _collect_digests(conn, rule)
    _pair_duplicates(conn)
    campaigns = _merge_duplicates(conn)
    _apply_digests(conn)
    now = datetime.now(UTC)
    for campaign_id in sorted(campaigns):
        _recount(conn, campaign_id, now=now)
    _work.drop_all(conn)


def _collect_digests(conn: sa.Connection, rule: Callable[[str], str]) -> None:
    """The supporters whose stored contact gives another digest by the rule, with that
    digest, a batch at a time."""
    secret_key = get_settings().secret_key
    cipher = FieldCipher(secret_key)
    after = 0
    while True:
        rows = conn.execute(
            sa.select(
                supporter.c.id,
                supporter.c.campaign_id,
                supporter.c.contact_digest,
                supporter.c.contact_encrypted,
            )
            .where(
                supporter.c.id > after,
                supporter.c.contact_encrypted.is_not(None),
                supporter.c.anonymised_at.is_(None),
            )
            .order_by(supporter.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        after = rows[-1].id
        changed = []
        for row in rows:
            contact = cipher.decrypt(row.contact_encrypted)
            if contact is None:  # encrypted under another key: its digest cannot be redone
                continue
            digest = contact_digest(secret_key, rule(contact))
            if digest != row.contact_digest:
                changed.append({"id": row.id, "campaign_id": row.campaign_id, "digest": digest})
        if changed:
            conn.execute(refold.insert(), changed)


def _pair_duplicates(conn: sa.Connection) -> None:
    """Each supporter whose final digest another supporter of its campaign has too, paired
    with the earliest of them. A group of duplicates always holds a supporter whose digest
    changes, so only the digests that change are looked up (in the (campaign, digest) index)."""
    moved = refold.alias("moved")
    holders = (
        sa.select(supporter.c.id, supporter.c.campaign_id, supporter.c.contact_digest)
        .join(
            refold,
            sa.and_(
                refold.c.campaign_id == supporter.c.campaign_id,
                refold.c.digest == supporter.c.contact_digest,
            ),
        )
        .where(~sa.exists().where(moved.c.id == supporter.c.id))
        .distinct()
    )

    def final() -> Any:
        return sa.union_all(
            sa.select(refold.c.id, refold.c.campaign_id, refold.c.digest), holders
        ).subquery()

    everyone = final()
    groups = (
        sa.select(
            everyone.c.campaign_id, everyone.c.digest, sa.func.min(everyone.c.id).label("keep_id")
        )
        .group_by(everyone.c.campaign_id, everyone.c.digest)
        .having(sa.func.count() > 1)
        .subquery()
    )
    member = final()
    pairs = (
        sa.select(member.c.id, groups.c.keep_id, member.c.campaign_id)
        .join(
            groups,
            sa.and_(
                groups.c.campaign_id == member.c.campaign_id, groups.c.digest == member.c.digest
            ),
        )
        .where(member.c.id != groups.c.keep_id)
    )
    conn.execute(merge.insert().from_select(["drop_id", "keep_id", "campaign_id"], pairs))


def _merge_duplicates(conn: sa.Connection) -> set[int]:
    """Every duplicate merged into the supporter it is paired with; the campaigns changed."""
    # First, whoever a duplicate invited (a duplicate too, maybe) was invited by the one kept.
    conn.execute(
        supporter.update()
        .where(supporter.c.invited_by_id.in_(sa.select(merge.c.drop_id)))
        .values(
            invited_by_id=sa.select(merge.c.keep_id)
            .where(merge.c.drop_id == supporter.c.invited_by_id)
            .scalar_subquery()
        )
    )
    campaigns: set[int] = set()
    after = 0
    while True:
        keeps = conn.execute(
            sa.select(merge.c.keep_id, merge.c.campaign_id)
            .where(merge.c.keep_id > after)
            .group_by(merge.c.keep_id, merge.c.campaign_id)
            .order_by(merge.c.keep_id)
            .limit(BATCH)
        ).all()
        if not keeps:
            return campaigns
        after = keeps[-1].keep_id
        campaigns.update(campaign_id for _keep, campaign_id in keeps)
        _merge_batch(conn, [keep for keep, _campaign in keeps])


_KEPT_FIELDS = (
    supporter.c.id,
    supporter.c.invited_by_id,
    supporter.c.age_band,
    supporter.c.updates_partner_id,
    supporter.c.contact_encrypted,
)
held = signature.alias("held")
# A duplicate's signature moves to the kept supporter unless the kept one has signed that
# pledge; run once per duplicate in order, so that of two duplicates' signatures of one
# pledge only the first moves.
_MOVE_SIGNATURES = (
    signature.update()
    .where(
        signature.c.supporter_id == sa.bindparam("drop_id"),
        ~sa.exists().where(
            held.c.supporter_id == sa.bindparam("keep_id"),
            held.c.pledge_id == signature.c.pledge_id,
        ),
    )
    .values(supporter_id=sa.bindparam("keep_id"))
)
_FILL = (
    supporter.update()
    .where(supporter.c.id == sa.bindparam("keep_id"))
    .values(
        invited_by_id=sa.bindparam("inviter"),
        age_band=sa.bindparam("band"),
        updates_partner_id=sa.bindparam("partner"),
        contact_encrypted=sa.bindparam("contact"),
    )
)


def _merge_batch(conn: sa.Connection, keep_ids: list[int]) -> None:
    """These supporters each take what their duplicates had, and the duplicates go."""
    pairs = conn.execute(
        sa.select(merge.c.drop_id, merge.c.keep_id)
        .where(merge.c.keep_id.in_(keep_ids))
        .order_by(merge.c.keep_id, merge.c.drop_id)
    ).all()
    drop_ids = [drop for drop, _keep in pairs]
    rows = {
        row.id: row
        for row in conn.execute(
            sa.select(*_KEPT_FIELDS).where(supporter.c.id.in_([*keep_ids, *drop_ids]))
        )
    }
    fills = [
        _filled(rows[keep], [rows[drop] for drop, of in pairs if of == keep]) for keep in keep_ids
    ]
    conn.execute(_FILL, fills)
    conn.execute(_MOVE_SIGNATURES, [{"drop_id": drop, "keep_id": keep} for drop, keep in pairs])
    conn.execute(signature.delete().where(signature.c.supporter_id.in_(drop_ids)))
    conn.execute(supporter.delete().where(supporter.c.id.in_(drop_ids)))
    # Someone invited by a duplicate of themselves was invited by nobody else.
    conn.execute(
        supporter.update()
        .where(supporter.c.id.in_(keep_ids), supporter.c.invited_by_id == supporter.c.id)
        .values(invited_by_id=None)
    )


def _filled(kept: Any, duplicates: list[Any]) -> dict[str, Any]:
    """The kept supporter's fields, with what it lacks taken from its earliest duplicate
    that has it: nothing a person gave is lost by the merge."""
    inviters = [d.invited_by_id for d in duplicates if d.invited_by_id not in (None, kept.id)]
    bands = [d.age_band for d in duplicates if d.age_band is not None]
    news = [
        (d.updates_partner_id, d.contact_encrypted)
        for d in duplicates
        if d.updates_partner_id is not None and d.contact_encrypted is not None
    ]
    partner, contact = kept.updates_partner_id, kept.contact_encrypted
    if partner is None and news:
        partner, contact = news[0]
    return {
        "keep_id": kept.id,
        "inviter": kept.invited_by_id
        if kept.invited_by_id is not None
        else next(iter(inviters), None),
        "band": kept.age_band if kept.age_band is not None else next(iter(bands), None),
        "partner": partner,
        "contact": contact,
    }


def _apply_digests(conn: sa.Connection) -> None:
    """The new digests written. Through a stand-in first: one statement moving digests
    between rows must never meet a digest still held by a row it has not reached yet."""
    changing = supporter.c.id.in_(sa.select(refold.c.id))
    conn.execute(
        supporter.update()
        .where(changing)
        .values(contact_digest=sa.literal("refold:") + sa.cast(supporter.c.id, sa.String))
    )
    conn.execute(
        supporter.update()
        .where(changing)
        .values(
            contact_digest=sa.select(refold.c.digest)
            .where(refold.c.id == supporter.c.id)
            .scalar_subquery()
        )
    )


def _recount(conn: sa.Connection, campaign_id: int, *, now: datetime) -> None:
    """A campaign's tallies replaced by its true counts, one shard each: the supporters, each
    pledge's signatures and each partner's referrals (pledge.supporters.service.tallies
    true_counts, in SQL)."""
    conn.execute(tally.delete().where(tally.c.campaign_id == campaign_id))
    campaign = sa.literal(campaign_id, sa.Integer).label("campaign_id")
    shard = sa.literal(0, sa.Integer).label("shard")
    at = sa.literal(now, UTCDateTime).label("updated_at")
    none = sa.null()
    total = sa.select(
        campaign,
        sa.literal("total", sa.String).label("key"),
        none.label("pledge_id"),
        none.label("partner_id"),
        shard,
        sa.func.count().label("value"),
        at,
    ).where(supporter.c.campaign_id == campaign_id)
    per_pledge = (
        sa.select(
            campaign,
            (sa.literal("pledge:", sa.String) + sa.cast(signature.c.pledge_id, sa.String)).label(
                "key"
            ),
            signature.c.pledge_id,
            none.label("partner_id"),
            shard,
            sa.func.count().label("value"),
            at,
        )
        .join(supporter, supporter.c.id == signature.c.supporter_id)
        .where(supporter.c.campaign_id == campaign_id)
        .group_by(signature.c.pledge_id)
    )
    per_partner = (
        sa.select(
            campaign,
            (sa.literal("partner:", sa.String) + sa.cast(supporter.c.referrer_id, sa.String)).label(
                "key"
            ),
            none.label("pledge_id"),
            supporter.c.referrer_id.label("partner_id"),
            shard,
            sa.func.count().label("value"),
            at,
        )
        .where(supporter.c.campaign_id == campaign_id, supporter.c.referrer_id.is_not(None))
        .group_by(supporter.c.referrer_id)
    )
    columns = ["campaign_id", "key", "pledge_id", "partner_id", "shard", "value", "updated_at"]
    for counts in (total, per_pledge, per_partner):
        conn.execute(tally.insert().from_select(columns, counts))
