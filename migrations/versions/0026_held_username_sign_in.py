"""a held username keeps the address and password hash it was tried with, so that signing in
with them answers as a pending registration's does

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07 13:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("held_usernames") as batch:
        batch.add_column(
            sa.Column("email_key", sa.String(length=254), nullable=False, server_default="")
        )
        batch.add_column(
            sa.Column("password_hash", sa.String(length=255), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("held_usernames") as batch:
        batch.drop_column("password_hash")
        batch.drop_column("email_key")
