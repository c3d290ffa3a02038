"""The public gallery of verdicts: its filters (label, platform, category, campaign, month),
checked against their choices, and one page of the verdicts they select, newest first."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from pledge import forms
from pledge.campaigns import service as campaigns
from pledge.campaigns.models import Campaign
from pledge.campaigns.service import WIB
from pledge.errors import Invalid
from pledge.forms import Checks, PostedForm, posted
from pledge.hoaxes.models import Category, HoaxCase, Platform, Verdict, hoax_month_table
from pledge.hoaxes.service.published import NEWEST_FIRST, PublishedHoax, published_query
from pledge.i18n import gettext as _

GALLERY_PAGE_SIZE = 20
PAGE_MAX = 100_000
# The months offered by the month filter: the most recent ones with a verdict.
MONTHS_OFFERED = 36
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def month_start(day: date) -> datetime:
    """The first moment of a month in Western Indonesian Time, as a UTC time."""
    return datetime(day.year, day.month, 1, tzinfo=WIB).astimezone(UTC)


def next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _month(raw: str) -> date:
    """`month=2024-02`: a month of the published verdicts."""
    found = _MONTH.match(raw)
    message = _("Choose a month from the list.")
    if found is None:
        raise forms.refuse(message)
    year, month = int(found[1]), int(found[2])
    if not (2000 <= year <= 9999 and 1 <= month <= 12):
        raise forms.refuse(message)
    return date(year, month, 1)


@dataclass(frozen=True, slots=True)
class CleanGalleryFilters:
    label: Verdict | None = None
    platform: Platform | None = None
    category: Category | None = None
    campaign: str = ""
    month: date | None = None
    page: int = 1

    def conditions(self, campaign_ids: dict[str, int]) -> list[Any]:
        """The chosen filters, in SQL on the published cases."""
        conditions: list[Any] = []
        if self.label is not None:
            conditions.append(col(HoaxCase.label) == self.label)
        if self.platform is not None:
            conditions.append(col(HoaxCase.platform) == self.platform)
        if self.category is not None:
            conditions.append(col(HoaxCase.category) == self.category)
        if self.campaign:
            conditions.append(col(HoaxCase.campaign_id) == campaign_ids.get(self.campaign, 0))
        if self.month is not None:
            conditions.append(col(HoaxCase.published_at) >= month_start(self.month))
            conditions.append(col(HoaxCase.published_at) < month_start(next_month(self.month)))
        return conditions


@dataclass(frozen=True, slots=True)
class GalleryFilters(PostedForm):
    """The gallery's filters as given in the address: text, so that a bad one can be shown
    back beside its field."""

    label: str = posted(limit=40)
    platform: str = posted(limit=40)
    category: str = posted(limit=40)
    campaign: str = posted(limit=80)
    month: str = posted(limit=10)
    page: str = posted(limit=10)

    def query(self, **changes: str) -> dict[str, str]:
        """The filters as query parameters, without the empty ones (and without page 1)."""
        values = {
            "label": self.label,
            "platform": self.platform,
            "category": self.category,
            "campaign": self.campaign,
            "month": self.month,
            "page": self.page,
        }
        values.update(changes)
        return {name: value for name, value in values.items() if value and value != "1"}

    @property
    def chosen(self) -> bool:
        """Whether any filter narrows the gallery."""
        return any((self.label, self.platform, self.category, self.campaign, self.month))

    def check(self, campaign_slugs: Collection[str]) -> CleanGalleryFilters:
        """The filters checked against their choices; Invalid with a message for each one
        that is none of them."""
        with Checks() as checks:
            label = self._member(checks, "label", Verdict, _("Choose a label from the list."))
            platform = self._member(
                checks, "platform", Platform, _("Choose a platform from the list.")
            )
            category = self._member(
                checks, "category", Category, _("Choose a category from the list.")
            )
            campaign = checks.run(
                "campaign",
                forms.choice,
                self.campaign,
                {"", *campaign_slugs},
                message=_("Choose a campaign from the list."),
            )
            month = checks.run("month", _month, self.month) if self.month else None
            page = checks.run(
                "page",
                forms.integer,
                self.page or "1",
                minimum=1,
                maximum=PAGE_MAX,
                message=_("This page link is broken. Start again from the first page."),
            )
        return CleanGalleryFilters(
            label=label,
            platform=platform,
            category=category,
            campaign=campaign or "",
            month=month,
            page=page or 1,
        )

    def _member(self, checks: Checks, name: str, kind: Any, message: str) -> Any:
        raw = getattr(self, name)
        return checks.run(name, forms.member, raw, kind, message=message) if raw else None


@dataclass(frozen=True, slots=True)
class GalleryPage:
    items: list[PublishedHoax]
    page: int
    has_next: bool
    filters: GalleryFilters = field(default_factory=GalleryFilters)
    campaigns: list[Campaign] = field(default_factory=list)  # those with a verdict
    months: list[date] = field(default_factory=list)  # those with a verdict, newest first
    errors: dict[str, str] = field(default_factory=dict)


def _choices(session: Session) -> tuple[list[Campaign], list[date]]:
    """The public campaigns and the months that have a published verdict, as the filters offer
    them: from the monthly counts (a few rows per campaign and month, never the verdicts)."""
    month_t = hoax_month_table
    rows = session.execute(
        sa.select(month_t.c.campaign_id, month_t.c.month)
        .where(month_t.c.metric.like("verdict:%"), month_t.c.count > 0)
        .distinct()
    ).all()
    found = campaigns.list_public(session, ids={row.campaign_id for row in rows})
    public = {c.id for c in found}
    months = sorted({row.month for row in rows if row.campaign_id in public}, reverse=True)
    return found, months[:MONTHS_OFFERED]


def list_published(session: Session, filters: GalleryFilters | None = None) -> GalleryPage:
    """One page of published verdicts of public campaigns, newest first, narrowed by the
    filters; with the choices the filters offer, and a message for each bad filter."""
    filters = filters or GalleryFilters()
    offered, months = _choices(session)
    slugs = {c.slug: c.id or 0 for c in offered}
    if filters.campaign and filters.campaign not in slugs:
        # A public campaign whose verdicts are not counted by month yet is still a choice.
        found = campaigns.public_id(session, slug=filters.campaign)
        if found is not None:
            slugs[filters.campaign] = found
    try:
        chosen = filters.check(slugs)
    except Invalid as error:
        return GalleryPage(
            items=[],
            page=1,
            has_next=False,
            filters=filters,
            campaigns=offered,
            months=months,
            errors=error.errors,
        )
    rows = session.exec(
        published_query()
        .where(*chosen.conditions(slugs))
        .order_by(*NEWEST_FIRST)
        .offset((chosen.page - 1) * GALLERY_PAGE_SIZE)
        .limit(GALLERY_PAGE_SIZE + 1)
    ).all()
    items = [PublishedHoax(case=case, campaign=campaign) for case, campaign in rows]
    return GalleryPage(
        items=items[:GALLERY_PAGE_SIZE],
        page=chosen.page,
        has_next=len(items) > GALLERY_PAGE_SIZE,
        filters=filters,
        campaigns=offered,
        months=months,
    )
