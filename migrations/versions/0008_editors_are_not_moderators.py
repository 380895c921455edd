"""editors are not moderators

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02

Editors were given the Moderator special rank when created, so they displayed as moderators
and their reports weighed as a moderator's. Roles and special ranks are separate: editors
created that way go back to the rank their points earn.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "UPDATE users SET special_rank_id = NULL WHERE role = 'editor' AND special_rank_id IN "
        "(SELECT id FROM ranks WHERE name = 'Moderator' AND is_special)"
    )


def downgrade() -> None:
    pass  # which editors had the rank is not kept
