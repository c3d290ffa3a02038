"""Translations: Babel catalogues loaded from .po files, the current locale per request."""

from __future__ import annotations

import gettext as _gettext
from contextvars import ContextVar
from datetime import date, datetime
from functools import cache
from io import BytesIO
from pathlib import Path

from babel import Locale
from babel.dates import format_date, format_skeleton
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

from pledge.clock import ZONE_NAME, local

LOCALES = ("id", "en")
DEFAULT_LOCALE = "id"
LANGUAGE_NAMES = {"id": "Bahasa Indonesia", "en": "English"}
TRANSLATIONS_DIR = Path(__file__).parent / "translations"

_locale: ContextVar[str] = ContextVar("locale", default=DEFAULT_LOCALE)


@cache
def translations(locale: str) -> _gettext.NullTranslations:
    """Compile the locale's .po file in memory: no build step, never out of date."""
    po_path = TRANSLATIONS_DIR / locale / "LC_MESSAGES" / "messages.po"
    if not po_path.exists():
        return _gettext.NullTranslations()
    with po_path.open("rb") as po_file:
        catalog = read_po(po_file, locale=locale)
    buffer = BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return _gettext.GNUTranslations(buffer)


def get_locale() -> str:
    return _locale.get()


def set_locale(locale: str) -> None:
    _locale.set(locale if locale in LOCALES else DEFAULT_LOCALE)


def negotiate(requested: str | None) -> str | None:
    if not requested:
        return None
    code = requested.strip().lower()[:5].replace("_", "-").split("-")[0]
    return code if code in LOCALES else None


def gettext(message: str) -> str:
    return translations(get_locale()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(get_locale()).ngettext(singular, plural, n)


def month_name(day: date) -> str:
    """A month and its year as readers of the current language write them: Februari 2024."""
    return format_date(day, "LLLL y", locale=get_locale())


def day(value: date | datetime, locale: str | None = None) -> str:
    """A day as readers of the language write it (6 Desember 2026; 6 December 2026); a
    stored time is taken in Western Indonesian Time, as the site shows every time."""
    if isinstance(value, datetime):
        value = local(value).date()
    return format_date(value, "d MMMM y", locale=locale or get_locale())


def short_day(value: date | datetime, locale: str | None = None) -> str:
    """A day with its month cut short, for narrow columns: 6 Des 2026; 6 Dec 2026."""
    if isinstance(value, datetime):
        value = local(value).date()
    return format_date(value, "d MMM y", locale=locale or get_locale())


def clock_time(value: datetime, locale: str | None = None, *, zone: bool = False) -> str:
    """The time of day of a stored time in Western Indonesian Time, on the 24-hour clock as
    readers of the language write it (10.36; 10:36), with the zone when asked (10.36 WIB)."""
    written = format_skeleton("Hm", local(value), locale=locale or get_locale())
    return f"{written} {ZONE_NAME}" if zone else written


def moment(value: datetime, locale: str | None = None, *, zone: bool = True) -> str:
    """A stored (UTC) time as people write it, in Western Indonesian Time with its zone:
    6 Desember 2026, 10.36 WIB; 6 December 2026, 10:36 WIB. Without the zone (``zone=False``)
    for a sentence whose translation writes "WIB" after the time itself."""
    written = f"{day(value, locale)}, {clock_time(value, locale)}"
    return f"{written} {ZONE_NAME}" if zone else written


# English ordinal suffixes by the plural category CLDR gives a number's ordinal.
_EN_SUFFIXES = {"one": "st", "two": "nd", "few": "rd"}


def ordinal(value: int, locale: str | None = None) -> str:
    """A position as readers of the language write it: ke-86 (Indonesian), 86th (English)."""
    locale = locale or get_locale()
    written = format_decimal(value, locale=locale)
    if locale == "id":
        return f"ke-{written}"
    form = Locale.parse(locale).ordinal_form(value)
    return written + _EN_SUFFIXES.get(form, "th")


def number(value: int | float) -> str:
    """A count written the way readers of the current language expect: 8.215 or 8,215."""
    return format_decimal(value, locale=get_locale())
