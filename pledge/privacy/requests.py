"""Requests people make about their own data (UU PDP): what the site holds about a contact,
a copy of it, and its erasure. Used by the site's administrators on the person's behalf.

The contact itself never reaches the audit log: events name it by the first characters of its
digest, which a later search for the same contact shows again.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from pledge import audit, mail
from pledge.accounts import service as accounts
from pledge.accounts.models import User
from pledge.audit import AuditAction, AuditEvent
from pledge.campaigns import service as campaigns
from pledge.config import get_settings
from pledge.db import utcnow, writing
from pledge.errors import NotFound
from pledge.hoaxes import service as hoaxes
from pledge.privacy.findings import Findings, FoundReport, FoundStaff, FoundSupporter, find
from pledge.privacy.forms import ContactForm, ErasureForm
from pledge.supporters import service as supporters


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
    return ContactForm(contact=raw).check()


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


# --- the three requests ------------------------------------------------------------------


def _record(
    session: Session, *, actor: User, action: AuditAction, findings: Findings, **extra: Any
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
        _record(session, actor=actor, action=AuditAction.PRIVACY_SEARCH, findings=findings)
    return findings


def export(session: Session, *, actor: User, raw: str) -> DataExport:
    """A copy of everything stored about a contact, as JSON for the person; audited first."""
    findings = find(session, contact=parse_contact(raw))
    with writing(session):
        _record(session, actor=actor, action=AuditAction.PRIVACY_EXPORT, findings=findings)
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
        "signed_from_network": s.network,
        "email_domain": s.email_domain,
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


def erase(session: Session, *, actor: User, form: ErasureForm) -> Erasure:
    """Withdraw every signature of a contact (the counts go down), remove it from hoax reports
    and delete the emails to it not sent yet. Staff accounts stay, for an administrator to
    deactivate on their own page. Safe to repeat: a second erasure finds what is left."""
    asked = form.check()
    contact, reason = asked.contact, asked.reason
    findings = find(session, contact=contact)
    withdrawn, campaign_ids = _withdraw_all(session, findings)
    with writing(session):
        cleared = hoaxes.clear_contacts(session, report_ids=[r.id for r in findings.reports])
        deleted = mail.delete_unsent(session, message_ids=[m.id for m in findings.messages])
        event = _record(
            session,
            actor=actor,
            action=AuditAction.PRIVACY_ERASE,
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


def _withdraw_all(session: Session, findings: Findings) -> tuple[int, set[int]]:
    """Withdraw each signature found, as the person could themselves; how many were withdrawn
    and in which campaigns."""
    withdrawn = 0
    campaign_ids: set[int] = set()
    for found in findings.supporters:
        campaign = campaigns.get_or_none(session, found.campaign_id)
        if campaign is None:
            continue
        try:
            supporters.withdraw(session, campaign=campaign, token=found.token)
        except NotFound:  # withdrawn by the person in the meantime
            continue
        withdrawn += 1
        campaign_ids.add(found.campaign_id)
    return withdrawn, campaign_ids


def get_erasure(session: Session, *, event_id: int) -> Erasure | None:
    """An erasure's outcome from its audit event, to show after the redirect."""
    event = audit.get_event(session, event_id)
    if event is None or event.action != AuditAction.PRIVACY_ERASE:
        return None
    data = json.loads(event.data or "{}")
    staff_ids = [int(i) for i in data.get("staff_user_ids", [])]
    staff = (
        [
            StaffLink(id=user.id or 0, email=user.email)
            for user in accounts.list_users(session, ids=staff_ids)
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
