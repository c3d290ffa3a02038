"""Published verdicts: the public gallery, and one verdict with its ClaimReview (its pictures
are drawn in ``verdict_images``)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import unquote, urlsplit

import sqlalchemy as sa
from sqlmodel import Session, col

from pledge import i18n
from pledge.campaigns import service as campaigns
from pledge.campaigns.models import PUBLIC_STATUSES, Campaign
from pledge.clock import as_utc
from pledge.errors import NotFound
from pledge.hoaxes.models import (
    HoaxCase,
    Verdict,
    escalation_table,
    hoax_case_table,
    hoax_report_table,
)
from pledge.hoaxes.service.urls import public_url
from pledge.hoaxes.states import CaseStatus
from pledge.i18n import gettext as _


@dataclass(frozen=True, slots=True)
class PublishedHoax:
    case: HoaxCase
    campaign: Campaign

    @property
    def id(self) -> int:
        return self.case.id or 0

    @property
    def published_at(self) -> datetime:
        return self.case.published_at or self.case.updated_at

    @property
    def has_image(self) -> bool:
        return self.case.media_id is not None and self.case.label is not None


def published_query() -> Any:
    """Published verdicts of public campaigns, each with its campaign."""
    return campaigns.select_with_campaign(
        HoaxCase,
        col(HoaxCase.status) == CaseStatus.PUBLISHED,
        col(HoaxCase.published_at).is_not(None),
        campaign_id=HoaxCase.campaign_id,
        statuses=PUBLIC_STATUSES,
    )


NEWEST_FIRST = (col(HoaxCase.published_at).desc(), col(HoaxCase.id).desc())


def verdicts_version(engine: sa.Engine) -> tuple[object, ...]:
    """What changes when any published verdict's page or the gallery may read differently: how
    many are published, and when one (or a report joining it, or its campaign, or what came of
    a report elsewhere) last changed. A few index reads, made at most once a second."""
    case_t = hoax_case_table
    with engine.connect() as conn:
        cases = conn.execute(
            sa.select(sa.func.count(), sa.func.max(case_t.c.updated_at)).where(
                case_t.c.status == CaseStatus.PUBLISHED.value
            )
        ).one()
        escalated = conn.execute(sa.select(sa.func.max(escalation_table.c.updated_at))).scalar()
        campaign = campaigns.last_change(conn)
    return (*cases, escalated, campaign)


def get_published(session: Session, *, case_id: int) -> PublishedHoax:
    row = session.exec(published_query().where(col(HoaxCase.id) == case_id)).first()
    if row is None:
        raise NotFound(_("We could not find a published verdict with this number."))
    case, campaign = row
    return PublishedHoax(case=case, campaign=campaign)


def first_reported(session: Session, *, case_id: int) -> datetime | None:
    """When the thing was first reported (its own reports and those of cases merged in)."""
    case_t, report_t = hoax_case_table, hoax_report_table
    merged = sa.select(case_t.c.id).where(case_t.c.merged_into_id == case_id)
    return session.execute(
        sa.select(sa.func.min(report_t.c.created_at)).where(
            sa.or_(report_t.c.case_id == case_id, report_t.c.case_id.in_(merged))
        )
    ).scalar()


# Private group invitations and click-to-chat links are the reporter's doorway, not the hoax:
# never published. Each host with the paths that open a group or a chat ("" is every path),
# compared in lower case: the apps take /JoinChat/ as /joinchat/.
_PRIVATE_LINKS: dict[str, tuple[str, ...]] = {
    "chat.whatsapp.com": ("",),
    "wa.me": ("",),
    "wa.link": ("",),
    "api.whatsapp.com": ("/send",),
    # web.whatsapp.com, as canonical links spell it
    "whatsapp.com": ("/send",),
    "web.whatsapp.com": ("/send",),
    "t.me": ("/+", "/joinchat"),
    "telegram.me": ("/+", "/joinchat"),
    "telegram.dog": ("/+", "/joinchat"),
    "discord.gg": ("",),
    "discord.com": ("/invite",),
    "discordapp.com": ("/invite",),
    "line.me": ("/r/ti/g", "/ti/g"),
    "m.me": ("/j/",),
}
# Front ends of the same host: www.t.me is t.me.
_HOST_PREFIXES = ("www.", "mobile.")
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)


def _decoded(text: str) -> str:
    """Text with its percent escapes undone, however many times they were applied."""
    for _round in range(4):
        decoded = unquote(text)
        if decoded == text:
            break
        text = decoded
    return text


def is_private_link(url: str) -> bool:
    """Whether a link invites into a private group or chat (any case, with or without a
    scheme or ``www.``, with its characters percent-encoded or not)."""
    text = url.strip()
    if not _SCHEME.match(text):
        text = "//" + text.removeprefix("//")
    try:
        parts = urlsplit(text)
        host = _decoded(parts.hostname or "").lower().rstrip(".")
    except ValueError:
        return False
    for prefix in _HOST_PREFIXES:
        if host.startswith(prefix) and "." in host.removeprefix(prefix):
            host = host.removeprefix(prefix)
    paths = _PRIVATE_LINKS.get(host)
    if paths is None:
        return False
    path = _decoded(parts.path).lower()
    return any(path.startswith(private) for private in paths)


def public_appearance_url(case: HoaxCase) -> str | None:
    """Where the hoax appeared, as published: never a private group's invitation, and
    without what tracks who shared it."""
    return _published_link(case.canonical_url)


def _published_link(url: str | None) -> str | None:
    if not url or is_private_link(url):
        return None
    cleaned = public_url(url)
    return None if is_private_link(cleaned) else cleaned


# A verdict's appearances listed in its ClaimReview: enough for any real case.
APPEARANCES_MAX = 50


def list_appearances(session: Session, *, case: HoaxCase) -> list[str]:
    """Every distinct public link where the claim appeared, the earliest reported first: the
    links of the case's reports and of the cases merged into it, as published."""
    case_t, report_t = hoax_case_table, hoax_report_table
    merged = sa.select(case_t.c.id).where(case_t.c.merged_into_id == case.id)
    rows = session.execute(
        sa.select(report_t.c.canonical_url)
        .where(
            sa.or_(report_t.c.case_id == case.id, report_t.c.case_id.in_(merged)),
            report_t.c.canonical_url.is_not(None),
        )
        .order_by(report_t.c.created_at, report_t.c.id)
    ).scalars()
    found: dict[str, None] = {}
    for url in [*rows, case.canonical_url]:
        link = _published_link(url)
        if link is not None and len(found) < APPEARANCES_MAX:
            found.setdefault(link, None)
    return list(found)


# ClaimReview ratings run from 1 (false) to 5 (true). Labels that say the content is false,
# faked or a scam are 1; misleading or out of context (true parts, false whole) are 2;
# satire (not meant as fact) is 3, in the middle: neither true nor a lie.
RATING_VALUES: dict[Verdict, int] = {
    Verdict.SALAH: 1,
    Verdict.DIMANIPULASI: 1,
    Verdict.BUATAN_AI: 1,
    Verdict.PENIPUAN: 1,
    Verdict.MENYESATKAN: 2,
    Verdict.KONTEKS_KELIRU: 2,
    Verdict.SATIRE: 3,
}


def _in_locale(locale: str, label: Verdict) -> str:
    """What a label means in the verdict's own language, whatever the reader's."""
    reader = i18n.get_locale()
    i18n.set_locale(locale)
    try:
        return label.label
    finally:
        i18n.set_locale(reader)


def _claim(hoax: PublishedHoax, appearances: Sequence[str]) -> dict[str, Any]:
    """The claim reviewed: where it appeared (the first known appearance first), who spread
    it and when, where the moderators know it."""
    case = hoax.case
    item: dict[str, Any] = {"@type": "Claim"}
    if appearances:
        item["appearance"] = [{"@type": "CreativeWork", "url": url} for url in appearances]
        item["firstAppearance"] = {"@type": "CreativeWork", "url": appearances[0]}
    if case.claim_author:
        # "TikTok account @..." or "a WhatsApp chain message": not always a person's name.
        item["author"] = {"@type": "Organization", "name": case.claim_author}
    if case.claim_date is not None:
        item["datePublished"] = case.claim_date.isoformat()
    return item


def claim_review(
    hoax: PublishedHoax,
    *,
    page_url: str,
    site_name: str,
    base_url: str,
    appearances: Sequence[str] = (),
    image_url: str | None = None,
) -> dict[str, Any]:
    """The schema.org ClaimReview that search engines and fact-check tools read, with the
    properties Google's fact-check documentation requires and recommends
    (https://developers.google.com/search/docs/appearance/structured-data/factcheck).
    ``appearances``: the claim's public links, earliest first (list_appearances)."""
    case = hoax.case
    label = case.label or Verdict.SALAH
    locale = hoax.campaign.locale or i18n.DEFAULT_LOCALE
    if not appearances:
        found = public_appearance_url(case)
        appearances = [found] if found else []
    review: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "ClaimReview",
        "url": page_url,
        "claimReviewed": case.public_title,
        "datePublished": _day(hoax.published_at),
        "inLanguage": locale,
        "author": {"@type": "Organization", "name": site_name, "url": base_url},
        "reviewRating": {
            "@type": "Rating",
            "ratingValue": RATING_VALUES.get(label, 1),
            "bestRating": 5,
            "worstRating": 1,
            "alternateName": str(label),
            "name": _in_locale(locale, label),
        },
        "itemReviewed": _claim(hoax, appearances),
    }
    if case.corrected_at is not None:
        review["dateModified"] = _day(case.corrected_at)
    if image_url:
        review["image"] = image_url
    return review


def _day(moment: datetime) -> str:
    return as_utc(moment).date().isoformat()
