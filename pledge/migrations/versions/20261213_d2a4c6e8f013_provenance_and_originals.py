"""where a picture came from, and the original beside the fake

``hoax_report.provenance`` keeps what an uploaded file said of its origin (Content Credentials,
IPTC digital source type, generator traces), read before its metadata is stripped.
``hoax_case.credentials_note`` is what of it a published verdict shows. ``hoax_original`` holds
the original a moderator attached to a case of a manipulated picture, and the comparison of the
two.

Revision ID: d2a4c6e8f013
Revises: c19a7e3d5b20
Create Date: 2026-12-13 10:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "d2a4c6e8f013"
down_revision: str | None = "c19a7e3d5b20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("hoax_report", schema=None) as batch_op:
        batch_op.add_column(sa.Column("provenance", sa.Text(), nullable=False, server_default=""))
    with op.batch_alter_table("hoax_case", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "credentials_note",
                sqlmodel.sql.sqltypes.AutoString(length=1000),
                nullable=False,
                server_default="",
            )
        )
    op.create_table(
        "hoax_original",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("media_id", sa.Integer(), nullable=True),
        sa.Column("source_case_id", sa.Integer(), nullable=True),
        sa.Column("suspect_media_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("matches", sa.Integer(), nullable=False),
        sa.Column("changed_share", sa.Float(), nullable=False),
        sa.Column("regions", sa.Text(), nullable=False),
        sa.Column("overlay", sa.LargeBinary(), nullable=False),
        sa.Column("aligned", sa.LargeBinary(), nullable=False),
        sa.Column("show_public", sa.Boolean(), nullable=False),
        sa.Column("attached_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["hoax_case.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["media_id"], ["media.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["source_case_id"], ["hoax_case.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["suspect_media_id"], ["media.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["attached_by_id"], ["user.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id"),
    )


def downgrade() -> None:
    op.drop_table("hoax_original")
    with op.batch_alter_table("hoax_case", schema=None) as batch_op:
        batch_op.drop_column("credentials_note")
    with op.batch_alter_table("hoax_report", schema=None) as batch_op:
        batch_op.drop_column("provenance")
