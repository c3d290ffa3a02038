"""A campaign's partner organisations: their referral codes, co-partners added by short name
or invited as new organisations, and removing one."""

from __future__ import annotations

import secrets

from sqlmodel import Session, select

from pledge.accounts import service as accounts
from pledge.accounts.models import Organization, Role, User
from pledge.campaigns.models import (
    Campaign,
    CampaignPartner,
    PartnerAdded,
    PartnerForm,
    PartnerFormKind,
)
from pledge.campaigns.service.usage import registered_usage
from pledge.errors import Invalid, NotFound
from pledge.i18n import gettext as _
from pledge.slugs import SLUG_MAX, suggest_slug
from pledge.slugs import numbered as _numbered

# Referral codes are typed by hand and read aloud: no 0/O or 1/l/I.
REFERRAL_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"

ORG_NAME_MAX = 160


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
    if form.kind == PartnerFormKind.INVITE:
        return _invite_partner(
            session, campaign=campaign, form=form, invited_by=invited_by, base_url=base_url
        )
    slug = form.org_slug.strip().lower()
    if not slug:
        raise Invalid({"org_slug": _("Enter the organisation's short name.")})
    org = accounts.get_org_by_slug_or_none(session, slug[:SLUG_MAX])
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
    elif accounts.get_org_by_name_or_none(session, name):
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
