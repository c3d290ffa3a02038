"""Every query and rule about campaigns, their pledges and their partner organisations."""

from __future__ import annotations

import re
import secrets
import threading
import time as time_module
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

import sqlalchemy as sa
from markdown_it import MarkdownIt
from sqlalchemy import event
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from pledge import audit
from pledge.accounts import service as accounts
from pledge.accounts.models import Organization, Role, User
from pledge.campaigns.models import (
    PUBLIC_STATUSES,
    SIGNABLE_STATUSES,
    Campaign,
    CampaignForm,
    CampaignPartner,
    CampaignStatus,
    CampaignView,
    ManagedPartner,
    ManagedPledge,
    ManagePage,
    PartnerAdded,
    PartnerForm,
    PartnerFormKind,
    PartnerView,
    Pledge,
    PledgeForm,
)
from pledge.config import get_settings
from pledge.db import utcnow
from pledge.errors import Conflict, Invalid, NotFound
from pledge.i18n import LOCALES, number
from pledge.i18n import gettext as _
from pledge.slugs import SLUG_MAX, SLUG_RE, suggest_slug
from pledge.slugs import numbered as _numbered
from pledge.supporters.models import Signature, Supporter

# Referral codes are typed by hand and read aloud: no 0/O or 1/l/I.
REFERRAL_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"

# Which status may follow which.
TRANSITIONS: dict[CampaignStatus, frozenset[CampaignStatus]] = {
    CampaignStatus.DRAFT: frozenset({CampaignStatus.LIVE}),
    CampaignStatus.LIVE: frozenset({CampaignStatus.CLOSED}),
    CampaignStatus.CLOSED: frozenset({CampaignStatus.LIVE}),
}


# CommonMark with raw HTML off: partner text can never inject markup or script.
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})


def render_markdown(text: str) -> str:
    return _markdown.render(text)


def new_referral_code() -> str:
    return "".join(secrets.choice(REFERRAL_ALPHABET) for _ in range(8))


def get_by_slug(session: Session, slug: str) -> Campaign:
    # PostgreSQL refuses a NUL in any text it is sent; no slug holds one.
    if "\x00" in slug:
        raise NotFound(_("We could not find that campaign."))
    campaign = session.exec(select(Campaign).where(Campaign.slug == slug)).first()
    if campaign is None:
        raise NotFound(_("We could not find that campaign."))
    return campaign


def get_view(session: Session, *, slug: str, public: bool = True) -> CampaignView:
    """A campaign with its pledges and partners; drafts are not public."""
    campaign = get_by_slug(session, slug)
    if public and campaign.status not in PUBLIC_STATUSES:
        raise NotFound(_("We could not find that campaign."))
    return _view(session, campaign)


# --- public campaigns, kept for a moment per process ------------------------------------
#
# Every public request needs the campaign with its pledges and partners: three queries. A
# process keeps each public view for PLEDGE_CAMPAIGN_CACHE_SECONDS. A change committed through
# this process (a campaign, pledge, partner or organisation saved) empties the cache at once;
# another process sees it when its copy expires.

_CACHED_TYPES = (Campaign, Pledge, CampaignPartner, Organization)


class _ViewCache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._views: dict[str, tuple[float, CampaignView]] = {}

    def get(self, slug: str, max_age: float) -> CampaignView | None:
        entry = self._views.get(slug)
        if entry is not None and time_module.monotonic() - entry[0] < max_age:
            return entry[1]
        return None

    def put(self, slug: str, view: CampaignView) -> CampaignView:
        """Keep a view just read. One equal to the view kept already keeps the older object,
        so that the pages and bodies drawn from it stay valid."""
        with self._lock:
            entry = self._views.get(slug)
            if entry is not None and _same_view(entry[1], view):
                view = entry[1]
            self._views[slug] = (time_module.monotonic(), view)
        return view

    def clear(self) -> None:
        with self._lock:
            self._views.clear()


def _same_view(kept: CampaignView, read: CampaignView) -> bool:
    """The same campaign, pledges and partners, column by column."""
    return (
        kept.campaign.model_dump() == read.campaign.model_dump()
        and [p.model_dump() for p in kept.pledges] == [p.model_dump() for p in read.pledges]
        and kept.partners == read.partners
    )


_views = _ViewCache()


def forget_views() -> None:
    _views.clear()


def cached_public_view(slug: str) -> CampaignView | None:
    max_age = get_settings().campaign_cache_seconds
    return _views.get(slug, max_age) if max_age > 0 else None


def get_public_view(session: Session, *, slug: str) -> CampaignView:
    """A public campaign as get_view gives it, from this process's cache when fresh."""
    max_age = get_settings().campaign_cache_seconds
    view = _views.get(slug, max_age) if max_age > 0 else None
    if view is None:
        view = get_view(session, slug=slug, public=True)
        if max_age > 0:
            view = _views.put(slug, view)
    return view


@event.listens_for(Session, "before_flush")
def _note_campaign_changes(session: Session, _context: Any, _instances: Any) -> None:
    changed = (*session.new, *session.dirty, *session.deleted)
    if any(isinstance(obj, _CACHED_TYPES) for obj in changed):
        session.info["campaigns_changed"] = True


@event.listens_for(Session, "after_commit")
def _forget_changed_campaigns(session: Session) -> None:
    if session.info.pop("campaigns_changed", False):
        _views.clear()


@event.listens_for(Session, "after_rollback")
def _keep_views_after_rollback(session: Session) -> None:
    session.info.pop("campaigns_changed", None)


def _view(session: Session, campaign: Campaign) -> CampaignView:
    pledges = list(
        session.exec(
            select(Pledge)
            .where(Pledge.campaign_id == campaign.id)
            .order_by(col(Pledge.position), col(Pledge.id))
        )
    )
    rows = session.exec(
        select(CampaignPartner, Organization)
        .join(Organization, col(Organization.id) == CampaignPartner.org_id)
        .where(CampaignPartner.campaign_id == campaign.id)
        .order_by(col(CampaignPartner.id))
    )
    partners = [
        PartnerView(
            id=partner.id or 0,
            slug=org.slug,
            name=org.name,
            website=org.website,
            referral_code=partner.referral_code,
            is_lead=org.id == campaign.lead_org_id,
        )
        for partner, org in rows
    ]
    partners.sort(key=lambda p: (not p.is_lead, p.name.lower()))
    return CampaignView(campaign=campaign, pledges=pledges, partners=partners)


def list_views(
    session: Session, *, statuses: frozenset[CampaignStatus] = PUBLIC_STATUSES
) -> list[CampaignView]:
    campaigns = session.exec(
        select(Campaign)
        .where(col(Campaign.status).in_(list(statuses)))
        .order_by(col(Campaign.status).desc(), col(Campaign.created_at).desc())
    )
    return [_view(session, campaign) for campaign in campaigns]


def create(
    session: Session,
    *,
    slug: str,
    title: str,
    lead_org: Organization,
    summary: str = "",
    body: str = "",
    goal: int = 1000,
    locale: str = "id",
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    referral_code: str | None = None,
) -> Campaign:
    """A draft campaign led by an organisation, which is its first partner."""
    if not SLUG_RE.fullmatch(slug) or len(slug) > 64:
        raise Invalid({"slug": _("Use lower-case letters, digits and dashes only.")})
    if session.exec(select(Campaign).where(Campaign.slug == slug)).first():
        raise Conflict(_("A campaign with this address already exists."))
    campaign = Campaign(
        slug=slug,
        title=title,
        summary=summary,
        body=body,
        lead_org_id=lead_org.id or 0,
        goal=goal,
        locale=locale,
        starts_at=starts_at,
        ends_at=ends_at,
    )
    session.add(campaign)
    session.flush()
    add_partner(session, campaign=campaign, org=lead_org, referral_code=referral_code)
    return campaign


def add_pledge(session: Session, *, campaign: Campaign, slug: str, text: str) -> Pledge:
    if not SLUG_RE.fullmatch(slug) or len(slug) > 64:
        raise Invalid({"slug": _("Use lower-case letters, digits and dashes only.")})
    existing = session.exec(
        select(Pledge).where(Pledge.campaign_id == campaign.id, Pledge.slug == slug)
    ).first()
    if existing:
        raise Conflict(_("This campaign already has a pledge with that address."))
    # After the last one, even when deletions left gaps in the positions.
    last = session.exec(
        select(func.max(Pledge.position)).where(Pledge.campaign_id == campaign.id)
    ).one()
    position = 0 if last is None else last + 1
    pledge = Pledge(campaign_id=campaign.id or 0, slug=slug, text=text, position=position)
    session.add(pledge)
    session.flush()
    return pledge


def add_partner(
    session: Session, *, campaign: Campaign, org: Organization, referral_code: str | None = None
) -> CampaignPartner:
    existing = session.exec(
        select(CampaignPartner).where(
            CampaignPartner.campaign_id == campaign.id, CampaignPartner.org_id == org.id
        )
    ).first()
    if existing:
        return existing
    partner = CampaignPartner(
        campaign_id=campaign.id or 0,
        org_id=org.id or 0,
        referral_code=referral_code or new_referral_code(),
    )
    session.add(partner)
    session.flush()
    return partner


def is_signable(campaign: Campaign, now: datetime | None = None) -> bool:
    """Live, started, and not past its end date."""
    now = now or utcnow()
    return (
        campaign.status in SIGNABLE_STATUSES
        and (campaign.starts_at is None or campaign.starts_at <= now)
        and (campaign.ends_at is None or now < campaign.ends_at)
    )


def set_status(
    session: Session,
    *,
    campaign: Campaign,
    status: CampaignStatus,
    actor_id: int | None = None,
) -> Campaign:
    """Move a campaign to another status, refusing the moves that make no sense.

    Every move lands in the audit log, with who made it and from which status to which."""
    if status == campaign.status:
        return campaign
    if status not in TRANSITIONS[campaign.status]:
        raise Invalid({"status": _refused_move(campaign.status, status)})
    now = utcnow()
    previous = campaign.status
    if status == CampaignStatus.LIVE:
        reopening = previous == CampaignStatus.CLOSED
        has_pledges = session.exec(
            select(Pledge.id).where(Pledge.campaign_id == campaign.id)
        ).first()
        if not has_pledges:
            raise Invalid({"status": _("Add at least one pledge before going live.")})
        lead = session.get(Organization, campaign.lead_org_id)
        if lead is None or not lead.verified:
            raise Invalid(
                {
                    "status": _(
                        "Your organisation has not been approved by the site's administrators "
                        "yet, so its campaigns cannot go live. Ask them to approve it."
                    )
                }
            )
        if reopening and campaign.ends_at is not None and campaign.ends_at <= now:
            campaign.ends_at = None  # the end date set by closing would refuse everyone
        if campaign.starts_at is None:
            campaign.starts_at = now
        campaign.closed_at = None  # retention counts from the next closing
    if status == CampaignStatus.CLOSED:
        campaign.ends_at = min(campaign.ends_at, now) if campaign.ends_at else now
        campaign.closed_at = now
    campaign.status = status
    campaign.updated_at = now
    session.add(campaign)
    audit.record(
        session,
        actor_id=actor_id,
        action="campaign.status",
        subject=f"campaign:{campaign.id}",
        data={"from": previous.value, "to": status.value, "slug": campaign.slug},
    )
    session.flush()
    return campaign


def _refused_move(current: CampaignStatus, wanted: CampaignStatus) -> str:
    if current == CampaignStatus.DRAFT and wanted == CampaignStatus.CLOSED:
        return _("A draft cannot be closed: it was never public. Put it live first.")
    if wanted == CampaignStatus.DRAFT:
        return _("A campaign that has been public cannot go back to being a draft.")
    return _("A campaign cannot move from this status to that one.")


# --- managing a campaign: the partner dashboard --------------------------------------------

TITLE_MAX = 160
SUMMARY_MAX = 500
BODY_MAX = 20_000
GOAL_MIN = 1
GOAL_MAX = 100_000_000
PLEDGE_TEXT_MAX = 200
PLEDGES_MAX = 20  # the signing form reads at most 50; a phone screen shows far fewer
ORG_NAME_MAX = 160

# Western Indonesian Time: UTC+7 all year (no daylight saving since 1964). A fixed offset
# needs no time-zone database on the server.
WIB = timezone(timedelta(hours=7), "WIB")
_LOCAL_FORMAT = "%Y-%m-%dT%H:%M"
_GOAL_GROUPED = re.compile(r"^\d{1,3}(?:[.,\s]\d{3})+$")


def local_input_value(moment: datetime | None) -> str:
    """A stored UTC time as a ``datetime-local`` field shows it, in Jakarta time."""
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(WIB).strftime(_LOCAL_FORMAT)


def local_display(moment: datetime | None) -> str:
    """A stored UTC time written for people in Jakarta time: 2029-01-31 08:00."""
    return local_input_value(moment).replace("T", " ")


def parse_local_datetime(raw: str, *, end_of_day: bool = False) -> datetime | None:
    """A date or date-time typed in Jakarta time, as UTC; None when left empty.

    A date alone means the start of that day, or its last minute for an end date.
    Raises ValueError when the text is not a date."""
    text = raw.strip()
    if not text:
        return None
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            clock = time(23, 59) if end_of_day else time(0, 0)
            return datetime.combine(day, clock, tzinfo=WIB).astimezone(UTC)
        moment = datetime.fromisoformat(text)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=WIB)
        return moment.astimezone(UTC)
    except OverflowError:  # the first hours of year 1 have no UTC time
        raise ValueError(text) from None


def form_of(campaign: Campaign) -> CampaignForm:
    """The campaign form filled in with what is stored."""
    return CampaignForm(
        title=campaign.title,
        slug=campaign.slug,
        summary=campaign.summary,
        body=campaign.body,
        goal=str(campaign.goal),
        starts_at=local_input_value(campaign.starts_at),
        ends_at=local_input_value(campaign.ends_at),
        locale=campaign.locale,
    )


def _same_minute(stored: datetime | None, given: datetime | None) -> bool:
    """The form shows minutes only: sending a stored time back unchanged keeps it exactly."""
    if stored is None or given is None:
        return stored is given
    return local_input_value(stored) == local_input_value(given)


@dataclass(frozen=True, slots=True)
class _CleanCampaign:
    title: str
    slug: str
    summary: str
    body: str
    goal: int
    starts_at: datetime | None
    ends_at: datetime | None
    locale: str


def _clean_campaign(
    session: Session, *, form: CampaignForm, campaign: Campaign | None = None
) -> _CleanCampaign:
    """The posted campaign form checked field by field; every problem reported at once."""
    errors: dict[str, str] = {}
    now = utcnow()

    title = form.title.strip()
    if not title:
        errors["title"] = _("Enter a title.")
    elif len(title) > TITLE_MAX:
        errors["title"] = _("Use at most %(max)s characters for the title.") % {"max": TITLE_MAX}

    slug = form.slug.strip().lower()
    public = campaign is not None and campaign.status != CampaignStatus.DRAFT
    if campaign is not None and public and slug != campaign.slug:
        errors["slug"] = _(
            "The address cannot change once the campaign has been public: links people "
            "already shared would stop working."
        )
    elif not slug:
        if campaign is not None:
            errors["slug"] = _("Enter an address for the campaign page.")
        elif title and not errors.get("title"):
            base = suggest_slug(title)
            if base:
                taken = set(
                    session.exec(select(Campaign.slug).where(col(Campaign.slug).startswith(base)))
                )
                slug = _numbered(base, taken)
            else:
                errors["slug"] = _(
                    "The title has no letters an address can use. Type an address, "
                    "for example pemilu-damai."
                )
    elif len(slug) > SLUG_MAX:
        errors["slug"] = _("Use at most %(max)s characters for the address.") % {"max": SLUG_MAX}
    elif not SLUG_RE.fullmatch(slug):
        errors["slug"] = _(
            "Use lower-case letters (a-z), digits and single dashes only, "
            "for example pemilu-damai-2029."
        )
    else:
        other = session.exec(select(Campaign).where(Campaign.slug == slug)).first()
        if other is not None and (campaign is None or other.id != campaign.id):
            errors["slug"] = _("Another campaign already uses this address. Choose another one.")

    summary = form.summary.strip()
    if len(summary) > SUMMARY_MAX:
        errors["summary"] = _("Use at most %(max)s characters for the summary.") % {
            "max": SUMMARY_MAX
        }

    body = form.body.replace("\r\n", "\n").strip()
    if len(body) > BODY_MAX:
        errors["body"] = _("The story is %(length)s characters long; use at most %(max)s.") % {
            "length": f"{len(body):,}",
            "max": f"{BODY_MAX:,}",
        }

    goal = 0
    raw_goal = form.goal.strip()
    if _GOAL_GROUPED.fullmatch(raw_goal):
        raw_goal = re.sub(r"[.,\s]", "", raw_goal)
    if not raw_goal:
        errors["goal"] = _("Enter a goal: how many supporters you hope for.")
    elif not raw_goal.isascii() or not raw_goal.isdigit():
        errors["goal"] = _("Enter the goal as a whole number, for example 10000.")
    else:
        goal = int(raw_goal)
        if not GOAL_MIN <= goal <= GOAL_MAX:
            errors["goal"] = _("The goal must be between %(min)s and %(max)s.") % {
                "min": number(GOAL_MIN),
                "max": number(GOAL_MAX),
            }

    starts_at = ends_at = None
    try:
        starts_at = parse_local_datetime(form.starts_at)
    except ValueError:
        errors["starts_at"] = _("Enter the start as a date and time, for example 2029-01-31 08:00.")
    try:
        ends_at = parse_local_datetime(form.ends_at, end_of_day=True)
    except ValueError:
        errors["ends_at"] = _("Enter the end as a date and time, for example 2029-02-14 23:59.")
    if campaign is not None:
        # Sent back unchanged: keep the stored time to the second.
        if _same_minute(campaign.starts_at, starts_at):
            starts_at = campaign.starts_at
        if _same_minute(campaign.ends_at, ends_at):
            ends_at = campaign.ends_at
    if starts_at is not None and ends_at is not None and ends_at <= starts_at:
        errors["ends_at"] = _("The end must be after the start.")
    elif (
        ends_at is not None
        and ends_at <= now
        and (campaign is None or campaign.status != CampaignStatus.CLOSED)
        and (campaign is None or ends_at != campaign.ends_at)
    ):
        errors["ends_at"] = _(
            "The end must be in the future. To stop signatures now, close the campaign."
        )

    locale = form.locale.strip()
    if locale not in LOCALES:
        errors["locale"] = _("Choose the language the campaign is written in.")

    if errors:
        raise Invalid(errors)
    return _CleanCampaign(
        title=title,
        slug=slug,
        summary=summary,
        body=body,
        goal=goal,
        starts_at=starts_at,
        ends_at=ends_at,
        locale=locale,
    )


def get_managed(session: Session, *, org: Organization, slug: str) -> Campaign:
    """A campaign its lead organisation manages; any other organisation is told it does not
    exist, so that drafts stay private."""
    campaign = session.exec(select(Campaign).where(Campaign.slug == slug)).first()
    if campaign is None or campaign.lead_org_id != org.id:
        raise NotFound(_("We could not find that campaign."))
    return campaign


def create_draft(session: Session, *, lead_org: Organization, form: CampaignForm) -> Campaign:
    """A new draft led by the organisation, from the dashboard's form."""
    clean = _clean_campaign(session, form=form)
    try:
        return create(
            session,
            slug=clean.slug,
            title=clean.title,
            lead_org=lead_org,
            summary=clean.summary,
            body=clean.body,
            goal=clean.goal,
            locale=clean.locale,
            starts_at=clean.starts_at,
            ends_at=clean.ends_at,
        )
    except (Conflict, IntegrityError):
        # Taken between the check and the insert by someone else's campaign.
        raise Invalid(
            {"slug": _("Another campaign already uses this address. Choose another one.")}
        ) from None


def update(session: Session, *, campaign: Campaign, form: CampaignForm) -> Campaign:
    """Save the campaign form. The address is fixed once the campaign has been public."""
    clean = _clean_campaign(session, form=form, campaign=campaign)
    campaign.title = clean.title
    campaign.slug = clean.slug
    campaign.summary = clean.summary
    campaign.body = clean.body
    campaign.goal = clean.goal
    campaign.starts_at = clean.starts_at
    campaign.ends_at = clean.ends_at
    campaign.locale = clean.locale
    campaign.updated_at = utcnow()
    session.add(campaign)
    try:
        session.flush()
    except IntegrityError:
        raise Invalid(
            {"slug": _("Another campaign already uses this address. Choose another one.")}
        ) from None
    return campaign


def change_status(
    session: Session, *, campaign: Campaign, status: str, actor: User | None
) -> Campaign:
    """A status move asked for on the dashboard."""
    try:
        wanted = CampaignStatus(status.strip())
    except ValueError:
        raise Invalid({"status": _("Choose a status.")}) from None
    return set_status(
        session, campaign=campaign, status=wanted, actor_id=actor.id if actor else None
    )


def manage_page(session: Session, *, campaign: Campaign) -> ManagePage:
    """The campaign with what its organisers need beside each pledge and partner."""
    view = _view(session, campaign)
    signatures = dict(
        session.exec(
            select(Signature.pledge_id, func.count())
            .join(Pledge, col(Pledge.id) == Signature.pledge_id)
            .where(Pledge.campaign_id == campaign.id)
            .group_by(col(Signature.pledge_id))
        ).all()
    )
    referrals = _supporters_by(session, campaign, Supporter.referrer_id)
    updates = _supporters_by(session, campaign, Supporter.updates_partner_id)
    return ManagePage(
        view=view,
        pledges=[ManagedPledge(p, signatures.get(p.id or 0, 0)) for p in view.pledges],
        partners=[
            ManagedPartner(p, referrals.get(p.id, 0), updates.get(p.id, 0)) for p in view.partners
        ],
        next_statuses=sorted(TRANSITIONS[campaign.status]),
    )


def _supporters_by(session: Session, campaign: Campaign, column: Any) -> dict[int, int]:
    """How many supporters of the campaign point at each partner through one column."""
    rows = session.exec(
        select(column, func.count())
        .where(Supporter.campaign_id == campaign.id, col(column).is_not(None))
        .group_by(column)
    ).all()
    return {int(key): int(count) for key, count in rows}


# --- pledges ---------------------------------------------------------------------------


def _pledges(session: Session, campaign: Campaign) -> list[Pledge]:
    return list(
        session.exec(
            select(Pledge)
            .where(Pledge.campaign_id == campaign.id)
            .order_by(col(Pledge.position), col(Pledge.id))
        )
    )


def _pledge(session: Session, campaign: Campaign, pledge_id: int) -> Pledge:
    pledge = session.get(Pledge, pledge_id)
    if pledge is None or pledge.campaign_id != campaign.id:
        raise NotFound(_("We could not find that pledge."))
    return pledge


def _clean_pledge_text(raw: str) -> str:
    text = " ".join(raw.split())
    if not text:
        raise Invalid({"text": _("Enter the pledge's text.")})
    if len(text) > PLEDGE_TEXT_MAX:
        raise Invalid(
            {"text": _("Use at most %(max)s characters for a pledge.") % {"max": PLEDGE_TEXT_MAX}}
        )
    return text


def create_pledge(session: Session, *, campaign: Campaign, form: PledgeForm) -> Pledge:
    """A pledge added on the dashboard, after the others; its address suggested from its text."""
    existing = _pledges(session, campaign)
    if len(existing) >= PLEDGES_MAX:
        raise Invalid(
            {"text": _("A campaign can have at most %(max)s pledges.") % {"max": PLEDGES_MAX}}
        )
    text = _clean_pledge_text(form.text)
    taken = {p.slug for p in existing}
    slug = form.slug.strip().lower()
    if not slug:
        base = suggest_slug(text, max_length=40)
        if not base:
            raise Invalid(
                {"slug": _("The text has no letters an address can use. Type an address.")}
            )
        slug = _numbered(base, taken)
    elif len(slug) > SLUG_MAX:
        raise Invalid(
            {"slug": _("Use at most %(max)s characters for the address.") % {"max": SLUG_MAX}}
        )
    elif not SLUG_RE.fullmatch(slug):
        raise Invalid({"slug": _("Use lower-case letters (a-z), digits and single dashes only.")})
    elif slug in taken:
        raise Invalid({"slug": _("This campaign already has a pledge with this address.")})
    return add_pledge(session, campaign=campaign, slug=slug, text=text)


def update_pledge(
    session: Session, *, campaign: Campaign, pledge_id: int, form: PledgeForm
) -> Pledge:
    """Change a pledge's text. Allowed when live: the page warns that signers agreed to the
    text as it was, so only corrections belong here."""
    pledge = _pledge(session, campaign, pledge_id)
    pledge.text = _clean_pledge_text(form.text)
    session.add(pledge)
    session.flush()
    return pledge


def move_pledge(session: Session, *, campaign: Campaign, pledge_id: int, direction: str) -> Pledge:
    """Swap a pledge with the one above or below it; the first cannot go further up."""
    if direction not in ("up", "down"):
        raise Invalid({"pledge": _("Choose up or down.")})
    pledges = _pledges(session, campaign)
    index = next((i for i, p in enumerate(pledges) if p.id == pledge_id), None)
    if index is None:
        raise NotFound(_("We could not find that pledge."))
    moved = pledges[index]
    target = index - 1 if direction == "up" else index + 1
    if 0 <= target < len(pledges):
        pledges[index], pledges[target] = pledges[target], moved
    _renumber(session, pledges)
    return moved


def _renumber(session: Session, pledges: list[Pledge]) -> None:
    for position, pledge in enumerate(pledges):
        if pledge.position != position:
            pledge.position = position
            session.add(pledge)
    session.flush()


def delete_pledge(session: Session, *, campaign: Campaign, pledge_id: int) -> None:
    """Remove a pledge from a draft. Once people could sign, a pledge stays: removing it
    would take away what they signed."""
    pledge = _pledge(session, campaign, pledge_id)
    if campaign.status != CampaignStatus.DRAFT:
        raise Invalid(
            {
                "pledge": _(
                    "Pledges cannot be removed once the campaign has been public: people "
                    "signed them. You can still correct the text."
                )
            }
        )
    signed = session.exec(select(Signature.id).where(Signature.pledge_id == pledge.id)).first()
    if signed is not None:
        raise Invalid({"pledge": _("People have signed this pledge, so it cannot be removed.")})
    session.delete(pledge)
    session.flush()
    _renumber(session, _pledges(session, campaign))


# --- partner organisations -------------------------------------------------------------


def add_co_partner(
    session: Session,
    *,
    campaign: Campaign,
    form: PartnerForm,
    invited_by: User | None,
    base_url: str,
) -> PartnerAdded:
    """Add a partner organisation with its own referral code: one already on the site, or a
    new one (not yet approved) whose first admin is invited by email."""
    if form.kind == PartnerFormKind.INVITE:
        return _invite_partner(
            session, campaign=campaign, form=form, invited_by=invited_by, base_url=base_url
        )
    slug = form.org_slug.strip().lower()
    if not slug:
        raise Invalid({"org_slug": _("Enter the organisation's short name.")})
    org = session.exec(select(Organization).where(Organization.slug == slug[:SLUG_MAX])).first()
    if org is None:
        raise Invalid(
            {
                "org_slug": _(
                    "No organisation has this short name. Check it with them, or invite "
                    "them as a new organisation below."
                )
            }
        )
    if _partner_of(session, campaign, org) is not None:
        raise Invalid({"org_slug": _("%(name)s is already a partner.") % {"name": org.name}})
    partner = add_partner(session, campaign=campaign, org=org)
    return PartnerAdded(partner=partner, org_name=org.name, invited=False)


def _partner_of(session: Session, campaign: Campaign, org: Organization) -> CampaignPartner | None:
    return session.exec(
        select(CampaignPartner).where(
            CampaignPartner.campaign_id == campaign.id, CampaignPartner.org_id == org.id
        )
    ).first()


def _invite_partner(
    session: Session,
    *,
    campaign: Campaign,
    form: PartnerForm,
    invited_by: User | None,
    base_url: str,
) -> PartnerAdded:
    errors: dict[str, str] = {}
    name = " ".join(form.name.split())
    if not name:
        errors["name"] = _("Enter the organisation's name.")
    elif len(name) > ORG_NAME_MAX:
        errors["name"] = _("Use at most %(max)s characters for the name.") % {"max": ORG_NAME_MAX}
    elif session.exec(
        select(Organization).where(func.lower(Organization.name) == name.lower())
    ).first():
        errors["name"] = _(
            "An organisation with this name is already on the site: add it by its short name above."
        )
    email = ""
    try:
        email = accounts.normalise_email(form.email)
    except Invalid as error:
        errors["email"] = error.errors.get("email") or _("Enter a valid email address.")
    base = suggest_slug(name) if name else ""
    if name and not errors.get("name") and not base:
        base = "org"
    if errors:
        raise Invalid(errors)
    taken = set(
        session.exec(select(Organization.slug).where(col(Organization.slug).startswith(base)))
    )
    org = accounts.create_org(session, slug=_numbered(base, taken), name=name, verified=False)
    partner = add_partner(session, campaign=campaign, org=org)
    accounts.invite(
        session,
        org=org,
        email=email,
        role=Role.ADMIN,
        invited_by=invited_by,
        base_url=base_url,
    )
    return PartnerAdded(partner=partner, org_name=org.name, invited=True)


def remove_partner(session: Session, *, campaign: Campaign, partner_id: int) -> Organization:
    """Take a partner off a campaign: never the lead, and never one that supporters came
    through or asked for news, since their signatures and choices point at it."""
    partner = session.get(CampaignPartner, partner_id)
    if partner is None or partner.campaign_id != campaign.id:
        raise NotFound(_("We could not find that partner."))
    org = session.get(Organization, partner.org_id)
    assert org is not None
    if partner.org_id == campaign.lead_org_id:
        raise Invalid({"partner": _("The lead organisation cannot be removed.")})
    used = session.exec(
        select(Supporter.id).where(
            sa.or_(
                col(Supporter.referrer_id) == partner.id,
                col(Supporter.updates_partner_id) == partner.id,
            )
        )
    ).first()
    if used is not None:
        raise Invalid(
            {
                "partner": _(
                    "Supporters signed through %(name)s's link or asked it for news, so it "
                    "stays a partner."
                )
                % {"name": org.name}
            }
        )
    session.delete(partner)
    session.flush()
    return org
