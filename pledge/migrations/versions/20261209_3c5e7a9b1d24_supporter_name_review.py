"""supporter name review

A moderator of a campaign's leading organisation can hide a supporter's first name from the
campaign's public list, or show one that the held-names list holds back. ``name_review`` keeps
that decision ("hidden" or "shown"); empty for every supporter stored before.

Revision ID: 3c5e7a9b1d24
Revises: 7a2b4c6d8e10
Create Date: 2026-12-09 09:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "3c5e7a9b1d24"
down_revision: str | None = "7a2b4c6d8e10"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("supporter", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("name_review", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("supporter", schema=None) as batch_op:
        batch_op.drop_column("name_review")
