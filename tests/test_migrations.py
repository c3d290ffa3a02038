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
