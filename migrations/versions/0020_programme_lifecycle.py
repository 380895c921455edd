"""programme lifecycle: withdrawing and leaving, ended pairs, closing surveys, dismissive
reports' follow-up, and notifications recorded by programmes (with their own link)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02 20:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import forum.core.db

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "programme_dismissive_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("pair_id", sa.Integer(), nullable=False),
        sa.Column("created_at", forum.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("follow_up", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("followed_up_at", forum.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("followed_up_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["followed_up_by"], ["users.id"],
            name=op.f("fk_programme_dismissive_reports_followed_up_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["pair_id"], ["programme_pairs.id"],
            name=op.f("fk_programme_dismissive_reports_pair_id_programme_pairs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["programme_id"], ["programmes.id"],
            name=op.f("fk_programme_dismissive_reports_programme_id_programmes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_programme_dismissive_reports")),
    )  # fmt: skip
    with op.batch_alter_table("programme_dismissive_reports", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_programme_dismissive_reports_pair_id"), ["pair_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_programme_dismissive_reports_programme_id"),
            ["programme_id"],
            unique=False,
        )

    with op.batch_alter_table("programmes", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("closed_at", forum.core.db.UTCDateTime(timezone=True), nullable=True)
        )

    with op.batch_alter_table("programme_pairs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("ended_at", forum.core.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("ended_by", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("ended_reason", sa.String(length=200), nullable=False, server_default="")
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_programme_pairs_ended_by_users"), "users", ["ended_by"], ["id"],
            ondelete="SET NULL",
        )  # fmt: skip

    with op.batch_alter_table("programme_checkin_questions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("closing", sa.Boolean(), nullable=False, server_default=sa.false())
        )

    for table in ("notifications", "notification_work"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("link", sa.String(length=300), nullable=False, server_default="")
            )


def downgrade() -> None:
    for table in ("notification_work", "notifications"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("link")

    with op.batch_alter_table("programme_checkin_questions", schema=None) as batch_op:
        batch_op.drop_column("closing")

    with op.batch_alter_table("programme_pairs", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_programme_pairs_ended_by_users"), type_="foreignkey"
        )
        batch_op.drop_column("ended_reason")
        batch_op.drop_column("ended_by")
        batch_op.drop_column("ended_at")

    with op.batch_alter_table("programmes", schema=None) as batch_op:
        batch_op.drop_column("closed_at")

    with op.batch_alter_table("programme_dismissive_reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_programme_dismissive_reports_programme_id"))
        batch_op.drop_index(batch_op.f("ix_programme_dismissive_reports_pair_id"))

    op.drop_table("programme_dismissive_reports")
