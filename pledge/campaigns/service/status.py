"""A campaign's status: which move may follow which, what going live needs, and whether it
takes signatures now."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from pledge import audit, forms
from pledge.accounts import service as accounts
from pledge.accounts.models import User
from pledge.audit import AuditAction
from pledge.campaigns.models import SIGNABLE_STATUSES, Campaign, CampaignStatus, Pledge
from pledge.db import utcnow
from pledge.errors import Invalid
from pledge.i18n import gettext as _

# Which status may follow which.
TRANSITIONS: dict[CampaignStatus, frozenset[CampaignStatus]] = {
    CampaignStatus.DRAFT: frozenset({CampaignStatus.LIVE}),
    CampaignStatus.LIVE: frozenset({CampaignStatus.CLOSED}),
    CampaignStatus.CLOSED: frozenset({CampaignStatus.LIVE}),
}


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
        lead = accounts.get_org_or_none(session, campaign.lead_org_id)
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
        action=AuditAction.CAMPAIGN_STATUS,
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


def change_status(
    session: Session, *, campaign: Campaign, status: str, actor: User | None
) -> Campaign:
    """A status move asked for on the dashboard."""
    message = _("Choose a status.")
    wanted = forms.field("status", forms.member, status, CampaignStatus, message=message)
    return set_status(
        session, campaign=campaign, status=wanted, actor_id=actor.id if actor else None
    )
