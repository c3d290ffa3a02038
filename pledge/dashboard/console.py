"""The abuse console's pages, drawn alike for the site's administrators (under /admin) and for
the admins of a campaign's lead organisation (under /dashboard): their routes find the
campaign and the person, and hand both here as a `Scope`.

Each action is a posted form with a reason (kept in the audit log; the reason of an
invalidation is also shown on the campaign page): counting held signatures, invalidating
them or what a filter matches, cancelling, resuming and restoring an invalidation. An
invalidation moves on after the answer, in the background of this process.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session
from starlette.background import BackgroundTask
from starlette.datastructures import FormData

from pledge.accounts.models import Organization, User
from pledge.campaigns.models import CampaignView
from pledge.dashboard import service as dashboard
from pledge.errors import Conflict, Invalid
from pledge.forms import Checks, form_text, form_values
from pledge.i18n import gettext as _
from pledge.supporters import service as supporters
from pledge.supporters.models import InvalidationStatus
from pledge.web import path_for, redraw, render

ADMIN, DASHBOARD = "admin", "dashboard"
# The reviews a suspect's form can ask for, and which suspects it applies to.
RELEASE, INVALIDATE = "release", "invalidate"
TICKED, MATCHING = "ticked", "matching"


@dataclass(frozen=True, slots=True)
class Scope:
    """One campaign's console, for one person, under /admin or under /dashboard."""

    request: Request
    audience: str  # ADMIN or DASHBOARD
    view: CampaignView
    user: User
    org: Organization | None = None  # the lead organisation, under /dashboard

    def link(
        self, page: str = "campaign", query: Mapping[str, str] | None = None, **params: Any
    ) -> str:
        """The path of one of the console's pages, with a query when given."""
        base = {"slug": self.view.slug}
        if self.org is not None:
            base["org"] = self.org.slug
        path = path_for(self.request, f"{self.audience}_abuse_{page}", **base, **params)
        return f"{path}?{urlencode(query)}" if query else path

    def render(self, template: str, context: dict[str, Any], **options: Any) -> HTMLResponse:
        return render(self.request, template, self._context(context), **options)

    def redraw(
        self, template: str, context: dict[str, Any], error: Invalid, **options: Any
    ) -> HTMLResponse:
        return redraw(self.request, template, self._context(context), error, **options)

    def _context(self, context: dict[str, Any]) -> dict[str, Any]:
        return {
            "scope": self,
            "view": self.view,
            "campaign": self.view.campaign,
            "org": self.org,
            "errors": {},
            "partner_options": [(p.slug, p.name) for p in self.view.partners],
            **context,
        }

    def see_other(
        self, page: str, query: Mapping[str, str] | None = None, **params: Any
    ) -> RedirectResponse:
        return RedirectResponse(self.link(page, query, **params), status_code=303)


def _actor(scope: Scope) -> int | None:
    return scope.user.id


# --- the console's first page ------------------------------------------------------------------


def show_console(scope: Scope, session: Session, hour: str | None) -> HTMLResponse:
    try:
        found = dashboard.console(session, view=scope.view, hour=hour)
    except Invalid as error:
        found = dashboard.console(session, view=scope.view)
        return scope.redraw("dashboard/abuse/console.html", {"console": found}, error)
    return scope.render("dashboard/abuse/console.html", {"console": found})


def show_overview(request: Request, session: Session) -> HTMLResponse:
    return render(
        request, "dashboard/abuse/overview.html", {"campaigns": dashboard.overview(session)}
    )


# --- signatures held for review ----------------------------------------------------------------


def _page_number(raw: str | None) -> int:
    return int(raw) if raw and raw.isascii() and raw.isdigit() and len(raw) < 7 else 1


def _suspects_context(
    scope: Scope, session: Session, posted: supporters.FilterForm, page: int, checks: Checks
) -> dict[str, Any]:
    """The suspects a filter matches, a page of them; an empty list when the filter is bad."""
    found = posted.check(scope.view, checks)
    listed = supporters.Suspects(items=[], total=0, page=1, pages=1)
    if not checks.errors:
        listed = supporters.list_suspects(
            session, campaign_id=scope.view.id, found=found, page=page
        )
    return {
        "filter": posted,
        "suspects": listed,
        "partners": {p.id: p for p in scope.view.partners},
        "review": {"reason": "", "which": TICKED, "ticked": ()},
        "released": None,
    }


def show_suspects(scope: Scope, session: Session, query: Mapping[str, str]) -> HTMLResponse:
    posted = supporters.FilterForm.read(query)
    checks = Checks()
    context = _suspects_context(scope, session, posted, _page_number(query.get("page")), checks)
    if query.get("released"):
        context["released"] = _page_number(query.get("released"))
    if checks.errors:
        return scope.redraw("dashboard/abuse/suspects.html", context, Invalid(checks.errors))
    return scope.render("dashboard/abuse/suspects.html", context)


def review(scope: Scope, session: Session, form: FormData) -> Response:
    """Count the suspects ticked (or all that match the filter) after all, or invalidate
    them."""
    posted = supporters.FilterForm.read(form)
    checks = Checks()
    found = posted.check(scope.view, checks)
    action = form_text(form, "action", 20)
    which = form_text(form, "which", 20)
    reason = form_text(form, "reason")
    raw_ticked = form_values(form, "supporter", 20, count=supporters.PICKED_MAX + 1)
    if action not in (RELEASE, INVALIDATE):
        checks.refuse("action", _("Choose whether to count these signatures or invalidate them."))
    if which not in (TICKED, MATCHING):
        checks.refuse("which", _("Choose the signatures ticked, or all that match the filter."))
    ticked = checks.run("supporter", supporters.check_picked, raw_ticked) or ()
    if which == TICKED and not ticked and checks.ok("supporter"):
        checks.refuse("supporter", _("Tick at least one signature, or choose all that match."))
    checker = supporters.check_public_reason if action == INVALIDATE else supporters.check_reason
    clean_reason = checks.run("reason", checker, reason)
    if checks.errors:
        context = _suspects_context(scope, session, posted, 1, Checks())
        context["review"] = {"reason": reason, "which": which, "ticked": ticked}
        return scope.redraw("dashboard/abuse/suspects.html", context, Invalid(checks.errors))
    picked = found if which == MATCHING else supporters.Filter(supporter_ids=ticked)
    if action == RELEASE:
        released = supporters.release(
            session,
            view=scope.view,
            found=picked,
            reason=clean_reason or "",
            actor_id=_actor(scope),
        )
        return scope.see_other("suspects", {**posted.given, "released": str(released)})
    return _start(scope, session, replace(picked, suspects_only=True), clean_reason or "")


# --- invalidating ------------------------------------------------------------------------------


def _invalidate_context(
    scope: Scope, session: Session, posted: supporters.FilterForm, checks: Checks
) -> dict[str, Any]:
    """The form, and when a good filter is given, what it matches now."""
    found = posted.check(scope.view, checks)
    shown = None
    if posted.given:
        supporters.check_narrows(found, checks)
        if not checks.errors:
            shown = supporters.preview(session, campaign_id=scope.view.id, found=found)
    return {"filter": posted, "preview": shown, "reason": ""}


def show_invalidate(scope: Scope, session: Session, query: Mapping[str, str]) -> HTMLResponse:
    posted = supporters.FilterForm.read(query)
    checks = Checks()
    context = _invalidate_context(scope, session, posted, checks)
    if checks.errors:
        return scope.redraw("dashboard/abuse/invalidate.html", context, Invalid(checks.errors))
    return scope.render("dashboard/abuse/invalidate.html", context)


def invalidate(scope: Scope, session: Session, form: FormData) -> Response:
    posted = supporters.FilterForm.read(form)
    checks = Checks()
    found = posted.check(scope.view, checks)
    supporters.check_narrows(found, checks)
    reason = form_text(form, "reason")
    clean_reason = checks.run("reason", supporters.check_public_reason, reason)
    if checks.errors:
        context = _invalidate_context(scope, session, posted, Checks())
        context["reason"] = reason
        return scope.redraw("dashboard/abuse/invalidate.html", context, Invalid(checks.errors))
    return _start(scope, session, found, clean_reason or "")


def _start(scope: Scope, session: Session, found: supporters.Filter, reason: str) -> Response:
    """Record an invalidation and move it on after the answer."""
    run = supporters.start(
        session, view=scope.view, found=found, reason=reason, actor_id=_actor(scope)
    )
    answer = scope.see_other("run", run_id=run.id)
    answer.background = _moving(scope, run)
    return answer


def _moving(scope: Scope, run: Any) -> BackgroundTask:
    return BackgroundTask(
        supporters.advance_in_background,
        scope.request.app.state.engine,
        run_id=run.id,
        runner=run.runner,
    )


# --- one invalidation --------------------------------------------------------------------------


def _run_context(scope: Scope, session: Session, run_id: int) -> dict[str, Any]:
    run = supporters.get_invalidation(session, campaign_id=scope.view.id, run_id=run_id)
    moving = run.status in (InvalidationStatus.RUNNING, InvalidationStatus.RESTORING)
    return {
        "run": run,
        "stalled": supporters.stalled(run),
        "moving": moving,
        "partner": next((p for p in scope.view.partners if p.id == run.partner_id), None),
        "reason": "",
        "change": "",
    }


def show_run(scope: Scope, session: Session, run_id: int) -> HTMLResponse:
    context = _run_context(scope, session, run_id)
    # The page follows a moving run by reloading itself (no script needed).
    refresh = context["moving"] and not context["stalled"]
    return scope.render("dashboard/abuse/run.html", {**context, "refresh": refresh})


# What each button on a run's page does.
_CHANGES = {
    "cancel": supporters.cancel,
    "resume": supporters.resume,
    "restore": supporters.restore,
}


def change_run(
    scope: Scope, session: Session, form: FormData, run_id: int, change: str
) -> Response:
    """Cancel, resume or restore an invalidation, with a reason."""
    reason = form_text(form, "reason")
    checks = Checks()
    clean_reason = checks.run("reason", supporters.check_reason, reason)
    try:
        checks.done()
        run = _CHANGES[change](
            session,
            campaign_id=scope.view.id,
            run_id=run_id,
            reason=clean_reason or "",
            actor_id=_actor(scope),
        )
    except (Invalid, Conflict) as refused:
        error = refused if isinstance(refused, Invalid) else Invalid({"reason": refused.detail})
        context = {**_run_context(scope, session, run_id), "reason": reason, "change": change}
        return scope.redraw(
            "dashboard/abuse/run.html", context, error, status_code=refused.status_code
        )
    supporters.forget_page(scope.view.id)
    answer = scope.see_other("run", run_id=run_id)
    if change != "cancel":
        answer.background = _moving(scope, run)
    return answer
