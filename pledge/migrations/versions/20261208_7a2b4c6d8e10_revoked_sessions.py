"""revoked sessions

Every signed-in session carries an id in its cookie. Signing out keeps the id in
``revoked_session`` until the cookie would have expired, so that a copy of the cookie kept
from before signs nobody in; ``pledge retention run`` forgets the expired ones. Cookies
signed before this change carry no id: their users sign in once again.

Revision ID: 7a2b4c6d8e10
Revises: 5e1f0a9c3d21
Create Date: 2026-12-08 09:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "7a2b4c6d8e10"
down_revision: str | None = "5e1f0a9c3d21"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "revoked_session",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_revoked_session")),
    )
    with op.batch_alter_table("revoked_session", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_revoked_session_expires_at"), ["expires_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("revoked_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_revoked_session_expires_at"))
    op.drop_table("revoked_session")
