"""abuse console: where signatures come from, invalidations

Supporters gain the network their first signing came from (an IPv4 /24 or an IPv6 /64) and
an email contact's domain, each indexed after the campaign (with the signing time) for the
abuse console and for invalidations by network or domain; signatures stored before this have
neither. ``invalidation`` records each run that takes signatures off a campaign's count, and
``invalidated_supporter`` the state each supporter it took off had, for a restore.

Revision ID: de0bcfd8155f
Revises: 9b44abc065cb
Create Date: 2026-12-06 08:34:15.483574
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "de0bcfd8155f"
down_revision: str | None = "9b44abc065cb"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "invalidation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("network", sqlmodel.sql.sqltypes.AutoString(length=43), nullable=True),
        sa.Column("email_domain", sqlmodel.sql.sqltypes.AutoString(length=253), nullable=True),
        sa.Column("partner_id", sa.Integer(), nullable=True),
        sa.Column("partner_slug", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("since", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("until", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("name_pattern", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
        sa.Column("supporter_ids", sa.Text(), nullable=True),
        sa.Column("suspects_only", sa.Boolean(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "running",
                "done",
                "cancelled",
                "restoring",
                "restored",
                name="invalidationstatus",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("matched", sa.Integer(), nullable=False),
        sa.Column("matched_counted", sa.Integer(), nullable=False),
        sa.Column("last_id", sa.Integer(), nullable=False),
        sa.Column("cursor", sa.Integer(), nullable=False),
        sa.Column("invalidated", sa.Integer(), nullable=False),
        sa.Column("invalidated_counted", sa.Integer(), nullable=False),
        sa.Column("restored", sa.Integer(), nullable=False),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
        sa.Column("runner", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("heartbeat_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("finished_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("restored_by_id", sa.Integer(), nullable=True),
        sa.Column("restore_reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("restored_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["user.id"],
            name=op.f("fk_invalidation_actor_id_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaign.id"],
            name=op.f("fk_invalidation_campaign_id_campaign"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["campaign_partner.id"],
            name=op.f("fk_invalidation_partner_id_campaign_partner"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["restored_by_id"],
            ["user.id"],
            name=op.f("fk_invalidation_restored_by_id_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invalidation")),
    )
    with op.batch_alter_table("invalidation", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_invalidation_campaign_id"), ["campaign_id"], unique=False
        )

    op.create_table(
        "invalidated_supporter",
        sa.Column("invalidation_id", sa.Integer(), nullable=False),
        sa.Column("supporter_id", sa.Integer(), nullable=False),
        sa.Column(
            "previous_state",
            sa.Enum(
                "pending",
                "counted",
                "suspect",
                "invalidated",
                name="supporterstate",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["invalidation_id"],
            ["invalidation.id"],
            name=op.f("fk_invalidated_supporter_invalidation_id_invalidation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["supporter_id"],
            ["supporter.id"],
            name=op.f("fk_invalidated_supporter_supporter_id_supporter"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "invalidation_id", "supporter_id", name=op.f("pk_invalidated_supporter")
        ),
    )
    with op.batch_alter_table("invalidated_supporter", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_invalidated_supporter_supporter_id"), ["supporter_id"], unique=False
        )

    with op.batch_alter_table("supporter", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("network", sqlmodel.sql.sqltypes.AutoString(length=43), nullable=True)
        )
        batch_op.add_column(
            sa.Column("email_domain", sqlmodel.sql.sqltypes.AutoString(length=253), nullable=True)
        )
        batch_op.create_index(
            "ix_supporter_campaign_id_email_domain_created_at",
            ["campaign_id", "email_domain", "created_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_supporter_campaign_id_network_created_at",
            ["campaign_id", "network", "created_at"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("supporter", schema=None) as batch_op:
        batch_op.drop_index("ix_supporter_campaign_id_network_created_at")
        batch_op.drop_index("ix_supporter_campaign_id_email_domain_created_at")
        batch_op.drop_column("email_domain")
        batch_op.drop_column("network")

    with op.batch_alter_table("invalidated_supporter", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invalidated_supporter_supporter_id"))

    op.drop_table("invalidated_supporter")
    with op.batch_alter_table("invalidation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invalidation_campaign_id"))

    op.drop_table("invalidation")
