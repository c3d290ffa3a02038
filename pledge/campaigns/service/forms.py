"""The forms of the campaign editor: the campaign itself, a pledge, a partner organisation.

Each is read from the posted form (``read``) and its fields checked with the shared field
checks (``clean``, into a `Checks`); the services add what only the database knows (an
address taken, an organisation that is or is not on the site) before the messages are given.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from pledge import forms
from pledge.campaigns.models import Campaign, CampaignStatus, Confirming
from pledge.campaigns.service.times import parse_local_datetime, same_minute
from pledge.db import utcnow
from pledge.forms import Checks, FieldError, PostedForm, posted
from pledge.i18n import LOCALES, number
from pledge.i18n import gettext as _
from pledge.slugs import SLUG_MAX

TITLE_MAX = 160
SUMMARY_MAX = 500
BODY_MAX = 20_000
BODY_FIELD_MAX = 40_000  # twice the longest story, so that "too long" can be shown with it
GOAL_MIN = 1
GOAL_MAX = 100_000_000
PLEDGE_TEXT_MAX = 200
ORG_NAME_MAX = 160

_GOAL_GROUPED = re.compile(r"^\d{1,3}(?:[.,\s]\d{3})+$")


# --- the campaign -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CleanCampaign:
    title: str
    slug: str  # "" when left empty for a new campaign: the service suggests one
    summary: str
    body: str
    goal: int
    starts_at: datetime | None
    ends_at: datetime | None
    locale: str
    confirming: Confirming | None = None  # None: as it is (a new campaign: by both channels)


@dataclass(frozen=True, slots=True)
class CampaignForm(PostedForm):
    """The campaign form as posted; every field a string so that bad input can be shown back.

    Dates are as typed in a ``datetime-local`` field, in Jakarta time (WIB)."""

    title: str = ""
    slug: str = ""
    summary: str = ""
    body: str = posted(limit=BODY_FIELD_MAX)
    goal: str = "1000"
    starts_at: str = ""
    ends_at: str = ""
    locale: str = "id"
    confirming: str = ""

    @property
    def confirming_choices(self) -> list[Confirming]:
        """The ways a campaign's signatures can be confirmed, as the form offers them."""
        return list(Confirming)

    def clean(self, checks: Checks, campaign: Campaign | None = None) -> CleanCampaign:
        """Every field checked into `checks`, for a new campaign or the one being edited."""
        title = checks.run(
            "title",
            forms.text,
            self.title,
            max_length=TITLE_MAX,
            required=_("Enter a title."),
            too_long=_("Use at most %(max)s characters for the title.") % {"max": TITLE_MAX},
        )
        slug = checks.run("slug", _check_campaign_slug, self.slug, campaign)
        summary = checks.run(
            "summary",
            forms.text,
            self.summary,
            max_length=SUMMARY_MAX,
            too_long=_("Use at most %(max)s characters for the summary.") % {"max": SUMMARY_MAX},
        )
        body = checks.run("body", _check_body, self.body)
        goal = checks.run("goal", _check_goal, self.goal)
        starts_at, ends_at = _check_dates(self, campaign, checks)
        locale = checks.run(
            "locale",
            forms.choice,
            self.locale,
            LOCALES,
            message=_("Choose the language the campaign is written in."),
        )
        confirming = checks.run(
            "confirming",
            forms.choice,
            self.confirming,
            [member.value for member in Confirming],
            message=_("Choose how signatures are confirmed."),
            required=False,
        )
        return CleanCampaign(
            confirming=Confirming(confirming) if confirming else None,
            title=title or "",
            slug=slug or "",
            summary=summary or "",
            body=body or "",
            goal=goal or 0,
            starts_at=starts_at,
            ends_at=ends_at,
            locale=locale or "",
        )


def _check_campaign_slug(raw: str, campaign: Campaign | None) -> str:
    """The page's address: fixed once public, and asked for again when an edited campaign's
    is emptied; a new campaign may leave it empty for one to be made from its title."""
    slug = raw.strip().lower()
    if campaign is not None and campaign.status != CampaignStatus.DRAFT and slug != campaign.slug:
        raise FieldError(
            _(
                "The address cannot change once the campaign has been public: links people "
                "already shared would stop working."
            )
        )
    return forms.slug(
        raw,
        required=_("Enter an address for the campaign page.") if campaign is not None else None,
        too_long=_("Use at most %(max)s characters for the address.") % {"max": SLUG_MAX},
        message=_(
            "Use lower-case letters (a-z), digits and single dashes only, "
            "for example pemilu-damai-2029."
        ),
    )


def _check_body(raw: str) -> str:
    """The story, with its length said when it is too long."""
    body = raw.replace("\r\n", "\n").strip()
    too_long = _("The story is %(length)s characters long; use at most %(max)s.") % {
        "length": f"{len(body):,}",
        "max": f"{BODY_MAX:,}",
    }
    return forms.text(body, max_length=BODY_MAX, too_long=too_long)


def _check_goal(raw: str) -> int:
    """The goal, a whole number in range, with thousands grouped or not."""
    goal = raw.strip()
    if _GOAL_GROUPED.fullmatch(goal):
        goal = re.sub(r"[.,\s]", "", goal)
    if not goal:
        raise FieldError(_("Enter a goal: how many supporters you hope for."))
    if not goal.isascii() or not goal.isdigit():
        raise FieldError(_("Enter the goal as a whole number, for example 10000."))
    message = _("The goal must be between %(min)s and %(max)s.") % {
        "min": number(GOAL_MIN),
        "max": number(GOAL_MAX),
    }
    return forms.integer(goal, minimum=GOAL_MIN, maximum=GOAL_MAX, message=message)


def _check_dates(
    form: CampaignForm, campaign: Campaign | None, checks: Checks
) -> tuple[datetime | None, datetime | None]:
    """The start and end in order, and the end still to come unless it is the one stored or
    the campaign is closed."""
    starts_at, ends_at = _parse_dates(form, campaign, checks)
    if starts_at is not None and ends_at is not None and ends_at <= starts_at:
        checks.refuse("ends_at", _("The end must be after the start."))
    elif (
        ends_at is not None
        and ends_at <= utcnow()
        and (campaign is None or campaign.status != CampaignStatus.CLOSED)
        and (campaign is None or ends_at != campaign.ends_at)
    ):
        checks.refuse(
            "ends_at",
            _("The end must be in the future. To stop signatures now, close the campaign."),
        )
    return starts_at, ends_at


def _parse_dates(
    form: CampaignForm, campaign: Campaign | None, checks: Checks
) -> tuple[datetime | None, datetime | None]:
    """The start and end as typed, in UTC; the stored ones when sent back unchanged."""
    starts_at = ends_at = None
    try:
        starts_at = parse_local_datetime(form.starts_at)
    except ValueError:
        checks.refuse(
            "starts_at", _("Enter the start as a date and time, for example 2029-01-31 08:00.")
        )
    try:
        ends_at = parse_local_datetime(form.ends_at, end_of_day=True)
    except ValueError:
        checks.refuse(
            "ends_at", _("Enter the end as a date and time, for example 2029-02-14 23:59.")
        )
    if campaign is not None:
        # Sent back unchanged: keep the stored time to the second.
        if same_minute(campaign.starts_at, starts_at):
            starts_at = campaign.starts_at
        if same_minute(campaign.ends_at, ends_at):
            ends_at = campaign.ends_at
    return starts_at, ends_at


# --- a pledge ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PledgeForm(PostedForm):
    """A pledge's text, and for a new one the address it may be given."""

    text: str = ""
    slug: str = ""

    def clean(self, checks: Checks) -> PledgeForm:
        """The text on one line and the address as typed ("" when left empty), checked."""
        text = checks.run("text", check_pledge_text, self.text)
        slug = checks.run(
            "slug",
            forms.slug,
            self.slug,
            too_long=_("Use at most %(max)s characters for the address.") % {"max": SLUG_MAX},
            message=_("Use lower-case letters (a-z), digits and single dashes only."),
        )
        return PledgeForm(text=text or "", slug=slug or "")


def check_pledge_text(raw: str) -> str:
    return forms.text(
        raw,
        max_length=PLEDGE_TEXT_MAX,
        required=_("Enter the pledge's text."),
        too_long=_("Use at most %(max)s characters for a pledge.") % {"max": PLEDGE_TEXT_MAX},
        collapse=True,
    )


# --- a partner --------------------------------------------------------------------------


class PartnerFormKind(StrEnum):
    EXISTING = "existing"  # an organisation already on the site, named by its short name
    INVITE = "invite"  # a new organisation, created here, whose first admin gets an invitation


@dataclass(frozen=True, slots=True)
class PartnerForm(PostedForm):
    """A co-partner: one already on the site by its short name, or a new organisation
    invited through its first admin's email."""

    kind: str = PartnerFormKind.EXISTING.value
    org_slug: str = ""
    name: str = ""
    email: str = ""

    @property
    def inviting(self) -> bool:
        return self.kind == PartnerFormKind.INVITE

    def clean(self, checks: Checks) -> PartnerForm:
        """The fields of the kind chosen, checked: the short name of one on the site, or the
        name and the admin's email of a new one."""
        if not self.inviting:
            slug = self.org_slug.strip().lower()
            if not slug:
                checks.refuse("org_slug", _("Enter the organisation's short name."))
            return PartnerForm(kind=self.kind, org_slug=slug[:SLUG_MAX])
        name = checks.run(
            "name",
            forms.text,
            self.name,
            max_length=ORG_NAME_MAX,
            required=_("Enter the organisation's name."),
            too_long=_("Use at most %(max)s characters for the name.") % {"max": ORG_NAME_MAX},
            collapse=True,
        )
        email = checks.run("email", forms.email, self.email)
        return PartnerForm(kind=self.kind, name=name or "", email=email or "")
