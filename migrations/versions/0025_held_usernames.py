"""registration attempts with a known address hold their username as a pending registration
does, so that the name's being free afterwards does not tell that the address had an account

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import forum.core.db

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "held_usernames",
        sa.Column("username_key", sa.String(length=30), nullable=False),
        sa.Column("username", sa.String(length=30), nullable=False),
        sa.Column("held_until", forum.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("username_key", name=op.f("pk_held_usernames")),
    )
    op.create_index(
        op.f("ix_held_usernames_held_until"), "held_usernames", ["held_until"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_held_usernames_held_until"), table_name="held_usernames")
    op.drop_table("held_usernames")
