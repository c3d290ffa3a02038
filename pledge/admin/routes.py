"""Site administration: approving organisations, managing users and memberships, and the
abuse console of every campaign."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session
from starlette.datastructures import FormData

from pledge.accounts.models import Role, User
from pledge.admin import service as admin
from pledge.dashboard import console
from pledge.dashboard import service as dashboard
from pledge.db import SessionDep
from pledge.deps import SiteAdmin
from pledge.errors import Invalid
from pledge.web import CheckedForm, RowId, form_text, redraw, render


def _page_number(raw: str | None) -> int:
    """A page number from the query; anything else is the first page."""
    return int(raw) if raw and raw.isdigit() and len(raw) < 7 else 1


def _filter(raw: str | None) -> admin.OrgFilter:
    try:
        return admin.parse_org_filter(raw)
    except Invalid:
        return admin.OrgFilter.ALL


def _see_other(
    request: Request, name: str, query: dict[str, Any] | None = None, **params: Any
) -> Response:
    url = str(request.app.url_path_for(name, **params))
    if query:
        url += "?" + urlencode(query)
    return RedirectResponse(url, status_code=303)


# --- home ----------------------------------------------------------------------------------


def admin_home(request: Request, user: SiteAdmin, session: SessionDep) -> HTMLResponse:
    return render(request, "admin/home.html", {"overview": admin.overview(session)})


# --- organisations -------------------------------------------------------------------------


def _orgs_page(
    session: Session,
    *,
    status: admin.OrgFilter = admin.OrgFilter.ALL,
    page: int = 1,
    form: admin.OrgForm | None = None,
) -> dict[str, Any]:
    return {
        "page": admin.list_orgs(session, status=status, page=page),
        "status": status,
        "filters": list(admin.OrgFilter),
        "form": form or admin.OrgForm(),
    }


def admin_orgs(
    request: Request,
    user: SiteAdmin,
    session: SessionDep,
    status: str | None = None,
    page: str | None = None,
) -> HTMLResponse:
    try:
        chosen = admin.parse_org_filter(status)
    except Invalid as error:
        return redraw(request, "admin/orgs.html", _orgs_page(session), error)
    context = _orgs_page(session, status=chosen, page=_page_number(page))
    return render(request, "admin/orgs.html", context)


def admin_org_create(
    request: Request, user: SiteAdmin, session: SessionDep, form: CheckedForm
) -> Response:
    posted = admin.OrgForm.read(form)
    try:
        admin.create_org(session, actor=user, form=posted)
    except Invalid as error:
        return redraw(request, "admin/orgs.html", _orgs_page(session, form=posted), error)
    return _see_other(request, "admin_orgs", {"status": admin.OrgFilter.ALL.value})


def _set_approval(
    request: Request, session: Session, user: User, form: FormData, org: str, approved: bool
) -> Response:
    admin.set_org_approved(session, actor=user, slug=org, approved=approved)
    return _back_to_orgs(request, form)


def admin_org_approve(
    request: Request, user: SiteAdmin, session: SessionDep, form: CheckedForm, org: str
) -> Response:
    return _set_approval(request, session, user, form, org, approved=True)


def admin_org_revoke(
    request: Request, user: SiteAdmin, session: SessionDep, form: CheckedForm, org: str
) -> Response:
    return _set_approval(request, session, user, form, org, approved=False)


def _review_change(
    request: Request, session: Session, user: User, form: FormData, org: str, approve: bool
) -> Response:
    admin.review_org_change(session, actor=user, slug=org, approve=approve)
    return _back_to_orgs(request, form)


def _back_to_orgs(request: Request, form: FormData) -> Response:
    """Back to the organisations list, on the filter and page the form was posted from."""
    back = {"status": _filter(form_text(form, "status")).value}
    page = _page_number(form_text(form, "page"))
    if page > 1:
        back["page"] = str(page)
    return _see_other(request, "admin_orgs", back)


def admin_org_change_approve(
    request: Request, user: SiteAdmin, session: SessionDep, form: CheckedForm, org: str
) -> Response:
    return _review_change(request, session, user, form, org, approve=True)


def admin_org_change_reject(
    request: Request, user: SiteAdmin, session: SessionDep, form: CheckedForm, org: str
) -> Response:
    return _review_change(request, session, user, form, org, approve=False)


# --- users ---------------------------------------------------------------------------------


def admin_users(
    request: Request,
    user: SiteAdmin,
    session: SessionDep,
    q: str | None = None,
    page: str | None = None,
) -> HTMLResponse:
    query = (q or "").strip()[:254]
    return render(
        request,
        "admin/users.html",
        {"page": admin.list_users(session, q=query, page=_page_number(page)), "q": query},
    )


def _user_page(session: Session, user_id: int, **posted: str) -> dict[str, Any]:
    return {
        "detail": admin.user_detail(session, user_id=user_id),
        "roles": list(Role),
        "form": {"reason": "", "org": "", "role": "", **posted},
    }


def admin_user(
    request: Request, user: SiteAdmin, session: SessionDep, user_id: int
) -> HTMLResponse:
    return render(request, "admin/user.html", _user_page(session, user_id))


def _on_user_page(
    request: Request, session: Session, user_id: int, change: Callable[[], object], **posted: str
) -> Response:
    """A change made on a user's page: back to it (303), or the page again with what was
    posted and the message beside the form that was refused (422)."""
    try:
        change()
    except Invalid as error:
        return redraw(request, "admin/user.html", _user_page(session, user_id, **posted), error)
    return _see_other(request, "admin_user", user_id=user_id)


def admin_user_deactivate(
    request: Request, user: SiteAdmin, session: SessionDep, form: CheckedForm, user_id: int
) -> Response:
    reason = form_text(form, "reason")
    change = partial(admin.deactivate_user, session, actor=user, user_id=user_id, reason=reason)
    return _on_user_page(request, session, user_id, change, reason=reason)


def admin_user_activate(
    request: Request, user: SiteAdmin, session: SessionDep, form: CheckedForm, user_id: int
) -> Response:
    change = partial(admin.activate_user, session, actor=user, user_id=user_id)
    return _on_user_page(request, session, user_id, change)


def admin_user_site_admin(
    request: Request, user: SiteAdmin, session: SessionDep, form: CheckedForm, user_id: int
) -> Response:
    def change() -> None:
        grant = admin.parse_flag(form_text(form, "is_site_admin"))
        admin.set_site_admin(session, actor=user, user_id=user_id, grant=grant)

    return _on_user_page(request, session, user_id, change)


# --- memberships ---------------------------------------------------------------------------


def admin_membership_set(
    request: Request, user: SiteAdmin, session: SessionDep, form: CheckedForm, user_id: int
) -> Response:
    posted = admin.MembershipForm.read(form)
    change = partial(admin.set_membership, session, actor=user, user_id=user_id, form=posted)
    return _on_user_page(request, session, user_id, change, org=posted.org, role=posted.role)


def admin_membership_remove(
    request: Request,
    user: SiteAdmin,
    session: SessionDep,
    form: CheckedForm,
    user_id: int,
    org: str,
) -> Response:
    change = partial(admin.remove_membership, session, actor=user, user_id=user_id, org_slug=org)
    return _on_user_page(request, session, user_id, change)


# --- the abuse console ---------------------------------------------------------------------


def _console(request: Request, session: Session, user: User, slug: str) -> console.Scope:
    view = dashboard.campaign_for_admin(session, slug=slug)
    return console.Scope(request, console.ADMIN, view, user)


def admin_abuse(request: Request, user: SiteAdmin, session: SessionDep) -> HTMLResponse:
    """Every live and closed campaign, with what its console has to show."""
    return console.show_overview(request, session)


def admin_abuse_campaign(
    request: Request, user: SiteAdmin, session: SessionDep, slug: str, hour: str | None = None
) -> HTMLResponse:
    return console.show_console(_console(request, session, user, slug), session, hour)


def admin_abuse_suspects(
    request: Request, user: SiteAdmin, session: SessionDep, slug: str
) -> HTMLResponse:
    scope = _console(request, session, user, slug)
    return console.show_suspects(scope, session, request.query_params)


def admin_abuse_review(
    request: Request, user: SiteAdmin, session: SessionDep, form: CheckedForm, slug: str
) -> Response:
    return console.review(_console(request, session, user, slug), session, form)


def admin_abuse_invalidate_form(
    request: Request, user: SiteAdmin, session: SessionDep, slug: str
) -> HTMLResponse:
    scope = _console(request, session, user, slug)
    return console.show_invalidate(scope, session, request.query_params)


def admin_abuse_invalidate(
    request: Request, user: SiteAdmin, session: SessionDep, form: CheckedForm, slug: str
) -> Response:
    return console.invalidate(_console(request, session, user, slug), session, form)


def admin_abuse_run(
    request: Request, user: SiteAdmin, session: SessionDep, slug: str, run_id: RowId
) -> HTMLResponse:
    return console.show_run(_console(request, session, user, slug), session, run_id)


def admin_abuse_cancel(
    request: Request,
    user: SiteAdmin,
    session: SessionDep,
    form: CheckedForm,
    slug: str,
    run_id: RowId,
) -> Response:
    scope = _console(request, session, user, slug)
    return console.change_run(scope, session, form, run_id, "cancel")


def admin_abuse_resume(
    request: Request,
    user: SiteAdmin,
    session: SessionDep,
    form: CheckedForm,
    slug: str,
    run_id: RowId,
) -> Response:
    scope = _console(request, session, user, slug)
    return console.change_run(scope, session, form, run_id, "resume")


def admin_abuse_restore(
    request: Request,
    user: SiteAdmin,
    session: SessionDep,
    form: CheckedForm,
    slug: str,
    run_id: RowId,
) -> Response:
    scope = _console(request, session, user, slug)
    return console.change_run(scope, session, form, run_id, "restore")
