"""a programme pair's space is left through the programme, not on its own; meetings of a
pair are logged with a date, once a day

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06 23:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import forum.core.db

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(
            sa.Column("leave_via", sa.String(length=300), server_default="", nullable=False)
        )
    # Existing pair spaces are left through their programme's page ...
    op.execute(
        "UPDATE conversations SET leave_via = (SELECT '/programmes/' || p.programme_id "
        "FROM programme_pairs p WHERE p.conversation_id = conversations.id) "
        "WHERE id IN (SELECT conversation_id FROM programme_pairs "
        "WHERE conversation_id IS NOT NULL)"
    )
    # (A partner who left one with the conversation's button stays out: they may have left
    # to stop contact.)
    op.create_table(
        "programme_meetings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pair_id", sa.Integer(), nullable=False),
        sa.Column("met_on", sa.Date(), nullable=False),
        sa.Column("logged_by", sa.Integer(), nullable=True),
        sa.Column("created_at", forum.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["logged_by"], ["users.id"], name=op.f("fk_programme_meetings_logged_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["pair_id"], ["programme_pairs.id"],
            name=op.f("fk_programme_meetings_pair_id_programme_pairs"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_programme_meetings")),
        sa.UniqueConstraint("pair_id", "met_on", name=op.f("uq_programme_meetings_pair_id")),
    )  # fmt: skip
    with op.batch_alter_table("programme_meetings") as batch:
        batch.create_index(batch.f("ix_programme_meetings_pair_id"), ["pair_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("programme_meetings") as batch:
        batch.drop_index(batch.f("ix_programme_meetings_pair_id"))
    op.drop_table("programme_meetings")
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("leave_via")
