"""thread reads and the board's latest activity

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02

The last post each member has read in each thread (thread_reads: written in batches, only
forward), and an index on threads.last_post_at for the board-wide /latest list and feed.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "thread_reads",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("thread_id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"],
            name=op.f("fk_thread_reads_user_id_users"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["thread_id"], ["threads.id"],
            name=op.f("fk_thread_reads_thread_id_threads"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "thread_id", name=op.f("pk_thread_reads")),
    )  # fmt: skip
    op.create_index(op.f("ix_thread_reads_thread_id"), "thread_reads", ["thread_id"], unique=False)
    op.create_index("ix_threads_last_post_at", "threads", ["last_post_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_threads_last_post_at", table_name="threads")
    op.drop_index(op.f("ix_thread_reads_thread_id"), table_name="thread_reads")
    op.drop_table("thread_reads")
