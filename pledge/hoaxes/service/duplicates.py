"""Reports of the same thing in one case: stored pictures found again by their hash, and the
case that already holds the same link or picture."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

import sqlalchemy as sa
from sqlmodel import Session

from pledge.hoaxes import fingerprint, media
from pledge.hoaxes.models import (
    HoaxCase,
    Media,
    MediaBand,
    MediaPrintBand,
    hoax_case_table,
    hoax_report_table,
    media_band_table,
    media_table,
)
from pledge.hoaxes.states import CaseStatus


def store_media(session: Session, image: media.ProcessedImage) -> int:
    """The stored image with these bytes, stored now if it was not yet."""
    found = session.execute(
        sa.select(media_table.c.id).where(media_table.c.sha256 == image.sha256)
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
        fingerprint=image.fingerprint,
        ocr_text=image.text,
    )
    session.add(row)
    session.flush()
    assert row.id is not None
    for band, value in enumerate(media.bands(image.phash)):
        session.add(MediaBand(media_id=row.id, band=band, value=value))
    if image.fingerprint:
        for band, value in dict.fromkeys(
            fingerprint.Fingerprint.from_bytes(image.fingerprint).bands()
        ):
            session.add(MediaPrintBand(media_id=row.id, band=band, value=value))
    session.flush()
    return row.id


def similar_media(session: Session, phash: int) -> list[int]:
    """Stored images that show the same picture, closest first (exact lookups on the bands
    of the hash, then the bit distance on the few candidates)."""
    band_t = media_band_table
    wanted = [
        sa.and_(band_t.c.band == band, band_t.c.value == value)
        for band, value in enumerate(media.bands(phash))
    ]
    candidates = sa.select(band_t.c.media_id).where(sa.or_(*wanted)).distinct()
    rows = session.execute(
        sa.select(media_table.c.id, media_table.c.phash).where(media_table.c.id.in_(candidates))
    ).all()
    near = sorted(
        (distance, media_id)
        for media_id, other in rows
        if (distance := media.hamming(phash, other)) <= media.SIMILAR_BITS
    )
    return [media_id for _distance, media_id in near]


# --- following merges ------------------------------------------------------------------


class _Mergeable(Protocol):
    @property
    def id(self) -> int | None: ...

    @property
    def status(self) -> CaseStatus: ...

    @property
    def merged_into_id(self) -> int | None: ...


C = TypeVar("C", bound=_Mergeable)


def follow_merges(case: C, load: Callable[[int], C | None]) -> C:
    """The case that a case closed as a duplicate was merged into, however many times."""
    seen: set[int] = set()
    while (
        case.status == CaseStatus.DUPLICATE
        and case.merged_into_id is not None
        and case.id not in seen
    ):
        seen.add(case.id or 0)
        target = load(case.merged_into_id)
        if target is None:
            break
        case = target
    return case


def surviving_case(session: Session, case: HoaxCase) -> HoaxCase:
    """The case that a case closed as a duplicate was merged into, however many times."""
    return follow_merges(case, lambda case_id: session.get(HoaxCase, case_id))


@dataclass(frozen=True, slots=True)
class CaseRef:
    """A case as a new report reads it. Read in SQL, as its count is then updated in SQL:
    no loaded object is left behind with the count it had before."""

    id: int
    campaign_id: int
    status: CaseStatus
    merged_into_id: int | None
    canonical_url: str | None
    media_id: int | None


def case_ref(session: Session, case_id: int) -> CaseRef | None:
    """The case with this id, as a new report reads it."""
    case_t = hoax_case_table
    row = session.execute(
        sa.select(
            case_t.c.id,
            case_t.c.campaign_id,
            case_t.c.status,
            case_t.c.merged_into_id,
            case_t.c.canonical_url,
            case_t.c.media_id,
        ).where(case_t.c.id == case_id)
    ).first()
    return CaseRef(*row) if row is not None else None


def _candidate_ids(
    session: Session, *, campaign_id: int, canonical: str | None, media_ids: list[int]
) -> list[int]:
    """Cases of this campaign whose reports or which themselves hold the link or one of the
    pictures: by link first, then by the closest picture, the oldest case first."""
    report_t, case_t = hoax_report_table, hoax_case_table
    candidates: list[int] = []
    if canonical is not None:
        by_url = session.execute(
            sa.select(report_t.c.case_id)
            .where(report_t.c.campaign_id == campaign_id, report_t.c.canonical_url == canonical)
            .order_by(report_t.c.id)
        ).scalars()
        candidates.extend(by_url)
        by_case_url = session.execute(
            sa.select(case_t.c.id)
            .where(case_t.c.campaign_id == campaign_id, case_t.c.canonical_url == canonical)
            .order_by(case_t.c.id)
        ).scalars()
        candidates.extend(int(i) for i in by_case_url if i is not None)
    if media_ids:
        rank = {media_id: n for n, media_id in enumerate(media_ids)}
        pairs: list[tuple[int, int]] = []
        for query in (
            sa.select(report_t.c.media_id, report_t.c.case_id).where(
                report_t.c.campaign_id == campaign_id, report_t.c.media_id.in_(media_ids)
            ),
            sa.select(case_t.c.media_id, case_t.c.id).where(
                case_t.c.campaign_id == campaign_id, case_t.c.media_id.in_(media_ids)
            ),
        ):
            pairs.extend((int(m), int(c)) for m, c in session.execute(query).all())
        # The closest picture first; among cases with the same picture, the oldest.
        pairs.sort(key=lambda pair: (rank[pair[0]], pair[1]))
        candidates.extend(case_id for _media_id, case_id in pairs)
    return list(dict.fromkeys(candidates))


def matching_case(
    session: Session, *, campaign_id: int, canonical: str | None, media_ids: list[int]
) -> CaseRef | None:
    """The open or closed case of this campaign that already holds the same link or picture."""
    for case_id in _candidate_ids(
        session, campaign_id=campaign_id, canonical=canonical, media_ids=media_ids
    ):
        case = case_ref(session, case_id)
        if case is None:
            continue
        case = follow_merges(case, lambda merged_id: case_ref(session, merged_id))
        if case.status != CaseStatus.DUPLICATE and case.campaign_id == campaign_id:
            return case
    return None
