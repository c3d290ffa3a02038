"""Invitations to an organisation: sent by email to a role, listed, revoked and accepted."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session, col, select

from pledge import audit, mail
from pledge.accounts.models import Organization, Role, TokenKind, User, UserToken, user_token_table
from pledge.accounts.service.forms import InviteForm, MemberInviteForm
from pledge.accounts.service.links import _drop_unused, _link, _new_token, _use_token, live_token
from pledge.accounts.service.members import add_member, parse_role, role_in
from pledge.accounts.service.users import create, get_by_email, normalise_email, set_password
from pledge.audit import AuditAction
from pledge.config import get_settings
from pledge.db import utcnow, writing
from pledge.errors import Conflict, Forbidden, NotFound
from pledge.i18n import gettext as _
from pledge.i18n import ngettext


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
    _drop_unused(
        session,
        user_token_table.c.kind == TokenKind.INVITE.value,
        user_token_table.c.org_id == org.id,
        user_token_table.c.email == address,
    )
    secret = _new_token(
        session,
        kind=TokenKind.INVITE,
        email=address,
        lifetime=timedelta(days=get_settings().invite_days),
        org_id=org.id,
        role=role,
        created_by_id=invited_by.id if invited_by else None,
    )
    _queue_invitation_mail(
        session,
        to=address,
        org=org,
        role=role,
        invited_by=invited_by,
        link=_link(base_url, f"/invite/{secret}"),
    )
    audit.record(
        session,
        actor_id=invited_by.id if invited_by else None,
        action=AuditAction.MEMBER_INVITE,
        subject=f"org:{org.id}",
        data={"email": address, "role": role.value},
    )
    return secret


def _queue_invitation_mail(
    session: Session, *, to: str, org: Organization, role: Role, invited_by: User | None, link: str
) -> None:
    """The invitation's email, in the inviter's language, with the link that accepts it."""
    settings = get_settings()
    inviter = (invited_by.display_name or invited_by.email) if invited_by else settings.site_name
    values = {
        "inviter": inviter,
        "org": org.name,
        "role": role.label,
        "site": settings.site_name,
        "days": settings.invite_days,
        "link": link,
    }
    mail.queue(
        session,
        to=to,
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


def invite_member(
    session: Session,
    *,
    org: Organization,
    form: MemberInviteForm,
    actor: User,
    base_url: str,
) -> str:
    """An admin's invitation from the members page, checked and stored."""
    invitee = form.check()
    with writing(session):
        return invite(
            session,
            org=org,
            email=invitee.email,
            role=invitee.role,
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
            action=AuditAction.MEMBER_INVITE_REVOKE,
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
    session: Session, *, secret: str, current_user: User | None, form: InviteForm
) -> tuple[User, Organization]:
    """Join the organisation: a new person sets a name and password (the form); someone who
    already has an account must be signed in as that account."""
    with writing(session):
        invitation = get_invitation(session, secret=secret)
        user = invitation.user
        if user is not None and not user.is_active:
            raise Forbidden(_("This account is disabled. Contact the site's administrators."))
        if invitation.needs_password:
            joining = form.check()
            if user is None:
                user = create(
                    session,
                    email=invitation.token.email,
                    password=joining.password,
                    display_name=joining.display_name,
                )
            else:
                user.display_name = joining.display_name
                set_password(session, user=user, password=joining.password)
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
            action=AuditAction.MEMBER_JOIN,
            subject=f"org:{invitation.org.id}",
            data={"role": invitation.role.value, "invited_by": invitation.token.created_by_id},
        )
    return user, invitation.org
