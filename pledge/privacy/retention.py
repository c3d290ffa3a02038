"""Retention: supporters of campaigns closed longer than the set months are anonymised,
reporters' contacts are removed from closed hoax cases (from published verdicts once their
correction window has passed), signers who have not confirmed are
reminded, signatures never confirmed are deleted after PLEDGE_PENDING_DAYS, and messages sent
more than a week ago leave the outbox.

Run by `pledge retention run`, typically from cron on every app host. Each batch is one
short write transaction whose UPDATE only matches rows not yet done, so a run can stop and
start again anywhere and two runs never process a row twice; on PostgreSQL an advisory lock
makes a second run at the same moment step aside instead of waiting.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlmodel import Session

from pledge import audit, mail
from pledge.accounts import service as accounts
from pledge.audit import AuditAction
from pledge.campaigns import service as campaigns
from pledge.config import get_settings
from pledge.db import utcnow, writing
from pledge.hoaxes import service as hoaxes
from pledge.supporters import service as supporters

# pg_try_advisory_lock key shared by every host's run: "pledgeRD" as a 64-bit number.
LOCK_KEY = 0x706C_6564_6765_5244


@dataclass(frozen=True, slots=True)
class RetentionReport:
    months: int
    cutoff: datetime  # campaigns closed at or before this moment were due
    supporters: int = 0  # anonymised by this run
    campaigns: dict[str, int] = field(default_factory=dict)  # slug -> supporters anonymised
    reporter_contacts: int = 0  # removed from closed hoax cases by this run
    reminded: int = 0  # pending signatures reminded by email
    pending_deleted: int = 0  # pending signatures never confirmed, deleted
    messages_deleted: int = 0  # old messages removed from the outbox
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
        lines.append(f"{self.reminded} reminder(s) sent to signers who have not confirmed.")
        lines.append(f"{self.pending_deleted} unconfirmed signature(s) deleted.")
        lines.append(f"{self.messages_deleted} old message(s) removed from the outbox.")
        return "\n".join(lines)


def months_before(moment: datetime, months: int) -> datetime:
    """The same day and time so many calendar months earlier (the 31st becomes the month's last
    day when the earlier month is shorter)."""
    index = moment.year * 12 + (moment.month - 1) - months
    year, month0 = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month0 + 1)[1])
    return moment.replace(year=year, month=month0 + 1, day=day)


def run(
    session: Session,
    now: datetime | None = None,
    *,
    links_for: Callable[[str], supporters.SignerLinks] | None = None,
) -> RetentionReport:
    """One retention pass; safe to run again at any time and from several hosts at once.
    ``links_for`` gives, per campaign slug, where a reminder's links point (no reminders
    without it)."""
    now = now or utcnow()
    months = get_settings().retention_months
    cutoff = months_before(now, months)
    with _exclusive(session) as acquired:
        if acquired:
            done: dict[str, int] = {}
            campaign_ids: list[int] = []
            due = campaigns.list_closed_before(session, cutoff=cutoff)
            session.commit()  # end the read before the write transactions
            for campaign_id, slug in due:
                count = supporters.anonymise(session, campaign_id=campaign_id, now=now)
                if count:
                    done[slug] = count
                    campaign_ids.append(campaign_id)
            # Signed-out sessions whose cookies have expired anyway: nothing left to refuse.
            accounts.forget_ended_sessions(session, now=now)
            report = RetentionReport(
                months=months,
                cutoff=cutoff,
                supporters=sum(done.values()),
                campaigns=done,
                reporter_contacts=hoaxes.forget_closed_contacts(session, now=now),
                reminded=supporters.remind(session, links_for=links_for, now=now)
                if links_for
                else 0,
                pending_deleted=supporters.delete_expired(session, now=now),
                messages_deleted=mail.forget_old(session, now=now),
            )
        else:
            campaign_ids = []
            report = RetentionReport(months=months, cutoff=cutoff, skipped=True)
        with writing(session):
            # Counts and ids only: nothing here identifies a person.
            audit.record(
                session,
                actor_id=None,
                action=AuditAction.PRIVACY_RETENTION,
                subject="privacy:retention",
                data={
                    "months": months,
                    "cutoff": cutoff.isoformat(),
                    "supporters": report.supporters,
                    "campaign_ids": campaign_ids,
                    "reporter_contacts": report.reporter_contacts,
                    "reminded": report.reminded,
                    "pending_deleted": report.pending_deleted,
                    "messages_deleted": report.messages_deleted,
                    "skipped": report.skipped,
                },
            )
    return report


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
