"""The partner dashboard's pages where a lead organisation creates and runs its campaigns.

The public campaign pages (the list, one campaign with its sign form) are the supporters
domain's: they show its counts and its form."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session
from starlette.datastructures import FormData

from pledge.campaigns import service as campaigns
from pledge.campaigns.models import Campaign, CampaignForm, PartnerForm, PledgeForm
from pledge.db import SessionDep, writing
from pledge.deps import CampaignManager, OrgContext
from pledge.errors import Invalid, PledgeError
from pledge.web import CheckedForm, RowId, absolute_url, form_text, public_base_url, render

# The dashboard has no lean route: every page here needs the session and the signed-in user.

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
        "preview_html": campaigns.render_markdown(form.body),
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
        "preview_html": campaigns.render_markdown(form.body),
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


def campaigns_new(request: Request, access: CampaignManager) -> HTMLResponse:
    return render_new(request, access, form=CampaignForm())


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


def campaigns_edit(
    request: Request, session: SessionDep, access: CampaignManager, campaign: ManagedCampaign
) -> HTMLResponse:
    return render_edit(request, session, access, campaign)


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
