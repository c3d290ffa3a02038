"""Users: their addresses, names and passwords, and the sessions they hold."""

from __future__ import annotations

from sqlmodel import Session, select

from pledge import forms
from pledge.accounts.models import User
from pledge.accounts.service.forms import NAME_MAX
from pledge.accounts.service.sessions import is_revoked, is_session_id
from pledge.errors import Conflict, NotFound
from pledge.i18n import gettext as _
from pledge.security import hash_password


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


def session_user(
    session: Session, *, user_id: object, version: object, session_id: object
) -> User | None:
    """The user a session cookie names, if that session has not been ended: by signing out
    (its id revoked), or by ending all of the user's sessions (its version raised). A cookie
    without a session id comes from before sessions had one, and signs nobody in."""
    if not isinstance(user_id, int) or not isinstance(version, int):
        return None
    if not is_session_id(session_id):
        return None
    user = session.get(User, user_id)
    if user is None or not user.is_active or user.session_version != version:
        return None
    if is_revoked(session, session_id=session_id):
        return None
    return user
