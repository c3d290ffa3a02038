"""The moderation queue: claims, decisions, two-person publishing."""

from __future__ import annotations

import heapq
import json
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from itertools import islice
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlmodel import Session, col, select

from pledge import audit
from pledge.accounts.models import User
from pledge.audit import AuditEvent
from pledge.campaigns.models import Campaign, CampaignPartner
from pledge.db import ID_MAX, utcnow, writing
from pledge.errors import Conflict, Forbidden, Invalid, NotFound
from pledge.hoaxes.models import Category, HoaxCase, HoaxReport, Platform, Verdict
from pledge.hoaxes.states import (
    CaseStatus,
    Decision,
    decision_target,
    decisions_for,
    is_final,
)
from pledge.hoaxes.states import transition as transition_to
from pledge.i18n import gettext as _

if TYPE_CHECKING:
    from pledge.deps import ModeratorContext

CLAIM_MINUTES = 15
PAGE_SIZE = 25
REASON_MAX = 500
TITLE_MAX = 200
EXPLANATION_MAX = 4000
URL_MAX = 2048
SNIPPET_MAX = 140
REPORTS_SHOWN = 200  # a case page lists this many reports; a viral hoax can have thousands
EVENTS_SHOWN = 200
CANDIDATES_SHOWN = 10

case_t: sa.Table = HoaxCase.__table__  # type: ignore[attr-defined]
report_t: sa.Table = HoaxReport.__table__  # type: ignore[attr-defined]


# The audit actions this module writes, each with the reason given.
ACTIONS = (
    "case.claim",
    "case.release",
    "case.break_claim",
    "case.decide",
    "case.approve",
    "case.send_back",
    "case.merge",
    "case.bulk_reject",
)


# --- the rules of moving a case ------------------------------------------------------


def transition(
    session: Session,
    *,
    case: HoaxCase,
    to: CaseStatus,
    actor_id: int | None,
    reason: str,
    action: str = "case.decide",
    data: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> HoaxCase:
    """The one way a case changes status: refuses moves TRANSITIONS does not allow, ends
    any claim, drops reporters' contacts when the case closes, and writes the audit event.
    Runs inside the caller's write transaction."""
    previous = case.status
    case.status = transition_to(previous, to)
    case.claimed_by_id = None
    case.claim_expires_at = None
    case.updated_at = now or utcnow()
    session.add(case)
    if to in CaseStatus.CLOSED:
        _forget_contacts(session, case_ids=[case.id or 0])
    audit.record(
        session,
        actor_id=actor_id,
        action=action,
        subject=subject(case.id or 0),
        reason=reason,
        data={"from": previous.value, "to": to.value, **(data or {})},
    )
    session.flush()
    return case


def _forget_contacts(session: Session, *, case_ids: list[int]) -> None:
    """A reporter's contact is kept only while their report is open (see HoaxReport)."""
    session.execute(
        sa.update(report_t)
        .where(report_t.c.case_id.in_(case_ids), report_t.c.contact_encrypted.is_not(None))
        .values(contact_encrypted=None)
    )


def subject(case_id: int) -> str:
    return f"case:{case_id}"


# --- who sees what ---------------------------------------------------------------------


def _visible_campaign_ids(org_ids: Collection[int]) -> Any:
    """The campaigns in which one of these organisations is a partner (the lead is one too)."""
    return select(CampaignPartner.campaign_id).where(col(CampaignPartner.org_id).in_(org_ids))


def visible_campaigns(session: Session, *, access: ModeratorContext) -> list[Campaign]:
    return list(
        session.exec(
            select(Campaign)
            .where(col(Campaign.id).in_(_visible_campaign_ids(access.moderate_org_ids)))
            .order_by(col(Campaign.title), col(Campaign.id))
        )
    )


def _lock(session: Session, case_ids: Iterable[int]) -> None:
    """Lock the rows in id order (PostgreSQL; SQLite's write lock already serialises), so
    two moderators merging two cases into each other cannot deadlock."""
    ids = sorted({i for i in case_ids if 0 < i <= ID_MAX})
    if ids:
        session.execute(
            sa.select(case_t.c.id)
            .where(case_t.c.id.in_(ids))
            .order_by(case_t.c.id)
            .with_for_update()
        ).all()


def _visible_case(session: Session, access: ModeratorContext, case_id: int) -> HoaxCase:
    """The case when the moderator's organisation partners in its campaign; otherwise the
    same 404 as a case that does not exist, so nobody learns what others are reviewing."""
    case = None
    if 0 < case_id <= ID_MAX:
        case = session.exec(
            select(HoaxCase)
            .where(
                HoaxCase.id == case_id,
                col(HoaxCase.campaign_id).in_(_visible_campaign_ids(access.moderate_org_ids)),
            )
            .execution_options(populate_existing=True)
        ).first()
    if case is None:
        raise NotFound(_("We could not find that case."))
    return case


def _may_break(session: Session, access: ModeratorContext, case: HoaxCase) -> bool:
    """An admin of one of the campaign's partner organisations may end another's claim."""
    if not access.break_claim_org_ids:
        return False
    found = session.exec(
        select(CampaignPartner.id).where(
            CampaignPartner.campaign_id == case.campaign_id,
            col(CampaignPartner.org_id).in_(access.break_claim_org_ids),
        )
    ).first()
    return found is not None


# --- claims ----------------------------------------------------------------------------


def claim_active(case: HoaxCase, now: datetime) -> bool:
    return (
        case.claimed_by_id is not None
        and case.claim_expires_at is not None
        and case.claim_expires_at >= now
    )


def holds(case: HoaxCase, user_id: int | None, now: datetime) -> bool:
    return claim_active(case, now) and case.claimed_by_id == user_id


def display_name(user: User | None) -> str:
    if user is None:
        return _("a former moderator")
    return user.display_name or user.email


def _holder_message(session: Session, case: HoaxCase) -> str:
    holder = session.get(User, case.claimed_by_id) if case.claimed_by_id else None
    return _("%(name)s is working on this case. Try another one, or ask them.") % {
        "name": display_name(holder)
    }


def _require_claim(session: Session, case: HoaxCase, user_id: int | None, now: datetime) -> None:
    if holds(case, user_id, now):
        return
    if claim_active(case, now):
        raise Conflict(_holder_message(session, case))
    raise Conflict(_("Claim the case first: only the moderator holding a case can decide on it."))


@dataclass(frozen=True, slots=True)
class Claim:
    case: HoaxCase
    renewed: bool
    expires_at: datetime


def take_claim(
    session: Session, *, case_id: int, user_id: int, now: datetime, until: datetime
) -> bool:
    """The whole claim race in one statement: it changes the row only when nobody else holds
    an unexpired claim, and reports whether it did."""
    result = session.execute(
        sa.update(case_t)
        .where(
            case_t.c.id == case_id,
            sa.or_(
                case_t.c.claimed_by_id.is_(None),
                case_t.c.claimed_by_id == user_id,
                case_t.c.claim_expires_at < now,
            ),
        )
        .values(claimed_by_id=user_id, claim_expires_at=until)
    )
    return result.rowcount == 1  # type: ignore[attr-defined, no-any-return]


def claim(
    session: Session, *, access: ModeratorContext, case_id: int, now: datetime | None = None
) -> Claim:
    """Hold a case for CLAIM_MINUTES, or renew one's own hold. One conditional UPDATE decides
    a race: on PostgreSQL the second writer waits for the first's row lock and then finds the
    condition false; on SQLite, BEGIN IMMEDIATE lets one writer in at a time."""
    now = now or utcnow()
    me = access.user.id
    with writing(session):
        case = _visible_case(session, access, case_id)
        if is_final(case.status):
            raise Conflict(_("This case is closed for good: there is nothing left to decide."))
        renewed = holds(case, me, now)
        expires = now + timedelta(minutes=CLAIM_MINUTES)
        if not take_claim(session, case_id=case.id or 0, user_id=me or 0, now=now, until=expires):
            session.refresh(case)
            raise Conflict(_holder_message(session, case))
        audit.record(
            session,
            actor_id=me,
            action="case.claim",
            subject=subject(case.id or 0),
            data={"renewed": renewed, "expires_at": expires.isoformat()},
        )
    session.refresh(case)
    return Claim(case=case, renewed=renewed, expires_at=expires)


def release(session: Session, *, access: ModeratorContext, case_id: int) -> HoaxCase:
    me = access.user.id
    with writing(session):
        case = _visible_case(session, access, case_id)
        result = session.execute(
            sa.update(case_t)
            .where(case_t.c.id == case.id, case_t.c.claimed_by_id == me)
            .values(claimed_by_id=None, claim_expires_at=None)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise Conflict(_("You do not hold this case, so there is nothing to release."))
        audit.record(session, actor_id=me, action="case.release", subject=subject(case.id or 0))
    session.refresh(case)
    return case


def break_claim(
    session: Session,
    *,
    access: ModeratorContext,
    case_id: int,
    reason: str,
    now: datetime | None = None,
) -> HoaxCase:
    """An organisation admin ends another moderator's claim, saying why."""
    now = now or utcnow()
    with writing(session):
        case = _visible_case(session, access, case_id)
        if not _may_break(session, access, case):
            raise Forbidden(
                _("Only an admin of a partner organisation can end another moderator's claim.")
            )
        reason = clean_reason(reason)
        if not claim_active(case, now):
            raise Conflict(_("Nobody holds this case right now: there is no claim to end."))
        holder = case.claimed_by_id
        result = session.execute(
            sa.update(case_t)
            .where(case_t.c.id == case.id, case_t.c.claimed_by_id == holder)
            .values(claimed_by_id=None, claim_expires_at=None)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise Conflict(_("The claim changed in the meantime. Look at the case again."))
        audit.record(
            session,
            actor_id=access.user.id,
            action="case.break_claim",
            subject=subject(case.id or 0),
            reason=reason,
            data={"holder_id": holder},
        )
    session.refresh(case)
    return case


# --- input ---------------------------------------------------------------------------


def _reason_error(raw: str) -> str | None:
    reason = raw.strip()
    if not reason:
        return _("Give a reason: it is kept in the case's history.")
    if len(reason) > REASON_MAX:
        return _("Keep the reason to %(max)s characters.") % {"max": REASON_MAX}
    return None


def clean_reason(raw: str) -> str:
    error = _reason_error(raw)
    if error:
        raise Invalid({"reason": error})
    return raw.strip()


def _check_url(raw: str) -> str | None:
    """The fact-check link: empty, or an http(s) address with a host."""
    url = raw.strip()
    if not url:
        return None
    parts = urlsplit(url)
    if len(url) > URL_MAX or parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValueError(url)
    if any(ch.isspace() or ord(ch) < 32 for ch in url):
        raise ValueError(url)
    return url


def _case_number(raw: str) -> int | None:
    text = raw.strip().lstrip("#")
    if text.isascii() and text.isdigit() and 0 < int(text) <= ID_MAX:
        return int(text)
    return None


@dataclass(frozen=True, slots=True)
class DecisionForm:
    """The decision form as posted: strings, so that bad input can be shown back."""

    decision: str = ""
    reason: str = ""
    label: str = ""
    public_title: str = ""
    public_explanation: str = ""
    fact_check_url: str = ""
    target_case_id: str = ""


def _parse_decision(raw: str) -> Decision:
    try:
        return Decision(raw)
    except ValueError:
        raise Invalid({"decision": _("Choose one of the decisions offered.")}) from None


def _hoax_errors(form: DecisionForm) -> dict[str, str]:
    errors: dict[str, str] = {}
    if form.label not in {v.value for v in Verdict}:
        errors["label"] = _("Choose the label the verdict carries.")
    title = form.public_title.strip()
    if not title:
        errors["public_title"] = _("Write the title the public will read.")
    elif len(title) > TITLE_MAX:
        errors["public_title"] = _("Keep the title to %(max)s characters.") % {"max": TITLE_MAX}
    explanation = form.public_explanation.strip()
    if not explanation:
        errors["public_explanation"] = _("Explain to the public what is wrong, and how you know.")
    elif len(explanation) > EXPLANATION_MAX:
        errors["public_explanation"] = _("Keep the explanation to %(max)s characters.") % {
            "max": EXPLANATION_MAX
        }
    try:
        _check_url(form.fact_check_url)
    except ValueError:
        errors["fact_check_url"] = _(
            "Enter a full web address starting with http:// or https://, or leave it empty."
        )
    return errors


# --- decisions -----------------------------------------------------------------------


def decide(
    session: Session,
    *,
    access: ModeratorContext,
    case_id: int,
    form: DecisionForm,
    now: datetime | None = None,
) -> HoaxCase:
    """A decision by the moderator holding the case. Checks, in order: the decision is known
    (422), the case is visible (404), the claim is held (409), the status allows it (409),
    the fields (422)."""
    now = now or utcnow()
    me = access.user.id
    with writing(session):
        decision = _parse_decision(form.decision)
        target_id = _case_number(form.target_case_id) if decision == Decision.DUPLICATE else None
        _lock(session, [case_id, target_id or 0])
        case = _visible_case(session, access, case_id)
        _require_claim(session, case, me, now)
        wanted = decision_target(case.status, decision)

        errors: dict[str, str] = {}
        reason_error = _reason_error(form.reason)
        if reason_error:
            errors["reason"] = reason_error
        if decision == Decision.HOAX:
            errors.update(_hoax_errors(form))
        target: HoaxCase | None = None
        if decision == Decision.DUPLICATE:
            target, target_error = _merge_target(session, case, form.target_case_id, target_id)
            if target_error:
                errors["target_case_id"] = target_error
        if errors:
            raise Invalid(errors)
        reason = form.reason.strip()

        if decision == Decision.HOAX:
            case.label = Verdict(form.label)
            case.public_title = form.public_title.strip()
            case.public_explanation = form.public_explanation.replace("\r\n", "\n").strip()
            case.fact_check_url = _check_url(form.fact_check_url)
            case.proposed_by_id = me
            case.approved_by_id = None
            data: dict[str, Any] = {
                "decision": decision.value,
                "label": case.label.value,
                "public_title": case.public_title,
            }
            transition(
                session, case=case, to=wanted, actor_id=me, reason=reason, data=data, now=now
            )
        elif decision == Decision.DUPLICATE:
            assert target is not None
            _merge(session, case=case, target=target, actor_id=me, reason=reason, now=now)
        else:
            transition(
                session,
                case=case,
                to=wanted,
                actor_id=me,
                reason=reason,
                data={"decision": decision.value},
                now=now,
            )
    return case


def _merge_target(
    session: Session, case: HoaxCase, raw: str, target_id: int | None
) -> tuple[HoaxCase | None, str | None]:
    if not raw.strip():
        return None, _("Enter the number of the case this one duplicates.")
    target = None
    if target_id is not None:
        target = session.exec(
            select(HoaxCase)
            .where(HoaxCase.id == target_id, HoaxCase.campaign_id == case.campaign_id)
            .execution_options(populate_existing=True)
        ).first()
    if target is None:
        return None, _("Enter the number of another case of the same campaign.")
    if target.id == case.id:
        return None, _("A case cannot be merged into itself.")
    if target.status == CaseStatus.DUPLICATE:
        return None, _(
            "Case #%(id)s is itself merged into case #%(into)s: merge into that one instead."
        ) % {"id": target.id, "into": target.merged_into_id}
    return target, None


def _merge(
    session: Session,
    *,
    case: HoaxCase,
    target: HoaxCase,
    actor_id: int | None,
    reason: str,
    now: datetime,
) -> None:
    """Move the reports of `case` to `target` and add up the counts; `case` becomes a
    duplicate pointing at `target`, and so do the cases merged into it before."""
    source_id, target_id = case.id or 0, target.id or 0
    moved = case.report_count
    session.execute(
        sa.update(report_t).where(report_t.c.case_id == source_id).values(case_id=target_id)
    )
    # In SQL, not in Python: a report arriving meanwhile adds to the same row.
    session.execute(
        sa.update(case_t)
        .where(case_t.c.id == target_id)
        .values(report_count=case_t.c.report_count + moved, updated_at=now)
    )
    session.execute(
        sa.update(case_t)
        .where(case_t.c.merged_into_id == source_id)
        .values(merged_into_id=target_id)
    )
    # A closed target keeps what it showed: a published verdict must not gain a picture
    # that its approver never saw.
    open_target = target.status not in CaseStatus.CLOSED
    if open_target and target.media_id is None and case.media_id is not None:
        session.execute(
            sa.update(case_t).where(case_t.c.id == target_id).values(media_id=case.media_id)
        )
    if open_target and target.canonical_url is None and case.canonical_url is not None:
        session.execute(
            sa.update(case_t)
            .where(case_t.c.id == target_id)
            .values(canonical_url=case.canonical_url)
        )
    if not open_target:
        _forget_contacts(session, case_ids=[target_id])
    case.merged_into_id = target_id
    case.report_count = 0
    transition(
        session,
        case=case,
        to=CaseStatus.DUPLICATE,
        actor_id=actor_id,
        reason=reason,
        action="case.merge",
        data={"decision": Decision.DUPLICATE.value, "into": target_id, "reports": moved},
        now=now,
    )
    audit.record(
        session,
        actor_id=actor_id,
        action="case.merge",
        subject=subject(target_id),
        reason=reason,
        data={"from_case": source_id, "reports": moved},
    )
    session.refresh(target)


def approve(
    session: Session,
    *,
    access: ModeratorContext,
    case_id: int,
    reason: str,
    now: datetime | None = None,
) -> HoaxCase:
    """Publish a proposed verdict. The approver must hold the case and must not be the
    moderator who proposed it: a verdict goes public only with two people behind it."""
    now = now or utcnow()
    me = access.user.id
    with writing(session):
        _lock(session, [case_id])
        case = _visible_case(session, access, case_id)
        _require_claim(session, case, me, now)
        transition_to(case.status, CaseStatus.PUBLISHED)
        if case.proposed_by_id == me:
            raise Forbidden(_("You proposed this verdict, so another moderator has to approve it."))
        reason = clean_reason(reason)
        case.approved_by_id = me
        case.published_at = now
        transition(
            session,
            case=case,
            to=CaseStatus.PUBLISHED,
            actor_id=me,
            reason=reason,
            action="case.approve",
            data={"label": case.label.value if case.label else None},
            now=now,
        )
    return case


def send_back(
    session: Session,
    *,
    access: ModeratorContext,
    case_id: int,
    reason: str,
    now: datetime | None = None,
) -> HoaxCase:
    """Return a proposed verdict to the queue. The proposal is cleared from the case and
    kept in the audit event, so nothing written is lost."""
    now = now or utcnow()
    me = access.user.id
    with writing(session):
        _lock(session, [case_id])
        case = _visible_case(session, access, case_id)
        _require_claim(session, case, me, now)
        if case.status != CaseStatus.AWAITING_APPROVAL:
            raise Conflict(_("Only a verdict waiting for approval can be sent back."))
        reason = clean_reason(reason)
        proposal = {
            "label": case.label.value if case.label else None,
            "public_title": case.public_title,
            "public_explanation": case.public_explanation,
            "fact_check_url": case.fact_check_url,
            "proposed_by_id": case.proposed_by_id,
        }
        case.label = None
        case.public_title = ""
        case.public_explanation = ""
        case.fact_check_url = None
        case.proposed_by_id = None
        transition(
            session,
            case=case,
            to=CaseStatus.NEW,
            actor_id=me,
            reason=reason,
            action="case.send_back",
            data={"proposal": proposal},
            now=now,
        )
    return case


@dataclass(frozen=True, slots=True)
class BulkResult:
    rejected: int
    skipped: int


BULK_MAX = 100


def bulk_reject(
    session: Session,
    *,
    access: ModeratorContext,
    case_ids: list[str],
    reason: str,
    now: datetime | None = None,
) -> BulkResult:
    """Reject many cases at once (spam, out of scope). Only open cases the moderator may see
    and that nobody else holds are rejected; the rest are left alone and counted."""
    now = now or utcnow()
    me = access.user.id
    errors: dict[str, str] = {}
    reason_error = _reason_error(reason)
    if reason_error:
        errors["reason"] = reason_error
    wanted = {n for n in (_case_number(raw) for raw in case_ids) if n is not None}
    if not case_ids:
        errors["case_ids"] = _("Choose at least one case.")
    elif len(case_ids) > BULK_MAX:
        errors["case_ids"] = _("Choose at most %(max)s cases at a time.") % {"max": BULK_MAX}
    if errors:
        raise Invalid(errors)
    rejected = 0
    with writing(session):
        _lock(session, wanted)
        cases = session.exec(
            select(HoaxCase)
            .where(
                col(HoaxCase.id).in_(wanted),
                col(HoaxCase.status).in_(CaseStatus.OPEN),
                col(HoaxCase.campaign_id).in_(_visible_campaign_ids(access.moderate_org_ids)),
            )
            .order_by(col(HoaxCase.id))
            .execution_options(populate_existing=True)
        ).all()
        for case in cases:
            if claim_active(case, now) and case.claimed_by_id != me:
                continue
            transition(
                session,
                case=case,
                to=CaseStatus.REJECTED,
                actor_id=me,
                reason=reason.strip(),
                action="case.bulk_reject",
                data={"decision": Decision.REJECTED.value, "batch": len(case_ids)},
                now=now,
            )
            rejected += 1
    return BulkResult(rejected=rejected, skipped=len(set(case_ids)) - rejected)


# --- the queue -----------------------------------------------------------------------


class StatusFilter(StrEnum):
    QUEUE = ""  # new, needs more information, waiting for approval
    OPEN = "open"  # new and needs more information
    ALL = "all"


@dataclass(frozen=True, slots=True)
class QueueFilters:
    status: str = ""
    platform: str = ""
    category: str = ""
    campaign: str = ""
    after: str = ""

    def query(self, **changes: str) -> dict[str, str]:
        """The filters as query parameters, without the empty ones."""
        values = {
            "status": self.status,
            "platform": self.platform,
            "category": self.category,
            "campaign": self.campaign,
            "after": self.after,
        }
        values.update(changes)
        return {name: value for name, value in values.items() if value}


@dataclass(frozen=True, slots=True)
class QueueRow:
    case: HoaxCase
    campaign: Campaign
    summary: str
    holder: str | None  # who holds an unexpired claim
    held_by_me: bool


@dataclass(frozen=True, slots=True)
class QueuePage:
    filters: QueueFilters
    campaigns: list[Campaign]
    rows: list[QueueRow] = field(default_factory=list)
    next_after: str | None = None
    errors: dict[str, str] = field(default_factory=dict)


def _statuses(raw: str) -> frozenset[CaseStatus] | None:
    if raw == StatusFilter.QUEUE:
        return CaseStatus.IN_QUEUE
    if raw == StatusFilter.OPEN:
        return CaseStatus.OPEN
    if raw == StatusFilter.ALL:
        return frozenset(CaseStatus)
    try:
        return frozenset({CaseStatus(raw)})
    except ValueError:
        return None


def _cursor(raw: str) -> tuple[int, int] | None:
    """`after=<report_count>.<id>`: where the previous page ended."""
    count, dot, case_id = raw.partition(".")
    if (
        dot
        and count.isascii()
        and count.isdigit()
        and case_id.isascii()
        and case_id.isdigit()
        and len(count) <= 10
        and len(case_id) <= 10
    ):
        return int(count), int(case_id)
    return None


def queue(
    session: Session,
    *,
    access: ModeratorContext,
    filters: QueueFilters,
    now: datetime | None = None,
    limit: int = PAGE_SIZE,
) -> QueuePage:
    """One page of the queue: most reported first, oldest first among equals. Pages are
    found by the last row's (report_count, id), not an offset, so page 400 costs what page 1
    does."""
    now = now or utcnow()
    campaigns = visible_campaigns(session, access=access)
    errors: dict[str, str] = {}
    statuses = _statuses(filters.status)
    if statuses is None:
        errors["status"] = _("Choose a status from the list.")
    if filters.platform and filters.platform not in {p.value for p in Platform}:
        errors["platform"] = _("Choose a platform from the list.")
    if filters.category and filters.category not in {c.value for c in Category}:
        errors["category"] = _("Choose a category from the list.")
    campaign = next((c for c in campaigns if c.slug == filters.campaign), None)
    if filters.campaign and campaign is None:
        errors["campaign"] = _("Choose one of the campaigns your organisation takes part in.")
    cursor = _cursor(filters.after) if filters.after else None
    if filters.after and cursor is None:
        errors["after"] = _("This page link is broken. Start again from the first page.")
    if errors or not campaigns:
        return QueuePage(filters=filters, campaigns=campaigns, errors=errors)
    assert statuses is not None

    conditions: list[Any] = []
    if filters.platform:
        conditions.append(case_t.c.platform == Platform(filters.platform))
    if filters.category:
        conditions.append(case_t.c.category == Category(filters.category))
    if cursor is not None:
        count, last_id = cursor
        conditions.append(
            sa.or_(
                case_t.c.report_count < count,
                sa.and_(case_t.c.report_count == count, case_t.c.id > last_id),
            )
        )
    # One range of the queue index (campaign, status, report count, id) per campaign and
    # status, each read in queue order and only as far as a page, merged here: a single query
    # over several of them would sort every case they hold, for every page.
    ranges = [
        session.execute(
            sa.select(case_t.c.report_count, case_t.c.id)
            .where(case_t.c.campaign_id == campaign_id, case_t.c.status == status, *conditions)
            .order_by(case_t.c.report_count.desc(), case_t.c.id)
            .limit(limit + 1)
        ).all()
        for campaign_id in ([campaign.id] if campaign is not None else [c.id for c in campaigns])
        for status in sorted(statuses)
    ]
    ids = [
        case_id
        for _count, case_id in islice(
            heapq.merge(*ranges, key=lambda row: (-row[0], row[1])), limit + 1
        )
    ]
    loaded = {c.id: c for c in session.exec(select(HoaxCase).where(col(HoaxCase.id).in_(ids)))}
    found = [loaded[case_id] for case_id in ids]
    more = len(found) > limit
    cases = found[:limit]

    by_id = {c.id: c for c in campaigns}
    summaries = _summaries(session, cases)
    holders = _names(
        session, [c.claimed_by_id for c in cases if c.claimed_by_id and claim_active(c, now)]
    )
    rows = [
        QueueRow(
            case=case,
            campaign=by_id[case.campaign_id],
            summary=summaries.get(case.id or 0, ""),
            holder=holders.get(case.claimed_by_id or 0) if claim_active(case, now) else None,
            held_by_me=holds(case, access.user.id, now),
        )
        for case in cases
    ]
    last = cases[-1] if cases else None
    next_after = f"{last.report_count}.{last.id}" if more and last is not None else None
    return QueuePage(filters=filters, campaigns=campaigns, rows=rows, next_after=next_after)


def _snippet(text: str, limit: int = SNIPPET_MAX) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _summaries(session: Session, cases: list[HoaxCase]) -> dict[int, str]:
    """A line per case: its public title, or the words of its first report."""
    summaries = {c.id or 0: c.public_title for c in cases if c.public_title}
    missing = [c.id for c in cases if not c.public_title]
    if missing:
        first = (
            sa.select(sa.func.min(report_t.c.id))
            .where(report_t.c.case_id.in_(missing))
            .group_by(report_t.c.case_id)
        )
        for case_id, description, url in session.execute(
            sa.select(report_t.c.case_id, report_t.c.description, report_t.c.url).where(
                report_t.c.id.in_(first)
            )
        ):
            summaries[case_id] = _snippet(description or url or "")
    return summaries


def _names(session: Session, user_ids: Iterable[int | None]) -> dict[int, str]:
    ids = {i for i in user_ids if i}
    if not ids:
        return {}
    users = session.exec(select(User).where(col(User.id).in_(ids)))
    return {user.id or 0: display_name(user) for user in users}


# --- one case ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CaseEvent:
    action: str
    actor: str
    reason: str
    created_at: datetime
    data: dict[str, Any]


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
    events: list[CaseEvent]


def case_page(
    session: Session, *, access: ModeratorContext, case_id: int, now: datetime | None = None
) -> CasePage:
    """Everything a moderator needs to decide; reporters' contacts are never read."""
    now = now or utcnow()
    case = _visible_case(session, access, case_id)
    campaign = session.get(Campaign, case.campaign_id)
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
    names = _names(session, [case.claimed_by_id, case.proposed_by_id, case.approved_by_id])
    events = audit.list_events(session, subject=subject(case.id or 0), limit=EVENTS_SHOWN)
    actors = _names(session, [event.actor_id for event in events])
    active = claim_active(case, now)
    me = access.user.id
    return CasePage(
        case=case,
        campaign=campaign,
        summary=case.public_title or _summaries(session, [case]).get(case.id or 0, ""),
        reports=reports,
        report_rows=int(total),
        holder=names.get(case.claimed_by_id or 0, display_name(None)) if active else None,
        held_by_me=holds(case, me, now),
        can_break=active and case.claimed_by_id != me and _may_break(session, access, case),
        decisions=decisions_for(case.status),
        can_approve=case.status == CaseStatus.AWAITING_APPROVAL and case.proposed_by_id != me,
        proposer=names.get(case.proposed_by_id) if case.proposed_by_id else None,
        approver=names.get(case.approved_by_id) if case.approved_by_id else None,
        candidates=_candidates(session, case),
        events=[_event(event, actors) for event in events],
    )


def _event(event: AuditEvent, actors: dict[int, str]) -> CaseEvent:
    try:
        data = json.loads(event.data)
    except ValueError:
        data = {}
    return CaseEvent(
        action=event.action,
        actor=actors.get(event.actor_id or 0, display_name(None)),
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
