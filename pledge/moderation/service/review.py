"""One case as a moderator reviews it: its reports, who holds it, the decisions open to it,
likely duplicates and its history."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from pledge import audit
from pledge.audit import AuditAction, AuditEvent
from pledge.campaigns import service as campaigns
from pledge.campaigns.models import Campaign
from pledge.db import utcnow
from pledge.hoaxes import service as hoaxes
from pledge.hoaxes.models import HoaxCase, HoaxReport, ReportAnswer, Verdict
from pledge.hoaxes.service import suggestions
from pledge.hoaxes.service.suggestions import CaseSuggestion
from pledge.hoaxes.states import CaseStatus, Decision, decisions_for
from pledge.i18n import gettext as _
from pledge.moderation.service.cases import (
    display_name,
    may_break,
    names,
    subject,
    visible_case,
)
from pledge.moderation.service.claims import claim_active, holds
from pledge.moderation.service.queue import case_summaries
from pledge.moderation.service.reporters import ReporterContact, reporter_contacts

if TYPE_CHECKING:
    from pledge.accounts.access import ModeratorContext

REPORTS_SHOWN = 200  # a case page lists this many reports; a viral hoax can have thousands
EVENTS_SHOWN = 200
CANDIDATES_SHOWN = 10


@dataclass(frozen=True, slots=True)
class CaseEvent:
    action: str  # as stored: an AuditAction, or one this version does not know
    actor: str
    reason: str
    created_at: datetime
    data: dict[str, Any]

    @property
    def label(self) -> str:
        """What was done, as the case's history names it (``{{ event|label }}``): a decision
        by what was decided, a renewed claim, a merge by the other case; the action's own
        name otherwise."""
        data = self.data
        decision = data.get("decision")
        if (
            self.action == AuditAction.CASE_DECIDE
            and isinstance(decision, str)
            and decision in _DECIDED
        ):
            return _DECIDED[decision]()
        if self.action == AuditAction.CASE_CLAIM and data.get("renewed"):
            return _("Renewed the claim")
        step = data.get("step")
        if self.action == AuditAction.CASE_CORRECT and step in _CORRECTION_STEPS:
            return _CORRECTION_STEPS[step]()
        for (action, key), told in _BETWEEN_CASES.items():
            if self.action == action and data.get(key):
                return told() % {"id": data[key], "report": data.get("report")}
        return audit.action_label(self.action)


# A correction of the published verdict, by its step; "approved" is the action's own name.
_CORRECTION_STEPS: dict[str, Callable[[], str]] = {
    "proposed": lambda: _("Proposed a correction of the published verdict"),
    "withdrawn": lambda: _("Withdrew a proposed correction"),
}


# An event that names another case, told by the key of its data that holds the other case.
_BETWEEN_CASES: dict[tuple[str, str], Callable[[], str]] = {
    (AuditAction.CASE_MERGE, "into"): lambda: _("Merged into case #%(id)s"),
    (AuditAction.CASE_MERGE, "from_case"): lambda: _("Case #%(id)s merged into this one"),
    (AuditAction.CASE_SPLIT, "into"): lambda: _("Report #%(report)s taken out into case #%(id)s"),
    (AuditAction.CASE_SPLIT, "from_case"): lambda: _(
        "Report #%(report)s taken out of case #%(id)s"
    ),
    (AuditAction.CASE_SET_APART, "other"): lambda: _("Set apart from case #%(id)s"),
}

# A decision as the history tells it; a merge (a duplicate) is told by its own events.
_DECIDED: dict[str, Callable[[], str]] = {
    Decision.HOAX: lambda: _("Proposed a verdict"),
    Decision.NOT_HOAX: lambda: _("Closed as not a hoax"),
    Decision.NEEDS_INFO: lambda: _("Asked for more information"),
    Decision.REJECTED: lambda: _("Rejected"),
    Decision.REOPEN: lambda: _("Reopened"),
}


@dataclass(frozen=True, slots=True)
class CasePage:
    case: HoaxCase
    campaign: Campaign
    summary: str
    reports: list[HoaxReport]
    report_rows: int  # reports attached to the case (report_count can differ after merges)
    holder: str | None
    held_by_me: bool
    can_break: bool
    decisions: list[Decision]
    can_approve: bool  # a verdict waits, and this moderator did not propose it
    proposer: str | None
    approver: str | None
    candidates: list[HoaxCase]  # likely duplicates: the same link or picture
    suggestions: list[CaseSuggestion]  # cases the matching found close, best first
    can_join: bool  # the case may be merged into a suggested one in one action
    events: list[CaseEvent]
    # Reporters' answers to the moderators' questions, newest first; and the contacts of
    # the reporters who allowed moderators to write to them, by report id (while open).
    answers: list[ReportAnswer] = field(default_factory=list)
    contacts: dict[int, ReporterContact] = field(default_factory=dict)
    # What the case's files said of where they came from, strongest first; the label that
    # suggests, and what a verdict could publish of valid Content Credentials among them.
    findings: list[hoaxes.Finding] = field(default_factory=list)
    suggested: Verdict | None = None
    credentials: hoaxes.PublicCredentials | None = None

    def may_split(self) -> bool:
        """A report may be taken out into a case of its own."""
        return self.report_rows > 1 and self.case.status != CaseStatus.DUPLICATE


def case_page(
    session: Session, *, access: ModeratorContext, case_id: int, now: datetime | None = None
) -> CasePage:
    """Everything a moderator needs to decide; reporters' contacts only of those who allowed
    moderators to write to them, while the case is open."""
    now = now or utcnow()
    case = visible_case(session, access, case_id)
    campaign = campaigns.get_or_none(session, case.campaign_id)
    assert campaign is not None
    reports = list(
        session.exec(
            select(HoaxReport)
            .where(HoaxReport.case_id == case.id)
            .order_by(col(HoaxReport.id))
            .limit(REPORTS_SHOWN)
        )
    )
    total = session.exec(
        select(sa.func.count()).select_from(HoaxReport).where(HoaxReport.case_id == case.id)
    ).one()
    people = names(session, [case.claimed_by_id, case.proposed_by_id, case.approved_by_id])
    events = audit.list_events(session, subject=subject(case.id or 0), limit=EVENTS_SHOWN)
    actors = names(session, [event.actor_id for event in events])
    active = claim_active(case, now)
    me = access.user.id
    return CasePage(
        case=case,
        campaign=campaign,
        summary=case.public_title or case_summaries(session, [case]).get(case.id or 0, ""),
        reports=reports,
        report_rows=int(total),
        holder=people.get(case.claimed_by_id or 0, display_name(None)) if active else None,
        held_by_me=holds(case, me, now),
        can_break=active
        and case.claimed_by_id != me
        and may_break(session, access, case.campaign_id),
        decisions=decisions_for(case.status),
        can_approve=case.status == CaseStatus.AWAITING_APPROVAL and case.proposed_by_id != me,
        proposer=people.get(case.proposed_by_id) if case.proposed_by_id else None,
        approver=people.get(case.approved_by_id) if case.approved_by_id else None,
        candidates=_candidates(session, case),
        suggestions=suggestions.list_for_case(session, case=case),
        can_join=_may_join(case, active=active, me=me),
        events=[_event(event, actors) for event in events],
        answers=hoaxes.list_case_answers(session, case=case),
        contacts=reporter_contacts(case, reports),
        **_provenance(session, case),
    )


def _provenance(session: Session, case: HoaxCase) -> dict[str, Any]:
    """What the case's files said of where they came from, the label that suggests, and what
    a verdict could quote of valid Content Credentials among them."""
    findings = hoaxes.case_findings(session, case_id=case.id or 0)
    return {
        "findings": findings,
        "suggested": hoaxes.suggested_label(findings),
        "credentials": hoaxes.public_credentials(findings),
    }


def _may_join(case: HoaxCase, *, active: bool, me: int | None) -> bool:
    """The case may be merged into a suggested one in one action: it is open to a merge and
    nobody else holds it."""
    return Decision.DUPLICATE in decisions_for(case.status) and (
        not active or case.claimed_by_id == me
    )


def _event(event: AuditEvent, actors: dict[int, str]) -> CaseEvent:
    try:
        data = json.loads(event.data)
    except ValueError:
        data = {}
    # A reporter's answer is nobody's among the moderators.
    reporter = event.action == AuditAction.CASE_ANSWER and event.actor_id is None
    return CaseEvent(
        action=event.action,
        actor=_("a reporter") if reporter else actors.get(event.actor_id or 0, display_name(None)),
        reason=event.reason,
        created_at=event.created_at,
        data=data if isinstance(data, dict) else {},
    )


def _candidates(session: Session, case: HoaxCase) -> list[HoaxCase]:
    """Other cases of the campaign with the same link or the same picture: merge targets."""
    if case.status not in CaseStatus.OPEN:
        return []
    same = []
    if case.canonical_url:
        same.append(col(HoaxCase.canonical_url) == case.canonical_url)
    if case.media_id:
        same.append(col(HoaxCase.media_id) == case.media_id)
    if not same:
        return []
    return list(
        session.exec(
            select(HoaxCase)
            .where(
                HoaxCase.campaign_id == case.campaign_id,
                HoaxCase.id != case.id,
                HoaxCase.status != CaseStatus.DUPLICATE,
                sa.or_(*same),
            )
            .order_by(col(HoaxCase.report_count).desc(), col(HoaxCase.id))
            .limit(CANDIDATES_SHOWN)
        )
    )
