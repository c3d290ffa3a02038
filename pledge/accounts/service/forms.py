"""The forms people post about accounts: signing in, a forgotten password, a new password,
accepting an invitation, their own name, inviting a member, an organisation's profile.

Each is read from the posted form (``read``) and checked with the shared field checks
(``check``), which returns the cleaned values or raises Invalid with every message at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from pledge import forms
from pledge.accounts.models import Role
from pledge.forms import Checks, PostedForm, posted
from pledge.i18n import gettext as _

NAME_MAX = 80
ORG_NAME_MAX = 160
WEBSITE_MAX = 300
# Longer than any valid password (200), so that "too long" is said rather than cut silently.
PASSWORD_FIELD_MAX = 1000


def check_name(checks: Checks, raw: str) -> str:
    """The name a person gives themselves, on one line."""
    return (
        checks.run(
            "display_name",
            forms.text,
            raw,
            max_length=NAME_MAX,
            required=_("Enter your name."),
            too_long=_("Use at most 80 characters for your name."),
            collapse=True,
        )
        or ""
    )


def check_new_password(checks: Checks, password: str, confirm: str) -> str:
    """A new password typed twice: its rules, then the second typing."""
    checked = checks.run("password", forms.password, password)
    if checked is not None and confirm != checked:
        checks.refuse("password_confirm", _("The two passwords are not the same."))
    return password


def check_org_name(checks: Checks, raw: str, *, collapse: bool = False) -> str:
    """An organisation's name, required and at most 160 characters."""
    message = _("Enter the organisation's name (at most 160 characters).")
    return (
        checks.run(
            "name",
            forms.text,
            raw,
            max_length=ORG_NAME_MAX,
            required=message,
            too_long=message,
            collapse=collapse,
        )
        or ""
    )


def check_org_slug(raw: str) -> str:
    """An organisation's short name: the address of its pages."""
    message = _("Use lower-case letters, digits and dashes only.")
    return forms.slug(raw, message=message, required=message)


@dataclass(frozen=True, slots=True)
class LoginForm(PostedForm):
    """Signing in: the one message for a wrong address or password comes from checking them
    together, against the account. Read as typed: an address or a password with a NUL in it
    matches no account (and an address with one is never looked up), and a page to go back
    to with one is no page of this site."""

    email: str = posted(limit=254, typed=True)
    password: str = posted(limit=PASSWORD_FIELD_MAX, typed=True)
    next: str = posted(limit=1000, typed=True)


@dataclass(frozen=True, slots=True)
class ForgotForm(PostedForm):
    """Asking for a password reset link."""

    email: str = posted(limit=300)

    def check(self) -> str:
        """The address, normalised."""
        required = _("Enter your email address.")
        return forms.field("email", forms.email, self.email, required=required)


@dataclass(frozen=True, slots=True)
class NewPasswordForm(PostedForm):
    """A new password typed twice, through a reset link."""

    password: str = posted(limit=PASSWORD_FIELD_MAX)
    password_confirm: str = posted(limit=PASSWORD_FIELD_MAX)

    def check(self) -> str:
        """The new password; the current one, where it is asked for, is checked against the
        account."""
        with Checks() as checks:
            password = check_new_password(checks, self.password, self.password_confirm)
        return password


@dataclass(frozen=True, slots=True)
class ChangePasswordForm(NewPasswordForm):
    """The account page's new password, under the current one."""

    current_password: str = posted(limit=PASSWORD_FIELD_MAX)


@dataclass(frozen=True, slots=True)
class NameForm(PostedForm):
    """The name a person shows their organisation."""

    display_name: str = posted(limit=200)

    def check(self) -> str:
        with Checks() as checks:
            name = check_name(checks, self.display_name)
        return name


@dataclass(frozen=True, slots=True)
class Joining:
    """What a new member chose when accepting an invitation."""

    display_name: str
    password: str


@dataclass(frozen=True, slots=True)
class InviteForm(PostedForm):
    """Accepting an invitation: a new person chooses a name and a password."""

    display_name: str = posted(limit=200)
    password: str = posted(limit=PASSWORD_FIELD_MAX)
    password_confirm: str = posted(limit=PASSWORD_FIELD_MAX)

    def check(self) -> Joining:
        with Checks() as checks:
            name = check_name(checks, self.display_name)
            password = check_new_password(checks, self.password, self.password_confirm)
        return Joining(display_name=name, password=password)


@dataclass(frozen=True, slots=True)
class Invitee:
    email: str
    role: Role


@dataclass(frozen=True, slots=True)
class MemberInviteForm(PostedForm):
    """An admin inviting a person, by email, to a role in the organisation."""

    email: str = posted(limit=300)
    role: str = posted(Role.MODERATOR.value, limit=20)

    def check(self) -> Invitee:
        with Checks() as checks:
            role = checks.run("role", check_role, self.role)
            required = _("Enter the email address of the person to invite.")
            address = checks.run("email", forms.email, self.email, required=required) or ""
        assert role is not None
        return Invitee(email=address, role=role)


def check_role(raw: str | Role) -> Role:
    """A role in an organisation: admin or moderator."""
    return forms.member(str(raw), Role, message=_("Choose a role: admin or moderator."))


@dataclass(frozen=True, slots=True)
class OrgProfile:
    name: str
    website: str | None


@dataclass(frozen=True, slots=True)
class OrgProfileForm(PostedForm):
    """An organisation's profile: its name and website."""

    name: str = posted(limit=300)
    website: str = posted(limit=400)

    def check(self) -> OrgProfile:
        with Checks() as checks:
            name = check_org_name(checks, self.name, collapse=True)
            website = checks.run("website", forms.http_url, self.website, max_length=WEBSITE_MAX)
        return OrgProfile(name=name, website=website)
