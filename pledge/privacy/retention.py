"""Retention: supporters of campaigns closed longer than the set months are anonymised, and
reporters' contacts left on closed hoax cases are removed.

Run by `pledge retention run`, typically from cron on every app host. Each batch is one
short write transaction whose UPDATE only matches rows not yet done, so a run can stop and
start again anywhere and two runs never process a row twice; on PostgreSQL an advisory lock
makes a second run at the same moment step aside instead of waiting.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlmodel import Session

from pledge import audit
from pledge.campaigns.models import campaign_table
from pledge.config import get_settings
from pledge.db import utcnow, writing
from pledge.hoaxes.models import CLOSED_STATUSES, hoax_case_table, hoax_report_table
from pledge.supporters.models import supporter_table

BATCH = 1000
# pg_try_advisory_lock key shared by every host's run: "pledgeRD" as a 64-bit number.
LOCK_KEY = 0x706C_6564_6765_5244


@dataclass(frozen=True, slots=True)
class RetentionReport:
    months: int
    cutoff: datetime  # campaigns closed at or before this moment were due
    supporters: int = 0  # anonymised by this run
    campaigns: dict[str, int] = field(default_factory=dict)  # slug -> supporters anonymised
    reporter_contacts: int = 0  # removed from closed hoax cases by this run
    skipped: bool = False  # another run held the lock

    def __str__(self) -> str:
        if self.skipped:
            return "Another retention run is in progress; this one changed nothing."
        lines = [
            f"Retention {self.months} month(s): campaigns closed on or before "
            f"{self.cutoff:%Y-%m-%d %H:%M} UTC are due."
        ]
        lines += [f"{slug}: {n} supporter(s) anonymised" for slug, n in self.campaigns.items()]
        lines.append(f"{self.supporters} supporter(s) anonymised in total.")
        lines.append(f"{self.reporter_contacts} reporter contact(s) removed from closed cases.")
        return "\n".join(lines)


def months_before(moment: datetime, months: int) -> datetime:
    """The same day and time so many calendar months earlier (the 31st becomes the month's last
    day when the earlier month is shorter)."""
    index = moment.year * 12 + (moment.month - 1) - months
    year, month0 = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month0 + 1)[1])
    return moment.replace(year=year, month=month0 + 1, day=day)


def run(session: Session, now: datetime | None = None) -> RetentionReport:
    """One retention pass; safe to run again at any time and from several hosts at once."""
    now = now or utcnow()
    months = get_settings().retention_months
    cutoff = months_before(now, months)
    with _exclusive(session) as acquired:
        if acquired:
            done: dict[str, int] = {}
            campaign_ids: list[int] = []
            for campaign_id, slug in due_campaigns(session, cutoff=cutoff):
                count = anonymise_supporters(session, campaign_id=campaign_id, now=now)
                if count:
                    done[slug] = count
                    campaign_ids.append(campaign_id)
            report = RetentionReport(
                months=months,
                cutoff=cutoff,
                supporters=sum(done.values()),
                campaigns=done,
                reporter_contacts=forget_reporter_contacts(session),
            )
        else:
            campaign_ids = []
            report = RetentionReport(months=months, cutoff=cutoff, skipped=True)
        with writing(session):
            # Counts and ids only: nothing here identifies a person.
            audit.record(
                session,
                actor_id=None,
                action="privacy.retention",
                subject="privacy:retention",
                data={
                    "months": months,
                    "cutoff": cutoff.isoformat(),
                    "supporters": report.supporters,
                    "campaign_ids": campaign_ids,
                    "reporter_contacts": report.reporter_contacts,
                    "skipped": report.skipped,
                },
            )
    return report


def due_campaigns(session: Session, *, cutoff: datetime) -> list[tuple[int, str]]:
    """Campaigns whose closing time is at or before the cutoff.

    The closing time is closed_at (set when someone closed it) or ends_at once passed,
    whichever is earlier; the earlier of two is before the cutoff when either is, and an
    ends_at before the cutoff has passed. A reopened campaign has neither (see set_status)."""
    rows = session.execute(
        sa.select(campaign_table.c.id, campaign_table.c.slug)
        .where(sa.or_(campaign_table.c.closed_at <= cutoff, campaign_table.c.ends_at <= cutoff))
        .order_by(campaign_table.c.id)
    ).all()
    session.commit()  # end the read before the write transactions
    return [(int(campaign_id), str(slug)) for campaign_id, slug in rows]


def _placeholder(dialect: str) -> Any:
    """A random stand-in for the contact digest, drawn per row by the database: unique (so the
    (campaign, digest) constraint holds) and unrelated to the person, so that the same person
    signing again later is a new supporter."""
    if dialect == "postgresql":
        seed = (
            sa.cast(sa.func.random(), sa.Text)
            + sa.cast(sa.func.clock_timestamp(), sa.Text)
            + sa.cast(supporter_table.c.id, sa.Text)
        )
        return sa.literal("anon:", sa.String) + sa.func.md5(seed)
    return sa.literal("anon:", sa.String) + sa.func.lower(sa.func.hex(sa.func.randomblob(16)))


def anonymise_supporters(
    session: Session, *, campaign_id: int, now: datetime, batch: int = BATCH
) -> int:
    """Remove the personal data of a campaign's supporters, a batch per transaction.

    Province, age band, signatures, referral and invite links stay, and the tallies are not
    touched: every count and statistic reads the same afterwards."""
    placeholder = _placeholder(session.get_bind().dialect.name)
    done, after = 0, 0
    while True:
        with writing(session):
            ids = list(
                session.execute(
                    sa.select(supporter_table.c.id)
                    .where(
                        supporter_table.c.campaign_id == campaign_id,
                        supporter_table.c.anonymised_at.is_(None),
                        supporter_table.c.id > after,
                    )
                    .order_by(supporter_table.c.id)
                    .limit(batch)
                ).scalars()
            )
            if not ids:
                break
            result = session.execute(
                sa.update(supporter_table)
                # Re-checked here: a row another run got to first is left alone.
                .where(supporter_table.c.id.in_(ids), supporter_table.c.anonymised_at.is_(None))
                .values(
                    display_name="",
                    contact_encrypted=None,
                    contact_digest=placeholder,
                    show_name=False,
                    anonymised_at=now,
                )
            )
            done += int(result.rowcount)  # type: ignore[attr-defined]
        after = ids[-1]
    return done


def forget_reporter_contacts(session: Session, *, batch: int = BATCH) -> int:
    """Reporters' contacts still stored on closed cases (closing a case removes them; this
    catches any that were left, for example by a case closed before that rule existed)."""
    done = 0
    closed = sorted(status.value for status in CLOSED_STATUSES)
    while True:
        with writing(session):
            ids = list(
                session.execute(
                    sa.select(hoax_report_table.c.id)
                    .join(hoax_case_table, hoax_case_table.c.id == hoax_report_table.c.case_id)
                    .where(
                        hoax_report_table.c.contact_encrypted.is_not(None),
                        hoax_case_table.c.status.in_(closed),
                    )
                    .order_by(hoax_report_table.c.id)
                    .limit(batch)
                ).scalars()
            )
            if not ids:
                break
            result = session.execute(
                sa.update(hoax_report_table)
                .where(
                    hoax_report_table.c.id.in_(ids),
                    hoax_report_table.c.contact_encrypted.is_not(None),
                )
                .values(contact_encrypted=None)
            )
            done += int(result.rowcount)  # type: ignore[attr-defined]
    return done


@contextmanager
def _exclusive(session: Session) -> Iterator[bool]:
    """Whether this run may go ahead: on PostgreSQL, only while no other host's run holds the
    advisory lock. The lock is held on a connection of its own, because the session hands its
    connection back to the pool after each batch's commit."""
    bind = session.get_bind()
    if bind.dialect.name != "postgresql":
        # SQLite lives on one machine, and BEGIN IMMEDIATE already takes the batches in turn.
        yield True
        return
    engine = bind if isinstance(bind, Engine) else bind.engine
    with engine.connect() as conn:
        acquired = bool(conn.execute(sa.select(sa.func.pg_try_advisory_lock(LOCK_KEY))).scalar())
        conn.commit()
        try:
            yield acquired
        finally:
            if acquired:
                conn.execute(sa.select(sa.func.pg_advisory_unlock(LOCK_KEY)))
                conn.commit()
