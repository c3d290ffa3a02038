"""The pages a supporter sees: the list of campaigns, a campaign with its sign form, signing,
the thank-you page, withdrawing, and the privacy notice; and WhatsApp's webhook, which
brings the messages that confirm signatures.

The campaign pages keep the names they are linked by (``url_for("campaigns_show")``): they
belong here because they show this domain's counts and form.
"""

from __future__ import annotations

import functools
import time
from collections import Counter
from functools import partial
from typing import Any
from urllib.parse import parse_qsl, urlencode

from babel.dates import format_date
from fastapi import Request
from fastapi.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from markupsafe import Markup
from sqlalchemy import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from pledge import mail, observability, ratelimit, whatsapp
from pledge.cache import Cache
from pledge.campaigns import service as campaigns
from pledge.campaigns.models import CampaignView
from pledge.config import Environment, get_settings
from pledge.db import SessionDep
from pledge.deps import CampaignDep, public_campaign
from pledge.errors import Gone, Invalid, TooManyRequests
from pledge.i18n import get_locale
from pledge.i18n import gettext as _
from pledge.networks import recorded_network
from pledge.ratelimit import (
    client_address,
    limit_request,
    over_soft_limit,
    sign_hard_limit,
    sign_limit,
)
from pledge.security import random_token
from pledge.sharedreads import shared_reads
from pledge.supporters import by_whatsapp
from pledge.supporters import service as supporters
from pledge.supporters.models import ConfirmationChannel, ConfirmationTicket, SignOutcome
from pledge.web import (
    CheckedForm,
    absolute_url,
    csrf_token,
    form_text,
    path_for,
    path_in,
    public_base_url,
    redraw,
    render,
    session_data,
    share_links,
    signed_in,
)

# --- the campaigns and their pages -------------------------------------------------------


def campaigns_index(request: Request, session: SessionDep) -> HTMLResponse:
    cards = supporters.list_with_counts(session, views=campaigns.list_views(session))
    return render(request, "campaigns/index.html", {"cards": cards})


def render_campaign(request: Request, session: Session, view: CampaignView) -> HTMLResponse:
    page = supporters.campaign_page(session, view=view)
    if _drawn_once(request):
        return _plain_page(request, view, page)
    return render(request, "campaigns/show.html", _page_context(request, view, page))


def _page_context(
    request: Request,
    view: CampaignView,
    page: supporters.CampaignPage,
    form: supporters.SignForm | None = None,
) -> dict[str, Any]:
    ref = form.ref if form else request.query_params.get("ref", "")
    referrer = view.partner_by_code(ref) if ref else None
    invite = form.invite if form else request.query_params.get("invite", "")
    return {
        "view": view,
        "campaign": view.campaign,
        "page": page,
        "signable": campaigns.is_signable(view.campaign),
        "contact_kinds": supporters.contact_kinds(view),
        "body_html": campaigns.render_markdown(view.campaign.body),
        "form": form or supporters.SignForm(),
        "errors": {},
        "ref": referrer.referral_code if referrer else "",
        "invite": invite if supporters.INVITE_CODE.match(invite) else "",
        "referrer": referrer,
        "share_url": absolute_url(request, "campaigns_show", slug=view.slug),
        "invalidations": [
            (format_date(note.at.astimezone(campaigns.WIB), "long", locale=get_locale()), note)
            for note in page.invalidations
        ],
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
    return _visitor_page(request, found[2])


def _visitor_page(request: Request, html: str) -> HTMLResponse:
    """A drawn page with this visitor's token put in; a signed-in user's browser keeps no
    copy of it, as of every page they see."""
    headers = {"Cache-Control": "no-store"} if signed_in(request) else None
    return HTMLResponse(html.replace(CSRF_HOLE, csrf_token(request)), headers=headers)


def _plain_page(
    request: Request, view: CampaignView, page: supporters.CampaignPage
) -> HTMLResponse:
    # The plain page is the same for every visitor but for the form's CSRF token: drawn once
    # per change of the campaign or its counts, with a hole where each visitor's token goes.
    stored = _stored_plain_page(request, view, page)
    if stored is not None:
        return stored
    html = _draw_plain_page(request, view, page)
    return _visitor_page(request, html)


def _draw_plain_page(request: Request, view: CampaignView, page: supporters.CampaignPage) -> str:
    """Draw the plain page with a hole for the token, and keep it."""
    context = _page_context(request, view, page)
    context["csrf_token"] = lambda: Markup(CSRF_HOLE)  # noqa: S704 - a constant
    html = bytes(render(request, "campaigns/show.html", context).body).decode()
    _pages.put(_plain_key(request, view, page), (view, page, html))
    return html


# Stands for the visitor's CSRF token in a stored page. Written unescaped, its "<" cannot come
# from any text on the page (escaped to "&lt;"), so only the form's token is replaced.
CSRF_HOLE = "<csrf-token-of-this-visitor>"
# The plain pages drawn, by what makes them differ (see _plain_key), with the view and page
# data they were drawn from. Bounded: a shared link's query is part of the key.
_pages: Cache[tuple[Any, ...], tuple[CampaignView, supporters.CampaignPage, str]] = Cache(
    "supporters.drawn_pages", size=256
)


async def campaigns_show(request: Request) -> HTMLResponse:
    """``GET /c/{slug}`` (a lean route, see ``pledge.urls``). Most visits find the page drawn
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
    return _visitor_page(request, html)


def _read_page(engine: Engine, view: CampaignView) -> supporters.CampaignPage:
    with Session(engine, expire_on_commit=False) as session:
        return supporters.campaign_page(session, view=view)


def _show(request: Request, view: CampaignView) -> HTMLResponse:
    with Session(request.app.state.engine, expire_on_commit=False) as session:
        return render_campaign(request, session, view)


def campaigns_privacy(request: Request) -> HTMLResponse:
    return render(request, "pages/privacy.html")


# --- signing ----------------------------------------------------------------------------


async def supporters_sign(request: Request, form: FormData) -> Response:
    """``POST /c/{slug}/sign`` (a lean route, see ``pledge.urls``). On the event loop: the form
    is checked here, and its write joins the process's next group commit; the answer waits
    for that commit. Whoever the contact belongs to, the answer is the same redirect to the
    page that waits for the confirmation, and this browser is bound to the signing.

    Over the per-address signing limit a new signer is held for review instead of counted,
    and answered the same: many real people share one carrier address. Only over the hard
    limit is the request refused."""
    view = await public_campaign(request.path_params["slug"], request)
    suspect = await over_soft_limit(request, sign_limit(), sign_hard_limit(), "sign")
    posted = supporters.SignForm.read(form)
    try:
        signing = await supporters.sign_soon(
            request.app.state.signings,
            view=view,
            form=posted,
            locale=get_locale(),
            links=signer_links(request, view.slug),
            network=recorded_network(client_address(request)),
            suspect=suspect,
        )
    except Invalid as error:
        return await run_in_threadpool(_refused, request, view, posted, error)
    observability.signed(request, signing)
    _bind(request, view.slug, signing.ticket)
    url = _waiting_page(request.app, view.slug)
    background = mail.delivery(request.app.state.engine) if signing.emailed else None
    return RedirectResponse(url, status_code=303, background=background)


@functools.lru_cache(maxsize=1024)
def _waiting_page(app: Any, slug: str) -> str:
    """The page a campaign's signers wait on: found once, not on every signature."""
    return path_in(app, "supporters_check", slug=slug)


def signer_links(request: Request, slug: str) -> supporters.SignerLinks:
    """Where the links in a signer's messages point, on this site."""
    return _signer_links(request.app, public_base_url(request), slug)


@functools.lru_cache(maxsize=1024)
def _signer_links(app: Any, base: str, slug: str) -> supporters.SignerLinks:
    # The same for every signer of a campaign: found once, not on every signature.
    return supporters.signer_links(base, partial(path_in, app), slug)


def _refused(
    request: Request, view: CampaignView, posted: supporters.SignForm, error: Invalid
) -> HTMLResponse:
    """The form again, with what was typed and a message beside each field to fix."""
    with Session(request.app.state.engine, expire_on_commit=False) as session:
        page = supporters.campaign_page(session, view=view)
        context = _page_context(request, view, page, posted)
        return redraw(request, "campaigns/show.html", context, error)


# --- confirming ---------------------------------------------------------------------------

# How long the browser that signed may open the supporter's own page without its link.
BOUND_SECONDS = 60 * 60
_BOUND = "signed"


def _bind(request: Request, slug: str, ticket: ConfirmationTicket | None) -> None:
    """Remember in the signed session cookie which signing this browser made. A caught bot is
    bound to nothing, with a cookie of the same shape."""
    data = session_data(request)
    data[_BOUND] = {
        "s": slug,
        "d": ticket.link_digest if ticket else random_token(32),
        "t": int(time.time()),
        # WhatsApp's code is shown to the signer: the proof is the number it comes from.
        "w": ticket.code if ticket and ticket.channel == ConfirmationChannel.WHATSAPP else "",
    }
    request.state.session_dirty = True


def _bound(request: Request, slug: str) -> dict[str, Any] | None:
    """The signing this browser made on this campaign within the hour, if any."""
    found = session_data(request).get(_BOUND)
    if not isinstance(found, dict) or found.get("s") != slug or not isinstance(found.get("d"), str):
        return None
    if not isinstance(found.get("t"), int) or time.time() - found["t"] > BOUND_SECONDS:
        return None
    return found


def supporters_check(request: Request, session: SessionDep, view: CampaignDep) -> HTMLResponse:
    """``GET /c/{slug}/confirm``: the page that waits for the confirmation, the same for a
    new, a pending and a known contact."""
    return _check_page(request, session, view)


def _check_page(
    request: Request,
    session: Session,
    view: CampaignView,
    *,
    notice: str = "",
    error: Invalid | None = None,
    code: str = "",
    status_code: int = 422,
) -> HTMLResponse:
    bound = _bound(request, view.slug)
    found = None
    if bound is not None:
        found = supporters.waiting(session, campaign_id=view.id, link_digest=bound["d"])
    whatsapp = None
    if found is not None and found.channel == ConfirmationChannel.WHATSAPP and bound:
        whatsapp = whatsapp_link(bound.get("w", ""))
    context = {
        "view": view,
        "campaign": view.campaign,
        "waiting": found,
        "whatsapp": whatsapp,
        "notice": notice,
        "code": code,
        "errors": {},
        "pending_days": get_settings().pending_days,
        "development": get_settings().env == Environment.DEVELOPMENT,
        "share": share_links(
            absolute_url(request, "campaigns_show", slug=view.slug), view.campaign.title
        ),
    }
    headers = {"Cache-Control": "no-store"}
    if error is not None:
        return redraw(
            request,
            "supporters/check.html",
            context,
            error,
            headers=headers,
            status_code=status_code,
        )
    return render(request, "supporters/check.html", context, headers=headers)


def whatsapp_link(code: str) -> supporters.WhatsAppLink | None:
    """The link that opens WhatsApp with the code ready to send, when there is a code."""
    if not code:
        return None
    text = supporters.whatsapp_code_text(get_locale(), code)
    number = get_settings().whatsapp_number
    url = None
    if number:
        digits = "".join(c for c in number if c.isdigit())
        url = f"https://wa.me/{digits}?" + urlencode({"text": text})
    return supporters.WhatsAppLink(text=text, url=url, number=number)


def supporters_confirm_code(
    request: Request, session: SessionDep, view: CampaignDep, form: CheckedForm
) -> Response:
    """``POST /c/{slug}/confirm``: the emailed code typed on the waiting page. Wrong codes are
    limited per address (a shared carrier address types many right ones) and per signing."""
    limit, address = get_settings().ratelimit_confirm_code, client_address(request)
    code = form_text(form, "code", 40)
    bound = _bound(request, view.slug)
    try:
        if not ratelimit.within(limit, address, "confirm-code"):
            raise TooManyRequests(_("Too many requests. Please wait a moment and try again."))
        if bound is None:
            raise Invalid({"code": _("Sign first: the code comes in the email we send you then.")})
        confirmed = supporters.confirm_code(
            session, campaign_id=view.id, link_digest=bound["d"], code=code
        )
    except Invalid as error:
        if isinstance(error, supporters.WrongCode):
            ratelimit.hit(limit, address, "confirm-code")
        return _check_page(request, session, view, error=error, code=code)
    except (TooManyRequests, Gone) as refusal:
        # Too many wrong codes, or too late: said beside the field, with the refusal's status.
        said = Invalid({"code": refusal.detail})
        return _check_page(
            request, session, view, error=said, code=code, status_code=refusal.status_code
        )
    return _to_own_page(request, view, confirmed)


def _to_own_page(request: Request, view: CampaignView, confirmed: supporters.Confirmed) -> Response:
    observability.confirmed(request, len(confirmed.added))
    return _own_page(request, view, confirmed.token, confirmed.outcome, confirmed.added)


def _own_page(
    request: Request,
    view: CampaignView,
    token: str,
    outcome: SignOutcome | None,
    added_ids: tuple[int, ...],
) -> Response:
    """To the supporter's own page, saying what the confirmation did."""
    url = path_for(request, "supporters_thanks", slug=view.slug, token=token)
    url += f"?outcome={(outcome or SignOutcome.UNCHANGED).value}"
    added = [p.slug for p in view.pledges if p.id in added_ids]
    if added:
        url += "&added=" + ",".join(added)
    return RedirectResponse(url, status_code=303)


def supporters_confirm_page(
    request: Request, session: SessionDep, view: CampaignDep, secret: str
) -> HTMLResponse:
    """``GET /c/{slug}/confirm/{secret}``: the emailed link opens a page with one button. A
    GET changes nothing, so a mail scanner that opens the link confirms nothing."""
    found = supporters.by_link(session, campaign_id=view.id, secret=secret)
    return render(
        request,
        "supporters/confirm.html",
        {"view": view, "campaign": view.campaign, "waiting": found, "secret": secret},
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )


async def supporters_confirm_link(request: Request, form: FormData) -> Response:
    """``POST /c/{slug}/confirm/{secret}`` (a lean route, see ``pledge.urls``): the button;
    the supporter's own page after. The write joins the process's next group commit of
    confirmations, as a signature's does."""
    view = await public_campaign(request.path_params["slug"], request)
    confirmed = await supporters.confirm_link_soon(
        request.app.state.confirmations,
        campaign_id=view.id,
        secret=request.path_params["secret"],
    )
    return _to_own_page(request, view, confirmed)


def supporters_thanks_bound(request: Request, session: SessionDep, view: CampaignDep) -> Response:
    """``GET /c/{slug}/thanks``: the browser that signed, within the hour, goes on to the
    supporter's own page once the signing is confirmed (by WhatsApp, say); until then, back
    to the waiting page."""
    bound = _bound(request, view.slug)
    found = None
    if bound is not None:
        found = supporters.waiting(session, campaign_id=view.id, link_digest=bound["d"])
    if found is None or found.token is None:
        notice = _("Not confirmed yet. Send the message, then come back to this page.")
        return _check_page(request, session, view, notice=notice)
    return _own_page(request, view, found.token, found.outcome, found.added)


# --- after signing ------------------------------------------------------------------------


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


def supporters_withdraw(
    request: Request, session: SessionDep, view: CampaignDep, token: str, form: CheckedForm
) -> Response:
    supporters.withdraw(session, campaign=view.campaign, token=token)
    url = path_for(request, "supporters_withdrawn", slug=view.slug)
    return RedirectResponse(url, status_code=303)


def supporters_withdrawn(request: Request, view: CampaignDep) -> HTMLResponse:
    return render(request, "supporters/withdrawn.html", {"view": view, "campaign": view.campaign})


# --- WhatsApp's webhook ---------------------------------------------------------------------


async def supporters_whatsapp_handshake(request: Request) -> PlainTextResponse:
    """``GET /webhooks/whatsapp``: Meta's subscription handshake. Its challenge is echoed as
    plain text when its verify token is ours; 403 otherwise."""
    await limit_request(request, get_settings().ratelimit_whatsapp, "whatsapp-webhook")
    challenge = whatsapp.handshake(request.query_params)
    return PlainTextResponse(challenge, headers={"Cache-Control": "no-store"})


async def supporters_whatsapp_receive(
    request: Request, session: SessionDep, body: whatsapp.SignedBody
) -> JSONResponse:
    """``POST /webhooks/whatsapp``: Meta's notifications, signed with the app secret (403
    when not). Each text message confirms the signing its code names, once; the replies are
    sent after the answer. A message that another request is handling right now is left to
    it, and the delivery answered 503: Meta delivers it again, and the messages of it
    already handled are then passed over."""
    messages = whatsapp.parse(body)
    handled = await run_in_threadpool(
        by_whatsapp.receive, session, messages=messages, links=partial(signer_links, request)
    )
    observability.confirmed(request, sum(one.signatures for one in handled))
    replied = any(one.outcome.replied for one in handled)
    background = mail.delivery(request.app.state.engine) if replied else None
    busy = any(one.outcome == by_whatsapp.Outcome.BUSY for one in handled)
    return JSONResponse(
        {"messages": len(handled), "outcomes": Counter(one.outcome.value for one in handled)},
        status_code=503 if busy else 200,
        headers={"Retry-After": "60"} if busy else None,
        background=background,
    )
