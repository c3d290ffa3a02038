"""Campaign tables, their states, and the read models the pages and the API use."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from pledge.db import enum_column, table, utcnow
from pledge.i18n import gettext as _


class CampaignStatus(StrEnum):
    DRAFT = "draft"
    LIVE = "live"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return {
            CampaignStatus.DRAFT: _("Draft"),
            CampaignStatus.LIVE: _("Live"),
            CampaignStatus.CLOSED: _("Closed"),
        }[self]


class PartnerStatus(StrEnum):
    """Where an organisation stands in a campaign it does not lead."""

    # Asked by the lead: not a partner (no link, no hoaxes, no name on the page) until one of
    # its admins accepts.
    INVITED = "invited"
    ACTIVE = "active"
    # Left the campaign: the supporters who came through its link stay in the total, its
    # name and link go.
    LEFT = "left"

    @property
    def label(self) -> str:
        return {
            PartnerStatus.INVITED: _("Invited"),
            PartnerStatus.ACTIVE: _("Partner"),
            PartnerStatus.LEFT: _("Left the campaign"),
        }[self]


class Confirming(StrEnum):
    """How a campaign's signatures are confirmed before they count."""

    EMAIL_OR_WHATSAPP = "email_whatsapp"
    EMAIL = "email"
    WHATSAPP = "whatsapp"
    # Counted at once; the campaign's page says its count is not verified. Signers still get
    # their own page's link by email or WhatsApp.
    UNCONFIRMED = "unconfirmed"

    @property
    def label(self) -> str:
        return {
            Confirming.EMAIL_OR_WHATSAPP: _("By email or WhatsApp"),
            Confirming.EMAIL: _("By email only (mobile numbers are refused)"),
            Confirming.WHATSAPP: _("By WhatsApp only (email addresses are refused)"),
            Confirming.UNCONFIRMED: _(
                "Count signatures without confirming them: the page says the count is not verified"
            ),
        }[self]

    @property
    def flags(self) -> tuple[bool, bool, bool]:
        """confirm_by_email, confirm_by_whatsapp, counts_unconfirmed."""
        return (
            self != Confirming.WHATSAPP,
            self != Confirming.EMAIL,
            self == Confirming.UNCONFIRMED,
        )

    @classmethod
    def of(cls, campaign: Campaign) -> Confirming:
        """The setting a campaign's columns hold."""
        if campaign.counts_unconfirmed:
            return cls.UNCONFIRMED
        if campaign.confirm_by_email and campaign.confirm_by_whatsapp:
            return cls.EMAIL_OR_WHATSAPP
        return cls.EMAIL if campaign.confirm_by_email else cls.WHATSAPP


# Named groups of states.
PUBLIC_STATUSES = frozenset({CampaignStatus.LIVE, CampaignStatus.CLOSED})
SIGNABLE_STATUSES = frozenset({CampaignStatus.LIVE})


class Campaign(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=64, unique=True)
    title: str = Field(max_length=160)
    summary: str = Field(default="", max_length=500)
    body: str = Field(default="", sa_type=sa.Text)
    lead_org_id: int = Field(foreign_key="organization.id", index=True)
    goal: int = Field(default=1000, ge=1)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    # When the campaign was last closed by hand; None while it is open (see set_status).
    closed_at: datetime | None = None
    status: CampaignStatus = Field(
        default=CampaignStatus.DRAFT,
        sa_type=enum_column(CampaignStatus),
        index=True,
    )
    locale: str = Field(default="id", max_length=8)
    # How a signer proves the contact is theirs: an emailed link or code, and a WhatsApp
    # message from the number that signed. Only confirmed signatures are counted, unless the
    # organisation's admin chose to count them at once (the page then says the count is not
    # verified).
    confirm_by_email: bool = Field(default=True)
    confirm_by_whatsapp: bool = Field(default=True)
    counts_unconfirmed: bool = Field(default=False)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Pledge(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("campaign_id", "slug"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", ondelete="CASCADE", index=True)
    slug: str = Field(max_length=64)
    text: str = Field(max_length=200)
    position: int = Field(default=0)


class CampaignPartner(SQLModel, table=True):
    __tablename__ = "campaign_partner"
    __table_args__ = (sa.UniqueConstraint("campaign_id", "org_id"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", ondelete="CASCADE", index=True)
    org_id: int = Field(foreign_key="organization.id", index=True)
    referral_code: str = Field(max_length=32, unique=True)
    created_at: datetime = Field(default_factory=utcnow)
    status: PartnerStatus = Field(
        default=PartnerStatus.ACTIVE,
        sa_type=enum_column(PartnerStatus),
        sa_column_kwargs={"server_default": PartnerStatus.ACTIVE.value},
    )
    # When the organisation accepted, declined or left.
    responded_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class PartnerView:
    id: int
    slug: str
    name: str
    website: str | None
    referral_code: str
    is_lead: bool
    status: PartnerStatus = PartnerStatus.ACTIVE


@dataclass(frozen=True, slots=True)
class CampaignView:
    """A campaign with its pledges and partners, as the public pages need it."""

    campaign: Campaign
    pledges: list[Pledge] = field(default_factory=list)
    partners: list[PartnerView] = field(default_factory=list)

    @property
    def id(self) -> int:
        assert self.campaign.id is not None
        return self.campaign.id

    @property
    def slug(self) -> str:
        return self.campaign.slug

    @property
    def lead(self) -> PartnerView | None:
        return next((partner for partner in self.partners if partner.is_lead), None)

    def pledge_by_slug(self, slug: str) -> Pledge | None:
        return next((pledge for pledge in self.pledges if pledge.slug == slug), None)

    def partner_by_code(self, code: str) -> PartnerView | None:
        code = code.strip()
        return next((p for p in self.partners if p.referral_code == code), None)

    def partner_by_slug(self, slug: str) -> PartnerView | None:
        return next((p for p in self.partners if p.slug == slug), None)


# --- managing a campaign ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ManagedPledge:
    pledge: Pledge
    signatures: int


@dataclass(frozen=True, slots=True)
class ManagedPartner:
    partner: PartnerView
    referrals: int  # supporters who arrived through this partner's link
    updates: int  # supporters who asked this partner for news

    @property
    def removable(self) -> bool:
        return not self.partner.is_lead and self.referrals == 0 and self.updates == 0


@dataclass(frozen=True, slots=True)
class ManagePage:
    """What the campaign's edit page shows besides the form."""

    view: CampaignView
    pledges: list[ManagedPledge]
    partners: list[ManagedPartner]
    next_statuses: list[CampaignStatus]

    @property
    def campaign(self) -> Campaign:
        return self.view.campaign

    @property
    def pledges_deletable(self) -> bool:
        # Once people could sign, a pledge may carry signatures: it must not vanish.
        return self.view.campaign.status == CampaignStatus.DRAFT


@dataclass(frozen=True, slots=True)
class PartnerAdded:
    partner: CampaignPartner
    org_name: str
    invited: bool  # a new organisation whose first admin was invited by email


# Core handles of the tables, for hot paths and set-based statements (see CONTRIBUTING.md).
campaign_table = table(Campaign)
pledge_table = table(Pledge)
campaign_partner_table = table(CampaignPartner)
