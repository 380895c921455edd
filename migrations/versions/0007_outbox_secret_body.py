"""outbox secret body

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02

A message that carries a secret (a password reset link) keeps the full text apart from what
admins see, and only until it is delivered. Reset links already in the outbox in usable form
are redacted here: their tokens stay valid only through the e-mail that carried them.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("secret_body", sa.Text(), nullable=True))
    outbox = sa.table("outbox", sa.column("id", sa.Integer), sa.column("body", sa.Text))
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(outbox.c.id, outbox.c.body).where(outbox.c.body.like("%/password/reset/%"))
    ).all()
    for row in rows:
        redacted = "\n".join(
            "[a reset link, removed]" if "/password/reset/" in line else line
            for line in row.body.split("\n")
        )
        connection.execute(outbox.update().where(outbox.c.id == row.id).values(body=redacted))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("secret_body")
