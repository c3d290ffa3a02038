"""Organisations: creating them, finding them, and their profile (name and website)."""

from __future__ import annotations

from urllib.parse import urlsplit

from sqlmodel import Session, select

from pledge import audit
from pledge.accounts.models import Organization, User
from pledge.db import writing
from pledge.errors import Conflict, Invalid, NotFound
from pledge.i18n import gettext as _
from pledge.slugs import SLUG_RE

WEBSITE_MAX = 300
NAME_MAX = 160


def get_org_by_slug(session: Session, slug: str) -> Organization:
    org = session.exec(select(Organization).where(Organization.slug == slug)).first()
    if org is None:
        raise NotFound(_("We could not find that organisation."))
    return org


def create_org(
    session: Session, *, slug: str, name: str, website: str | None = None, verified: bool = False
) -> Organization:
    errors = {}
    if not SLUG_RE.fullmatch(slug) or len(slug) > 64:
        errors["slug"] = _("Use lower-case letters, digits and dashes only.")
    if not name.strip() or len(name.strip()) > NAME_MAX:
        errors["name"] = _("Enter the organisation's name (at most 160 characters).")
    if errors:
        raise Invalid(errors)
    if session.exec(select(Organization).where(Organization.slug == slug)).first():
        raise Conflict(_("An organisation with this short name already exists."))
    org = Organization(slug=slug, name=name.strip(), website=website or None, verified=verified)
    session.add(org)
    session.flush()
    return org


def check_website(raw: str) -> str | None:
    """An http or https address, or None when left empty."""
    website = raw.strip()
    if not website:
        return None
    try:
        parts = urlsplit(website)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        port_ok = False
    if (
        not port_ok
        or parts.scheme.lower() not in ("http", "https")
        or not parts.hostname
        or "@" in parts.netloc
        or len(website) > WEBSITE_MAX
        or any(c.isspace() or ord(c) < 32 for c in website)
    ):
        raise Invalid(
            {"website": _("Enter the full address of the website, like https://contoh.or.id.")}
        )
    return website


def update_org(
    session: Session, *, org: Organization, name: str, website: str, actor: User
) -> Organization:
    clean_name = " ".join(name.split())
    errors: dict[str, str] = {}
    if not clean_name or len(clean_name) > NAME_MAX:
        errors["name"] = _("Enter the organisation's name (at most 160 characters).")
    clean_website = None
    try:
        clean_website = check_website(website)
    except Invalid as error:
        errors.update(error.errors)
    if errors:
        raise Invalid(errors)
    with writing(session):
        changes = {
            field: [before, after]
            for field, before, after in (
                ("name", org.name, clean_name),
                ("website", org.website, clean_website),
            )
            if before != after
        }
        org.name = clean_name
        org.website = clean_website
        session.add(org)
        if changes:
            audit.record(
                session,
                actor_id=actor.id,
                action="org.update",
                subject=f"org:{org.id}",
                data=changes,
            )
    return org


def register_org(
    session: Session, *, slug: str, name: str, website: str = "", verified: bool = False
) -> Organization:
    """An organisation created by an operator on the command line."""
    clean_website = check_website(website)
    with writing(session):
        org = create_org(
            session, slug=slug.strip(), name=name, website=clean_website, verified=verified
        )
        audit.record(
            session,
            actor_id=None,
            action="org.create",
            subject=f"org:{org.id}",
            reason="command line",
            data={"slug": org.slug, "name": org.name, "verified": verified},
        )
    return org
