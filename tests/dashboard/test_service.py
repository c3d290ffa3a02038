"""The dashboard's queries: statistics, small-group folding, WIB time buckets, the export."""

from __future__ import annotations

import csv
import io
import json
import types
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from pledge.accounts.models import User
from pledge.audit import list_events
from pledge.dashboard import service as dashboard
from pledge.dashboard.service import Bucket
from pledge.errors import Invalid, NotFound
from pledge.supporters.models import Signature, Supporter
from tests.support.dashboard import World
from tests.support.factories import MakeUser

Sign = Callable[..., Any]

supporter_t = Supporter.__table__  # type: ignore[attr-defined]
signature_t = Signature.__table__  # type: ignore[attr-defined]


def by_key(buckets: list[Bucket]) -> dict[str, int]:
    return {bucket.key: bucket.count for bucket in buckets}


def tomorrow() -> datetime:
    return datetime.now(UTC) + timedelta(days=1)


def set_signed_at(session: Session, supporter_id: int, moment: datetime) -> None:
    """The supporter signed and confirmed at `moment`."""
    session.execute(
        sa.update(supporter_t)
        .where(supporter_t.c.id == supporter_id)
        .values(created_at=moment, confirmed_at=moment)
    )
    session.execute(
        sa.update(signature_t)
        .where(signature_t.c.supporter_id == supporter_id)
        .values(created_at=moment)
    )
    session.commit()


# --- folding small groups ------------------------------------------------------------


def test_fold_small_keeps_groups_of_ten_and_adds_up_the_smaller_ones() -> None:
    rows = [
        Bucket("ID-JK", "DKI Jakarta", 10),
        Bucket("ID-BA", "Bali", 9),
        Bucket("ID-PA", "Papua", 1),
        Bucket("ID-JB", "Jawa Barat", 25),
    ]
    folded = dashboard.fold_small(rows)
    assert by_key(folded.buckets) == {"ID-JK": 10, "ID-JB": 25, "other": 10}
    assert folded.folded == 2
    assert folded.total == 45
    assert folded.buckets[-1].key == "other"


def test_fold_small_adds_no_other_row_when_every_group_is_large_enough() -> None:
    folded = dashboard.fold_small([Bucket("ID-JK", "DKI Jakarta", 11)])
    assert by_key(folded.buckets) == {"ID-JK": 11}
    assert folded.folded == 0


# --- statistics ----------------------------------------------------------------------


def test_statistics_match_what_was_signed(session: Session, world: World, sign: Sign) -> None:
    view = world.view
    lead_code = view.partners[0].referral_code
    partner_code = view.partners[1].referral_code
    for i in range(12):
        sign(
            view,
            contact=f"jakarta{i}@example.com",
            province="ID-JK",
            age_band="20-24",
            ref=lead_code if i < 5 else "",
            pledges=["tolak-politik-uang", "lawan-hoaks"] if i < 4 else ["tolak-politik-uang"],
        )
    for i in range(3):
        sign(
            view,
            contact=f"bali{i}@example.com",
            province="ID-BA",
            age_band="17-19",
            ref=partner_code,
        )
    sign(view, contact="papua@example.com", province="ID-PA", pledges=["gunakan-hak-pilih"])
    # A returning supporter adds a pledge: counted once, in the pledge's count only.
    sign(view, contact="bali0@example.com", province="ID-BA", pledges=["lawan-hoaks"])
    # Another campaign's supporters do not count here.
    sign(world.elsewhere, contact="other@example.com", province="ID-JK")

    # Tomorrow: the breakdowns of people count who signed before midnight.
    stats = dashboard.statistics(session, org=world.lead, slug=view.slug, now=tomorrow())

    assert stats.counts.total == 16
    assert by_key(stats.pledges) == {
        "tolak-politik-uang": 15,
        "gunakan-hak-pilih": 1,
        "lawan-hoaks": 5,
    }
    assert by_key(stats.partners) == {world.lead.slug: 5, world.partner.slug: 3, "": 8}
    # Folded (17-19 and not given are smaller than 10), then rounded to 5: 12 is 10, 4 is 5.
    assert by_key(stats.provinces.buckets) == {"ID-JK": 10, "other": 5}
    assert stats.provinces.folded == 2
    assert by_key(stats.age_bands.buckets) == {"20-24": 10, "other": 5}
    assert stats.age_bands.folded == 2  # 17-19 (3) and not given (1)
    assert sum(b.count for b in stats.per_day) == 16
    assert sum(b.count for b in stats.per_hour) == 16


def test_groups_of_ten_or_more_are_shown_by_name(
    session: Session, world: World, sign: Sign
) -> None:
    for i in range(10):
        sign(world.view, contact=f"bali{i}@example.com", province="ID-BA")
    for i in range(11):
        sign(world.view, contact=f"aceh{i}@example.com", province="ID-AC", age_band="40+")
    stats = dashboard.statistics(session, org=world.lead, slug=world.view.slug, now=tomorrow())
    # Shown by name, rounded to 5: 11 is 10.
    assert by_key(stats.provinces.buckets) == {"ID-AC": 10, "ID-BA": 10}
    assert by_key(stats.age_bands.buckets) == {"40+": 10, "none": 10}
    assert stats.provinces.folded == 0


def test_a_partner_sees_the_statistics_and_its_own_opted_in_count(
    session: Session, world: World, sign: Sign
) -> None:
    sign(world.view, contact="a@example.com", updates_org=world.partner.slug)
    sign(world.view, contact="b@example.com", updates_org=world.lead.slug)
    sign(world.view, contact="c@example.com", updates_org=world.lead.slug)
    sign(world.view, contact="d@example.com")
    assert dashboard.statistics(session, org=world.partner, slug=world.view.slug).opted_in == 1
    assert dashboard.statistics(session, org=world.lead, slug=world.view.slug).opted_in == 2


def test_statistics_of_a_campaign_the_organisation_has_no_part_in_are_not_found(
    session: Session, world: World
) -> None:
    with pytest.raises(NotFound):
        dashboard.statistics(session, org=world.stranger, slug=world.view.slug)
    with pytest.raises(NotFound):
        dashboard.statistics(session, org=world.lead, slug="no-such-campaign")


@pytest.mark.parametrize("raw", ["14", "0", "-7", "abc", "30.0", " 7x"])
def test_a_day_window_other_than_7_30_or_90_is_refused(raw: str) -> None:
    with pytest.raises(Invalid) as caught:
        dashboard.parse_days(raw)
    assert "days" in caught.value.errors


@pytest.mark.parametrize(("raw", "days"), [(None, 30), ("", 30), ("7", 7), ("30", 30), ("90", 90)])
def test_the_day_window_defaults_to_30(raw: str | None, days: int) -> None:
    assert dashboard.parse_days(raw) == days


@pytest.mark.parametrize("raw", ["٣٠", "３０", " ", "9" * 40])
def test_a_day_window_is_read_as_every_number_field_is(raw: str) -> None:
    """In ASCII digits only, as the shared number check reads them, with its one message."""
    with pytest.raises(Invalid) as caught:
        dashboard.parse_days(raw)
    assert caught.value.errors == {"days": "Choose a period of 7, 30 or 90 days."}
    assert dashboard.parse_days(" 7 ") == 7


# --- time buckets in WIB -------------------------------------------------------------

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)  # 19:00 WIB on 10 March


@pytest.fixture
def timed(session: Session, world: World, sign: Sign) -> dict[str, int]:
    """Supporters signed at chosen moments (UTC), set straight in the database."""
    moments = {
        "a": datetime(2026, 3, 9, 17, 30, tzinfo=UTC),  # 00:30 WIB on 10 March
        "b": datetime(2026, 3, 9, 16, 59, tzinfo=UTC),  # 23:59 WIB on 9 March
        "c": datetime(2026, 3, 10, 11, 5, tzinfo=UTC),  # 18:05 WIB on 10 March: this hour is 19:00
        "d": datetime(2026, 2, 1, 0, 0, tzinfo=UTC),  # 07:00 WIB on 1 February
        "e": datetime(2026, 3, 8, 12, 59, tzinfo=UTC),  # 19:59 WIB on 8 March: before the 48 hours
        "f": datetime(2026, 3, 8, 13, 0, tzinfo=UTC),  # 20:00 WIB on 8 March: the first hour
        "g": datetime(2026, 3, 10, 12, 0, tzinfo=UTC),  # 19:00 WIB: the current hour
    }
    ids = {}
    for name, moment in moments.items():
        signing = sign(world.view, contact=f"{name}@example.com")
        ids[name] = signing.supporter.id
        set_signed_at(session, signing.supporter.id, moment)
    return ids


def test_days_are_counted_in_wib(session: Session, world: World, timed: dict[str, int]) -> None:
    stats = dashboard.statistics(session, org=world.lead, slug=world.view.slug, days="7", now=NOW)
    days = by_key(stats.per_day)
    assert list(days) == [f"2026-03-{d:02d}" for d in range(4, 11)]
    # 17:30 UTC on the 9th is already the 10th in Jakarta; 16:59 UTC is still the 9th.
    assert days["2026-03-10"] == 3  # a, c, g
    assert days["2026-03-09"] == 1  # b
    assert days["2026-03-08"] == 2  # e, f
    assert sum(days.values()) == 6  # d is older than 7 days


def test_the_day_window_reaches_back_7_30_or_90_days(
    session: Session, world: World, timed: dict[str, int]
) -> None:
    def per_day(days: str) -> dict[str, int]:
        stats = dashboard.statistics(
            session, org=world.lead, slug=world.view.slug, days=days, now=NOW
        )
        return by_key(stats.per_day)

    thirty = per_day("30")
    assert len(thirty) == 30
    assert next(iter(thirty)) == "2026-02-09"
    assert "2026-02-01" not in thirty
    ninety = per_day("90")
    assert len(ninety) == 90
    assert ninety["2026-02-01"] == 1
    assert sum(ninety.values()) == 7


def test_hours_are_the_last_48_in_wib(
    session: Session, world: World, timed: dict[str, int]
) -> None:
    stats = dashboard.statistics(session, org=world.lead, slug=world.view.slug, now=NOW)
    hours = by_key(stats.per_hour)
    assert len(hours) == 48
    assert next(iter(hours)) == "2026-03-08T20:00"
    assert list(hours)[-1] == "2026-03-10T19:00"
    assert hours["2026-03-08T20:00"] == 1  # f
    assert hours["2026-03-09T23:00"] == 1  # b
    assert hours["2026-03-10T00:00"] == 1  # a
    assert hours["2026-03-10T18:00"] == 1  # c
    assert hours["2026-03-10T19:00"] == 1  # g
    assert sum(hours.values()) == 5  # d and e are older than 48 hours


def test_every_bucket_of_the_window_is_there_even_when_empty(
    session: Session, world: World
) -> None:
    stats = dashboard.statistics(session, org=world.lead, slug=world.view.slug, now=NOW)
    assert len(stats.per_day) == 30
    assert len(stats.per_hour) == 48
    assert all(bucket.count == 0 for bucket in stats.per_day + stats.per_hour)
    # Labels under the bars: a few, always including today.
    labelled = [bucket for bucket in stats.per_day if bucket.short]
    assert 3 <= len(labelled) <= 10
    assert stats.per_day[-1].short


# --- export --------------------------------------------------------------------------


def read_csv(lines: Iterator[str]) -> list[list[str]]:
    text = "".join(lines)
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))


@pytest.fixture
def opted(world: World, sign: Sign) -> None:
    view = world.view
    sign(
        view,
        name="Rina Putri",
        contact="rina@example.com",
        updates_org=world.lead.slug,
        province="ID-BA",
        age_band="20-24",
        pledges=["tolak-politik-uang", "lawan-hoaks"],
    )
    sign(
        view,
        name='=HYPERLINK("http://evil.example","klik")',
        contact="0812 3456 7890",
        updates_org=world.lead.slug,
    )
    sign(view, name="Budi", contact="budi@example.com", updates_org=world.partner.slug)
    sign(view, name="Sari", contact="sari@example.com")
    sign(world.elsewhere, name="Lain", contact="lain@example.com", updates_org=world.stranger.slug)


def test_export_holds_only_this_organisations_opted_in_supporters(
    session: Session, world: World, opted: None, make_user: MakeUser
) -> None:
    admin = make_user(org=world.lead)
    export = dashboard.export_supporters(session, org=world.lead, slug=world.view.slug, actor=admin)
    assert isinstance(export.lines, types.GeneratorType)  # streamed, not built in memory
    rows = read_csv(export.lines)
    assert len(rows) == 3 and export.rows == 2
    header, rina, evil = rows
    assert len(header) == 6
    assert rina[:4] == ["Rina Putri", "rina@example.com", "Bali", "20-24"]
    assert rina[5] == "Janji tolak-politik-uang; Janji lawan-hoaks"
    # Formula cells are neutralised; so is a phone number's leading +.
    assert evil[0] == '\'=HYPERLINK("http://evil.example","klik")'
    assert evil[1] == "'+6281234567890"
    body = "\n".join(",".join(row) for row in rows)
    assert "budi@example.com" not in body and "sari@example.com" not in body

    partner_admin = make_user(org=world.partner)
    rows = read_csv(
        dashboard.export_supporters(
            session, org=world.partner, slug=world.view.slug, actor=partner_admin
        ).lines
    )
    assert [row[:2] for row in rows[1:]] == [["Budi", "budi@example.com"]]


def test_signed_at_is_written_in_wib(
    session: Session, world: World, sign: Sign, make_user: MakeUser
) -> None:
    signing = sign(world.view, contact="late@example.com", updates_org=world.lead.slug)
    set_signed_at(session, signing.supporter.id, datetime(2026, 3, 9, 17, 30, tzinfo=UTC))
    export = dashboard.export_supporters(
        session, org=world.lead, slug=world.view.slug, actor=make_user(org=world.lead)
    )
    assert read_csv(export.lines)[1][4] == "2026-03-10 00:30"


def test_each_export_is_in_the_audit_log_before_it_is_read(
    session: Session, engine: sa.Engine, world: World, opted: None, make_user: MakeUser
) -> None:
    admin = make_user(org=world.lead)
    export = dashboard.export_supporters(session, org=world.lead, slug=world.view.slug, actor=admin)
    # Committed: another connection sees the event before a line of the file is read.
    with Session(engine) as other:
        events = list_events(other, action="supporters.export")
    assert len(events) == 1
    event = events[0]
    assert event.actor_id == admin.id
    assert event.subject == f"campaign:{world.view.id}"
    assert json.loads(event.data) == {"org": world.lead.slug, "rows": 2}
    export.lines.close()


def test_export_reads_in_batches_and_stops_at_the_rows_it_counted(
    session: Session, world: World, sign: Sign, make_user: MakeUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dashboard.exports, "EXPORT_BATCH", 2)
    for i in range(5):
        sign(
            world.view, name=f"Orang {i}", contact=f"o{i}@example.com", updates_org=world.lead.slug
        )
    export = dashboard.export_supporters(
        session, org=world.lead, slug=world.view.slug, actor=make_user(org=world.lead)
    )
    # Signed after the count in the audit log: not in this file.
    sign(world.view, name="Terlambat", contact="late@example.com", updates_org=world.lead.slug)
    rows = read_csv(export.lines)
    assert [row[0] for row in rows[1:]] == [f"Orang {i}" for i in range(5)]
    assert export.rows == 5


def test_export_never_reads_a_contact_the_organisation_was_not_given(
    session: Session, engine: sa.Engine, world: World, opted: None, make_user: MakeUser
) -> None:
    statements: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    admin = make_user(org=world.lead)
    sa.event.listen(engine, "before_cursor_execute", seen)
    try:
        export = dashboard.export_supporters(
            session, org=world.lead, slug=world.view.slug, actor=admin
        )
        read_csv(export.lines)
    finally:
        sa.event.remove(engine, "before_cursor_execute", seen)
    reading_contacts = [s for s in statements if "contact_encrypted" in s]
    assert reading_contacts
    assert all("updates_partner_id =" in s for s in reading_contacts)


def test_export_of_a_campaign_the_organisation_has_no_part_in_is_not_found(
    session: Session, world: World, make_user: MakeUser
) -> None:
    actor: User = make_user(org=world.stranger)
    with pytest.raises(NotFound):
        dashboard.export_supporters(session, org=world.stranger, slug=world.view.slug, actor=actor)
    assert list_events(session, action="supporters.export") == []


@pytest.mark.parametrize(
    ("cell", "safe"),
    [
        ("=1+1", "'=1+1"),
        ("+62812", "'+62812"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Rina", "Rina"),
        ("17-19", "17-19"),
        ("", ""),
    ],
)
def test_neutralise(cell: str, safe: str) -> None:
    assert dashboard.neutralise(cell) == safe


# --- recounts kept per process ---------------------------------------------------------


def test_an_unchanged_campaign_is_not_recounted(
    session: Session, world: World, sign: Sign, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(10):
        signing = sign(world.view, contact=f"aceh{i}@example.com", province="ID-AC")
        set_signed_at(session, signing.supporter.id, NOW - timedelta(days=1))
    first = dashboard.statistics(session, org=world.lead, slug=world.view.slug, now=NOW)
    recounted: list[int] = []
    real = dashboard.recount
    monkeypatch.setattr(
        dashboard.recounting, "recount", lambda *a, **k: recounted.append(1) or real(*a, **k)
    )
    monkeypatch.setattr(dashboard.recounting.get_settings(), "statistics_cache_seconds", 0.0)

    again = dashboard.statistics(session, org=world.lead, slug=world.view.slug, now=NOW)
    assert recounted == []
    assert again.provinces == first.provinces
    assert again.generated_at == first.generated_at

    # Another supporter changes the number: with no grace period, it is recounted at once,
    # though the breakdowns of people count only who signed before midnight.
    signing = sign(world.view, contact="aceh10@example.com", province="ID-AC")
    set_signed_at(session, signing.supporter.id, NOW - timedelta(hours=1))
    changed = dashboard.statistics(session, org=world.lead, slug=world.view.slug, now=NOW)
    assert recounted == [1]
    assert by_key(changed.provinces.buckets) == {"ID-AC": 10}
    assert sum(by_key(changed.per_hour).values()) == sum(by_key(first.per_hour).values()) + 1


def test_a_recent_recount_serves_while_the_number_moves(
    session: Session, world: World, sign: Sign, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(10):
        signing = sign(world.view, contact=f"aceh{i}@example.com", province="ID-AC")
        set_signed_at(session, signing.supporter.id, NOW - timedelta(hours=2))
    monkeypatch.setattr(dashboard.recounting.get_settings(), "statistics_cache_seconds", 60.0)
    first = dashboard.statistics(session, org=world.lead, slug=world.view.slug, now=NOW)
    signing = sign(world.view, contact="aceh10@example.com", province="ID-AC")
    set_signed_at(session, signing.supporter.id, NOW - timedelta(hours=1))

    later = dashboard.statistics(session, org=world.lead, slug=world.view.slug, now=NOW)
    # The tallies are live; the charts are those of the recount, and say when it was.
    assert later.counts.total == 11
    assert sum(by_key(later.per_hour).values()) == 10
    assert later.generated_at == first.generated_at

    clock = dashboard.recounting.time.monotonic() + 61
    monkeypatch.setattr(dashboard.recounting.time, "monotonic", lambda: clock)
    fresh = dashboard.statistics(session, org=world.lead, slug=world.view.slug, now=NOW)
    assert sum(by_key(fresh.per_hour).values()) == 11


def test_a_recount_is_never_kept_past_ten_minutes(
    session: Session, world: World, sign: Sign, monkeypatch: pytest.MonkeyPatch
) -> None:
    signing = sign(world.view, contact="a@example.com", province="ID-AC")
    set_signed_at(session, signing.supporter.id, NOW - timedelta(days=1))
    dashboard.statistics(session, org=world.lead, slug=world.view.slug, now=NOW)
    # A change the tallies do not show (here: written straight to the table).
    session.execute(sa.update(supporter_t).values(province="ID-BA"))
    session.commit()
    clock = dashboard.recounting.time.monotonic() + dashboard.Recounts.KEEP_UNCHANGED + 1
    monkeypatch.setattr(dashboard.recounting.time, "monotonic", lambda: clock)
    stats = dashboard.statistics(session, org=world.lead, slug=world.view.slug, now=NOW)
    assert [b.label for b in stats.provinces.buckets] == [
        "Other (groups of fewer than 10)"
    ] and stats.provinces.folded == 1
    assert dashboard.recounts.get(
        session, campaign_id=world.view.id, total=1, now=NOW.astimezone(dashboard.WIB)
    ).provinces == [Bucket(key="ID-BA", label="Bali", count=1)]


def test_a_new_day_is_recounted(session: Session, world: World, timed: dict[str, int]) -> None:
    today = dashboard.statistics(session, org=world.lead, slug=world.view.slug, now=NOW)
    tomorrow = dashboard.statistics(
        session, org=world.lead, slug=world.view.slug, now=NOW + timedelta(days=1)
    )
    assert list(by_key(tomorrow.per_day))[-1] == "2026-03-11"
    assert tomorrow.generated_at > today.generated_at


def test_requests_that_find_a_stale_recount_wait_for_one_recount(
    session: Session, world: World, engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    calls: list[int] = []
    started = threading.Event()
    release = threading.Event()
    real = dashboard.recount

    def slow(*args: Any, **kwargs: Any) -> dashboard.Recount:
        calls.append(1)
        started.set()
        release.wait(60)
        return real(*args, **kwargs)

    monkeypatch.setattr(dashboard.recounting, "recount", slow)
    now = NOW.astimezone(dashboard.WIB)
    results: list[dashboard.Recount] = []

    def ask() -> None:
        with Session(engine) as own:
            results.append(dashboard.recounts.get(own, campaign_id=world.view.id, total=0, now=now))

    threads = [threading.Thread(target=ask) for _ in range(6)]
    threads[0].start()
    assert started.wait(60)
    for thread in threads[1:]:
        thread.start()
    release.set()
    for thread in threads:
        thread.join(60)
    assert len(results) == 6
    assert calls == [1]
    assert len({id(result) for result in results}) == 1
