"""Suggested matches: pairs of cases that may be about the same thing, kept for the moderators
to join or set apart, and the published verdicts a reporter is shown as "maybe related"."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlmodel import Session, col

from pledge.hoaxes.models import CaseMatch, HoaxCase, MatchKind, case_match_table
from pledge.hoaxes.service.duplicates import surviving_case
from pledge.hoaxes.states import CaseStatus

if TYPE_CHECKING:
    from pledge.hoaxes.service.matching import Suggestion

SHOWN = 10


def _pair(case_id: int, other_id: int) -> tuple[int, int]:
    """A pair is kept once, the newer case first."""
    return (max(case_id, other_id), min(case_id, other_id))


def keep(
    session: Session,
    *,
    campaign_id: int,
    case_id: int,
    found: Sequence[Suggestion],
    now: datetime,
) -> None:
    """Keep the suggestions of a new report of `case_id`: a pair already kept keeps its best
    score, and a pair a moderator set apart stays apart."""
    match_t = case_match_table
    for suggestion in found:
        if suggestion.case_id == case_id:
            continue
        newer, older = _pair(case_id, suggestion.case_id)
        row = session.execute(
            sa.select(match_t.c.id, match_t.c.score).where(
                match_t.c.case_id == newer, match_t.c.other_case_id == older
            )
        ).first()
        if row is None:
            session.add(
                CaseMatch(
                    campaign_id=campaign_id,
                    case_id=newer,
                    other_case_id=older,
                    kind=suggestion.kind,
                    score=round(suggestion.score, 4),
                    why=suggestion.why[:120],
                    created_at=now,
                )
            )
            session.flush()
        elif suggestion.score > row.score:
            session.execute(
                sa.update(match_t)
                .where(match_t.c.id == row.id)
                .values(
                    kind=suggestion.kind, score=round(suggestion.score, 4), why=suggestion.why[:120]
                )
            )


@dataclass(frozen=True, slots=True)
class CaseSuggestion:
    """A case that may be about the same thing as the one on screen."""

    match: CaseMatch
    other: HoaxCase  # the surviving case, when the suggested one was merged since

    @property
    def kind(self) -> MatchKind:
        return self.match.kind


def list_for_case(session: Session, *, case: HoaxCase, limit: int = SHOWN) -> list[CaseSuggestion]:
    """Suggestions not set apart, for either side of the pair, best first; each other case as
    it is now (followed through merges), never the case itself."""
    rows = list(
        session.execute(
            sa.select(CaseMatch)
            .where(
                sa.or_(col(CaseMatch.case_id) == case.id, col(CaseMatch.other_case_id) == case.id),
                col(CaseMatch.dismissed_at).is_(None),
            )
            .order_by(col(CaseMatch.score).desc(), col(CaseMatch.id))
            .limit(limit * 2)
        ).scalars()
    )
    shown: list[CaseSuggestion] = []
    seen: set[int] = set()
    for match in rows:
        other_id = match.other_case_id if match.case_id == case.id else match.case_id
        other = session.get(HoaxCase, other_id)
        if other is None:
            continue
        other = surviving_case(session, other)
        if other.id == case.id or other.id in seen or other.status == CaseStatus.DUPLICATE:
            continue
        seen.add(other.id or 0)
        shown.append(CaseSuggestion(match=match, other=other))
    return shown[:limit]


def related_verdicts(session: Session, *, case: HoaxCase) -> list[CaseSuggestion]:
    """Published verdicts that may be about the same thing as a reporter's case: what the
    status page shows as "maybe related"."""
    return [
        suggestion
        for suggestion in list_for_case(session, case=case)
        if suggestion.other.status == CaseStatus.PUBLISHED
    ]


def get(session: Session, *, match_id: int) -> CaseMatch | None:
    return session.get(CaseMatch, match_id)


def set_apart(session: Session, *, match: CaseMatch, by: int | None, now: datetime) -> None:
    """A moderator found the pair not to be the same thing: it is suggested no more."""
    match.dismissed_at = now
    match.dismissed_by_id = by
    session.add(match)


def keep_apart(
    session: Session,
    *,
    campaign_id: int,
    case_id: int,
    other_case_id: int,
    kind: MatchKind,
    by: int | None,
    now: datetime,
) -> None:
    """Two cases a moderator set apart (a report taken out of one into the other): never
    suggested to each other."""
    newer, older = _pair(case_id, other_case_id)
    session.add(
        CaseMatch(
            campaign_id=campaign_id,
            case_id=newer,
            other_case_id=older,
            kind=kind,
            score=0.0,
            why="split",
            dismissed_by_id=by,
            dismissed_at=now,
            created_at=now,
        )
    )
