"""Short links followed after the report is stored: the reporter never waits for them. Once
a short link (bit.ly, vt.tiktok.com, s.id, ...) is known to lead to a post, the report is
keyed by that post, and a case opened for it alone gives the report to the case that already
holds the post."""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlmodel import Session

from pledge import audit
from pledge.db import utcnow, writing
from pledge.hoaxes.models import HoaxCase, HoaxReport, MatchKind, hoax_case_table
from pledge.hoaxes.service import months, shortlinks, suggestions
from pledge.hoaxes.service.duplicates import matching_case
from pledge.hoaxes.service.matching import Suggestion
from pledge.hoaxes.service.urls import canonical_url, clean_url
from pledge.hoaxes.states import CaseStatus, audit_subject

log = logging.getLogger(__name__)


def needs_following(report: HoaxReport | None) -> bool:
    """The report's link is a short link not yet followed."""
    return (
        report is not None
        and report.url is not None
        and report.resolved_url is None
        and shortlinks.is_short_link(report.url)
    )


def follow_short_link(engine: Engine, report_id: int) -> str | None:
    """Follow the report's short link and key the report (and a case of its own) by the post it
    leads to. Returns the key, or None when the link could not be followed (it stays keyed by
    the short link)."""
    with Session(engine) as session:
        report = session.get(HoaxReport, report_id)
        if report is None or not needs_following(report):
            return None
        link = report.url
    assert link is not None
    final = shortlinks.resolve(link)  # outside any transaction: it may take seconds
    if final is None:
        log.info("short link of report %s not followed", report_id)
        return None
    try:
        key = canonical_url(clean_url(final))
    except ValueError:
        return None
    with Session(engine) as session, writing(session):
        report = session.get(HoaxReport, report_id)
        if report is None or report.resolved_url is not None:
            return None
        short_key = report.canonical_url
        report.resolved_url = final[:2048]
        report.canonical_url = key
        session.add(report)
        session.flush()
        case = session.get(HoaxCase, report.case_id)
        if case is not None:
            _rekey_case(session, case=case, report=report, short_key=short_key, key=key)
    return key


def _rekey_case(
    session: Session, *, case: HoaxCase, report: HoaxReport, short_key: str | None, key: str
) -> None:
    """A case opened for this report alone, untouched by moderators, gives the report to the
    case holding the post and goes; any other case is re-keyed and told of the holder as a
    suggestion."""
    now = utcnow()
    holder = matching_case(session, campaign_id=case.campaign_id, canonical=key, media_ids=[])
    holder_case = session.get(HoaxCase, holder.id) if holder and holder.id != case.id else None
    if holder_case is not None and _untouched(session, case):
        report.case_id = holder_case.id or 0
        report.joined_by = "link (short link)"
        session.add(report)
        case_t = hoax_case_table
        values: dict[str, Any] = {"report_count": case_t.c.report_count + 1, "updated_at": now}
        if holder_case.status in CaseStatus.OPEN and holder_case.media_id is None:
            values["media_id"] = case.media_id
        session.execute(sa.update(case_t).where(case_t.c.id == holder_case.id).values(**values))
        session.flush()
        # The case was counted when it was opened: it goes, so its count goes with it.
        months.count(
            session,
            campaign_id=case.campaign_id,
            metric=months.CASES,
            moment=case.created_at,
            by=-1,
        )
        session.delete(case)
        return
    if case.canonical_url in (None, short_key) and case.status in CaseStatus.OPEN:
        case.canonical_url = key
        case.updated_at = now
        session.add(case)
    if holder_case is not None:
        found = [Suggestion(holder_case.id or 0, MatchKind.LINK, 1.0, "link (short link)")]
        suggestions.keep(
            session, campaign_id=case.campaign_id, case_id=case.id or 0, found=found, now=now
        )


def _untouched(session: Session, case: HoaxCase) -> bool:
    """The case holds this one report and no moderator has done anything with it."""
    return (
        case.status == CaseStatus.NEW
        and case.report_count == 1
        and case.claimed_by_id is None
        and not audit.list_events(session, subject=audit_subject(case.id or 0), limit=1)
    )
