"""What the site holds about one contact: its signatures, the hoax reports that kept it, staff
accounts with its address and the emails sent to it. Reads only; the requests that show,
copy or erase it (pledge.privacy.requests) audit what they do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlmodel import Session

from pledge import mail
from pledge.accounts import service as accounts
from pledge.accounts.models import Role
from pledge.campaigns import service as campaigns
from pledge.campaigns.service import CampaignTitle
from pledge.config import get_settings
from pledge.contacts import supporter_digest
from pledge.hoaxes import service as hoaxes
from pledge.hoaxes.states import CaseStatus
from pledge.provinces import PROVINCES
from pledge.security import FieldCipher, contact_digest
from pledge.supporters import service as supporters

REFERENCE_LENGTH = 12  # hex digits of the contact's digest kept in the audit log


# --- what was found ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FoundSupporter:
    id: int
    campaign_id: int
    campaign_slug: str
    campaign_title: str
    token: str  # the supporter's own withdrawal handle: used to withdraw, never shown
    name: str
    province: str
    age_band: str | None
    show_name: bool
    pledges: list[str]
    created_at: datetime
    referred_by: str | None  # the partner organisation whose link they came through
    updates_from: str | None  # the partner organisation they asked for news
    contact_for_updates: str | None  # kept (encrypted) for that partner, decrypted here
    friends: int  # supporters who signed through their personal invite link
    # Where the signature came from, kept for the abuse console until retention removes it.
    network: str | None = None
    email_domain: str | None = None

    @property
    def province_name(self) -> str:
        return PROVINCES.get(self.province, self.province)


@dataclass(frozen=True, slots=True)
class FoundReport:
    id: int
    tracking_code: str
    campaign_slug: str
    campaign_title: str
    case_id: int
    case_status: CaseStatus
    url: str | None
    platform: str
    category: str
    description: str
    province: str | None
    seen_on: date | None
    created_at: datetime
    contact: str


@dataclass(frozen=True, slots=True)
class FoundStaff:
    id: int
    email: str
    display_name: str
    is_active: bool
    is_site_admin: bool
    created_at: datetime
    last_login_at: datetime | None
    organisations: list[tuple[str, Role]] = field(default_factory=list)  # (name, role)


@dataclass(frozen=True, slots=True)
class FoundMessage:
    id: int
    subject: str
    created_at: datetime
    sent_at: datetime | None
    attempts: int


@dataclass(frozen=True, slots=True)
class Findings:
    contact: str  # normalised
    digest: str
    supporters: list[FoundSupporter]
    reports: list[FoundReport]
    staff: list[FoundStaff]
    messages: list[FoundMessage]

    @property
    def reference(self) -> str:
        """How the audit log names this contact."""
        return self.digest[:REFERENCE_LENGTH]

    @property
    def is_empty(self) -> bool:
        return not (self.supporters or self.reports or self.staff or self.messages)

    def counts(self) -> dict[str, int]:
        return {
            "supporters": len(self.supporters),
            "campaigns": len({s.campaign_id for s in self.supporters}),
            "reports": len(self.reports),
            "staff": len(self.staff),
            "messages": len(self.messages),
        }


# --- finding -----------------------------------------------------------------------------


def find(session: Session, *, contact: str) -> Findings:
    """Everything stored about a normalised contact. Reads only; not audited by itself."""
    settings = get_settings()
    digest = supporter_digest(settings.secret_key, contact)
    # Supporters whose contact was not stored when contacts came to be recognised by their
    # key kept the digest of the contact lower-cased (nothing could recompute it): found too.
    digests = list(dict.fromkeys([digest, contact_digest(settings.secret_key, contact.lower())]))
    cipher = FieldCipher(settings.secret_key)
    is_email = "@" in contact
    titles = campaigns.list_titles(session)
    findings = Findings(
        contact=contact,
        digest=digest,
        supporters=_find_supporters(session, digests=digests, cipher=cipher, titles=titles),
        reports=_find_reports(session, contact=contact, cipher=cipher, titles=titles),
        # Staff addresses and the outbox are matched lower-cased, as accounts store them.
        staff=_find_staff(session, email=contact.lower()) if is_email else [],
        # Emails to the address, and WhatsApp replies to the number (kept as E.164).
        messages=_find_messages(session, email=contact.lower()),
    )
    session.commit()  # end the read
    return findings


def _find_supporters(
    session: Session, *, digests: list[str], cipher: FieldCipher, titles: dict[int, CampaignTitle]
) -> list[FoundSupporter]:
    found = {
        row.id: row
        for digest in digests
        for row in supporters.list_by_digest(session, digest=digest, campaign_ids=list(titles))
    }
    rows = sorted(found.values(), key=lambda row: (row.created_at, row.id))
    if not rows:
        return []
    ids = [row.id for row in rows]
    partner_names = campaigns.get_partner_names(
        session,
        partner_ids={
            pid
            for row in rows
            for pid in (row.referrer_id, row.updates_partner_id)
            if pid is not None
        },
    )
    pledges = supporters.list_signed_pledge_texts(session, supporter_ids=ids)
    friends = supporters.count_invited(session, supporter_ids=ids)
    return [
        FoundSupporter(
            id=row.id,
            campaign_id=row.campaign_id,
            campaign_slug=titles[row.campaign_id].slug,
            campaign_title=titles[row.campaign_id].title,
            token=row.token,
            name=row.display_name,
            province=row.province,
            age_band=row.age_band,
            show_name=bool(row.show_name),
            pledges=pledges.get(row.id, []),
            created_at=row.created_at,
            referred_by=partner_names.get(row.referrer_id),
            updates_from=partner_names.get(row.updates_partner_id),
            contact_for_updates=(
                cipher.decrypt(row.contact_encrypted) if row.contact_encrypted else None
            ),
            friends=int(friends.get(row.id, 0)),
            network=row.network,
            email_domain=row.email_domain,
        )
        for row in rows
    ]


def _find_reports(
    session: Session, *, contact: str, cipher: FieldCipher, titles: dict[int, CampaignTitle]
) -> list[FoundReport]:
    rows = hoaxes.list_reports_by_contact(session, contact=contact, cipher=cipher)
    return [
        FoundReport(
            id=row.id,
            tracking_code=row.tracking_code,
            campaign_slug=titles[row.campaign_id].slug,
            campaign_title=titles[row.campaign_id].title,
            case_id=row.case_id,
            case_status=CaseStatus(row.case_status),
            url=row.url,
            platform=str(getattr(row.platform, "value", row.platform)),
            category=str(getattr(row.category, "value", row.category)),
            description=row.description,
            province=row.province,
            seen_on=row.seen_on,
            created_at=row.created_at,
            # As the reporter wrote it: the search may have named it another way.
            contact=cipher.decrypt(row.contact_encrypted) or contact,
        )
        for row in rows
    ]


def _find_staff(session: Session, *, email: str) -> list[FoundStaff]:
    users = accounts.list_users(session, email=email)  # stored lower-cased
    return [
        FoundStaff(
            id=user.id or 0,
            email=user.email,
            display_name=user.display_name,
            is_active=user.is_active,
            is_site_admin=user.is_site_admin,
            created_at=user.created_at,
            last_login_at=user.last_login_at,
            organisations=[
                (item.org.name, item.role)
                for item in accounts.list_memberships(session, user_id=user.id or 0)
            ],
        )
        for user in users
    ]


def _find_messages(session: Session, *, email: str) -> list[FoundMessage]:
    rows = mail.list_messages_to(session, email=email)
    return [
        FoundMessage(
            id=row.id,
            subject=row.subject,
            created_at=row.created_at,
            sent_at=row.sent_at,
            attempts=row.attempts,
        )
        for row in rows
    ]
