"""partner consent and reviewed organisation changes

A campaign's co-partner is now invited: ``campaign_partner.status`` is ``invited`` until one of
its admins accepts (``active``), and ``left`` once it leaves. Every partner stored before is
``active``. An approved organisation's new name or website waits in ``pending_name`` and
``pending_website`` (``change_requested_at`` set) until a site administrator approves it.

Revision ID: 8d4f6b2a0c35
Revises: 3c5e7a9b1d24
Create Date: 2026-12-09 10:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "8d4f6b2a0c35"
down_revision: str | None = "3c5e7a9b1d24"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("campaign_partner", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "status",
                sa.Enum(
                    "invited",
                    "active",
                    "left",
                    name="partnerstatus",
                    native_enum=False,
                    length=16,
                ),
                nullable=False,
                server_default="active",
            )
        )
        batch_op.add_column(
            sa.Column("responded_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
    with op.batch_alter_table("organization", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("change_requested_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(
            sa.Column("pending_name", sqlmodel.sql.sqltypes.AutoString(length=160), nullable=True)
        )
        batch_op.add_column(
            sa.Column(
                "pending_website", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("organization", schema=None) as batch_op:
        batch_op.drop_column("pending_website")
        batch_op.drop_column("pending_name")
        batch_op.drop_column("change_requested_at")
    with op.batch_alter_table("campaign_partner", schema=None) as batch_op:
        batch_op.drop_column("responded_at")
        batch_op.drop_column("status")
