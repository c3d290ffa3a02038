"""Every query and rule about users, organisations and memberships, and signing in.

One module per part: `users` (addresses, passwords, signing in, sessions), `account` (a
person's own name and password), `orgs` (organisations and their profile), `members` (roles
in an organisation), `links` (one-time links and password resets), `invitations`, and
`directory` (users and organisations looked up, counted and listed for the other domains and
the site's administrators). Callers import the package
(`from pledge.accounts import service as accounts`).
"""

from __future__ import annotations

from pledge.accounts.service.account import change_password, update_display_name
from pledge.accounts.service.directory import (
    count_orgs,
    count_users,
    delete_membership,
    get_emails,
    get_org_by_name_or_none,
    get_org_by_slug_or_none,
    get_org_or_none,
    get_user_or_none,
    list_org_slugs,
    list_orgs_with_member_counts,
    list_users,
    list_users_by_email,
    select_with_org,
    select_with_org_name,
)
from pledge.accounts.service.invitations import (
    Invitation,
    accept_invite,
    get_invitation,
    invite,
    invite_member,
    list_invitations,
    revoke_invitation,
)
from pledge.accounts.service.links import (
    SECRET_BYTES,
    LinkGone,
    _new_token,
    get_reset,
    live_token,
    request_password_reset,
    reset_password,
)
from pledge.accounts.service.members import (
    Member,
    OrgRole,
    Provisioned,
    add_member,
    change_role,
    list_members,
    list_memberships,
    parse_role,
    provision_user,
    remove_member,
    role_in,
)
from pledge.accounts.service.orgs import (
    WEBSITE_MAX,
    check_website,
    create_org,
    get_org_by_slug,
    register_org,
    update_org,
)
from pledge.accounts.service.users import (
    authenticate,
    check_password,
    create,
    end_sessions,
    get,
    get_by_email,
    normalise_email,
    session_user,
    set_password,
)

__all__ = [
    "SECRET_BYTES",
    "WEBSITE_MAX",
    "Invitation",
    "LinkGone",
    "Member",
    "OrgRole",
    "Provisioned",
    "_new_token",
    "accept_invite",
    "add_member",
    "authenticate",
    "change_password",
    "change_role",
    "check_password",
    "check_website",
    "count_orgs",
    "count_users",
    "create",
    "create_org",
    "delete_membership",
    "end_sessions",
    "get",
    "get_by_email",
    "get_emails",
    "get_invitation",
    "get_org_by_name_or_none",
    "get_org_by_slug",
    "get_org_by_slug_or_none",
    "get_org_or_none",
    "get_reset",
    "get_user_or_none",
    "invite",
    "invite_member",
    "list_invitations",
    "list_members",
    "list_memberships",
    "list_org_slugs",
    "list_orgs_with_member_counts",
    "list_users",
    "list_users_by_email",
    "live_token",
    "normalise_email",
    "parse_role",
    "provision_user",
    "register_org",
    "remove_member",
    "request_password_reset",
    "reset_password",
    "revoke_invitation",
    "role_in",
    "select_with_org",
    "select_with_org_name",
    "session_user",
    "set_password",
    "update_display_name",
    "update_org",
]
