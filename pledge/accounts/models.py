"""Organisations, users, their memberships, and one-time links for invitations and resets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from pledge.db import enum_column, table, utcnow
from pledge.i18n import gettext as _


class Role(StrEnum):
    ADMIN = "admin"
    MODERATOR = "moderator"

    @property
    def label(self) -> str:
        """The role as people read it, in the current language."""
        return {Role.ADMIN: _("Admin"), Role.MODERATOR: _("Moderator")}[self]


class TokenKind(StrEnum):
    INVITE = "invite"
    RESET = "reset"


class Organization(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=160)
    website: str | None = Field(default=None, max_length=300)
    # Approved by a site admin; only approved organisations can put a campaign live.
    verified: bool = Field(default=False)
    created_at: datetime = Field(default_factory=utcnow)
    # A new name or website an approved organisation asked for: it waits for a site admin,
    # and the name and website above stay public until then. None: nothing waits.
    change_requested_at: datetime | None = None
    pending_name: str | None = Field(default=None, max_length=160)
    pending_website: str | None = Field(default=None, max_length=300)


class User(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True)  # stored lower-cased
    display_name: str = Field(default="", max_length=80)
    # None until the person sets a password through their invitation link.
    password_hash: str | None = Field(default=None, max_length=200)
    is_site_admin: bool = Field(default=False)
    is_active: bool = Field(default=True)
    # Part of every session cookie; raising it ends all of the user's sessions.
    session_version: int = Field(default=1)
    created_at: datetime = Field(default_factory=utcnow)
    last_login_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who is signed in, as the page header shows it: a plain copy, so an error page can be
    drawn after the request's transaction was rolled back and its session closed."""

    id: int
    email: str
    display_name: str
    is_site_admin: bool
    is_moderator: bool  # may open the moderation queue

    @classmethod
    def of(cls, user: User, *, is_moderator: bool) -> Viewer:
        return cls(
            id=user.id or 0,
            email=user.email,
            display_name=user.display_name,
            is_site_admin=user.is_site_admin,
            is_moderator=is_moderator,
        )


class Membership(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("user_id", "org_id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", ondelete="CASCADE", index=True)
    org_id: int = Field(foreign_key="organization.id", ondelete="CASCADE", index=True)
    role: Role = Field(sa_type=enum_column(Role))
    created_at: datetime = Field(default_factory=utcnow)


class UserToken(SQLModel, table=True):
    """A one-time link: an invitation to an organisation, or a password reset."""

    __tablename__ = "user_token"

    id: int | None = Field(default=None, primary_key=True)
    kind: TokenKind = Field(sa_type=enum_column(TokenKind))
    # SHA-256 of the secret in the link: a leaked table does not leak usable links.
    token_hash: str = Field(max_length=64, unique=True)
    email: str = Field(max_length=254, index=True)
    user_id: int | None = Field(default=None, foreign_key="user.id", ondelete="CASCADE")
    org_id: int | None = Field(default=None, foreign_key="organization.id", ondelete="CASCADE")
    role: Role | None = Field(default=None, sa_type=enum_column(Role))
    created_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    used_at: datetime | None = None


class RevokedSession(SQLModel, table=True):
    """A signed-in session ended by signing out, by the id its cookie carries: a copy of that
    cookie, kept from before, signs nobody in. Kept until the cookie would have expired."""

    __tablename__ = "revoked_session"

    id: str = Field(primary_key=True, max_length=64)
    expires_at: datetime = Field(index=True)


# Core handles of the tables, for hot paths and set-based statements (see CONTRIBUTING.md).
organization_table = table(Organization)
user_table = table(User)
membership_table = table(Membership)
user_token_table = table(UserToken)
revoked_session_table = table(RevokedSession)
