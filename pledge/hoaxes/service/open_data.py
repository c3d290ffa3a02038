"""Published verdicts as open data: the JSON items of the API, a page at a time by a cursor."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime

import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlmodel import Session, col

from pledge.db import ID_MAX
from pledge.errors import Invalid
from pledge.hoaxes.models import HoaxCase
from pledge.hoaxes.service.published import NEWEST_FIRST, PublishedHoax, published_query
from pledge.i18n import gettext as _

API_LIMIT_DEFAULT = 20
API_LIMIT_MAX = 100


class HoaxItem(BaseModel):
    """One published verdict. Never holds anything of the people who reported it."""

    id: int
    title: str = Field(description="The claim, as it circulates (what the label says is false)")
    correction: str = Field(description="What is true instead, in one sentence; may be empty")
    label: str = Field(description="The verdict: SALAH, MENYESATKAN, DIMANIPULASI, ...")
    explanation: str = Field(description="Why, in plain text")
    fact_check_url: str | None = Field(description="A fact-check article about it, if any")
    platform: str
    category: str
    campaign: str = Field(description="The slug of the campaign it was reported to")
    reports: int = Field(description="How many people reported it")
    published_at: datetime
    corrected_at: datetime | None = Field(
        description="When the verdict was last corrected; null if never"
    )
    url: str = Field(description="The verdict's page")
    card_url: str = Field(description="A 1200 x 630 picture of the verdict, for link previews")
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
    query = published_query()
    if cursor:
        moment, case_id = _decode_cursor(cursor)
        published_at = col(HoaxCase.published_at)
        query = query.where(
            sa.or_(
                published_at < moment,
                sa.and_(published_at == moment, col(HoaxCase.id) < case_id),
            )
        )
    rows = session.exec(query.order_by(*NEWEST_FIRST).limit(limit + 1)).all()
    hoaxes = [PublishedHoax(case=case, campaign=campaign) for case, campaign in rows]
    page, more = hoaxes[:limit], len(hoaxes) > limit
    items = [
        HoaxItem(
            id=hoax.id,
            title=hoax.case.public_title,
            correction=hoax.case.correction,
            label=str(hoax.case.label or ""),
            explanation=hoax.case.public_explanation,
            fact_check_url=hoax.case.fact_check_url,
            platform=str(hoax.case.platform),
            category=str(hoax.case.category),
            campaign=hoax.campaign.slug,
            reports=hoax.case.report_count,
            published_at=hoax.published_at,
            corrected_at=hoax.case.corrected_at,
            url=f"{base_url}/hoaxes/{hoax.id}",
            card_url=f"{base_url}/hoaxes/{hoax.id}/card.jpg",
            image_url=f"{base_url}/hoaxes/{hoax.id}/image.jpg" if hoax.has_image else None,
        )
        for hoax in page
    ]
    return HoaxPage(items=items, next=_encode_cursor(page[-1]) if more and page else None)
