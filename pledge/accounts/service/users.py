"""Users: their addresses, names and passwords, signing in, and the sessions they hold."""

from __future__ import annotations

from sqlmodel import Session, select

from pledge import forms, ratelimit
from pledge.accounts.models import User
from pledge.accounts.service.forms import NAME_MAX
from pledge.config import get_settings
from pledge.db import utcnow
from pledge.errors import Conflict, Invalid, NotFound, TooManyRequests
from pledge.i18n import gettext as _
from pledge.security import hash_password, password_needs_rehash, verify_password


def normalise_email(raw: str) -> str:
    """An email address as accounts store it; Invalid with its message when it is not one."""
    return forms.field("email", forms.email, raw)


def check_password(password: str) -> None:
    """A new password's rules; Invalid with the message when it breaks one."""
    forms.field("password", forms.password, password)


def get(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(_("We could not find that user."))
    return user


def get_by_email(session: Session, email: str) -> User | None:
    if "\x00" in email:  # PostgreSQL refuses a NUL in any text; no address holds one
        return None
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
        display_name=display_name.strip()[:NAME_MAX],
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
    # The hash may wait for a slot and then runs for a while: the database connection goes
    # back to the pool first, or a flood of sign-ins would hold every connection.
    session.commit()
    # Checked even when there is no such user (against a dummy hash), so that an unknown
    # address takes as long to refuse as a wrong password.
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
