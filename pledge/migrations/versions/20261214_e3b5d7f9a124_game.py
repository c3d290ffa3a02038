"""the real-or-fake game

``game_item`` holds the published verdicts moderators chose for their campaign's game, with how
often each picture was answered and how often it fooled players; ``game_count`` each campaign's
games started and finished; ``game_answer`` the answers already counted, by a random game id
and position only, kept a day so that an answer sent twice counts once.

Revision ID: e3b5d7f9a124
Revises: d2a4c6e8f013
Create Date: 2026-12-14 10:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "e3b5d7f9a124"
down_revision: str | None = "d2a4c6e8f013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "game_item",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("in_game", sa.Boolean(), nullable=False),
        sa.Column("fake_shown", sa.Integer(), nullable=False),
        sa.Column("fake_fooled", sa.Integer(), nullable=False),
        sa.Column("real_shown", sa.Integer(), nullable=False),
        sa.Column("real_fooled", sa.Integer(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["case_id"], ["hoax_case.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("case_id"),
    )
    op.create_index(
        "ix_game_item_campaign_id_in_game", "game_item", ["campaign_id", "in_game"], unique=False
    )
    op.create_table(
        "game_count",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("started", sa.Integer(), nullable=False),
        sa.Column("finished", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("campaign_id"),
    )
    op.create_table(
        "game_answer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("game_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("answer", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("right", sa.Boolean(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("game_id", "position"),
    )
    op.create_index("ix_game_answer_created_at", "game_answer", ["created_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_game_answer_created_at", table_name="game_answer")
    op.drop_table("game_answer")
    op.drop_table("game_count")
    op.drop_index("ix_game_item_campaign_id_in_game", table_name="game_item")
    op.drop_table("game_item")
