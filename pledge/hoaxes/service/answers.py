"""Reporters' answers to a moderator's question: the answer form (text, a link, another
screenshot, checked as a report's are), storing an answer, and the answers a case or a report
holds. Moving the case back to the queue is moderation's (pledge.moderation.service.answers).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from pledge import forms
from pledge.db import utcnow
from pledge.forms import Checks, PostedForm, posted
from pledge.hoaxes import media
from pledge.hoaxes.models import HoaxCase, ReportAnswer, hoax_report_table, report_answer_table
from pledge.hoaxes.service.duplicates import store_media
from pledge.hoaxes.service.forms import _decoded, _link, clean_text
from pledge.hoaxes.service.urls import URL_MAX, canonical_url
from pledge.hoaxes.states import CaseStatus
from pledge.i18n import gettext as _

ANSWER_TEXT_MAX = 1000
# A reporter may add to an answer a few times (a forgotten screenshot); not without end.
ANSWERS_PER_REPORT = 5
# The answers a case page lists; a viral case can have many reporters.
ANSWERS_SHOWN = 200


def awaits_answers(case: HoaxCase) -> bool:
    """Reporters may answer the case's question: it needs more information, or an answer
    sent it back to the queue and no moderator has decided on it since (so that every
    reporter of the case can answer, not only the first)."""
    return case.status == CaseStatus.NEEDS_INFO or (
        case.status == CaseStatus.NEW and case.answered_at is not None
    )


@dataclass(frozen=True, slots=True)
class CleanAnswer:
    text: str
    url: str | None
    canonical: str | None
    image: media.ProcessedImage | None


@dataclass(frozen=True, slots=True)
class AnswerForm(PostedForm):
    """The answer form as posted: text, so that a refused answer can be shown back."""

    text: str = posted(limit=ANSWER_TEXT_MAX * 2)
    url: str = posted(limit=URL_MAX + 1)
    screenshot: bytes | None = None

    def check(self, *, sender: str = "") -> CleanAnswer:
        """Every field checked, the screenshot decoded and re-encoded (as a report's is);
        Invalid with a message beside each bad field, and one when nothing was given.
        ``sender`` (networks.limit_key of their address): their pictures take turns with
        everyone else's for the decoders."""
        with Checks() as checks:
            text = checks.run(
                "text",
                forms.text,
                clean_text(self.text),
                max_length=ANSWER_TEXT_MAX,
                too_long=_("Keep your answer to at most %(max)s characters.")
                % {"max": ANSWER_TEXT_MAX},
            )
            url = checks.run("url", _link, self.url) or ""
            image = checks.run("screenshot", _decoded, self.screenshot, sender)
            if not clean_text(self.text) and not self.url.strip() and not self.screenshot:
                checks.refuse(
                    "text",
                    _("Write your answer, give a link or attach a screenshot (or all three)."),
                )
        return CleanAnswer(
            text=text or "",
            url=url or None,
            canonical=canonical_url(url) if url else None,
            image=image,
        )


def add_answer(
    session: Session, *, case_id: int, report_id: int, clean: CleanAnswer, now: datetime | None
) -> ReportAnswer:
    """Store an answer and its screenshot (found again when the same picture is stored).
    Runs inside the caller's write transaction."""
    media_id = store_media(session, clean.image) if clean.image is not None else None
    answer = ReportAnswer(
        case_id=case_id,
        report_id=report_id,
        text=clean.text,
        url=clean.url,
        canonical_url=clean.canonical,
        media_id=media_id,
        created_at=now or utcnow(),
    )
    session.add(answer)
    session.flush()
    return answer


def count_report_answers(session: Session, *, report_id: int) -> int:
    answer_t = report_answer_table
    return int(
        session.execute(
            sa.select(sa.func.count()).where(answer_t.c.report_id == report_id)
        ).scalar_one()
    )


def list_report_answers(session: Session, *, report_id: int) -> list[ReportAnswer]:
    """One report's answers, oldest first: what its sender sees on their page."""
    return list(
        session.exec(
            select(ReportAnswer)
            .where(ReportAnswer.report_id == report_id)
            .order_by(col(ReportAnswer.id))
        )
    )


def list_case_answers(session: Session, *, case: HoaxCase) -> list[ReportAnswer]:
    """The answers of the reports a case holds now, newest first (a report taken out or
    merged in brings its answers along)."""
    report_t = hoax_report_table
    reports = sa.select(report_t.c.id).where(report_t.c.case_id == case.id)
    return list(
        session.exec(
            select(ReportAnswer)
            .where(col(ReportAnswer.report_id).in_(reports))
            .order_by(col(ReportAnswer.id).desc())
            .limit(ANSWERS_SHOWN)
        )
    )
