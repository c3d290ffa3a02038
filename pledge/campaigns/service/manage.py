"""Creating and running a campaign from the partner dashboard: the campaign form checked
group of fields by group of fields, and the figures its edit page shows."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from pledge.accounts.models import Organization
from pledge.campaigns.models import (
    Campaign,
    CampaignForm,
    CampaignStatus,
    ManagedPartner,
    ManagedPledge,
    ManagePage,
)
from pledge.campaigns.service.partners import add_partner
from pledge.campaigns.service.status import TRANSITIONS
from pledge.campaigns.service.times import local_input_value, parse_local_datetime, same_minute
from pledge.campaigns.service.usage import registered_usage
from pledge.campaigns.service.views import view_of
from pledge.db import utcnow
from pledge.errors import Conflict, Invalid, NotFound
from pledge.i18n import LOCALES, number
from pledge.i18n import gettext as _
from pledge.slugs import SLUG_MAX, SLUG_RE, suggest_slug
from pledge.slugs import numbered as _numbered

TITLE_MAX = 160
SUMMARY_MAX = 500
BODY_MAX = 20_000
GOAL_MIN = 1
GOAL_MAX = 100_000_000

_GOAL_GROUPED = re.compile(r"^\d{1,3}(?:[.,\s]\d{3})+$")


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


# --- the campaign form ------------------------------------------------------------------


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
    title = _check_title(form, errors)
    slug = _check_slug(session, form, campaign, title=title, errors=errors)
    summary, body = _check_texts(form, errors)
    goal = _check_goal(form, errors)
    starts_at, ends_at = _check_dates(form, campaign, errors)
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


def _check_title(form: CampaignForm, errors: dict[str, str]) -> str:
    """The title, required and not too long."""
    title = form.title.strip()
    if not title:
        errors["title"] = _("Enter a title.")
    elif len(title) > TITLE_MAX:
        errors["title"] = _("Use at most %(max)s characters for the title.") % {"max": TITLE_MAX}
    return title


def _check_slug(
    session: Session,
    form: CampaignForm,
    campaign: Campaign | None,
    *,
    title: str,
    errors: dict[str, str],
) -> str:
    """The page's address: fixed once public, suggested from the title for a new campaign
    left without one, and used by no other campaign."""
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
            slug = _suggested_slug(session, title, errors)
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
    return slug


def _suggested_slug(session: Session, title: str, errors: dict[str, str]) -> str:
    """An address made from the title, numbered past the ones taken; empty when the title
    has no letters an address can use."""
    base = suggest_slug(title)
    if not base:
        errors["slug"] = _(
            "The title has no letters an address can use. Type an address, "
            "for example pemilu-damai."
        )
        return ""
    taken = set(session.exec(select(Campaign.slug).where(col(Campaign.slug).startswith(base))))
    return _numbered(base, taken)


def _check_texts(form: CampaignForm, errors: dict[str, str]) -> tuple[str, str]:
    """The summary and the story, each within its length."""
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
    return summary, body


def _check_goal(form: CampaignForm, errors: dict[str, str]) -> int:
    """The goal, a whole number in range, with thousands grouped or not."""
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
    return goal


def _check_dates(
    form: CampaignForm, campaign: Campaign | None, errors: dict[str, str]
) -> tuple[datetime | None, datetime | None]:
    """The start and end in order, and the end still to come unless it is the one stored or
    the campaign is closed."""
    starts_at, ends_at = _parse_dates(form, campaign, errors)
    if starts_at is not None and ends_at is not None and ends_at <= starts_at:
        errors["ends_at"] = _("The end must be after the start.")
    elif (
        ends_at is not None
        and ends_at <= utcnow()
        and (campaign is None or campaign.status != CampaignStatus.CLOSED)
        and (campaign is None or ends_at != campaign.ends_at)
    ):
        errors["ends_at"] = _(
            "The end must be in the future. To stop signatures now, close the campaign."
        )
    return starts_at, ends_at


def _parse_dates(
    form: CampaignForm, campaign: Campaign | None, errors: dict[str, str]
) -> tuple[datetime | None, datetime | None]:
    """The start and end as typed, in UTC; the stored ones when sent back unchanged."""
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
        if same_minute(campaign.starts_at, starts_at):
            starts_at = campaign.starts_at
        if same_minute(campaign.ends_at, ends_at):
            ends_at = campaign.ends_at
    return starts_at, ends_at


# --- the campaign -----------------------------------------------------------------------


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


def manage_page(session: Session, *, campaign: Campaign) -> ManagePage:
    """The campaign with what its organisers need beside each pledge and partner."""
    view = view_of(session, campaign)
    used = registered_usage()
    signatures = used.signatures_by_pledge(
        session, pledge_ids=[p.id for p in view.pledges if p.id is not None]
    )
    referrals = used.referrals_by_partner(session, campaign_id=view.id)
    updates = used.updates_by_partner(session, campaign_id=view.id)
    return ManagePage(
        view=view,
        pledges=[ManagedPledge(p, signatures.get(p.id or 0, 0)) for p in view.pledges],
        partners=[
            ManagedPartner(p, referrals.get(p.id, 0), updates.get(p.id, 0)) for p in view.partners
        ],
        next_statuses=sorted(TRANSITIONS[campaign.status]),
    )
