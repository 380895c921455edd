"""closed conversations: a programme pair's space stays readable once the pair has ended but
takes no new messages

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-02 20:25:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import forum.core.db

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(
            sa.Column("closed_at", forum.core.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch.add_column(
            sa.Column("closed_note", sa.String(length=200), server_default="", nullable=False)
        )
    # Spaces of pairs that ended before this migration close too.
    op.execute(
        "UPDATE conversations SET closed_at = (SELECT p.ended_at FROM programme_pairs p "
        "WHERE p.conversation_id = conversations.id AND p.ended_at IS NOT NULL), "
        "closed_note = 'The pair has ended; this space is kept for the two of you to read.' "
        "WHERE id IN (SELECT conversation_id FROM programme_pairs WHERE ended_at IS NOT NULL "
        "AND conversation_id IS NOT NULL)"
    )


def downgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("closed_note")
        batch.drop_column("closed_at")
