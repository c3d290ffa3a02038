"""What the site holds about one contact: its signatures, the hoax reports that kept it, staff
accounts with its address and the emails sent to it. Reads only; the requests that show,
copy or erase it (pledge.privacy.requests) audit what they do.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from pledge.accounts import service as accounts
from pledge.accounts.models import Role, User, organization_table
from pledge.campaigns.models import campaign_partner_table, campaign_table, pledge_table
from pledge.config import get_settings
from pledge.hoaxes.models import hoax_case_table, hoax_report_table
from pledge.hoaxes.states import CaseStatus
from pledge.mail import outbox_message_table
from pledge.provinces import PROVINCES
from pledge.security import FieldCipher, contact_digest
from pledge.supporters.models import signature_table, supporter_table

BATCH = 1000
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
    digest = contact_digest(settings.secret_key, contact)
    cipher = FieldCipher(settings.secret_key)
    is_email = "@" in contact
    findings = Findings(
        contact=contact,
        digest=digest,
        supporters=_find_supporters(session, digest=digest, cipher=cipher),
        reports=_find_reports(session, contact=contact, cipher=cipher),
        staff=_find_staff(session, email=contact) if is_email else [],
        messages=_find_messages(session, email=contact) if is_email else [],
    )
    session.commit()  # end the read
    return findings


def _find_supporters(session: Session, *, digest: str, cipher: FieldCipher) -> list[FoundSupporter]:
    rows = _supporter_rows(session, digest=digest)
    if not rows:
        return []
    ids = [row.id for row in rows]
    partner_names = _partner_names(
        session,
        {
            pid
            for row in rows
            for pid in (row.referrer_id, row.updates_partner_id)
            if pid is not None
        },
    )
    pledges = _pledge_texts(session, ids)
    friends = _friend_counts(session, ids)
    return [
        FoundSupporter(
            id=row.id,
            campaign_id=row.campaign_id,
            campaign_slug=row.c_slug,
            campaign_title=row.c_title,
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
        )
        for row in rows
    ]


def _supporter_rows(session: Session, *, digest: str) -> Sequence[sa.Row[Any]]:
    """Every supporter row with this contact digest, in any campaign, with its campaign's
    slug and title, oldest first."""
    # Supporters are indexed by (campaign, digest): naming every campaign lets the database
    # look the digest up in that index instead of reading the whole table.
    campaign_ids = list(session.execute(sa.select(campaign_table.c.id)).scalars())
    if not campaign_ids:
        return []
    return session.execute(
        sa.select(
            supporter_table,
            campaign_table.c.slug.label("c_slug"),
            campaign_table.c.title.label("c_title"),
        )
        .join(campaign_table, campaign_table.c.id == supporter_table.c.campaign_id)
        .where(
            supporter_table.c.campaign_id.in_(campaign_ids),
            supporter_table.c.contact_digest == digest,
        )
        .order_by(supporter_table.c.created_at, supporter_table.c.id)
    ).all()


def _partner_names(session: Session, partner_ids: set[int]) -> dict[int, str]:
    """The organisation's name behind each of these campaign partners."""
    if not partner_ids:
        return {}
    return dict(
        session.execute(
            sa.select(campaign_partner_table.c.id, organization_table.c.name)
            .join(organization_table, organization_table.c.id == campaign_partner_table.c.org_id)
            .where(campaign_partner_table.c.id.in_(partner_ids))
        ).all()
    )


def _pledge_texts(session: Session, supporter_ids: list[int]) -> dict[int, list[str]]:
    """The text of each pledge these supporters signed, in the campaign's order."""
    pledges: dict[int, list[str]] = {}
    for supporter_id, text in session.execute(
        sa.select(signature_table.c.supporter_id, pledge_table.c.text)
        .join(pledge_table, pledge_table.c.id == signature_table.c.pledge_id)
        .where(signature_table.c.supporter_id.in_(supporter_ids))
        .order_by(pledge_table.c.position, pledge_table.c.id)
    ):
        pledges.setdefault(supporter_id, []).append(text)
    return pledges


def _friend_counts(session: Session, supporter_ids: list[int]) -> dict[int, int]:
    """How many supporters signed through each of these supporters' invite links."""
    return dict(
        session.execute(
            sa.select(supporter_table.c.invited_by_id, sa.func.count())
            .where(supporter_table.c.invited_by_id.in_(supporter_ids))
            .group_by(supporter_table.c.invited_by_id)
        ).all()
    )


def _find_reports(session: Session, *, contact: str, cipher: FieldCipher) -> list[FoundReport]:
    # Reporters' contacts are encrypted with a random IV, so they cannot be looked up: every
    # stored one is decrypted and compared. Only open cases keep contacts, so there are few.
    matched: list[int] = []
    after = 0
    while True:
        batch = session.execute(
            sa.select(hoax_report_table.c.id, hoax_report_table.c.contact_encrypted)
            .where(
                hoax_report_table.c.contact_encrypted.is_not(None), hoax_report_table.c.id > after
            )
            .order_by(hoax_report_table.c.id)
            .limit(BATCH)
        ).all()
        if not batch:
            break
        matched += [row.id for row in batch if cipher.decrypt(row.contact_encrypted) == contact]
        after = batch[-1].id
    if not matched:
        return []
    rows = session.execute(
        sa.select(
            hoax_report_table,
            campaign_table.c.slug.label("c_slug"),
            campaign_table.c.title.label("c_title"),
            hoax_case_table.c.status.label("case_status"),
        )
        .join(campaign_table, campaign_table.c.id == hoax_report_table.c.campaign_id)
        .join(hoax_case_table, hoax_case_table.c.id == hoax_report_table.c.case_id)
        .where(hoax_report_table.c.id.in_(matched))
        .order_by(hoax_report_table.c.id)
    ).all()
    return [
        FoundReport(
            id=row.id,
            tracking_code=row.tracking_code,
            campaign_slug=row.c_slug,
            campaign_title=row.c_title,
            case_id=row.case_id,
            case_status=CaseStatus(row.case_status),
            url=row.url,
            platform=str(getattr(row.platform, "value", row.platform)),
            category=str(getattr(row.category, "value", row.category)),
            description=row.description,
            province=row.province,
            seen_on=row.seen_on,
            created_at=row.created_at,
            contact=contact,
        )
        for row in rows
    ]


def _find_staff(session: Session, *, email: str) -> list[FoundStaff]:
    users = session.exec(select(User).where(User.email == email)).all()  # stored lower-cased
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
    rows = session.execute(
        sa.select(
            outbox_message_table.c.id,
            outbox_message_table.c.subject,
            outbox_message_table.c.created_at,
            outbox_message_table.c.sent_at,
            outbox_message_table.c.attempts,
        )
        .where(sa.func.lower(sa.func.trim(outbox_message_table.c.to)) == email)
        .order_by(outbox_message_table.c.id)
    ).all()
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
