"""Telling reporters the verdict on what they reported: an email, or a WhatsApp message where
WhatsApp is set up, in the language they reported in, queued in the outbox in the same
transaction as the publication (or the correction) that causes it.

A reporter's contact is read for this alone and never shown. A published case keeps its
reporters' contacts (encrypted) for CORRECTION_WINDOW after publication, so that a correction
can reach them; then retention erases them (``privacy.forget_closed_contacts``)."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from pledge import audit, i18n, mail
from pledge.audit import AuditAction
from pledge.config import Settings, get_settings
from pledge.hoaxes.models import HoaxCase, Verdict, hoax_report_table
from pledge.hoaxes.states import CaseStatus, audit_subject
from pledge.security import FieldCipher

# How long after publication a verdict's reporters can still be told of a correction.
CORRECTION_WINDOW = timedelta(days=30)
# Where `pledge serve` answers by default: the links of a message point there when
# PLEDGE_PUBLIC_URL is not set (production refuses to start without it).
DEVELOPMENT_ORIGIN = "http://127.0.0.1:8000"
# Report ids per UPDATE: a viral case has thousands of reporters.
BATCH = 500


def whatsapp_ready(settings: Settings | None = None) -> bool:
    """Whether the site can send a WhatsApp message it starts itself: the Cloud API's token
    and the business number's id are set. Without them a reporter who left a mobile number
    is not written to (the tracking page remains)."""
    settings = settings or get_settings()
    return bool(settings.whatsapp_access_token and settings.whatsapp_phone_number_id)


def site_origin(base_url: str | None = None) -> str:
    """The origin of a message's links: the one given, else PLEDGE_PUBLIC_URL."""
    return (base_url or get_settings().public_url or DEVELOPMENT_ORIGIN).rstrip("/")


@dataclass(frozen=True, slots=True)
class ReporterLinks:
    """Where a reporter's message points: the verdict page and their own tracking page."""

    origin: str

    def verdict(self, case_id: int) -> str:
        return f"{self.origin}/hoaxes/{case_id}"

    def tracking(self, code: str) -> str:
        return f"{self.origin}/reports/{code}"


@contextmanager
def _speaking(locale: str) -> Iterator[None]:
    """Translate in the reporter's language for a while (the verdict's meaning is translated
    by its enum, in the current language), then go back to the request's."""
    before = i18n.get_locale()
    i18n.set_locale(locale)
    try:
        yield
    finally:
        i18n.set_locale(before)


def verdict_message(
    case: HoaxCase, *, locale: str, code: str, links: ReporterLinks, corrected: bool = False
) -> tuple[str, str]:
    """The subject and text that tell a reporter the verdict on their report (or that it was
    corrected), in their language."""
    with _speaking(locale):
        _ = i18n.gettext
        label = Verdict(case.label) if case.label else None
        values = {
            "label": label.value if label else "",
            "meaning": label.label if label else "",
            "claim": case.public_title,
            "correction": case.correction,
            "verdict": links.verdict(case.id or 0),
            "tracking": links.tracking(code),
            "code": code,
        }
        if corrected:
            subject = _("The verdict on your hoax report was corrected: %(label)s")
            opening = _(
                "Moderators corrected the verdict on the hoax you reported. "
                "This is the verdict now:"
            )
        else:
            subject = _("Your hoax report was checked: %(label)s")
            opening = _(
                "Thank you for your report. Moderators of the partner organisations checked it, "
                "and a second moderator approved the verdict:"
            )
        parts = [opening, "%(label)s (%(meaning)s)\n“%(claim)s”"]
        if case.correction:
            parts.append(_("In fact: %(correction)s"))
        parts.append(_("The verdict, to share with whoever sent it to you:\n%(verdict)s"))
        parts.append(_("Your report (tracking code %(code)s):\n%(tracking)s"))
        return subject % values, "\n\n".join(part % values for part in parts)


def _channel(contact: str) -> mail.Channel:
    """A reporter's contact is an email address or a mobile number in E.164."""
    return mail.Channel.EMAIL if "@" in contact else mail.Channel.WHATSAPP


def _reports_to_tell(
    session: Session, *, case_id: int, corrected: bool, report_ids: Collection[int] | None
) -> Sequence[Any]:
    """The reports of the case that still hold a contact: all of them for a correction, those
    not yet told otherwise (a verdict is told once)."""
    report = hoax_report_table
    query = sa.select(
        report.c.id, report.c.tracking_code, report.c.contact_encrypted, report.c.locale
    ).where(report.c.case_id == case_id, report.c.contact_encrypted.is_not(None))
    if not corrected:
        query = query.where(report.c.notified_at.is_(None))
    if report_ids is not None:
        query = query.where(report.c.id.in_(list(report_ids)))
    return session.execute(query.order_by(report.c.id)).all()


def tell_reporters(
    session: Session,
    *,
    case: HoaxCase,
    now: datetime,
    corrected: bool = False,
    actor_id: int | None = None,
    base_url: str | None = None,
    report_ids: Collection[int] | None = None,
) -> int:
    """Queue, in the caller's write transaction, one message to every reporter of a published
    (or being published) case who left a contact: the verdict, or with ``corrected`` the
    correction; mark their reports told and record how many were (never who). Runs before
    any contact is erased. ``report_ids`` narrows it to these reports (one that joins a
    published case). How many were told."""
    rows = _reports_to_tell(
        session, case_id=case.id or 0, corrected=corrected, report_ids=report_ids
    )
    cipher = FieldCipher(get_settings().secret_key)
    links = ReporterLinks(site_origin(base_url))
    can_whatsapp = whatsapp_ready()
    messages: list[dict[str, Any]] = []
    told: list[int] = []
    for row in rows:
        contact = cipher.decrypt(row.contact_encrypted)
        if not contact:  # sealed with another secret key: nobody can be written to
            continue
        channel = _channel(contact)
        if channel == mail.Channel.WHATSAPP and not can_whatsapp:
            continue
        subject, text = verdict_message(
            case, locale=row.locale, code=row.tracking_code, links=links, corrected=corrected
        )
        body = text if channel == mail.Channel.EMAIL else f"{subject}\n\n{text}"
        messages.append(mail.outbox_row(to=contact, subject=subject, body=body, channel=channel))
        told.append(row.id)
    if messages:
        mail.queue_rows(session.connection(), messages)
        _mark_told(session, told, now=now)
    if report_ids is None or told:
        audit.record(
            session,
            actor_id=actor_id,
            action=AuditAction.CASE_NOTIFY,
            subject=audit_subject(case.id or 0),
            data={"told": len(told), "corrected": corrected},
        )
    return len(told)


def _mark_told(session: Session, report_ids: list[int], *, now: datetime) -> None:
    report = hoax_report_table
    for start in range(0, len(report_ids), BATCH):
        session.execute(
            sa.update(report)
            .where(report.c.id.in_(report_ids[start : start + BATCH]))
            .values(notified_at=now)
        )


def keeps_contacts(status: CaseStatus) -> bool:
    """Whether a case closing in this status keeps its reporters' contacts a while: only a
    published verdict does, for a correction to reach them (CORRECTION_WINDOW)."""
    return status == CaseStatus.PUBLISHED
