"""the first check-in opens one interval after a programme starts

Until now check-in round 1 opened the moment a programme started (publication, or its start
date): pairs were asked how it was going before they had met. From now on round 1 opens one
interval (`checkin_days`) after the start, round 2 two intervals after it, and so on.

Answers are stored by round number, and a programme's round numbers come from its schedule:
a programme that has started already ran on the old one (its round 1 opened at the start, and
answers given since carry those rounds' numbers; its participants were told "Check-in 1 is
open"). Moved to the new schedule, its rounds would be renumbered under its answers: the
answers of the round that is over would be taken for the open round's (and replaced when a
participant answered again), and a closed programme's last round would drop out of its
figures. So such programmes keep their schedule: `checkins_from_start` is set for every
programme that was published and had started (no start date, or one that has come) when this
ran, closed ones included. Drafts, open programmes and pairs waiting for a start date still to
come have had no round: they take the new schedule.

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-08 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0032"
down_revision: str | None = "0031"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("programmes") as batch:
        batch.add_column(
            sa.Column(
                "checkins_from_start", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
    op.get_bind().execute(
        sa.text(
            "UPDATE programmes SET checkins_from_start = :yes WHERE published_at IS NOT NULL "
            "AND (starts_on IS NULL OR starts_on <= :today)"
        ).bindparams(
            sa.bindparam("yes", True, type_=sa.Boolean()),
            sa.bindparam("today", datetime.now(UTC).date(), type_=sa.Date()),
        )
    )


def downgrade() -> None:
    with op.batch_alter_table("programmes") as batch:
        batch.drop_column("checkins_from_start")
