"""outbox delivery state

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02

Mail leaves the request: requests queue messages in the outbox and the worker delivers them
with retries. Messages written before this kept no state: sent ones are `sent`, those with
an error `failed`, the rest were kept without a mail server (`kept`).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import forum.core.db

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(
            sa.Column("status", sa.String(length=20), server_default="queued", nullable=False)
        )
        batch.add_column(sa.Column("attempts", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(
            sa.Column("next_attempt_at", forum.core.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch.create_index(
            "ix_outbox_status_next_attempt_at", ["status", "next_attempt_at"], unique=False
        )
    op.execute(
        "UPDATE outbox SET status = CASE WHEN sent_at IS NOT NULL THEN 'sent' "
        "WHEN error <> '' THEN 'failed' ELSE 'kept' END, "
        "attempts = CASE WHEN sent_at IS NOT NULL OR error <> '' THEN 1 ELSE 0 END"
    )


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_index("ix_outbox_status_next_attempt_at")
        batch.drop_column("next_attempt_at")
        batch.drop_column("attempts")
        batch.drop_column("status")
