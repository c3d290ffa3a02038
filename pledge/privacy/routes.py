"""Personal data requests for site administrators: find, copy and erase a person's data.

The contact travels only in POST bodies, never in a URL, so it stays out of access logs,
browser history and Referer headers; pages showing it are not cached.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from pledge.db import SessionDep
from pledge.deps import SiteAdmin
from pledge.errors import Invalid
from pledge.privacy import requests as privacy
from pledge.privacy.forms import ContactForm, ErasureForm
from pledge.web import CheckedForm, redraw, render

PAGE = "admin/contacts.html"

NO_STORE = {"Cache-Control": "no-store"}


def _page(
    *,
    findings: privacy.Findings | None = None,
    erasure: privacy.Erasure | None = None,
    form: ContactForm | ErasureForm | None = None,
    contact: str | None = None,
) -> dict[str, Any]:
    """The page's context: what was found or erased, and the form as typed (the contact as
    found, once a search found it)."""
    shown = {"contact": "", "reason": "", **(asdict(form) if form else {})}
    if contact is not None:
        shown["contact"] = contact
    return {"findings": findings, "erasure": erasure, "form": shown}


def _show(request: Request, context: dict[str, Any]) -> HTMLResponse:
    return render(request, PAGE, context, headers=NO_STORE)


def privacy_contacts(
    request: Request, user: SiteAdmin, session: SessionDep, erased: str | None = None
) -> HTMLResponse:
    erasure = None
    if erased and erased.isdigit() and len(erased) < 12:
        erasure = privacy.get_erasure(session, event_id=int(erased))
    return _show(request, _page(erasure=erasure))


def privacy_contacts_search(
    request: Request, user: SiteAdmin, session: SessionDep, form: CheckedForm
) -> Response:
    posted = ContactForm.read(form)
    try:
        findings = privacy.search(session, actor=user, raw=posted.contact)
    except Invalid as error:
        return redraw(request, PAGE, _page(form=posted), error, headers=NO_STORE)
    return _show(request, _page(findings=findings, contact=findings.contact))


def privacy_contacts_export(
    request: Request, user: SiteAdmin, session: SessionDep, form: CheckedForm
) -> Response:
    posted = ContactForm.read(form)
    try:
        export = privacy.export(session, actor=user, raw=posted.contact)
    except Invalid as error:
        return redraw(request, PAGE, _page(form=posted), error, headers=NO_STORE)
    return Response(
        export.content,
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="{export.filename}"',
            **NO_STORE,
        },
    )


def privacy_contacts_erase(
    request: Request, user: SiteAdmin, session: SessionDep, form: CheckedForm
) -> Response:
    posted = ErasureForm.read(form)
    try:
        erasure = privacy.erase(session, actor=user, form=posted)
    except Invalid as error:
        # A good contact: what would be erased is shown again, beside the message.
        findings = (
            None
            if "contact" in error.errors
            else privacy.search(session, actor=user, raw=posted.contact)
        )
        context = _page(findings=findings, form=posted)
        return redraw(request, PAGE, context, error, headers=NO_STORE)
    url = request.app.url_path_for("privacy_contacts")
    return RedirectResponse(f"{url}?erased={erasure.event_id}", status_code=303)
