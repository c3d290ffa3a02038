"""Dependency aliases shared by the routes of several domains.

Every /dashboard and /admin route takes one of the access aliases below, which check the
permission table (pledge.accounts.permissions, read by pledge.accounts.access) before the
route runs: one place enforces it. What they hand the route (OrgContext, ModeratorContext)
is defined there too, and importable from here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine
from sqlmodel import Session

from pledge.accounts import service as accounts
from pledge.accounts.access import ModeratorContext, OrgContext, moderator_context, org_context
from pledge.accounts.models import User, Viewer
from pledge.accounts.permissions import Action, allowed, principals
from pledge.campaigns import service as campaigns
from pledge.campaigns.models import CampaignView
from pledge.db import SessionDep
from pledge.errors import Forbidden, LoginRequired
from pledge.i18n import gettext as _
from pledge.sharedreads import shared_reads
from pledge.web import session_data


async def public_campaign(slug: str, request: Request) -> CampaignView:
    # Most requests find the campaign in this process's cache, with no I/O at all, and open
    # no session; the others read it with a session of their own, in the thread pool.
    cached = campaigns.cached_public_view(slug)
    if cached is not None:
        return cached
    engine = request.app.state.engine
    return await shared_reads.read(("campaign", engine, slug), _read_public_view, engine, slug)


def _read_public_view(engine: Engine, slug: str) -> CampaignView:
    with Session(engine, expire_on_commit=False) as session:
        return campaigns.get_public_view(session, slug=slug)


CampaignDep = Annotated[CampaignView, Depends(public_campaign)]


# --- who is signed in ----------------------------------------------------------------


def optional_user(request: Request, session: SessionDep) -> User | None:
    """The signed-in user, read once per request; also the copy the page header shows."""
    if hasattr(request.state, "user"):
        known: User | None = request.state.user
        return known
    data = session_data(request)
    user = accounts.session_user(
        session, user_id=data.get("uid"), version=data.get("sv"), session_id=data.get("sid")
    )
    request.state.user = user
    if user is not None:
        roles = {m.role for m in accounts.list_memberships(session, user_id=user.id or 0)}
        request.state.viewer = Viewer.of(
            user,
            is_moderator=any(
                allowed(principals(role=role, is_site_admin=False), Action.MODERATE)
                for role in roles
            ),
        )
    return user


def required_user(user: Annotated[User | None, Depends(optional_user)]) -> User:
    if user is None:
        raise LoginRequired(_("Please sign in first."))
    return user


OptionalUser = Annotated[User | None, Depends(optional_user)]
CurrentUser = Annotated[User, Depends(required_user)]


# --- what they may do ----------------------------------------------------------------


def org_access(action: Action) -> Callable[..., OrgContext]:
    def check(org: str, user: CurrentUser, session: SessionDep) -> OrgContext:
        return org_context(session, user=user, org_slug=org, action=action)

    return check


def site_access(action: Action) -> Callable[..., User]:
    def check(user: CurrentUser) -> User:
        if not allowed(principals(role=None, is_site_admin=user.is_site_admin), action):
            raise Forbidden(_("Only the site's administrators can do this."))
        return user

    return check


def moderator_access(user: CurrentUser, session: SessionDep) -> ModeratorContext:
    return moderator_context(session, user=user)


OrgViewer = Annotated[OrgContext, Depends(org_access(Action.VIEW_DASHBOARD))]
OrgEditor = Annotated[OrgContext, Depends(org_access(Action.EDIT_ORGANIZATION))]
MemberManager = Annotated[OrgContext, Depends(org_access(Action.MANAGE_MEMBERS))]
CampaignManager = Annotated[OrgContext, Depends(org_access(Action.MANAGE_CAMPAIGNS))]
StatisticsViewer = Annotated[OrgContext, Depends(org_access(Action.VIEW_STATISTICS))]
SupporterExporter = Annotated[OrgContext, Depends(org_access(Action.EXPORT_SUPPORTERS))]
SignatureReviewer = Annotated[OrgContext, Depends(org_access(Action.REVIEW_SIGNATURES))]
PartnershipManager = Annotated[OrgContext, Depends(org_access(Action.MANAGE_PARTNERSHIPS))]
NameModerator = Annotated[OrgContext, Depends(org_access(Action.MODERATE_NAMES))]
SiteAdmin = Annotated[User, Depends(site_access(Action.ADMINISTER_SITE))]
Moderator = Annotated[ModeratorContext, Depends(moderator_access)]
