"""The pictures of a published verdict (its stamped picture, share card and story image) and
the text it is shared with, drawn once for each content and language and kept."""

from __future__ import annotations

from enum import StrEnum

import sqlalchemy as sa
from PIL import Image
from sqlmodel import Session

from pledge.cache import Cache
from pledge.errors import NotFound
from pledge.hoaxes import media, stamp
from pledge.hoaxes.models import HoaxCase, Media, media_table
from pledge.hoaxes.service.published import get_published
from pledge.i18n import gettext as _


class VerdictPicture(StrEnum):
    """The pictures a verdict is drawn as."""

    IMAGE = "image"  # the reported picture at its own size, stamped across all of it
    CARD = "card"  # 1200 × 630, for link previews (og:image)
    STORY = "story"  # 1080 × 1920, to post as a phone story


CARD_SIZE = stamp.CARD_SIZE
STORY_SIZE = stamp.STORY_SIZE

# Drawing costs a decode, a few full-size passes and an encode (50-100 ms), and a shared
# verdict is asked for many times in a row. Keyed by everything drawn: the picture's content,
# the label, the texts in the reader's language and the address, so that a corrected verdict
# (or one read in another language) is drawn anew. About 300 KB a story.
_drawn: Cache[tuple[str, ...], bytes] = Cache("hoaxes.verdict_images", size=48)


def meaning(case: HoaxCase) -> str:
    """The label's meaning in the reader's language, "" when it only repeats the label
    (Indonesian: SALAH means "Salah")."""
    if case.label is None:
        return ""
    said = case.label.label
    return "" if said.casefold() == str(case.label).casefold() else said


def fact(case: HoaxCase) -> str:
    """The short correction as shown beside the claim, "" when there is none."""
    correction = case.correction.strip()
    return _("Fact: %(correction)s") % {"correction": correction} if correction else ""


def share_text(case: HoaxCase) -> str:
    """What a share button writes before the link: the verdict first, then the claim, quoted
    as what was said, and the correction ('SALAH (False): "<claim>". Fact: <correction>').
    """
    label = str(case.label) if case.label else ""
    said = meaning(case)
    head = f"{label} ({said})" if said else label
    claim = case.public_title.strip().rstrip(".")
    quoted = f"\u201c{claim}\u201d." if claim else ""
    return " ".join(part for part in (f"{head}: {quoted}", fact(case)) if part)


def stamp_text(case: HoaxCase, *, address: str, site_name: str) -> stamp.StampText:
    return stamp.StampText(
        label=str(case.label) if case.label else "",
        meaning=meaning(case),
        claim=case.public_title.strip(),
        fact=fact(case),
        address=address,
        site_name=site_name,
    )


def verdict_picture(
    session: Session, *, case_id: int, kind: VerdictPicture, address: str, site_name: str
) -> bytes:
    """A published verdict's picture as a JPEG. The card and the story exist for every
    verdict (with words alone when it has no picture); the stamped image only for one with
    a picture. `address` is the verdict's short link without its scheme."""
    case = get_published(session, case_id=case_id).case
    if case.label is None:
        raise NotFound(_("This verdict has no picture."))
    sha256 = _picture_sha256(session, case)
    if sha256 is None and kind == VerdictPicture.IMAGE:
        raise NotFound(_("This verdict has no picture."))
    text = stamp_text(case, address=address, site_name=site_name)
    key = (kind.value, sha256 or "", *(str(part) for part in _fields(text)))
    found = _drawn.get(key)
    if found is None:
        picture = _picture(session, case) if sha256 is not None else None
        found = _drawn.put(key, stamp.jpeg(_draw(kind, picture, text)))
    return found


def labelled_image(
    session: Session, *, case_id: int, address: str = "", site_name: str = ""
) -> bytes:
    """The picture of a published verdict, stamped across all of it, as a JPEG."""
    return verdict_picture(
        session, case_id=case_id, kind=VerdictPicture.IMAGE, address=address, site_name=site_name
    )


def picture_size(session: Session, *, case: HoaxCase) -> tuple[int, int] | None:
    """The width and height of the case's stamped picture (its stored picture's), for the
    page to hold its place before it loads."""
    if case.media_id is None:
        return None
    row = session.execute(
        sa.select(media_table.c.width, media_table.c.height).where(
            media_table.c.id == case.media_id
        )
    ).first()
    return (row.width, row.height) if row is not None else None


def _fields(text: stamp.StampText) -> tuple[str, ...]:
    return (text.label, text.meaning, text.claim, text.fact, text.address, text.site_name)


def _picture_sha256(session: Session, case: HoaxCase) -> str | None:
    """The content hash of the case's picture, read without its bytes (the cache's key)."""
    if case.media_id is None:
        return None
    return session.execute(
        sa.select(media_table.c.sha256).where(media_table.c.id == case.media_id)
    ).scalar()


def _picture(session: Session, case: HoaxCase) -> Image.Image | None:
    stored = session.get(Media, case.media_id) if case.media_id is not None else None
    return media.open_stored(stored.data) if stored is not None else None


def _draw(kind: VerdictPicture, picture: Image.Image | None, text: stamp.StampText) -> Image.Image:
    if kind == VerdictPicture.CARD:
        return stamp.card(picture, text)
    if kind == VerdictPicture.STORY:
        return stamp.story(picture, text)
    if picture is None:
        raise NotFound(_("This verdict has no picture."))
    return stamp.stamped(picture, text)
