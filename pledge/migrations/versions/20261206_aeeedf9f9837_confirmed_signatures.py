"""confirmed signatures

A signature counts once the signer proves the contact is theirs: supporters gain
``confirmed_at`` and a ``state`` (pending, counted, suspect, invalidated), each signing gets a ``confirmation`` row (the digests of its emailed link
and code, and the pledges it adds), and campaigns say which channels confirm their
signatures and whether they count them unconfirmed. Every supporter stored before this
change was counted already: they are confirmed as of when they signed, and keep their place.

Revision ID: aeeedf9f9837
Revises: bbf021890375
Create Date: 2026-12-06 08:09:09.781429
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "aeeedf9f9837"
down_revision: str | None = "bbf021890375"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# (name, columns) before and after.
_STATISTICS_INDEXES = [
    (
        ("ix_supporter_campaign_id_province", ("campaign_id", "province")),
        ("ix_supporter_campaign_id_province_state", ("campaign_id", "province", "state")),
    ),
    (
        ("ix_supporter_campaign_id_age_band", ("campaign_id", "age_band")),
        ("ix_supporter_campaign_id_age_band_state", ("campaign_id", "age_band", "state")),
    ),
    (
        ("ix_supporter_campaign_id_created_at", ("campaign_id", "created_at")),
        ("ix_supporter_campaign_id_created_at_state", ("campaign_id", "created_at", "state")),
    ),
    (
        ("ix_supporter_updates_partner_id_anonymised_at", ("updates_partner_id", "anonymised_at")),
        (
            "ix_supporter_updates_partner_id_anonymised_at_state",
            ("updates_partner_id", "anonymised_at", "state"),
        ),
    ),
]


def upgrade() -> None:
    op.create_table(
        "confirmation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("supporter_id", sa.Integer(), nullable=False),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("pledge_ids", sqlmodel.sql.sqltypes.AutoString(length=400), nullable=False),
        sa.Column("link_digest", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("code_digest", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("wrong_codes", sa.Integer(), nullable=False),
        sa.Column("contact_encrypted", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.Column("last_message_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("locale", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("confirmed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["supporter_id"],
            ["supporter.id"],
            name=op.f("fk_confirmation_supporter_id_supporter"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_confirmation")),
        sa.UniqueConstraint("link_digest", name=op.f("uq_confirmation_link_digest")),
    )
    with op.batch_alter_table("confirmation", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_confirmation_supporter_id"), ["supporter_id"], unique=False
        )

    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("confirm_by_email", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch_op.add_column(
            sa.Column("confirm_by_whatsapp", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch_op.add_column(
            sa.Column("counts_unconfirmed", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    # The server defaults stay: dropping them would make SQLite copy the whole table again.

    with op.batch_alter_table("supporter", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("confirmed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
        # Every supporter stored so far is in the count.
        batch_op.add_column(
            sa.Column(
                "state",
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
                server_default="counted",
            )
        )
    with op.batch_alter_table("supporter", schema=None) as batch_op:
        batch_op.create_index(
            "ix_supporter_state_created_at", ["state", "created_at"], unique=False
        )
        # The statistics count confirmed supporters only: their indexes carry the column.
        for old, new in _STATISTICS_INDEXES:
            batch_op.drop_index(old[0])
            batch_op.create_index(new[0], list(new[1]), unique=False)
    supporter = sa.table(
        "supporter",
        sa.column("confirmed_at", sa.DateTime()),
        sa.column("created_at", sa.DateTime()),
    )
    op.execute(sa.update(supporter).values(confirmed_at=supporter.c.created_at))


def downgrade() -> None:
    # The signatures outside the count were never counted: going back, they go.
    supporter = sa.table("supporter", sa.column("state", sa.String()))
    op.execute(sa.delete(supporter).where(supporter.c.state != "counted"))
    tally = sa.table("tally", sa.column("key", sa.String()))
    op.execute(sa.delete(tally).where(tally.c.key.in_(["pending", "suspect"])))
    with op.batch_alter_table("supporter", schema=None) as batch_op:
        for old, new in _STATISTICS_INDEXES:
            batch_op.drop_index(new[0])
            batch_op.create_index(old[0], list(old[1]), unique=False)
        batch_op.drop_index("ix_supporter_state_created_at")
        batch_op.drop_column("state")
        batch_op.drop_column("confirmed_at")

    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.drop_column("counts_unconfirmed")
        batch_op.drop_column("confirm_by_whatsapp")
        batch_op.drop_column("confirm_by_email")

    with op.batch_alter_table("confirmation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_confirmation_supporter_id"))

    op.drop_table("confirmation")
