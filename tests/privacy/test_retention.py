"""Retention: supporters of long-closed campaigns are anonymised with every count kept,
reporters' contacts on closed cases are removed, and runs are safe to repeat and to overlap."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from pledge import audit
from pledge.campaigns import service as campaigns
from pledge.campaigns.models import Campaign, CampaignStatus, CampaignView
from pledge.cli import main
from pledge.config import get_settings
from pledge.dashboard import service as dashboard
from pledge.db import utcnow
from pledge.hoaxes import service as hoaxes
from pledge.hoaxes.models import CaseStatus, HoaxCase, HoaxReport
from pledge.privacy import retention
from pledge.supporters import service as supporters
from pledge.supporters.models import SignOutcome, Supporter

MakeCampaign = Callable[..., CampaignView]
Sign = Callable[..., Any]

campaign_t = Campaign.__table__  # type: ignore[attr-defined]
supporter_t = Supporter.__table__  # type: ignore[attr-defined]
report_t = HoaxReport.__table__  # type: ignore[attr-defined]

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
PERSONAL = ("display_name", "contact_digest", "contact_encrypted", "show_name")


# --- helpers ---------------------------------------------------------------------------------


def backdate(
    session: Session, view: CampaignView, *, closed_at: datetime | None, ends_at: datetime | None
) -> None:
    session.execute(
        sa.update(campaign_t)
        .where(campaign_t.c.id == view.id)
        .values(closed_at=closed_at, ends_at=ends_at)
    )
    session.commit()


def close(session: Session, view: CampaignView, *, months_ago: int) -> None:
    """Close the campaign as its admins would, then move the closing back in time."""
    campaign = campaigns.get_by_slug(session, view.slug)
    campaigns.set_status(session, campaign=campaign, status=CampaignStatus.CLOSED)
    session.commit()
    moment = retention.months_before(NOW, months_ago)
    backdate(session, view, closed_at=moment, ends_at=moment)


def rows(session: Session, view: CampaignView) -> dict[int, dict[str, Any]]:
    session.commit()
    found = session.execute(
        sa.select(supporter_t).where(supporter_t.c.campaign_id == view.id)
    ).mappings()
    return {row["id"]: dict(row) for row in found}


def sign_people(session: Session, sign: Sign, view: CampaignView, prefix: str, n: int = 3) -> None:
    """Supporters with everything a person can leave: a name shown publicly, a contact kept
    for a partner's news, a referral, an age band; the later ones invited by the first."""
    first = sign(
        view,
        name=f"{prefix.title()} Pertama",
        contact=f"{prefix}0@example.com",
        province="ID-JB",
        age_band="20-24",
        show_name="on",
        updates_org=view.partners[0].slug,
        ref=view.partners[1].referral_code,
        pledges=["tolak-politik-uang", "lawan-hoaks"],
    )
    code = session.execute(
        sa.select(supporter_t.c.invite_code).where(supporter_t.c.id == first.supporter.id)
    ).scalar_one()
    session.commit()
    for i in range(1, n):
        sign(
            view,
            name=f"{prefix.title()} {i}",
            contact=f"0812 3456 {i:04d}" if i % 2 else f"{prefix}{i}@example.com",
            province="ID-JK" if i % 2 else "ID-BA",
            age_band="17-19",
            show_name="on",
            invite=code,
        )


def statistics(session: Session, view: CampaignView) -> dict[str, Any]:
    """Every number about a campaign that people see: tallies, recounts, breakdowns."""
    session.commit()
    return {
        "tallies": supporters.read_counts(session, campaign_id=view.id).by_key,
        "recount": supporters.true_counts(session, campaign_id=view.id),
        "provinces": dashboard.by_province(session, campaign_id=view.id),
        "ages": dashboard.by_age_band(session, campaign_id=view.id),
        "opted_in": [dashboard.count_opted_in(session, partner=p) for p in view.partners],
        "friends": {
            supporter_id: supporters.count_friends(session, supporter_id=supporter_id)
            for supporter_id in rows(session, view)
        },
    }


@pytest.fixture
def months(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[int], None]]:
    """Set PLEDGE_RETENTION_MONTHS for one test."""

    def set_months(value: int) -> None:
        monkeypatch.setenv("PLEDGE_RETENTION_MONTHS", str(value))
        get_settings.cache_clear()

    yield set_months
    monkeypatch.delenv("PLEDGE_RETENTION_MONTHS", raising=False)
    get_settings.cache_clear()


# --- the closing time ------------------------------------------------------------------------


def test_months_before_counts_calendar_months() -> None:
    assert retention.months_before(NOW, 6) == datetime(2026, 5, 28, 9, 0, tzinfo=UTC)
    assert retention.months_before(NOW, 12) == datetime(2025, 11, 28, 9, 0, tzinfo=UTC)
    end_of_august = datetime(2026, 8, 31, 23, 30, tzinfo=UTC)
    assert retention.months_before(end_of_august, 6) == datetime(2026, 2, 28, 23, 30, tzinfo=UTC)
    assert retention.months_before(datetime(2024, 8, 31, tzinfo=UTC), 6) == datetime(
        2024, 2, 29, tzinfo=UTC
    )


def test_closing_a_campaign_records_when_and_reopening_clears_it(
    session: Session, make_campaign: MakeCampaign
) -> None:
    view = make_campaign()
    campaign = campaigns.get_by_slug(session, view.slug)
    assert campaign.closed_at is None

    before = utcnow()
    campaigns.set_status(session, campaign=campaign, status=CampaignStatus.CLOSED)
    session.commit()
    closed = campaigns.get_by_slug(session, view.slug)
    assert closed.closed_at is not None
    assert before <= closed.closed_at <= utcnow()

    campaigns.set_status(session, campaign=closed, status=CampaignStatus.LIVE)
    session.commit()
    assert campaigns.get_by_slug(session, view.slug).closed_at is None


# --- who is anonymised -----------------------------------------------------------------------


def test_only_supporters_of_campaigns_closed_longer_than_the_setting_are_anonymised(
    session: Session, make_campaign: MakeCampaign, sign: Sign
) -> None:
    long_closed, recently_closed, ended, live = (make_campaign() for _ in range(4))
    for prefix, view in [("lama", long_closed), ("baru", recently_closed), ("usai", ended)]:
        sign_people(session, sign, view, prefix)
    sign_people(session, sign, live, "hidup")
    close(session, long_closed, months_ago=7)
    close(session, recently_closed, months_ago=5)
    # Never closed by hand: its end date passed seven months ago.
    backdate(session, ended, closed_at=None, ends_at=retention.months_before(NOW, 7))
    untouched = {view.slug: rows(session, view) for view in (recently_closed, live)}
    before = {view.slug: rows(session, view) for view in (long_closed, ended)}

    report = retention.run(session, now=NOW)

    assert report.months == 6
    assert report.cutoff == datetime(2026, 5, 28, 9, 0, tzinfo=UTC)
    assert report.supporters == 6
    assert report.campaigns == {long_closed.slug: 3, ended.slug: 3}
    for view in (recently_closed, live):
        assert rows(session, view) == untouched[view.slug]
    for view in (long_closed, ended):
        after = rows(session, view)
        assert after.keys() == before[view.slug].keys()
        for supporter_id, row in after.items():
            was = before[view.slug][supporter_id]
            assert was["display_name"] and was["show_name"]
            assert row["display_name"] == ""
            assert row["contact_encrypted"] is None
            assert row["show_name"] is False
            assert row["contact_digest"].startswith("anon:")
            assert row["contact_digest"] != was["contact_digest"]
            assert row["anonymised_at"] == NOW
            # What counts and statistics are made of stays.
            for kept in ("province", "age_band", "referrer_id", "updates_partner_id"):
                assert row[kept] == was[kept], kept
            for kept in ("invite_code", "invited_by_id", "token", "number", "created_at"):
                assert row[kept] == was[kept], kept
        assert len({row["contact_digest"] for row in after.values()}) == len(after)
    # No name of theirs is shown publicly any more.
    assert supporters.list_recent_public(session, campaign_id=long_closed.id) == []


def test_the_earlier_of_closing_by_hand_and_a_passed_end_date_counts(
    session: Session, make_campaign: MakeCampaign, sign: Sign
) -> None:
    view = make_campaign()
    sign(view, contact="telat@example.com")
    # Its end date passed seven months ago; someone closed it by hand only last month.
    backdate(
        session,
        view,
        closed_at=retention.months_before(NOW, 1),
        ends_at=retention.months_before(NOW, 7),
    )
    # An end date in the future is no closing at all, however long ago it was set.
    future = make_campaign()
    sign(future, contact="nanti@example.com")
    backdate(session, future, closed_at=None, ends_at=NOW + timedelta(days=30))

    report = retention.run(session, now=NOW)

    assert report.campaigns == {view.slug: 1}
    assert all(row["anonymised_at"] is None for row in rows(session, future).values())


def test_the_setting_decides_how_long_data_is_kept(
    session: Session,
    make_campaign: MakeCampaign,
    sign: Sign,
    months: Callable[[int], None],
) -> None:
    view = make_campaign()
    sign(view, contact="sabar@example.com")
    close(session, view, months_ago=7)
    months(12)
    assert retention.run(session, now=NOW).supporters == 0
    months(7)
    report = retention.run(session, now=NOW)
    assert (report.months, report.supporters) == (7, 1)


def test_a_campaign_that_was_reopened_keeps_its_supporters(
    session: Session, make_campaign: MakeCampaign, sign: Sign
) -> None:
    view = make_campaign()
    sign(view, contact="kembali@example.com")
    campaign = campaigns.get_by_slug(session, view.slug)
    campaigns.set_status(session, campaign=campaign, status=CampaignStatus.CLOSED)
    session.commit()
    campaigns.set_status(session, campaign=campaign, status=CampaignStatus.LIVE)
    session.commit()
    # A year later, it is still open.
    assert retention.run(session, now=utcnow() + timedelta(days=365)).supporters == 0


# --- what stays the same ---------------------------------------------------------------------


def test_counts_tallies_and_statistics_are_unchanged(
    session: Session, make_campaign: MakeCampaign, sign: Sign
) -> None:
    view = make_campaign()
    sign_people(session, sign, view, "hitung", n=5)
    sign(view, contact="hitung0@example.com", pledges=["gunakan-hak-pilih"])  # returns, adds one
    close(session, view, months_ago=8)
    before = statistics(session, view)
    assert before["tallies"]["total"] == 5

    assert retention.run(session, now=NOW).supporters == 5

    # Every count stays; only "asked your organisation for news" drops, as their contacts are
    # gone and the partner's export lists nobody any more.
    assert statistics(session, view) == {**before, "opted_in": [0] * len(before["opted_in"])}
    supporters.invalidate_counts()
    assert supporters.get_counts(session, campaign_id=view.id).by_key == before["tallies"]
    assert supporters.reconcile(session) == []


def test_the_same_person_signing_again_later_counts_as_new(
    session: Session, make_campaign: MakeCampaign, sign: Sign
) -> None:
    view = make_campaign()
    assert sign(view, contact="Rina@Example.com").outcome == SignOutcome.NEW
    close(session, view, months_ago=7)
    retention.run(session, now=NOW)

    campaign = campaigns.get_by_slug(session, view.slug)
    campaigns.set_status(session, campaign=campaign, status=CampaignStatus.LIVE)
    session.commit()
    reopened = campaigns.get_view(session, slug=view.slug, public=False)
    again = sign(reopened, contact="rina@example.com")

    assert again.outcome == SignOutcome.NEW
    assert supporters.read_counts(session, campaign_id=view.id).total == 2
    assert len(rows(session, view)) == 2


# --- reporters' contacts ---------------------------------------------------------------------


def report(session: Session, view: CampaignView, url: str, contact: str) -> HoaxReport:
    form = hoaxes.ReportForm(
        url=url,
        platform="facebook",
        category="false_claim",
        description="Katanya TPS dipindah.",
        contact=contact,
        consent="on",
    )
    found = hoaxes.submit(session, view=view, form=form)
    assert found is not None
    return found


def test_reporters_contacts_left_on_closed_cases_are_removed(
    session: Session, make_campaign: MakeCampaign
) -> None:
    view = make_campaign()
    closed = report(session, view, "https://example.org/hoaks-1", "pelapor1@example.com")
    still_open = report(session, view, "https://example.org/hoaks-2", "0812 1111 2222")
    # Closed the way it was before closing a case removed contacts: the contact is left.
    session.execute(
        sa.update(HoaxCase.__table__)  # type: ignore[attr-defined]
        .where(sa.column("id") == closed.case_id)
        .values(status=CaseStatus.NOT_HOAX.value)
    )
    session.commit()

    result = retention.run(session, now=NOW)

    assert result.reporter_contacts == 1
    contacts = dict(session.execute(sa.select(report_t.c.id, report_t.c.contact_encrypted)).all())
    assert contacts[closed.id] is None
    assert contacts[still_open.id] is not None  # the moderators may still need to ask
    assert retention.run(session, now=NOW).reporter_contacts == 0


# --- running it ------------------------------------------------------------------------------


def test_a_second_run_changes_nothing(
    session: Session, make_campaign: MakeCampaign, sign: Sign
) -> None:
    view = make_campaign()
    sign_people(session, sign, view, "ulang")
    close(session, view, months_ago=7)
    assert retention.run(session, now=NOW).supporters == 3
    first = rows(session, view)

    again = retention.run(session, now=NOW + timedelta(days=1))

    assert (again.supporters, again.campaigns, again.reporter_contacts) == (0, {}, 0)
    assert rows(session, view) == first  # placeholders are not redrawn, times not moved


def test_supporters_are_anonymised_in_batches(
    session: Session, make_campaign: MakeCampaign, sign: Sign
) -> None:
    view = make_campaign()
    for i in range(5):
        sign(view, contact=f"batch{i}@example.com")
    done = supporters.anonymise(session, campaign_id=view.id, now=NOW, batch=2)
    assert done == 5
    assert all(row["anonymised_at"] == NOW for row in rows(session, view).values())


def test_two_runs_at_once_process_each_supporter_once_and_both_return(
    engine: sa.Engine, session: Session, make_campaign: MakeCampaign, sign: Sign
) -> None:
    views = [make_campaign() for _ in range(3)]
    for n, view in enumerate(views):
        for i in range(10):
            sign(view, contact=f"serentak{n}-{i}@example.com")
        close(session, view, months_ago=9)
    barrier = threading.Barrier(2, timeout=30)
    reports: list[retention.RetentionReport] = []
    failures: list[BaseException] = []

    def run() -> None:
        try:
            with Session(engine, expire_on_commit=False) as own:
                barrier.wait()
                reports.append(retention.run(own, now=NOW))
        except BaseException as error:  # the main thread reports it
            failures.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not any(thread.is_alive() for thread in threads), "a run did not return"
    assert failures == []
    assert len(reports) == 2
    assert sum(r.supporters for r in reports) == 30
    anonymised = session.execute(
        sa.select(sa.func.count()).where(supporter_t.c.anonymised_at.is_not(None))
    ).scalar_one()
    assert anonymised == 30
    for view in views:
        assert supporters.read_counts(session, campaign_id=view.id).total == 10


@pytest.mark.postgres_only  # the advisory lock is PostgreSQL's; SQLite serialises writers
def test_on_postgresql_a_run_steps_aside_while_another_holds_the_lock(
    engine: sa.Engine, session: Session, dialect: str, make_campaign: MakeCampaign, sign: Sign
) -> None:
    assert dialect == "postgresql"
    view = make_campaign()
    sign(view, contact="antri@example.com")
    close(session, view, months_ago=7)
    with engine.connect() as other_host:
        held = other_host.execute(sa.select(sa.func.pg_try_advisory_lock(retention.LOCK_KEY)))
        assert held.scalar() is True
        other_host.commit()

        waiting = retention.run(session, now=NOW)

        assert waiting.skipped
        assert waiting.supporters == 0
        assert str(waiting) == "Another retention run is in progress; this one changed nothing."
        assert all(row["anonymised_at"] is None for row in rows(session, view).values())
        other_host.execute(sa.select(sa.func.pg_advisory_unlock(retention.LOCK_KEY)))
        other_host.commit()

    assert retention.run(session, now=NOW).supporters == 1


def test_each_run_records_one_audit_event_without_personal_data(
    session: Session, make_campaign: MakeCampaign, sign: Sign
) -> None:
    view = make_campaign()
    sign(view, name="Siti Rahmawati", contact="Siti.R@Example.com", updates_org="")
    sign(view, name="Budi Santoso", contact="0812 7777 8888")
    close(session, view, months_ago=7)

    retention.run(session, now=NOW)
    retention.run(session, now=NOW)

    session.commit()
    events = audit.list_events(session, action="privacy.retention")
    assert len(events) == 2
    latest, first = events
    assert first.actor_id is None
    assert first.subject == "privacy:retention"
    assert json.loads(first.data) == {
        "campaign_ids": [view.id],
        "cutoff": "2026-05-28T09:00:00+00:00",
        "messages_deleted": 0,
        "months": 6,
        "pending_deleted": 0,
        "reminded": 0,
        "reporter_contacts": 0,
        "skipped": False,
        "supporters": 2,
    }
    assert json.loads(latest.data)["supporters"] == 0
    stored = " ".join(f"{e.subject} {e.reason} {e.data}" for e in events).lower()
    for personal in ("siti", "budi", "example.com", "8888", "6281277778888"):
        assert personal not in stored


def test_the_command_prints_a_report(
    session: Session, make_campaign: MakeCampaign, sign: Sign, capsys: pytest.CaptureFixture[str]
) -> None:
    view = make_campaign(slug="pemilu-lama")
    sign(view, contact="satu@example.com")
    sign(view, contact="dua@example.com")
    # Closed long enough before today, whatever day the test runs.
    campaign = campaigns.get_by_slug(session, view.slug)
    campaigns.set_status(session, campaign=campaign, status=CampaignStatus.CLOSED)
    session.commit()
    long_ago = utcnow() - timedelta(days=400)
    backdate(session, view, closed_at=long_ago, ends_at=long_ago)

    assert main(["retention", "run"]) == 0

    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("Retention 6 month(s): campaigns closed on or before ")
    assert lines[1:] == [
        "pemilu-lama: 2 supporter(s) anonymised",
        "2 supporter(s) anonymised in total.",
        "0 reporter contact(s) removed from closed cases.",
        "0 reminder(s) sent to signers who have not confirmed.",
        "0 unconfirmed signature(s) deleted.",
        "0 old message(s) removed from the outbox.",
    ]
    assert all(row["display_name"] == "" for row in rows(session, view).values())
