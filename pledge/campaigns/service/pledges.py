"""A campaign's pledges: added, reworded, reordered, and removed while nobody could sign."""

from __future__ import annotations

from sqlmodel import Session, col, func, select

from pledge import forms
from pledge.campaigns.models import Campaign, CampaignStatus, Pledge
from pledge.campaigns.service.forms import PledgeForm, check_pledge_text
from pledge.campaigns.service.usage import registered_usage
from pledge.errors import Conflict, Invalid, NotFound
from pledge.forms import Checks
from pledge.i18n import gettext as _
from pledge.slugs import is_slug, suggest_slug
from pledge.slugs import numbered as _numbered

PLEDGES_MAX = 20  # the signing form reads at most 50; a phone screen shows far fewer


def add_pledge(session: Session, *, campaign: Campaign, slug: str, text: str) -> Pledge:
    if not is_slug(slug):
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


def create_pledge(session: Session, *, campaign: Campaign, form: PledgeForm) -> Pledge:
    """A pledge added on the dashboard, after the others; its address suggested from its text."""
    existing = _pledges(session, campaign)
    if len(existing) >= PLEDGES_MAX:
        raise Invalid(
            {"text": _("A campaign can have at most %(max)s pledges.") % {"max": PLEDGES_MAX}}
        )
    taken = {p.slug for p in existing}
    with Checks() as checks:
        clean = form.clean(checks)
        slug = clean.slug
        if not slug and checks.ok("slug") and checks.ok("text"):
            slug = _suggested_slug(clean.text, taken, checks)
        elif slug in taken:
            checks.refuse("slug", _("This campaign already has a pledge with this address."))
    return add_pledge(session, campaign=campaign, slug=slug, text=clean.text)


def _suggested_slug(text: str, taken: set[str], checks: Checks) -> str:
    """An address made from the pledge's text, numbered past the campaign's other pledges'."""
    base = suggest_slug(text, max_length=40)
    if not base:
        checks.refuse("slug", _("The text has no letters an address can use. Type an address."))
        return ""
    return _numbered(base, taken)


def update_pledge(
    session: Session, *, campaign: Campaign, pledge_id: int, form: PledgeForm
) -> Pledge:
    """Change a pledge's text. Allowed when live: the page warns that signers agreed to the
    text as it was, so only corrections belong here."""
    pledge = _pledge(session, campaign, pledge_id)
    pledge.text = forms.field("text", check_pledge_text, form.text)
    session.add(pledge)
    session.flush()
    return pledge


def move_pledge(session: Session, *, campaign: Campaign, pledge_id: int, direction: str) -> Pledge:
    """Swap a pledge with the one above or below it; the first cannot go further up."""
    direction = forms.field(
        "pledge", forms.choice, direction, ("up", "down"), message=_("Choose up or down.")
    )
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
    if registered_usage().pledge_signed(session, pledge_id=pledge_id):
        raise Invalid({"pledge": _("People have signed this pledge, so it cannot be removed.")})
    session.delete(pledge)
    session.flush()
    _renumber(session, _pledges(session, campaign))
