"""drafts and categories' latest activity

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02

Members' unfinished replies and new threads are kept on the server (one draft per member per
thread, or per category for a new thread). An index on threads by category and last post time
finds each category's latest thread for the home page and parent category pages, and post
counts are recomputed without the threads whose opening post others cannot see.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import forum.core.db

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "drafts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("thread_id", sa.Integer(), nullable=True),
        sa.Column("category_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("updated_at", forum.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(thread_id IS NULL) <> (category_id IS NULL)", name=op.f("ck_drafts_one_place")
        ),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["categories.id"],
            name=op.f("fk_drafts_category_id_categories"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["thread_id"],
            ["threads.id"],
            name=op.f("fk_drafts_thread_id_threads"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_drafts_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drafts")),
        sa.UniqueConstraint("category_id", "user_id", name=op.f("uq_drafts_category_id")),
        sa.UniqueConstraint("thread_id", "user_id", name=op.f("uq_drafts_thread_id")),
    )
    with op.batch_alter_table("drafts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_drafts_user_id"), ["user_id"], unique=False)
    with op.batch_alter_table("threads", schema=None) as batch_op:
        batch_op.create_index(
            "ix_threads_category_latest", ["category_id", "last_post_at"], unique=False
        )
    # A category's post count leaves out threads whose opening post others cannot see.
    op.execute(
        "UPDATE categories SET post_count = (SELECT coalesce(sum(threads.post_count), 0) "
        "FROM threads WHERE threads.category_id = categories.id AND threads.is_deleted = false "
        "AND (threads.first_post_id IS NULL OR EXISTS (SELECT 1 FROM posts "
        "WHERE posts.id = threads.first_post_id AND posts.is_deleted = false "
        "AND posts.moderation_state NOT IN ('held', 'hidden'))))"
    )


def downgrade() -> None:
    with op.batch_alter_table("threads", schema=None) as batch_op:
        batch_op.drop_index("ix_threads_category_latest")
    with op.batch_alter_table("drafts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_drafts_user_id"))
    op.drop_table("drafts")
