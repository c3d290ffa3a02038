"""Writing to a reporter: the contacts a case's moderators may see (only of reporters who
allowed it, only while the case is open), and a moderator's message queued in the outbox, in
the reporter's language, with the link to their report's page.

Any moderator who sees the case may write, whoever holds it: a message changes nothing in the
case, and lands in its history with its text."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlmodel import Session

from pledge import audit, forms, mail
from pledge.audit import AuditAction
from pledge.config import Settings, get_settings
from pledge.db import writing
from pledge.errors import Conflict, NotFound
from pledge.forms import PostedForm, posted
from pledge.hoaxes.models import HoaxCase, HoaxReport
from pledge.hoaxes.states import CaseStatus
from pledge.i18n import gettext as _
from pledge.i18n import translations
from pledge.mail import Channel
from pledge.moderation.service.cases import locked_case, subject
from pledge.security import FieldCipher

if TYPE_CHECKING:
    from pledge.accounts.access import ModeratorContext

MESSAGE_MAX = 2000


@dataclass(frozen=True, slots=True)
class ReporterContact:
    """A reporter's contact as the case page shows it to the case's moderators."""

    report_id: int
    contact: str
    channel: Channel
    sendable: bool  # the site can send on this channel (WhatsApp needs the Cloud API)


def whatsapp_ready(settings: Settings) -> bool:
    """The site sends WhatsApp messages through the Cloud API (not only to the log)."""
    return bool(settings.whatsapp_access_token and settings.whatsapp_phone_number_id)


def channel_of(contact: str) -> Channel:
    """A stored contact is an email address or a mobile number in E.164 (pledge.contacts)."""
    return Channel.WHATSAPP if contact.startswith("+") else Channel.EMAIL


def _contact(case: HoaxCase, report: HoaxReport, cipher: FieldCipher) -> str | None:
    """The reporter's contact, when moderators may write to them about this case now."""
    if case.status in CaseStatus.CLOSED or not report.may_contact or not report.contact_encrypted:
        return None
    return cipher.decrypt(report.contact_encrypted)


def reporter_contacts(case: HoaxCase, reports: Iterable[HoaxReport]) -> dict[int, ReporterContact]:
    """The contacts of the reports that allowed moderators to write, by report id; none once
    the case is closed (the contacts are deleted then)."""
    settings = get_settings()
    cipher = FieldCipher(settings.secret_key)
    found = {}
    for report in reports:
        contact = _contact(case, report, cipher)
        if contact:
            channel = channel_of(contact)
            sendable = channel == Channel.EMAIL or whatsapp_ready(settings)
            found[report.id or 0] = ReporterContact(report.id or 0, contact, channel, sendable)
    return found


@dataclass(frozen=True, slots=True)
class MessageForm(PostedForm):
    """A moderator's message to a reporter, as posted."""

    message: str = posted(limit=MESSAGE_MAX * 2)

    def check(self) -> str:
        return forms.field(
            "message",
            forms.text,
            self.message.replace("\r\n", "\n"),
            max_length=MESSAGE_MAX,
            required=_("Write the message to the reporter."),
            too_long=_("Keep the message to %(max)s characters.") % {"max": MESSAGE_MAX},
        )


def reporter_message(*, locale: str, message: str, link: str) -> tuple[str, str]:
    """The subject and body a reporter is sent, in the language they reported in."""
    t = translations(locale)
    values = {"site": get_settings().site_name, "message": message, "link": link}
    subject_line = t.gettext("A moderator writes about your hoax report")
    body = t.gettext(
        "A moderator of %(site)s who is checking the hoax you reported writes to you:\n\n"
        "%(message)s\n\n"
        "Your report's page, where you can answer when the moderators ask a question:\n"
        "%(link)s\n\n"
        "You get this message because you allowed moderators to write to you about your "
        "report. Your contact is deleted when the report's case is closed."
    )
    return subject_line, body % values


def _writable(session: Session, case: HoaxCase, report_id: int) -> tuple[HoaxReport, str]:
    """The report of this case and its contact; NotFound or Conflict, with why, otherwise."""
    report = session.get(HoaxReport, report_id)
    if report is None or report.case_id != case.id:
        raise NotFound(_("We could not find that report in this case."))
    if case.status in CaseStatus.CLOSED:
        raise Conflict(
            _(
                "This case is closed: its reporters' contacts are deleted, so nobody can be written to."
            )
        )
    contact = _contact(case, report, FieldCipher(get_settings().secret_key))
    if not contact:
        raise Conflict(_("This reporter did not allow moderators to write to them."))
    if channel_of(contact) == Channel.WHATSAPP and not whatsapp_ready(get_settings()):
        raise Conflict(
            _(
                "This reporter left a mobile number, but this site cannot send WhatsApp "
                "messages: its operator has not connected the WhatsApp Cloud API."
            )
        )
    return report, contact


def message_reporter(
    session: Session,
    *,
    access: ModeratorContext,
    case_id: int,
    report_id: int,
    form: MessageForm,
    status_url: Callable[[str], str],
) -> Channel:
    """Queue a moderator's message to a reporter who allowed it, and keep it in the case's
    history. Checks, in order: the case is visible and the report is one of its own (404),
    the case is open, the reporter allowed it and the site can reach them (409), the message
    (422). ``status_url`` makes the absolute link of a report's page from its tracking code."""
    with writing(session):
        case = locked_case(session, access, case_id)
        report, contact = _writable(session, case, report_id)
        text = form.check()
        channel = channel_of(contact)
        subject_line, body = reporter_message(
            locale=report.locale, message=text, link=status_url(report.tracking_code)
        )
        row = mail.outbox_row(to=contact, subject=subject_line, body=body, channel=channel)
        mail.queue_rows(session.connection(), [row])
        audit.record(
            session,
            actor_id=access.user.id,
            action=AuditAction.CASE_MESSAGE,
            subject=subject(case_id),
            reason=text,
            data={"report": report.id, "channel": channel.value},
        )
    return channel
