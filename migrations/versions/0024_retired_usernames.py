"""members delete their own accounts: a deleted account's former name stays reserved

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import forum.core.db

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "retired_usernames",
        sa.Column("username_key", sa.String(length=30), nullable=False),
        sa.Column("retired_at", forum.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("username_key", name=op.f("pk_retired_usernames")),
    )


def downgrade() -> None:
    op.drop_table("retired_usernames")
