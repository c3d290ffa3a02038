"""Where a campaign's signatures came from, hour by hour: the busiest networks, email domains
and partner links, for the abuse console. Grouped in SQL over the campaign's rows of the
window, with how many of each group are counted, held for review and invalidated."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from pledge.i18n import gettext as _
from pledge.supporters.models import SupporterState, supporter_table
from pledge.supporters.service.statistics import as_utc_hour, utc_hour_expression


class Source(StrEnum):
    """What the console groups signatures by."""

    NETWORK = "network"
    EMAIL_DOMAIN = "email_domain"
    PARTNER = "partner"

    @property
    def label(self) -> str:
        return {
            Source.NETWORK: _("Network"),
            Source.EMAIL_DOMAIN: _("Email domain"),
            Source.PARTNER: _("Partner's link"),
        }[self]

    @property
    def column(self) -> Any:
        return {
            Source.NETWORK: supporter_table.c.network,
            Source.EMAIL_DOMAIN: supporter_table.c.email_domain,
            Source.PARTNER: supporter_table.c.referrer_id,
        }[self]


@dataclass(frozen=True, slots=True)
class Busy:
    """Signatures of one hour from one source."""

    hour: datetime  # its start, in UTC
    key: str  # the network, the domain, or the partner's id
    signatures: int
    counted: int
    pending: int
    suspect: int
    invalidated: int


def _state_sum(state: SupporterState) -> Any:
    return sa.func.sum(sa.case((supporter_table.c.state == state, 1), else_=0))


def busiest(
    session: Session,
    *,
    campaign_id: int,
    source: Source,
    since: datetime,
    until: datetime | None = None,
    limit: int = 15,
) -> list[Busy]:
    """The busiest (hour, source) pairs of the campaign in [since, until), busiest first."""
    hour = utc_hour_expression(session.get_bind().dialect.name).label("hour")
    key = source.column
    where = [
        supporter_table.c.campaign_id == campaign_id,
        supporter_table.c.created_at >= since,
        key.is_not(None),
    ]
    if until is not None:
        where.append(supporter_table.c.created_at < until)
    rows = session.execute(
        sa.select(
            hour,
            key,
            sa.func.count().label("signatures"),
            _state_sum(SupporterState.COUNTED),
            _state_sum(SupporterState.PENDING),
            _state_sum(SupporterState.SUSPECT),
            _state_sum(SupporterState.INVALIDATED),
        )
        .where(*where)
        .group_by(hour, key)
        .order_by(sa.desc("signatures"), hour.desc(), key)
        .limit(limit)
    ).all()
    return [
        Busy(
            hour=as_utc_hour(row[0]),
            key=str(row[1]),
            signatures=int(row[2]),
            counted=int(row[3] or 0),
            pending=int(row[4] or 0),
            suspect=int(row[5] or 0),
            invalidated=int(row[6] or 0),
        )
        for row in rows
    ]


def count_flagged(
    session: Session,
    *,
    campaign_ids: Collection[int],
    since: datetime,
    thresholds: dict[Source, int],
    ignored_domains: Collection[str] = (),
) -> dict[int, int]:
    """Per campaign, how many (hour, source) pairs since then reached their threshold."""
    if not campaign_ids:
        return {}
    hour = utc_hour_expression(session.get_bind().dialect.name)
    flagged: dict[int, int] = {}
    for source, threshold in thresholds.items():
        key = source.column
        rows = session.execute(
            sa.select(supporter_table.c.campaign_id, key)
            .where(
                supporter_table.c.campaign_id.in_(list(campaign_ids)),
                supporter_table.c.created_at >= since,
                key.is_not(None),
            )
            .group_by(supporter_table.c.campaign_id, hour, key)
            .having(sa.func.count() >= threshold)
        ).all()
        for campaign_id, value in rows:
            if source == Source.EMAIL_DOMAIN and value in ignored_domains:
                continue
            flagged[campaign_id] = flagged.get(campaign_id, 0) + 1
    return flagged
