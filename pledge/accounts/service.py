"""Every query and rule about users, organisations and memberships, and signing in."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlmodel import Session, col, select

from pledge import audit, contacts, mail, ratelimit
from pledge.accounts.models import Membership, Organization, Role, TokenKind, User, UserToken
from pledge.config import get_settings
from pledge.db import utcnow, writing
from pledge.errors import (
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    PledgeError,
    TooManyRequests,
)
from pledge.i18n import gettext as _
from pledge.i18n import ngettext
from pledge.security import (
    PASSWORD_MAX,
    PASSWORD_MIN,
    hash_password,
    hash_token,
    password_needs_rehash,
    random_token,
    verify_password,
)
from pledge.slugs import SLUG_RE

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


def role_label(role: Role) -> str:
    """A role as people read it, in the current language."""
    return _("Admin") if role == Role.ADMIN else _("Moderator")


def parse_role(raw: str | Role) -> Role:
    try:
        return Role(raw)
    except ValueError:
        raise Invalid({"role": _("Choose a role: admin or moderator.")}) from None


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
            action="member.role",
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
            action="member.remove",
            subject=f"org:{org.id}",
            data={"user_id": user_id, "email": user.email, "role": membership.role.value},
        )


# --- one-time links: invitations and password resets ---------------------------------

token_t: sa.Table = UserToken.__table__  # type: ignore[attr-defined]
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
        sa.update(token_t)
        .where(token_t.c.id == token.id, token_t.c.used_at.is_(None))
        .values(used_at=utcnow())
    )
    if used.rowcount != 1:  # type: ignore[attr-defined]
        raise LinkGone(_("This link was used already: each link works only once."))


def _new_password_errors(password: str, confirm: str) -> dict[str, str]:
    try:
        check_password(password)
    except Invalid as error:
        return dict(error.errors)
    if password != confirm:
        return {"password_confirm": _("The two passwords are not the same.")}
    return {}


def _display_name_errors(name: str) -> dict[str, str]:
    if not name:
        return {"display_name": _("Enter your name.")}
    if len(name) > 80:
        return {"display_name": _("Use at most 80 characters for your name.")}
    return {}


def _link(base_url: str, path: str) -> str:
    return base_url.rstrip("/") + path


def invite(
    session: Session,
    *,
    org: Organization,
    email: str,
    role: Role,
    invited_by: User | None,
    base_url: str,
) -> str:
    """Invite a person by email to a role in an organisation; returns the link's secret.

    Adds the invitation, its email and an audit event to the caller's transaction: the
    caller commits. A new invitation replaces an earlier one to the same person.
    """
    address = normalise_email(email)
    role = parse_role(role)
    existing = get_by_email(session, address)
    if (
        existing is not None
        and role_in(session, user_id=existing.id or 0, org_id=org.id or 0) is not None
    ):
        raise Conflict(_("This person is already a member of this organisation."))
    session.execute(
        sa.delete(token_t).where(
            token_t.c.kind == TokenKind.INVITE.value,
            token_t.c.org_id == org.id,
            token_t.c.email == address,
            token_t.c.used_at.is_(None),
        )
    )
    settings = get_settings()
    secret = _new_token(
        session,
        kind=TokenKind.INVITE,
        email=address,
        lifetime=timedelta(days=settings.invite_days),
        org_id=org.id,
        role=role,
        created_by_id=invited_by.id if invited_by else None,
    )
    inviter = (invited_by.display_name or invited_by.email) if invited_by else settings.site_name
    values = {
        "inviter": inviter,
        "org": org.name,
        "role": role_label(role),
        "site": settings.site_name,
        "days": settings.invite_days,
        "link": _link(base_url, f"/invite/{secret}"),
    }
    mail.queue(
        session,
        to=address,
        subject=_("Invitation to join %(org)s on %(site)s") % values,
        body=_(
            "%(inviter)s invited you to join %(org)s on %(site)s as %(role)s.\n\n"
            "Open this link to accept the invitation and choose your password:\n"
            "%(link)s\n\n"
        )
        % values
        + ngettext(
            "The link works once and expires in %(days)s day.",
            "The link works once and expires in %(days)s days.",
            settings.invite_days,
        )
        % values
        + " "
        + _("If you did not expect this invitation, you can ignore this email."),
    )
    audit.record(
        session,
        actor_id=invited_by.id if invited_by else None,
        action="member.invite",
        subject=f"org:{org.id}",
        data={"email": address, "role": role.value},
    )
    return secret


def invite_member(
    session: Session,
    *,
    org: Organization,
    email: str,
    role: str | Role,
    actor: User,
    base_url: str,
) -> str:
    """An admin's invitation from the members page, checked and stored."""
    errors: dict[str, str] = {}
    try:
        parse_role(role)
    except Invalid as error:
        errors.update(error.errors)
    if not email.strip():
        errors["email"] = _("Enter the email address of the person to invite.")
    else:
        try:
            normalise_email(email)
        except Invalid as error:
            errors.update(error.errors)
    if errors:
        raise Invalid(errors)
    with writing(session):
        return invite(
            session,
            org=org,
            email=email,
            role=parse_role(role),
            invited_by=actor,
            base_url=base_url,
        )


def list_invitations(session: Session, *, org: Organization) -> list[UserToken]:
    """Invitations still waiting for an answer."""
    return list(
        session.exec(
            select(UserToken)
            .where(
                UserToken.kind == TokenKind.INVITE,
                UserToken.org_id == org.id,
                col(UserToken.used_at).is_(None),
                UserToken.expires_at > utcnow(),
            )
            .order_by(col(UserToken.created_at))
        )
    )


def revoke_invitation(session: Session, *, org: Organization, token_id: int, actor: User) -> None:
    with writing(session):
        token = session.get(UserToken, token_id) if 0 < token_id < 2**31 else None
        if (
            token is None
            or token.kind != TokenKind.INVITE
            or token.org_id != org.id
            or token.used_at is not None
        ):
            raise NotFound(_("We could not find that invitation."))
        session.delete(token)
        audit.record(
            session,
            actor_id=actor.id,
            action="member.invite_revoke",
            subject=f"org:{org.id}",
            data={"email": token.email, "role": token.role.value if token.role else None},
        )


@dataclass(frozen=True, slots=True)
class Invitation:
    token: UserToken
    org: Organization
    role: Role
    # The account that already has the invited address, if any.
    user: User | None

    @property
    def needs_password(self) -> bool:
        """A new account, or one never given a password: the link itself proves the address."""
        return self.user is None or self.user.password_hash is None


def get_invitation(session: Session, *, secret: str) -> Invitation:
    token = live_token(session, kind=TokenKind.INVITE, secret=secret)
    org = session.get(Organization, token.org_id) if token.org_id is not None else None
    if org is None or token.role is None:
        raise NotFound(_("This link is not valid. Check that you copied all of it."))
    return Invitation(
        token=token, org=org, role=token.role, user=get_by_email(session, token.email)
    )


def accept_invite(
    session: Session,
    *,
    secret: str,
    current_user: User | None,
    display_name: str = "",
    password: str = "",
    password_confirm: str = "",
) -> tuple[User, Organization]:
    """Join the organisation: a new person sets a name and password; someone who already
    has an account must be signed in as that account."""
    with writing(session):
        invitation = get_invitation(session, secret=secret)
        user = invitation.user
        if user is not None and not user.is_active:
            raise Forbidden(_("This account is disabled. Contact the site's administrators."))
        if invitation.needs_password:
            name = " ".join(display_name.split())
            errors = _display_name_errors(name) | _new_password_errors(password, password_confirm)
            if errors:
                raise Invalid(errors)
            if user is None:
                user = create(
                    session, email=invitation.token.email, password=password, display_name=name
                )
            else:
                user.display_name = name
                set_password(session, user=user, password=password)
        elif current_user is None or current_user.id != (user.id if user else None):
            raise Forbidden(
                _("Sign in as %(email)s to accept this invitation.")
                % {"email": invitation.token.email}
            )
        assert user is not None
        _use_token(session, invitation.token)
        if role_in(session, user_id=user.id or 0, org_id=invitation.org.id or 0) is None:
            add_member(session, user=user, org=invitation.org, role=invitation.role)
        user.last_login_at = utcnow()
        session.add(user)
        audit.record(
            session,
            actor_id=user.id,
            action="member.join",
            subject=f"org:{invitation.org.id}",
            data={"role": invitation.role.value, "invited_by": invitation.token.created_by_id},
        )
    return user, invitation.org


def request_password_reset(session: Session, *, email: str, base_url: str) -> None:
    """Email a reset link if the address has an active account. The caller answers the
    same either way, so nobody learns from it which addresses have accounts."""
    if not email.strip():
        raise Invalid({"email": _("Enter your email address.")})
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
        # Only the newest link works.
        session.execute(
            sa.delete(token_t).where(
                token_t.c.kind == TokenKind.RESET.value,
                token_t.c.user_id == user.id,
                token_t.c.used_at.is_(None),
            )
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


def reset_password(session: Session, *, secret: str, password: str, password_confirm: str) -> User:
    """Set a new password through a reset link; every session the user had open ends."""
    with writing(session):
        token = live_token(session, kind=TokenKind.RESET, secret=secret)
        user = session.get(User, token.user_id) if token.user_id is not None else None
        if user is None or not user.is_active:
            raise LinkGone(_("This link can no longer be used."))
        errors = _new_password_errors(password, password_confirm)
        if errors:
            raise Invalid(errors)
        _use_token(session, token)
        set_password(session, user=user, password=password)
        user.last_login_at = utcnow()
        session.add(user)
        audit.record(
            session, actor_id=user.id, action="user.password_reset", subject=f"user:{user.id}"
        )
    return user


# --- the signed-in person's own account ----------------------------------------------


def update_display_name(session: Session, *, user: User, display_name: str) -> User:
    name = " ".join(display_name.split())
    errors = _display_name_errors(name)
    if errors:
        raise Invalid(errors)
    with writing(session):
        user.display_name = name
        session.add(user)
    return user


def change_password(
    session: Session, *, user: User, current_password: str, password: str, password_confirm: str
) -> User:
    """A new password ends every session of the user; the caller starts a new one."""
    settings = get_settings()
    # Guesses at the current password count against the same limit as sign-in attempts.
    if not ratelimit.hit(settings.ratelimit_login_email, "login-email", user.email):
        raise TooManyRequests(
            _("Too many sign-in attempts for this account. Wait a few minutes and try again.")
        )
    if not verify_password(user.password_hash, current_password):
        raise Invalid({"current_password": _("That is not your current password.")})
    errors = _new_password_errors(password, password_confirm)
    if errors:
        raise Invalid(errors)
    with writing(session):
        set_password(session, user=user, password=password)
        audit.record(
            session, actor_id=user.id, action="user.password_change", subject=f"user:{user.id}"
        )
    return user


# --- organisation profile ------------------------------------------------------------

WEBSITE_MAX = 300


def check_website(raw: str) -> str | None:
    """An http or https address, or None when left empty."""
    website = raw.strip()
    if not website:
        return None
    try:
        parts = urlsplit(website)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        port_ok = False
    if (
        not port_ok
        or parts.scheme.lower() not in ("http", "https")
        or not parts.hostname
        or "@" in parts.netloc
        or len(website) > WEBSITE_MAX
        or any(c.isspace() or ord(c) < 32 for c in website)
    ):
        raise Invalid(
            {"website": _("Enter the full address of the website, like https://contoh.or.id.")}
        )
    return website


def update_org(
    session: Session, *, org: Organization, name: str, website: str, actor: User
) -> Organization:
    clean_name = " ".join(name.split())
    errors: dict[str, str] = {}
    if not clean_name or len(clean_name) > 160:
        errors["name"] = _("Enter the organisation's name (at most 160 characters).")
    clean_website = None
    try:
        clean_website = check_website(website)
    except Invalid as error:
        errors.update(error.errors)
    if errors:
        raise Invalid(errors)
    with writing(session):
        changes = {
            field: [before, after]
            for field, before, after in (
                ("name", org.name, clean_name),
                ("website", org.website, clean_website),
            )
            if before != after
        }
        org.name = clean_name
        org.website = clean_website
        session.add(org)
        if changes:
            audit.record(
                session,
                actor_id=actor.id,
                action="org.update",
                subject=f"org:{org.id}",
                data=changes,
            )
    return org


# --- the command line ----------------------------------------------------------------


def register_org(
    session: Session, *, slug: str, name: str, website: str = "", verified: bool = False
) -> Organization:
    """An organisation created by an operator on the command line."""
    clean_website = check_website(website)
    with writing(session):
        org = create_org(
            session, slug=slug.strip(), name=name, website=clean_website, verified=verified
        )
        audit.record(
            session,
            actor_id=None,
            action="org.create",
            subject=f"org:{org.id}",
            reason="command line",
            data={"slug": org.slug, "name": org.name, "verified": verified},
        )
    return org


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
                user.display_name = display_name.strip()[:80]
            if site_admin:
                user.is_site_admin = True
            session.add(user)
        if org is not None and chosen is not None:
            add_member(session, user=user, org=org, role=chosen)
            audit.record(
                session,
                actor_id=None,
                action="member.add",
                subject=f"org:{org.id}",
                reason="command line",
                data={"user_id": user.id, "email": user.email, "role": chosen.value},
            )
    return Provisioned(
        user=user, created=created, password_set=password is not None, org=org, role=chosen
    )
