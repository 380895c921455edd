"""the default free-text check-in question, for the programmes made before it

Every new programme asks "Anything you would like the programme's lead to know?" in each
regular check-in (forum.programmes.services.NOTE). Programmes that exist already get it too:
drafts and open ones before their check-ins begin, running ones from their next answers (it
is optional, and its answers are read under the rule every written answer is). Closed ones
do not: their check-ins have stopped, and their list of questions is their record.

Added as stored rows (not made up when pages are read): an answer refers to its question.
Downgrading leaves them: by then they are questions like the lead's own, possibly answered.

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-08 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0030"
down_revision: str | None = "0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As forum.programmes.services.NOTE and NOTE_POSITION were when this was written.
NOTE = "Anything you would like the programme's lead to know?"
POSITION = 1000


def upgrade() -> None:
    op.get_bind().execute(
        sa.text(
            "INSERT INTO programme_checkin_questions "
            "(programme_id, prompt, kind, side, frankness, closing, position) "
            "SELECT p.id, :prompt, 'text', 'both', :no, :no, :position FROM programmes p "
            "WHERE p.status != 'closed' AND NOT EXISTS "
            "(SELECT 1 FROM programme_checkin_questions q WHERE q.programme_id = p.id "
            "AND q.prompt = :prompt AND q.kind = 'text' "
            "AND q.closing = :no)"
        ).bindparams(sa.bindparam("no", False, type_=sa.Boolean()), prompt=NOTE, position=POSITION)
    )


def downgrade() -> None:
    pass
