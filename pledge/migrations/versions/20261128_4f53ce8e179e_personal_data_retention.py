"""personal data retention

Revision ID: 4f53ce8e179e
Revises: 5c2e1f0a7d3b
Create Date: 2026-11-28 12:22:37.965299
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "4f53ce8e179e"
down_revision: str | None = "5c2e1f0a7d3b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Campaigns closed before closed_at existed: closing set ends_at to the moment of closing.
BACKFILL = (
    "UPDATE campaign SET closed_at = COALESCE(ends_at, updated_at) "
    "WHERE status = 'closed' AND closed_at IS NULL"
)


def upgrade() -> None:
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("closed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
    op.execute(BACKFILL)

    with op.batch_alter_table("supporter", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("anonymised_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("supporter", schema=None) as batch_op:
        batch_op.drop_column("anonymised_at")

    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.drop_column("closed_at")
