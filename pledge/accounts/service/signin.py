"""Signing in: the limits per account and address, the networks an owner signs in from, and
the email that tells an owner about many failed attempts from elsewhere."""

from __future__ import annotations

from sqlmodel import Session

from pledge import mail, ratelimit
from pledge.accounts.models import User
from pledge.accounts.service.users import get_by_email
from pledge.config import get_settings
from pledge.db import utcnow, writing
from pledge.errors import Invalid, TooManyRequests
from pledge.i18n import DEFAULT_LOCALE, LOCALES, get_locale, translations
from pledge.i18n import gettext as _
from pledge.networks import limit_key
from pledge.security import hash_password, password_needs_rehash, verify_password

# How long a network the owner signed in from stays theirs: it is spared the account's
# ceiling, so that a guessing campaign from many addresses does not lock the owner out.
KNOWN_SECONDS = 30 * 24 * 3600
# An owner is told about failed sign-ins from elsewhere at most this often.
ALERT_EVERY = "1/hour"


def _over_account_limit() -> TooManyRequests:
    return TooManyRequests(
        _("Too many sign-in attempts for this account. Wait a few minutes and try again.")
    )


def _count_attempt(email: str, network: str) -> bool:
    """Count an attempt against the account's limits; whether it comes from a network the
    owner has signed in from lately. TooManyRequests when a limit is over: the account from
    this network (PLEDGE_RATELIMIT_LOGIN_EMAIL), which throttles an attacker's address and
    not the owner's, or, from any other network than the owner's, the account from
    everywhere (PLEDGE_RATELIMIT_LOGIN_ACCOUNT), against guessing from many addresses."""
    settings = get_settings()
    if not ratelimit.hit(settings.ratelimit_login_email, "login-email", email, network):
        raise _over_account_limit()
    known = ratelimit.remembered("login-known", email, network)
    if not known and not ratelimit.hit(settings.ratelimit_login_account, "login-account", email):
        raise _over_account_limit()
    return known


def authenticate(session: Session, *, email: str, password: str, ip: str) -> User:
    """The user with this email and password; one message for every kind of failure,
    so that nobody can learn whether an address has an account."""
    address = email.strip().lower()[:254]
    network = limit_key(ip)
    known = _count_attempt(address, network)
    user = get_by_email(session, address) if address else None
    # The hash may wait for a slot and then runs for a while: the database connection goes
    # back to the pool first, or a flood of sign-ins would hold every connection.
    session.commit()
    # Checked even when there is no such user (against a dummy hash), so that an unknown
    # address takes as long to refuse as a wrong password.
    valid = verify_password(user.password_hash if user else None, password)
    if user is None or not valid or not user.is_active:
        if user is not None and user.is_active and not known:
            _failed_from_elsewhere(session, user)
        raise Invalid({"email": _("That email and password do not match an account.")})
    assert user.password_hash is not None
    if password_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    session.add(user)
    session.commit()
    _remember_owner(user.email, network)
    return user


def _remember_owner(email: str, network: str) -> None:
    """The network and language of a successful sign-in, kept for KNOWN_SECONDS."""
    ratelimit.remember("login-known", email, network, seconds=KNOWN_SECONDS)
    language = get_locale()
    for other in LOCALES:
        if other != language:
            ratelimit.forget("login-language", email, other)
    ratelimit.remember("login-language", email, language, seconds=KNOWN_SECONDS)


def _owner_language(email: str) -> str:
    """The language the owner last signed in with, or the site's default."""
    return next(
        (lang for lang in LOCALES if ratelimit.remembered("login-language", email, lang)),
        DEFAULT_LOCALE,
    )


def _failed_from_elsewhere(session: Session, user: User) -> None:
    """Count a wrong password from a network the owner has not signed in from lately; when
    they reach PLEDGE_RATELIMIT_LOGIN_EMAIL, email the owner (at most once an hour)."""
    settings = get_settings()
    ratelimit.hit(settings.ratelimit_login_email, "login-elsewhere", user.email)
    if ratelimit.within(settings.ratelimit_login_email, "login-elsewhere", user.email):
        return
    if not ratelimit.hit(ALERT_EVERY, "login-alert", user.email):
        return
    t = translations(_owner_language(user.email))
    values = {"site": settings.site_name, "email": user.email}
    with writing(session):
        mail.queue(
            session,
            to=user.email,
            subject=t.gettext("Failed sign-ins to your account on %(site)s") % values,
            body=t.gettext(
                "Someone has typed wrong passwords for your account %(email)s on %(site)s "
                "many times in the last few minutes, from networks where you have not signed "
                "in lately.\n\n"
                "Those networks are slowed down; where you usually sign in, you can still sign "
                "in as before. Nobody got into your account with these attempts.\n\n"
                "If it was not you, make sure your password is long and used on no other "
                "site. If you use it elsewhere, change it there and here."
            )
            % values,
        )
