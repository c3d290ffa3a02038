"""Supporters' first names on the public pages, and their review.

A campaign page lists its newest supporters who chose to be shown, by first name. A first name
that matches the short list in ``held_names.txt`` (insults, the election's institutions and
candidates; more with PLEDGE_HELD_NAMES) is held back until a moderator of the campaign's
leading organisation shows it; any name can be hidden by them. The signature itself is never
touched: it counts as before.

The list is applied when the names are read, not when they are stored: a word added to the list
holds names already signed, and nothing on the signing path waits for it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import cache
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session

from pledge import audit
from pledge.audit import AuditAction
from pledge.campaigns import service as campaigns
from pledge.campaigns.models import Campaign
from pledge.config import get_settings
from pledge.errors import NotFound
from pledge.i18n import gettext as _
from pledge.provinces import PROVINCES
from pledge.supporters.models import SupporterState, supporter_table
from pledge.supporters.service.form import first_name

HELD_NAMES_FILE = Path(__file__).resolve().parents[1] / "held_names.txt"
# A listed word of this many letters or fewer holds only a name that is exactly that word.
_WHOLE_WORD_AT_MOST = 4
_LOOK_ALIKES = str.maketrans("013457@$", "oieastas")
_NOT_A_LETTER = re.compile(r"[^a-z]")
_REPEATS = re.compile(r"(.)\1+")


class NameReview(StrEnum):
    """A moderator's decision on a supporter's public name."""

    HIDDEN = "hidden"
    SHOWN = "shown"


class NameStatus(StrEnum):
    """What the public list does with a name."""

    SHOWN = "shown"  # no word of the list, or shown by a moderator
    HELD = "held"  # a word of the list: hidden until a moderator shows it
    HIDDEN = "hidden"  # hidden by a moderator


def folded(name: str) -> str:
    """A name as the list compares it: lower case, no accents or look-alike digits, letters
    only, no letter repeated in a row."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    letters = _NOT_A_LETTER.sub("", plain.translate(_LOOK_ALIKES))
    return _REPEATS.sub(r"\1", letters)


@cache
def _held_words(extra: str) -> tuple[frozenset[str], tuple[str, ...]]:
    """The list's words that hold a name equal to them, and those that hold a name containing
    them."""
    lines = HELD_NAMES_FILE.read_text(encoding="utf-8").splitlines()
    words = {folded(line) for line in lines if line.strip() and not line.startswith("#")}
    words |= {folded(word) for word in extra.split(",")}
    words.discard("")
    whole = frozenset(w for w in words if len(w) <= _WHOLE_WORD_AT_MOST)
    within = tuple(sorted(w for w in words if len(w) > _WHOLE_WORD_AT_MOST))
    return whole, within


def is_held(name: str) -> bool:
    """Whether a first name waits for a moderator before it is shown."""
    whole, within = _held_words(get_settings().held_names)
    key = folded(name)
    return key in whole or any(word in key for word in within)


def status_of(name: str, review: str | None) -> NameStatus:
    if review == NameReview.HIDDEN:
        return NameStatus.HIDDEN
    if review == NameReview.SHOWN or not is_held(name):
        return NameStatus.SHOWN
    return NameStatus.HELD


@dataclass(frozen=True, slots=True)
class PublicSupporter:
    first_name: str
    province: str


# Rows read for each name a page lists: held names are skipped, and the page still fills
# unless most of the newest names are held.
_READ_PER_SHOWN = 4


def _named(campaign_id: int) -> sa.Select[tuple[int, str, str, str | None, datetime]]:
    """The campaign's counted supporters who chose to be shown, newest first."""
    table = supporter_table.c
    return (
        sa.select(table.id, table.display_name, table.province, table.name_review, table.created_at)
        .where(
            table.campaign_id == campaign_id,
            table.show_name.is_(True),
            table.state == SupporterState.COUNTED,
        )
        .order_by(table.id.desc())
    )


def list_recent_public(
    session: Session, *, campaign_id: int, limit: int = 8
) -> list[PublicSupporter]:
    """The newest supporters who chose to be shown, first name and province only, without the
    names that are held or hidden."""
    rows = session.execute(
        _named(campaign_id)
        .where(supporter_table.c.name_review.is_distinct_from(NameReview.HIDDEN.value))
        .limit(limit * _READ_PER_SHOWN)
    ).all()
    shown = [
        PublicSupporter(first_name=first_name(name), province=PROVINCES.get(code, ""))
        for _id, name, code, review, _at in rows
        if status_of(first_name(name), review) is NameStatus.SHOWN
    ]
    return shown[:limit]


@dataclass(frozen=True, slots=True)
class ReviewedName:
    supporter_id: int
    first_name: str
    province: str
    signed_at: datetime
    status: NameStatus

    @property
    def label(self) -> str:
        return {
            NameStatus.SHOWN: _("Shown"),
            NameStatus.HELD: _("Held for review"),
            NameStatus.HIDDEN: _("Hidden"),
        }[self.status]


def names_for_review(session: Session, *, campaign_id: int, limit: int = 24) -> list[ReviewedName]:
    """The newest names, which the public list (eight names) shows or would show: the held
    ones first, then every one, newest first. Older names never reach the list again, so
    they need no review."""
    rows = session.execute(_named(campaign_id).limit(limit)).all()
    names = [
        ReviewedName(
            supporter_id=supporter_id,
            first_name=first_name(name),
            province=PROVINCES.get(code, code),
            signed_at=signed_at,
            status=status_of(first_name(name), review),
        )
        for supporter_id, name, code, review, signed_at in rows
    ]
    return sorted(names, key=lambda n: n.status is not NameStatus.HELD)


def review_name(
    session: Session, *, campaign: Campaign, supporter_id: int, decision: NameReview, actor_id: int
) -> None:
    """Hide or show one supporter's name on the campaign's pages; recorded in the audit log
    without the name. NotFound when the campaign has no such supporter with a public name."""
    table = supporter_table.c
    updated = session.execute(
        sa.update(supporter_table)
        .where(
            table.id == supporter_id,
            table.campaign_id == campaign.id,
            table.show_name.is_(True),
            table.state == SupporterState.COUNTED,
        )
        .values(name_review=decision.value)
    )
    if updated.rowcount != 1:  # type: ignore[attr-defined]
        raise NotFound(_("This campaign has no such supporter name."))
    # Every process builds the campaign's page anew, with the list as it now is.
    campaigns.note_public_change(session, campaign)
    audit.record(
        session,
        actor_id=actor_id,
        action=AuditAction.SUPPORTER_NAME_HIDE
        if decision is NameReview.HIDDEN
        else AuditAction.SUPPORTER_NAME_SHOW,
        subject=f"supporter:{supporter_id}",
        data={"campaign": campaign.slug},
    )
    session.commit()
