"""Every query and rule about users, organisations and memberships, and signing in.

One module per part: `forms` (the forms people post, read and checked), `users` (addresses, passwords, signing in, sessions), `account` (a
person's own name and password), `orgs` (organisations and their profile), `members` (roles
in an organisation), `links` (one-time links and password resets) and `invitations`.
Callers import the package (`from pledge.accounts import service as accounts`).
"""

from __future__ import annotations

from pledge.accounts.service.account import change_password, update_display_name
from pledge.accounts.service.forms import (
    ChangePasswordForm,
    ForgotForm,
    InviteForm,
    LoginForm,
    MemberInviteForm,
    NameForm,
    NewPasswordForm,
    OrgProfileForm,
    check_org_name,
    check_org_slug,
    check_role,
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
    "ChangePasswordForm",
    "ForgotForm",
    "Invitation",
    "InviteForm",
    "LinkGone",
    "LoginForm",
    "Member",
    "MemberInviteForm",
    "NameForm",
    "NewPasswordForm",
    "OrgProfileForm",
    "OrgRole",
    "Provisioned",
    "_new_token",
    "accept_invite",
    "add_member",
    "authenticate",
    "change_password",
    "change_role",
    "check_org_name",
    "check_org_slug",
    "check_password",
    "check_role",
    "create",
    "create_org",
    "end_sessions",
    "get",
    "get_by_email",
    "get_invitation",
    "get_org_by_slug",
    "get_reset",
    "invite",
    "invite_member",
    "list_invitations",
    "list_members",
    "list_memberships",
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
    "session_user",
    "set_password",
    "update_display_name",
    "update_org",
]
