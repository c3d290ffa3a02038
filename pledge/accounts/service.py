"""Every query and rule about users, organisations and memberships, and signing in."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from pledge import contacts, ratelimit
from pledge.accounts.models import Membership, Organization, Role, User
from pledge.campaigns.service import SLUG_RE
from pledge.config import get_settings
from pledge.db import utcnow
from pledge.errors import Conflict, Invalid, NotFound, TooManyRequests
from pledge.i18n import gettext as _
from pledge.security import (
    PASSWORD_MAX,
    PASSWORD_MIN,
    hash_password,
    password_needs_rehash,
    verify_password,
)

# --- users ---------------------------------------------------------------------------


def normalise_email(raw: str) -> str:
    try:
        return contacts.normalise_email(raw.strip())
    except contacts.ContactError as error:
        raise Invalid({"email": str(error)}) from None


def check_password(password: str) -> None:
    if len(password) < PASSWORD_MIN:
        raise Invalid({"password": _("Use at least 10 characters for your password.")})
    if len(password) > PASSWORD_MAX:
        raise Invalid({"password": _("Use at most 200 characters for your password.")})


def get(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(_("We could not find that user."))
    return user


def get_by_email(session: Session, email: str) -> User | None:
    return session.exec(select(User).where(User.email == email.strip().lower())).first()


def create(
    session: Session,
    *,
    email: str,
    password: str | None = None,
    display_name: str = "",
    is_site_admin: bool = False,
) -> User:
    address = normalise_email(email)
    if get_by_email(session, address) is not None:
        raise Conflict(_("There is already an account with this email address."))
    if password is not None:
        check_password(password)
    user = User(
        email=address,
        display_name=display_name.strip()[:80],
        password_hash=hash_password(password) if password is not None else None,
        is_site_admin=is_site_admin,
    )
    session.add(user)
    session.flush()
    return user


def set_password(session: Session, *, user: User, password: str) -> User:
    """A new password ends every session the user had open."""
    check_password(password)
    user.password_hash = hash_password(password)
    user.session_version += 1
    session.add(user)
    session.flush()
    return user


def end_sessions(session: Session, *, user: User) -> None:
    user.session_version += 1
    session.add(user)
    session.flush()


def authenticate(session: Session, *, email: str, password: str, ip: str) -> User:
    """The user with this email and password; one message for every kind of failure,
    so that nobody can learn whether an address has an account."""
    settings = get_settings()
    address = email.strip().lower()[:254]
    if not ratelimit.hit(settings.ratelimit_login_email, "login-email", address):
        raise TooManyRequests(
            _("Too many sign-in attempts for this account. Wait a few minutes and try again.")
        )
    user = get_by_email(session, address) if address else None
    valid = verify_password(user.password_hash if user else None, password)
    if user is None or not valid or not user.is_active:
        raise Invalid({"email": _("That email and password do not match an account.")})
    assert user.password_hash is not None
    if password_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    session.add(user)
    session.commit()
    return user


def session_user(session: Session, *, user_id: object, version: object) -> User | None:
    """The user a session cookie names, if that session has not been ended."""
    if not isinstance(user_id, int) or not isinstance(version, int):
        return None
    user = session.get(User, user_id)
    if user is None or not user.is_active or user.session_version != version:
        return None
    return user


# --- organisations and memberships ---------------------------------------------------


def get_org_by_slug(session: Session, slug: str) -> Organization:
    org = session.exec(select(Organization).where(Organization.slug == slug)).first()
    if org is None:
        raise NotFound(_("We could not find that organisation."))
    return org


def create_org(
    session: Session, *, slug: str, name: str, website: str | None = None, verified: bool = False
) -> Organization:
    errors = {}
    if not SLUG_RE.fullmatch(slug) or len(slug) > 64:
        errors["slug"] = _("Use lower-case letters, digits and dashes only.")
    if not name.strip() or len(name.strip()) > 160:
        errors["name"] = _("Enter the organisation's name (at most 160 characters).")
    if errors:
        raise Invalid(errors)
    if session.exec(select(Organization).where(Organization.slug == slug)).first():
        raise Conflict(_("An organisation with this short name already exists."))
    org = Organization(slug=slug, name=name.strip(), website=website or None, verified=verified)
    session.add(org)
    session.flush()
    return org


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
