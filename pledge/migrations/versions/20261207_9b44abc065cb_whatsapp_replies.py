"""whatsapp replies

The outbox carries WhatsApp replies beside emails: each message says its ``channel``
(every message stored before this change is an email). The webhook keeps the WhatsApp
messages it was given, by a digest of their id, so that one Meta delivers again is handled
once.

Revision ID: 9b44abc065cb
Revises: aeeedf9f9837
Create Date: 2026-12-07 09:12:41.118203
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "9b44abc065cb"
down_revision: str | None = "aeeedf9f9837"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "channel",
                sqlmodel.sql.sqltypes.AutoString(length=16),
                nullable=False,
                server_default="email",
            )
        )
    # The default was for the rows already there; new rows get theirs from the application.
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.alter_column("channel", server_default=None)
        # Releasing a dead sender's claims looks for the few rows that say "(sending)".
        batch_op.create_index(
            batch_op.f("ix_outbox_message_last_error"), ["last_error"], unique=False
        )

    op.create_table(
        "whatsapp_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("digest", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("received_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("handled_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_whatsapp_message")),
        sa.UniqueConstraint("digest", name=op.f("uq_whatsapp_message_digest")),
    )
    with op.batch_alter_table("whatsapp_message", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_whatsapp_message_received_at"), ["received_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_message_last_error"))
    with op.batch_alter_table("whatsapp_message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_whatsapp_message_received_at"))
    op.drop_table("whatsapp_message")

    # Without the column every message is an email: a WhatsApp reply must not become one.
    outbox = sa.table("outbox_message", sa.column("channel", sa.String()))
    op.execute(sa.delete(outbox).where(outbox.c.channel != "email"))
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_column("channel")
