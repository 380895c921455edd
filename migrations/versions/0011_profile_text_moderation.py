"""profile text moderation

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02

A member"s location and bio are member text like posts: scored by the worker, held for
pre-moderated members, reportable and hideable. Moderation results, review items and reports
name either a post or a member"s profile.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("moderation_results", schema=None) as batch_op:
        batch_op.add_column(sa.Column("profile_user_id", sa.Integer(), nullable=True))
        batch_op.alter_column("post_id", existing_type=sa.INTEGER(), nullable=True)
        batch_op.create_index(
            batch_op.f("ix_moderation_results_profile_user_id"), ["profile_user_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_moderation_results_profile_user_id_users"),
            "users",
            ["profile_user_id"],
            ["id"],
            ondelete="CASCADE",
        )

    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.add_column(sa.Column("profile_user_id", sa.Integer(), nullable=True))
        batch_op.alter_column("post_id", existing_type=sa.INTEGER(), nullable=True)
        batch_op.create_index(
            batch_op.f("ix_reports_profile_user_id"), ["profile_user_id"], unique=False
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_reports_profile_user_id"), ["profile_user_id", "reporter_id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_reports_profile_user_id_users"),
            "users",
            ["profile_user_id"],
            ["id"],
            ondelete="CASCADE",
        )

    with op.batch_alter_table("review_items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("profile_user_id", sa.Integer(), nullable=True))
        batch_op.alter_column("post_id", existing_type=sa.INTEGER(), nullable=True)
        batch_op.create_unique_constraint(
            batch_op.f("uq_review_items_profile_user_id"), ["profile_user_id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_review_items_profile_user_id_users"),
            "users",
            ["profile_user_id"],
            ["id"],
            ondelete="CASCADE",
        )

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("profile_state", sa.String(length=20), server_default="clear", nullable=False)
        )
        batch_op.add_column(sa.Column("profile_note", sa.Text(), server_default="", nullable=False))
        batch_op.add_column(
            sa.Column(
                "profile_needs_scoring", sa.Boolean(), server_default=sa.false(), nullable=False
            )
        )
        batch_op.add_column(
            sa.Column("profile_version", sa.Integer(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("profile_version")
        batch_op.drop_column("profile_needs_scoring")
        batch_op.drop_column("profile_note")
        batch_op.drop_column("profile_state")

    with op.batch_alter_table("review_items", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_review_items_profile_user_id_users"), type_="foreignkey"
        )
        batch_op.drop_constraint(batch_op.f("uq_review_items_profile_user_id"), type_="unique")
        batch_op.alter_column("post_id", existing_type=sa.INTEGER(), nullable=False)
        batch_op.drop_column("profile_user_id")

    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_reports_profile_user_id_users"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("uq_reports_profile_user_id"), type_="unique")
        batch_op.drop_index(batch_op.f("ix_reports_profile_user_id"))
        batch_op.alter_column("post_id", existing_type=sa.INTEGER(), nullable=False)
        batch_op.drop_column("profile_user_id")

    with op.batch_alter_table("moderation_results", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_moderation_results_profile_user_id_users"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_moderation_results_profile_user_id"))
        batch_op.alter_column("post_id", existing_type=sa.INTEGER(), nullable=False)
        batch_op.drop_column("profile_user_id")
