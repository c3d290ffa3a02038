"""The signed-in person's own account: their name and their password."""

from __future__ import annotations

from sqlmodel import Session

from pledge import audit, ratelimit
from pledge.accounts.models import User
from pledge.accounts.service.forms import ChangePasswordForm, NameForm
from pledge.accounts.service.users import set_password
from pledge.audit import AuditAction
from pledge.config import get_settings
from pledge.db import writing
from pledge.errors import Invalid, TooManyRequests
from pledge.i18n import gettext as _
from pledge.security import verify_password


def update_display_name(session: Session, *, user: User, form: NameForm) -> User:
    name = form.check()
    with writing(session):
        user.display_name = name
        session.add(user)
    return user


def change_password(session: Session, *, user: User, form: ChangePasswordForm) -> User:
    """A new password ends every session of the user; the caller starts a new one."""
    settings = get_settings()
    # Someone holding a stolen session may guess at the current password: as many guesses as
    # a sign-in form allows one address, and each wrong one spends the account's ceiling
    # too, as a sign-in from a stranger's network would.
    if not ratelimit.hit(settings.ratelimit_login_email, "password-change", user.email):
        raise TooManyRequests(
            _("Too many sign-in attempts for this account. Wait a few minutes and try again.")
        )
    if not verify_password(user.password_hash, form.current_password):
        ratelimit.hit(settings.ratelimit_login_account, "login-account", user.email)
        raise Invalid({"current_password": _("That is not your current password.")})
    password = form.check()
    with writing(session):
        set_password(session, user=user, password=password)
        audit.record(
            session,
            actor_id=user.id,
            action=AuditAction.USER_PASSWORD_CHANGE,
            subject=f"user:{user.id}",
        )
    return user
