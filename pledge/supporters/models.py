"""Supporters, their signatures, the sharded tallies, and the sign-up form."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from pledge.db import enum_column, table, utcnow
from pledge.i18n import gettext as _


class SupporterState(StrEnum):
    """Where a supporter stands in the counts. Only COUNTED supporters are in the public
    count, the pledges' and partners' counts, the statistics and the exports."""

    PENDING = "pending"  # not confirmed yet: counted apart, deleted if never confirmed
    COUNTED = "counted"  # confirmed (or counted at once where the campaign chose it)
    SUSPECT = "suspect"  # signed over a rate limit: held for review, in no count
    INVALIDATED = "invalidated"  # taken off the count by an administrator; reversible

    @property
    def label(self) -> str:
        return {
            SupporterState.PENDING: _("Waiting for confirmation"),
            SupporterState.COUNTED: _("Counted"),
            SupporterState.SUSPECT: _("Held for review"),
            SupporterState.INVALIDATED: _("Invalidated"),
        }[self]


class Supporter(SQLModel, table=True):
    __table_args__ = (
        # One supporter per person and campaign. The digest comes first: signing finds the
        # signers of a batch by their digests alone, on this index, which no other index can
        # stand in for whatever the statistics say of the campaign (see service/known.py).
        sa.UniqueConstraint("contact_digest", "campaign_id"),
        sa.Index("ix_supporter_campaign_id_number", "campaign_id", "number"),
        # The statistics page groups a campaign's supporters by these: each group-by reads
        # one index in order, never the table.
        # They count supporters in the count only, so the index carries the state too.
        sa.Index("ix_supporter_campaign_id_province_state", "campaign_id", "province", "state"),
        sa.Index("ix_supporter_campaign_id_age_band_state", "campaign_id", "age_band", "state"),
        sa.Index("ix_supporter_campaign_id_created_at_state", "campaign_id", "created_at", "state"),
        # A partner's opted-in supporters, counted without the anonymised and uncounted ones.
        sa.Index(
            "ix_supporter_updates_partner_id_anonymised_at_state",
            "updates_partner_id",
            "anonymised_at",
            "state",
        ),
        # Retention finds the signatures that were never confirmed; the abuse console finds
        # the ones held for review.
        sa.Index("ix_supporter_state_created_at", "state", "created_at"),
        # An invalidation by network or email domain, and the console's look at one, find a
        # campaign's rows of one network or domain (in their time range) without reading
        # the campaign's other supporters.
        sa.Index(
            "ix_supporter_campaign_id_network_created_at", "campaign_id", "network", "created_at"
        ),
        sa.Index(
            "ix_supporter_campaign_id_email_domain_created_at",
            "campaign_id",
            "email_domain",
            "created_at",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", ondelete="CASCADE")
    # HMAC-SHA256 of the normalised contact: recognises a returning person without storing them.
    contact_digest: str = Field(max_length=64)
    # Secret handle in the supporter's own thank-you and withdrawal links.
    token: str = Field(max_length=32, unique=True)
    display_name: str = Field(max_length=80)
    province: str = Field(max_length=8)
    age_band: str | None = Field(default=None, max_length=8)
    show_name: bool = Field(default=False)
    # A moderator's decision on the public name (names.NameReview: "hidden" or "shown");
    # None: shown unless it holds a word of the held-names list.
    name_review: str | None = Field(default=None, max_length=8)
    referrer_id: int | None = Field(
        default=None, foreign_key="campaign_partner.id", ondelete="SET NULL", index=True
    )
    updates_partner_id: int | None = Field(
        default=None, foreign_key="campaign_partner.id", ondelete="SET NULL"
    )
    # Kept only when the supporter asked a partner for updates; encrypted at rest.
    contact_encrypted: str | None = Field(default=None, max_length=500)
    # Public code in the supporter's personal invite link, and who invited this supporter.
    invite_code: str | None = Field(default=None, max_length=16, unique=True)
    invited_by_id: int | None = Field(
        default=None, foreign_key="supporter.id", ondelete="SET NULL", index=True
    )
    # The supporter's place in the campaign, given when the signature is confirmed.
    number: int = Field(default=0)
    locale: str = Field(default="id", max_length=8)
    created_at: datetime = Field(default_factory=utcnow)
    # When the person proved the contact is theirs; until then the signature is pending: it
    # is in no public count, and it is deleted after PLEDGE_PENDING_DAYS.
    confirmed_at: datetime | None = None
    state: SupporterState = Field(
        default=SupporterState.PENDING, sa_type=enum_column(SupporterState)
    )
    # Set when retention removed the personal data; the counts and statistics stay.
    anonymised_at: datetime | None = None
    # Where the first signing came from, for the abuse console and invalidations only (never
    # shown to partners): the client's network (an IPv4 /24 or an IPv6 /64, as text) and an
    # email contact's domain (lower-case, IDNA). Removed with the personal data.
    network: str | None = Field(default=None, max_length=43)
    email_domain: str | None = Field(default=None, max_length=253)


class Signature(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("supporter_id", "pledge_id"),)

    id: int | None = Field(default=None, primary_key=True)
    supporter_id: int = Field(foreign_key="supporter.id", ondelete="CASCADE")
    pledge_id: int = Field(foreign_key="pledge.id", ondelete="CASCADE", index=True)
    created_at: datetime = Field(default_factory=utcnow)


class InvalidationStatus(StrEnum):
    """Where an invalidation stands. RUNNING moves a batch at a time until it is DONE or,
    asked between two batches, CANCELLED; RESTORING puts its supporters back, until
    RESTORED."""

    RUNNING = "running"
    DONE = "done"
    CANCELLED = "cancelled"
    RESTORING = "restoring"
    RESTORED = "restored"

    @property
    def label(self) -> str:
        return {
            InvalidationStatus.RUNNING: _("Running"),
            InvalidationStatus.DONE: _("Done"),
            InvalidationStatus.CANCELLED: _("Cancelled"),
            InvalidationStatus.RESTORING: _("Being restored"),
            InvalidationStatus.RESTORED: _("Restored"),
        }[self]


# The invalidations whose supporters are off the count: the campaign page says so.
SHOWN_INVALIDATIONS = frozenset(
    {InvalidationStatus.RUNNING, InvalidationStatus.DONE, InvalidationStatus.CANCELLED}
)
# The invalidations a process is moving a batch at a time.
MOVING_INVALIDATIONS = frozenset({InvalidationStatus.RUNNING, InvalidationStatus.RESTORING})


class Invalidation(SQLModel, table=True):
    """Signatures taken off a campaign's count by an administrator: what matched, why, how
    far the run has gone, and who put them back if it was restored."""

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", ondelete="CASCADE", index=True)
    actor_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    # Shown on the campaign page with the date and the number taken off.
    reason: str = Field(max_length=500)
    # What it matches (at least one of these): a network (CIDR), an email domain, a partner's
    # link, a time range, a name pattern, or supporters picked one by one (their ids).
    network: str | None = Field(default=None, max_length=43)
    email_domain: str | None = Field(default=None, max_length=253)
    partner_id: int | None = Field(
        default=None, foreign_key="campaign_partner.id", ondelete="SET NULL"
    )
    partner_slug: str | None = Field(default=None, max_length=64)
    since: datetime | None = None
    until: datetime | None = None
    name_pattern: str | None = Field(default=None, max_length=80)
    supporter_ids: str | None = Field(default=None, sa_type=sa.Text)
    suspects_only: bool = Field(default=False)
    status: InvalidationStatus = Field(
        default=InvalidationStatus.RUNNING, sa_type=enum_column(InvalidationStatus)
    )
    # How many matched when it started, and how many of them were counted then.
    matched: int = Field(default=0)
    matched_counted: int = Field(default=0)
    # Supporters who signed after it started are not its business: it stops at this id.
    last_id: int = Field(default=0)
    # The last supporter id a batch went through (of the run, then of the restore).
    cursor: int = Field(default=0)
    invalidated: int = Field(default=0)
    invalidated_counted: int = Field(default=0)
    restored: int = Field(default=0)
    cancel_requested: bool = Field(default=False)
    # The process moving it, and when it last finished a batch: a run whose process died
    # (a restart) is seen as stalled and can be resumed.
    runner: str = Field(default="", max_length=32)
    heartbeat_at: datetime = Field(default_factory=utcnow)
    created_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None
    restored_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    restore_reason: str | None = Field(default=None, max_length=500)
    restored_at: datetime | None = None


class InvalidatedSupporter(SQLModel, table=True):
    """A supporter an invalidation took off, and the state a restore puts them back in."""

    __tablename__ = "invalidated_supporter"

    invalidation_id: int = Field(
        foreign_key="invalidation.id", ondelete="CASCADE", primary_key=True
    )
    supporter_id: int = Field(
        foreign_key="supporter.id", ondelete="CASCADE", primary_key=True, index=True
    )
    previous_state: SupporterState = Field(sa_type=enum_column(SupporterState))


class ConfirmationChannel(StrEnum):
    EMAIL = "email"  # a link with one button, or a 6-digit code typed on the site
    WHATSAPP = "whatsapp"  # the code sent from the number that signed


class Confirmation(SQLModel, table=True):
    """One signing's proof that the contact is the signer's: what it adds once proven, and
    the secrets that prove it (stored as digests; the plain ones go only to the contact)."""

    id: int | None = Field(default=None, primary_key=True)
    supporter_id: int = Field(foreign_key="supporter.id", ondelete="CASCADE", index=True)
    channel: str = Field(max_length=16)
    # The pledges this signing ticked, added to the supporter's signatures once confirmed.
    pledge_ids: str = Field(default="", max_length=400)
    # SHA-256 of the secret in the emailed link.
    link_digest: str = Field(max_length=64, unique=True)
    # HMAC of the 6-digit code with the link's digest.
    code_digest: str = Field(max_length=64)
    wrong_codes: int = Field(default=0)
    # The contact, encrypted, while a reminder may still be due (emails only); emptied once
    # the signature is confirmed or deleted.
    contact_encrypted: str | None = Field(default=None, max_length=500)
    # Messages sent to the contact about this signing: the first, then reminders.
    messages: int = Field(default=0)
    last_message_at: datetime | None = None
    locale: str = Field(default="id", max_length=8)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    confirmed_at: datetime | None = None
    # What confirming did (a SignOutcome) and the pledges it added: the page the signer's
    # browser goes on to says so.
    outcome: str | None = Field(default=None, max_length=16)
    added_ids: str = Field(default="", max_length=400)


class Tally(SQLModel, table=True):
    """One shard of one counter. The count is the sum of a key's shards."""

    __table_args__ = (sa.UniqueConstraint("campaign_id", "key", "shard"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", ondelete="CASCADE")
    # "total", "pledge:<pledge id>" or "partner:<campaign_partner id>"
    key: str = Field(max_length=40)
    pledge_id: int | None = Field(default=None, foreign_key="pledge.id", ondelete="CASCADE")
    partner_id: int | None = Field(
        default=None, foreign_key="campaign_partner.id", ondelete="CASCADE"
    )
    shard: int = Field(default=0)
    value: int = Field(default=0)
    updated_at: datetime = Field(default_factory=utcnow)


TOTAL = "total"
# Signatures waiting for their confirmation, and those held for review: counted apart, never
# in the total.
PENDING = "pending"
SUSPECT = "suspect"
# The counter of the supporters of each state outside the count (invalidated ones have none).
OUTSIDE_KEYS = {SupporterState.PENDING: PENDING, SupporterState.SUSPECT: SUSPECT}


def pledge_key(pledge_id: int) -> str:
    return f"pledge:{pledge_id}"


def partner_key(partner_id: int) -> str:
    return f"partner:{partner_id}"


class SignOutcome(StrEnum):
    NEW = "new"  # a new supporter
    ADDED = "added"  # a returning supporter who added pledges
    UNCHANGED = "unchanged"  # a returning supporter who had signed all of these already


@dataclass(frozen=True, slots=True)
class SignedSupporter:
    """The supporter a signature belongs to: the row, and the secret of their thank-you and
    withdrawal links."""

    id: int
    token: str


@dataclass(frozen=True, slots=True)
class ConfirmationTicket:
    """What proves one signing: the digest of its link's secret, which the signer's browser
    is bound to, and its code (shown to the signer only for WhatsApp, where the proof is the
    number it is sent from; emailed otherwise)."""

    channel: ConfirmationChannel
    link_digest: str
    code: str


@dataclass(frozen=True, slots=True)
class Signing:
    outcome: SignOutcome
    supporter: SignedSupporter | None  # None when the honeypot caught a bot
    added: tuple[str, ...] = ()  # slugs of the pledges counted at once
    ticket: ConfirmationTicket | None = None  # None when the honeypot caught a bot
    emailed: bool = False  # a message to the signer waits in the outbox


@dataclass(frozen=True, slots=True)
class Counts:
    """A campaign's counters as read from the tallies."""

    total: int
    by_key: dict[str, int]
    changed_at: datetime | None  # when a signature last changed a count

    def pledge(self, pledge_id: int | None) -> int:
        return self.by_key.get(pledge_key(pledge_id or 0), 0)

    def partner(self, partner_id: int | None) -> int:
        return self.by_key.get(partner_key(partner_id or 0), 0)

    @property
    def pending(self) -> int:
        """Signatures waiting for their confirmation."""
        return self.by_key.get(PENDING, 0)


# Core handles of the tables, for hot paths and set-based statements (see CONTRIBUTING.md).
supporter_table = table(Supporter)
signature_table = table(Signature)
tally_table = table(Tally)
confirmation_table = table(Confirmation)
invalidation_table = table(Invalidation)
invalidated_supporter_table = table(InvalidatedSupporter)
