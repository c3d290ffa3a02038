"""Time as the site stores and shows it: stored times are UTC (SQLite gives them back without
their zone), and people are shown Western Indonesian Time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

# Western Indonesian Time: UTC+7 all year (no daylight saving since 1964). A fixed offset
# needs no time-zone database on the server. Its name is written after every time shown.
ZONE_NAME = "WIB"
WIB = timezone(timedelta(hours=7), ZONE_NAME)


def as_utc(moment: datetime) -> datetime:
    """A stored time as an aware UTC time, whether or not the database kept its zone."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def local(moment: datetime) -> datetime:
    """A stored time as people in Jakarta read it: in Western Indonesian Time."""
    return as_utc(moment).astimezone(WIB)
