"""Times, days and positions as people write them: in Western Indonesian Time, per language."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from pledge import i18n
from pledge.clock import WIB, ZONE_NAME
from pledge.web.templates import templates

# 03:36 UTC is 10:36 in Jakarta; 20:10 UTC on the 5th is already the 6th there.
MORNING = datetime(2026, 12, 6, 3, 36)
LATE_EVENING_UTC = datetime(2026, 12, 5, 20, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    ("locale", "expected"),
    [("id", "6 Desember 2026, 10.36 WIB"), ("en", "6 December 2026, 10:36 WIB")],
)
def test_a_stored_time_reads_as_people_write_it_in_jakarta(locale: str, expected: str) -> None:
    assert i18n.moment(MORNING, locale) == expected


def test_a_time_takes_the_current_language_when_none_is_given() -> None:
    i18n.set_locale("en")
    assert i18n.moment(LATE_EVENING_UTC) == "6 December 2026, 03:10 WIB"
    i18n.set_locale("id")
    assert i18n.moment(LATE_EVENING_UTC) == "6 Desember 2026, 03.10 WIB"


def test_a_time_with_another_zone_is_shown_in_jakarta_time() -> None:
    tokyo = datetime(2026, 12, 6, 12, 36, tzinfo=timezone(timedelta(hours=9)))
    assert i18n.moment(tokyo, "en") == "6 December 2026, 10:36 WIB"
    assert i18n.clock_time(tokyo, "id") == "10.36"
    assert i18n.clock_time(tokyo, "en") == "10:36"


def test_a_day_alone_is_the_jakarta_day() -> None:
    assert i18n.day(LATE_EVENING_UTC, "id") == "6 Desember 2026"
    assert i18n.day(date(2026, 1, 2), "en") == "2 January 2026"


def test_the_zone_is_named_in_one_place() -> None:
    assert WIB.tzname(None) == ZONE_NAME == "WIB"
    assert i18n.moment(MORNING, "en").endswith(f" {ZONE_NAME}")


@pytest.mark.parametrize(
    ("n", "id_", "en"),
    [
        (1, "ke-1", "1st"),
        (2, "ke-2", "2nd"),
        (3, "ke-3", "3rd"),
        (4, "ke-4", "4th"),
        (11, "ke-11", "11th"),
        (12, "ke-12", "12th"),
        (13, "ke-13", "13th"),
        (21, "ke-21", "21st"),
        (86, "ke-86", "86th"),
        (112, "ke-112", "112th"),
        (8215, "ke-8.215", "8,215th"),
    ],
)
def test_positions_read_as_people_write_them(n: int, id_: str, en: str) -> None:
    assert i18n.ordinal(n, "id") == id_
    assert i18n.ordinal(n, "en") == en


def test_templates_have_the_helpers() -> None:
    i18n.set_locale("id")
    page = templates.env.from_string(
        "{{ moment(t) }}|{{ day(t) }}|{{ clock_time(t) }}|{{ ordinal(86) }}|{{ utc_iso(t) }}"
    )
    assert page.render(t=MORNING) == (
        "6 Desember 2026, 10.36 WIB|6 Desember 2026|10.36|ke-86|2026-12-06T03:36:00Z"
    )


def test_a_time_can_leave_its_zone_to_a_sentence_that_writes_it() -> None:
    assert i18n.moment(MORNING, "id", zone=False) == "6 Desember 2026, 10.36"


def test_narrow_columns_get_a_short_month_and_the_hour_with_its_zone() -> None:
    assert i18n.short_day(MORNING, "id") == "6 Des 2026"
    assert i18n.short_day(LATE_EVENING_UTC, "en") == "6 Dec 2026"
    assert i18n.clock_time(MORNING, "id", zone=True) == "10.36 WIB"
