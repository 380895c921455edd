"""a lead's decision on a programme application keeps when it was made and, for a decline,
why (optional, shown to the applicant only)

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-08 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import forum.core.db

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("programme_applications") as batch:
        batch.add_column(
            sa.Column("decline_reason", sa.String(length=500), nullable=False, server_default="")
        )
        batch.add_column(sa.Column("decided_at", forum.core.db.UTCDateTime(timezone=True)))


def downgrade() -> None:
    with op.batch_alter_table("programme_applications") as batch:
        batch.drop_column("decided_at")
        batch.drop_column("decline_reason")
