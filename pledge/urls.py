"""Every URL of the site, with its route function, in the order a request is matched.

A request is compared with each route in turn and the first that matches answers it, so the
order is part of the meaning: ``/embed/{slug}.svg`` must come before ``/embed/{slug}``, which
would take ``x.svg`` as a slug. ``pledge.app.create_app`` mounts the five groups below in
this order: the operator's checks, the lean routes that carry the load, the static files,
the routers of the JSON API, then the routers of the pages.

A route function lives in its domain's ``routes.py`` and is named ``<domain>_<action>``: that
name is the route's name for ``url_for``. One line here gives it its address:

- ``page(path, handler)``: a page (GET, HTML);
- ``form(path, handler)``: a posted form, answered with a 303 or its page again with a 422;
- ``get(path, handler, ...)``: anything else read with GET (images, files, streams);
- ``webhook(path, handler)``: another service's post, verified by its signature instead of
  a CSRF token;
- ``api(path, handler, ...)``: an operation of the JSON API, in ``/api/openapi.json``;
- ``LeanRoute`` and ``LeanFormRoute`` (``pledge.web.routing``): the few busiest routes, called
  with the request alone; one of the API passes ``openapi=``, its entry in the description.

Who may use a route is not decided here: its handler takes one of the access aliases of
``pledge.deps`` (``OrgViewer``, ``CampaignManager``, ``SiteAdmin``, ``Moderator``...), each
naming an ``Action`` that ``PERMISSIONS`` (``pledge.accounts.permissions``) grants to roles.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, PlainTextResponse, StreamingResponse
from starlette.routing import BaseRoute

from pledge import operations
from pledge.accounts import routes as accounts
from pledge.admin import routes as admin
from pledge.campaigns import routes as campaigns
from pledge.dashboard import routes as dashboard
from pledge.embeds import routes as embeds
from pledge.embeds.models import ApiError, CampaignCounts
from pledge.game import routes as game
from pledge.hoaxes import routes as hoaxes
from pledge.hoaxes.service import HoaxPage
from pledge.moderation import routes as moderation
from pledge.privacy import routes as privacy
from pledge.supporters import routes as supporters
from pledge.web import STATIC_DIR, LeanFormRoute, LeanRoute


@dataclass(frozen=True)
class Url:
    """One route: its path, its methods, its handler, and what FastAPI is told about it."""

    path: str
    handler: Callable[..., Any]
    methods: tuple[str, ...] = ("GET",)
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Files:
    """A folder of files served under a path."""

    path: str
    directory: Path
    name: str


def page(path: str, handler: Callable[..., Any], **options: Any) -> Url:
    """A page: GET, answered with HTML."""
    return Url(path, handler, ("GET",), {"response_class": HTMLResponse, **options})


def form(path: str, handler: Callable[..., Any]) -> Url:
    """A posted form: a 303 when it is done, else its page again with the messages."""
    return Url(path, handler, ("POST",), {"response_model": None})


def get(path: str, handler: Callable[..., Any], **options: Any) -> Url:
    """Anything else read with GET: an image, a file, an event stream, a check."""
    return Url(path, handler, ("GET",), options)


def webhook(path: str, handler: Callable[..., Any]) -> Url:
    """Another service's post: not a form, so no CSRF token; its handler takes the body only
    once the sender's signature is verified."""
    return Url(path, handler, ("POST",), {"response_model": None})


def api(
    path: str,
    handler: Callable[..., Any],
    *,
    summary: str,
    response_model: Any,
    responses: dict[int | str, dict[str, Any]] | None = None,
) -> Url:
    """An operation of the public JSON API, described in /api/openapi.json."""
    options = {
        "summary": summary,
        "response_model": response_model,
        "responses": {**REFUSED_ADDRESS, **(responses or {})},
    }
    return Url(path, handler, ("GET",), options)


def router(*urls: Url, **options: Any) -> APIRouter:
    """The routes of one part of the site, in this order; ``options`` apply to each. Pages
    and forms are not part of the JSON API that OpenAPI describes: a router of the API says
    ``include_in_schema=True``."""
    options.setdefault("include_in_schema", False)
    made = APIRouter(**options)
    for url in urls:
        made.add_api_route(url.path, url.handler, methods=list(url.methods), **url.options)
    return made


# What every operation of the API may answer before it runs: pledge.web.middleware refuses an
# address holding a control character.
REFUSED_ADDRESS: dict[int | str, dict[str, Any]] = {
    400: {"model": ApiError, "description": "An address holding a control character (%00...)"}
}

# --- operations: for the load balancer and the monitoring, not in the API description ---------

OPERATIONS: tuple[Url, ...] = (
    get("/healthz", operations.healthz, include_in_schema=False),
    get("/readyz", operations.readyz, include_in_schema=False),
    get("/metrics", operations.metrics, include_in_schema=False),
)

# --- the busiest routes, lean: partner counters, the campaign page, signing, confirming -------
# Matched right after the operations, before any other route. They are benchmarked: add no
# work to them without measuring.

LEAN_ROUTES: tuple[BaseRoute, ...] = (
    LeanRoute(
        "/api/v1/campaigns/{slug}",
        embeds.embeds_api_campaign,
        # Its entry in /api/openapi.json, as FastAPI would write it for this route.
        openapi={
            "summary": "One campaign's supporters in total, per pledge and per partner",
            "tags": ["campaigns"],
            "response_model": CampaignCounts,
            "responses": {
                **REFUSED_ADDRESS,
                404: {"model": ApiError, "description": "No public campaign has this slug"},
                # Every error under /api/ has this shape; without this, FastAPI documents its own.
                422: {"model": ApiError, "description": "A request the API cannot read"},
            },
        },
    ),
    # Before the widget: "/embed/{slug}" would take "x.svg" as a slug.
    LeanRoute("/embed/{slug}.svg", embeds.embeds_badge),
    LeanRoute("/embed/{slug}", embeds.embeds_widget),
    LeanRoute("/c/{slug}", supporters.campaigns_show),
    # The published verdicts and their gallery, drawn once per change (see hoaxes.routes).
    LeanRoute("/hoaxes", hoaxes.hoaxes_gallery),
    LeanRoute("/hoaxes/{case_id}", hoaxes.hoaxes_show),
    LeanFormRoute("/c/{slug}/sign", supporters.supporters_sign),
    LeanFormRoute("/c/{slug}/confirm/{secret}", supporters.supporters_confirm_link),
    # The real-or-fake game, a picture at a time: drawn once per picture, the token put in.
    LeanRoute("/c/{slug}/game/play", game.game_question),
    LeanFormRoute("/c/{slug}/game/play", game.game_answer),
    LeanRoute("/c/{slug}/game/result", game.game_result),
)

# --- static files -----------------------------------------------------------------------------

STATIC = Files("/static", STATIC_DIR, name="static")

# --- partner embeds and the open API ----------------------------------------------------------
# In /api/openapi.json, but for the routes given include_in_schema=False.

API_ROUTERS: tuple[APIRouter, ...] = (
    router(
        api(
            "/api/v1/campaigns",
            embeds.embeds_api_campaigns,
            summary="Live and closed campaigns with their counts",
            response_model=list[CampaignCounts],
        ),
        get("/c/{slug}/share.png", embeds.embeds_share_image, include_in_schema=False),
        get("/c/{slug}/events", embeds.embeds_events, include_in_schema=False),
        page("/api/docs", embeds.embeds_api_docs, include_in_schema=False),
        tags=["campaigns"],
        include_in_schema=True,
    ),
    router(
        api(
            "/api/v1/hoaxes",
            hoaxes.hoaxes_api_list,
            summary="Published hoax verdicts, newest first, a page at a time",
            response_model=HoaxPage,
            responses={422: {"model": ApiError, "description": "A bad limit or cursor"}},
        ),
        tags=["hoaxes"],
        include_in_schema=True,
    ),
)

# --- public pages and signing -----------------------------------------------------------------
# From here on, pages and forms: create_app leaves them out of the API description. The list
# of campaigns, the campaign page and signing are lean routes (above).

PUBLIC = router(
    page("/", supporters.campaigns_index),
    page("/privacy", supporters.campaigns_privacy),
    # After signing: the page that waits for the confirmation and takes the emailed code,
    # the emailed link's page with its button (the button posts to a lean route, above), the
    # supporter's own page (from its link, or in the browser that signed), and withdrawing
    # with its link.
    page("/c/{slug}/confirm", supporters.supporters_check),
    form("/c/{slug}/confirm", supporters.supporters_confirm_code),
    page("/c/{slug}/confirm/{secret}", supporters.supporters_confirm_page),
    page("/c/{slug}/thanks", supporters.supporters_thanks_bound),
    page("/c/{slug}/thanks/{token}", supporters.supporters_thanks),
    page("/c/{slug}/withdraw/{token}", supporters.supporters_withdraw_form),
    form("/c/{slug}/withdraw/{token}", supporters.supporters_withdraw),
    page("/c/{slug}/withdrawn", supporters.supporters_withdrawn),
)

# --- webhooks: other services' posts ----------------------------------------------------------
# WhatsApp's Cloud API brings the messages that confirm signatures.

WEBHOOKS = router(
    get(
        "/webhooks/whatsapp",
        supporters.supporters_whatsapp_handshake,
        response_class=PlainTextResponse,
    ),
    webhook("/webhooks/whatsapp", supporters.supporters_whatsapp_receive),
)

# --- dashboard: a lead organisation's campaigns -----------------------------------------------

DASHBOARD_CAMPAIGNS = router(
    page("/dashboard/{org}/campaigns/new", campaigns.campaigns_new),
    form("/dashboard/{org}/campaigns", campaigns.campaigns_create),
    page("/dashboard/{org}/campaigns/{slug}/edit", campaigns.campaigns_edit),
    form("/dashboard/{org}/campaigns/{slug}/edit", campaigns.campaigns_update),
    form("/dashboard/{org}/campaigns/{slug}/pledges", campaigns.campaigns_pledge_add),
    form(
        "/dashboard/{org}/campaigns/{slug}/pledges/{pledge_id}", campaigns.campaigns_pledge_update
    ),
    form(
        "/dashboard/{org}/campaigns/{slug}/pledges/{pledge_id}/move",
        campaigns.campaigns_pledge_move,
    ),
    form(
        "/dashboard/{org}/campaigns/{slug}/pledges/{pledge_id}/delete",
        campaigns.campaigns_pledge_delete,
    ),
    form("/dashboard/{org}/campaigns/{slug}/status", campaigns.campaigns_status),
    form("/dashboard/{org}/campaigns/{slug}/partners", campaigns.campaigns_partner_add),
    form(
        "/dashboard/{org}/campaigns/{slug}/partners/{partner_id}/remove",
        campaigns.campaigns_partner_remove,
    ),
)

# --- hoax reports and verdicts ----------------------------------------------------------------
# A report, its status for the person who sent it, the gallery of published verdicts.

HOAXES = router(
    page("/c/{slug}/report", hoaxes.hoaxes_report_form),
    form("/c/{slug}/report", hoaxes.hoaxes_report),
    page("/c/{slug}/report/received", hoaxes.hoaxes_received),
    page("/reports", hoaxes.hoaxes_lookup, response_model=None),
    page("/reports/{code}", hoaxes.hoaxes_status),
    get("/media/{media_id}", hoaxes.hoaxes_media, response_model=None),
    get("/hoaxes/{case_id}/image.jpg", hoaxes.hoaxes_image, response_model=None),
    get("/hoaxes/{case_id}/card.jpg", hoaxes.hoaxes_card, response_model=None),
    get("/hoaxes/{case_id}/story.jpg", hoaxes.hoaxes_story, response_model=None),
    get("/hoaxes/{case_id}/original.jpg", hoaxes.hoaxes_original, response_model=None),
    get("/hoaxes/{case_id}/changed.jpg", hoaxes.hoaxes_changed, response_model=None),
    get("/v/{case_id}", hoaxes.hoaxes_short, response_model=None),
    page("/transparansi", hoaxes.hoaxes_transparency, response_model=None),
    get("/transparansi.csv", hoaxes.hoaxes_transparency_csv, response_model=None),
    get("/transparansi.json", hoaxes.hoaxes_transparency_json, response_model=None),
)

# --- the real-or-fake game ---------------------------------------------------------------------
# A campaign's game, played without an account (its state in a signed token), its pictures and
# share card; and the moderators' choice of the published verdicts that play.

GAME = router(
    page("/c/{slug}/game", game.game_start_page, response_model=None),
    form("/c/{slug}/game", game.game_start),
    page("/c/{slug}/game/score", game.game_score, response_model=None),
    get("/c/{slug}/game/pictures/{key}.jpg", game.game_picture, response_model=None),
    get("/c/{slug}/game/answers/{key}.jpg", game.game_answer_picture, response_model=None),
    get("/c/{slug}/game/card.jpg", game.game_card, response_model=None),
    form("/mod/cases/{case_id}/game", game.game_choose),
)

# --- accounts ---------------------------------------------------------------------------------
# Signing in and out, passwords, invitations, one's account; an organisation's members and
# profile, in its dashboard.

ACCOUNTS = router(
    page("/login", accounts.accounts_login_form, response_model=None),
    form("/login", accounts.accounts_login),
    form("/logout", accounts.accounts_logout),
    page("/password/forgot", accounts.accounts_password_forgot),
    form("/password/forgot", accounts.accounts_password_forgot_send),
    page("/password/forgot/sent", accounts.accounts_password_forgot_sent),
    page("/password/reset/{token}", accounts.accounts_password_reset_form, response_model=None),
    form("/password/reset/{token}", accounts.accounts_password_reset),
    page("/invite/{token}", accounts.accounts_invite_form, response_model=None),
    form("/invite/{token}", accounts.accounts_invite_accept),
    page("/account", accounts.accounts_account),
    form("/account/name", accounts.accounts_account_name),
    form("/account/password", accounts.accounts_account_password),
    page("/dashboard/{org}/members", accounts.accounts_members),
    form("/dashboard/{org}/members/invite", accounts.accounts_member_invite),
    form("/dashboard/{org}/members/{user_id}/role", accounts.accounts_member_role),
    form("/dashboard/{org}/members/{user_id}/remove", accounts.accounts_member_remove),
    form("/dashboard/{org}/members/invitations/revoke", accounts.accounts_invitation_revoke),
    page("/dashboard/{org}/profile", accounts.accounts_org_profile),
    form("/dashboard/{org}/profile", accounts.accounts_org_profile_update),
)

# --- moderation: the hoax queue and its cases -------------------------------------------------

MODERATION = router(
    page("/mod", moderation.moderation_queue),
    form("/mod/bulk-reject", moderation.moderation_bulk_reject),
    page("/mod/cases/{case_id}", moderation.moderation_case),
    form("/mod/cases/{case_id}/claim", moderation.moderation_claim),
    form("/mod/cases/{case_id}/release", moderation.moderation_release),
    form("/mod/cases/{case_id}/break", moderation.moderation_break_claim),
    form("/mod/cases/{case_id}/decide", moderation.moderation_decide),
    form("/mod/cases/{case_id}/approve", moderation.moderation_approve),
    form("/mod/cases/{case_id}/send-back", moderation.moderation_send_back),
    form("/mod/cases/{case_id}/join", moderation.moderation_join),
    form("/mod/cases/{case_id}/matches/{match_id}/set-apart", moderation.moderation_set_apart),
    form("/mod/cases/{case_id}/split", moderation.moderation_split),
    # Between moderators and reporters: a moderator's message to a reporter who allowed it,
    # and a reporter's answer to the moderators' question, from the report's own page.
    form("/mod/cases/{case_id}/reports/{report_id}/message", moderation.moderation_message),
    form("/reports/{code}/answer", moderation.moderation_answer),
    form("/mod/cases/{case_id}/escalations", moderation.moderation_escalate),
    form(
        "/mod/cases/{case_id}/escalations/{escalation_id}/outcome",
        moderation.moderation_escalation_outcome,
    ),
    form("/mod/cases/{case_id}/original", moderation.moderation_original),
    form("/mod/cases/{case_id}/original/remove", moderation.moderation_original_remove),
    get(
        "/mod/cases/{case_id}/original/{kind}.jpg",
        moderation.moderation_original_picture,
        response_model=None,
    ),
    form("/mod/cases/{case_id}/correct", moderation.moderation_correct),
    form(
        "/mod/cases/{case_id}/corrections/{correction_id}/approve",
        moderation.moderation_approve_correction,
    ),
    form(
        "/mod/cases/{case_id}/corrections/{correction_id}/withdraw",
        moderation.moderation_withdraw_correction,
    ),
)

# --- dashboard: an organisation's home, a campaign's statistics, embed snippets and export ----

DASHBOARD = router(
    page("/dashboard", dashboard.dashboard_home, response_model=None),
    page("/dashboard/{org}", dashboard.dashboard_org),
    # Another organisation's campaign that asked this one to partner: accept or decline it;
    # and leaving a campaign it partners in.
    form(
        "/dashboard/{org}/partnerships/{partnership_id}/accept",
        dashboard.dashboard_partnership_accept,
    ),
    form(
        "/dashboard/{org}/partnerships/{partnership_id}/decline",
        dashboard.dashboard_partnership_decline,
    ),
    form(
        "/dashboard/{org}/partnerships/{partnership_id}/leave",
        dashboard.dashboard_partnership_leave,
    ),
    page("/dashboard/{org}/campaigns/{slug}/statistics", dashboard.dashboard_statistics),
    page("/dashboard/{org}/campaigns/{slug}/embed", dashboard.dashboard_embed),
    # The supporters' names a led campaign's page shows: hide one, or show one held back.
    page("/dashboard/{org}/campaigns/{slug}/names", dashboard.dashboard_names),
    form("/dashboard/{org}/campaigns/{slug}/names", dashboard.dashboard_names_review),
    # The abuse console of a campaign the organisation leads (the site's is under /admin).
    page("/dashboard/{org}/campaigns/{slug}/abuse", dashboard.dashboard_abuse_campaign),
    page("/dashboard/{org}/campaigns/{slug}/abuse/suspects", dashboard.dashboard_abuse_suspects),
    form("/dashboard/{org}/campaigns/{slug}/abuse/suspects", dashboard.dashboard_abuse_review),
    page(
        "/dashboard/{org}/campaigns/{slug}/abuse/invalidate",
        dashboard.dashboard_abuse_invalidate_form,
    ),
    form(
        "/dashboard/{org}/campaigns/{slug}/abuse/invalidate", dashboard.dashboard_abuse_invalidate
    ),
    page(
        "/dashboard/{org}/campaigns/{slug}/abuse/invalidations/{run_id}",
        dashboard.dashboard_abuse_run,
    ),
    form(
        "/dashboard/{org}/campaigns/{slug}/abuse/invalidations/{run_id}/cancel",
        dashboard.dashboard_abuse_cancel,
    ),
    form(
        "/dashboard/{org}/campaigns/{slug}/abuse/invalidations/{run_id}/resume",
        dashboard.dashboard_abuse_resume,
    ),
    form(
        "/dashboard/{org}/campaigns/{slug}/abuse/invalidations/{run_id}/restore",
        dashboard.dashboard_abuse_restore,
    ),
    get(
        "/dashboard/{org}/campaigns/{slug}/export.csv",
        dashboard.dashboard_export,
        response_class=StreamingResponse,
    ),
    get(
        "/dashboard/{org}/campaigns/{slug}/export.xlsx",
        dashboard.dashboard_export_xlsx,
        response_class=StreamingResponse,
    ),
)

# --- admin: organisations, users and their memberships, the abuse console ------------------------

ADMIN = router(
    page("/admin", admin.admin_home),
    page("/admin/orgs", admin.admin_orgs),
    form("/admin/orgs", admin.admin_org_create),
    form("/admin/orgs/{org}/approve", admin.admin_org_approve),
    form("/admin/orgs/{org}/revoke", admin.admin_org_revoke),
    # An approved organisation's new name or website: applied, or refused.
    form("/admin/orgs/{org}/change/approve", admin.admin_org_change_approve),
    form("/admin/orgs/{org}/change/reject", admin.admin_org_change_reject),
    page("/admin/users", admin.admin_users),
    page("/admin/users/{user_id}", admin.admin_user),
    form("/admin/users/{user_id}/deactivate", admin.admin_user_deactivate),
    form("/admin/users/{user_id}/activate", admin.admin_user_activate),
    form("/admin/users/{user_id}/site-admin", admin.admin_user_site_admin),
    form("/admin/users/{user_id}/memberships", admin.admin_membership_set),
    form("/admin/users/{user_id}/memberships/{org}/remove", admin.admin_membership_remove),
    # The abuse console: every campaign, then one campaign's.
    page("/admin/abuse", admin.admin_abuse),
    page("/admin/abuse/{slug}", admin.admin_abuse_campaign),
    page("/admin/abuse/{slug}/suspects", admin.admin_abuse_suspects),
    form("/admin/abuse/{slug}/suspects", admin.admin_abuse_review),
    page("/admin/abuse/{slug}/invalidate", admin.admin_abuse_invalidate_form),
    form("/admin/abuse/{slug}/invalidate", admin.admin_abuse_invalidate),
    page("/admin/abuse/{slug}/invalidations/{run_id}", admin.admin_abuse_run),
    form("/admin/abuse/{slug}/invalidations/{run_id}/cancel", admin.admin_abuse_cancel),
    form("/admin/abuse/{slug}/invalidations/{run_id}/resume", admin.admin_abuse_resume),
    form("/admin/abuse/{slug}/invalidations/{run_id}/restore", admin.admin_abuse_restore),
)

# --- privacy: site admins find, copy and erase a person's data --------------------------------

PRIVACY = router(
    page("/admin/contacts", privacy.privacy_contacts),
    form("/admin/contacts", privacy.privacy_contacts_search),
    form("/admin/contacts/export", privacy.privacy_contacts_export),
    form("/admin/contacts/erase", privacy.privacy_contacts_erase),
)

# The routers of pages, in the order they are matched: as they are listed above.
PAGE_ROUTERS: tuple[APIRouter, ...] = (
    PUBLIC,
    WEBHOOKS,
    DASHBOARD_CAMPAIGNS,
    HOAXES,
    GAME,
    ACCOUNTS,
    MODERATION,
    DASHBOARD,
    ADMIN,
    PRIVACY,
)
