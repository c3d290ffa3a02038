"""Requests people make about their own data (UU PDP): what the site holds about a contact,
a copy of it, and its erasure. Used by the site's administrators on the person's behalf.

The contact itself never reaches the audit log: events name it by the first characters of its
digest, which a later search for the same contact shows again.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from pledge import audit, contacts
from pledge.accounts import service as accounts
from pledge.accounts.models import Role, User, organization_table
from pledge.audit import AuditEvent
from pledge.campaigns.models import (
    Campaign,
    campaign_partner_table,
    campaign_table,
    pledge_table,
)
from pledge.config import get_settings
from pledge.db import utcnow, writing
from pledge.errors import Invalid, NotFound
from pledge.hoaxes.models import hoax_case_table, hoax_report_table
from pledge.i18n import gettext as _
from pledge.mail import outbox_message_table
from pledge.provinces import PROVINCES
from pledge.security import FieldCipher, contact_digest
from pledge.supporters import service as supporters
from pledge.supporters.models import signature_table, supporter_table

BATCH = 1000
REASON_MAX = 500
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
    case_status: str
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


@dataclass(frozen=True, slots=True)
class DataExport:
    filename: str
    content: bytes


@dataclass(frozen=True, slots=True)
class StaffLink:
    id: int
    email: str


@dataclass(frozen=True, slots=True)
class Erasure:
    """What an erasure did, as its audit event recorded it."""

    event_id: int
    reference: str
    supporters: int  # signatures withdrawn
    campaigns: int
    reporter_contacts: int
    messages: int  # unsent emails deleted
    staff: list[StaffLink]  # accounts left for an administrator to deal with


# --- input -------------------------------------------------------------------------------


def parse_contact(raw: str) -> str:
    """The contact as signing and reporting store it; Invalid with a message when it is not one."""
    try:
        return contacts.normalise_contact(raw)
    except contacts.ContactError as error:
        raise Invalid({"contact": str(error)}) from None


_EMAIL_LIKE = re.compile(r"[^\s@<>()\"',;]+@[^\s@<>()\"',;]+")
_NUMBER_LIKE = re.compile(r"\+?\d[\d\s().-]*\d")


def scrub(text: str) -> str:
    """A reason without any email address or phone number typed into it: the audit log keeps
    the reason, and must not keep the contact."""
    text = _EMAIL_LIKE.sub("[…]", text)
    # Dates have 8 digits at most; Indonesian mobile numbers have 10 or more.
    return _NUMBER_LIKE.sub(
        lambda found: "[…]" if sum(c.isdigit() for c in found.group()) >= 9 else found.group(),
        text,
    )


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
            case_status=str(getattr(row.case_status, "value", row.case_status)),
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


# --- the three requests ------------------------------------------------------------------


def _record(
    session: Session, *, actor: User, action: str, findings: Findings, **extra: Any
) -> AuditEvent:
    reason = extra.pop("reason", "")
    return audit.record(
        session,
        actor_id=actor.id,
        action=action,
        subject=f"contact:{findings.reference}",
        reason=reason,
        data={"reference": findings.reference, **findings.counts(), **extra},
    )


def search(session: Session, *, actor: User, raw: str) -> Findings:
    """What the site holds about a contact, for an administrator to show; audited."""
    findings = find(session, contact=parse_contact(raw))
    with writing(session):
        _record(session, actor=actor, action="privacy.search", findings=findings)
    return findings


def export(session: Session, *, actor: User, raw: str) -> DataExport:
    """A copy of everything stored about a contact, as JSON for the person; audited first."""
    findings = find(session, contact=parse_contact(raw))
    with writing(session):
        _record(session, actor=actor, action="privacy.export", findings=findings)
    now = utcnow()
    document = {
        "site": get_settings().site_name,
        "generated_at": now.isoformat(),
        "contact": findings.contact,
        "signatures": [_signature_entry(s) for s in findings.supporters],
        "hoax_reports": [_report_entry(r) for r in findings.reports],
        "staff_accounts": [_staff_entry(u) for u in findings.staff],
        # Subjects and times only: an unsent body holds a working one-time link, which is
        # for the mailbox's owner and not for whoever handles the file.
        "emails": [
            {
                "subject": m.subject,
                "queued_at": m.created_at.isoformat(),
                "sent_at": m.sent_at.isoformat() if m.sent_at else None,
            }
            for m in findings.messages
        ],
    }
    content = json.dumps(document, ensure_ascii=False, indent=2).encode()
    filename = f"personal-data-{findings.reference}-{now:%Y%m%d}.json"
    return DataExport(filename=filename, content=content)


def _signature_entry(s: FoundSupporter) -> dict[str, Any]:
    """One signature as the person's copy of their data shows it."""
    return {
        "campaign": {"slug": s.campaign_slug, "title": s.campaign_title},
        "name": s.name,
        "province": {"code": s.province, "name": s.province_name},
        "age_group": s.age_band,
        "name_shown_publicly": s.show_name,
        "pledges": s.pledges,
        "signed_at": s.created_at.isoformat(),
        "came_through_partner": s.referred_by,
        "updates_from_partner": s.updates_from,
        "contact_kept_for_updates": s.contact_for_updates,
        "friends_invited": s.friends,
    }


def _report_entry(r: FoundReport) -> dict[str, Any]:
    """One hoax report as the person's copy of their data shows it."""
    return {
        "tracking_code": r.tracking_code,
        "campaign": {"slug": r.campaign_slug, "title": r.campaign_title},
        "case_status": r.case_status,
        "url": r.url,
        "platform": r.platform,
        "category": r.category,
        "description": r.description,
        "province": r.province,
        "seen_on": r.seen_on.isoformat() if r.seen_on else None,
        "sent_at": r.created_at.isoformat(),
        "contact": r.contact,
    }


def _staff_entry(u: FoundStaff) -> dict[str, Any]:
    """One staff account as the person's copy of their data shows it."""
    return {
        "email": u.email,
        "name": u.display_name,
        "active": u.is_active,
        "site_administrator": u.is_site_admin,
        "created_at": u.created_at.isoformat(),
        "last_sign_in": u.last_login_at.isoformat() if u.last_login_at else None,
        "organisations": [{"name": name, "role": role.value} for name, role in u.organisations],
    }


def erase(session: Session, *, actor: User, raw: str, reason: str) -> Erasure:
    """Withdraw every signature of a contact (the counts go down), remove it from hoax reports
    and delete the emails to it not sent yet. Staff accounts stay, for an administrator to
    deactivate on their own page. Safe to repeat: a second erasure finds what is left."""
    contact, reason = _erasure_input(raw, reason)
    findings = find(session, contact=contact)
    withdrawn, campaign_ids = _withdraw_all(session, findings)
    with writing(session):
        cleared = _clear_reporter_contacts(session, [r.id for r in findings.reports])
        deleted = _delete_unsent(session, [m.id for m in findings.messages])
        event = _record(
            session,
            actor=actor,
            action="privacy.erase",
            findings=findings,
            reason=scrub(reason),
            withdrawn=withdrawn,
            campaign_ids=sorted(campaign_ids),
            reporter_contacts=cleared,
            messages_deleted=deleted,
            staff_user_ids=[u.id for u in findings.staff],
        )
        session.flush()
        event_id = event.id or 0
    return Erasure(
        event_id=event_id,
        reference=findings.reference,
        supporters=withdrawn,
        campaigns=len(campaign_ids),
        reporter_contacts=cleared,
        messages=deleted,
        staff=[StaffLink(id=u.id, email=u.email) for u in findings.staff],
    )


def _erasure_input(raw: str, reason: str) -> tuple[str, str]:
    """The contact and the reason of an erasure request, or Invalid naming what is wrong."""
    errors: dict[str, str] = {}
    contact = ""
    try:
        contact = parse_contact(raw)
    except Invalid as error:
        errors.update(error.errors)
    reason = " ".join(reason.split())
    if not reason:
        errors["reason"] = _("Give a reason for the audit log.")
    elif len(reason) > REASON_MAX:
        errors["reason"] = _("Keep the reason to at most 500 characters.")
    if errors:
        raise Invalid(errors)
    return contact, reason


def _withdraw_all(session: Session, findings: Findings) -> tuple[int, set[int]]:
    """Withdraw each signature found, as the person could themselves; how many were withdrawn
    and in which campaigns."""
    withdrawn = 0
    campaign_ids: set[int] = set()
    for found in findings.supporters:
        campaign = session.get(Campaign, found.campaign_id)
        if campaign is None:
            continue
        try:
            supporters.withdraw(session, campaign=campaign, token=found.token)
        except NotFound:  # withdrawn by the person in the meantime
            continue
        withdrawn += 1
        campaign_ids.add(found.campaign_id)
    return withdrawn, campaign_ids


def _clear_reporter_contacts(session: Session, report_ids: list[int]) -> int:
    """Remove the stored contact from these hoax reports; how many still had one."""
    if not report_ids:
        return 0
    cleared = session.execute(
        sa.update(hoax_report_table)
        .where(
            hoax_report_table.c.id.in_(report_ids),
            hoax_report_table.c.contact_encrypted.is_not(None),
        )
        .values(contact_encrypted=None)
    ).rowcount  # type: ignore[attr-defined]
    return int(cleared)


def _delete_unsent(session: Session, message_ids: list[int]) -> int:
    """Delete these emails if they are not sent yet; how many were deleted."""
    if not message_ids:
        return 0
    # A message being sent right now (sent_at set by its sender's claim) is let go.
    deleted = session.execute(
        sa.delete(outbox_message_table).where(
            outbox_message_table.c.id.in_(message_ids), outbox_message_table.c.sent_at.is_(None)
        )
    ).rowcount  # type: ignore[attr-defined]
    return int(deleted)


def get_erasure(session: Session, *, event_id: int) -> Erasure | None:
    """An erasure's outcome from its audit event, to show after the redirect."""
    event = session.get(AuditEvent, event_id)
    if event is None or event.action != "privacy.erase":
        return None
    data = json.loads(event.data or "{}")
    staff_ids = [int(i) for i in data.get("staff_user_ids", [])]
    staff = (
        [
            StaffLink(id=user.id or 0, email=user.email)
            for user in session.exec(select(User).where(col(User.id).in_(staff_ids)))
        ]
        if staff_ids
        else []
    )
    return Erasure(
        event_id=event_id,
        reference=str(data.get("reference", "")),
        supporters=int(data.get("withdrawn", 0)),
        campaigns=len(data.get("campaign_ids", [])),
        reporter_contacts=int(data.get("reporter_contacts", 0)),
        messages=int(data.get("messages_deleted", 0)),
        staff=staff,
    )
