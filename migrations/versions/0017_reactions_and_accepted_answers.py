"""reactions and accepted answers

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02

Members react to posts with a small fixed set (reactions: one per member per kind, the points
the author earned by each kept with it so taking it back reverses exactly those). A category
may be a Q&A category (categories.is_qa), whose threads record the reply that answered them
(threads.accepted_post_id).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import forum.core.db

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reactions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("created_at", forum.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("points", sa.Integer(), server_default="0", nullable=False),
        sa.CheckConstraint(
            "kind IN ('thanks', 'helpful', 'agree')", name=op.f("ck_reactions_known_kind")
        ),
        sa.ForeignKeyConstraint(
            ["post_id"], ["posts.id"], name=op.f("fk_reactions_post_id_posts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_reactions_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reactions")),
        sa.UniqueConstraint("post_id", "kind", "user_id", name=op.f("uq_reactions_post_id")),
    )
    op.create_index(op.f("ix_reactions_user_id"), "reactions", ["user_id"], unique=False)
    # Plain ADD COLUMN (SQLite has it): a batch copy of threads would break its search triggers.
    op.add_column(
        "categories", sa.Column("is_qa", sa.Boolean(), server_default="0", nullable=False)
    )
    op.add_column("threads", sa.Column("accepted_post_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column("threads", "accepted_post_id")
    op.drop_column("categories", "is_qa")
    op.drop_index(op.f("ix_reactions_user_id"), table_name="reactions")
    op.drop_table("reactions")
