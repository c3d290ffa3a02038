"""Who may do what: the one table of permissions, and the one function that reads it.

Roles come from a membership in an organisation (admin, moderator); a site admin is an
operator of the whole site. Every /dashboard and /admin route names one Action, and the
dependencies in pledge.deps check it against this table before the route runs.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from pledge.accounts.models import Role


class Principal(StrEnum):
    SITE_ADMIN = "site_admin"
    ADMIN = Role.ADMIN.value
    MODERATOR = Role.MODERATOR.value


class Action(StrEnum):
    VIEW_DASHBOARD = "view_dashboard"  # see the organisation's campaigns and numbers
    EDIT_ORGANIZATION = "edit_organization"  # the organisation's name and website
    MANAGE_MEMBERS = "manage_members"  # invite, change the role of and remove members
    MANAGE_CAMPAIGNS = "manage_campaigns"  # create, edit, open and close campaigns
    # accept or decline another organisation's campaign, and leave one
    MANAGE_PARTNERSHIPS = "manage_partnerships"
    VIEW_STATISTICS = "view_statistics"  # a campaign's statistics page
    EXPORT_SUPPORTERS = "export_supporters"  # contacts of supporters who asked this org for news
    # where a led campaign's signatures come from; count held ones, invalidate, restore
    REVIEW_SIGNATURES = "review_signatures"
    MODERATE = "moderate"  # work the hoax queue
    # hide or show supporters' first names on the pages of a campaign the organisation leads
    MODERATE_NAMES = "moderate_names"
    BREAK_CLAIM = "break_claim"  # release another moderator's claim on a case
    ADMINISTER_SITE = "administer_site"  # approve organisations, manage users and memberships


A, M, S = Principal.ADMIN, Principal.MODERATOR, Principal.SITE_ADMIN

# role x action. A site admin runs the site but does not act inside an organisation's work:
# it cannot edit campaigns, moderate, or take home an organisation's supporters.
PERMISSIONS: Final[dict[Action, frozenset[Principal]]] = {
    Action.VIEW_DASHBOARD: frozenset({A, M, S}),
    Action.EDIT_ORGANIZATION: frozenset({A, S}),
    Action.MANAGE_MEMBERS: frozenset({A, S}),
    Action.MANAGE_CAMPAIGNS: frozenset({A}),
    Action.MANAGE_PARTNERSHIPS: frozenset({A}),
    Action.VIEW_STATISTICS: frozenset({A, S}),
    Action.EXPORT_SUPPORTERS: frozenset({A}),
    Action.REVIEW_SIGNATURES: frozenset({A, S}),
    Action.MODERATE: frozenset({A, M}),
    Action.MODERATE_NAMES: frozenset({A, M}),
    Action.BREAK_CLAIM: frozenset({A}),
    Action.ADMINISTER_SITE: frozenset({S}),
}


def allowed(principals: set[Principal], action: Action) -> bool:
    return bool(principals & PERMISSIONS[action])


def principals(*, role: Role | None, is_site_admin: bool) -> set[Principal]:
    found: set[Principal] = set()
    if role is not None:
        found.add(Principal(role.value))
    if is_site_admin:
        found.add(Principal.SITE_ADMIN)
    return found
