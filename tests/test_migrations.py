"""The migrations build the schema from nothing, and the models agree with them."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from pledge.db import metadata


def test_upgrade_from_empty_matches_the_models(engine: sa.Engine) -> None:
    # The engine fixture ran `alembic upgrade head` on an empty database.
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, metadata)
        tables = set(sa.inspect(conn).get_table_names())
        version = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar_one()
    assert diff == [], f"models and migrations disagree: {diff}"
    assert {"campaign", "pledge", "supporter", "signature", "tally", "organization"} <= tables
    assert version


def test_downgrade_and_upgrade_again(tmp_path) -> None:
    from alembic import command

    from pledge.cli import alembic_config

    url = f"sqlite:///{tmp_path / 'roundtrip.db'}"
    config = alembic_config(url)
    command.upgrade(config, "head")
    command.downgrade(config, "base")
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        assert set(sa.inspect(conn).get_table_names()) == {"alembic_version"}
    command.upgrade(config, "head")
    with engine.connect() as conn:
        assert "supporter" in sa.inspect(conn).get_table_names()
    engine.dispose()


def test_counting_only_confirmed_signatures_keeps_every_earlier_row(tmp_path) -> None:
    """The upgrade that makes signatures count once confirmed: every campaign, pledge,
    partner, supporter, signature and counter stored before it is still there after it, and
    the supporters stored before it are confirmed as of when they signed, in their places."""
    from datetime import UTC, datetime

    from alembic import command

    from pledge.cli import alembic_config

    url = f"sqlite:///{tmp_path / 'before-confirming.db'}"
    config = alembic_config(url)
    command.upgrade(config, "bcf283be18a1")  # the revision before confirmed signatures
    engine = sa.create_engine(url)
    tables = sa.MetaData()
    tables.reflect(engine)
    t = tables.tables
    signed_at = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
    try:
        with engine.begin() as conn:
            conn.execute(
                t["organization"].insert(),
                [
                    {
                        "id": 1,
                        "slug": "lembaga",
                        "name": "Lembaga",
                        "verified": True,
                        "created_at": signed_at,
                    }
                ],
            )
            conn.execute(
                t["campaign"].insert(),
                [
                    {
                        "id": 1,
                        "slug": "kampanye",
                        "title": "Kampanye",
                        "summary": "",
                        "body": "",
                        "lead_org_id": 1,
                        "goal": 100,
                        "status": "live",
                        "locale": "id",
                        "created_at": signed_at,
                        "updated_at": signed_at,
                    }
                ],
            )
            conn.execute(
                t["pledge"].insert(),
                [{"id": 1, "campaign_id": 1, "slug": "janji", "text": "Janji", "position": 0}],
            )
            conn.execute(
                t["campaign_partner"].insert(),
                [
                    {
                        "id": 1,
                        "campaign_id": 1,
                        "org_id": 1,
                        "referral_code": "KODE1",
                        "created_at": signed_at,
                    }
                ],
            )
            conn.execute(
                t["supporter"].insert(),
                [
                    {
                        "id": n,
                        "campaign_id": 1,
                        "contact_digest": f"{n:064x}",
                        "token": f"token-{n:010d}",
                        "display_name": f"Pendukung {n}",
                        "province": "ID-JK",
                        "show_name": False,
                        "number": n,
                        "locale": "id",
                        "created_at": signed_at,
                        "invite_code": f"kode{n:04d}",
                    }
                    for n in (1, 2, 3)
                ],
            )
            conn.execute(
                t["signature"].insert(),
                [
                    {"id": n, "supporter_id": n, "pledge_id": 1, "created_at": signed_at}
                    for n in (1, 2, 3)
                ],
            )
            conn.execute(
                t["tally"].insert(),
                [
                    {"id": 1, "campaign_id": 1, "key": "total", "shard": 0, "value": 3, "updated_at": signed_at},
                    {"id": 2, "campaign_id": 1, "key": "pledge:1", "pledge_id": 1, "shard": 0, "value": 3, "updated_at": signed_at},
                ],
            )  # fmt: skip

        def rows() -> dict[str, int]:
            with engine.connect() as conn:
                return {
                    name: conn.execute(sa.select(sa.func.count()).select_from(t[name])).scalar_one()
                    for name in ("campaign", "pledge", "campaign_partner", "supporter", "signature", "tally")
                }  # fmt: skip

        before = rows()
        command.upgrade(config, "head")

        assert rows() == before
        with engine.connect() as conn:
            supporters = conn.execute(
                sa.text("SELECT number, confirmed_at, created_at FROM supporter ORDER BY id")
            ).all()
        assert [number for number, _confirmed, _created in supporters] == [1, 2, 3]
        assert all(confirmed == created for _number, confirmed, created in supporters)
    finally:
        engine.dispose()
