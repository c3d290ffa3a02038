"""Published verdicts: the public gallery, and one verdict with its ClaimReview (its pictures
are drawn in ``verdict_images``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urlsplit

import sqlalchemy as sa
from sqlmodel import Session, col

from pledge.campaigns import service as campaigns
from pledge.campaigns.models import PUBLIC_STATUSES, Campaign
from pledge.errors import NotFound
from pledge.hoaxes.models import (
    HoaxCase,
    Verdict,
    hoax_case_table,
    hoax_report_table,
)
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
    """Where the hoax appeared, as published: never a private group's invitation."""
    url = case.canonical_url
    if url is None or is_private_link(url):
        return None
    return url


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


def claim_review(
    hoax: PublishedHoax,
    *,
    page_url: str,
    site_name: str,
    base_url: str,
    first_seen: datetime | None,
    image_url: str | None = None,
) -> dict[str, Any]:
    """The schema.org ClaimReview that search engines and fact-check tools read."""
    case = hoax.case
    label = case.label or Verdict.SALAH
    item: dict[str, Any] = {"@type": "CreativeWork"}
    appearance = public_appearance_url(case)
    if appearance:
        item["appearance"] = [{"@type": "CreativeWork", "url": appearance}]
    if first_seen is not None:
        item["datePublished"] = first_seen.astimezone(UTC).date().isoformat()
    review: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "ClaimReview",
        "url": page_url,
        "claimReviewed": case.public_title,
        "datePublished": hoax.published_at.astimezone(UTC).date().isoformat(),
        "author": {"@type": "Organization", "name": site_name, "url": base_url},
        "reviewRating": {
            "@type": "Rating",
            "ratingValue": RATING_VALUES.get(label, 1),
            "bestRating": 5,
            "worstRating": 1,
            "alternateName": str(label),
        },
        "itemReviewed": item,
    }
    if image_url:
        review["image"] = image_url
    return review
