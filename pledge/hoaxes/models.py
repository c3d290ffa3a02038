"""Hoax reports, the cases that group reports of the same thing, and stored images."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from pledge.db import enum_column, table, utcnow
from pledge.hoaxes.states import TRANSITIONS as TRANSITIONS  # re-exported
from pledge.hoaxes.states import CaseStatus
from pledge.i18n import gettext as _

# The groups under the names other modules know them by; states.py is where they are kept.
OPEN_STATUSES = CaseStatus.OPEN
IN_QUEUE_STATUSES = CaseStatus.IN_QUEUE
CLOSED_STATUSES = CaseStatus.CLOSED


class Platform(StrEnum):
    WHATSAPP = "whatsapp"
    FACEBOOK = "facebook"
    INSTAGRAM = "instagram"
    TIKTOK = "tiktok"
    X = "x"
    YOUTUBE = "youtube"
    TELEGRAM = "telegram"
    WEBSITE = "website"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {
            Platform.WHATSAPP: "WhatsApp",
            Platform.FACEBOOK: "Facebook",
            Platform.INSTAGRAM: "Instagram",
            Platform.TIKTOK: "TikTok",
            Platform.X: "X (Twitter)",
            Platform.YOUTUBE: "YouTube",
            Platform.TELEGRAM: "Telegram",
            Platform.WEBSITE: _("A website"),
            Platform.OTHER: _("Somewhere else"),
        }[self]


class Category(StrEnum):
    AI_GENERATED = "ai_generated"  # AI-generated image or video
    MANIPULATED = "manipulated"  # manipulated photo or video
    FALSE_CLAIM = "false_claim"  # false claim about a candidate
    VOTING_INFO = "voting_info"  # false voting information
    MONEY_POLITICS = "money_politics"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {
            Category.AI_GENERATED: _("AI-generated image or video"),
            Category.MANIPULATED: _("Manipulated photo or video"),
            Category.FALSE_CLAIM: _("False claim about a candidate"),
            Category.VOTING_INFO: _("False information about voting"),
            Category.MONEY_POLITICS: _("Money politics"),
            Category.OTHER: _("Something else"),
        }[self]


class Verdict(StrEnum):
    """The label a published hoax carries, in the words Indonesian fact-checkers use."""

    SALAH = "SALAH"  # false
    MENYESATKAN = "MENYESATKAN"  # misleading
    DIMANIPULASI = "DIMANIPULASI"  # manipulated
    BUATAN_AI = "BUATAN AI"  # AI-generated
    KONTEKS_KELIRU = "KONTEKS KELIRU"  # false context
    PENIPUAN = "PENIPUAN"  # scam
    SATIRE = "SATIRE"

    @property
    def label(self) -> str:
        """What the label means, in the reader's language: the label itself stays in
        Indonesian, as fact-checkers in Indonesia write it."""
        return {
            Verdict.SALAH: _("False"),
            Verdict.MENYESATKAN: _("Misleading"),
            Verdict.DIMANIPULASI: _("Manipulated"),
            Verdict.BUATAN_AI: _("AI-generated"),
            Verdict.KONTEKS_KELIRU: _("False context"),
            Verdict.PENIPUAN: _("Scam"),
            Verdict.SATIRE: _("Satire"),
        }[self]


class Media(SQLModel, table=True):
    """A re-encoded image, stored in the database so that every app host can serve it."""

    id: int | None = Field(default=None, primary_key=True)
    sha256: str = Field(max_length=64, unique=True)  # of the stored (re-encoded) bytes
    mime: str = Field(max_length=32)
    width: int
    height: int
    size: int
    data: bytes = Field(sa_type=sa.LargeBinary)
    # 64-bit difference hash of the picture, as a signed integer: near copies differ in few bits.
    phash: int = Field(sa_type=sa.BigInteger)
    # The picture's hashes after its borders and phone bars are trimmed (fingerprint.py), and
    # the text read from it: two screenshots join only when both agree. None: stored before
    # fingerprints, found by phash alone.
    fingerprint: bytes | None = Field(default=None, sa_type=sa.LargeBinary)
    ocr_text: str = Field(default="", sa_type=sa.Text)
    created_at: datetime = Field(default_factory=utcnow)


class MediaBand(SQLModel, table=True):
    """One byte of a media's perceptual hash. Two hashes within 7 bits of each other share at
    least one of their 8 bytes, so near copies are found by exact lookups on this index."""

    __tablename__ = "media_band"
    __table_args__ = (sa.Index("ix_media_band_band_value", "band", "value"),)

    media_id: int = Field(foreign_key="media.id", ondelete="CASCADE", primary_key=True)
    band: int = Field(primary_key=True)
    value: int


class MediaPrintBand(SQLModel, table=True):
    """One band of a media's fingerprint: near pictures share at least one, so candidates are
    found by exact lookups on this index before their fingerprints are compared."""

    __tablename__ = "media_print_band"
    # A lookup reads the newest pictures holding one (band, value), in order.
    __table_args__ = (sa.Index("ix_media_print_band_lookup", "band", "value", "media_id"),)

    media_id: int = Field(foreign_key="media.id", ondelete="CASCADE", primary_key=True)
    band: int = Field(primary_key=True)
    value: int = Field(sa_type=sa.BigInteger, primary_key=True)


class HoaxCase(SQLModel, table=True):
    __tablename__ = "hoax_case"
    __table_args__ = (
        # The queue: open cases of a campaign, most reported first, oldest first.
        sa.Index("ix_hoax_case_queue", "campaign_id", "status", "report_count", "id"),
        # A new report's link and picture, looked up among the cases of its campaign.
        sa.Index("ix_hoax_case_campaign_link", "campaign_id", "canonical_url"),
        sa.Index("ix_hoax_case_campaign_media", "campaign_id", "media_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", ondelete="CASCADE", index=True)
    status: CaseStatus = Field(
        default=CaseStatus.NEW, sa_type=enum_column(CaseStatus, 24), index=True
    )
    platform: Platform = Field(sa_type=enum_column(Platform, 24))
    category: Category = Field(sa_type=enum_column(Category, 24))
    canonical_url: str | None = Field(default=None, max_length=2048, index=True)
    media_id: int | None = Field(default=None, foreign_key="media.id", ondelete="SET NULL")
    report_count: int = Field(default=1)
    label: Verdict | None = Field(default=None, sa_type=enum_column(Verdict, 24))
    # The claim as it circulates ("Pemilih tanpa undangan C6 tidak bisa mencoblos"): what the
    # label says is false. Pages, share texts and ClaimReview's claimReviewed read it.
    public_title: str = Field(default="", max_length=200)
    # The short correction beside it ("Faktanya: ..."), without the "Faktanya" prefix.
    correction: str = Field(default="", max_length=280)
    public_explanation: str = Field(default="", sa_type=sa.Text)
    fact_check_url: str | None = Field(default=None, max_length=2048)
    # Who spread the claim, and when it first appeared, where the moderators know it.
    claim_author: str = Field(default="", max_length=200)
    claim_date: date | None = None
    # While the case needs information: the moderator's question, shown to its reporters.
    question: str = Field(default="", max_length=1000)
    # When a reporter last answered the question: the queue marks the case until decided.
    answered_at: datetime | None = None
    # When the published verdict was last corrected (its reporters are told again).
    corrected_at: datetime | None = None
    # What Content Credentials in a reported file said, as the moderator chose to show it on
    # the published verdict (provenance.PublicCredentials as JSON); empty when not shown.
    credentials_note: str = Field(default="", max_length=1000)
    claimed_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    claim_expires_at: datetime | None = None
    proposed_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    approved_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    merged_into_id: int | None = Field(
        default=None, foreign_key="hoax_case.id", ondelete="SET NULL"
    )
    published_at: datetime | None = Field(default=None, index=True)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class HoaxReport(SQLModel, table=True):
    __tablename__ = "hoax_report"
    # A new report's link and picture, looked up among the reports of its campaign.
    __table_args__ = (
        sa.Index("ix_hoax_report_campaign_link", "campaign_id", "canonical_url"),
        sa.Index("ix_hoax_report_campaign_media", "campaign_id", "media_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", ondelete="CASCADE", index=True)
    case_id: int = Field(foreign_key="hoax_case.id", ondelete="CASCADE", index=True)
    # Short and unguessable: the reporter's only key to the status page.
    tracking_code: str = Field(max_length=16, unique=True)
    # The random key of the form the report was sent with: the same form sent again (a double
    # tap, a retry on a slow connection) is the same report.
    form_key: str | None = Field(default=None, max_length=32, unique=True)
    url: str | None = Field(default=None, max_length=2048)
    canonical_url: str | None = Field(default=None, max_length=2048, index=True)
    platform: Platform = Field(sa_type=enum_column(Platform, 24))
    category: Category = Field(sa_type=enum_column(Category, 24))
    description: str = Field(default="", max_length=1000)
    province: str | None = Field(default=None, max_length=8)
    seen_on: date | None = None
    media_id: int | None = Field(default=None, foreign_key="media.id", ondelete="SET NULL")
    # Only when the reporter left one; encrypted at rest, removed when the case closes.
    contact_encrypted: str | None = Field(default=None, max_length=500)
    # The reporter allowed moderators to write to them about the report (not only to be told
    # the verdict).
    may_contact: bool = Field(default=False)
    # When the reporter was last sent the case's verdict (or its correction).
    notified_at: datetime | None = None
    locale: str = Field(default="id", max_length=8)
    # The text the report is matched by (its description and the text read from its
    # picture), as the text matcher prepared it.
    match_text: str = Field(default="", sa_type=sa.Text)
    # How the report found its case when it was sent ("link", "picture 0.97, text 0.99", ...);
    # empty when it opened a case of its own.
    joined_by: str = Field(default="", max_length=120)
    # Where a short link (bit.ly, vt.tiktok.com, ...) led, once it was followed.
    resolved_url: str | None = Field(default=None, max_length=2048)
    # What the uploaded file said of where it came from, read before its metadata was
    # stripped (provenance.Provenance as JSON; "" without a picture). Moderators only.
    provenance: str = Field(default="", sa_type=sa.Text)
    created_at: datetime = Field(default_factory=utcnow, index=True)


class HoaxTextBand(SQLModel, table=True):
    """One band of a report's text signature: reports with similar text share at least one."""

    __tablename__ = "hoax_text_band"
    # A lookup reads the newest reports of a campaign holding one (band, value), in order.
    __table_args__ = (
        sa.Index("ix_hoax_text_band_lookup", "campaign_id", "band", "value", "report_id"),
    )

    report_id: int = Field(foreign_key="hoax_report.id", ondelete="CASCADE", primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", ondelete="CASCADE")
    band: int = Field(primary_key=True)
    value: int = Field(sa_type=sa.BigInteger, primary_key=True)


class MatchKind(StrEnum):
    """What two cases have in common that made them a suggested match."""

    LINK = "link"
    PICTURE = "picture"
    TEXT = "text"

    @property
    def label(self) -> str:
        return {
            MatchKind.LINK: _("Same link"),
            MatchKind.PICTURE: _("Similar picture"),
            MatchKind.TEXT: _("Similar text"),
        }[self]


class CaseMatch(SQLModel, table=True):
    """Two cases that may be about the same thing, for a moderator to join or set apart:
    pictures alike with different text, or text alike below the joining threshold."""

    __tablename__ = "hoax_case_match"
    __table_args__ = (sa.UniqueConstraint("case_id", "other_case_id"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", ondelete="CASCADE", index=True)
    # The newer case, and the older one it resembles.
    case_id: int = Field(foreign_key="hoax_case.id", ondelete="CASCADE", index=True)
    other_case_id: int = Field(foreign_key="hoax_case.id", ondelete="CASCADE", index=True)
    kind: MatchKind = Field(sa_type=enum_column(MatchKind, 16))
    score: float
    why: str = Field(default="", max_length=120)
    dismissed_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    dismissed_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class ReportAnswer(SQLModel, table=True):
    """A reporter's answer to the question of a case that needs more information: text, a
    link, another screenshot (stored like a report's)."""

    __tablename__ = "hoax_answer"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="hoax_case.id", ondelete="CASCADE", index=True)
    report_id: int = Field(foreign_key="hoax_report.id", ondelete="CASCADE", index=True)
    text: str = Field(default="", max_length=1000)
    url: str | None = Field(default=None, max_length=2048)
    canonical_url: str | None = Field(default=None, max_length=2048)
    media_id: int | None = Field(default=None, foreign_key="media.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow)


class Correction(SQLModel, table=True):
    """A change to a published verdict: proposed by one moderator, applied when a second one
    approves it, then shown on the verdict page with its note, and sent to the reporters."""

    __tablename__ = "hoax_correction"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="hoax_case.id", ondelete="CASCADE", index=True)
    label: Verdict = Field(sa_type=enum_column(Verdict, 24))
    public_title: str = Field(max_length=200)
    correction: str = Field(default="", max_length=280)
    public_explanation: str = Field(default="", sa_type=sa.Text)
    # What changed and why, for the public ("The first version named the wrong district.").
    note: str = Field(max_length=500)
    proposed_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    approved_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow)
    approved_at: datetime | None = None


class EscalationTarget(StrEnum):
    """Where moderators reported a hoax outside the site."""

    TIKTOK = "tiktok"
    META = "meta"
    X = "x"
    YOUTUBE = "youtube"
    TELEGRAM = "telegram"
    BAWASLU = "bawaslu"
    KOMDIGI = "komdigi"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {
            EscalationTarget.TIKTOK: "TikTok",
            EscalationTarget.META: "Meta (Facebook, Instagram, WhatsApp)",
            EscalationTarget.X: "X (Twitter)",
            EscalationTarget.YOUTUBE: "YouTube",
            EscalationTarget.TELEGRAM: "Telegram",
            EscalationTarget.BAWASLU: "Bawaslu",
            EscalationTarget.KOMDIGI: "Komdigi (Kominfo)",
            EscalationTarget.OTHER: _("Someone else"),
        }[self]


class EscalationOutcome(StrEnum):
    """What came of a report made elsewhere."""

    REMOVED = "removed"
    LABELLED = "labelled"
    RESTRICTED = "restricted"
    NO_ACTION = "no_action"
    NO_ANSWER = "no_answer"

    @property
    def label(self) -> str:
        return {
            EscalationOutcome.REMOVED: _("Removed"),
            EscalationOutcome.LABELLED: _("Labelled"),
            EscalationOutcome.RESTRICTED: _("Restricted"),
            EscalationOutcome.NO_ACTION: _("No action taken"),
            EscalationOutcome.NO_ANSWER: _("No answer"),
        }[self]

    @property
    def acted_on(self) -> bool:
        return self in {
            EscalationOutcome.REMOVED,
            EscalationOutcome.LABELLED,
            EscalationOutcome.RESTRICTED,
        }


class Escalation(SQLModel, table=True):
    """A report moderators made about a case to a platform or an authority, and its outcome."""

    __tablename__ = "hoax_escalation"
    # The queue's filter: cases of a campaign with an escalation still waiting for an outcome.
    __table_args__ = (sa.Index("ix_hoax_escalation_open", "campaign_id", "outcome", "case_id"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", ondelete="CASCADE")
    case_id: int = Field(foreign_key="hoax_case.id", ondelete="CASCADE", index=True)
    target: EscalationTarget = Field(sa_type=enum_column(EscalationTarget, 16))
    # The name of the "other" recipient.
    target_name: str = Field(default="", max_length=120)
    reported_on: date
    reference: str = Field(default="", max_length=200)
    outcome: EscalationOutcome | None = Field(
        default=None, sa_type=enum_column(EscalationOutcome, 16)
    )
    outcome_on: date | None = None
    created_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class CaseOriginal(SQLModel, table=True):
    """The original of a manipulated picture, attached to its case by a moderator, with the
    comparison of the two: computed once, when attached, and kept."""

    __tablename__ = "hoax_original"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="hoax_case.id", ondelete="CASCADE", unique=True)
    # The original as stored (an upload, or the picture of another case).
    media_id: int | None = Field(default=None, foreign_key="media.id", ondelete="SET NULL")
    # The case whose picture it is, when it was taken from one.
    source_case_id: int | None = Field(
        default=None, foreign_key="hoax_case.id", ondelete="SET NULL"
    )
    # The case's picture it was compared with.
    suspect_media_id: int | None = Field(default=None, foreign_key="media.id", ondelete="SET NULL")
    outcome: str = Field(max_length=16)  # difference.Outcome
    matches: int = Field(default=0)
    changed_share: float = Field(default=0.0)
    # The changed regions in the case's picture: JSON [[x, y, width, height, share], ...].
    regions: str = Field(default="[]", sa_type=sa.Text)
    # JPEGs: the case's picture with the changes outlined, and the original aligned to it.
    overlay: bytes = Field(default=b"", sa_type=sa.LargeBinary)
    aligned: bytes = Field(default=b"", sa_type=sa.LargeBinary)
    # The published verdict shows the pair (stamped, as its other pictures).
    show_public: bool = Field(default=False)
    attached_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow)


class HoaxMonth(SQLModel, table=True):
    """Counts per campaign and month that the transparency page reads instead of every report:
    ``metric`` is "reports", "cases", or "verdict:<LABEL>". Incremented in the transaction of
    the change it counts."""

    __tablename__ = "hoax_month"

    campaign_id: int = Field(foreign_key="campaign.id", ondelete="CASCADE", primary_key=True)
    month: date = Field(primary_key=True)  # the first day of the month, in WIB
    metric: str = Field(max_length=40, primary_key=True)
    count: int = Field(default=0)


# Core handles of the tables, for hot paths and set-based statements (see CONTRIBUTING.md).
media_table = table(Media)
media_band_table = table(MediaBand)
media_print_band_table = table(MediaPrintBand)
hoax_text_band_table = table(HoaxTextBand)
case_match_table = table(CaseMatch)
hoax_case_table = table(HoaxCase)
hoax_report_table = table(HoaxReport)
report_answer_table = table(ReportAnswer)
correction_table = table(Correction)
case_original_table = table(CaseOriginal)
escalation_table = table(Escalation)
hoax_month_table = table(HoaxMonth)
