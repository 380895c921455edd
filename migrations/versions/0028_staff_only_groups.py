"""a staff-only category's sub-forums are staff-only too (the Categories page keeps it so;
rows written before it are brought in line)

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-07 16:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "UPDATE categories SET staff_only = true WHERE parent_id IN "
        "(SELECT id FROM (SELECT id FROM categories WHERE staff_only = true) AS groups)"
    )


def downgrade() -> None:
    pass  # (which sub-forums were public before cannot be told apart)
