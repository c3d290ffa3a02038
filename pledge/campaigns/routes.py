"""Public campaign pages: the list of campaigns, one campaign with its form, the privacy notice."""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from markdown_it import MarkdownIt
from sqlmodel import Session

from pledge.campaigns import service as campaigns
from pledge.campaigns.models import CampaignView
from pledge.db import SessionDep
from pledge.deps import CampaignDep
from pledge.supporters import service as supporters
from pledge.supporters.models import SignForm
from pledge.web import absolute_url, render

router = APIRouter()

# CommonMark with raw HTML off: partner text can never inject markup or script.
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})


def render_markdown(text: str) -> str:
    return _markdown.render(text)


@router.get("/", response_class=HTMLResponse)
def campaigns_index(request: Request, session: SessionDep) -> HTMLResponse:
    cards = supporters.list_with_counts(session, views=campaigns.list_views(session))
    return render(request, "campaigns/index.html", {"cards": cards})


def render_campaign(
    request: Request,
    session: Session,
    view: CampaignView,
    *,
    form: SignForm | None = None,
    errors: Mapping[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    page = supporters.campaign_page(session, view=view)
    ref = form.ref if form else request.query_params.get("ref", "")
    referrer = view.partner_by_code(ref) if ref else None
    context = {
        "view": view,
        "campaign": view.campaign,
        "page": page,
        "signable": campaigns.is_signable(view.campaign),
        "body_html": render_markdown(view.campaign.body),
        "form": form or SignForm(),
        "errors": errors or {},
        "ref": referrer.referral_code if referrer else "",
        "referrer": referrer,
        "share_url": absolute_url(request, "campaigns_show", slug=view.slug),
    }
    return render(request, "campaigns/show.html", context, status_code=status_code)


@router.get("/c/{slug}", response_class=HTMLResponse)
def campaigns_show(request: Request, session: SessionDep, view: CampaignDep) -> HTMLResponse:
    return render_campaign(request, session, view)


@router.get("/privacy", response_class=HTMLResponse)
def campaigns_privacy(request: Request) -> HTMLResponse:
    return render(request, "pages/privacy.html")
