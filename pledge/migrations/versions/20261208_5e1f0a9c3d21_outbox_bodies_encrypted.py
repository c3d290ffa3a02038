"""outbox bodies encrypted at rest, emptied once sent

A message's body holds links that sign someone in (password resets, invitations, supporters'
confirmations). The bodies of the messages still waiting are encrypted with the key derived
from PLEDGE_SECRET_KEY (``pledge.security.FieldCipher``), as the app now queues them; the
bodies of the messages already sent are emptied. Downgrading decrypts the waiting ones again;
the emptied ones stay empty.

Revision ID: 5e1f0a9c3d21
Revises: de0bcfd8155f
Create Date: 2026-12-08 09:00:00.000000
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op

from pledge.config import get_settings
from pledge.security import FieldCipher

revision: str = "5e1f0a9c3d21"
down_revision: str | None = "de0bcfd8155f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

outbox = sa.table(
    "outbox_message",
    sa.column("id", sa.Integer),
    sa.column("body", sa.Text),
    sa.column("sent_at", sa.DateTime),
    sa.column("last_error", sa.String),
)
# A claimed message (sent_at set, "(sending)" in last_error) may still go back to waiting.
SENDING = "(sending)"
BATCH = 1000


def _waiting() -> sa.ColumnElement[bool]:
    # coalesce: a sent message's last_error is NULL, and NOT (... OR NULL) would match nothing.
    return sa.or_(outbox.c.sent_at.is_(None), sa.func.coalesce(outbox.c.last_error, "") == SENDING)


def _rewrite(change: Callable[[str], str]) -> None:
    """Pass the body of every waiting message through ``change``, a batch at a time."""
    conn = op.get_bind()
    update = (
        sa.update(outbox)
        .where(outbox.c.id == sa.bindparam("row_id"))
        .values(body=sa.bindparam("new_body"))
    )
    last = 0
    while True:
        rows = conn.execute(
            sa.select(outbox.c.id, outbox.c.body)
            .where(_waiting(), outbox.c.id > last)
            .order_by(outbox.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        conn.execute(update, [{"row_id": id_, "new_body": change(body)} for id_, body in rows])
        last = rows[-1].id


def upgrade() -> None:
    cipher = FieldCipher(get_settings().secret_key)
    op.execute(sa.update(outbox).where(sa.not_(_waiting())).values(body=""))
    _rewrite(cipher.encrypt)


def downgrade() -> None:
    cipher = FieldCipher(get_settings().secret_key)
    # A body this key cannot open is left as it is, rather than lost.
    _rewrite(lambda body: cipher.decrypt(body) or body)
