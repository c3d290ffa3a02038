"""statistics read from indexes

The statistics page groups a campaign's supporters by province, age group and hour: each
group-by now reads one index in campaign order. The single-column indexes they replace were
covered by these (campaign_id) or unused (created_at).

Revision ID: bcf283be18a1
Revises: 4f53ce8e179e
Create Date: 2026-11-28 15:33:56.785080
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "bcf283be18a1"
down_revision: str | None = "4f53ce8e179e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("supporter", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_supporter_campaign_id"))
        batch_op.drop_index(batch_op.f("ix_supporter_created_at"))
        batch_op.drop_index(batch_op.f("ix_supporter_updates_partner_id"))
        batch_op.create_index(
            "ix_supporter_campaign_id_age_band", ["campaign_id", "age_band"], unique=False
        )
        batch_op.create_index(
            "ix_supporter_campaign_id_created_at", ["campaign_id", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_supporter_campaign_id_province", ["campaign_id", "province"], unique=False
        )
        batch_op.create_index(
            "ix_supporter_updates_partner_id_anonymised_at",
            ["updates_partner_id", "anonymised_at"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("supporter", schema=None) as batch_op:
        batch_op.drop_index("ix_supporter_updates_partner_id_anonymised_at")
        batch_op.drop_index("ix_supporter_campaign_id_province")
        batch_op.drop_index("ix_supporter_campaign_id_created_at")
        batch_op.drop_index("ix_supporter_campaign_id_age_band")
        batch_op.create_index(
            batch_op.f("ix_supporter_updates_partner_id"), ["updates_partner_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_supporter_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_supporter_campaign_id"), ["campaign_id"], unique=False)
