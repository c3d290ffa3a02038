"""Users and organisations looked up, counted and listed for the other domains and the site's
administrators, and the organisation's part of a statement that needs it in the same round
trip as another domain's rows."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import sqlalchemy as sa
from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from pledge.accounts.models import Membership, Organization, User, organization_table

# --- users -------------------------------------------------------------------------------


def get_user_or_none(session: Session, user_id: int) -> User | None:
    """The user with this id, or None (a former moderator, say)."""
    return session.get(User, user_id)


def list_users(
    session: Session, *, ids: Collection[int] | None = None, email: str | None = None
) -> list[User]:
    """The users with these ids, or with this email address (stored lower-cased)."""
    query = select(User)
    if ids is not None:
        query = query.where(col(User.id).in_(ids))
    if email is not None:
        query = query.where(User.email == email)
    return list(session.exec(query))


def get_emails(session: Session, *, user_ids: Collection[int]) -> dict[int, str]:
    """The email address of each of these users, by id."""
    if not user_ids:
        return {}
    rows = session.exec(select(User.id, User.email).where(col(User.id).in_(user_ids))).all()
    return {int(user_id or 0): email for user_id, email in rows}


def _user_filters(
    *, email_contains: str = "", active: bool | None = None, site_admin: bool | None = None
) -> list[Any]:
    where: list[Any] = []
    if email_contains:
        where.append(col(User.email).contains(email_contains, autoescape=True))
    if active is not None:
        where.append(col(User.is_active).is_(active))
    if site_admin is not None:
        where.append(col(User.is_site_admin).is_(site_admin))
    return where


def count_users(
    session: Session,
    *,
    email_contains: str = "",
    active: bool | None = None,
    site_admin: bool | None = None,
) -> int:
    """How many users there are, of those whose email contains the text, active or not,
    site administrators or not, as asked."""
    where = _user_filters(email_contains=email_contains, active=active, site_admin=site_admin)
    return int(session.exec(select(func.count()).select_from(User).where(*where)).one())


def list_users_by_email(
    session: Session, *, email_contains: str = "", offset: int = 0, limit: int
) -> list[User]:
    """Users whose email contains the text (all when it is empty), in email order, a page at
    a time."""
    where = _user_filters(email_contains=email_contains)
    return list(
        session.exec(
            select(User).where(*where).order_by(col(User.email)).offset(offset).limit(limit)
        )
    )


# --- organisations ---------------------------------------------------------------------


def get_org_or_none(session: Session, org_id: int) -> Organization | None:
    """The organisation with this id, or None."""
    return session.get(Organization, org_id)


def get_org_by_slug_or_none(session: Session, slug: str) -> Organization | None:
    """The organisation with this short name, or None."""
    return session.exec(select(Organization).where(Organization.slug == slug)).first()


def get_org_by_name_or_none(session: Session, name: str) -> Organization | None:
    """An organisation with this name, whatever its case, or None."""
    return session.exec(
        select(Organization).where(func.lower(Organization.name) == name.lower())
    ).first()


def list_org_slugs(session: Session, *, starting_with: str) -> set[str]:
    """The short names taken that start with this text."""
    return set(
        session.exec(
            select(Organization.slug).where(col(Organization.slug).startswith(starting_with))
        )
    )


def count_orgs(session: Session, *, verified: bool | None = None) -> int:
    """How many organisations there are: approved ones, ones waiting, or all."""
    query = select(func.count()).select_from(Organization)
    if verified is not None:
        query = query.where(col(Organization.verified).is_(verified))
    return int(session.exec(query).one())


def list_orgs_with_member_counts(
    session: Session, *, verified: bool | None = None, offset: int = 0, limit: int
) -> list[tuple[Organization, int]]:
    """Organisations, newest first, a page at a time, each with how many members it has."""
    members = (
        select(Membership.org_id, func.count().label("members"))
        .group_by(col(Membership.org_id))
        .subquery()
    )
    query = select(Organization, func.coalesce(members.c.members, 0)).outerjoin(
        members, members.c.org_id == Organization.id
    )
    if verified is not None:
        query = query.where(col(Organization.verified).is_(verified))
    rows = session.exec(
        query.order_by(col(Organization.created_at).desc(), col(Organization.id).desc())
        .offset(offset)
        .limit(limit)
    )
    return [(org, int(count)) for org, count in rows]


def delete_membership(session: Session, *, user_id: int, org_id: int) -> int:
    """Take the user out of the organisation, whatever their role; how many memberships went
    (none when another request removed it a moment ago)."""
    removed = session.exec(
        delete(Membership).where(
            col(Membership.user_id) == user_id, col(Membership.org_id) == org_id
        )
    ).rowcount
    return int(removed)


# --- the organisation's part of another domain's statement -------------------------------


def select_with_org(entity: Any, *, org_id: Any) -> Any:
    """SELECT the caller's entity and, on each row, the Organization its `org_id` column
    names: for a page that needs both in one round trip. The caller adds its own conditions."""
    return select(entity, Organization).join(Organization, col(Organization.id) == org_id)


def select_with_org_name(column: Any, *, org_id: Any) -> sa.Select[Any]:
    """SELECT the caller's column and, on each row, the name of the organisation its `org_id`
    column names, in one statement. The caller adds its own conditions."""
    return sa.select(column, organization_table.c.name).join(
        organization_table, organization_table.c.id == org_id
    )
