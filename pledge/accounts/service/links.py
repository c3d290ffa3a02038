"""One-time links sent by email (invitations and password resets), and the reset itself.

The link carries a random secret; the table keeps only its hash, so a leaked table holds no
usable link. A link works once: the request that marks it used is the one that may act.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import Session, select

from pledge import audit, mail, ratelimit
from pledge.accounts.models import Role, TokenKind, User, UserToken, user_token_table
from pledge.accounts.service.forms import NewPasswordForm
from pledge.accounts.service.users import get_by_email, normalise_email, set_password
from pledge.audit import AuditAction
from pledge.config import get_settings
from pledge.db import utcnow, writing
from pledge.errors import NotFound, PledgeError, TooManyRequests
from pledge.i18n import gettext as _
from pledge.security import hash_token, random_token

SECRET_BYTES = 32


class LinkGone(PledgeError):
    """A one-time link that was used already or has expired."""

    status_code = 410


def _new_token(
    session: Session,
    *,
    kind: TokenKind,
    email: str,
    lifetime: timedelta,
    user_id: int | None = None,
    org_id: int | None = None,
    role: Role | None = None,
    created_by_id: int | None = None,
) -> str:
    """Store a new link and return its secret, which only the email will hold."""
    secret = random_token(SECRET_BYTES)
    session.add(
        UserToken(
            kind=kind,
            token_hash=hash_token(secret),
            email=email,
            user_id=user_id,
            org_id=org_id,
            role=role,
            created_by_id=created_by_id,
            expires_at=utcnow() + lifetime,
        )
    )
    session.flush()
    return secret


def _drop_unused(session: Session, *where: sa.ColumnElement[bool]) -> None:
    """Delete the links of a kind not used yet, so that only the newest one works."""
    session.execute(sa.delete(user_token_table).where(*where, user_token_table.c.used_at.is_(None)))


def live_token(session: Session, *, kind: TokenKind, secret: str) -> UserToken:
    """The one-time link this secret opens, if it is still good."""
    token = None
    if 20 <= len(secret) <= 100:
        token = session.exec(
            select(UserToken).where(
                UserToken.token_hash == hash_token(secret), UserToken.kind == kind
            )
        ).first()
    if token is None:
        raise NotFound(_("This link is not valid. Check that you copied all of it."))
    if token.used_at is not None:
        raise LinkGone(_("This link was used already: each link works only once."))
    if token.expires_at <= utcnow():
        raise LinkGone(_("This link has expired."))
    return token


def _use_token(session: Session, token: UserToken) -> None:
    """Mark a link used, once: of two requests racing with one link, only one gets here."""
    used = session.execute(
        sa.update(user_token_table)
        .where(user_token_table.c.id == token.id, user_token_table.c.used_at.is_(None))
        .values(used_at=utcnow())
    )
    if used.rowcount != 1:  # type: ignore[attr-defined]
        raise LinkGone(_("This link was used already: each link works only once."))


def _link(base_url: str, path: str) -> str:
    return base_url.rstrip("/") + path


# --- password resets -----------------------------------------------------------------


def request_password_reset(session: Session, *, email: str, base_url: str) -> None:
    """Email a reset link if the address (checked by the form: ForgotForm) has an active
    account. The caller answers the same either way, so nobody learns from it which
    addresses have accounts."""
    address = normalise_email(email)
    settings = get_settings()
    if not ratelimit.hit(settings.ratelimit_reset_email, "reset-email", address):
        raise TooManyRequests(
            _("Too many reset requests for this address. Wait an hour and try again.")
        )
    with writing(session):
        user = get_by_email(session, address)
        if user is None or not user.is_active:
            return
        _drop_unused(
            session,
            user_token_table.c.kind == TokenKind.RESET.value,
            user_token_table.c.user_id == user.id,
        )
        secret = _new_token(
            session,
            kind=TokenKind.RESET,
            email=address,
            lifetime=timedelta(minutes=settings.reset_minutes),
            user_id=user.id,
        )
        values = {
            "site": settings.site_name,
            "minutes": settings.reset_minutes,
            "link": _link(base_url, f"/password/reset/{secret}"),
        }
        mail.queue(
            session,
            to=address,
            subject=_("Reset your password on %(site)s") % values,
            body=_(
                "Someone, probably you, asked to reset the password of your account on "
                "%(site)s.\n\n"
                "Open this link to choose a new password:\n"
                "%(link)s\n\n"
                "The link works once and expires in %(minutes)s minutes. If you did not ask "
                "for it, ignore this email: your password stays as it is."
            )
            % values,
        )


def get_reset(session: Session, *, secret: str) -> UserToken:
    return live_token(session, kind=TokenKind.RESET, secret=secret)


def reset_password(session: Session, *, secret: str, form: NewPasswordForm) -> User:
    """Set a new password through a reset link; every session the user had open ends. The
    link is checked before the form: a dead link says so whatever was typed."""
    with writing(session):
        token = live_token(session, kind=TokenKind.RESET, secret=secret)
        user = session.get(User, token.user_id) if token.user_id is not None else None
        if user is None or not user.is_active:
            raise LinkGone(_("This link can no longer be used."))
        password = form.check()
        _use_token(session, token)
        set_password(session, user=user, password=password)
        user.last_login_at = utcnow()
        session.add(user)
        audit.record(
            session,
            actor_id=user.id,
            action=AuditAction.USER_PASSWORD_RESET,
            subject=f"user:{user.id}",
        )
    return user
