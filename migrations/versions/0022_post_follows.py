"""the post a quick reply follows: context for moderation, not a reply to notify

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06 23:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _rebuilding_posts() -> list[str]:
    """The SQL of the triggers on posts (SQLite's search index, 0003 and 0014), which a batch
    rebuild of the table drops, to be created again after it."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return []
    rows = bind.execute(
        sa.text("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'posts'")
    )
    return [row[0] for row in rows]


def upgrade() -> None:
    triggers = _rebuilding_posts()
    with op.batch_alter_table("posts") as batch:
        batch.add_column(sa.Column("follows_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_posts_follows_id_posts"), "posts", ["follows_id"], ["id"], ondelete="SET NULL"
        )
    for sql in triggers:
        op.execute(sql)


def downgrade() -> None:
    triggers = _rebuilding_posts()
    with op.batch_alter_table("posts") as batch:
        batch.drop_constraint(op.f("fk_posts_follows_id_posts"), type_="foreignkey")
        batch.drop_column("follows_id")
    for sql in triggers:
        op.execute(sql)
