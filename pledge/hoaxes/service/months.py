"""Counts per campaign and month (reports, cases, verdicts by label) kept in the transaction of
the change they count, so that the transparency page never reads every report."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from pledge.campaigns import service as campaigns
from pledge.hoaxes.models import Verdict, hoax_month_table

REPORTS = "reports"
CASES = "cases"
VERDICT_PREFIX = "verdict:"


def verdict_metric(label: Verdict | str) -> str:
    """The metric counting the verdicts published with this label."""
    return f"{VERDICT_PREFIX}{Verdict(label).value}"


def month_of(moment: datetime) -> date:
    """The first day of the month a stored time (UTC, with or without its zone) falls in, in
    Jakarta time: a report sent at 01:00 WIB on 1 March counts in March."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone(campaigns.WIB)
    return date(local.year, local.month, 1)


def _upsert(dialect: str) -> Any:
    insert: Any = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(hoax_month_table)
    return stmt.on_conflict_do_update(
        index_elements=["campaign_id", "month", "metric"],
        set_={"count": hoax_month_table.c.count + stmt.excluded.count},
    )


_UPSERT = {dialect: _upsert(dialect) for dialect in ("sqlite", "postgresql")}


def count(
    session: Session, *, campaign_id: int, metric: str, moment: datetime, by: int = 1
) -> None:
    """Add ``by`` (negative to count back down) to a campaign's metric in the month of
    ``moment``, in one statement inside the caller's transaction: two writers at once both
    count."""
    conn = session.connection()
    row = {"campaign_id": campaign_id, "month": month_of(moment), "metric": metric, "count": by}
    conn.execute(_UPSERT[conn.dialect.name], [row])


def list_counts(
    session: Session, *, campaign_ids: Collection[int]
) -> list[tuple[int, date, str, int]]:
    """Every count of these campaigns: (campaign id, month, metric, count)."""
    if not campaign_ids:
        return []
    month_t = hoax_month_table
    rows = session.execute(
        sa.select(month_t.c.campaign_id, month_t.c.month, month_t.c.metric, month_t.c.count)
        .where(month_t.c.campaign_id.in_(sorted(campaign_ids)))
        .order_by(month_t.c.campaign_id, month_t.c.month, month_t.c.metric)
    ).all()
    return [(int(c), m, str(metric), int(n)) for c, m, metric, n in rows]
