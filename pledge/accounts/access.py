"""What a signed-in person may do: for one organisation, or in the moderation queue.

The permission table (pledge.accounts.permissions) says which roles may take which action;
this module reads a user's memberships against it and hands the routes the result, so that
a route receives an access it was allowed, never a user it still has to check.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from pledge.accounts import service as accounts
from pledge.accounts.models import Organization, Role, User
from pledge.accounts.permissions import Action, Principal, allowed, principals
from pledge.errors import Forbidden
from pledge.i18n import gettext as _


@dataclass(frozen=True, slots=True)
class OrgContext:
    """The signed-in user acting for an organisation, after the permission check."""

    user: User
    org: Organization
    role: Role | None
    principals: frozenset[Principal]

    def can(self, action: Action) -> bool:
        return allowed(set(self.principals), action)


def org_context(session: Session, *, user: User, org_slug: str, action: Action) -> OrgContext:
    """The user acting for the organisation, if their role there (or being a site admin)
    allows the action."""
    organization = accounts.get_org_by_slug(session, org_slug)
    role = accounts.role_in(session, user_id=user.id or 0, org_id=organization.id or 0)
    found = principals(role=role, is_site_admin=user.is_site_admin)
    if not allowed(found, action):
        raise Forbidden(_("You are not allowed to do this for this organisation."))
    return OrgContext(user=user, org=organization, role=role, principals=frozenset(found))


@dataclass(frozen=True, slots=True)
class ModeratorContext:
    """A signed-in moderator: the organisations whose campaigns they may moderate, and those
    in which they may also release another moderator's claim."""

    user: User
    moderate_org_ids: frozenset[int]
    break_claim_org_ids: frozenset[int]


def moderator_context(session: Session, *, user: User) -> ModeratorContext:
    """The organisations in which the user may moderate; refused when there is none."""
    moderate: set[int] = set()
    break_claim: set[int] = set()
    for membership in accounts.list_memberships(session, user_id=user.id or 0):
        found = principals(role=membership.role, is_site_admin=user.is_site_admin)
        if allowed(found, Action.MODERATE):
            moderate.add(membership.org.id or 0)
        if allowed(found, Action.BREAK_CLAIM):
            break_claim.add(membership.org.id or 0)
    if not moderate:
        raise Forbidden(_("Only moderators of partner organisations can open the queue."))
    return ModeratorContext(
        user=user, moderate_org_ids=frozenset(moderate), break_claim_org_ids=frozenset(break_claim)
    )
