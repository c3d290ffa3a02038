"""Organisations: creating them, finding them, and their profile (name and website)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from pledge import audit, forms
from pledge.accounts.models import Organization, User
from pledge.accounts.service.forms import WEBSITE_MAX, OrgProfileForm, check_org_name
from pledge.audit import AuditAction
from pledge.db import utcnow, writing
from pledge.errors import Conflict, NotFound
from pledge.i18n import gettext as _
from pledge.slugs import is_slug


def get_org_by_slug(session: Session, slug: str) -> Organization:
    org = session.exec(select(Organization).where(Organization.slug == slug)).first()
    if org is None:
        raise NotFound(_("We could not find that organisation."))
    return org


def create_org(
    session: Session, *, slug: str, name: str, website: str | None = None, verified: bool = False
) -> Organization:
    """An organisation under a short name as stored (lower-case already: the forms that
    take one lower-case what was typed)."""
    with forms.Checks() as checks:
        if not is_slug(slug):
            checks.refuse("slug", _("Use lower-case letters, digits and dashes only."))
        clean_name = check_org_name(checks, name)
    if session.exec(select(Organization).where(Organization.slug == slug)).first():
        raise Conflict(_("An organisation with this short name already exists."))
    org = Organization(slug=slug, name=clean_name, website=website or None, verified=verified)
    session.add(org)
    session.flush()
    return org


def update_org(
    session: Session, *, org: Organization, form: OrgProfileForm, actor: User
) -> Organization:
    """Change the organisation's name and website. An approved organisation's change waits
    for a site administrator (``review_change``): its old name and website stay public until
    then, so that an approved name cannot become another's. Saving the current name and
    website again withdraws a waiting change."""
    profile = form.check()
    clean_name, clean_website = profile.name, profile.website
    with writing(session):
        changes: dict[str, list[Any]] = {
            field: [before, after]
            for field, before, after in (
                ("name", org.name, clean_name),
                ("website", org.website, clean_website),
            )
            if before != after
        }
        if org.verified:
            waiting = bool(changes)
            org.change_requested_at = utcnow() if waiting else None
            org.pending_name = clean_name if waiting else None
            org.pending_website = clean_website if waiting else None
            if changes:
                changes["waits_for_review"] = [False, True]
        else:
            org.name = clean_name
            org.website = clean_website
        session.add(org)
        if changes:
            audit.record(
                session,
                actor_id=actor.id,
                action=AuditAction.ORG_UPDATE,
                subject=f"org:{org.id}",
                data=changes,
            )
    return org


def review_change(session: Session, *, org: Organization, approve: bool) -> dict[str, Any]:
    """Apply the organisation's waiting change of name and website, or drop it; what changed,
    for the caller's audit record. NotFound when no change waits."""
    if org.change_requested_at is None:
        raise NotFound(_("This organisation has no change waiting for approval."))
    change: dict[str, Any] = {
        "name": [org.name, org.pending_name],
        "website": [org.website, org.pending_website],
    }
    if approve:
        org.name = org.pending_name or org.name
        org.website = org.pending_website
    org.change_requested_at = org.pending_name = org.pending_website = None
    session.add(org)
    return change


def register_org(
    session: Session, *, slug: str, name: str, website: str = "", verified: bool = False
) -> Organization:
    """An organisation created by an operator on the command line."""
    clean_website = forms.field("website", forms.http_url, website, max_length=WEBSITE_MAX)
    with writing(session):
        org = create_org(
            session, slug=slug.strip(), name=name, website=clean_website, verified=verified
        )
        audit.record(
            session,
            actor_id=None,
            action=AuditAction.ORG_CREATE,
            subject=f"org:{org.id}",
            reason="command line",
            data={"slug": org.slug, "name": org.name, "verified": verified},
        )
    return org
