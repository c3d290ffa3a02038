"""A campaign's supporters counted for its partners' statistics page, and the supporters who
asked a partner for news read for that partner's export.

Each count is grouped in SQL over an index of the supporter table (see Supporter): the
dashboard labels, folds and caches what these return.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from pledge.supporters.models import SupporterState, signature_table, supporter_table

# Only supporters in the count are counted, shown or exported: a pending one may be someone
# else's contact typed by a stranger, a suspect or invalidated one is not counted.
_COUNTED = supporter_table.c.state == SupporterState.COUNTED

# --- the statistics page -----------------------------------------------------------------


def _signed_before(before: datetime | None) -> list[Any]:
    """The conditions for supporters who had signed and confirmed before `before` (None:
    whenever)."""
    if before is None:
        return []
    confirmed = supporter_table.c.confirmed_at
    return [supporter_table.c.created_at < before, sa.or_(confirmed.is_(None), confirmed < before)]


def count_by_province(
    session: Session, *, campaign_id: int, before: datetime | None = None
) -> dict[str, int]:
    """The campaign's supporters by province code (only those who signed and confirmed before
    `before`, when given)."""
    rows = session.execute(
        sa.select(supporter_table.c.province, sa.func.count())
        .where(supporter_table.c.campaign_id == campaign_id, _COUNTED, *_signed_before(before))
        .group_by(supporter_table.c.province)
    ).all()
    return {code: int(n) for code, n in rows}


def count_by_age_band(
    session: Session, *, campaign_id: int, before: datetime | None = None
) -> dict[str | None, int]:
    """The campaign's supporters by age band, None for not given (only those who signed and
    confirmed before `before`, when given)."""
    rows = session.execute(
        sa.select(supporter_table.c.age_band, sa.func.count())
        .where(supporter_table.c.campaign_id == campaign_id, _COUNTED, *_signed_before(before))
        .group_by(supporter_table.c.age_band)
    ).all()
    return {band: int(n) for band, n in rows}


def utc_hour_expression(dialect: str) -> Any:
    """The supporter's signing time cut to the hour, in UTC, on either database.

    Cheap to compute for a million rows: the caller moves the hours to its own time zone
    after grouping.
    """
    created = supporter_table.c.created_at
    if dialect == "postgresql":
        return sa.func.date_trunc("hour", sa.func.timezone("UTC", created))
    # SQLite keeps UTC as ISO text ("2026-03-10 12:05:00.000000"): the hour is its first 13.
    return sa.func.substr(created, 1, 13)


def as_utc_hour(value: object) -> datetime:
    if isinstance(value, datetime):
        return value.replace(minute=0, second=0, microsecond=0, tzinfo=UTC)
    return datetime.strptime(str(value)[:13], "%Y-%m-%d %H").replace(tzinfo=UTC)


def count_by_hour(session: Session, *, campaign_id: int, since: datetime) -> dict[datetime, int]:
    """New supporters of the campaign per hour from `since` on, keyed by the hour's start in
    UTC."""
    hour = utc_hour_expression(session.get_bind().dialect.name).label("hour")
    rows = session.execute(
        sa.select(hour, sa.func.count())
        .where(
            supporter_table.c.campaign_id == campaign_id,
            supporter_table.c.created_at >= since,
            _COUNTED,
        )
        .group_by(hour)
    ).all()
    counts: dict[datetime, int] = {}
    for value, n in rows:
        key = as_utc_hour(value)
        counts[key] = counts.get(key, 0) + int(n)
    return counts


def count_opted_in(session: Session, *, partner_id: int) -> int:
    """The supporters who asked this campaign partner for news and still have a contact."""
    return int(
        session.execute(
            sa.select(sa.func.count()).where(
                supporter_table.c.updates_partner_id == partner_id,
                supporter_table.c.anonymised_at.is_(None),  # retention removed their contact
                _COUNTED,
            )
        ).scalar_one()
    )


# --- the export --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OptedIn:
    """How many supporters of a campaign asked a partner for news, and the highest of their
    ids: an export reads up to that id, so that it holds what its audit event counted."""

    count: int
    last_id: int


def get_opted_in(session: Session, *, campaign_id: int, partner_id: int) -> OptedIn:
    """How many of the campaign's supporters asked this partner for news, and the last id."""
    n, top = session.execute(
        sa.select(sa.func.count(), sa.func.max(supporter_table.c.id)).where(
            supporter_table.c.campaign_id == campaign_id,
            supporter_table.c.updates_partner_id == partner_id,
            supporter_table.c.anonymised_at.is_(None),
            _COUNTED,
        )
    ).one()
    return OptedIn(count=int(n), last_id=int(top or 0))


def list_opted_in(
    session: Session, *, campaign_id: int, partner_id: int, after: int, last_id: int, limit: int
) -> Sequence[sa.Row[Any]]:
    """The next opted-in supporters after the id `after`, up to `last_id`, in id order: their
    id, name, encrypted contact, province, age band and signing time."""
    return session.execute(
        sa.select(
            supporter_table.c.id,
            supporter_table.c.display_name,
            supporter_table.c.contact_encrypted,
            supporter_table.c.province,
            supporter_table.c.age_band,
            supporter_table.c.created_at,
        )
        .where(
            supporter_table.c.campaign_id == campaign_id,
            supporter_table.c.updates_partner_id == partner_id,
            supporter_table.c.anonymised_at.is_(None),
            _COUNTED,
            supporter_table.c.id > after,
            supporter_table.c.id <= last_id,
        )
        .order_by(supporter_table.c.id)
        .limit(limit)
    ).all()


def list_signed_pledge_ids(
    session: Session, *, supporter_ids: Collection[int]
) -> dict[int, list[int]]:
    """The pledges each of these supporters signed, by supporter id."""
    signed: dict[int, list[int]] = {}
    for supporter_id, pledge_id in session.execute(
        sa.select(signature_table.c.supporter_id, signature_table.c.pledge_id).where(
            signature_table.c.supporter_id.in_(supporter_ids)
        )
    ):
        signed.setdefault(supporter_id, []).append(pledge_id)
    return signed
