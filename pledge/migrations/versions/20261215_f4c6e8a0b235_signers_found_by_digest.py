"""signers found by their digest first

The unique constraint of one supporter per person and campaign goes from (campaign_id,
contact_digest) to (contact_digest, campaign_id): signing looks a batch's signers up by their
digests alone, on this index. Led by the campaign, it competed with the other indexes that
start with the campaign, and PostgreSQL chose one of those for a campaign its statistics did
not know yet: every batch then read all of that campaign's rows.

Rebuilding the index takes a few seconds per million supporters, during which signing waits.

Revision ID: f4c6e8a0b235
Revises: e3b5d7f9a124
Create Date: 2026-12-15 10:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "f4c6e8a0b235"
down_revision: str | None = "e3b5d7f9a124"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("supporter", schema=None) as batch_op:
        batch_op.drop_constraint("uq_supporter_campaign_id_contact_digest", type_="unique")
        batch_op.create_unique_constraint(
            "uq_supporter_contact_digest_campaign_id", ["contact_digest", "campaign_id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("supporter", schema=None) as batch_op:
        batch_op.drop_constraint("uq_supporter_contact_digest_campaign_id", type_="unique")
        batch_op.create_unique_constraint(
            "uq_supporter_campaign_id_contact_digest", ["campaign_id", "contact_digest"]
        )
