"""The benchmarks' seed (bench/seed.py) writes rows the app reads as its own: the bulk path
binds each value as the column's type would, a report's text is prepared and indexed as the
server does it, and the tallies are recounted. On PostgreSQL the load without foreign-key
checks, as the benchmark runs it, writes nothing that breaks them."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from bench import seed as seeding
from pledge.campaigns.models import Campaign
from pledge.hoaxes import textmatch
from pledge.hoaxes.models import HoaxReport, HoaxTextBand
from pledge.supporters.models import Signature, Supporter, SupporterState
from pledge.supporters.service import tallies
from tests.support.pgserver import superuser_url
from tests.support.settings import UseSettings


def indexes(session: Session) -> set[tuple[str, str]]:
    if session.get_bind().dialect.name == "postgresql":
        query = "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()"
    else:
        query = "SELECT name, coalesce(sql, tbl_name) FROM sqlite_master WHERE type = 'index'"
    return {(name, definition) for name, definition in session.execute(sa.text(query))}


def seeded(
    session: Session, use_settings: UseSettings, url: str, *, checks: bool = True
) -> Campaign:
    use_settings(database_url=url)
    before = indexes(session)
    session.commit()
    seeding.seed(supporters_count=60, reports_count=25, pending_count=4, foreign_key_checks=checks)
    session.expire_all()
    # The indexes it built after the rows went in are those the schema had, all of them.
    assert indexes(session) == before
    assert any(name == "ix_supporter_referrer_id" for name, _ in before)
    return session.exec(select(Campaign).where(Campaign.slug == seeding.SLUG)).one()


def check(session: Session, campaign: Campaign) -> None:
    people = session.exec(select(Supporter).where(Supporter.campaign_id == campaign.id)).all()
    states = sorted(person.state for person in people)
    assert states.count(SupporterState.COUNTED) == 60
    assert states.count(SupporterState.PENDING) == 4
    now = datetime.now(UTC)
    for person in people:  # read back as the app wrote them: aware times, enum states
        assert person.created_at.tzinfo is not None
        assert now - timedelta(days=91) < person.created_at <= now
    # Stored as the app stores them: the bulk rows' times have the shape of the pending ones,
    # which went through the server's own writes.
    stored = session.execute(sa.text("SELECT created_at FROM supporter")).scalars().all()
    assert len({re.sub(r"\d", "0", str(value)) for value in stored}) == 1, set(stored[-6:])
    numbers = sorted(p.number for p in people if p.state == SupporterState.COUNTED)
    assert numbers == list(range(1, 61))
    assert tallies.reconcile(session) == []  # the seed left the tallies as a recount makes them

    orphans = session.exec(
        select(func.count())
        .select_from(Signature)
        .where(~col(Signature.supporter_id).in_(select(Supporter.id)))
    ).one()
    assert orphans == 0
    matcher = textmatch.default_matcher()
    reports = session.exec(select(HoaxReport).where(HoaxReport.campaign_id == campaign.id)).all()
    assert len(reports) == 25
    for report in reports:
        text = matcher.prepare(report.description)
        assert report.match_text == text.text
        bands = session.exec(
            select(HoaxTextBand.band, HoaxTextBand.value).where(HoaxTextBand.report_id == report.id)
        ).all()
        assert sorted(bands) == sorted(dict.fromkeys(matcher.bands(text)))


def test_the_seed_writes_rows_the_app_reads_as_its_own(
    session: Session, use_settings: UseSettings, database_url: str
) -> None:
    check(session, seeded(session, use_settings, database_url))


def test_without_foreign_key_checks_the_seed_writes_the_same(
    session: Session, use_settings: UseSettings, database_url: str, dialect: str
) -> None:
    if dialect != "postgresql":
        use_settings(database_url=database_url)
        with pytest.raises(SystemExit, match="PostgreSQL only"):  # SQLite has no such switch
            seeding.seed(supporters_count=1, reports_count=0, foreign_key_checks=False)
        return
    campaign = seeded(session, use_settings, superuser_url(database_url), checks=False)
    check(session, campaign)
    # The tables stay the app's role's: its own connection writes to them afterwards.
    session.execute(sa.text("UPDATE supporter SET show_name = NOT show_name"))
    session.commit()
