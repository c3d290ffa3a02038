"""Creating and running a campaign from the partner dashboard: the campaign form checked
group of fields by group of fields, and the figures its edit page shows."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from pledge import audit
from pledge.accounts.models import Organization
from pledge.audit import AuditAction
from pledge.campaigns.models import (
    Campaign,
    Confirming,
    ManagedPartner,
    ManagedPledge,
    ManagePage,
    PartnerStatus,
)
from pledge.campaigns.service.forms import CampaignForm, CleanCampaign
from pledge.campaigns.service.partners import add_partner
from pledge.campaigns.service.status import TRANSITIONS
from pledge.campaigns.service.times import local_input_value
from pledge.campaigns.service.usage import registered_usage
from pledge.campaigns.service.views import partner_views, view_of
from pledge.db import utcnow
from pledge.errors import Conflict, Invalid, NotFound
from pledge.forms import Checks
from pledge.i18n import gettext as _
from pledge.slugs import is_slug, suggest_slug
from pledge.slugs import numbered as _numbered


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
    if not is_slug(slug):
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
        confirming=Confirming.of(campaign).value,
    )


# --- the campaign form ------------------------------------------------------------------


def _clean_campaign(
    session: Session, *, form: CampaignForm, campaign: Campaign | None = None
) -> CleanCampaign:
    """The posted campaign form checked field by field, and its address against the other
    campaigns'; every problem reported at once."""
    checks = Checks()
    clean = form.clean(checks, campaign)
    slug = clean.slug
    if checks.ok("slug") and not slug:  # a new campaign's, left empty
        if clean.title and checks.ok("title"):
            slug = _suggested_slug(session, clean.title, checks)
    elif checks.ok("slug"):
        other = session.exec(select(Campaign).where(Campaign.slug == slug)).first()
        if other is not None and (campaign is None or other.id != campaign.id):
            checks.refuse(
                "slug", _("Another campaign already uses this address. Choose another one.")
            )
    checks.done()
    return replace(clean, slug=slug)


def _suggested_slug(session: Session, title: str, checks: Checks) -> str:
    """An address made from the title, numbered past the ones taken; empty when the title
    has no letters an address can use."""
    base = suggest_slug(title)
    if not base:
        checks.refuse(
            "slug",
            _(
                "The title has no letters an address can use. Type an address, "
                "for example pemilu-damai."
            ),
        )
        return ""
    taken = set(session.exec(select(Campaign.slug).where(col(Campaign.slug).startswith(base))))
    return _numbered(base, taken)


# --- the campaign -----------------------------------------------------------------------


def get_managed(session: Session, *, org: Organization, slug: str) -> Campaign:
    """A campaign its lead organisation manages; any other organisation is told it does not
    exist, so that drafts stay private."""
    campaign = session.exec(select(Campaign).where(Campaign.slug == slug)).first()
    if campaign is None or campaign.lead_org_id != org.id:
        raise NotFound(_("We could not find that campaign."))
    return campaign


def create_draft(
    session: Session,
    *,
    lead_org: Organization,
    form: CampaignForm,
    actor_id: int | None = None,
) -> Campaign:
    """A new draft led by the organisation, from the dashboard's form."""
    clean = _clean_campaign(session, form=form)
    try:
        campaign = create(
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
    if clean.confirming is not None:
        _set_confirming(session, campaign, clean.confirming, actor_id=actor_id)
    return campaign


def update(
    session: Session, *, campaign: Campaign, form: CampaignForm, actor_id: int | None = None
) -> Campaign:
    """Save the campaign form. The address is fixed once the campaign has been public; a
    change of how its signatures are confirmed is audited."""
    clean = _clean_campaign(session, form=form, campaign=campaign)
    if clean.confirming is not None:
        _set_confirming(session, campaign, clean.confirming, actor_id=actor_id)
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


def _set_confirming(
    session: Session, campaign: Campaign, confirming: Confirming, *, actor_id: int | None
) -> None:
    """How the campaign's signatures are confirmed, and who changed it, when it changes."""
    before = Confirming.of(campaign)
    if confirming == before:
        return
    campaign.confirm_by_email, campaign.confirm_by_whatsapp, campaign.counts_unconfirmed = (
        confirming.flags
    )
    audit.record(
        session,
        actor_id=actor_id,
        action=AuditAction.CAMPAIGN_CONFIRMING,
        subject=f"campaign:{campaign.id}",
        data={"from": before.value, "to": confirming.value, "slug": campaign.slug},
    )


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
        # Invited and departed organisations too: the lead follows its invitations here.
        partners=[
            ManagedPartner(p, referrals.get(p.id, 0), updates.get(p.id, 0))
            for p in partner_views(session, campaign, statuses=tuple(PartnerStatus))
        ],
        next_statuses=sorted(TRANSITIONS[campaign.status]),
    )
