"""Who may see an uploaded image: anyone once a published verdict shows it, before that only
the moderators of the campaign it was sent to (with a report, or with a reporter's answer),
or whose case it was attached to as the original."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session

from pledge.accounts import service as accounts
from pledge.accounts.models import User
from pledge.accounts.permissions import Action, allowed, principals
from pledge.campaigns import service as campaigns
from pledge.campaigns.models import PUBLIC_STATUSES
from pledge.errors import NotFound
from pledge.hoaxes.models import (
    Media,
    case_original_table,
    hoax_case_table,
    hoax_report_table,
    report_answer_table,
)
from pledge.hoaxes.states import CaseStatus
from pledge.i18n import gettext as _


def moderator_org_ids(session: Session, *, user: User | None) -> frozenset[int]:
    """The organisations in which this person may moderate."""
    if user is None or user.id is None or not user.is_active:
        return frozenset()
    return frozenset(
        membership.org.id or 0
        for membership in accounts.list_memberships(session, user_id=user.id)
        if allowed(
            principals(role=membership.role, is_site_admin=user.is_site_admin), Action.MODERATE
        )
    )


@dataclass(frozen=True, slots=True)
class VisibleMedia:
    media: Media
    public: bool  # part of a published verdict: anyone may see it, and caches may keep it


def _is_published(session: Session, media_id: int) -> bool:
    """A published verdict of a public campaign shows the image."""
    case_t = hoax_case_table
    found = session.execute(
        sa.select(case_t.c.id)
        .where(
            case_t.c.media_id == media_id,
            case_t.c.status == CaseStatus.PUBLISHED,
            case_t.c.campaign_id.in_(campaigns.select_campaign_ids(statuses=PUBLIC_STATUSES)),
        )
        .limit(1)
    ).first()
    return found is not None


def _moderates(session: Session, media_id: int, user: User | None) -> bool:
    """The person moderates for a partner of the campaign of a case, a report or a reporter's
    answer holding it."""
    org_ids = moderator_org_ids(session, user=user)
    if not org_ids:
        return False
    case_t, report_t, answer_t = hoax_case_table, hoax_report_table, report_answer_table
    partnered = campaigns.select_partnered_campaign_ids(org_ids)
    in_report = sa.select(report_t.c.id).where(
        report_t.c.media_id == media_id, report_t.c.campaign_id.in_(partnered)
    )
    in_case = sa.select(case_t.c.id).where(
        case_t.c.media_id == media_id, case_t.c.campaign_id.in_(partnered)
    )
    # An answer belongs to the campaign of the report it answers.
    in_answer = (
        sa.select(answer_t.c.id)
        .join(report_t, report_t.c.id == answer_t.c.report_id)
        .where(answer_t.c.media_id == media_id, report_t.c.campaign_id.in_(partnered))
    )
    # The original a moderator attached to a case of the campaign.
    original_t = case_original_table
    in_original = (
        sa.select(original_t.c.id)
        .join(case_t, case_t.c.id == original_t.c.case_id)
        .where(original_t.c.media_id == media_id, case_t.c.campaign_id.in_(partnered))
    )
    held = sa.or_(in_report.exists(), in_case.exists(), in_answer.exists(), in_original.exists())
    return bool(session.execute(sa.select(held)).scalar())


def get_media(session: Session, *, media_id: int, user: User | None) -> VisibleMedia:
    """An uploaded image, for those who may see it. Everyone else is told it does not
    exist."""
    missing = NotFound(_("We could not find that image."))
    public = _is_published(session, media_id)
    if not public and not _moderates(session, media_id, user):
        raise missing
    found = session.get(Media, media_id)
    if found is None:
        raise missing
    return VisibleMedia(media=found, public=public)
