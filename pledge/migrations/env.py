"""Alembic environment: migrates the database named by the settings, or the one given."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

import pledge.models  # noqa: F401 - registers every table on the metadata
from pledge.config import get_settings
from pledge.db import create_db_engine, metadata

config = context.config


def run_migrations(connection: Connection) -> None:
    if connection.dialect.name == "sqlite" and not connection.in_transaction():
        # Batch mode rebuilds a table by copying it and dropping the old one; with foreign keys
        # on, that drop would first delete every row pointing at it (ON DELETE CASCADE). The
        # pragma only takes effect outside a transaction, hence on the driver's connection.
        connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run_migrations(connection)
        return
    settings = get_settings()
    url = config.get_main_option("sqlalchemy.url") or settings.database_url
    engine = create_db_engine(settings.model_copy(update={"database_url": url}))
    with engine.connect() as conn:
        run_migrations(conn)
    engine.dispose()


if context.is_offline_mode():
    context.configure(
        url=config.get_main_option("sqlalchemy.url") or get_settings().database_url,
        target_metadata=metadata,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    run_online()
