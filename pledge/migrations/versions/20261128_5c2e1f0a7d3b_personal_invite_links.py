"""personal invite links

Revision ID: 5c2e1f0a7d3b
Revises: 0986554d5987
Create Date: 2026-11-28 12:09:06.294074
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "5c2e1f0a7d3b"
down_revision: str | None = "0986554d5987"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Supporters who signed before invite links existed get a code too: 12 random hex digits.
BACKFILL = {
    "sqlite": "UPDATE supporter SET invite_code = lower(hex(randomblob(6))) "
    "WHERE invite_code IS NULL",
    "postgresql": "UPDATE supporter SET invite_code = "
    "substr(md5(random()::text || id::text || clock_timestamp()::text), 1, 12) "
    "WHERE invite_code IS NULL",
}


def upgrade() -> None:
    with op.batch_alter_table("supporter", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("invite_code", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True)
        )
        batch_op.add_column(sa.Column("invited_by_id", sa.Integer(), nullable=True))
    op.execute(BACKFILL[op.get_bind().dialect.name])
    with op.batch_alter_table("supporter", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_supporter_invited_by_id"), ["invited_by_id"], unique=False
        )
        batch_op.create_unique_constraint(batch_op.f("uq_supporter_invite_code"), ["invite_code"])
        batch_op.create_foreign_key(
            batch_op.f("fk_supporter_invited_by_id_supporter"),
            "supporter",
            ["invited_by_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("supporter", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_supporter_invited_by_id_supporter"), type_="foreignkey"
        )
        batch_op.drop_constraint(batch_op.f("uq_supporter_invite_code"), type_="unique")
        batch_op.drop_index(batch_op.f("ix_supporter_invited_by_id"))
        batch_op.drop_column("invited_by_id")
        batch_op.drop_column("invite_code")
