"""Campaign pages: the public list, one campaign with its form and the privacy notice; and
the partner dashboard's pages where a lead organisation creates and runs its campaigns."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markdown_it import MarkdownIt
from markupsafe import Markup
from sqlalchemy import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from pledge.campaigns import service as campaigns
from pledge.campaigns.models import Campaign, CampaignForm, CampaignView, PartnerForm, PledgeForm
from pledge.db import SessionDep, shared_reads, writing
from pledge.deps import CampaignManager, OrgContext, public_campaign
from pledge.errors import Invalid, PledgeError
from pledge.i18n import get_locale
from pledge.supporters import service as supporters
from pledge.supporters.models import SignForm
from pledge.web import (
    CheckedForm,
    LeanRoute,
    RowId,
    absolute_url,
    csrf_token,
    form_text,
    public_base_url,
    render,
)

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
    if form is None and not errors and _drawn_once(request):
        return _plain_page(request, view, page)
    context = _page_context(request, view, page, form=form, errors=errors)
    return render(request, "campaigns/show.html", context, status_code=status_code)


def _page_context(
    request: Request,
    view: CampaignView,
    page: supporters.CampaignPage,
    *,
    form: SignForm | None = None,
    errors: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    ref = form.ref if form else request.query_params.get("ref", "")
    referrer = view.partner_by_code(ref) if ref else None
    invite = form.invite if form else request.query_params.get("invite", "")
    return {
        "view": view,
        "campaign": view.campaign,
        "page": page,
        "signable": campaigns.is_signable(view.campaign),
        "body_html": render_markdown(view.campaign.body),
        "form": form or SignForm(),
        "errors": errors or {},
        "ref": referrer.referral_code if referrer else "",
        "invite": invite if supporters.INVITE_CODE.match(invite) else "",
        "referrer": referrer,
        "share_url": absolute_url(request, "campaigns_show", slug=view.slug),
    }


# What the address of a shared link may carry for its page to be drawn once for everyone who
# opens that link: a partner's referral code, a friend's invitation, the language. A page
# with anything else in its address is drawn for its visitor alone.
SHARED_LINK_PARAMS = frozenset({"ref", "invite", "lang"})
SHARED_LINK_QUERY_MAX = 200


def _drawn_once(request: Request) -> bool:
    raw: bytes = request.scope.get("query_string", b"")
    if not raw:
        return True
    if len(raw) > SHARED_LINK_QUERY_MAX:
        return False
    names = [name for name, _value in parse_qsl(raw.decode("latin-1"), keep_blank_values=True)]
    return len(names) == len(set(names)) and set(names) <= SHARED_LINK_PARAMS


def _plain_key(
    request: Request, view: CampaignView, page: supporters.CampaignPage
) -> tuple[Any, ...]:
    share_url = absolute_url(request, "campaigns_show", slug=view.slug)
    # The address as given: the page's own links (the language switch) repeat it.
    query = request.scope.get("query_string", b"")
    signable = campaigns.is_signable(view.campaign)
    return (id(view), id(page), get_locale(), signable, share_url, query)


def _stored_plain_page(
    request: Request, view: CampaignView, page: supporters.CampaignPage
) -> HTMLResponse | None:
    """The plain page (no form posted, nothing in the address but a shared link's query) as
    already drawn, with this visitor's token put in, or None."""
    found = _pages.get(_plain_key(request, view, page))
    if found is None or found[0] is not view or found[1] is not page:
        return None
    return HTMLResponse(found[2].replace(CSRF_HOLE, csrf_token(request)))


def _plain_page(
    request: Request, view: CampaignView, page: supporters.CampaignPage
) -> HTMLResponse:
    # The plain page is the same for every visitor but for the form's CSRF token: drawn once
    # per change of the campaign or its counts, with a hole where each visitor's token goes.
    stored = _stored_plain_page(request, view, page)
    if stored is not None:
        return stored
    html = _draw_plain_page(request, view, page)
    return HTMLResponse(html.replace(CSRF_HOLE, csrf_token(request)))


def _draw_plain_page(request: Request, view: CampaignView, page: supporters.CampaignPage) -> str:
    """Draw the plain page with a hole for the token, and keep it."""
    context = _page_context(request, view, page)
    context["csrf_token"] = lambda: Markup(CSRF_HOLE)  # noqa: S704 - a constant
    html = bytes(render(request, "campaigns/show.html", context).body).decode()
    with _pages_lock:
        _pages[_plain_key(request, view, page)] = (view, page, html)
        while len(_pages) > 256:
            _pages.popitem(last=False)
    return html


# Stands for the visitor's CSRF token in a stored page. Written unescaped, its "<" cannot come
# from any text on the page (escaped to "&lt;"), so only the form's token is replaced.
CSRF_HOLE = "<csrf-token-of-this-visitor>"
_pages: OrderedDict[tuple[Any, ...], tuple[CampaignView, Any, str]] = OrderedDict()
_pages_lock = threading.Lock()


async def campaigns_show(request: Request) -> HTMLResponse:
    """``GET /c/{slug}`` (a lean route, see ``hot_routes``). Most visits find the page drawn
    and its counts current: answered on the event loop, with no session and no trip through
    the thread pool. When the counts have changed, one request reads them and draws the page
    again while the others that arrive meanwhile wait for it."""
    view = await public_campaign(request.path_params["slug"], request)
    if not _drawn_once(request):
        return await run_in_threadpool(_show, request, view)
    engine = request.app.state.engine
    page = supporters.cached_campaign_page(view)
    if page is None:
        page = await shared_reads.read(("campaign-page", engine, view.id), _read_page, engine, view)
    stored = _stored_plain_page(request, view, page)
    if stored is not None:
        return stored
    drawn = ("drawn-page", *_plain_key(request, view, page))
    html = await shared_reads.read(drawn, _draw_plain_page, request, view, page)
    return HTMLResponse(html.replace(CSRF_HOLE, csrf_token(request)))


def _read_page(engine: Engine, view: CampaignView) -> supporters.CampaignPage:
    with Session(engine, expire_on_commit=False) as session:
        return supporters.campaign_page(session, view=view)


def _show(request: Request, view: CampaignView) -> HTMLResponse:
    with Session(request.app.state.engine, expire_on_commit=False) as session:
        return render_campaign(request, session, view)


@router.get("/privacy", response_class=HTMLResponse)
def campaigns_privacy(request: Request) -> HTMLResponse:
    return render(request, "pages/privacy.html")


# Matched before every router (pledge.app): the page every supporter opens.
hot_routes = [LeanRoute("/c/{slug}", campaigns_show)]


# --- the partner dashboard: creating and running campaigns -------------------------------
#
# Every route takes CampaignManager (the permission table gives campaign management to the
# organisation's admins) and, for one campaign, ManagedCampaign: the campaign only when the
# organisation in the path leads it; any other organisation gets a 404, so drafts stay private.


def managed_campaign(slug: str, access: CampaignManager, session: SessionDep) -> Campaign:
    return campaigns.get_managed(session, org=access.org, slug=slug)


ManagedCampaign = Annotated[Campaign, Depends(managed_campaign)]

BODY_FIELD_MAX = 40_000  # twice the longest story, so that "too long" can be shown with it


def campaign_form(form: FormData) -> CampaignForm:
    return CampaignForm(
        title=form_text(form, "title"),
        slug=form_text(form, "slug"),
        summary=form_text(form, "summary"),
        body=form_text(form, "body", BODY_FIELD_MAX),
        goal=form_text(form, "goal"),
        starts_at=form_text(form, "starts_at"),
        ends_at=form_text(form, "ends_at"),
        locale=form_text(form, "locale"),
    )


@contextmanager
def _transaction(session: Session, access: OrgContext) -> Iterator[None]:
    """One write transaction. A refusal rolls it back, which expires every row the session
    loaded; the signed-in user is read again for the page that explains the refusal."""
    try:
        with writing(session):
            yield
    except PledgeError:
        session.refresh(access.user)
        raise


def _previewing(form: FormData) -> bool:
    return form.get("action") == "preview"


def _done(request: Request, campaign: Campaign, done: str, anchor: str = "") -> RedirectResponse:
    org = request.path_params["org"]
    url = request.app.url_path_for("campaigns_edit", org=org, slug=campaign.slug)
    return RedirectResponse(f"{url}?done={done}{anchor}", status_code=303)


def render_new(
    request: Request,
    access: OrgContext,
    *,
    form: CampaignForm,
    errors: Mapping[str, str] | None = None,
    preview: bool = False,
    status_code: int = 200,
) -> HTMLResponse:
    context = {
        "org": access.org,
        "form": form,
        "errors": errors or {},
        "preview": preview,
        "preview_html": render_markdown(form.body),
    }
    return render(request, "campaigns/manage/new.html", context, status_code=status_code)


def render_edit(
    request: Request,
    session: Session,
    access: OrgContext,
    campaign: Campaign,
    *,
    form: CampaignForm | None = None,
    errors: Mapping[str, str] | None = None,
    failed: str = "",
    posted: Any = None,
    preview: bool = False,
    status_code: int = 200,
) -> HTMLResponse:
    """The edit page; after a refused post, the failing form keeps what was sent and shows
    its messages (``failed`` names that form), and the rest shows what is stored."""
    page = campaigns.manage_page(session, campaign=campaign)
    form = form or campaigns.form_of(campaign)
    context = {
        "org": access.org,
        "page": page,
        "campaign": page.campaign,
        "form": form,
        "errors": errors or {},
        "failed": failed if errors else "",
        "posted": posted,
        "preview": preview,
        "preview_html": render_markdown(form.body),
        "public_url": absolute_url(request, "campaigns_show", slug=page.campaign.slug),
        "local_time": campaigns.local_display,
        "signable": campaigns.is_signable(page.campaign),
        "done": request.query_params.get("done", "") if status_code == 200 else "",
    }
    return render(request, "campaigns/manage/edit.html", context, status_code=status_code)


def _apply(
    request: Request,
    session: Session,
    access: OrgContext,
    campaign: Campaign,
    change: Callable[[], object],
    *,
    done: str | Callable[[Any], str],
    failed: str,
    anchor: str = "",
    posted: object | None = None,
    form: CampaignForm | None = None,
) -> Response:
    """One change to a campaign in a write transaction. A refusal re-renders the edit page
    with its messages beside the form that failed (422); success returns to it (303)."""
    try:
        with _transaction(session, access):
            result = change()
    except Invalid as error:
        return render_edit(
            request,
            session,
            access,
            campaign,
            form=form,
            errors=error.errors,
            failed=failed,
            posted=posted,
            status_code=422,
        )
    return _done(request, campaign, done(result) if callable(done) else done, anchor)


@router.get("/dashboard/{org}/campaigns/new", response_class=HTMLResponse)
def campaigns_new(request: Request, access: CampaignManager) -> HTMLResponse:
    return render_new(request, access, form=CampaignForm())


@router.post("/dashboard/{org}/campaigns", response_model=None)
def campaigns_create(
    request: Request, session: SessionDep, access: CampaignManager, form: CheckedForm
) -> Response:
    posted = campaign_form(form)
    if _previewing(form):
        return render_new(request, access, form=posted, preview=True)
    try:
        with _transaction(session, access):
            campaign = campaigns.create_draft(session, lead_org=access.org, form=posted)
    except Invalid as error:
        return render_new(request, access, form=posted, errors=error.errors, status_code=422)
    return _done(request, campaign, "created")


@router.get("/dashboard/{org}/campaigns/{slug}/edit", response_class=HTMLResponse)
def campaigns_edit(
    request: Request, session: SessionDep, access: CampaignManager, campaign: ManagedCampaign
) -> HTMLResponse:
    return render_edit(request, session, access, campaign)


@router.post("/dashboard/{org}/campaigns/{slug}/edit", response_model=None)
def campaigns_update(
    request: Request,
    session: SessionDep,
    access: CampaignManager,
    campaign: ManagedCampaign,
    form: CheckedForm,
) -> Response:
    posted = campaign_form(form)
    if _previewing(form):
        return render_edit(request, session, access, campaign, form=posted, preview=True)
    return _apply(
        request,
        session,
        access,
        campaign,
        lambda: campaigns.update(session, campaign=campaign, form=posted),
        done="saved",
        failed="campaign",
        form=posted,
    )


@router.post("/dashboard/{org}/campaigns/{slug}/pledges", response_model=None)
def campaigns_pledge_add(
    request: Request,
    session: SessionDep,
    access: CampaignManager,
    campaign: ManagedCampaign,
    form: CheckedForm,
) -> Response:
    posted = PledgeForm(text=form_text(form, "text"), slug=form_text(form, "slug"))
    return _apply(
        request,
        session,
        access,
        campaign,
        lambda: campaigns.create_pledge(session, campaign=campaign, form=posted),
        done="pledge-added",
        failed="pledge-new",
        anchor="#pledges",
        posted=posted,
    )


@router.post("/dashboard/{org}/campaigns/{slug}/pledges/{pledge_id}", response_model=None)
def campaigns_pledge_update(
    request: Request,
    session: SessionDep,
    access: CampaignManager,
    campaign: ManagedCampaign,
    pledge_id: RowId,
    form: CheckedForm,
) -> Response:
    posted = PledgeForm(text=form_text(form, "text"))
    return _apply(
        request,
        session,
        access,
        campaign,
        lambda: campaigns.update_pledge(
            session, campaign=campaign, pledge_id=pledge_id, form=posted
        ),
        done="pledge-saved",
        failed=f"pledge-{pledge_id}",
        anchor=f"#pledge-{pledge_id}",
        posted=posted,
    )


@router.post("/dashboard/{org}/campaigns/{slug}/pledges/{pledge_id}/move", response_model=None)
def campaigns_pledge_move(
    request: Request,
    session: SessionDep,
    access: CampaignManager,
    campaign: ManagedCampaign,
    pledge_id: RowId,
    form: CheckedForm,
) -> Response:
    direction = form_text(form, "direction")
    return _apply(
        request,
        session,
        access,
        campaign,
        lambda: campaigns.move_pledge(
            session, campaign=campaign, pledge_id=pledge_id, direction=direction
        ),
        done="pledge-moved",
        failed=f"pledge-{pledge_id}",
        anchor=f"#pledge-{pledge_id}",
    )


@router.post("/dashboard/{org}/campaigns/{slug}/pledges/{pledge_id}/delete", response_model=None)
def campaigns_pledge_delete(
    request: Request,
    session: SessionDep,
    access: CampaignManager,
    campaign: ManagedCampaign,
    pledge_id: RowId,
    form: CheckedForm,
) -> Response:
    return _apply(
        request,
        session,
        access,
        campaign,
        lambda: campaigns.delete_pledge(session, campaign=campaign, pledge_id=pledge_id),
        done="pledge-deleted",
        failed=f"pledge-{pledge_id}",
        anchor="#pledges",
    )


@router.post("/dashboard/{org}/campaigns/{slug}/status", response_model=None)
def campaigns_status(
    request: Request,
    session: SessionDep,
    access: CampaignManager,
    campaign: ManagedCampaign,
    form: CheckedForm,
) -> Response:
    return _apply(
        request,
        session,
        access,
        campaign,
        lambda: campaigns.change_status(
            session, campaign=campaign, status=form_text(form, "status"), actor=access.user
        ),
        done=lambda _result: f"status-{campaign.status.value}",
        failed="status",
        anchor="#status",
    )


@router.post("/dashboard/{org}/campaigns/{slug}/partners", response_model=None)
def campaigns_partner_add(
    request: Request,
    session: SessionDep,
    access: CampaignManager,
    campaign: ManagedCampaign,
    form: CheckedForm,
) -> Response:
    posted = PartnerForm(
        kind=form_text(form, "kind"),
        org_slug=form_text(form, "org_slug"),
        name=form_text(form, "name"),
        email=form_text(form, "email"),
    )
    return _apply(
        request,
        session,
        access,
        campaign,
        lambda: campaigns.add_co_partner(
            session,
            campaign=campaign,
            form=posted,
            invited_by=access.user,
            base_url=public_base_url(request),
        ),
        done=lambda added: "partner-invited" if added.invited else "partner-added",
        failed=f"partner-{posted.kind}",
        anchor="#partners",
        posted=posted,
    )


@router.post("/dashboard/{org}/campaigns/{slug}/partners/{partner_id}/remove", response_model=None)
def campaigns_partner_remove(
    request: Request,
    session: SessionDep,
    access: CampaignManager,
    campaign: ManagedCampaign,
    partner_id: RowId,
    form: CheckedForm,
) -> Response:
    return _apply(
        request,
        session,
        access,
        campaign,
        lambda: campaigns.remove_partner(session, campaign=campaign, partner_id=partner_id),
        done="partner-removed",
        failed=f"partner-{partner_id}",
        anchor="#partners",
    )
