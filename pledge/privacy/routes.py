"""Personal data requests for site administrators: find, copy and erase a person's data.

The contact travels only in POST bodies, never in a URL, so it stays out of access logs,
browser history and Referer headers; pages showing it are not cached.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from pledge.db import SessionDep
from pledge.deps import SiteAdmin
from pledge.errors import Invalid
from pledge.privacy import requests as privacy
from pledge.web import CheckedForm, form_text, render

NO_STORE = {"Cache-Control": "no-store"}


def _page(
    request: Request,
    *,
    findings: privacy.Findings | None = None,
    erasure: privacy.Erasure | None = None,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "admin/contacts.html",
        {
            "findings": findings,
            "erasure": erasure,
            "errors": errors or {},
            "form": {"contact": "", "reason": "", **(form or {})},
        },
        status_code=status_code,
        headers=NO_STORE,
    )


def privacy_contacts(
    request: Request, user: SiteAdmin, session: SessionDep, erased: str | None = None
) -> HTMLResponse:
    erasure = None
    if erased and erased.isdigit() and len(erased) < 12:
        erasure = privacy.get_erasure(session, event_id=int(erased))
    return _page(request, erasure=erasure)


def privacy_contacts_search(
    request: Request, user: SiteAdmin, session: SessionDep, form: CheckedForm
) -> Response:
    raw = form_text(form, "contact", 300)
    try:
        findings = privacy.search(session, actor=user, raw=raw)
    except Invalid as error:
        return _page(request, errors=error.errors, form={"contact": raw}, status_code=422)
    return _page(request, findings=findings, form={"contact": findings.contact})


def privacy_contacts_export(
    request: Request, user: SiteAdmin, session: SessionDep, form: CheckedForm
) -> Response:
    raw = form_text(form, "contact", 300)
    try:
        export = privacy.export(session, actor=user, raw=raw)
    except Invalid as error:
        return _page(request, errors=error.errors, form={"contact": raw}, status_code=422)
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
    raw = form_text(form, "contact", 300)
    reason = form_text(form, "reason", 2000)
    try:
        erasure = privacy.erase(session, actor=user, raw=raw, reason=reason)
    except Invalid as error:
        posted = {"contact": raw, "reason": reason}
        if "contact" in error.errors:
            return _page(request, errors=error.errors, form=posted, status_code=422)
        # The contact was fine: show what would be erased again, beside the message.
        findings = privacy.search(session, actor=user, raw=raw)
        return _page(request, findings=findings, errors=error.errors, form=posted, status_code=422)
    url = request.app.url_path_for("privacy_contacts")
    return RedirectResponse(f"{url}?erased={erasure.event_id}", status_code=303)
