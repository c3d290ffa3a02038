"""Signing a campaign, the thank-you page, and withdrawing."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from pledge import i18n, observability
from pledge.campaigns.models import CampaignView
from pledge.campaigns.routes import render_campaign
from pledge.db import SessionDep
from pledge.deps import CampaignDep, public_campaign
from pledge.errors import Invalid
from pledge.ratelimit import limit_request, sign_limit
from pledge.supporters import service as supporters
from pledge.supporters.models import SignForm, SignOutcome
from pledge.web import (
    CheckedForm,
    LeanFormRoute,
    absolute_url,
    form_text,
    path_for,
    render,
    share_links,
)

router = APIRouter()


def sign_form(form: FormData) -> SignForm:
    return SignForm(
        name=form_text(form, "name"),
        contact=form_text(form, "contact"),
        province=form_text(form, "province"),
        age_band=form_text(form, "age_band"),
        age_ok=form_text(form, "age_ok"),
        consent=form_text(form, "consent"),
        pledges=tuple(v[:100] for v in form.getlist("pledges") if isinstance(v, str))[:50],
        show_name=form_text(form, "show_name"),
        updates_org=form_text(form, "updates_org"),
        ref=form_text(form, "ref")[:40],
        invite=form_text(form, "invite")[:40],
        website=form_text(form, "website"),
    )


async def supporters_sign(request: Request, form: FormData) -> Response:
    """``POST /c/{slug}/sign`` (a lean route, see ``hot_routes``). On the event loop: the form
    is checked here, and its write joins the process's next group commit; the answer waits
    for that commit."""
    view = await public_campaign(request.path_params["slug"], request)
    await limit_request(request, sign_limit(), "sign")
    posted = sign_form(form)
    try:
        signing = await supporters.sign_soon(
            request.app.state.signings, view=view, form=posted, locale=i18n.get_locale()
        )
    except Invalid as error:
        return await run_in_threadpool(_refused, request, view, posted, error.errors)
    observability.signed(request, signing)
    if signing.supporter is None:
        url = path_for(request, "supporters_thanks_generic", slug=view.slug)
    else:
        url = path_for(request, "supporters_thanks", slug=view.slug, token=signing.supporter.token)
        url += f"?outcome={signing.outcome.value}"
        if signing.added:
            url += "&added=" + ",".join(signing.added)
    return RedirectResponse(url, status_code=303)


def _refused(
    request: Request, view: CampaignView, posted: SignForm, errors: dict[str, str]
) -> HTMLResponse:
    """The form again, with what was typed and a message beside each field to fix."""
    with Session(request.app.state.engine, expire_on_commit=False) as session:
        return render_campaign(request, session, view, form=posted, errors=errors, status_code=422)


@router.get("/c/{slug}/thanks", response_class=HTMLResponse)
def supporters_thanks_generic(request: Request, view: CampaignDep) -> HTMLResponse:
    return render(
        request,
        "supporters/thanks.html",
        {
            "view": view,
            "campaign": view.campaign,
            "thanks": None,
            "outcome": SignOutcome.NEW,
            "share": share_links(
                absolute_url(request, "campaigns_show", slug=view.slug), view.campaign.title
            ),
        },
    )


@router.get("/c/{slug}/thanks/{token}", response_class=HTMLResponse)
def supporters_thanks(
    request: Request, session: SessionDep, view: CampaignDep, token: str
) -> HTMLResponse:
    thanks = supporters.thank_you(session, view=view, token=token)
    try:
        outcome = SignOutcome(request.query_params.get("outcome", "new"))
    except ValueError:
        outcome = SignOutcome.NEW
    added = set(request.query_params.get("added", "").split(","))
    # The personal invite link: it credits the partner who brought this supporter, and
    # counts the friends who sign through it.
    share_url = absolute_url(request, "campaigns_show", slug=view.slug)
    query = {"ref": thanks.referral_code, "invite": thanks.supporter.invite_code}
    if any(query.values()):
        share_url += "?" + urlencode({k: v for k, v in query.items() if v})
    return render(
        request,
        "supporters/thanks.html",
        {
            "view": view,
            "campaign": view.campaign,
            "thanks": thanks,
            "outcome": outcome,
            "added": [p for p in view.pledges if p.slug in added],
            "share": share_links(share_url, view.campaign.title),
        },
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )


@router.get("/c/{slug}/withdraw/{token}", response_class=HTMLResponse)
def supporters_withdraw_form(
    request: Request, session: SessionDep, view: CampaignDep, token: str
) -> HTMLResponse:
    thanks = supporters.thank_you(session, view=view, token=token)
    return render(
        request,
        "supporters/withdraw.html",
        {"view": view, "campaign": view.campaign, "thanks": thanks, "token": token},
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )


@router.post("/c/{slug}/withdraw/{token}", response_model=None)
def supporters_withdraw(
    request: Request, session: SessionDep, view: CampaignDep, token: str, form: CheckedForm
) -> Response:
    supporters.withdraw(session, campaign=view.campaign, token=token)
    url = path_for(request, "supporters_withdrawn", slug=view.slug)
    return RedirectResponse(url, status_code=303)


@router.get("/c/{slug}/withdrawn", response_class=HTMLResponse)
def supporters_withdrawn(request: Request, view: CampaignDep) -> HTMLResponse:
    return render(request, "supporters/withdrawn.html", {"view": view, "campaign": view.campaign})


# Matched before every router (pledge.app): signing is the busiest form of the site.
hot_routes = [LeanFormRoute("/c/{slug}/sign", supporters_sign)]
