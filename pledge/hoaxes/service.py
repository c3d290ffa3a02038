"""Every query and rule about hoax reports: taking a report, joining reports of the same
thing into one case, the reporter's status page, who may see an image, and the public
gallery and open data of published verdicts."""

from __future__ import annotations

import base64
import binascii
import re
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from pledge import contacts
from pledge.accounts import service as accounts
from pledge.accounts.models import User
from pledge.accounts.permissions import Action, allowed, principals
from pledge.campaigns import service as campaigns
from pledge.campaigns.models import PUBLIC_STATUSES, Campaign, CampaignPartner, CampaignView
from pledge.config import get_settings
from pledge.db import ID_MAX, utcnow, writing
from pledge.errors import Conflict, Invalid, NotFound
from pledge.hoaxes import decoder, media
from pledge.hoaxes.models import (
    OPEN_STATUSES,
    CaseStatus,
    Category,
    HoaxCase,
    HoaxReport,
    Media,
    MediaBand,
    Platform,
    Verdict,
)
from pledge.i18n import gettext as _
from pledge.provinces import PROVINCES
from pledge.security import FieldCipher

URL_MAX = 2048
DESCRIPTION_MAX = 1000
GALLERY_PAGE_SIZE = 20
API_LIMIT_DEFAULT = 20
API_LIMIT_MAX = 100
# Case ids are 32-bit integers in the database: a cursor naming a larger one is not valid.

# Tracking codes are read from a screen and typed by hand: no 0/o, no 1/l/i.
CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
CODE_LENGTH = 10  # 31**10: about 49 bits, far beyond guessing through the rate limit


def report_limit() -> str:
    """Reports per address per minute: generous, as many phones share one carrier address."""
    return "30/minute"


# --- canonical URLs -------------------------------------------------------------------

# Subdomains that serve the same page as the bare domain.
_ALIAS_PREFIXES = ("www.", "m.", "mobile.", "web.")
# Facebook's other front ends for phones and slow connections.
_FACEBOOK_PREFIXES = ("touch.", "mbasic.", "free.", "lite.", "d.")
_HOST_ALIASES = {
    "twitter.com": "x.com",
    "fb.com": "facebook.com",
    "instagr.am": "instagram.com",
    "youtube-nocookie.com": "youtube.com",
}
# Query parameters that say who shared a link or where it was clicked, not what it shows.
_TRACKING = frozenset(
    {
        "fbclid",
        "gclid",
        "gbraid",
        "wbraid",
        "dclid",
        "msclkid",
        "yclid",
        "igshid",
        "igsh",
        "si",
        "ref",
        "ref_src",
        "ref_url",
        "mibextid",
        "share_id",
        "mc_cid",
        "mc_eid",
        "_ga",
        "_gl",
        "feature",
        "app",
        "is_from_webapp",
        "sender_device",
        "sender_web_id",
    }
)
# On X, ?s=20&t=... record the app that shared the post.
_TRACKING_BY_HOST = {"x.com": frozenset({"s", "t"})}
_PERCENT = re.compile(r"%[0-9a-fA-F]{2}")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _normalise_escapes(text: str) -> str:
    """Upper-case percent escapes, and decode those that stand for unreserved characters."""

    def fix(match: re.Match[str]) -> str:
        char = chr(int(match.group(0)[1:], 16))
        return char if char in _UNRESERVED else match.group(0).upper()

    return _PERCENT.sub(fix, text)


def _host(raw: str) -> str:
    host = raw.lower().rstrip(".")
    stripped = True
    while stripped:
        stripped = False
        for prefix in _ALIAS_PREFIXES:
            rest = host.removeprefix(prefix)
            if rest != host and "." in rest:
                host, stripped = rest, True
    for prefix in _FACEBOOK_PREFIXES:
        if host == prefix + "facebook.com":
            host = "facebook.com"
    return _HOST_ALIASES.get(host, host)


def canonical_url(raw: str) -> str:
    """One spelling for every way a link to the same page gets shared.

    Scheme and host lower-case, http and https alike, ``www.``/``m.``/``mobile.``/``web.``
    dropped, twitter.com as x.com, youtu.be/ID as youtube.com/watch?v=ID, no default port,
    no credentials, no fragment, no tracking parameters, the rest sorted, no trailing slash.
    """
    parts = urlsplit(raw.strip())
    host = _host(parts.hostname or "")
    try:
        port = parts.port
    except ValueError:
        port = None
    scheme = parts.scheme.lower()
    netloc = f"[{host}]" if ":" in host else host  # an IPv6 address
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        netloc = f"{netloc}:{port}"
    path = _normalise_escapes(parts.path) or "/"
    query = parse_qsl(parts.query, keep_blank_values=True)

    if host == "youtu.be" and path.strip("/"):
        host = netloc = "youtube.com"
        query = [("v", path.strip("/").split("/")[0]), *query]
        path = "/watch"
    if host == "youtube.com":
        if path.startswith("/shorts/") and path.removeprefix("/shorts/").strip("/"):
            query = [("v", path.removeprefix("/shorts/").strip("/").split("/")[0]), *query]
            path = "/watch"
        if path.rstrip("/") == "/watch":
            # The video is the v parameter; timestamps and playlists show the same video.
            query = [(key, value) for key, value in query if key == "v"][:1]

    drop = _TRACKING_BY_HOST.get(host, frozenset())
    kept = sorted(
        (key, value)
        for key, value in query
        if not key.lower().startswith("utm_")
        and key.lower() not in _TRACKING
        and key.lower() not in drop
    )
    path = path.rstrip("/")
    # Every link counts as https: the page is the same, and phones rewrite one to the other.
    url = urlunsplit(("https", netloc, quote(path, safe="/%:@!$&'()*+,;=-._~"), "", ""))
    if kept:
        url += "?" + urlencode(kept, quote_via=quote, safe=":@!$'()*,;/")
    return url


def clean_url(raw: str) -> str:
    """The link as the reporter gave it, checked; a missing scheme is taken as https."""
    value = raw.strip()
    if not value:
        return ""
    if len(value) > URL_MAX:
        raise ValueError(_("That link is too long. Copy the link again, or send a screenshot."))
    if re.search(r"[\s\x00-\x1f\x7f]", value):
        raise ValueError(_("A link has no spaces. Copy the link again and paste it here."))
    if "://" not in value and re.match(r"^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+([/?#:]|$)", value):
        value = "https://" + value
    parts = urlsplit(value)
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        parts = parts._replace(scheme="")
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValueError(
            _("Enter a web link that starts with https:// (copy it from the app's Share button).")
        )
    if len(value) > URL_MAX or len(canonical_url(value)) > URL_MAX:
        raise ValueError(_("That link is too long. Copy the link again, or send a screenshot."))
    return value


# --- the report form ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReportForm:
    """The report form as posted; text as strings so that bad input can be shown back."""

    url: str = ""
    platform: str = ""
    category: str = ""
    description: str = ""
    province: str = ""
    contact: str = ""
    consent: str = ""
    website: str = ""  # honeypot: people never see it, bots fill it
    screenshot: bytes | None = None  # the uploaded file as sent, if any


@dataclass(frozen=True, slots=True)
class _CleanReport:
    url: str | None
    canonical: str | None
    platform: Platform
    category: Category
    description: str
    province: str | None
    contact_encrypted: str | None
    image: media.ProcessedImage | None


def is_accepting_reports(campaign: Campaign) -> bool:
    """Reports are taken while the campaign takes signatures."""
    return campaigns.is_signable(campaign)


def _clean_text(raw: str) -> str:
    # Line breaks stay (the explanation may quote several lines); other control characters go.
    text = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", "", raw.replace("\r\n", "\n"))
    return text.strip()


def validate(form: ReportForm) -> _CleanReport:
    """Check the posted form; raise Invalid with a message beside each bad field."""
    errors: dict[str, str] = {}

    url = ""
    try:
        url = clean_url(form.url)
    except ValueError as error:
        errors["url"] = str(error)

    image = None
    if form.screenshot:
        try:
            image = decoder.process_upload(form.screenshot)
        except media.MediaError as error:
            errors["screenshot"] = str(error)
    if not form.url.strip() and not form.screenshot:
        errors["url"] = _("Give the link to the post, or attach a screenshot of it (or both).")

    platform = category = None
    try:
        platform = Platform(form.platform)
    except ValueError:
        errors["platform"] = _("Choose where you saw it.")
    try:
        category = Category(form.category)
    except ValueError:
        errors["category"] = _("Choose what kind of hoax you think it is.")

    description = _clean_text(form.description)
    if len(description) > DESCRIPTION_MAX:
        errors["description"] = _("Keep the description to at most 1000 characters.")

    province = form.province or None
    if province is not None and province not in PROVINCES:
        errors["province"] = _("Choose a province from the list, or leave it empty.")

    contact = None
    if form.contact.strip():
        try:
            contact = contacts.normalise_contact(form.contact)
        except contacts.ContactError as error:
            errors["contact"] = str(error)

    if not form.consent:
        errors["consent"] = _("Agree to the privacy notice to send your report.")

    if errors:
        raise Invalid(errors)
    assert platform is not None and category is not None
    encrypted = FieldCipher(get_settings().secret_key).encrypt(contact) if contact else None
    return _CleanReport(
        url=url or None,
        canonical=canonical_url(url) if url else None,
        platform=platform,
        category=category,
        description=description,
        province=province,
        contact_encrypted=encrypted,
        image=image,
    )


# --- taking a report ------------------------------------------------------------------


def new_tracking_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def submit(
    session: Session, *, view: CampaignView, form: ReportForm, locale: str = "id"
) -> HoaxReport | None:
    """Store a report and join it to the case of the same thing, or open a new case.

    Returns None when the honeypot was filled: nothing is stored, and the bot is shown a
    success page all the same.
    """
    if form.website:
        return None
    if not is_accepting_reports(view.campaign):
        raise Conflict(_("This campaign is no longer taking hoax reports."))
    clean = validate(form)  # decodes and re-encodes the image before any lock is taken

    for attempt in range(3):
        try:
            with writing(session):
                return _submit_in_transaction(
                    session, campaign_id=view.id, clean=clean, locale=locale
                )
        except IntegrityError:
            # The same image stored by a concurrent report (or, once in an aeon, a
            # tracking code drawn twice): the next try finds the stored row.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _store_media(session: Session, image: media.ProcessedImage) -> int:
    """The stored image with these bytes, stored now if it was not yet."""
    found = session.execute(
        sa.select(col(Media.id)).where(col(Media.sha256) == image.sha256)
    ).scalar()
    if found is not None:
        return int(found)
    row = Media(
        sha256=image.sha256,
        mime=image.mime,
        width=image.width,
        height=image.height,
        size=len(image.data),
        data=image.data,
        phash=image.phash,
    )
    session.add(row)
    session.flush()
    assert row.id is not None
    for band, value in enumerate(media.bands(image.phash)):
        session.add(MediaBand(media_id=row.id, band=band, value=value))
    session.flush()
    return row.id


def similar_media(session: Session, phash: int) -> list[int]:
    """Stored images that show the same picture, closest first (exact lookups on the bands
    of the hash, then the bit distance on the few candidates)."""
    wanted = [
        sa.and_(col(MediaBand.band) == band, col(MediaBand.value) == value)
        for band, value in enumerate(media.bands(phash))
    ]
    candidates = sa.select(col(MediaBand.media_id)).where(sa.or_(*wanted)).distinct()
    rows = session.execute(
        sa.select(col(Media.id), col(Media.phash)).where(col(Media.id).in_(candidates))
    ).all()
    near = sorted(
        (distance, media_id)
        for media_id, other in rows
        if (distance := media.hamming(phash, other)) <= media.SIMILAR_BITS
    )
    return [media_id for _distance, media_id in near]


def surviving_case(session: Session, case: HoaxCase) -> HoaxCase:
    """The case that a case closed as a duplicate was merged into, however many times."""
    seen: set[int] = set()
    while (
        case.status == CaseStatus.DUPLICATE
        and case.merged_into_id is not None
        and case.id not in seen
    ):
        seen.add(case.id or 0)
        target = session.get(HoaxCase, case.merged_into_id)
        if target is None:
            break
        case = target
    return case


def _matching_case(
    session: Session, *, campaign_id: int, canonical: str | None, media_ids: list[int]
) -> HoaxCase | None:
    """The open or closed case of this campaign that already holds the same link or picture."""
    candidates: list[int] = []
    if canonical is not None:
        by_url = session.execute(
            sa.select(col(HoaxReport.case_id))
            .where(
                col(HoaxReport.campaign_id) == campaign_id,
                col(HoaxReport.canonical_url) == canonical,
            )
            .order_by(col(HoaxReport.id))
        ).scalars()
        candidates.extend(by_url)
        by_case_url = session.execute(
            sa.select(col(HoaxCase.id))
            .where(
                col(HoaxCase.campaign_id) == campaign_id, col(HoaxCase.canonical_url) == canonical
            )
            .order_by(col(HoaxCase.id))
        ).scalars()
        candidates.extend(int(i) for i in by_case_url if i is not None)
    if media_ids:
        rank = {media_id: n for n, media_id in enumerate(media_ids)}
        pairs: list[tuple[int, int]] = []
        for query in (
            sa.select(col(HoaxReport.media_id), col(HoaxReport.case_id)).where(
                col(HoaxReport.campaign_id) == campaign_id, col(HoaxReport.media_id).in_(media_ids)
            ),
            sa.select(col(HoaxCase.media_id), col(HoaxCase.id)).where(
                col(HoaxCase.campaign_id) == campaign_id, col(HoaxCase.media_id).in_(media_ids)
            ),
        ):
            pairs.extend((int(m), int(c)) for m, c in session.execute(query).all())
        # The closest picture first; among cases with the same picture, the oldest.
        pairs.sort(key=lambda pair: (rank[pair[0]], pair[1]))
        candidates.extend(case_id for _media_id, case_id in pairs)

    for case_id in dict.fromkeys(candidates):
        case = session.get(HoaxCase, case_id)
        if case is None:
            continue
        case = surviving_case(session, case)
        if case.status != CaseStatus.DUPLICATE and case.campaign_id == campaign_id:
            return case
    return None


def _submit_in_transaction(
    session: Session, *, campaign_id: int, clean: _CleanReport, locale: str
) -> HoaxReport:
    now = utcnow()
    media_id = None
    similar: list[int] = []
    if clean.image is not None:
        similar = similar_media(session, clean.image.phash)
        media_id = _store_media(session, clean.image)
        if media_id not in similar:
            similar.insert(0, media_id)

    case = _matching_case(
        session, campaign_id=campaign_id, canonical=clean.canonical, media_ids=similar
    )
    if case is None:
        case = HoaxCase(
            campaign_id=campaign_id,
            status=CaseStatus.NEW,
            platform=clean.platform,
            category=clean.category,
            canonical_url=clean.canonical,
            media_id=media_id,
            report_count=1,
            created_at=now,
            updated_at=now,
        )
        session.add(case)
        session.flush()
    else:
        # In SQL, so that two reports joining at once both count.
        values: dict[str, Any] = {
            "report_count": col(HoaxCase.report_count) + 1,
            "updated_at": now,
        }
        if case.status in OPEN_STATUSES:
            # Still under review: a case first reported as a link learns its picture, and
            # the other way round. A decided case keeps what its moderators saw.
            if case.canonical_url is None and clean.canonical is not None:
                values["canonical_url"] = clean.canonical
            if case.media_id is None and media_id is not None:
                values["media_id"] = media_id
        session.execute(sa.update(HoaxCase).where(col(HoaxCase.id) == case.id).values(**values))
        session.refresh(case)

    code = new_tracking_code()
    while session.execute(
        sa.select(col(HoaxReport.id)).where(col(HoaxReport.tracking_code) == code)
    ).first():
        code = new_tracking_code()
    assert case.id is not None
    report = HoaxReport(
        campaign_id=campaign_id,
        case_id=case.id,
        tracking_code=code,
        url=clean.url,
        canonical_url=clean.canonical,
        platform=clean.platform,
        category=clean.category,
        description=clean.description,
        province=clean.province,
        media_id=media_id,
        contact_encrypted=clean.contact_encrypted,
        locale=locale,
        created_at=now,
    )
    session.add(report)
    session.flush()
    return report


# --- the reporter's status page -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReportStatus:
    """What the person who sent a report may see: their own report, and the case it is in."""

    report: HoaxReport
    case: HoaxCase  # the surviving case, when the report's case was merged into another
    campaign: Campaign
    others: int  # how many other people reported the same thing

    @property
    def published(self) -> bool:
        return self.case.status == CaseStatus.PUBLISHED


def get_status(session: Session, *, code: str) -> ReportStatus:
    code = code.strip().lower()
    if len(code) != CODE_LENGTH or not set(code) <= set(CODE_ALPHABET):
        raise NotFound(_("We could not find a report with this tracking code."))
    report = session.exec(select(HoaxReport).where(HoaxReport.tracking_code == code)).first()
    if report is None:
        raise NotFound(_("We could not find a report with this tracking code."))
    case = session.get(HoaxCase, report.case_id)
    campaign = session.get(Campaign, report.campaign_id)
    if case is None or campaign is None:
        raise NotFound(_("We could not find a report with this tracking code."))
    case = surviving_case(session, case)
    return ReportStatus(
        report=report, case=case, campaign=campaign, others=max(case.report_count - 1, 0)
    )


# --- who may see an uploaded image ----------------------------------------------------


def moderator_org_ids(session: Session, *, user: User | None) -> frozenset[int]:
    """The organisations in which this person may moderate."""
    if user is None or user.id is None or not user.is_active:
        return frozenset()
    return frozenset(
        membership.org.id or 0
        for membership in accounts.list_memberships(session, user_id=user.id)
        if allowed(
            principals(role=membership.role, is_site_admin=user.is_site_admin), Action.MODERATE
        )
    )


@dataclass(frozen=True, slots=True)
class VisibleMedia:
    media: Media
    public: bool  # part of a published verdict: anyone may see it, and caches may keep it


def get_media(session: Session, *, media_id: int, user: User | None) -> VisibleMedia:
    """An uploaded image, for those who may see it: anyone once a published case shows it;
    before that only moderators of an organisation partnering in the campaign of a case or
    report that holds it. Everyone else is told it does not exist."""
    missing = NotFound(_("We could not find that image."))
    public = session.execute(
        sa.select(col(HoaxCase.id))
        .join(Campaign, col(Campaign.id) == HoaxCase.campaign_id)
        .where(
            col(HoaxCase.media_id) == media_id,
            col(HoaxCase.status) == CaseStatus.PUBLISHED,
            col(Campaign.status).in_(list(PUBLIC_STATUSES)),
        )
        .limit(1)
    ).first()
    if public is None:
        org_ids = moderator_org_ids(session, user=user)
        if not org_ids:
            raise missing
        partnered = sa.select(col(CampaignPartner.campaign_id)).where(
            col(CampaignPartner.org_id).in_(org_ids)
        )
        in_report = sa.select(col(HoaxReport.id)).where(
            col(HoaxReport.media_id) == media_id, col(HoaxReport.campaign_id).in_(partnered)
        )
        in_case = sa.select(col(HoaxCase.id)).where(
            col(HoaxCase.media_id) == media_id, col(HoaxCase.campaign_id).in_(partnered)
        )
        if not session.execute(sa.select(sa.or_(in_report.exists(), in_case.exists()))).scalar():
            raise missing
    found = session.get(Media, media_id)
    if found is None:
        raise missing
    return VisibleMedia(media=found, public=public is not None)


# --- published verdicts ---------------------------------------------------------------


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


def _published() -> Any:
    return (
        select(HoaxCase, Campaign)
        .join(Campaign, col(Campaign.id) == HoaxCase.campaign_id)
        .where(
            col(HoaxCase.status) == CaseStatus.PUBLISHED,
            col(HoaxCase.published_at).is_not(None),
            col(Campaign.status).in_(list(PUBLIC_STATUSES)),
        )
    )


_NEWEST_FIRST = (col(HoaxCase.published_at).desc(), col(HoaxCase.id).desc())


@dataclass(frozen=True, slots=True)
class GalleryPage:
    items: list[PublishedHoax]
    page: int
    has_next: bool


def list_published(session: Session, *, page: int = 1) -> GalleryPage:
    """Published verdicts of public campaigns, newest first, a page at a time."""
    page = max(page, 1)
    rows = session.exec(
        _published()
        .order_by(*_NEWEST_FIRST)
        .offset((page - 1) * GALLERY_PAGE_SIZE)
        .limit(GALLERY_PAGE_SIZE + 1)
    ).all()
    items = [PublishedHoax(case=case, campaign=campaign) for case, campaign in rows]
    return GalleryPage(
        items=items[:GALLERY_PAGE_SIZE], page=page, has_next=len(items) > GALLERY_PAGE_SIZE
    )


def get_published(session: Session, *, case_id: int) -> PublishedHoax:
    row = session.exec(_published().where(col(HoaxCase.id) == case_id)).first()
    if row is None:
        raise NotFound(_("We could not find a published verdict with this number."))
    case, campaign = row
    return PublishedHoax(case=case, campaign=campaign)


def first_reported(session: Session, *, case_id: int) -> datetime | None:
    """When the thing was first reported (its own reports and those of cases merged in)."""
    merged = sa.select(col(HoaxCase.id)).where(col(HoaxCase.merged_into_id) == case_id)
    return session.execute(
        sa.select(sa.func.min(col(HoaxReport.created_at))).where(
            sa.or_(col(HoaxReport.case_id) == case_id, col(HoaxReport.case_id).in_(merged))
        )
    ).scalar()


# Private group invitations are the reporter's doorway, not the hoax: never published.
_PRIVATE_LINKS = re.compile(
    r"^https://(chat\.whatsapp\.com/|wa\.me/|t\.me/(\+|joinchat/)|telegram\.me/(\+|joinchat/))"
)


def public_appearance_url(case: HoaxCase) -> str | None:
    """Where the hoax appeared, as published: never a private group's invitation."""
    url = case.canonical_url
    if url is None or _PRIVATE_LINKS.match(url):
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


class _LabelledCache:
    """The labelled copies of the last few images asked for: stamping costs a decode and an
    encode, and a shared verdict is asked for many times in a row."""

    def __init__(self, size: int = 32) -> None:
        self.size = size
        self.items: OrderedDict[tuple[str, str], bytes] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: tuple[str, str]) -> bytes | None:
        with self.lock:
            found = self.items.get(key)
            if found is not None:
                self.items.move_to_end(key)
            return found

    def put(self, key: tuple[str, str], value: bytes) -> None:
        with self.lock:
            self.items[key] = value
            self.items.move_to_end(key)
            while len(self.items) > self.size:
                self.items.popitem(last=False)


_labelled = _LabelledCache()


def labelled_image(session: Session, *, case_id: int) -> bytes:
    """The picture of a published verdict, with its label stamped across it, as a JPEG."""
    hoax = get_published(session, case_id=case_id)
    case = hoax.case
    if case.media_id is None or case.label is None:
        raise NotFound(_("This verdict has no picture."))
    sha256 = session.execute(
        sa.select(col(Media.sha256)).where(col(Media.id) == case.media_id)
    ).scalar()
    if sha256 is None:
        raise NotFound(_("This verdict has no picture."))
    # Keyed by content and label: the same picture with the same label is the same JPEG.
    key = (sha256, str(case.label))
    found = _labelled.get(key)
    if found is None:
        stored = session.get(Media, case.media_id)
        if stored is None:
            raise NotFound(_("This verdict has no picture."))
        found = media.labelled(stored.data, str(case.label))
        _labelled.put(key, found)
    return found


# --- open data ------------------------------------------------------------------------


class HoaxItem(BaseModel):
    """One published verdict. Never holds anything of the people who reported it."""

    id: int
    title: str = Field(description="The claim, as the moderators titled it")
    label: str = Field(description="The verdict: SALAH, MENYESATKAN, DIMANIPULASI, ...")
    explanation: str = Field(description="Why, in plain text")
    fact_check_url: str | None = Field(description="A fact-check article about it, if any")
    platform: str
    category: str
    campaign: str = Field(description="The slug of the campaign it was reported to")
    reports: int = Field(description="How many people reported it")
    published_at: datetime
    url: str = Field(description="The verdict's page")
    image_url: str | None = Field(description="The picture with the label stamped on it")


class HoaxPage(BaseModel):
    items: list[HoaxItem]
    next: str | None = Field(description="Pass as ?cursor= for the next page; null at the end")


def _encode_cursor(hoax: PublishedHoax) -> str:
    raw = f"{hoax.published_at.astimezone(UTC).isoformat()}|{hoax.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, int]:
    bad = Invalid({"cursor": _("This cursor is not valid. Start again from the first page.")})
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, _sep, number = raw.partition("|")
        moment = datetime.fromisoformat(stamp)
        case_id = int(number)
        if moment.tzinfo is None or not 1 <= case_id <= ID_MAX:
            raise ValueError(cursor)
        # A time near the ends of the calendar has no UTC equivalent; the database's
        # columns could not compare with it either.
        moment = moment.astimezone(UTC)
    except (ValueError, OverflowError, binascii.Error, UnicodeDecodeError):
        raise bad from None
    return moment, case_id


def list_open_data(
    session: Session,
    *,
    base_url: str,
    limit: int = API_LIMIT_DEFAULT,
    cursor: str | None = None,
) -> HoaxPage:
    """Published verdicts as open data, newest first, by keyset pages."""
    if not 1 <= limit <= API_LIMIT_MAX:
        raise Invalid({"limit": _("The limit must be between 1 and 100.")})
    query = _published()
    if cursor:
        moment, case_id = _decode_cursor(cursor)
        published_at = col(HoaxCase.published_at)
        query = query.where(
            sa.or_(
                published_at < moment,
                sa.and_(published_at == moment, col(HoaxCase.id) < case_id),
            )
        )
    rows = session.exec(query.order_by(*_NEWEST_FIRST).limit(limit + 1)).all()
    hoaxes = [PublishedHoax(case=case, campaign=campaign) for case, campaign in rows]
    page, more = hoaxes[:limit], len(hoaxes) > limit
    items = [
        HoaxItem(
            id=hoax.id,
            title=hoax.case.public_title,
            label=str(hoax.case.label or ""),
            explanation=hoax.case.public_explanation,
            fact_check_url=hoax.case.fact_check_url,
            platform=str(hoax.case.platform),
            category=str(hoax.case.category),
            campaign=hoax.campaign.slug,
            reports=hoax.case.report_count,
            published_at=hoax.published_at,
            url=f"{base_url}/hoaxes/{hoax.id}",
            image_url=f"{base_url}/hoaxes/{hoax.id}/image.jpg" if hoax.has_image else None,
        )
        for hoax in page
    ]
    return HoaxPage(items=items, next=_encode_cursor(page[-1]) if more and page else None)
