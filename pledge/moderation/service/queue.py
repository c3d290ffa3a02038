"""The moderation queue: its filters, one page of cases in queue order, and the counts the
metrics report."""

from __future__ import annotations

import heapq
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from itertools import islice
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from pledge import forms
from pledge.campaigns.models import Campaign
from pledge.db import utcnow
from pledge.errors import Invalid
from pledge.forms import Checks, PostedForm, posted
from pledge.hoaxes.models import Category, HoaxCase, Platform, hoax_case_table, hoax_report_table
from pledge.hoaxes.service import escalations
from pledge.hoaxes.states import CaseStatus
from pledge.i18n import gettext as _
from pledge.moderation.service.cases import names, visible_campaigns
from pledge.moderation.service.claims import claim_active, holds

if TYPE_CHECKING:
    from pledge.accounts.access import ModeratorContext

PAGE_SIZE = 25
SNIPPET_MAX = 140


class StatusFilter(StrEnum):
    """The groups of statuses the queue can show; a single status is chosen by its name."""

    QUEUE = ""  # new, needs more information, waiting for approval
    OPEN = "open"  # new and needs more information
    ALL = "all"

    @property
    def label(self) -> str:
        return {
            StatusFilter.QUEUE: _("In the queue (new, needs information, waiting for approval)"),
            StatusFilter.OPEN: _("Open (new or needs information)"),
            StatusFilter.ALL: _("All"),
        }[self]


# What each choice of the status filter shows: a group, or a single status by its name.
STATUS_GROUPS: dict[str, frozenset[CaseStatus]] = {
    StatusFilter.QUEUE: CaseStatus.IN_QUEUE,
    StatusFilter.OPEN: CaseStatus.OPEN,
    StatusFilter.ALL: frozenset(CaseStatus),
    **{status.value: frozenset({status}) for status in CaseStatus},
}
# The platform and category filters: one of them, or "" for any.
ANY_PLATFORM = frozenset({"", *Platform})
ANY_CATEGORY = frozenset({"", *Category})
# The escalation filter: "open" keeps the cases reported elsewhere still waiting for an outcome.
OPEN_ESCALATIONS = "open"
ANY_ESCALATION = frozenset({"", OPEN_ESCALATIONS})
# A page link's key holds two numbers of at most ten digits each.
_KEY_MAX = 9_999_999_999


def _cursor(raw: str) -> tuple[int, int] | None:
    """`after=<report_count>.<id>`: where the previous page ended; None on the first page."""
    if not raw:
        return None
    message = _("This page link is broken. Start again from the first page.")
    count, dot, case_id = raw.partition(".")
    if not dot:
        raise forms.refuse(message)
    return (
        forms.integer(count, minimum=0, maximum=_KEY_MAX, message=message),
        forms.integer(case_id, minimum=0, maximum=_KEY_MAX, message=message),
    )


@dataclass(frozen=True, slots=True)
class CleanFilters:
    """The queue's filters, checked: what the page's statements select."""

    statuses: frozenset[CaseStatus]
    platform: Platform | None
    category: Category | None
    campaign: str  # a slug of a campaign the moderator sees, or "" for all of them
    cursor: tuple[int, int] | None
    open_escalations: bool = False

    def campaign_conditions(self, campaign_id: int) -> list[Any]:
        """The filters that read a campaign's own rows (ix_hoax_escalation_open), in SQL."""
        if not self.open_escalations:
            return []
        return [hoax_case_table.c.id.in_(escalations.select_open_case_ids(campaign_id))]

    def conditions(self) -> list[Any]:
        """The filters on platform, category and page start, in SQL."""
        case_t = hoax_case_table
        conditions: list[Any] = []
        if self.platform is not None:
            conditions.append(case_t.c.platform == self.platform)
        if self.category is not None:
            conditions.append(case_t.c.category == self.category)
        if self.cursor is not None:
            count, last_id = self.cursor
            conditions.append(
                sa.or_(
                    case_t.c.report_count < count,
                    sa.and_(case_t.c.report_count == count, case_t.c.id > last_id),
                )
            )
        return conditions


@dataclass(frozen=True, slots=True)
class QueueFilters(PostedForm):
    """The queue's filters as given, in the address or in the bulk form that carries them:
    text, so that a bad one can be shown back."""

    status: str = posted(limit=40)
    platform: str = posted(limit=40)
    category: str = posted(limit=40)
    campaign: str = posted(limit=80)
    after: str = posted(limit=40)
    escalation: str = posted(limit=40)

    def query(self, **changes: str) -> dict[str, str]:
        """The filters as query parameters, without the empty ones."""
        values = {
            "status": self.status,
            "platform": self.platform,
            "category": self.category,
            "campaign": self.campaign,
            "after": self.after,
            "escalation": self.escalation,
        }
        values.update(changes)
        return {name: value for name, value in values.items() if value}

    def check(self, campaigns: Sequence[Campaign]) -> CleanFilters:
        """The filters checked against their choices; Invalid with a message for each filter
        that is not one of them."""
        choices: dict[str, tuple[str, Collection[str], str]] = {
            "status": (self.status, STATUS_GROUPS, _("Choose a status from the list.")),
            "platform": (self.platform, ANY_PLATFORM, _("Choose a platform from the list.")),
            "category": (self.category, ANY_CATEGORY, _("Choose a category from the list.")),
            "campaign": (
                self.campaign,
                {"", *(c.slug for c in campaigns)},
                _("Choose one of the campaigns your organisation takes part in."),
            ),
            "escalation": (
                self.escalation,
                ANY_ESCALATION,
                _("Choose whether to show reported cases from the list."),
            ),
        }
        with Checks() as checks:
            chosen = {
                name: checks.run(name, forms.choice, raw, among, message=message) or ""
                for name, (raw, among, message) in choices.items()
            }
            cursor = checks.run("after", _cursor, self.after)
        return CleanFilters(
            statuses=STATUS_GROUPS[chosen["status"]],
            platform=Platform(chosen["platform"]) if chosen["platform"] else None,
            category=Category(chosen["category"]) if chosen["category"] else None,
            campaign=chosen["campaign"],
            cursor=cursor,
            open_escalations=chosen["escalation"] == OPEN_ESCALATIONS,
        )


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
    try:
        chosen = filters.check(campaigns)
    except Invalid as error:
        return QueuePage(filters=filters, campaigns=campaigns, errors=error.errors)
    if not campaigns:
        return QueuePage(filters=filters, campaigns=campaigns)
    campaign_ids = [c.id or 0 for c in campaigns if chosen.campaign in ("", c.slug)]
    ids = _page_ids(session, chosen, campaign_ids, limit + 1)
    loaded = {c.id: c for c in session.exec(select(HoaxCase).where(col(HoaxCase.id).in_(ids)))}
    found = [loaded[case_id] for case_id in ids]
    cases = found[:limit]
    rows = _rows(session, cases, campaigns, access.user.id, now)
    last = cases[-1] if cases and len(found) > limit else None
    next_after = f"{last.report_count}.{last.id}" if last is not None else None
    return QueuePage(filters=filters, campaigns=campaigns, rows=rows, next_after=next_after)


def _page_ids(
    session: Session, filters: CleanFilters, campaign_ids: list[int], count: int
) -> list[int]:
    """The ids of the first `count` cases the filters select, in queue order.

    One range of the queue index (campaign, status, report count, id) per campaign and
    status, each read in queue order and only as far as a page, merged here: a single query
    over several of them would sort every case they hold, for every page."""
    case_t = hoax_case_table
    conditions = filters.conditions()
    ranges = [
        session.execute(
            sa.select(case_t.c.report_count, case_t.c.id)
            .where(
                case_t.c.campaign_id == campaign_id,
                case_t.c.status == status,
                *conditions,
                *filters.campaign_conditions(campaign_id),
            )
            .order_by(case_t.c.report_count.desc(), case_t.c.id)
            .limit(count)
        ).all()
        for campaign_id in campaign_ids
        for status in sorted(filters.statuses)
    ]
    merged = heapq.merge(*ranges, key=lambda row: (-row[0], row[1]))
    return [case_id for _count, case_id in islice(merged, count)]


def _rows(
    session: Session,
    cases: list[HoaxCase],
    campaigns: list[Campaign],
    me: int | None,
    now: datetime,
) -> list[QueueRow]:
    """The queue's lines: each case with its campaign, summary and who holds it."""
    by_id = {c.id: c for c in campaigns}
    summaries = case_summaries(session, cases)
    holders = names(
        session, [c.claimed_by_id for c in cases if c.claimed_by_id and claim_active(c, now)]
    )
    return [
        QueueRow(
            case=case,
            campaign=by_id[case.campaign_id],
            summary=summaries.get(case.id or 0, ""),
            holder=holders.get(case.claimed_by_id or 0) if claim_active(case, now) else None,
            held_by_me=holds(case, me, now),
        )
        for case in cases
    ]


def _snippet(text: str, limit: int = SNIPPET_MAX) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def case_summaries(session: Session, cases: list[HoaxCase]) -> dict[int, str]:
    """A line per case: its public title, or the words of its first report."""
    report_t = hoax_report_table
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


@dataclass(frozen=True, slots=True)
class QueueDepth:
    """The queue of every campaign, as the metrics report it."""

    open: int  # new, or waiting for more information: waiting for a moderator
    awaiting_approval: int  # proposed verdicts waiting for a second moderator


def queue_depth(session: Session) -> QueueDepth:
    """How many cases of every campaign wait in the queue, by what they wait for."""
    case_t = hoax_case_table
    found = {
        CaseStatus(status): int(count)
        for status, count in session.execute(
            sa.select(case_t.c.status, sa.func.count())
            .where(case_t.c.status.in_(sorted(CaseStatus.IN_QUEUE)))
            .group_by(case_t.c.status)
        )
    }
    return QueueDepth(
        open=sum(found.get(status, 0) for status in CaseStatus.OPEN),
        awaiting_approval=found.get(CaseStatus.AWAITING_APPROVAL, 0),
    )
