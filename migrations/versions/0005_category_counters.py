"""category counters

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23

The home page aggregated every thread on the board on every view (7 ms at 10,000 threads,
growing with the board); categories now keep their thread count, post count and last post
time, filled here from the live threads.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import forum.core.db

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE = "threads.category_id = categories.id AND threads.is_deleted = false"


def upgrade() -> None:
    with op.batch_alter_table("categories") as batch:
        batch.add_column(
            sa.Column("thread_count", sa.Integer(), server_default="0", nullable=False)
        )
        batch.add_column(sa.Column("post_count", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(
            sa.Column("last_post_at", forum.core.db.UTCDateTime(timezone=True), nullable=True)
        )
    op.execute(
        f"UPDATE categories SET "
        f"thread_count = (SELECT count(threads.id) FROM threads WHERE {LIVE}), "
        f"post_count = (SELECT coalesce(sum(threads.post_count), 0) FROM threads WHERE {LIVE}), "
        f"last_post_at = (SELECT max(threads.last_post_at) FROM threads WHERE {LIVE})"
    )


def downgrade() -> None:
    with op.batch_alter_table("categories") as batch:
        batch.drop_column("last_post_at")
        batch.drop_column("post_count")
        batch.drop_column("thread_count")
