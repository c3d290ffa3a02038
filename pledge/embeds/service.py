"""Building the public counts of a campaign from its cached tallies."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

from markupsafe import escape
from sqlalchemy import Engine
from sqlmodel import Session

from pledge.campaigns import service as campaigns
from pledge.campaigns.models import CampaignView, PartnerView
from pledge.embeds.models import CampaignCounts, PartnerCount, PledgeCount
from pledge.errors import NotFound
from pledge.i18n import LOCALES
from pledge.i18n import gettext as _
from pledge.sharedreads import shared_reads
from pledge.supporters import service as supporters
from pledge.supporters.models import Counts


def counts_of(view: CampaignView, counts: Counts, url: str) -> CampaignCounts:
    return CampaignCounts(
        slug=view.slug,
        title=view.campaign.title,
        status=view.campaign.status.value,
        supporters=counts.total,
        pending=counts.pending,
        goal=view.campaign.goal,
        pledges=[
            PledgeCount(slug=p.slug, text=p.text, supporters=counts.pledge(p.id))
            for p in view.pledges
        ],
        partners=[
            PartnerCount(slug=partner.slug, name=partner.name, supporters=count)
            for partner, count in supporters.leaderboard(view, counts)
        ],
        url=url,
        updated_at=counts.changed_at or view.campaign.updated_at,
    )


def get_campaign(session: Session, *, slug: str, base_url: str) -> CampaignCounts:
    view, counts = view_and_counts(session, slug=slug)
    return counts_of(view, counts, f"{base_url}/c/{view.slug}")


def view_and_counts(session: Session, *, slug: str) -> tuple[CampaignView, Counts]:
    view = campaigns.get_public_view(session, slug=slug)
    return view, supporters.get_counts(session, campaign_id=view.id)


def cached_view_and_counts(slug: str) -> tuple[CampaignView, Counts] | None:
    """A public campaign and its counts as this process holds them, with no I/O, or None."""
    view = campaigns.cached_public_view(slug)
    counts = supporters.cached_counts(view.id) if view is not None else None
    return (view, counts) if view is not None and counts is not None else None


async def view_and_counts_soon(engine: Engine, *, slug: str) -> tuple[CampaignView, Counts]:
    """view_and_counts, answered on the event loop when this process holds both (the usual
    case for counters that many pages show), and from the database in the thread pool else.
    The session is opened only then: most requests for a counter need none."""
    cached = cached_view_and_counts(slug)
    if cached is not None:
        return cached
    return await shared_reads.read(("counts", engine, slug), _read_view_and_counts, engine, slug)


def _read_view_and_counts(engine: Engine, slug: str) -> tuple[CampaignView, Counts]:
    with Session(engine, expire_on_commit=False) as session:
        return view_and_counts(session, slug=slug)


def list_campaigns(session: Session, *, base_url: str) -> list[CampaignCounts]:
    views = campaigns.list_views(session)
    return [
        counts_of(view, counts, f"{base_url}/c/{view.slug}")
        for view, counts in supporters.list_with_counts(session, views=views)
    ]


# --- the widget, the badge and the share card -------------------------------------------


@dataclass(frozen=True, slots=True)
class Counter:
    """One campaign's count as a partner site shows it: in total, or through one partner."""

    view: CampaignView
    count: int
    partner: PartnerView | None

    @property
    def title(self) -> str:
        return self.view.campaign.title

    @property
    def goal(self) -> int:
        return self.view.campaign.goal


def get_counter(session: Session, *, slug: str, partner: str | None = None) -> Counter:
    """The public campaign's count; with ``partner`` (an organisation's short name), only
    the supporters that partner referred. An unknown partner is NotFound."""
    view, counts = view_and_counts(session, slug=slug)
    return counter_of(view, counts, partner=partner)


def counter_of(view: CampaignView, counts: Counts, *, partner: str | None = None) -> Counter:
    if partner is None:
        return Counter(view=view, count=counts.total, partner=None)
    found = view.partner_by_slug(partner)
    if found is None:
        raise NotFound(_("This organisation is not a partner of this campaign."))
    return Counter(view=view, count=counts.partner(found.id), partner=found)


def referrer_of(counter: Counter, *, ref: str | None) -> PartnerView | None:
    """The partner the widget's link credits: the one whose referral code ``ref`` is (a partner
    embedding everyone's count), else the partner whose count it shows, else none. A code that
    is no partner's of this campaign is ignored: the widget still shows, crediting nobody."""
    found = counter.view.partner_by_code(ref[:64]) if ref else None
    return found or counter.partner


# --- snippets for partner websites ------------------------------------------------------

SCOPES = ("all", "ours")
THEMES = ("light", "dark")


@dataclass(frozen=True, slots=True)
class EmbedChoice:
    """What the partner wants to show: whose supporters, in which colours and language."""

    scope: str = "all"  # "ours": only the supporters this organisation brought in
    theme: str = "light"
    lang: str = "id"

    @classmethod
    def parse(cls, params: Mapping[str, str], *, can_narrow: bool) -> EmbedChoice:
        scope = params.get("scope", "all")
        theme = params.get("theme", "light")
        lang = params.get("language", "id")  # not "lang": that switches the page's own language
        return cls(
            scope=scope if scope in SCOPES and (can_narrow or scope == "all") else "all",
            theme=theme if theme in THEMES else "light",
            lang=lang if lang in LOCALES else "id",
        )


@dataclass(frozen=True, slots=True)
class Snippets:
    widget_url: str
    badge_url: str
    campaign_url: str
    api_url: str
    events_url: str
    iframe: str
    badge_html: str
    badge_markdown: str


def snippets(
    view: CampaignView, partner: PartnerView | None, *, base_url: str, choice: EmbedChoice
) -> Snippets:
    """Copy-ready code for the widget, the badge and the JSON, for one campaign and choice."""
    ours = partner if choice.scope == "ours" else None
    widget_query: dict[str, str] = {"lang": choice.lang}
    if ours is not None:
        widget_query["partner"] = ours.slug
    badge_url = f"{base_url}/embed/{view.slug}.svg?{urlencode(widget_query)}"
    if choice.theme != "light":
        widget_query["theme"] = choice.theme
    if partner is not None and ours is None:
        # Everyone's count on the partner's site: its button credits the partner all the same.
        widget_query["ref"] = partner.referral_code
    widget_url = f"{base_url}/embed/{view.slug}?{urlencode(widget_query)}"
    campaign_url = f"{base_url}/c/{view.slug}"
    if partner is not None:
        # Whoever follows the badge from this partner's site is counted for it.
        campaign_url += "?" + urlencode({"ref": partner.referral_code})
    title = view.campaign.title
    iframe = (
        f'<iframe src="{escape(widget_url)}" title="{escape(title)}" width="320" height="230" '
        'style="border:0;max-width:100%" loading="lazy"></iframe>'
    )
    badge_html = (
        f'<a href="{escape(campaign_url)}"><img src="{escape(badge_url)}" '
        f'alt="{escape(title)}" height="20"></a>'
    )
    alt = re.sub(r"[\[\]\\]", "", title)
    return Snippets(
        widget_url=widget_url,
        badge_url=badge_url,
        campaign_url=campaign_url,
        api_url=f"{base_url}/api/v1/campaigns/{view.slug}",
        events_url=f"{base_url}/c/{view.slug}/events",
        iframe=iframe,
        badge_html=badge_html,
        badge_markdown=f"[![{alt}]({badge_url})]({campaign_url})",
    )
