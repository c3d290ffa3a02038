"""The forms site administrators post: a new organisation, a user's deactivation, a
membership. Each is read from the posted form (``read``) and checked with the shared field
checks; the service adds what only the database knows (a short name taken, an organisation
that does not exist)."""

from __future__ import annotations

from dataclasses import dataclass

from pledge import forms
from pledge.accounts import service as accounts
from pledge.accounts.models import Role
from pledge.forms import Checks, PostedForm, posted
from pledge.i18n import gettext as _

REASON_MAX = 500


def check_reason(raw: str) -> str:
    """The reason for deactivating an account, kept in the audit log."""
    return forms.text(
        raw,
        max_length=REASON_MAX,
        required=_("Write a short reason for deactivating this account."),
        too_long=_("Use at most 500 characters for the reason."),
    )


def check_flag(raw: str | None) -> bool:
    """A yes or no posted as "true" or "false"."""
    answer = forms.choice(
        raw or "",
        ("true", "false"),
        message=_("Choose whether this person is a site administrator."),
    )
    return answer == "true"


@dataclass(frozen=True, slots=True)
class NewOrg:
    slug: str
    name: str
    website: str | None


@dataclass(frozen=True, slots=True)
class OrgForm(PostedForm):
    """A new organisation, approved at once: its short name, name and website."""

    slug: str = ""
    name: str = ""
    website: str = ""

    def clean(self, checks: Checks) -> NewOrg:
        """The fields checked into `checks`; the service adds whether the name is taken."""
        return NewOrg(
            slug=checks.run("slug", accounts.check_org_slug, self.slug) or "",
            name=accounts.check_org_name(checks, self.name),
            website=checks.run(
                "website", forms.http_url, self.website, max_length=accounts.WEBSITE_MAX
            ),
        )


@dataclass(frozen=True, slots=True)
class NewMembership:
    org_slug: str
    role: Role


@dataclass(frozen=True, slots=True)
class MembershipForm(PostedForm):
    """A role for a user in an organisation named by its short name."""

    org: str = posted(limit=64)
    role: str = posted(limit=16)

    def clean(self, checks: Checks) -> NewMembership:
        """The fields checked into `checks`; the service adds whether the organisation exists."""
        role = checks.run("role", accounts.check_role, self.role)
        slug = self.org.strip().lower()
        if not slug:
            checks.refuse("org", _("Enter the organisation's short name."))
        return NewMembership(org_slug=slug, role=role or Role.MODERATOR)
