"""The breakdowns of people read before and after one signature: the same numbers all day,
rounded, so that the difference never tells where a supporter lives or how old they are."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from bs4 import BeautifulSoup, Tag
from fastapi.testclient import TestClient
from sqlmodel import Session

from pledge import cache, i18n
from pledge.accounts.models import Role
from pledge.dashboard import service as dashboard
from pledge.dashboard.service import Bucket, Statistics
from pledge.supporters import service as supporters
from pledge.supporters.models import Supporter
from tests.support.dashboard import World
from tests.support.pages import digits, html

Sign = Callable[..., Any]
AsUser = Callable[..., TestClient]

supporter_t = Supporter.__table__  # type: ignore[attr-defined]


def by_key(buckets: list[Bucket]) -> dict[str, int]:
    return {bucket.key: bucket.count for bucket in buckets}


def breakdowns(stats: Statistics) -> tuple[dict[str, int], dict[str, int]]:
    return by_key(stats.provinces.buckets), by_key(stats.age_bands.buckets)


def yesterday() -> datetime:
    return datetime.now(UTC) - timedelta(days=1)


def signed_at(
    session: Session, supporter_id: int, moment: datetime, *, confirmed: bool = True
) -> None:
    """The supporter signed at `moment`, and confirmed then too unless told otherwise."""
    values: dict[str, Any] = {"created_at": moment}
    if confirmed:
        values["confirmed_at"] = moment
    session.execute(sa.update(supporter_t).where(supporter_t.c.id == supporter_id).values(values))
    session.commit()


@pytest.fixture
def before_midnight(session: Session, world: World, sign: Sign) -> None:
    """12 supporters in Aceh aged 20-24 and 3 in Bali aged 17-19, all signed yesterday."""
    for i in range(12):
        signing = sign(
            world.view, contact=f"aceh{i}@example.com", province="ID-AC", age_band="20-24"
        )
        signed_at(session, signing.supporter.id, yesterday())
    for i in range(3):
        signing = sign(
            world.view, contact=f"bali{i}@example.com", province="ID-BA", age_band="17-19"
        )
        signed_at(session, signing.supporter.id, yesterday())


@pytest.fixture
def no_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every request recounts as soon as the number of supporters moves."""
    monkeypatch.setattr(dashboard.recounting.get_settings(), "statistics_cache_seconds", 0.0)


# --- rounding ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("count", "shown"),
    [(0, 0), (1, 0), (2, 0), (3, 5), (7, 5), (8, 10), (10, 10), (12, 10), (13, 15), (25, 25)],
)
def test_counts_are_rounded_to_the_nearest_five(count: int, shown: int) -> None:
    assert dashboard.rounded(count) == shown


def test_small_groups_are_folded_before_the_counts_are_rounded() -> None:
    protected = dashboard.protect(
        [
            Bucket("ID-JK", "DKI Jakarta", 12),
            Bucket("ID-BA", "Bali", 9),
            Bucket("ID-PA", "Papua", 4),
            Bucket("ID-JB", "Jawa Barat", 23),
        ]
    )
    # Bali (9) is below the threshold and stays folded, though 9 rounds to 10.
    assert by_key(protected.buckets) == {"ID-JK": 10, "ID-JB": 25, "other": 15}
    assert protected.folded == 2
    assert all(bucket.count % dashboard.ROUND_TO == 0 for bucket in protected.buckets)


# --- one more signature --------------------------------------------------------------


def test_one_more_signature_changes_no_breakdown_until_the_next_day(
    session: Session, world: World, sign: Sign, before_midnight: None, no_cache: None
) -> None:
    first = dashboard.statistics(session, org=world.lead, slug=world.view.slug)
    assert breakdowns(first) == ({"ID-AC": 10, "other": 5}, {"20-24": 10, "other": 5})

    # Three more from Aceh aged 20-24 would move 12 to 15: none of them shows today.
    for i in range(3):
        sign(world.view, contact=f"new{i}@example.com", province="ID-AC", age_band="20-24")
    after = dashboard.statistics(session, org=world.lead, slug=world.view.slug)
    assert after.counts.total == first.counts.total + 3  # the tallies are live
    assert breakdowns(after) == breakdowns(first)

    # Another process counting afresh finds the same numbers.
    cache.clear_all()
    elsewhere = dashboard.statistics(session, org=world.lead, slug=world.view.slug)
    assert breakdowns(elsewhere) == breakdowns(first)
    assert elsewhere.people_until == first.people_until == dashboard.day_start(datetime.now(UTC))

    tomorrow = dashboard.statistics(
        session, org=world.lead, slug=world.view.slug, now=datetime.now(UTC) + timedelta(days=1)
    )
    assert breakdowns(tomorrow) == ({"ID-AC": 15, "other": 5}, {"20-24": 15, "other": 5})
    assert tomorrow.people_until == first.people_until + timedelta(days=1)


def test_a_signature_from_yesterday_confirmed_today_waits_for_the_next_day(
    session: Session, world: World, sign: Sign, before_midnight: None, no_cache: None
) -> None:
    first = dashboard.statistics(session, org=world.lead, slug=world.view.slug)
    pending = []
    for i in range(3):
        signing = sign(
            world.view, contact=f"late{i}@example.com", province="ID-AC", confirmed=False
        )
        signed_at(session, signing.supporter.id, yesterday(), confirmed=False)
        pending.append(signing)
    for signing in pending:
        supporters.confirm(session, link_digest=signing.ticket.link_digest)
    after = dashboard.statistics(session, org=world.lead, slug=world.view.slug)
    assert after.counts.total == first.counts.total + 3
    assert breakdowns(after) == breakdowns(first)


# --- the page ------------------------------------------------------------------------


def people_tables(page: BeautifulSoup) -> dict[str, dict[str, int]]:
    tables: dict[str, dict[str, int]] = {}
    for table_id in ("per-province", "per-age-band"):
        table = page.select_one(f"table#{table_id}")
        assert isinstance(table, Tag)
        tables[table_id] = {
            str(row["data-key"]): digits(row.select("td")[0].get_text())
            for row in table.select("tbody tr")
        }
    return tables


def test_the_page_reads_the_same_before_and_after_a_signature(
    world: World, as_user: AsUser, sign: Sign, before_midnight: None, no_cache: None
) -> None:
    browser = as_user(world.lead, Role.ADMIN)
    before = html(browser.get(world.path("statistics")))
    sign(world.view, contact="victim@example.com", province="ID-BA", age_band="17-19")
    after = html(browser.get(world.path("statistics")))

    assert (
        people_tables(after)
        == people_tables(before)
        == {
            "per-province": {"ID-AC": 10, "other": 5},
            "per-age-band": {"20-24": 10, "other": 5},
        }
    )
    total = after.select_one(".count.total")
    assert total is not None and digits(total.get_text()) == 16


@pytest.mark.parametrize(
    ("lang", "words"),
    [("en", ("rounded to the nearest 5", "once a day")), ("id", ("dibulatkan", "sekali sehari"))],
)
def test_the_page_says_what_is_done_and_when_the_numbers_were_taken(
    world: World, as_user: AsUser, before_midnight: None, lang: str, words: tuple[str, ...]
) -> None:
    page = html(as_user(world.lead, Role.ADMIN).get(world.path("statistics") + f"?lang={lang}"))
    note = page.select_one("section.people .snapshot-note")
    assert note is not None
    text = note.get_text(" ", strip=True)
    midnight = dashboard.day_start(datetime.now(UTC))
    assert f"{i18n.moment(midnight, lang)}; " in text
    for word in words:
        assert word in text
