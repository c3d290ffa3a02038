"""Reporting a hoax, following a report, and the public gallery of verdicts."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session
from starlette.background import BackgroundTask

from pledge import i18n, observability
from pledge.cache import Cache
from pledge.campaigns.models import CampaignView
from pledge.config import get_settings
from pledge.db import ID_MAX, SessionDep
from pledge.deps import CampaignDep, OptionalUser
from pledge.errors import Invalid
from pledge.hoaxes import service as hoaxes
from pledge.hoaxes.models import Category, Platform, Verdict
from pledge.hoaxes.service import escalations, transparency
from pledge.ratelimit import client_key, limiter
from pledge.web import (
    CheckedUpload,
    RowId,
    absolute_url,
    cached_json,
    etag_response,
    public_base_url,
    redraw,
    render,
    share_links,
    signed_in,
    weak_etag,
)
from pledge.web.drawn import DrawnPages, VersionReader

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
        # A refused form keeps its key (nothing was stored with it): sent again, corrected,
        # it is still one report however often it is sent.
        "form_key": (form.key if form else None) or hoaxes.new_form_key(),
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
        sent = hoaxes.send(session, view=view, form=posted, locale=i18n.get_locale())
    except Invalid as error:
        # A browser never sends a file back: the reporter must choose it again.
        choose_again = bool(posted.screenshot and "screenshot" not in error.errors)
        context = report_page(view, posted)
        return redraw(request, "hoaxes/report.html", context, error, choose_again=choose_again)
    report = sent.report
    if report is None:
        url = request.app.url_path_for("hoaxes_received", slug=view.slug)
    else:
        url = request.app.url_path_for("hoaxes_status", code=report.tracking_code)
    if sent.again:
        # The same form sent before: the same answer, and nothing counted or done again.
        return RedirectResponse(url, status_code=303)
    observability.reported(request, report)
    follow = None
    if hoaxes.needs_following(report):
        assert report is not None and report.id is not None
        follow = BackgroundTask(hoaxes.follow_short_link, request.app.state.engine, report.id)
    return RedirectResponse(url, status_code=303, background=follow)


def hoaxes_received(request: Request, view: CampaignDep) -> HTMLResponse:
    return render(request, "hoaxes/received.html", {"view": view, "campaign": view.campaign})


# A status page and a lookup each count against the limit (shared: a lookup is followed by
# its status page), per address: tracking codes cannot be guessed through it.
lookup_limit = limiter.shared_limit(hoaxes.lookup_limit, scope="report-lookup")


@lookup_limit
def hoaxes_lookup(
    request: Request, code: Annotated[str | None, Query(include_in_schema=False)] = None
) -> Response:
    """The tracking-code box: a typed code goes to its status page; none, the box alone."""
    if code is None:
        return render(request, "hoaxes/lookup.html", {"code": ""}, headers=PRIVATE_PAGE)
    try:
        clean = hoaxes.clean_tracking_code(code)
    except Invalid as error:
        context = {"code": code[:200]}
        return redraw(request, "hoaxes/lookup.html", context, error, headers=PRIVATE_PAGE)
    url = request.app.url_path_for("hoaxes_status", code=clean)
    return RedirectResponse(url, status_code=303, headers={"Referrer-Policy": "no-referrer"})


@lookup_limit
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


# The verdict pages and the gallery are the same for every visitor in a language: drawn once
# per address, language and version of the published verdicts (read at most once a second),
# then answered on the event loop. Lean routes (see pledge.urls): the request alone.
_drawn = DrawnPages("hoaxes.drawn_pages")
_verdicts = VersionReader("hoaxes.verdicts_version", hoaxes.verdicts_version)
PUBLIC_PAGE_CACHE = "public, max-age=60"


def _case_number(raw: str) -> int:
    """A verdict's number in its address: one a row can have, or the address is refused (422)
    before any query, as for every other route's row id."""
    if raw.isascii() and raw.isdigit() and 1 <= int(raw) <= ID_MAX:
        return int(raw)
    raise RequestValidationError(
        [{"type": "int_parsing", "loc": ("path", "case_id"), "msg": "not a verdict number"}]
    )


async def hoaxes_gallery(request: Request) -> Response:
    """``GET /hoaxes``: published verdicts, newest first, with their filters."""
    version = await _verdicts.current(request.app.state.engine)
    return await _drawn.answer(
        request, version, _draw_gallery, request, cache_control=PUBLIC_PAGE_CACHE
    )


def _draw_gallery(request: Request) -> HTMLResponse:
    filters = hoaxes.GalleryFilters.read(request.query_params)
    with Session(request.app.state.engine, expire_on_commit=False) as session:
        gallery = hoaxes.list_published(session, filters)
    path = request.app.url_path_for("hoaxes_gallery")

    def page_url(page: int) -> str:
        query = urlencode(filters.query(page=str(page)))
        return f"{path}?{query}" if query else path

    context = {
        "gallery": gallery,
        "filters": filters,
        "errors": gallery.errors,
        "page_url": page_url,
        "labels": list(Verdict),
        "platforms": list(Platform),
        "categories": list(Category),
    }
    # A filter that is none of its choices, in the address: the page says which, with 422.
    return render(
        request, "hoaxes/gallery.html", context, status_code=422 if gallery.errors else 200
    )


async def hoaxes_show(request: Request) -> Response:
    """``GET /hoaxes/{case_id}``: one published verdict, with its ClaimReview."""
    case_id = _case_number(request.path_params["case_id"])
    version = await _verdicts.current(request.app.state.engine)
    return await _drawn.answer(
        request, version, _draw_verdict, request, case_id, cache_control=PUBLIC_PAGE_CACHE
    )


def _draw_verdict(request: Request, case_id: int) -> HTMLResponse:
    with Session(request.app.state.engine, expire_on_commit=False) as session:
        hoax = hoaxes.get_published(session, case_id=case_id)
        page_url = absolute_url(request, "hoaxes_show", case_id=hoax.id)
        image_url = (
            absolute_url(request, "hoaxes_image", case_id=hoax.id) if hoax.has_image else None
        )
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
            **verdict_sharing(request, session, hoax),
            "escalations": escalations.list_public(session, case_id=hoax.id),
            "corrections": hoaxes.list_corrections(session, case_id=hoax.id),
            "credentials": hoaxes.PublicCredentials.from_json(hoax.case.credentials_note),
            **_pair(request, session, hoax),
        }
    return render(request, "hoaxes/show.html", context)


# --- a verdict's pictures and short link ----------------------------------------------

VERDICT_PICTURE_HEADERS = {
    "Cache-Control": "public, max-age=3600",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
}


def short_link(request: Request, case_id: int) -> str:
    """The verdict's short link, absolute: what share texts carry and its pictures print."""
    return absolute_url(request, "hoaxes_short", case_id=case_id)


def verdict_sharing(
    request: Request, session: Session, hoax: hoaxes.PublishedHoax
) -> dict[str, Any]:
    """What the verdict page needs to be shared: its pictures' addresses (in the page's
    language) and sizes, and the share buttons with their text."""
    # A picture's words are in the page's language: another than the default is in its
    # address, so that each address always answers the same bytes to any cache.
    locale = i18n.get_locale()
    query = "" if locale == i18n.DEFAULT_LOCALE else "?" + urlencode({"lang": locale})
    short = short_link(request, hoax.id)
    return {
        "short_url": short,
        "card_url": absolute_url(request, "hoaxes_card", case_id=hoax.id) + query,
        "story_path": request.app.url_path_for("hoaxes_story", case_id=hoax.id) + query,
        "image_path": request.app.url_path_for("hoaxes_image", case_id=hoax.id) + query,
        "image_size": hoaxes.picture_size(session, case=hoax.case) if hoax.has_image else None,
        "card_size": hoaxes.CARD_SIZE,
        "share": share_links(short, hoax.case.public_title, text=hoaxes.share_text(hoax.case)),
    }


def _pair(request: Request, session: Session, hoax: hoaxes.PublishedHoax) -> dict[str, Any]:
    """The original beside the picture, where the verdict shows it: the two addresses (in
    the page's language) and the number of changed regions."""
    original = hoaxes.shown_original(session, case=hoax.case)
    if original is None:
        return {"pair": None}
    locale = i18n.get_locale()
    query = "" if locale == i18n.DEFAULT_LOCALE else "?" + urlencode({"lang": locale})
    return {
        "pair": {
            "original": request.app.url_path_for("hoaxes_original", case_id=hoax.id) + query,
            "changed": request.app.url_path_for("hoaxes_changed", case_id=hoax.id) + query,
            "regions": len(hoaxes.stored_regions(original)),
            "aligned": original.outcome == "aligned",
        }
    }


# The language of a picture's words: from its address alone, never the reader's cookie, so
# that an address answers the same picture to everyone (the pictures are cached publicly).
PictureLanguage = Annotated[str | None, Query(max_length=10)]


def verdict_picture(
    request: Request,
    session: SessionDep,
    case_id: int,
    kind: hoaxes.VerdictPicture,
    lang: str | None,
) -> bytes:
    """One of a published verdict's pictures, with its short link printed on it."""
    i18n.set_locale(i18n.negotiate(lang) or i18n.DEFAULT_LOCALE)
    return hoaxes.verdict_picture(
        session,
        case_id=case_id,
        kind=kind,
        address=short_link(request, case_id).split("://", 1)[-1],
        site_name=get_settings().site_name,
    )


def hoaxes_image(
    request: Request, session: SessionDep, case_id: RowId, lang: PictureLanguage = None
) -> Response:
    data = verdict_picture(request, session, case_id, hoaxes.VerdictPicture.IMAGE, lang)
    return Response(data, media_type="image/jpeg", headers=VERDICT_PICTURE_HEADERS)


def hoaxes_card(
    request: Request, session: SessionDep, case_id: RowId, lang: PictureLanguage = None
) -> Response:
    data = verdict_picture(request, session, case_id, hoaxes.VerdictPicture.CARD, lang)
    return Response(data, media_type="image/jpeg", headers=VERDICT_PICTURE_HEADERS)


def hoaxes_story(
    request: Request, session: SessionDep, case_id: RowId, lang: PictureLanguage = None
) -> Response:
    data = verdict_picture(request, session, case_id, hoaxes.VerdictPicture.STORY, lang)
    headers = {
        **VERDICT_PICTURE_HEADERS,
        # The page's "download" link saves it, to be posted from the phone's gallery.
        "Content-Disposition": f'attachment; filename="verdict-{case_id}-story.jpg"',
    }
    return Response(data, media_type="image/jpeg", headers=headers)


def _pair_picture(
    request: Request, session: Session, case_id: int, kind: hoaxes.PairPicture, lang: str | None
) -> Response:
    """One picture of the pair a verdict on a manipulated picture shows: the original, or
    the reported picture with what was changed outlined; stamped, with the short link."""
    i18n.set_locale(i18n.negotiate(lang) or i18n.DEFAULT_LOCALE)
    data = hoaxes.pair_picture(
        session,
        case_id=case_id,
        kind=kind,
        address=short_link(request, case_id).split("://", 1)[-1],
        site_name=get_settings().site_name,
    )
    return Response(data, media_type="image/jpeg", headers=VERDICT_PICTURE_HEADERS)


def hoaxes_original(
    request: Request, session: SessionDep, case_id: RowId, lang: PictureLanguage = None
) -> Response:
    return _pair_picture(request, session, case_id, hoaxes.PairPicture.ORIGINAL, lang)


def hoaxes_changed(
    request: Request, session: SessionDep, case_id: RowId, lang: PictureLanguage = None
) -> Response:
    return _pair_picture(request, session, case_id, hoaxes.PairPicture.CHANGED, lang)


def hoaxes_short(request: Request, session: SessionDep, case_id: RowId) -> RedirectResponse:
    hoax = hoaxes.get_published(session, case_id=case_id)
    url = request.app.url_path_for("hoaxes_show", case_id=hoax.id)
    return RedirectResponse(
        url, status_code=301, headers={"Cache-Control": "public, max-age=86400"}
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


# --- the transparency page ------------------------------------------------------------

# The numbers are at most CACHE_SECONDS old in each process, and may be as old in a cache.
TRANSPARENCY_CACHE_CONTROL = f"public, max-age={transparency.CACHE_SECONDS}"


def _transparency_answer(
    request: Request, body: bytes, media_type: str, headers: dict[str, str] | None = None
) -> Response:
    cache = "no-store" if signed_in(request) else TRANSPARENCY_CACHE_CONTROL
    return etag_response(
        request,
        body,
        etag=weak_etag(body),
        media_type=media_type,
        headers={"Cache-Control": cache, "Vary": "Cookie", **(headers or {})},
    )


_transparency_pages: Cache[tuple[str, str, datetime], bytes] = Cache(
    "hoaxes.transparency_pages", size=64
)


def hoaxes_transparency(
    request: Request,
    session: SessionDep,
    campaign: Annotated[str, Query(max_length=80)] = "",
) -> Response:
    found = transparency.report(session, campaign=campaign)
    # Drawing the charts and tables costs a hundred times what reading the figures does: the
    # page is drawn once per computation of the figures, language and address (whose query
    # its language links repeat).
    key = (i18n.get_locale(), request.url.query, found.computed_at)
    body = _transparency_pages.get(key)
    if body is None:
        context = {"found": found, "charts": transparency.charts(found), "verdicts": list(Verdict)}
        page = render(request, "hoaxes/transparency.html", context)
        body = _transparency_pages.put(key, bytes(page.body))
    return _transparency_answer(request, body, "text/html; charset=utf-8")


def hoaxes_transparency_csv(
    request: Request,
    session: SessionDep,
    campaign: Annotated[str, Query(max_length=80)] = "",
) -> Response:
    found = transparency.report(session, campaign=campaign)
    name = f"transparansi-{found.chosen.slug}.csv" if found.chosen else "transparansi.csv"
    return _transparency_answer(
        request,
        transparency.as_csv(found).encode(),
        "text/csv; charset=utf-8",
        {"Content-Disposition": f'attachment; filename="{name}"'},
    )


def hoaxes_transparency_json(
    request: Request,
    session: SessionDep,
    campaign: Annotated[str, Query(max_length=80)] = "",
) -> Response:
    found = transparency.report(session, campaign=campaign)
    body = json.dumps(transparency.as_json(found), ensure_ascii=False).encode()
    response = _transparency_answer(request, body, "application/json")
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
