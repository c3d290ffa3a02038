"""Signing in and out."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from pledge.accounts import service as accounts
from pledge.db import SessionDep
from pledge.deps import OptionalUser
from pledge.errors import Invalid
from pledge.ratelimit import client_address, limiter, login_limit
from pledge.web import CheckedForm, end_user_session, render, start_user_session

router = APIRouter()


def safe_next(target: str | None) -> str:
    """Only a path on this site: never an open redirect to another one."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target[:500]
    return "/dashboard"


@router.get("/login", response_class=HTMLResponse, response_model=None)
def accounts_login_form(request: Request, user: OptionalUser) -> Response:
    target = safe_next(request.query_params.get("next"))
    if user is not None:
        return RedirectResponse(target, status_code=303)
    return render(request, "accounts/login.html", {"next": target, "email": "", "errors": {}})


@router.post("/login", response_model=None)
@limiter.limit(login_limit)
def accounts_login(request: Request, session: SessionDep, form: CheckedForm) -> Response:
    email = str(form.get("email") or "")[:254]
    password = str(form.get("password") or "")[:1000]
    target = safe_next(str(form.get("next") or ""))
    try:
        user = accounts.authenticate(
            session, email=email, password=password, ip=client_address(request)
        )
    except Invalid as error:
        return render(
            request,
            "accounts/login.html",
            {"next": target, "email": email, "errors": error.errors},
            status_code=422,
        )
    start_user_session(request, user.id or 0, user.session_version)
    return RedirectResponse(target, status_code=303)


@router.post("/logout", response_model=None)
def accounts_logout(request: Request, form: CheckedForm) -> Response:
    end_user_session(request)
    return RedirectResponse(request.app.url_path_for("campaigns_index"), status_code=303)
