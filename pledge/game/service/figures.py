"""The game's figures on the public transparency page: per public campaign, the games started
and finished and the verdicts whose picture fooled most players; told to the hoaxes domain's
transparency report (which never imports this one) when this module is imported."""

from __future__ import annotations

from collections import defaultdict

from sqlmodel import Session, col, select

from pledge.errors import NotFound
from pledge.game.models import GameCount, GameItem
from pledge.hoaxes import service as hoaxes
from pledge.hoaxes.service import transparency

# Candidates read per campaign for its few most fooling verdicts: some may be unpublished.
_CANDIDATES = transparency.GAME_VERDICTS * 4


def game_figures(session: Session, campaign_ids: list[int]) -> dict[int, transparency.GameFigures]:
    """The figures of each of these campaigns that has a game or a played picture."""
    if not campaign_ids:
        return {}
    counts = {
        row.campaign_id: row
        for row in session.exec(
            select(GameCount).where(col(GameCount.campaign_id).in_(campaign_ids))
        )
    }
    verdicts = fooling_by_campaign(session, campaign_ids)
    return {
        campaign_id: transparency.GameFigures(
            started=counts[campaign_id].started if campaign_id in counts else 0,
            finished=counts[campaign_id].finished if campaign_id in counts else 0,
            verdicts=tuple(verdicts.get(campaign_id, ())),
        )
        for campaign_id in set(counts) | set(verdicts)
    }


def fooling_by_campaign(
    session: Session, campaign_ids: list[int]
) -> dict[int, list[transparency.GameVerdict]]:
    """Each campaign's published verdicts in the game that fooled players, most first."""
    rows = session.exec(
        select(GameItem)
        .where(
            col(GameItem.campaign_id).in_(campaign_ids),
            col(GameItem.in_game).is_(True),
            col(GameItem.fake_fooled) > 0,
        )
        .order_by(col(GameItem.fake_fooled).desc(), col(GameItem.fake_shown), col(GameItem.case_id))
    ).all()
    found: dict[int, list[transparency.GameVerdict]] = defaultdict(list)
    tried: dict[int, int] = defaultdict(int)
    for row in rows:
        kept = found[row.campaign_id]
        if len(kept) >= transparency.GAME_VERDICTS or tried[row.campaign_id] >= _CANDIDATES:
            continue
        tried[row.campaign_id] += 1
        try:
            case = hoaxes.get_published(session, case_id=row.case_id).case
        except NotFound:
            continue
        label = str(case.label) if case.label else ""
        kept.append(
            transparency.GameVerdict(
                case_id=row.case_id,
                title=case.public_title,
                label=label,
                shown=row.fake_shown,
                fooled=row.fake_fooled,
            )
        )
    return {campaign_id: kept for campaign_id, kept in found.items() if kept}


transparency.register_game(game_figures)
