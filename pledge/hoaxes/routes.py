"""Reporting a hoax, following a report, and the public gallery of verdicts."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.background import BackgroundTask

from pledge import i18n, observability
from pledge.campaigns.models import CampaignView
from pledge.config import get_settings
from pledge.db import SessionDep
from pledge.deps import CampaignDep, OptionalUser
from pledge.errors import Invalid
from pledge.hoaxes import service as hoaxes
from pledge.hoaxes.models import Category, Platform
from pledge.ratelimit import client_key, limiter
from pledge.web import (
    CheckedUpload,
    RowId,
    absolute_url,
    cached_json,
    public_base_url,
    redraw,
    render,
)

PRIVATE_PAGE = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex",
}
API_CACHE_CONTROL = "public, max-age=30, stale-while-revalidate=60"


# --- reporting ------------------------------------------------------------------------


def report_page(view: CampaignView, form: hoaxes.ReportForm | None = None) -> dict[str, Any]:
    return {
        "view": view,
        "campaign": view.campaign,
        "accepting": hoaxes.is_accepting_reports(view.campaign),
        "form": form or hoaxes.ReportForm(),
        "platforms": list(Platform),
        "categories": list(Category),
    }


def hoaxes_report_form(request: Request, view: CampaignDep) -> HTMLResponse:
    context = {**report_page(view), "errors": {}, "choose_again": False}
    return render(request, "hoaxes/report.html", context)


@limiter.limit(hoaxes.report_limit)
def hoaxes_report(
    request: Request, session: SessionDep, view: CampaignDep, form: CheckedUpload
) -> Response:
    posted = hoaxes.ReportForm.read(form, sender=client_key(request))
    try:
        report = hoaxes.submit(session, view=view, form=posted, locale=i18n.get_locale())
    except Invalid as error:
        # A browser never sends a file back: the reporter must choose it again.
        choose_again = bool(posted.screenshot and "screenshot" not in error.errors)
        context = report_page(view, posted)
        return redraw(request, "hoaxes/report.html", context, error, choose_again=choose_again)
    observability.reported(request, report)
    if report is None:
        url = request.app.url_path_for("hoaxes_received", slug=view.slug)
    else:
        url = request.app.url_path_for("hoaxes_status", code=report.tracking_code)
    follow = None
    if hoaxes.needs_following(report):
        assert report is not None and report.id is not None
        follow = BackgroundTask(hoaxes.follow_short_link, request.app.state.engine, report.id)
    return RedirectResponse(url, status_code=303, background=follow)


def hoaxes_received(request: Request, view: CampaignDep) -> HTMLResponse:
    return render(request, "hoaxes/received.html", {"view": view, "campaign": view.campaign})


def hoaxes_status(request: Request, session: SessionDep, code: str) -> HTMLResponse:
    status = hoaxes.get_status(session, code=code)
    context = {
        "status": status,
        "report": status.report,
        "case": status.case,
        "campaign": status.campaign,
    }
    return render(request, "hoaxes/status.html", context, headers=PRIVATE_PAGE)


# --- uploaded images ------------------------------------------------------------------


def hoaxes_media(
    request: Request, session: SessionDep, user: OptionalUser, media_id: RowId
) -> Response:
    found = hoaxes.get_media(session, media_id=media_id, user=user)
    return Response(
        found.media.data,
        media_type=found.media.mime,
        headers={
            # An unpublished report's picture is a reporter's screenshot: no copy kept.
            "Cache-Control": "public, max-age=86400" if found.public else "private, no-store",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Content-Disposition": "inline",
        },
    )


# --- published verdicts ---------------------------------------------------------------


def hoaxes_gallery(
    request: Request, session: SessionDep, page: Annotated[int, Query(ge=1, le=100_000)] = 1
) -> HTMLResponse:
    gallery = hoaxes.list_published(session, page=page)
    return render(
        request,
        "hoaxes/gallery.html",
        {"gallery": gallery},
    )


def hoaxes_show(request: Request, session: SessionDep, case_id: RowId) -> HTMLResponse:
    hoax = hoaxes.get_published(session, case_id=case_id)
    page_url = absolute_url(request, "hoaxes_show", case_id=hoax.id)
    image_url = absolute_url(request, "hoaxes_image", case_id=hoax.id) if hoax.has_image else None
    review = hoaxes.claim_review(
        hoax,
        page_url=page_url,
        site_name=get_settings().site_name,
        base_url=public_base_url(request),
        appearances=hoaxes.list_appearances(session, case=hoax.case),
        image_url=image_url,
    )
    context = {
        "hoax": hoax,
        "case": hoax.case,
        "campaign": hoax.campaign,
        "page_url": page_url,
        "image_url": image_url,
        "claim_review": review,
        "corrections": hoaxes.list_corrections(session, case_id=hoax.id),
    }
    return render(request, "hoaxes/show.html", context)


def hoaxes_image(session: SessionDep, case_id: RowId) -> Response:
    data = hoaxes.labelled_image(session, case_id=case_id)
    return Response(
        data,
        media_type="image/jpeg",
        headers={
            "Cache-Control": "public, max-age=3600",
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )


# --- open data ------------------------------------------------------------------------


def hoaxes_api_list(
    request: Request,
    session: SessionDep,
    limit: Annotated[
        int, Query(ge=1, le=hoaxes.API_LIMIT_MAX, description="Verdicts per page")
    ] = hoaxes.API_LIMIT_DEFAULT,
    cursor: Annotated[
        str | None, Query(max_length=200, description="The `next` value of the previous page")
    ] = None,
) -> Response:
    page = hoaxes.list_open_data(
        session, base_url=public_base_url(request), limit=limit, cursor=cursor
    )
    response = cached_json(request, page.model_dump_json().encode())
    response.headers["Cache-Control"] = API_CACHE_CONTROL
    return response
