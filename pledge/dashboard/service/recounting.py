"""The breakdowns that read every supporter row of a campaign (province, age group, signing
hour), and the per-process store that keeps the last recount of each campaign a while.

Each breakdown is grouped in SQL; the store (`recounts`) lets one request recount while the
others that find the same campaign stale wait for it, instead of each reading every row.

The breakdowns that describe people count only the supporters who had signed by midnight WIB
at the start of the day: read before and after someone signs, they are the same all day, in
every process, so that the difference never tells who signed from where at what age.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from pledge.cache import Cache
from pledge.config import get_settings
from pledge.dashboard.service.breakdowns import (
    DAY_WINDOWS,
    HOUR_WINDOW,
    NOT_GIVEN,
    WIB,
    Bucket,
    day_start,
)
from pledge.i18n import gettext as _
from pledge.provinces import AGE_BANDS, PROVINCES
from pledge.supporters import service as supporters


@dataclass(frozen=True, slots=True)
class Recount:
    """What the statistics page counts from every supporter row of a campaign."""

    total: int  # the campaign's supporters by its tallies, when the recount began
    since: datetime  # the first hour of `hourly`, in WIB
    people_until: datetime  # midnight WIB: `provinces` and `age_bands` count who signed before
    provinces: list[Bucket]
    age_bands: list[Bucket]
    hourly: dict[datetime, int]  # new supporters per WIB hour from `since` on
    made_at: datetime  # in WIB
    made: float  # time.monotonic() when it was made


class Recounts:
    """The last recount of each campaign, shared by the requests of one process.

    A recount is used again while it is younger than `statistics_cache_seconds`, and for up
    to KEEP_UNCHANGED while the campaign's number of supporters has not moved. Requests that
    find it stale wait for the one request that is already recounting, rather than each
    reading every supporter again at once.
    """

    KEEP_UNCHANGED = 600.0
    SIZE = 256

    def __init__(self, name: str) -> None:
        self._entries: Cache[int, Recount] = Cache(name, size=self.SIZE)
        # One lock per campaign, held while it is recounted: the single flight.
        self._turns: dict[int, threading.Lock] = {}
        self._turns_lock = threading.Lock()

    def get(
        self,
        session: Session,
        *,
        campaign_id: int,
        total: int,
        now: datetime,
        max_age: float | None = None,
    ) -> Recount:
        fresh_for = get_settings().statistics_cache_seconds if max_age is None else max_age
        since = _longest_since(now)
        with self._turns_lock:
            turn = self._turns.setdefault(campaign_id, threading.Lock())
        with turn:
            found = self._entries.get(campaign_id)
            if (
                found is not None
                and found.since == since  # a new day starts a new window
                and found.people_until == day_start(now)  # ... and a new count of people
                and found.made_at <= now
                and _fresh(found, total, fresh_for)
            ):
                return found
            made = recount(session, campaign_id=campaign_id, total=total, now=now)
            self._entries.put(campaign_id, made)
            return made


def _fresh(found: Recount, total: int, fresh_for: float) -> bool:
    age = time.monotonic() - found.made
    return age < fresh_for or (found.total == total and age < Recounts.KEEP_UNCHANGED)


recounts = Recounts("dashboard.recounts")


def _longest_since(now: datetime) -> datetime:
    """The first WIB hour any window of the statistics page shows."""
    first_day = now.date() - timedelta(days=max(DAY_WINDOWS) - 1)
    day_start = datetime.combine(first_day, datetime.min.time(), tzinfo=WIB)
    hour_start = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=HOUR_WINDOW - 1)
    return min(day_start, hour_start)


def recount(session: Session, *, campaign_id: int, total: int, now: datetime) -> Recount:
    since = _longest_since(now)
    until = day_start(now)
    before = until.astimezone(UTC)
    return Recount(
        total=total,
        since=since,
        people_until=until,
        provinces=by_province(session, campaign_id=campaign_id, before=before),
        age_bands=by_age_band(session, campaign_id=campaign_id, before=before),
        hourly=hourly_counts(session, campaign_id=campaign_id, since=since.astimezone(UTC)),
        made_at=now,
        made=time.monotonic(),
    )


def by_province(
    session: Session, *, campaign_id: int, before: datetime | None = None
) -> list[Bucket]:
    found = supporters.count_by_province(session, campaign_id=campaign_id, before=before)
    buckets = [
        Bucket(key=code, label=PROVINCES.get(code, code), count=n) for code, n in found.items()
    ]
    return sorted(buckets, key=lambda b: (-b.count, b.label))


def by_age_band(
    session: Session, *, campaign_id: int, before: datetime | None = None
) -> list[Bucket]:
    found = supporters.count_by_age_band(session, campaign_id=campaign_id, before=before)
    order = [*AGE_BANDS, *sorted(k for k in found if k is not None and k not in AGE_BANDS)]
    buckets = [Bucket(key=band, label=band, count=found[band]) for band in order if band in found]
    if None in found:
        buckets.append(Bucket(key=NOT_GIVEN, label=_("Not given"), count=found[None]))
    return buckets


def hourly_counts(session: Session, *, campaign_id: int, since: datetime) -> dict[datetime, int]:
    """New supporters per WIB hour from `since` on, keyed by the hour's start in WIB.

    WIB is a fixed seven hours ahead of UTC (Indonesia has no daylight saving), so the hours
    counted in UTC are moved to WIB one for one."""
    counted = supporters.count_by_hour(session, campaign_id=campaign_id, since=since)
    return {hour.astimezone(WIB): n for hour, n in counted.items()}
