"""The original beside the fake on a published verdict: the pair a moderator chose to show,
drawn once for each content and language and kept, with the stamping every verdict picture
has (stamp_pair)."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any

from PIL import Image
from sqlmodel import Session, select

from pledge.cache import Cache
from pledge.errors import NotFound
from pledge.hoaxes import media, stamp, stamp_pair
from pledge.hoaxes.models import CaseOriginal, HoaxCase, Media, Verdict
from pledge.hoaxes.service.published import get_published
from pledge.hoaxes.service.verdict_images import stamp_text
from pledge.i18n import gettext as _

# The labels whose verdict may show the original beside the picture.
PAIR_LABELS = frozenset({Verdict.DIMANIPULASI, Verdict.BUATAN_AI})

_drawn: Cache[tuple[str, ...], bytes] = Cache("hoaxes.original_pairs", size=24)
# The longest side of each picture of a pair: side by side, each takes half a page's width.
PAIR_SIDE = 720


class PairPicture(StrEnum):
    ORIGINAL = "original"  # the original, aligned to the reported picture, marked as such
    CHANGED = "changed"  # the reported picture, voided, with what was changed outlined


def stored_regions(original: CaseOriginal) -> list[stamp_pair.Region]:
    """The changed regions as stored: (x, y, width, height, share) in the case's picture."""
    try:
        found = json.loads(original.regions)
    except ValueError:
        return []
    if not isinstance(found, list):
        return []
    return [
        (int(x), int(y), int(width), int(height), float(share))
        for x, y, width, height, share in (
            region for region in found if isinstance(region, list) and len(region) == 5
        )
    ]


def get_original(session: Session, *, case_id: int) -> CaseOriginal | None:
    """The original attached to the case, if any."""
    return session.exec(select(CaseOriginal).where(CaseOriginal.case_id == case_id)).first()


def get_stored(session: Session, *, media_id: int | None) -> Media | None:
    """A stored picture by its id."""
    return session.get(Media, media_id) if media_id is not None else None


def save_original(session: Session, *, case_id: int, **values: Any) -> CaseOriginal:
    """Attach the original to the case, or replace the one attached, with these values (the
    columns of CaseOriginal). Runs inside the caller's write transaction."""
    row = get_original(session, case_id=case_id) or CaseOriginal(case_id=case_id, outcome="")
    for name, value in values.items():
        setattr(row, name, value)
    session.add(row)
    session.flush()
    return row


def delete_original(session: Session, *, case_id: int) -> CaseOriginal | None:
    """Take the original off the case; the row as it was, or None when there was none."""
    row = get_original(session, case_id=case_id)
    if row is not None:
        session.delete(row)
        session.flush()
    return row


def show_original(session: Session, *, case_id: int, shown: bool) -> None:
    """Whether the case's verdict shows its original (when it has one)."""
    row = get_original(session, case_id=case_id)
    if row is not None and row.show_public != shown:
        row.show_public = shown
        session.add(row)


def shown_original(session: Session, *, case: HoaxCase) -> CaseOriginal | None:
    """The original a published verdict shows beside its picture, if it shows one."""
    if case.label not in PAIR_LABELS or case.media_id is None:
        return None
    return session.exec(
        select(CaseOriginal).where(
            CaseOriginal.case_id == case.id,
            CaseOriginal.show_public.is_(True),  # type: ignore[attr-defined]
        )
    ).first()


def pair_picture(
    session: Session, *, case_id: int, kind: PairPicture, address: str, site_name: str
) -> bytes:
    """One picture of a published verdict's pair, as a JPEG; NotFound when it shows none."""
    case = get_published(session, case_id=case_id).case
    original = shown_original(session, case=case)
    if original is None:
        raise NotFound(_("This verdict shows no original."))
    text = stamp_text(case, address=address, site_name=site_name)
    key = (
        kind.value,
        str(original.id),
        original.created_at.isoformat(),
        str(case.media_id),
        text.label,
        text.fact,
        text.address,
        _("ORIGINAL"),
    )
    found = _drawn.get(key)
    if found is None:
        found = _drawn.put(key, stamp.jpeg(_draw(session, case, original, kind, text)))
    return found


def _draw(
    session: Session,
    case: HoaxCase,
    original: CaseOriginal,
    kind: PairPicture,
    text: stamp.StampText,
) -> Image.Image:
    if kind == PairPicture.ORIGINAL:
        data = original.aligned or _stored(session, original.media_id)
        picture, _scale = _small(media.open_stored(data))
        return stamp_pair.original(picture, label=_("ORIGINAL"), address=text.address)
    picture, scale = _small(media.open_stored(_stored(session, case.media_id)))
    regions = [
        (round(x * scale), round(y * scale), round(w * scale), round(h * scale), share)
        for x, y, w, h, share in stored_regions(original)
    ]
    return stamp_pair.changed(picture, regions, text)


def _small(picture: Image.Image) -> tuple[Image.Image, float]:
    """The picture at most PAIR_SIDE on its longest side (two of them share a phone's width),
    and the scale it was shrunk by."""
    scale = min(1.0, PAIR_SIDE / max(picture.size))
    if scale < 1.0:
        size = (max(1, round(picture.width * scale)), max(1, round(picture.height * scale)))
        picture = picture.resize(size, Image.Resampling.LANCZOS)
    return picture, scale


def _stored(session: Session, media_id: int | None) -> bytes:
    stored = get_stored(session, media_id=media_id)
    if stored is None:
        raise NotFound(_("This verdict shows no original."))
    return stored.data
