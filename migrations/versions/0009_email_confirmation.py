"""email confirmation

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02

Registration answers the same whether or not an address has an account: a new account is
confirmed by a link mailed to its address (the owner of a known address is told by mail
instead). Accounts that exist already count as confirmed.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import forum.core.db

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("email_confirmed_at", forum.core.db.UTCDateTime(timezone=True), nullable=True)
        )
    op.execute("UPDATE users SET email_confirmed_at = joined_at")
    op.create_table(
        "email_confirmations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", forum.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", forum.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", forum.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"],
            name=op.f("fk_email_confirmations_user_id_users"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_confirmations")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_email_confirmations_token_hash")),
    )  # fmt: skip
    op.create_index(
        op.f("ix_email_confirmations_user_id"), "email_confirmations", ["user_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_email_confirmations_user_id"), table_name="email_confirmations")
    op.drop_table("email_confirmations")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("email_confirmed_at")
