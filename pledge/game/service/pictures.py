"""The game's pictures as JPEGs, each drawn once per content and language and kept: a question,
its answer, and the share card of a score."""

from __future__ import annotations

from sqlmodel import Session

from pledge import i18n
from pledge.cache import Cache
from pledge.errors import NotFound
from pledge.game import card
from pledge.game.service.items import PICTURE_BOX, Item
from pledge.hoaxes import media, stamp
from pledge.hoaxes import service as hoaxes
from pledge.i18n import gettext as _

# About 60 KB a question, 90 KB an answer, 70 KB a card.
_drawn: Cache[tuple[object, ...], bytes] = Cache("game.pictures", size=160)


def question_key(item: Item, site_name: str) -> tuple[object, ...]:
    return ("question", item.media_id, site_name)


def answer_key(item: Item, address: str, site_name: str) -> tuple[object, ...]:
    # Everything an answer's picture says: a corrected verdict's is drawn again.
    words = (str(item.label), item.label.label, item.title, item.correction, _("ORIGINAL"))
    return ("answer", item.kind.value, item.media_id, address, site_name, *words)


def kept(key: tuple[object, ...]) -> bytes | None:
    """A picture already drawn, by its key."""
    return _drawn.get(key)


def _picture(session: Session, media_id: int) -> media.Image.Image:
    stored = hoaxes.get_stored(session, media_id=media_id)
    if stored is None:
        raise NotFound(_("We could not find that image."))
    return card.fitted(media.open_stored(stored.data), PICTURE_BOX)


def question_picture(session: Session, *, item: Item, site_name: str) -> bytes:
    """The picture as the question shows it."""
    key = question_key(item, site_name)
    found = _drawn.get(key)
    if found is None:
        drawn = card.question(_picture(session, item.media_id), site_name=site_name)
        found = _drawn.put(key, card.jpeg(drawn))
    return found


def answer_picture(session: Session, *, item: Item, address: str, site_name: str) -> bytes:
    """The picture as its answer shows it, in the reader's language: a fake voided by its
    verdict, an original marked as the original. `address` is the verdict's short link."""
    key = answer_key(item, address, site_name)
    found = _drawn.get(key)
    if found is None:
        picture = _picture(session, item.media_id)
        if item.fake:
            drawn = card.fake_answer(picture, stamp_text(item, address, site_name))
        else:
            drawn = card.real_answer(picture, label=_("ORIGINAL"), address=address)
        found = _drawn.put(key, card.jpeg(drawn))
    return found


def stamp_text(item: Item, address: str, site_name: str) -> stamp.StampText:
    """What a fake's answer picture says: as the verdict's own picture says it."""
    meaning = item.label.label
    correction = item.correction.strip()
    return stamp.StampText(
        label=str(item.label),
        meaning="" if meaning.casefold() == str(item.label).casefold() else meaning,
        claim=item.title.strip(),
        fact=_("Fact: %(correction)s") % {"correction": correction} if correction else "",
        address=address,
        site_name=site_name,
    )


def card_text(*, score: int, total: int, campaign: str, address: str) -> card.CardText:
    return card.CardText(
        score=score,
        total=total,
        said=_("I spotted %(score)s of %(total)s pictures right.")
        % {"score": score, "total": total},
        campaign=campaign,
        address=address,
        invitation=_("Play too, and join the campaign:"),
    )


def share_card(*, score: int, total: int, campaign: str, address: str) -> bytes:
    """A score's share card in the reader's language."""
    text = card_text(score=score, total=total, campaign=campaign, address=address)
    key = ("card", i18n.get_locale(), text)
    found = _drawn.get(key)
    if found is None:
        found = _drawn.put(key, card.jpeg(card.share_card(text)))
    return found
