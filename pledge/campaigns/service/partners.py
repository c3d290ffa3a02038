"""A campaign's partner organisations: their referral codes, co-partners invited by short name
or as new organisations, their answer (accept or decline), leaving a campaign, and removing
one.

An organisation becomes a co-partner only with its consent: the lead invites it, and it is no
partner (no link that counts, no hoaxes for its moderators, no name on the page) until one of
its admins accepts. It may leave at any time: the supporters who came through its link stay in
the total, its name and link go."""

from __future__ import annotations

import secrets

from sqlmodel import Session, col, select

from pledge import audit, mail
from pledge.accounts import service as accounts
from pledge.accounts.models import Organization, Role, User
from pledge.audit import AuditAction
from pledge.campaigns.models import Campaign, CampaignPartner, PartnerAdded, PartnerStatus
from pledge.campaigns.service.forms import PartnerForm
from pledge.campaigns.service.usage import registered_usage
from pledge.config import get_settings
from pledge.db import utcnow
from pledge.errors import Conflict, Forbidden, Invalid, NotFound
from pledge.forms import Checks
from pledge.i18n import gettext as _
from pledge.slugs import numbered as _numbered
from pledge.slugs import suggest_slug

# Referral codes are typed by hand and read aloud: no 0/O or 1/l/I.
REFERRAL_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def new_referral_code() -> str:
    return "".join(secrets.choice(REFERRAL_ALPHABET) for _ in range(8))


def add_partner(
    session: Session,
    *,
    campaign: Campaign,
    org: Organization,
    referral_code: str | None = None,
    status: PartnerStatus = PartnerStatus.ACTIVE,
) -> CampaignPartner:
    """The organisation's place in the campaign: ACTIVE for the lead (and for partners set up
    by an operator), INVITED for a co-partner the lead asks."""
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
        status=status,
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
    """Invite a partner organisation, with its own referral code: one already on the site
    (its admins are told by email), or a new one (not yet approved) whose first admin is
    invited by email. It becomes a partner once one of its admins accepts."""
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
    found = _partner_of(session, campaign, org)
    if found is not None and found.status is PartnerStatus.ACTIVE:
        raise Invalid({"org_slug": _("%(name)s is already a partner.") % {"name": org.name}})
    if found is not None and found.status is PartnerStatus.INVITED:
        raise Invalid({"org_slug": _("%(name)s is already invited.") % {"name": org.name}})
    if found is not None:  # it left: asked again, with the link it had
        found.status, found.responded_at = PartnerStatus.INVITED, None
        session.add(found)
        partner = found
    else:
        partner = add_partner(session, campaign=campaign, org=org, status=PartnerStatus.INVITED)
    _record(session, AuditAction.PARTNER_INVITE, invited_by, partner, campaign, org)
    _tell_admins(session, campaign=campaign, org=org, base_url=base_url)
    return PartnerAdded(partner=partner, org_name=org.name, invited=False)


def _tell_admins(session: Session, *, campaign: Campaign, org: Organization, base_url: str) -> None:
    """Email the organisation's admins that a campaign asks it to partner."""
    lead = accounts.get_org_or_none(session, campaign.lead_org_id)
    values = {
        "lead": lead.name if lead else "",
        "org": org.name,
        "campaign": campaign.title,
        "site": get_settings().site_name,
        "link": f"{base_url.rstrip('/')}/dashboard/{org.slug}#invitations",
    }
    for member in accounts.list_members(session, org=org):
        if member.role is not Role.ADMIN or not member.user.is_active:
            continue
        mail.queue(
            session,
            to=member.user.email,
            subject=_("%(lead)s invites %(org)s to a campaign on %(site)s") % values,
            body=_(
                '%(lead)s invites %(org)s to partner in the campaign "%(campaign)s" on '
                "%(site)s. As a partner, %(org)s gets its own link that counts its supporters, "
                "its moderators review the campaign's hoax reports, and its name shows on the "
                "campaign's page.\n\n"
                "Nothing happens until one of its admins accepts. Accept or decline on your "
                "dashboard:\n%(link)s\n\n"
                "If %(org)s does not know this campaign, decline it."
            )
            % values,
        )


def _record(
    session: Session,
    action: AuditAction,
    actor: User | None,
    partner: CampaignPartner,
    campaign: Campaign,
    org: Organization,
) -> None:
    audit.record(
        session,
        actor_id=actor.id if actor else None,
        action=action,
        subject=f"campaign:{campaign.id}",
        data={"org": org.slug, "partner": partner.id},
    )


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
    # Its first admin accepts the partnership too, on the dashboard the invitation leads to.
    partner = add_partner(session, campaign=campaign, org=org, status=PartnerStatus.INVITED)
    _record(session, AuditAction.PARTNER_INVITE, invited_by, partner, campaign, org)
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


# --- the invited organisation's answer, and leaving ----------------------------------------


def _own_partner(session: Session, *, org: Organization, partner_id: int) -> CampaignPartner:
    partner = session.get(CampaignPartner, partner_id)
    if partner is None or partner.org_id != org.id:
        raise NotFound(_("We could not find that invitation or campaign."))
    return partner


def _campaign_of(session: Session, partner: CampaignPartner) -> Campaign:
    campaign = session.get(Campaign, partner.campaign_id)
    assert campaign is not None  # a partner row goes with its campaign
    return campaign


def answer_invitation(
    session: Session, *, org: Organization, partner_id: int, accept: bool, actor: User
) -> Campaign:
    """Accept or decline the campaign's invitation to partner. Declined, the invitation goes
    (or, for an organisation asked back after it left, it stays gone)."""
    partner = _own_partner(session, org=org, partner_id=partner_id)
    campaign = _campaign_of(session, partner)
    if partner.status is not PartnerStatus.INVITED:
        raise Conflict(_("This invitation was already answered."))
    action = AuditAction.PARTNER_ACCEPT if accept else AuditAction.PARTNER_DECLINE
    _record(session, action, actor, partner, campaign, org)
    if not accept and not registered_usage().partner_used(session, partner_id=partner.id or 0):
        session.delete(partner)
    else:
        partner.status = PartnerStatus.ACTIVE if accept else PartnerStatus.LEFT
        partner.responded_at = utcnow()
        session.add(partner)
    session.commit()
    return campaign


def leave_campaign(
    session: Session, *, org: Organization, partner_id: int, actor: User
) -> Campaign:
    """The organisation leaves a campaign it partners in: the supporters who came through its
    link stay counted, its name and link go, and its moderators no longer see the campaign's
    hoaxes. The lead cannot leave its own campaign."""
    partner = _own_partner(session, org=org, partner_id=partner_id)
    campaign = _campaign_of(session, partner)
    if campaign.lead_org_id == org.id:
        raise Forbidden(_("The lead organisation cannot leave its own campaign."))
    if partner.status is not PartnerStatus.ACTIVE:
        raise Conflict(_("Your organisation is not a partner of this campaign."))
    partner.status, partner.responded_at = PartnerStatus.LEFT, utcnow()
    session.add(partner)
    _record(session, AuditAction.PARTNER_LEAVE, actor, partner, campaign, org)
    session.commit()
    return campaign


def list_invitations(session: Session, *, org_id: int) -> list[tuple[CampaignPartner, Campaign]]:
    """The campaigns that invited this organisation and wait for its answer, newest first."""
    rows = session.exec(
        select(CampaignPartner, Campaign)
        .join(Campaign, col(Campaign.id) == CampaignPartner.campaign_id)
        .where(CampaignPartner.org_id == org_id, CampaignPartner.status == PartnerStatus.INVITED)
        .order_by(CampaignPartner.created_at.desc())  # type: ignore[attr-defined]
    )
    return [(partner, campaign) for partner, campaign in rows]
