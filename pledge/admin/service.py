"""The site administrators' rules: approving organisations, managing users and memberships.

Every change here is written to the audit log in the same transaction as the change itself.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Generic, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from pledge import audit, forms
from pledge.accounts import service as accounts
from pledge.accounts.models import Membership, Organization, Role, User
from pledge.admin.forms import MembershipForm, OrgForm, check_flag, check_reason
from pledge.audit import AuditAction
from pledge.campaigns import service as campaigns
from pledge.campaigns.models import CampaignStatus
from pledge.db import ID_MAX, writing
from pledge.errors import Conflict, Invalid, NotFound
from pledge.i18n import gettext as _

PAGE_SIZE = 50
# Ids beyond a 32-bit integer cannot exist, and PostgreSQL refuses to even compare them.

T = TypeVar("T")


# --- reading -------------------------------------------------------------------------------


class OrgFilter(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    ALL = "all"

    @property
    def label(self) -> str:
        """The filter as the organisations page names it, in the current language."""
        return {
            OrgFilter.PENDING: _("Waiting for approval"),
            OrgFilter.APPROVED: _("Approved"),
            OrgFilter.ALL: _("All organisations"),
        }[self]


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: Sequence[T]
    number: int  # 1-based
    pages: int
    total: int

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


def _page_of(total: int, number: int) -> tuple[int, int]:
    """The page count, and the asked-for page kept within 1..pages."""
    pages = max(1, -(-total // PAGE_SIZE))
    return pages, min(max(1, number), pages)


@dataclass(frozen=True, slots=True)
class Overview:
    pending_orgs: int
    orgs: int
    users: int
    inactive_users: int
    site_admins: int
    live_campaigns: int


def overview(session: Session) -> Overview:
    return Overview(
        pending_orgs=accounts.count_orgs(session, verified=False),
        orgs=accounts.count_orgs(session),
        users=accounts.count_users(session),
        inactive_users=accounts.count_users(session, active=False),
        site_admins=accounts.count_users(session, site_admin=True),
        live_campaigns=campaigns.count_campaigns(session, status=CampaignStatus.LIVE),
    )


def parse_org_filter(raw: str | None) -> OrgFilter:
    message = _("Choose one of the filters in the list.")
    return forms.field("status", forms.member, raw or OrgFilter.ALL, OrgFilter, message=message)


@dataclass(frozen=True, slots=True)
class OrgRow:
    org: Organization
    members: int


def list_orgs(session: Session, *, status: OrgFilter, page: int = 1) -> Page[OrgRow]:
    """Organisations, newest first, with how many members each has."""
    verified = {OrgFilter.PENDING: False, OrgFilter.APPROVED: True}.get(status)
    total = accounts.count_orgs(session, verified=verified)
    pages, number = _page_of(total, page)
    rows = accounts.list_orgs_with_member_counts(
        session, verified=verified, offset=(number - 1) * PAGE_SIZE, limit=PAGE_SIZE
    )
    items = [OrgRow(org=org, members=count) for org, count in rows]
    return Page(items=items, number=number, pages=pages, total=total)


def list_users(session: Session, *, q: str = "", page: int = 1) -> Page[User]:
    """Users whose email contains q, in email order."""
    needle = q.strip().lower()
    total = accounts.count_users(session, email_contains=needle)
    pages, number = _page_of(total, page)
    users = accounts.list_users_by_email(
        session, email_contains=needle, offset=(number - 1) * PAGE_SIZE, limit=PAGE_SIZE
    )
    return Page(items=users, number=number, pages=pages, total=total)


def get_user(session: Session, user_id: int) -> User:
    if not 0 < user_id <= ID_MAX:
        raise NotFound(_("We could not find that user."))
    return accounts.get(session, user_id)


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    event: audit.AuditEvent
    actor_email: str | None
    data: dict[str, Any]

    @property
    def role(self) -> Role | None:
        """The role the event names, when it names one this site still knows."""
        raw = self.data.get("role")
        return Role(raw) if isinstance(raw, str) and raw in {r.value for r in Role} else None


@dataclass(frozen=True, slots=True)
class UserDetail:
    user: User
    memberships: list[accounts.OrgRole]
    history: list[HistoryEntry]


def _json(raw: str) -> dict[str, Any]:
    try:
        loaded = json.loads(raw)
    except ValueError:
        return {}
    return loaded if isinstance(loaded, dict) else {}


def user_detail(session: Session, *, user_id: int) -> UserDetail:
    """A user, their roles, and the latest changes made to their account."""
    user = get_user(session, user_id)
    events = audit.list_events(session, subject=f"user:{user_id}", limit=20)
    actor_ids = {event.actor_id for event in events if event.actor_id is not None}
    emails = accounts.get_emails(session, user_ids=actor_ids)
    return UserDetail(
        user=user,
        memberships=accounts.list_memberships(session, user_id=user_id),
        history=[
            HistoryEntry(event=e, actor_email=emails.get(e.actor_id or 0), data=_json(e.data))
            for e in events
        ],
    )


# --- organisations -------------------------------------------------------------------------


def create_org(session: Session, *, actor: User, form: OrgForm) -> Organization:
    """An organisation made by a site admin is approved at once."""
    checks = forms.Checks()
    new = form.clean(checks)
    taken = _("An organisation with this short name already exists.")
    # accounts.create_org checks and inserts in one go, so its refusals come from inside the
    # transaction; the route catches them and renders the form while the session is open.
    # It is tried even when a field was refused, so that a short name already taken is said
    # at once too.
    try:
        with writing(session):
            org = None
            try:
                org = accounts.create_org(
                    session, slug=new.slug, name=new.name, website=new.website, verified=True
                )
            except Invalid as error:
                checks.merge(error.errors)
            except Conflict:
                checks.refuse("slug", taken)
            checks.done()
            assert org is not None
            audit.record(
                session,
                actor_id=actor.id,
                action=AuditAction.ADMIN_ORG_CREATE,
                subject=f"org:{org.id}",
                data={"slug": org.slug, "name": org.name, "website": org.website},
            )
    except IntegrityError:
        # Another request made the same slug between the check and the insert.
        raise Invalid({"slug": taken}) from None
    return org


def set_org_approved(session: Session, *, actor: User, slug: str, approved: bool) -> Organization:
    """Approve an organisation, or take its approval back: only approved ones go live."""
    org = accounts.get_org_by_slug(session, slug)
    _switch(
        session,
        actor=actor,
        row=org,
        field="verified",
        on=approved,
        action=AuditAction.ADMIN_ORG_APPROVE if approved else AuditAction.ADMIN_ORG_REVOKE,
        subject=f"org:{org.id}",
        data={"slug": org.slug, "verified": approved},
    )
    return org


def review_org_change(session: Session, *, actor: User, slug: str, approve: bool) -> Organization:
    """Apply an approved organisation's waiting change of name or website, or refuse it."""
    org = accounts.get_org_by_slug(session, slug)
    with writing(session):
        change = accounts.review_change(session, org=org, approve=approve)
        audit.record(
            session,
            actor_id=actor.id,
            action=AuditAction.ADMIN_ORG_CHANGE_APPROVE
            if approve
            else AuditAction.ADMIN_ORG_CHANGE_REJECT,
            subject=f"org:{org.id}",
            data={"slug": org.slug, **change},
        )
    return org


def _switch(
    session: Session,
    *,
    actor: User,
    row: Organization | User,
    field: str,
    on: bool,
    action: AuditAction,
    subject: str,
    data: dict[str, Any],
) -> None:
    """Turn a yes-or-no field of a row on or off, and audit it in the same transaction;
    nothing is written when the field already says so."""
    if getattr(row, field) == on:
        return
    with writing(session):
        setattr(row, field, on)
        session.add(row)
        audit.record(session, actor_id=actor.id, action=action, subject=subject, data=data)


# --- users ---------------------------------------------------------------------------------
#
# Lookups and checks come before the write transaction: an error raised inside one rolls
# back, which would also expire the signed-in user the error page still has to show.


def deactivate_user(session: Session, *, actor: User, user_id: int, reason: str) -> User:
    """Stop a user from signing in, and end the sessions they have open."""
    user = get_user(session, user_id)
    if user.id == actor.id:
        raise Invalid(
            {
                "deactivate": _(
                    "You cannot deactivate your own account: ask another site administrator."
                )
            }
        )
    reason = forms.field("reason", check_reason, reason)
    if not user.is_active:
        return user
    with writing(session):
        user.is_active = False
        accounts.end_sessions(session, user=user)
        audit.record(
            session,
            actor_id=actor.id,
            action=AuditAction.ADMIN_USER_DEACTIVATE,
            subject=f"user:{user.id}",
            reason=reason,
            data={"email": user.email},
        )
    return user


def activate_user(session: Session, *, actor: User, user_id: int) -> User:
    user = get_user(session, user_id)
    _switch(
        session,
        actor=actor,
        row=user,
        field="is_active",
        on=True,
        action=AuditAction.ADMIN_USER_ACTIVATE,
        subject=f"user:{user.id}",
        data={"email": user.email},
    )
    return user


def parse_flag(raw: str | None) -> bool:
    return forms.field("site_admin", check_flag, raw)


def set_site_admin(session: Session, *, actor: User, user_id: int, grant: bool) -> User:
    """Grant or revoke the site-admin flag. Nobody revokes their own, so the site always
    keeps at least one administrator: the one doing the revoking."""
    user = get_user(session, user_id)
    if user.id == actor.id and not grant:
        raise Invalid(
            {
                "site_admin": _(
                    "You cannot remove your own site administrator role: "
                    "ask another site administrator."
                )
            }
        )
    _switch(
        session,
        actor=actor,
        row=user,
        field="is_site_admin",
        on=grant,
        action=AuditAction.ADMIN_USER_SITE_ADMIN_GRANT
        if grant
        else AuditAction.ADMIN_USER_SITE_ADMIN_REVOKE,
        subject=f"user:{user.id}",
        data={"email": user.email, "is_site_admin": grant},
    )
    return user


# --- memberships ---------------------------------------------------------------------------


def set_membership(
    session: Session, *, actor: User, user_id: int, form: MembershipForm
) -> Membership | None:
    """Give a user a role in an organisation, or change the one they have.
    None when they already had that role: nothing changed."""
    user = get_user(session, user_id)
    checks = forms.Checks()
    wanted = form.clean(checks)
    checked_role, slug = wanted.role, wanted.org_slug
    org = None
    if checks.ok("org"):
        org = accounts.get_org_by_slug_or_none(session, slug)
        if org is None:
            checks.refuse("org", _("There is no organisation with this short name."))
    checks.done()
    assert org is not None
    previous = accounts.role_in(session, user_id=user_id, org_id=org.id or 0)
    if previous == checked_role:
        return None
    try:
        with writing(session):
            membership = accounts.add_member(session, user=user, org=org, role=checked_role)
            audit.record(
                session,
                actor_id=actor.id,
                action=AuditAction.ADMIN_MEMBERSHIP_SET,
                subject=f"user:{user.id}",
                data={
                    "org": org.slug,
                    "org_id": org.id,
                    "role": checked_role.value,
                    "previous": previous.value if previous else None,
                },
            )
    except IntegrityError:
        # The same membership was added by another request at the same moment.
        raise Invalid({"org": _("This person was just added to that organisation.")}) from None
    return membership


def remove_membership(session: Session, *, actor: User, user_id: int, org_slug: str) -> None:
    """Take a user out of an organisation; their sessions end, so no open page keeps access."""
    user = get_user(session, user_id)
    org = accounts.get_org_by_slug(session, org_slug)
    role = accounts.role_in(session, user_id=user_id, org_id=org.id or 0)
    if role is None:
        raise NotFound(_("This person is not a member of that organisation."))
    with writing(session):
        removed = accounts.delete_membership(session, user_id=user_id, org_id=org.id or 0)
        if removed:  # not already removed by a request a moment ago
            accounts.end_sessions(session, user=user)
            audit.record(
                session,
                actor_id=actor.id,
                action=AuditAction.ADMIN_MEMBERSHIP_REMOVE,
                subject=f"user:{user.id}",
                data={"org": org.slug, "org_id": org.id, "role": role.value},
            )
