"""The ``pledge`` command on the test database: repairing tallies, seeding the demo, migrating."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from sqlmodel import Session

from pledge.campaigns import service as campaigns
from pledge.campaigns.models import CampaignStatus, CampaignView
from pledge.cli import alembic_config, main
from pledge.demo import CAMPAIGN_SLUG
from pledge.supporters import service as supporters
from pledge.supporters.models import TOTAL, Signing, Supporter, Tally

MakeCampaign = Callable[..., CampaignView]
Sign = Callable[..., Signing]


def _supporters(session: Session) -> int:
    return session.execute(sa.select(sa.func.count()).select_from(Supporter)).scalar_one()


def test_tallies_reconcile_says_when_all_counters_agree(
    make_campaign: MakeCampaign, sign: Sign, capsys: pytest.CaptureFixture[str]
):
    view = make_campaign()
    sign(view, contact="satu@example.com")
    sign(view, contact="dua@example.com")

    assert main(["tallies", "reconcile"]) == 0

    out = capsys.readouterr().out
    assert out.strip() == "All counters agree with the signatures."


def test_tallies_reconcile_repairs_and_reports_each_counter(
    make_campaign: MakeCampaign, session: Session, sign: Sign, capsys: pytest.CaptureFixture[str]
):
    view = make_campaign()
    sign(view, contact="satu@example.com")
    sign(view, contact="dua@example.com")
    tally = Tally.__table__  # type: ignore[attr-defined]
    tally_id = session.execute(
        sa.select(sa.func.min(tally.c.id)).where(
            tally.c.campaign_id == view.id, tally.c.key == TOTAL
        )
    ).scalar_one()
    session.execute(sa.update(tally).where(tally.c.id == tally_id).values(value=tally.c.value + 7))
    session.commit()

    assert main(["tallies", "reconcile"]) == 0

    lines = capsys.readouterr().out.strip().splitlines()
    assert lines == [f"{view.slug} total: 9 -> 2", "1 counter(s) repaired."]
    assert supporters.read_counts(session, campaign_id=view.id).total == 2
    assert main(["tallies", "reconcile"]) == 0
    assert "All counters agree" in capsys.readouterr().out


def test_demo_seeds_the_campaign_and_is_idempotent(
    session: Session, capsys: pytest.CaptureFixture[str]
):
    assert main(["demo", "--supporters", "5"]) == 0
    assert f"/c/{CAMPAIGN_SLUG}" in capsys.readouterr().out

    view = campaigns.get_view(session, slug=CAMPAIGN_SLUG)
    assert view.campaign.status == CampaignStatus.LIVE
    assert len(view.pledges) == 3
    assert len(view.partners) == 5
    first = supporters.read_counts(session, campaign_id=view.id).by_key
    assert first[TOTAL] == 5
    assert _supporters(session) == 5

    assert main(["demo", "--supporters", "5"]) == 0

    session.expire_all()
    assert supporters.read_counts(session, campaign_id=view.id).by_key == first
    assert _supporters(session) == 5
    assert supporters.reconcile(session) == []


def test_db_upgrade_on_the_migrated_database(engine: sa.Engine, capsys: pytest.CaptureFixture[str]):
    assert main(["db", "upgrade"]) == 0
    assert "latest schema" in capsys.readouterr().out

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    with engine.connect() as conn:
        version = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar_one()
        tables = set(sa.inspect(conn).get_table_names())
    assert head is not None and version == head
    assert {"campaign", "pledge", "supporter", "signature", "tally"} <= tables


def test_an_unknown_command_is_refused(capsys: pytest.CaptureFixture[str]):
    with pytest.raises(SystemExit) as caught:
        main(["tallies", "recount"])
    assert caught.value.code == 2
    assert "invalid choice" in capsys.readouterr().err
