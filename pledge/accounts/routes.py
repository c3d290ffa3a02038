"""Signing in and out, invitations, password resets, the account page, an organisation's
members and profile."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from typing import Any

from fastapi import BackgroundTasks, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from pledge import mail, security
from pledge.accounts import service as accounts
from pledge.accounts.models import Role, User
from pledge.config import Environment, get_settings
from pledge.db import SessionDep
from pledge.deps import CurrentUser, MemberManager, OptionalUser, OrgContext, OrgEditor
from pledge.errors import (
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    PledgeError,
    ServiceUnavailable,
    error_response,
)
from pledge.i18n import gettext as _
from pledge.ratelimit import client_address, limiter, login_limit
from pledge.web import (
    SESSION_MAX_AGE,
    CheckedForm,
    RowId,
    end_user_session,
    form_text,
    public_base_url,
    redraw,
    render,
    session_data,
    start_user_session,
)

log = logging.getLogger(__name__)

# Pages whose address holds a one-time secret: never cached, never sent on as a Referer.
SECRET_PAGE_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
# The forms behind one-time links count together per address: a limit per link (each path
# its own count) would let anyone try as many made-up links as they like.
ONE_TIME_LINKS = "one-time-links"


def _done(request: Request, allowed: tuple[str, ...]) -> str | None:
    """Which confirmation to show after a redirect; only known values."""
    done = request.query_params.get("done")
    return done if done in allowed else None


def _path(request: Request, name: str, query: str = "", **params: Any) -> str:
    path = str(request.app.url_path_for(name, **params))
    return f"{path}?{query}" if query else path


def _deliver_mail(request: Request) -> BackgroundTasks:
    """Send queued mail after the response has gone out: no page waits on SMTP."""
    tasks = BackgroundTasks()
    tasks.add_task(mail.deliver_in_new_session, request.app.state.engine)
    return tasks


def _mail_base_url(request: Request) -> str:
    """The origin for links in emails. Taken from the request only outside production:
    there, a forged Host header would put an attacker's site into a reset link."""
    settings = get_settings()
    if settings.public_url:
        return str(settings.public_url).rstrip("/")
    if settings.env == Environment.PRODUCTION:
        log.error("set PLEDGE_PUBLIC_URL: emails with links are refused without it in production")
        raise ServiceUnavailable(
            _("This site cannot send links by email yet. Please tell the site's administrators.")
        )
    return public_base_url(request)


def _error_page(request: Request, error: PledgeError) -> Response:
    """The error page, drawn while the request's database session is still open: a refused
    write rolls back, which expires the signed-in user that the page header shows, and the
    app-wide handler runs only after the session has closed."""
    return error_response(request, error.status_code, error.detail, type(error).__name__)


def _link_problem(request: Request, error: NotFound | accounts.LinkGone, kind: str) -> Response:
    """The page for a one-time link that is unknown (404), used or expired (410)."""
    return render(
        request,
        "accounts/link_problem.html",
        {"detail": error.detail, "kind": kind, "status": error.status_code},
        status_code=error.status_code,
        headers=SECRET_PAGE_HEADERS,
    )


# --- signing in and out --------------------------------------------------------------


def safe_next(target: str | None) -> str:
    """Only a path on this site: never an open redirect to another one; "" when there is
    none, and the user goes where they start (``landing``). Browsers drop tabs and newlines
    from URLs and read a backslash as a slash, so "/\\t/x" would be "//x"."""
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
        and not any(ord(c) < 32 or ord(c) == 127 for c in target)
    ):
        return target[:500]
    return ""


def landing(request: Request, session: Session, user: User) -> str:
    """Where a user starts when no page asked for them: the hoax queue for who only moderates,
    the dashboard for everyone else (docs/moderators.md, "Signing in")."""
    if accounts.only_moderates(session, user=user):
        return _path(request, "moderation_queue")
    return _path(request, "dashboard_home")


def accounts_login_form(request: Request, session: SessionDep, user: OptionalUser) -> Response:
    target = safe_next(request.query_params.get("next"))
    if user is not None:
        return RedirectResponse(target or landing(request, session, user), status_code=303)
    return render(request, "accounts/login.html", {"next": target, "email": ""})


@limiter.limit(login_limit)
async def accounts_login(request: Request, session: SessionDep, form: CheckedForm) -> Response:
    # Refused here, on the event loop, when the process's password hashing is full: a flood
    # of sign-ins waiting in the thread pool would leave no thread for any other page.
    slots = security.password_slots()
    if not slots.admit():
        raise security.busy()
    try:
        return await run_in_threadpool(_login, request, session, form)
    finally:
        slots.leave()


def _login(request: Request, session: Session, form: FormData) -> Response:
    posted = accounts.LoginForm.read(form)
    target = safe_next(posted.next)
    try:
        user = accounts.authenticate(
            session, email=posted.email, password=posted.password, ip=client_address(request)
        )
    except Invalid as error:
        return redraw(
            request, "accounts/login.html", {"next": target, "email": posted.email}, error
        )
    start_user_session(request, user.id or 0, user.session_version)
    return RedirectResponse(target or landing(request, session, user), status_code=303)


def accounts_logout(request: Request, session: SessionDep, form: CheckedForm) -> Response:
    # Ended on the server too: a copy of the cookie kept from before signs nobody in.
    accounts.revoke_session(
        session,
        session_id=session_data(request).get("sid"),
        lasts=timedelta(seconds=SESSION_MAX_AGE),
    )
    end_user_session(request)
    return RedirectResponse(request.app.url_path_for("campaigns_index"), status_code=303)


# --- password reset ------------------------------------------------------------------


def reset_limit() -> str:
    return get_settings().ratelimit_reset


def accounts_password_forgot(request: Request, user: OptionalUser) -> HTMLResponse:
    return render(request, "accounts/forgot.html", {"email": ""})


@limiter.limit(reset_limit)
def accounts_password_forgot_send(
    request: Request, session: SessionDep, form: CheckedForm
) -> Response:
    posted = accounts.ForgotForm.read(form)
    base_url = _mail_base_url(request)
    try:
        accounts.request_password_reset(session, email=posted.check(), base_url=base_url)
    except Invalid as error:
        return redraw(request, "accounts/forgot.html", {"email": posted.email}, error)
    # The same answer whether or not the address has an account.
    return RedirectResponse(
        _path(request, "accounts_password_forgot_sent"),
        status_code=303,
        background=_deliver_mail(request),
    )


def accounts_password_forgot_sent(request: Request) -> HTMLResponse:
    return render(
        request,
        "accounts/forgot_sent.html",
        {"minutes": get_settings().reset_minutes},
    )


def accounts_password_reset_form(request: Request, session: SessionDep, token: str) -> Response:
    try:
        reset = accounts.get_reset(session, secret=token)
    except (NotFound, accounts.LinkGone) as error:
        return _link_problem(request, error, "reset")
    return render(
        request,
        "accounts/reset.html",
        {"token": token, "email": reset.email},
        headers=SECRET_PAGE_HEADERS,
    )


@limiter.shared_limit(login_limit, scope=ONE_TIME_LINKS)
def accounts_password_reset(
    request: Request, session: SessionDep, token: str, form: CheckedForm
) -> Response:
    try:
        user = accounts.reset_password(
            session, secret=token, form=accounts.NewPasswordForm.read(form)
        )
    except (NotFound, accounts.LinkGone) as error:
        return _link_problem(request, error, "reset")
    except Invalid as error:
        # The page names the account again, as it did before the password was refused.
        try:
            reset = accounts.get_reset(session, secret=token)
        except (NotFound, accounts.LinkGone) as gone:
            return _link_problem(request, gone, "reset")
        context = {"token": token, "email": reset.email}
        return redraw(request, "accounts/reset.html", context, error, headers=SECRET_PAGE_HEADERS)
    start_user_session(request, user.id or 0, user.session_version)
    return RedirectResponse(_path(request, "accounts_account", "done=reset"), status_code=303)


# --- invitations ---------------------------------------------------------------------


def _invite_page(
    request: Request,
    invitation: accounts.Invitation,
    token: str,
    user: User | None,
    display_name: str = "",
) -> dict[str, Any]:
    return {
        "invitation": invitation,
        "token": token,
        "signed_in_as": user,
        "display_name": display_name,
        "login_url": _path(request, "accounts_login_form", f"next=/invite/{token}"),
    }


def accounts_invite_form(
    request: Request, session: SessionDep, user: OptionalUser, token: str
) -> Response:
    try:
        invitation = accounts.get_invitation(session, secret=token)
    except (NotFound, accounts.LinkGone) as error:
        return _link_problem(request, error, "invite")
    context = _invite_page(request, invitation, token, user)
    return render(request, "accounts/invite.html", context, headers=SECRET_PAGE_HEADERS)


@limiter.shared_limit(login_limit, scope=ONE_TIME_LINKS)
def accounts_invite_accept(
    request: Request, session: SessionDep, user: OptionalUser, token: str, form: CheckedForm
) -> Response:
    posted = accounts.InviteForm.read(form)
    try:
        member, org = accounts.accept_invite(session, secret=token, current_user=user, form=posted)
    except (NotFound, accounts.LinkGone) as error:
        return _link_problem(request, error, "invite")
    except Forbidden as error:
        return _error_page(request, error)
    except Invalid as error:
        try:
            invitation = accounts.get_invitation(session, secret=token)
        except (NotFound, accounts.LinkGone) as gone:
            return _link_problem(request, gone, "invite")
        context = _invite_page(request, invitation, token, user, posted.display_name)
        return redraw(request, "accounts/invite.html", context, error, headers=SECRET_PAGE_HEADERS)
    start_user_session(request, member.id or 0, member.session_version)
    return RedirectResponse(_path(request, "dashboard_org", org=org.slug), status_code=303)


# --- the signed-in person's account --------------------------------------------------


NO_STORE = {"Cache-Control": "no-store"}


def _account_page(
    request: Request, session: Session, user: User, display_name: str | None = None
) -> dict[str, Any]:
    return {
        "user": user,
        "memberships": accounts.list_memberships(session, user_id=user.id or 0),
        "display_name": user.display_name if display_name is None else display_name,
        "done": _done(request, ("name", "password", "reset")),
    }


def accounts_account(request: Request, session: SessionDep, user: CurrentUser) -> HTMLResponse:
    context = _account_page(request, session, user)
    return render(request, "accounts/account.html", context, headers=NO_STORE)


def _on_account_page(
    request: Request,
    session: Session,
    user: User,
    change: Callable[[], object],
    *,
    done: str,
    display_name: str | None = None,
) -> Response:
    """A change made on the account page: back to it with its notice (303), or the page
    again with the message beside the form that was refused (422)."""
    try:
        change()
    except Invalid as error:
        context = _account_page(request, session, user, display_name)
        return redraw(request, "accounts/account.html", context, error, headers=NO_STORE)
    return RedirectResponse(_path(request, "accounts_account", f"done={done}"), status_code=303)


def accounts_account_name(
    request: Request, session: SessionDep, user: CurrentUser, form: CheckedForm
) -> Response:
    posted = accounts.NameForm.read(form)
    change = partial(accounts.update_display_name, session, user=user, form=posted)
    return _on_account_page(
        request, session, user, change, done="name", display_name=posted.display_name
    )


@limiter.limit(login_limit)
def accounts_account_password(
    request: Request, session: SessionDep, user: CurrentUser, form: CheckedForm
) -> Response:
    def change() -> None:
        accounts.change_password(session, user=user, form=accounts.ChangePasswordForm.read(form))
        # Every other session ended with the new password; this one goes on with the new
        # version.
        start_user_session(request, user.id or 0, user.session_version)

    return _on_account_page(request, session, user, change, done="password")


# --- an organisation's members -------------------------------------------------------


def _members_page(
    request: Request,
    session: Session,
    access: OrgContext,
    posted: accounts.MemberInviteForm | None = None,
) -> dict[str, Any]:
    posted = posted or accounts.MemberInviteForm()
    return {
        "org": access.org,
        "me": access.user,
        "members": accounts.list_members(session, org=access.org),
        "invitations": accounts.list_invitations(session, org=access.org),
        "roles": list(Role),
        "email": posted.email,
        "role": posted.role,
        "done": _done(request, ("invited", "role", "removed", "revoked")),
        "invite_days": get_settings().invite_days,
    }


def _members_refused(
    request: Request,
    session: Session,
    access: OrgContext,
    error: Invalid | dict[str, str],
    posted: accounts.MemberInviteForm | None = None,
    status_code: int = 422,
) -> HTMLResponse:
    """The members page again, with a message beside the form that was refused."""
    context = _members_page(request, session, access, posted)
    return redraw(
        request, "accounts/members.html", context, error, status_code=status_code, headers=NO_STORE
    )


def _members_path(request: Request, access: OrgContext, done: str) -> str:
    return _path(request, "accounts_members", f"done={done}", org=access.org.slug)


def accounts_members(request: Request, session: SessionDep, access: MemberManager) -> HTMLResponse:
    context = _members_page(request, session, access)
    return render(request, "accounts/members.html", context, headers=NO_STORE)


def accounts_member_invite(
    request: Request, session: SessionDep, access: MemberManager, form: CheckedForm
) -> Response:
    posted = accounts.MemberInviteForm.read(form)
    try:
        accounts.invite_member(
            session,
            org=access.org,
            form=posted,
            actor=access.user,
            base_url=_mail_base_url(request),
        )
    except Invalid as error:
        return _members_refused(request, session, access, error, posted)
    except Conflict as error:
        return _members_refused(
            request, session, access, {"email": error.detail}, posted, status_code=409
        )
    return RedirectResponse(
        _members_path(request, access, "invited"),
        status_code=303,
        background=_deliver_mail(request),
    )


def accounts_member_role(
    request: Request,
    session: SessionDep,
    access: MemberManager,
    user_id: RowId,
    form: CheckedForm,
) -> Response:
    try:
        accounts.change_role(
            session,
            org=access.org,
            user_id=user_id,
            role=form_text(form, "role", 20),
            actor=access.user,
        )
    except Invalid as error:
        return _members_refused(request, session, access, {f"role-{user_id}": error.detail})
    except NotFound as error:
        return _error_page(request, error)
    return RedirectResponse(_members_path(request, access, "role"), status_code=303)


def accounts_member_remove(
    request: Request,
    session: SessionDep,
    access: MemberManager,
    user_id: RowId,
    form: CheckedForm,
) -> Response:
    try:
        accounts.remove_member(session, org=access.org, user_id=user_id, actor=access.user)
    except Invalid as error:
        return _members_refused(request, session, access, {f"remove-{user_id}": error.detail})
    except NotFound as error:
        return _error_page(request, error)
    if user_id == access.user.id:
        # Removing oneself ends one's own sessions too.
        end_user_session(request)
        return RedirectResponse(_path(request, "accounts_login_form"), status_code=303)
    return RedirectResponse(_members_path(request, access, "removed"), status_code=303)


def accounts_invitation_revoke(
    request: Request, session: SessionDep, access: MemberManager, form: CheckedForm
) -> Response:
    raw = form_text(form, "invitation_id", 12)
    try:
        accounts.revoke_invitation(
            session,
            org=access.org,
            token_id=int(raw) if raw.isascii() and raw.isdigit() else 0,
            actor=access.user,
        )
    except NotFound as error:
        return _error_page(request, error)
    return RedirectResponse(_members_path(request, access, "revoked"), status_code=303)


# --- an organisation's profile -------------------------------------------------------


def _profile_page(
    request: Request, access: OrgContext, posted: accounts.OrgProfileForm | None = None
) -> dict[str, Any]:
    return {
        "org": access.org,
        # A change waiting for approval is what the form shows, to be seen and corrected.
        "name": (access.org.pending_name or access.org.name) if posted is None else posted.name,
        "website": (
            (access.org.pending_website if access.org.change_requested_at else access.org.website)
            or ""
        )
        if posted is None
        else posted.website,
        "done": _done(request, ("saved",)),
    }


def accounts_org_profile(request: Request, access: OrgEditor) -> HTMLResponse:
    return render(request, "accounts/org_profile.html", _profile_page(request, access))


def accounts_org_profile_update(
    request: Request, session: SessionDep, access: OrgEditor, form: CheckedForm
) -> Response:
    posted = accounts.OrgProfileForm.read(form)
    try:
        accounts.update_org(session, org=access.org, form=posted, actor=access.user)
    except Invalid as error:
        return redraw(
            request, "accounts/org_profile.html", _profile_page(request, access, posted), error
        )
    return RedirectResponse(
        _path(request, "accounts_org_profile", "done=saved", org=access.org.slug), status_code=303
    )
