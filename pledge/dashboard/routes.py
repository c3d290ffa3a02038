"""Partner dashboard: the organisation's home, campaign statistics and exports, and the abuse
console of the campaigns it leads."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from sqlmodel import Session

from pledge.campaigns import service as campaigns
from pledge.campaigns.models import Campaign
from pledge.dashboard import charts, console
from pledge.dashboard import service as dashboard
from pledge.db import SessionDep
from pledge.deps import (
    CurrentUser,
    NameModerator,
    OrgContext,
    OrgViewer,
    PartnershipManager,
    SignatureReviewer,
    StatisticsViewer,
    SupporterExporter,
)
from pledge.embeds import service as embeds
from pledge.errors import Conflict, Forbidden, Invalid, NotFound
from pledge.forms import form_text
from pledge.i18n import gettext as _
from pledge.supporters import service as supporters
from pledge.web import CheckedForm, RowId, public_base_url, redraw, render


def dashboard_home(request: Request, session: SessionDep, user: CurrentUser) -> Response:
    memberships = dashboard.home(session, user=user)
    # A site admin has two places to go (the organisation and /admin), so is shown the list.
    if len(memberships) == 1 and not user.is_site_admin:
        target = request.app.url_path_for("dashboard_org", org=memberships[0].org.slug)
        return RedirectResponse(str(target), status_code=303)
    return render(request, "dashboard/home.html", {"memberships": memberships})


def _partnership_done() -> dict[str, str]:
    return {
        "accepted": _("Your organisation is now a partner of the campaign."),
        "declined": _("The invitation is declined."),
        "left": _(
            "Your organisation has left the campaign. The supporters who came through your "
            "link stay in its total."
        ),
    }


def _org_context(request: Request, session: Session, access: OrgContext) -> dict[str, object]:
    done = request.query_params.get("done", "")
    messages = _partnership_done()
    return {
        "page": dashboard.org_home(session, org=access.org),
        "access": access,
        "base_url": public_base_url(request),
        "done": done if done in messages else None,
        "done_messages": messages,
    }


def dashboard_org(request: Request, session: SessionDep, access: OrgViewer) -> HTMLResponse:
    return render(request, "dashboard/org.html", _org_context(request, session, access))


def _partnership(
    request: Request,
    session: Session,
    access: OrgContext,
    change: Callable[[], object],
    done: str,
) -> Response:
    """Answer an invitation or leave a campaign, then back to the organisation's page; a
    refusal (already answered, the lead leaving its own campaign) redraws it with why."""
    try:
        change()
    except (Conflict, Forbidden) as refusal:
        session.rollback()
        context = _org_context(request, session, access)
        error = Invalid({"partnership": str(refusal)})
        return redraw(
            request, "dashboard/org.html", context, error, status_code=refusal.status_code
        )
    target = request.app.url_path_for("dashboard_org", org=access.org.slug)
    return RedirectResponse(f"{target}?done={done}#done", status_code=303)


def dashboard_partnership_accept(
    request: Request,
    session: SessionDep,
    access: PartnershipManager,
    form: CheckedForm,
    partnership_id: RowId,
) -> Response:
    return _partnership(
        request,
        session,
        access,
        lambda: campaigns.answer_invitation(
            session, org=access.org, partner_id=partnership_id, accept=True, actor=access.user
        ),
        "accepted",
    )


def dashboard_partnership_decline(
    request: Request,
    session: SessionDep,
    access: PartnershipManager,
    form: CheckedForm,
    partnership_id: RowId,
) -> Response:
    return _partnership(
        request,
        session,
        access,
        lambda: campaigns.answer_invitation(
            session, org=access.org, partner_id=partnership_id, accept=False, actor=access.user
        ),
        "declined",
    )


def dashboard_partnership_leave(
    request: Request,
    session: SessionDep,
    access: PartnershipManager,
    form: CheckedForm,
    partnership_id: RowId,
) -> Response:
    return _partnership(
        request,
        session,
        access,
        lambda: campaigns.leave_campaign(
            session, org=access.org, partner_id=partnership_id, actor=access.user
        ),
        "left",
    )


def dashboard_statistics(
    request: Request, session: SessionDep, access: StatisticsViewer, slug: str
) -> HTMLResponse:
    stats = dashboard.statistics(
        session, org=access.org, slug=slug, days=request.query_params.get("days")
    )
    return render(
        request,
        "dashboard/statistics.html",
        {
            "stats": stats,
            "access": access,
            "org": access.org,
            "day_chart": charts.per_day_chart(stats.per_day, days=stats.days),
            "hour_chart": charts.per_hour_chart(stats.per_hour, hours=len(stats.per_hour)),
            "day_windows": dashboard.DAY_WINDOWS,
            "min_bucket": dashboard.MIN_BUCKET,
            "round_to": dashboard.ROUND_TO,
        },
    )


def dashboard_embed(
    request: Request, session: SessionDep, access: OrgViewer, slug: str
) -> HTMLResponse:
    """Copy-ready code that shows the campaign's live count on the organisation's website."""
    item = dashboard.campaign_for_org(session, org=access.org, slug=slug)
    choice = embeds.EmbedChoice.parse(request.query_params, can_narrow=item.partner is not None)
    code = embeds.snippets(
        item.view, item.partner, base_url=public_base_url(request), choice=choice
    )
    return render(
        request,
        "dashboard/embed.html",
        {"item": item, "org": access.org, "choice": choice, "code": code},
    )


def dashboard_export(
    session: SessionDep, access: SupporterExporter, slug: str
) -> StreamingResponse:
    export = dashboard.export_supporters(session, org=access.org, slug=slug, actor=access.user)
    return _download(export)


def dashboard_export_xlsx(
    session: SessionDep, access: SupporterExporter, slug: str
) -> StreamingResponse:
    export = dashboard.export_supporters(
        session, org=access.org, slug=slug, actor=access.user, kind=dashboard.ExportFormat.XLSX
    )
    return _download(export)


def _download(export: dashboard.Export) -> StreamingResponse:
    return StreamingResponse(
        export.lines,
        media_type=export.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{export.filename}"',
            "Cache-Control": "no-store",
        },
    )


# --- the names a led campaign's page shows -------------------------------------------------------

NAMES_PAGE = "dashboard/names.html"
NAMES_DONE = {review.value for review in supporters.NameReview}


def _led_campaign(session: Session, access: OrgContext, slug: str) -> Campaign:
    found = dashboard.campaign_for_org(session, org=access.org, slug=slug)
    campaign = campaigns.get_or_none(session, found.view.id)
    if campaign is None:  # removed since
        raise NotFound(_("No such campaign."))
    if campaign.lead_org_id != access.org.id:
        raise Forbidden(
            _("Only the organisation that leads this campaign can review the names it shows.")
        )
    return campaign


def _names_context(
    request: Request, session: Session, access: OrgContext, campaign: Campaign
) -> dict[str, object]:
    done = request.query_params.get("done")
    return {
        "org": access.org,
        "campaign": campaign,
        "names": supporters.names_for_review(session, campaign_id=campaign.id or 0),
        "done": done if done in NAMES_DONE else None,
    }


def dashboard_names(
    request: Request, session: SessionDep, access: NameModerator, slug: str
) -> HTMLResponse:
    """The newest names the campaign page shows or holds back, to hide or show."""
    campaign = _led_campaign(session, access, slug)
    return render(request, NAMES_PAGE, _names_context(request, session, access, campaign))


def dashboard_names_review(
    request: Request, session: SessionDep, access: NameModerator, form: CheckedForm, slug: str
) -> Response:
    """Hide one supporter's name from the campaign's pages, or show it."""
    campaign = _led_campaign(session, access, slug)
    raw_decision = form_text(form, "decision", 10)
    raw_supporter = form_text(form, "supporter", 20)
    if raw_decision not in NAMES_DONE or not raw_supporter.isdecimal():
        context = _names_context(request, session, access, campaign)
        error = Invalid({"decision": _("Choose a name, and whether to hide or show it.")})
        return redraw(request, NAMES_PAGE, context, error)
    supporter_id = int(raw_supporter)
    supporters.review_name(
        session,
        campaign=campaign,
        supporter_id=supporter_id,
        decision=supporters.NameReview(raw_decision),
        actor_id=access.user.id or 0,
    )
    target = request.app.url_path_for("dashboard_names", org=access.org.slug, slug=campaign.slug)
    return RedirectResponse(f"{target}?done={raw_decision}#name-{supporter_id}", status_code=303)


# --- the abuse console of a campaign the organisation leads ------------------------------------


def _console(request: Request, session: Session, access: OrgContext, slug: str) -> console.Scope:
    view = dashboard.campaign_for_lead(session, org=access.org, slug=slug)
    return console.Scope(request, console.DASHBOARD, view, access.user, access.org)


def dashboard_abuse_campaign(
    request: Request,
    session: SessionDep,
    access: SignatureReviewer,
    slug: str,
    hour: str | None = None,
) -> HTMLResponse:
    return console.show_console(_console(request, session, access, slug), session, hour)


def dashboard_abuse_suspects(
    request: Request, session: SessionDep, access: SignatureReviewer, slug: str
) -> HTMLResponse:
    scope = _console(request, session, access, slug)
    return console.show_suspects(scope, session, request.query_params)


def dashboard_abuse_review(
    request: Request, session: SessionDep, access: SignatureReviewer, form: CheckedForm, slug: str
) -> Response:
    return console.review(_console(request, session, access, slug), session, form)


def dashboard_abuse_invalidate_form(
    request: Request, session: SessionDep, access: SignatureReviewer, slug: str
) -> HTMLResponse:
    scope = _console(request, session, access, slug)
    return console.show_invalidate(scope, session, request.query_params)


def dashboard_abuse_invalidate(
    request: Request, session: SessionDep, access: SignatureReviewer, form: CheckedForm, slug: str
) -> Response:
    return console.invalidate(_console(request, session, access, slug), session, form)


def dashboard_abuse_run(
    request: Request, session: SessionDep, access: SignatureReviewer, slug: str, run_id: RowId
) -> HTMLResponse:
    return console.show_run(_console(request, session, access, slug), session, run_id)


def dashboard_abuse_cancel(
    request: Request,
    session: SessionDep,
    access: SignatureReviewer,
    form: CheckedForm,
    slug: str,
    run_id: RowId,
) -> Response:
    scope = _console(request, session, access, slug)
    return console.change_run(scope, session, form, run_id, "cancel")


def dashboard_abuse_resume(
    request: Request,
    session: SessionDep,
    access: SignatureReviewer,
    form: CheckedForm,
    slug: str,
    run_id: RowId,
) -> Response:
    scope = _console(request, session, access, slug)
    return console.change_run(scope, session, form, run_id, "resume")


def dashboard_abuse_restore(
    request: Request,
    session: SessionDep,
    access: SignatureReviewer,
    form: CheckedForm,
    slug: str,
    run_id: RowId,
) -> Response:
    scope = _console(request, session, access, slug)
    return console.change_run(scope, session, form, run_id, "restore")
