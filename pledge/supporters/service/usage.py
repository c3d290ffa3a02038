"""How the supporters' rows point at a campaign's pledges and partners, told to the campaigns
domain (which never imports this one) for its organisers' page and its removal rules."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlmodel import Session

from pledge.campaigns import service as campaigns
from pledge.supporters.models import SupporterState, signature_table, supporter_table


class SupporterUsage:
    """The answers of campaigns.Usage, read from the supporter and signature tables."""

    def signatures_by_pledge(
        self, session: Session, *, pledge_ids: Sequence[int]
    ) -> dict[int, int]:
        if not pledge_ids:
            return {}
        rows = session.execute(
            sa.select(signature_table.c.pledge_id, sa.func.count())
            .where(signature_table.c.pledge_id.in_(pledge_ids))
            .group_by(signature_table.c.pledge_id)
        ).all()
        return {int(pledge_id): int(count) for pledge_id, count in rows}

    def referrals_by_partner(self, session: Session, *, campaign_id: int) -> dict[int, int]:
        return _supporters_by(session, campaign_id, supporter_table.c.referrer_id)

    def updates_by_partner(self, session: Session, *, campaign_id: int) -> dict[int, int]:
        return _supporters_by(session, campaign_id, supporter_table.c.updates_partner_id)

    def pledge_signed(self, session: Session, *, pledge_id: int) -> bool:
        found = session.execute(
            sa.select(signature_table.c.id).where(signature_table.c.pledge_id == pledge_id)
        ).first()
        return found is not None

    def partner_used(self, session: Session, *, partner_id: int) -> bool:
        found = session.execute(
            sa.select(supporter_table.c.id).where(
                sa.or_(
                    supporter_table.c.referrer_id == partner_id,
                    supporter_table.c.updates_partner_id == partner_id,
                )
            )
        ).first()
        return found is not None


def _supporters_by(session: Session, campaign_id: int, column: sa.Column[int]) -> dict[int, int]:
    """How many counted supporters of the campaign point at each partner through one
    column."""
    rows = session.execute(
        sa.select(column, sa.func.count())
        .where(
            supporter_table.c.campaign_id == campaign_id,
            column.is_not(None),
            supporter_table.c.state == SupporterState.COUNTED,
        )
        .group_by(column)
    ).all()
    return {int(key): int(count) for key, count in rows}


campaigns.register_usage(SupporterUsage())
