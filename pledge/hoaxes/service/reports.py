"""Taking a hoax report: joining the report to the case of the same thing (or opening one),
and the status page its sender follows. The form and its checks are in ``forms``."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from pledge.campaigns import service as campaigns
from pledge.campaigns.models import Campaign, CampaignView
from pledge.db import utcnow, writing
from pledge.errors import Conflict, Invalid, NotFound
from pledge.hoaxes.models import (
    Category,
    HoaxCase,
    HoaxReport,
    Platform,
    ReportAnswer,
    hoax_case_table,
    hoax_report_table,
)
from pledge.hoaxes.service import answers, matching, months, notify, suggestions
from pledge.hoaxes.service.duplicates import CaseRef, store_media, surviving_case
from pledge.hoaxes.service.forms import CleanReport, ReportForm
from pledge.hoaxes.states import CaseStatus
from pledge.i18n import gettext as _

# Tracking codes are read from a screen and typed by hand: no 0/o, no 1/l/i.
CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
CODE_LENGTH = 10  # 31**10: about 49 bits, far beyond guessing through the rate limit


def report_limit() -> str:
    """Reports per address per minute: generous, as many phones share one carrier address."""
    return "30/minute"


def lookup_limit() -> str:
    """Status pages and tracking-code lookups per address per minute, counted together (a
    lookup is followed by its status page): far above what the people behind one carrier
    address follow, far below what guessing a code needs."""
    return "120/minute"


def is_accepting_reports(campaign: Campaign) -> bool:
    """Reports are taken while the campaign takes signatures."""
    return campaigns.is_signable(campaign)


# --- taking a report ------------------------------------------------------------------


def new_tracking_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


@dataclass(frozen=True, slots=True)
class Sent:
    """What became of a posted report form."""

    report: HoaxReport | None  # None: the honeypot was filled, nothing stored
    # The same form was sent before (a double tap, a retry): this is the report it stored
    # then, and nothing was stored now.
    again: bool = False


def submit(
    session: Session, *, view: CampaignView, form: ReportForm, locale: str = "id"
) -> HoaxReport | None:
    """Store a report and join it to the case of the same thing, or open a new case (see
    ``send``); the report, or None when the honeypot was filled."""
    return send(session, view=view, form=form, locale=locale).report


def send(session: Session, *, view: CampaignView, form: ReportForm, locale: str = "id") -> Sent:
    """Store a report and join it to the case of the same thing, or open a new case.

    When the honeypot was filled, nothing is stored, and the bot is shown a success page all
    the same. A form sent again with the key of a report it stored before (in this campaign)
    is that report: nothing more is stored, even when two posts of it arrive at once.
    """
    if form.website:
        return Sent(None)
    # Before the picture is decoded: a second tap costs one lookup, not a second decoding.
    earlier = _sent_before(session, campaign_id=view.id, key=form.key)
    if earlier is not None:
        return Sent(earlier, again=True)
    if not is_accepting_reports(view.campaign):
        raise Conflict(_("This campaign is no longer taking hoax reports."))
    clean = form.check()  # decodes and re-encodes the image before any lock is taken

    for attempt in range(3):
        try:
            with writing(session):
                # Again under the write lock: the other post may have been stored meanwhile.
                # On SQLite writes take turns, so this finds it; on PostgreSQL two posts may
                # both miss it, and the unique key refuses the second one's insert below.
                earlier = sent_with_key(session, key=clean.form_key)
                if earlier is not None and earlier.campaign_id == view.id:
                    return Sent(earlier, again=True)
                if earlier is not None:
                    # Another campaign's report has this key: a key only leads to a report
                    # of the campaign it is posted to, and this one is stored without it.
                    clean = replace(clean, form_key=None)
                report = _submit_in_transaction(
                    session, campaign_id=view.id, clean=clean, locale=locale
                )
                return Sent(report)
        except IntegrityError:
            # The same form stored by a concurrent post, or the same image stored by a
            # concurrent report (or, once in an aeon, a tracking code drawn twice): the
            # transaction is rolled back whole, with any picture it stored, and the next try
            # finds the stored row.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def sent_with_key(session: Session, *, key: str | None) -> HoaxReport | None:
    """The report stored from the form drawn with this key, in any campaign, if any."""
    if key is None:
        return None
    return session.exec(select(HoaxReport).where(HoaxReport.form_key == key)).first()


def _sent_before(session: Session, *, campaign_id: int, key: str | None) -> HoaxReport | None:
    """The report this campaign's form with this key stored before, if any."""
    found = sent_with_key(session, key=key)
    return found if found is not None and found.campaign_id == campaign_id else None


def _submit_in_transaction(
    session: Session, *, campaign_id: int, clean: CleanReport, locale: str
) -> HoaxReport:
    """The picture stored, the report joined to its case (or a case opened), the report stored
    with what it is matched by, and the cases it resembles kept as suggestions."""
    now = utcnow()
    image = clean.image
    media_id = store_media(session, image) if image is not None else None
    picture_text = image.text if image is not None else ""
    signals = matching.Signals(
        canonical=clean.canonical,
        media_id=media_id,
        fingerprint=matching.read_print(image.fingerprint) if image else None,
        phash=image.phash if image is not None else None,
        picture_text=picture_text,
        text=matching.prepare_text(clean.description, picture_text),
    )
    found = matching.find(session, campaign_id=campaign_id, signals=signals)
    case_id = _join_case(
        session, campaign_id=campaign_id, clean=clean, media_id=media_id, case=found.case, now=now
    )
    report = HoaxReport(
        campaign_id=campaign_id,
        case_id=case_id,
        tracking_code=_unused_tracking_code(session),
        form_key=clean.form_key,
        url=clean.url,
        canonical_url=clean.canonical,
        platform=clean.platform,
        category=clean.category,
        description=clean.description,
        province=clean.province,
        media_id=media_id,
        contact_encrypted=clean.contact_encrypted,
        may_contact=clean.may_contact,
        locale=locale,
        match_text=matching.stored_text(signals.text),
        joined_by=found.joined_by[:120],
        provenance=image.provenance if image is not None else "",
        created_at=now,
    )
    session.add(report)
    session.flush()
    assert report.id is not None
    months.count(session, campaign_id=campaign_id, metric=months.REPORTS, moment=now)
    matching.index_text(session, campaign_id=campaign_id, report_id=report.id, text=signals.text)
    suggestions.keep(
        session, campaign_id=campaign_id, case_id=case_id, found=found.suggestions, now=now
    )
    if found.case is not None and found.case.status == CaseStatus.PUBLISHED:
        _tell_at_once(session, report=report, case_id=case_id, now=now)
    return report


def _tell_at_once(session: Session, *, report: HoaxReport, case_id: int, now: datetime) -> None:
    """A report that joins a verdict published before it gets the verdict by message too
    (when it left a contact), as its case's other reporters did."""
    case = session.get(HoaxCase, case_id)
    if report.contact_encrypted is None or case is None:
        return
    notify.tell_reporters(session, case=case, now=now, report_ids=[report.id or 0])
    # Marked told in SQL: the loaded report reads it again when asked.
    session.expire(report, ["notified_at"])


def _join_case(
    session: Session,
    *,
    campaign_id: int,
    clean: CleanReport,
    media_id: int | None,
    case: CaseRef | None,
    now: datetime,
) -> int:
    """The case the report belongs to: the one found, counted one report more, or a new one."""
    if case is None:
        new = open_case(
            session,
            campaign_id=campaign_id,
            platform=clean.platform,
            category=clean.category,
            canonical=clean.canonical,
            media_id=media_id,
            now=now,
        )
        assert new.id is not None
        return new.id
    case_t = hoax_case_table
    # In SQL, so that two reports joining at once both count.
    values: dict[str, Any] = {"report_count": case_t.c.report_count + 1, "updated_at": now}
    if case.status in CaseStatus.OPEN:
        # Still under review: a case first reported as a link learns its picture, and
        # the other way round. A decided case keeps what its moderators saw.
        if case.canonical_url is None and clean.canonical is not None:
            values["canonical_url"] = clean.canonical
        if case.media_id is None and media_id is not None:
            values["media_id"] = media_id
    session.execute(sa.update(case_t).where(case_t.c.id == case.id).values(**values))
    return case.id


def open_case(
    session: Session,
    *,
    campaign_id: int,
    platform: Platform,
    category: Category,
    canonical: str | None,
    media_id: int | None,
    now: datetime,
) -> HoaxCase:
    """A new case in the queue, holding one report (which the caller points at it)."""
    new = HoaxCase(
        campaign_id=campaign_id,
        status=CaseStatus.NEW,
        platform=platform,
        category=category,
        canonical_url=canonical,
        media_id=media_id,
        report_count=1,
        created_at=now,
        updated_at=now,
    )
    session.add(new)
    session.flush()
    assert new.id is not None
    months.count(session, campaign_id=campaign_id, metric=months.CASES, moment=now)
    return new


def _unused_tracking_code(session: Session) -> str:
    """A tracking code that no stored report has yet."""
    report_t = hoax_report_table
    code = new_tracking_code()
    while session.execute(sa.select(report_t.c.id).where(report_t.c.tracking_code == code)).first():
        code = new_tracking_code()
    return code


# --- the reporter's status page -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReportStatus:
    """What the person who sent a report may see: their own report, and the case it is in."""

    report: HoaxReport
    case: HoaxCase  # the surviving case, when the report's case was merged into another
    campaign: Campaign
    others: int  # how many other people reported the same thing
    # Published verdicts that may be about the same thing ("maybe related").
    related: list[suggestions.CaseSuggestion]
    # What this reporter answered to the moderators' questions, oldest first (never another
    # reporter's answers).
    answers: list[ReportAnswer] = field(default_factory=list)

    @property
    def asked(self) -> bool:
        """The moderators' question is shown, with the form to answer it."""
        return answers.awaits_answers(self.case)

    @property
    def last_answer(self) -> ReportAnswer | None:
        return self.answers[-1] if self.answers else None

    @property
    def may_answer_more(self) -> bool:
        """The reporter may still send an answer (or add to theirs)."""
        return self.asked and len(self.answers) < answers.ANSWERS_PER_REPORT

    @property
    def published(self) -> bool:
        return self.case.status == CaseStatus.PUBLISHED

    @property
    def already_checked(self) -> bool:
        """The report joined a verdict published before it was sent: checked at once."""
        published_at = self.case.published_at
        return (
            self.published and published_at is not None and published_at <= self.report.created_at
        )


def clean_tracking_code(raw: str) -> str:
    """A tracking code as someone types it: trimmed, in lower case, without the spaces and
    dashes they may put in; Invalid (beside the field ``code``) when it cannot be one.
    Whether a report has it is for the status page to say, alike for every code."""
    code = "".join(raw[:200].split()).replace("-", "").lower()
    if not code:
        raise Invalid({"code": _("Enter the tracking code you were given when you reported.")})
    if len(code) != CODE_LENGTH or not set(code) <= set(CODE_ALPHABET):
        raise Invalid(
            {
                "code": _(
                    "A tracking code is %(length)s letters and numbers, like %(example)s. "
                    "Check what you typed."
                )
                % {"length": CODE_LENGTH, "example": "k7m2p9qr4t"}
            }
        )
    return code


def get_status(session: Session, *, code: str) -> ReportStatus:
    code = code.strip().lower()
    if len(code) != CODE_LENGTH or not set(code) <= set(CODE_ALPHABET):
        raise NotFound(_("We could not find a report with this tracking code."))
    report = session.exec(select(HoaxReport).where(HoaxReport.tracking_code == code)).first()
    if report is None:
        raise NotFound(_("We could not find a report with this tracking code."))
    case = session.get(HoaxCase, report.case_id)
    campaign = campaigns.get_or_none(session, report.campaign_id)
    if case is None or campaign is None:
        raise NotFound(_("We could not find a report with this tracking code."))
    case = surviving_case(session, case)
    related = (
        []
        if case.status == CaseStatus.PUBLISHED
        else suggestions.related_verdicts(session, case=case)
    )
    return ReportStatus(
        report=report,
        case=case,
        campaign=campaign,
        others=max(case.report_count - 1, 0),
        related=related,
        answers=answers.list_report_answers(session, report_id=report.id or 0),
    )
