"""Memberships: who has which role in which organisation, and the rules for changing that."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from pledge import audit, forms
from pledge.accounts.models import Membership, Organization, Role, User
from pledge.accounts.service.forms import NAME_MAX, check_role
from pledge.accounts.service.orgs import get_org_by_slug
from pledge.accounts.service.users import (
    check_password,
    create,
    end_sessions,
    get,
    get_by_email,
    normalise_email,
    set_password,
)
from pledge.audit import AuditAction
from pledge.db import writing
from pledge.errors import Invalid, NotFound
from pledge.i18n import gettext as _


def role_in(session: Session, *, user_id: int, org_id: int) -> Role | None:
    membership = session.exec(
        select(Membership).where(Membership.user_id == user_id, Membership.org_id == org_id)
    ).first()
    return membership.role if membership else None


def add_member(session: Session, *, user: User, org: Organization, role: Role) -> Membership:
    """Give a user a role in an organisation, or change the role they have."""
    membership = session.exec(
        select(Membership).where(Membership.user_id == user.id, Membership.org_id == org.id)
    ).first()
    if membership is None:
        membership = Membership(user_id=user.id or 0, org_id=org.id or 0, role=role)
    else:
        membership.role = role
    session.add(membership)
    session.flush()
    return membership


@dataclass(frozen=True, slots=True)
class OrgRole:
    org: Organization
    role: Role


def list_memberships(session: Session, *, user_id: int) -> list[OrgRole]:
    rows = session.exec(
        select(Membership, Organization)
        .join(Organization, col(Organization.id) == Membership.org_id)
        .where(Membership.user_id == user_id)
        .order_by(col(Organization.name))
    )
    return [OrgRole(org=org, role=membership.role) for membership, org in rows]


def only_moderates(session: Session, *, user: User) -> bool:
    """Whether the user's work is the hoax queue alone: a moderator of at least one
    organisation, an admin of none, and no site administrator. Such a user starts at /mod after
    signing in; anyone with an organisation or the site to run starts at the dashboard."""
    if user.is_site_admin:
        return False
    roles = {membership.role for membership in list_memberships(session, user_id=user.id or 0)}
    return roles == {Role.MODERATOR}


def parse_role(raw: str | Role) -> Role:
    """A role named by its value; Invalid with the role field's message when it is none."""
    return forms.field("role", check_role, raw)


@dataclass(frozen=True, slots=True)
class Member:
    user: User
    role: Role
    since: datetime


def list_members(session: Session, *, org: Organization) -> list[Member]:
    rows = session.exec(
        select(Membership, User)
        .join(User, col(User.id) == Membership.user_id)
        .where(Membership.org_id == org.id)
        .order_by(col(Membership.role), col(User.email))  # admins first
    )
    return [
        Member(user=user, role=membership.role, since=membership.created_at)
        for membership, user in rows
    ]


def _membership(session: Session, *, org: Organization, user_id: int) -> Membership:
    membership = session.exec(
        select(Membership).where(Membership.org_id == org.id, Membership.user_id == user_id)
    ).first()
    if membership is None:
        raise NotFound(_("This person is not a member of this organisation."))
    return membership


def _locked_admin_count(session: Session, *, org: Organization) -> int:
    """The organisation's admins, locked until the transaction ends (PostgreSQL; SQLite's
    write lock already serialises), so two admins removing each other cannot both succeed."""
    ids = session.exec(
        select(Membership.id)
        .where(Membership.org_id == org.id, Membership.role == Role.ADMIN)
        .with_for_update()
    ).all()
    return len(ids)


def _last_admin_message() -> str:
    return _("An organisation needs at least one admin. Make someone else an admin first.")


def change_role(
    session: Session, *, org: Organization, user_id: int, role: str | Role, actor: User
) -> Membership:
    new_role = parse_role(role)
    with writing(session):
        admins = _locked_admin_count(session, org=org)
        membership = _membership(session, org=org, user_id=user_id)
        before = membership.role
        if before == new_role:
            return membership
        if before == Role.ADMIN and admins <= 1:
            raise Invalid({"role": _last_admin_message()})
        membership.role = new_role
        session.add(membership)
        audit.record(
            session,
            actor_id=actor.id,
            action=AuditAction.MEMBER_ROLE,
            subject=f"org:{org.id}",
            data={"user_id": user_id, "from": before.value, "to": new_role.value},
        )
    return membership


def remove_member(session: Session, *, org: Organization, user_id: int, actor: User) -> None:
    """Take a person out of an organisation; every session they have open ends with it."""
    with writing(session):
        admins = _locked_admin_count(session, org=org)
        membership = _membership(session, org=org, user_id=user_id)
        if membership.role == Role.ADMIN and admins <= 1:
            raise Invalid({"remove": _last_admin_message()})
        user = get(session, user_id)
        session.delete(membership)
        end_sessions(session, user=user)
        audit.record(
            session,
            actor_id=actor.id,
            action=AuditAction.MEMBER_REMOVE,
            subject=f"org:{org.id}",
            data={"user_id": user_id, "email": user.email, "role": membership.role.value},
        )


# --- the command line ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Provisioned:
    user: User
    created: bool
    password_set: bool
    org: Organization | None
    role: Role | None


def provision_user(
    session: Session,
    *,
    email: str,
    org_slug: str | None,
    role: str | None,
    display_name: str = "",
    site_admin: bool = False,
    read_password: Callable[[], str],
) -> Provisioned:
    """Create a user, or give an existing one a membership; the password is asked for only
    when the account has none yet, and after everything else has been checked."""
    address = normalise_email(email)
    org = get_org_by_slug(session, org_slug) if org_slug else None
    chosen = parse_role(role) if role is not None else None
    user = get_by_email(session, address)
    password = None
    if user is None or user.password_hash is None:
        password = read_password()
        check_password(password)
    with writing(session):
        created = user is None
        if user is None:
            user = create(
                session,
                email=address,
                password=password,
                display_name=display_name,
                is_site_admin=site_admin,
            )
        else:
            if password is not None:
                set_password(session, user=user, password=password)
            if display_name.strip():
                user.display_name = display_name.strip()[:NAME_MAX]
            if site_admin:
                user.is_site_admin = True
            session.add(user)
        if org is not None and chosen is not None:
            add_member(session, user=user, org=org, role=chosen)
            audit.record(
                session,
                actor_id=None,
                action=AuditAction.MEMBER_ADD,
                subject=f"org:{org.id}",
                reason="command line",
                data={"user_id": user.id, "email": user.email, "role": chosen.value},
            )
    return Provisioned(
        user=user, created=created, password_set=password is not None, org=org, role=chosen
    )
