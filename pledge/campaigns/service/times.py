"""Campaign dates as the dashboard shows and takes them: in Jakarta time (WIB), to the minute."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from pledge import clock

WIB = clock.WIB
_LOCAL_FORMAT = "%Y-%m-%dT%H:%M"


def local_input_value(moment: datetime | None) -> str:
    """A stored UTC time as a ``datetime-local`` field shows it, in Jakarta time."""
    if moment is None:
        return ""
    return clock.as_utc(moment).astimezone(WIB).strftime(_LOCAL_FORMAT)


def parse_local_datetime(raw: str, *, end_of_day: bool = False) -> datetime | None:
    """A date or date-time typed in Jakarta time, as UTC; None when left empty.

    A date alone means the start of that day, or its last minute for an end date.
    Raises ValueError when the text is not a date."""
    text = raw.strip()
    if not text:
        return None
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            clock = time(23, 59) if end_of_day else time(0, 0)
            return datetime.combine(day, clock, tzinfo=WIB).astimezone(UTC)
        moment = datetime.fromisoformat(text)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=WIB)
        return moment.astimezone(UTC)
    except OverflowError:  # the first hours of year 1 have no UTC time
        raise ValueError(text) from None


def same_minute(stored: datetime | None, given: datetime | None) -> bool:
    """The form shows minutes only: sending a stored time back unchanged keeps it exactly."""
    if stored is None or given is None:
        return stored is given
    return local_input_value(stored) == local_input_value(given)
