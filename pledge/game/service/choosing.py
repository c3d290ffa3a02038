"""Moderators choose which published verdicts play in their campaign's game, for a reason kept
in the case's history; and see how each picture did."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from sqlmodel import Session, col, select

from pledge import audit, forms
from pledge.accounts.access import ModeratorContext
from pledge.audit import AuditAction
from pledge.db import utcnow, writing
from pledge.errors import Conflict, Invalid
from pledge.forms import Checks, PostedForm, posted
from pledge.game.models import GameCount, GameItem
from pledge.game.service.figures import fooling_by_campaign
from pledge.hoaxes import service as hoaxes
from pledge.hoaxes.models import HoaxCase
from pledge.hoaxes.service import transparency
from pledge.hoaxes.states import CaseStatus, audit_subject
from pledge.i18n import gettext as _
from pledge.moderation import service as moderation


class Play(StrEnum):
    """A moderator's choice for a verdict."""

    IN = "in"
    OUT = "out"

    @property
    def label(self) -> str:
        return {
            Play.IN: _("Put it in the game"),
            Play.OUT: _("Take it out of the game"),
        }[self]


@dataclass(frozen=True, slots=True)
class ChoiceForm(PostedForm):
    """The game's form on a case page, as posted: in or out, and the reason."""

    play: str = posted(limit=10)
    reason: str = posted(limit=moderation.REASON_FIELD_MAX)

    def check(self) -> tuple[Play, str]:
        """The choice and its reason; Invalid with the message of each field to fix."""
        with Checks() as checks:
            play = checks.run(
                "play",
                forms.member,
                self.play,
                Play,
                message=_("Choose whether the verdict plays in the game."),
            )
            reason = ""
            try:
                reason = moderation.clean_reason(self.reason)
            except Invalid as error:
                checks.merge(error.errors)
        assert play is not None
        return play, reason


def playable_problem(case: HoaxCase) -> str:
    """Why a case cannot play, "" when it can: only a published verdict with its picture."""
    if case.status != CaseStatus.PUBLISHED:
        return _("Only a published verdict can play in the game.")
    if case.media_id is None or case.label is None:
        return _("This verdict has no picture to play with.")
    return ""


def choose(
    session: Session,
    *,
    access: ModeratorContext,
    case_id: int,
    form: ChoiceForm,
    now: datetime | None = None,
) -> GameItem:
    """Put a published verdict in its campaign's game, or take it out. Checks, in order: the
    case is one the moderator may see (404), the choice and its reason (422), the case is a
    published verdict with a picture (409). Choosing what is already so records nothing."""
    now = now or utcnow()
    case = moderation.visible_case(session, access, case_id)
    play, reason = form.check()
    wanted = play == Play.IN
    with writing(session):
        row = session.get(GameItem, case_id)
        problem = playable_problem(case)
        # A verdict that can no longer play may still be taken out of the game.
        if problem and (wanted or row is None or not row.in_game):
            raise Conflict(problem)
        if row is not None and row.in_game == wanted:
            return row
        row = row or GameItem(case_id=case_id, campaign_id=case.campaign_id)
        row.in_game = wanted
        row.updated_at = now
        session.add(row)
        audit.record(
            session,
            actor_id=access.user.id,
            action=AuditAction.CASE_GAME,
            subject=audit_subject(case_id),
            reason=reason,
            data={"in_game": wanted},
        )
    return row


# --- how it did -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CaseGame:
    """The game's section of a case page."""

    problem: str  # why the case cannot play, "" when it can
    in_game: bool
    item: GameItem | None
    has_real: bool  # its original plays too, as a real photo
    started: int
    finished: int
    # The campaign's verdicts whose picture fooled most players, most first.
    fooling: list[transparency.GameVerdict] = field(default_factory=list)


def case_game(session: Session, *, case: HoaxCase) -> CaseGame:
    """What the case page shows of the game: whether the verdict plays, how its pictures did,
    and the campaign's games and the pictures that fooled most players."""
    item = session.get(GameItem, case.id)
    original = hoaxes.get_original(session, case_id=case.id or 0)
    counts = session.get(GameCount, case.campaign_id)
    return CaseGame(
        problem=playable_problem(case),
        in_game=bool(item and item.in_game),
        item=item,
        has_real=original is not None
        and original.outcome == "aligned"
        and original.media_id is not None,
        started=counts.started if counts else 0,
        finished=counts.finished if counts else 0,
        fooling=fooling_by_campaign(session, [case.campaign_id]).get(case.campaign_id, []),
    )


def counts_by_campaign(session: Session, *, campaign_ids: list[int]) -> dict[int, GameCount]:
    """The games started and finished in each of these campaigns that has any."""
    rows = session.exec(select(GameCount).where(col(GameCount.campaign_id).in_(campaign_ids)))
    return {row.campaign_id: row for row in rows}
