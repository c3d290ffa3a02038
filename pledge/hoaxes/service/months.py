"""Counts per campaign and month (reports, cases, verdicts by label) kept in the transaction of
the change they count, so that the transparency page never reads every report."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from pledge.campaigns import service as campaigns
from pledge.clock import as_utc
from pledge.hoaxes.models import (
    Escalation,
    EscalationOutcome,
    HoaxCase,
    Verdict,
    hoax_month_table,
)

REPORTS = "reports"
CASES = "cases"
VERDICT_PREFIX = "verdict:"
# Published verdicts by whole hours from a case's first report to its verdict, in the month
# published: the median is read from these, never from the cases.
VERDICT_HOURS_PREFIX = "verdict_hours:"
# Reports made to platforms and authorities, in the month they were made: all, those with an
# outcome, those acted on, and the acted ones by whole days to the outcome.
ESCALATIONS = "escalations"
ANSWERED = "escalations_answered"
ACTED = "escalations_acted"
ACTION_DAYS_PREFIX = "action_days:"


def verdict_metric(label: Verdict | str) -> str:
    """The metric counting the verdicts published with this label."""
    return f"{VERDICT_PREFIX}{Verdict(label).value}"


def month_of(moment: datetime) -> date:
    """The first day of the month a stored time (UTC, with or without its zone) falls in, in
    Jakarta time: a report sent at 01:00 WIB on 1 March counts in March."""
    local = as_utc(moment).astimezone(campaigns.WIB)
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
    count_day(session, campaign_id=campaign_id, metric=metric, day=month_of(moment), by=by)


def count_day(session: Session, *, campaign_id: int, metric: str, day: date, by: int = 1) -> None:
    """As count, in the month of a day (a date already in Jakarta time)."""
    row = {"campaign_id": campaign_id, "month": day.replace(day=1), "metric": metric, "count": by}
    conn = session.connection()
    conn.execute(_UPSERT[conn.dialect.name], [row])


def hours_to_verdict(case: HoaxCase) -> int:
    """Whole hours from a case's first report to its verdict."""
    assert case.published_at is not None
    elapsed = as_utc(case.published_at) - as_utc(case.created_at)
    return max(int(elapsed.total_seconds() // 3600), 0)


def count_verdict(session: Session, *, case: HoaxCase, by: int = 1) -> None:
    """A published verdict, counted by its label and by its hours to verdict, in the month it
    was published."""
    assert case.label is not None and case.published_at is not None
    for metric in (verdict_metric(case.label), f"{VERDICT_HOURS_PREFIX}{hours_to_verdict(case)}"):
        count(
            session,
            campaign_id=case.campaign_id,
            metric=metric,
            moment=case.published_at,
            by=by,
        )


def count_escalation(session: Session, *, escalation: Escalation, by: int) -> None:
    """What a report made elsewhere adds to its month (``by=-1`` takes it back, before its
    outcome changes): one more report, answered when it has an outcome, acted on when the
    outcome removed, labelled or restricted it, with its days to that outcome."""
    metrics = [ESCALATIONS]
    outcome = escalation.outcome
    if outcome is not None:
        metrics.append(ANSWERED)
        if EscalationOutcome(outcome).acted_on:
            metrics.append(ACTED)
            if escalation.outcome_on is not None:
                days = max((escalation.outcome_on - escalation.reported_on).days, 0)
                metrics.append(f"{ACTION_DAYS_PREFIX}{days}")
    for metric in metrics:
        count_day(
            session,
            campaign_id=escalation.campaign_id,
            metric=metric,
            day=escalation.reported_on,
            by=by,
        )


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
