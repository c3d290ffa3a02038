"""The partner dashboard's pages where a lead organisation creates and runs its campaigns.

The public campaign pages (the list, one campaign with its sign form) are the supporters
domain's: they show its counts and its form."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session
from starlette.datastructures import FormData

from pledge.campaigns import service as campaigns
from pledge.campaigns.models import Campaign
from pledge.db import SessionDep, writing
from pledge.deps import CampaignManager, OrgContext
from pledge.errors import Invalid, PledgeError
from pledge.web import (
    CheckedForm,
    RowId,
    absolute_url,
    form_text,
    public_base_url,
    redraw,
    render,
)

# The dashboard has no lean route: every page here needs the session and the signed-in user.

# --- the partner dashboard: creating and running campaigns -------------------------------
#
# Every route takes CampaignManager (the permission table gives campaign management to the
# organisation's admins) and, for one campaign, ManagedCampaign: the campaign only when the
# organisation in the path leads it; any other organisation gets a 404, so drafts stay private.


def managed_campaign(slug: str, access: CampaignManager, session: SessionDep) -> Campaign:
    return campaigns.get_managed(session, org=access.org, slug=slug)


ManagedCampaign = Annotated[Campaign, Depends(managed_campaign)]


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


NEW_PAGE = "campaigns/manage/new.html"
EDIT_PAGE = "campaigns/manage/edit.html"


def new_page(
    access: OrgContext, form: campaigns.CampaignForm, *, preview: bool = False
) -> dict[str, Any]:
    return {
        "org": access.org,
        "form": form,
        "preview": preview,
        "preview_html": campaigns.render_markdown(form.body),
    }


def edit_page(
    request: Request,
    session: Session,
    access: OrgContext,
    campaign: Campaign,
    *,
    form: campaigns.CampaignForm | None = None,
    failed: str = "",
    posted: Any = None,
    preview: bool = False,
) -> dict[str, Any]:
    """The edit page; after a refused post, the failing form keeps what was sent and shows
    its messages (``failed`` names that form), and the rest shows what is stored."""
    page = campaigns.manage_page(session, campaign=campaign)
    form = form or campaigns.form_of(campaign)
    return {
        "org": access.org,
        "page": page,
        "campaign": page.campaign,
        "form": form,
        "failed": failed,
        "posted": posted,
        "preview": preview,
        "preview_html": campaigns.render_markdown(form.body),
        "public_url": absolute_url(request, "campaigns_show", slug=page.campaign.slug),
        "signable": campaigns.is_signable(page.campaign),
        "done": "" if failed else request.query_params.get("done", ""),
    }


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
    form: campaigns.CampaignForm | None = None,
) -> Response:
    """One change to a campaign in a write transaction. A refusal re-renders the edit page
    with its messages beside the form that failed (422); success returns to it (303)."""
    try:
        with _transaction(session, access):
            result = change()
    except Invalid as error:
        context = edit_page(
            request, session, access, campaign, form=form, failed=failed, posted=posted
        )
        return redraw(request, EDIT_PAGE, context, error)
    return _done(request, campaign, done(result) if callable(done) else done, anchor)


def campaigns_new(request: Request, access: CampaignManager) -> HTMLResponse:
    return render(request, NEW_PAGE, new_page(access, campaigns.CampaignForm()))


def campaigns_create(
    request: Request, session: SessionDep, access: CampaignManager, form: CheckedForm
) -> Response:
    posted = campaigns.CampaignForm.read(form)
    if _previewing(form):
        return render(request, NEW_PAGE, new_page(access, posted, preview=True))
    try:
        with _transaction(session, access):
            campaign = campaigns.create_draft(
                session, lead_org=access.org, form=posted, actor_id=access.user.id
            )
    except Invalid as error:
        return redraw(request, NEW_PAGE, new_page(access, posted), error)
    return _done(request, campaign, "created")


def campaigns_edit(
    request: Request, session: SessionDep, access: CampaignManager, campaign: ManagedCampaign
) -> HTMLResponse:
    return render(request, EDIT_PAGE, edit_page(request, session, access, campaign))


def campaigns_update(
    request: Request,
    session: SessionDep,
    access: CampaignManager,
    campaign: ManagedCampaign,
    form: CheckedForm,
) -> Response:
    posted = campaigns.CampaignForm.read(form)
    if _previewing(form):
        context = edit_page(request, session, access, campaign, form=posted, preview=True)
        return render(request, EDIT_PAGE, context)
    return _apply(
        request,
        session,
        access,
        campaign,
        lambda: campaigns.update(session, campaign=campaign, form=posted, actor_id=access.user.id),
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
    posted = campaigns.PledgeForm.read(form)
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
    posted = campaigns.PledgeForm(text=form_text(form, "text"))
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
    posted = campaigns.PartnerForm.read(form)
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
