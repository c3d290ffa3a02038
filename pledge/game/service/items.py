"""The game's pictures: each published verdict its moderators chose gives a fake to spot (its
picture) and, when the original attached to its case lines up with it, a real one (the
original); each with the clue its answer shows. Read once per change of the verdicts or of the
choices, and kept per process."""

from __future__ import annotations

import base64
import hmac
from collections.abc import Hashable
from dataclasses import dataclass
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from pledge.cache import Cache
from pledge.config import get_settings
from pledge.errors import NotFound
from pledge.game.models import GameItem, game_item_table
from pledge.hoaxes import service as hoaxes
from pledge.hoaxes.models import CaseOriginal, Verdict
from pledge.hoaxes.provenance import Certainty
from pledge.i18n import gettext as _
from pledge.i18n import ngettext
from pledge.security import derive_key

# A picture in the game is drawn at most this wide and this tall (a phone's screen is about
# 360 points wide, 720 pixels on most): small enough for slow 3G, sharp enough to judge.
PICTURE_BOX = (720, 960)
# Digital source types that say a picture was made or put together by a machine.
TELLING_SOURCES = frozenset(
    {
        "trainedAlgorithmicMedia",
        "compositeWithTrainedAlgorithmicMedia",
        "algorithmicMedia",
        "compositeSynthetic",
        "composite",
    }
)
ALIGNED = "aligned"
_GENERATOR_MAX = 80


class Kind(StrEnum):
    FAKE = "fake"
    REAL = "real"


class ClueKind(StrEnum):
    CREDENTIALS = "credentials"  # valid Content Credentials said it was made by a machine
    ALTERED = "altered"  # Content Credentials whose picture was changed after signing
    METADATA = "metadata"  # unsigned metadata said so, or named an image generator
    CHANGED = "changed"  # the original lines up with it: so many parts were changed
    CORRECTION = "correction"  # the verdict's correction
    ORIGINAL = "original"  # a real picture: the original of a fake


@dataclass(frozen=True, slots=True)
class Clue:
    """Why the answer is what it is, in the reader's language when read."""

    kind: ClueKind
    source: str = ""  # an IPTC digital source type term
    generator: str = ""
    regions: int = 0
    correction: str = ""

    @property
    def text(self) -> str:
        if self.kind == ClueKind.CREDENTIALS:
            return _credentials_words(self)
        if self.kind == ClueKind.ALTERED:
            return _(
                "The file carried Content Credentials, but its picture was changed after they "
                "were signed."
            )
        if self.kind == ClueKind.METADATA:
            if self.source:
                return _("The file's metadata said it was %(source)s.") % {
                    "source": hoaxes.source_type_label(self.source)
                }
            return _("The file's metadata named an image generator: %(generator)s.") % {
                "generator": self.generator
            }
        if self.kind == ClueKind.CHANGED:
            return ngettext(
                "Compared with the original photo, %(num)s part of it was changed.",
                "Compared with the original photo, %(num)s parts of it were changed.",
                self.regions,
            ) % {"num": self.regions}
        if self.kind == ClueKind.ORIGINAL:
            return _original_words(self.regions)
        if self.correction:
            return _("Fact: %(correction)s") % {"correction": self.correction}
        return _("The verdict explains why.")


def _credentials_words(clue: Clue) -> str:
    if not clue.source:
        return _("Content Credentials in the file named the tool that made it: %(generator)s.") % {
            "generator": clue.generator
        }
    said = _("Content Credentials in the file said it was %(source)s.") % {
        "source": hoaxes.source_type_label(clue.source)
    }
    if not clue.generator:
        return said
    named = _("The file named the tool: %(generator)s.") % {"generator": clue.generator}
    return f"{said} {named}"


def _original_words(regions: int) -> str:
    if not regions:
        return _("This is the original photo the fake was made from.")
    return ngettext(
        "This is the original photo; the fake changed %(num)s part of it.",
        "This is the original photo; the fake changed %(num)s parts of it.",
        regions,
    ) % {"num": regions}


@dataclass(frozen=True, slots=True)
class Item:
    """One picture of the game, with what its question and answer pages show."""

    key: str  # opaque: its address and the game's token do not tell real from fake
    campaign_id: int
    case_id: int
    kind: Kind
    media_id: int
    size: tuple[int, int]  # as the game draws it
    label: Verdict
    title: str  # the claim, as the verdict quotes it
    correction: str
    clue: Clue

    @property
    def fake(self) -> bool:
        return self.kind == Kind.FAKE


def item_key(campaign_id: int, case_id: int, kind: Kind) -> str:
    """A picture's key: the same on every process, and telling nothing without the secret."""
    key = derive_key(get_settings().secret_key, "game-item")
    digest = hmac.digest(key, f"{campaign_id}:{case_id}:{kind.value}".encode(), "sha256")
    return base64.urlsafe_b64encode(digest[:9]).decode()


def drawn_size(width: int, height: int) -> tuple[int, int]:
    """A picture's size once fitted into PICTURE_BOX (never grown)."""
    scale = min(1.0, PICTURE_BOX[0] / max(1, width), PICTURE_BOX[1] / max(1, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


# --- reading them ---------------------------------------------------------------------------


def chosen_case_ids(session: Session, *, campaign_id: int) -> list[int]:
    """The cases of a campaign its moderators put in the game."""
    rows = session.exec(
        select(GameItem.case_id)
        .where(GameItem.campaign_id == campaign_id, col(GameItem.in_game).is_(True))
        .order_by(col(GameItem.case_id))
    )
    return list(rows)


def list_items(session: Session, *, campaign_id: int) -> list[Item]:
    """The game's pictures of a campaign: of each chosen verdict still published with its
    picture, the fake, then its original when the two line up."""
    found: list[Item] = []
    for case_id in chosen_case_ids(session, campaign_id=campaign_id):
        found.extend(case_items(session, campaign_id=campaign_id, case_id=case_id))
    return found


def case_items(session: Session, *, campaign_id: int, case_id: int) -> list[Item]:
    """The pictures one verdict gives the game (none when it is no longer published with a
    picture)."""
    try:
        hoax = hoaxes.get_published(session, case_id=case_id)
    except NotFound:
        return []
    case = hoax.case
    size = hoaxes.picture_size(session, case=case)
    if not hoax.has_image or size is None or case.media_id is None or case.label is None:
        return []
    original = hoaxes.get_original(session, case_id=case_id)
    lined_up = original is not None and original.outcome == ALIGNED
    regions = len(hoaxes.stored_regions(original)) if lined_up and original else 0

    def item(kind: Kind, media_id: int, size: tuple[int, int], clue: Clue) -> Item:
        assert case.label is not None
        return Item(
            key=item_key(campaign_id, case_id, kind), campaign_id=campaign_id, case_id=case_id,
            kind=kind, media_id=media_id, size=drawn_size(*size), label=case.label,
            title=case.public_title, correction=case.correction, clue=clue,
        )  # fmt: skip

    findings = hoaxes.case_findings(session, case_id=case_id)
    clue = fake_clue(findings, regions=regions, correction=case.correction)
    items = [item(Kind.FAKE, case.media_id, size, clue)]
    real = _original_size(session, original) if lined_up else None
    if real is not None and original is not None and original.media_id is not None:
        items.append(
            item(Kind.REAL, original.media_id, real, Clue(ClueKind.ORIGINAL, regions=regions))
        )
    return items


def _original_size(session: Session, original: CaseOriginal | None) -> tuple[int, int] | None:
    stored = hoaxes.get_stored(session, media_id=original.media_id if original else None)
    return (stored.width, stored.height) if stored is not None else None


def fake_clue(findings: list[hoaxes.Finding], *, regions: int, correction: str) -> Clue:
    """The strongest reason a fake is one: what its file said of where it came from, else what
    differs from its original, else the verdict's correction."""
    for found in findings:
        clue = _provenance_clue(found)
        if clue is not None:
            return clue
    if regions:
        return Clue(ClueKind.CHANGED, regions=regions)
    return Clue(ClueKind.CORRECTION, correction=correction.strip())


def _provenance_clue(found: hoaxes.Finding) -> Clue | None:
    """What one finding tells of a fake, when it tells something."""
    said = found.provenance
    certainty = said.certainty
    if certainty == Certainty.SIGNED_VALID and said.credentials is not None:
        source = said.ai_source if said.ai_source in TELLING_SOURCES else ""
        if not source:
            return None
        generator = said.credentials.generator[:_GENERATOR_MAX]
        return Clue(ClueKind.CREDENTIALS, source=source, generator=generator)
    if certainty == Certainty.SIGNED_INVALID:
        return Clue(ClueKind.ALTERED)
    if certainty == Certainty.UNSIGNED:
        if said.source_type in TELLING_SOURCES:
            return Clue(ClueKind.METADATA, source=said.source_type)
        if said.generator:
            return Clue(ClueKind.METADATA, generator=said.generator[:_GENERATOR_MAX])
    return None


# --- kept per process -----------------------------------------------------------------------


def version(engine: Engine) -> Hashable:
    """What changes when any campaign's game may show other pictures or other words: the
    choices of the moderators, and the published verdicts (hoaxes.verdicts_version). A few
    index reads, made at most once a second."""
    t = game_item_table
    with engine.connect() as conn:
        chosen = conn.execute(
            sa.select(sa.func.count(), sa.func.max(t.c.updated_at)).where(t.c.in_game.is_(True))
        ).one()
        changed = conn.execute(sa.select(sa.func.max(t.c.updated_at))).scalar()
    return (*chosen, changed, *hoaxes.verdicts_version(engine))


# The pictures of each campaign's game, with the version they were read at.
_items: Cache[int, tuple[Hashable, list[Item]]] = Cache("game.items", size=256)


def cached_items(campaign_id: int, at: Hashable) -> list[Item] | None:
    """The campaign's pictures as read at this version, when this process has them."""
    found = _items.get(campaign_id)
    return found[1] if found is not None and found[0] == at else None


def read_items(engine: Engine, campaign_id: int, at: Hashable) -> list[Item]:
    """The campaign's pictures, read now and kept as of this version."""
    with Session(engine, expire_on_commit=False) as session:
        found = list_items(session, campaign_id=campaign_id)
    _items.put(campaign_id, (at, found))
    return found
