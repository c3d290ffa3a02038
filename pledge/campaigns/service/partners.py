"""A campaign's partner organisations: their referral codes, co-partners added by short name
or invited as new organisations, and removing one."""

from __future__ import annotations

import secrets

from sqlmodel import Session, select

from pledge.accounts import service as accounts
from pledge.accounts.models import Organization, Role, User
from pledge.campaigns.models import Campaign, CampaignPartner, PartnerAdded
from pledge.campaigns.service.forms import PartnerForm
from pledge.campaigns.service.usage import registered_usage
from pledge.errors import Invalid, NotFound
from pledge.forms import Checks
from pledge.i18n import gettext as _
from pledge.slugs import numbered as _numbered
from pledge.slugs import suggest_slug

# Referral codes are typed by hand and read aloud: no 0/O or 1/l/I.
REFERRAL_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def new_referral_code() -> str:
    return "".join(secrets.choice(REFERRAL_ALPHABET) for _ in range(8))


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
    if form.inviting:
        return _invite_partner(
            session, campaign=campaign, form=form, invited_by=invited_by, base_url=base_url
        )
    with Checks() as checks:
        slug = form.clean(checks).org_slug
    org = accounts.get_org_by_slug_or_none(session, slug)
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
    with Checks() as checks:
        clean = form.clean(checks)
        name, email = clean.name, clean.email
        if checks.ok("name") and accounts.get_org_by_name_or_none(session, name):
            checks.refuse(
                "name",
                _(
                    "An organisation with this name is already on the site: "
                    "add it by its short name above."
                ),
            )
    base = suggest_slug(name) or "org"
    taken = accounts.list_org_slugs(session, starting_with=base)
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
    org = accounts.get_org_or_none(session, partner.org_id)
    assert org is not None
    if partner.org_id == campaign.lead_org_id:
        raise Invalid({"partner": _("The lead organisation cannot be removed.")})
    if registered_usage().partner_used(session, partner_id=partner_id):
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
