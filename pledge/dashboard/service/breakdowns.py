"""Groups of supporters as the statistics page shows them: small groups folded into one and
every count rounded, and counts per WIB hour laid out as the day and hour windows of the
charts.

Times are grouped in Western Indonesian Time (WIB, UTC+7, no daylight saving).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from babel.dates import format_date

from pledge import clock, forms
from pledge.i18n import clock_time, get_locale
from pledge.i18n import gettext as _

WIB = clock.WIB
# Breakdowns about people never show a group smaller than this.
MIN_BUCKET = 10
# ... and show every count rounded to the nearest multiple of this, so that one supporter
# more moves a number only now and then, and then by this many.
ROUND_TO = 5
DAY_WINDOWS = (7, 30, 90)
DEFAULT_DAYS = 30
HOUR_WINDOW = 48
OTHER = "other"
NOT_GIVEN = "none"


@dataclass(frozen=True, slots=True)
class Bucket:
    key: str  # stable: a pledge or partner slug, a province code, an ISO date or hour
    label: str  # as shown in tables
    count: int
    short: str = ""  # the label under a chart's bar; empty means no label under it


@dataclass(frozen=True, slots=True)
class Breakdown:
    """Groups of supporters, with the small ones folded into one "other" row."""

    buckets: list[Bucket]
    folded: int  # how many groups went into the "other" row

    @property
    def total(self) -> int:
        return sum(bucket.count for bucket in self.buckets)


def fold_small(rows: Sequence[Bucket], *, minimum: int = MIN_BUCKET) -> Breakdown:
    """Keep the groups of at least `minimum`; add up the others in one row."""
    shown = [row for row in rows if row.count >= minimum]
    small = [row for row in rows if 0 < row.count < minimum]
    if small:
        shown.append(
            Bucket(
                key=OTHER,
                label=_("Other (groups of fewer than %(n)s)") % {"n": minimum},
                count=sum(row.count for row in small),
            )
        )
    return Breakdown(buckets=shown, folded=len(small))


def rounded(count: int, *, step: int = ROUND_TO) -> int:
    """The count to the nearest multiple of `step`, halves up (12 is 10, 13 is 15)."""
    return (count + step // 2) // step * step


def protect(rows: Sequence[Bucket]) -> Breakdown:
    """A breakdown about people as the page may show it: the groups smaller than MIN_BUCKET
    folded into one row, then every count rounded to ROUND_TO."""
    folded = fold_small(rows)
    return Breakdown(
        buckets=[replace(bucket, count=rounded(bucket.count)) for bucket in folded.buckets],
        folded=folded.folded,
    )


def day_start(now: datetime) -> datetime:
    """Midnight WIB at the start of `now`'s day in WIB."""
    return datetime.combine(now.astimezone(WIB).date(), datetime.min.time(), tzinfo=WIB)


def parse_days(raw: str | None) -> int:
    """The day window asked for in the address: 7, 30 or 90; 30 when none is asked for."""
    if not raw:
        return DEFAULT_DAYS
    return forms.field("days", _day_window, raw)


def _day_window(raw: str) -> int:
    message = _("Choose a period of 7, 30 or 90 days.")
    days = forms.integer(raw, minimum=min(DAY_WINDOWS), maximum=max(DAY_WINDOWS), message=message)
    if days not in DAY_WINDOWS:
        raise forms.refuse(message)
    return days


def day_label(day: date, locale: str) -> str:
    return format_date(day, format="d MMM", locale=locale)


def over_time(
    hourly: dict[datetime, int], *, days: int, now: datetime
) -> tuple[list[Bucket], list[Bucket]]:
    """Supporters per WIB day over the last `days` days (today included), and per WIB hour
    over the last 48 hours (this hour included), from the counts per WIB hour. Each supporter
    is counted once, at the time they first signed."""
    now = now.astimezone(WIB)
    locale = get_locale()
    first_day = now.date() - timedelta(days=days - 1)
    this_hour = now.replace(minute=0, second=0, microsecond=0)
    hour_start = this_hour - timedelta(hours=HOUR_WINDOW - 1)

    per_date: dict[date, int] = {}
    for hour, n in hourly.items():
        per_date[hour.date()] = per_date.get(hour.date(), 0) + n
    tick_every = max(1, -(-days // 8))  # about eight labels under the bars, whatever the window
    per_day = []
    for i in range(days):
        day = first_day + timedelta(days=i)
        label = day_label(day, locale)
        short = label if (days - 1 - i) % tick_every == 0 else ""
        per_day.append(
            Bucket(key=day.isoformat(), label=label, count=per_date.get(day, 0), short=short)
        )

    per_hour = []
    for i in range(HOUR_WINDOW):
        hour = hour_start + timedelta(hours=i)
        time_of_day = clock_time(hour, locale)  # 10.00 or 10:00, as the language writes it
        label = f"{day_label(hour.date(), locale)} {time_of_day}"
        if hour.hour == 0:
            short = day_label(hour.date(), locale)
        elif hour.hour % 6 == 0:
            short = time_of_day
        else:
            short = ""
        per_hour.append(
            Bucket(
                key=hour.strftime("%Y-%m-%dT%H:00"),
                label=label,
                count=hourly.get(hour, 0),
                short=short,
            )
        )
    return per_day, per_hour
