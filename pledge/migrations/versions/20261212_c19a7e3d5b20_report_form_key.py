"""a report form's key: the same form sent twice is one report

``hoax_report.form_key`` holds the random key the report form was drawn with. A second
submission of the same form (a double tap, a retry on a slow connection) finds the stored report
by it instead of storing another.

Revision ID: c19a7e3d5b20
Revises: b18d2f4a6c01
Create Date: 2026-12-12 10:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "c19a7e3d5b20"
down_revision: str | None = "b18d2f4a6c01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("hoax_report", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("form_key", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True)
        )
        batch_op.create_unique_constraint(batch_op.f("uq_hoax_report_form_key"), ["form_key"])


def downgrade() -> None:
    with op.batch_alter_table("hoax_report", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_hoax_report_form_key"), type_="unique")
        batch_op.drop_column("form_key")
